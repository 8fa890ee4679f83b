"""The comparison group of a wave: similar non-changers offered the same push.

For each offered (brand, ARPU quintile, product) of the wave's changers, ``ratio``
non-changers of the same brand and ARPU quintile (no IMEI change in the 90 days
before the day) whose current handset supports the product, who do not hold its
family, and whom the contact policy does not hold back; each offered the same
product by the same channel.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["arpu_cuts", "comparison_group"]


def arpu_cuts(con, day: pd.Timestamp) -> list[float]:
    """ARPU quintile cut points of the month before ``day`` (one pass, no sort of the province)."""
    month = (day.to_period("M") - 1).to_timestamp().date()
    cuts = con.execute("SELECT quantile_cont(arpu, [0.2, 0.4, 0.6, 0.8]) FROM monthly_usage "
                       "WHERE CAST(month AS DATE) = $m", {"m": month}).fetchall()[0][0]
    return [float(c) for c in cuts] if cuts else [0.0, 0.0, 0.0, 0.0]


def comparison_group(con, offers: pd.DataFrame, day: pd.Timestamp, ratio: float, excluded: pd.Series,
                seed: int, cuts: list[float]) -> pd.DataFrame:
    """Similar non-changers for each offered (brand, ARPU quintile, product): same push, no recent change.

    Candidates are drawn at random within each brand x ARPU-quintile stratum first (a few times
    what the stratum needs), then checked for the product's capability and holdings, so the
    work on a large province stays small.
    """
    if offers.empty or ratio <= 0:
        return pd.DataFrame(columns=["subscriber_id", "product_id", "channel", "branch_id"])
    need = (offers.groupby(["brand", "arpu_q", "product_id", "required_capability", "channel"], dropna=False)
            .size().rename("k").reset_index())
    need["k"] = np.ceil(need["k"] * ratio).astype("int64")
    strata = need.groupby(["brand", "arpu_q"])["k"].sum().rename("draw").reset_index()
    strata["draw"] = strata["draw"] * 6 + 50
    n_subs = con.execute("SELECT count(*) FROM subscribers").fetchall()[0][0]
    # a random share of the province large enough for every stratum's draw (x 40: small strata too)
    keep = int(min(1_000_000, 1_000_000 * 40 * strata["draw"].sum() / max(n_subs, 1)))
    con.register("_need", need)
    con.register("_strata", strata)
    con.register("_excl", pd.DataFrame({"subscriber_id": excluded.astype("int64").unique()}))
    month = (day.to_period("M") - 1).to_timestamp()
    try:
        frame = con.execute("""
            WITH sampled AS (
                SELECT s.subscriber_id, s.branch_id, s.brand, u.arpu FROM subscribers s
                JOIN monthly_usage u ON u.subscriber_id = s.subscriber_id AND CAST(u.month AS DATE) = $month
                WHERE hash(s.subscriber_id, $seed) % 1000000 < $keep),
            bucketed AS (SELECT *, 1 + (arpu > $c1)::INT + (arpu > $c2)::INT + (arpu > $c3)::INT
                                  + (arpu > $c4)::INT AS arpu_q FROM sampled),
            changed AS (
                SELECT p.subscriber_id FROM imei_presence p SEMI JOIN sampled d ON d.subscriber_id = p.subscriber_id
                GROUP BY 1 HAVING count(*) > 1 AND max(CAST(p.first_seen AS DATE)) > $day - INTERVAL 90 DAY),
            drawn AS (
                SELECT * FROM (
                    SELECT b.subscriber_id, b.branch_id, b.brand, b.arpu_q, st.draw,
                           row_number() OVER (PARTITION BY b.brand, b.arpu_q ORDER BY hash(b.subscriber_id, $seed, 1))
                           AS r
                    FROM bucketed b
                    JOIN _strata st ON st.brand = b.brand AND st.arpu_q = b.arpu_q
                    ANTI JOIN changed c ON c.subscriber_id = b.subscriber_id
                    ANTI JOIN _excl e ON e.subscriber_id = b.subscriber_id)
                WHERE r <= draw),
            cur AS (
                SELECT p.subscriber_id, arg_max(p.handset_model, CAST(p.last_seen AS DATE)) AS model
                FROM imei_presence p SEMI JOIN drawn d ON d.subscriber_id = p.subscriber_id
                WHERE CAST(p.first_seen AS DATE) <= $day GROUP BY 1),
            held AS (
                SELECT DISTINCT o.subscriber_id, p.family FROM (
                    SELECT subscriber_id, product_id,
                           arg_max(event_type, date_diff('day', DATE '1970-01-01', CAST(event_date AS DATE))
                                               * 1000000 + event_id) AS last_type
                    FROM vas_orders o SEMI JOIN drawn d ON d.subscriber_id = o.subscriber_id
                    WHERE CAST(event_date AS DATE) <= $day GROUP BY 1, 2) o
                JOIN vas_products p USING (product_id) WHERE last_type = 'order'),
            pool AS (
                SELECT d.subscriber_id, d.branch_id, d.brand, d.arpu_q, n.product_id, n.channel, n.k,
                       hash(d.subscriber_id, n.product_id, $seed) AS h
                FROM drawn d
                JOIN cur c USING (subscriber_id)
                JOIN handset_models m ON m.handset_model = c.model
                JOIN _need n ON n.brand = d.brand AND n.arpu_q = d.arpu_q
                JOIN vas_products p ON p.product_id = n.product_id
                LEFT JOIN held h ON h.subscriber_id = d.subscriber_id AND h.family = p.family
                WHERE h.subscriber_id IS NULL
                  AND CASE n.required_capability WHEN 'wap' THEN m.cap_wap WHEN 'mms' THEN m.cap_mms
                       WHEN 'java' THEN m.cap_java WHEN 'mp3' THEN m.cap_mp3 ELSE TRUE END
                  AND (n.channel <> 'wap_push' OR m.cap_wap)),
            ranked AS (SELECT *, row_number() OVER (PARTITION BY subscriber_id ORDER BY h) AS one FROM pool),
            picked AS (SELECT *, row_number() OVER (PARTITION BY brand, arpu_q, product_id ORDER BY h) AS r
                       FROM ranked WHERE one = 1)
            SELECT subscriber_id, product_id, channel, branch_id FROM picked WHERE r <= k
            ORDER BY subscriber_id""", {"day": day.date(), "month": month.date(), "seed": seed, "keep": keep,
                                        **{f"c{i + 1}": float(c) for i, c in enumerate(cuts)}}).df()
    finally:
        for name in ("_need", "_strata", "_excl"):
            con.unregister(name)
    return frame
