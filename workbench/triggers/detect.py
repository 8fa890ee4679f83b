"""Stable handset changers of a day, from daily IMEI presence.

A **stable changer** of day ``D`` (the source's "a new IMEI used continuously
for 7-10 days"): a subscriber whose new IMEI was first seen on
``F = D - (window_days - 1)``, who had another IMEI before it, whose new IMEI
was seen on at least ``min_active_days`` of its first ``window_days`` days, and
on whom no other IMEI was seen from ``F + 1`` to ``D`` (no switch back).  Each
change is judged exactly once, on the day its window closes, so daily runs
never find the same change twice.

Reads ``imei_presence``, ``imei_days`` and ``handset_models`` (DuckDB SQL over
any source :func:`workbench.data.source.connection` takes).
"""
from __future__ import annotations

import pandas as pd

from workbench.checks import check_date, check_int
from workbench.data.source import connection, require_tables
from workbench.data.tables import CAPABILITIES
from workbench.errors import ParameterError

__all__ = [
    "WINDOW_DAYS",
    "MIN_ACTIVE_DAYS",
    "CHANGER_COLUMNS",
    "presence_days",
    "detect_changers",
]

#: Days after the first sight of a new IMEI that decide whether the change is stable.
WINDOW_DAYS = 10
#: Days of those the new IMEI must be seen on.
MIN_ACTIVE_DAYS = 7
#: Columns of :func:`detect_changers`.
CHANGER_COLUMNS: tuple[str, ...] = (
    "subscriber_id", "change_day", "detect_day", "new_imei", "old_imei", "new_model", "old_model",
    "active_days", "switched_back", "stable",
    *(f"new_cap_{c}" for c in CAPABILITIES), *(f"old_cap_{c}" for c in CAPABILITIES),
)
_TABLES = ("imei_presence", "imei_days", "handset_models")


def presence_days(source) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``imei_days`` (the days detection can judge)."""
    with connection(source, progress=False) as con:
        require_tables(con, ("imei_days",), "presence_days")
        lo, hi = con.execute("SELECT min(CAST(day AS DATE)), max(CAST(day AS DATE)) FROM imei_days").fetchall()[0]
    if lo is None:
        raise ParameterError("imei_days is empty: no daily presence to detect handset changes from")
    return pd.Timestamp(lo), pd.Timestamp(hi)


def detect_changers(source, day, *, window_days: int = WINDOW_DAYS, min_active_days: int = MIN_ACTIVE_DAYS,
                    stable_only: bool = True) -> pd.DataFrame:
    """Handset changes whose first ``window_days`` days end on ``day``, judged stable or not.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        A province with ``imei_presence``, ``imei_days`` and ``handset_models``.
    day : date or 'YYYY-MM-DD'
        The detection day ``D``; the changes judged are those first seen on
        ``D - (window_days - 1)``.
    window_days : int
        Days that decide (default 10).
    min_active_days : int
        Days of them the new IMEI must be seen on (default 7; at most ``window_days``).
    stable_only : bool
        Return only the stable changers (default); ``False`` returns every new
        IMEI judged that day with ``stable`` False for the others.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHANGER_COLUMNS`, one row per change, ordered by subscriber.

    Raises
    ------
    ParameterError
        A bad parameter, or a day whose window is not inside the days ``imei_days`` covers.
    DataValidationError
        When the source lacks one of the tables.
    """
    day = check_date("day", day)
    window_days = check_int("window_days", window_days, 1, 60)
    min_active_days = check_int("min_active_days", min_active_days, 1, window_days)
    first = day - pd.Timedelta(days=window_days - 1)
    caps = ", ".join(f"hn.cap_{c} AS new_cap_{c}, ho.cap_{c} AS old_cap_{c}" for c in CAPABILITIES)
    sql = f"""
    WITH pres AS (SELECT subscriber_id, imei, handset_model, CAST(first_seen AS DATE) AS first_seen,
                         CAST(last_seen AS DATE) AS last_seen FROM imei_presence),
    new AS (SELECT * FROM pres WHERE first_seen = $first),
    old AS (
        SELECT n.subscriber_id, n.imei AS new_imei, p.imei AS old_imei, p.handset_model AS old_model,
               row_number() OVER (PARTITION BY n.subscriber_id, n.imei
                                  ORDER BY p.last_seen DESC, p.first_seen DESC, p.imei) AS rn
        FROM new n JOIN pres p ON p.subscriber_id = n.subscriber_id AND p.first_seen < n.first_seen),
    days AS (SELECT subscriber_id, imei, CAST(day AS DATE) AS day FROM imei_days
             WHERE CAST(day AS DATE) BETWEEN $first AND $last),
    act AS (SELECT d.subscriber_id, d.imei, count(DISTINCT d.day) AS active_days
            FROM days d JOIN new n USING (subscriber_id, imei) GROUP BY 1, 2),
    back AS (SELECT DISTINCT d.subscriber_id, n.imei
             FROM days d JOIN new n ON d.subscriber_id = n.subscriber_id AND d.imei <> n.imei
             WHERE d.day > $first)
    SELECT n.subscriber_id, n.first_seen AS change_day, n.imei AS new_imei, o.old_imei,
           n.handset_model AS new_model, o.old_model, coalesce(a.active_days, 0) AS active_days,
           b.imei IS NOT NULL AS switched_back, {caps}
    FROM new n
    JOIN old o ON o.subscriber_id = n.subscriber_id AND o.new_imei = n.imei AND o.rn = 1
    LEFT JOIN act a ON a.subscriber_id = n.subscriber_id AND a.imei = n.imei
    LEFT JOIN back b ON b.subscriber_id = n.subscriber_id AND b.imei = n.imei
    LEFT JOIN handset_models hn ON hn.handset_model = n.handset_model
    LEFT JOIN handset_models ho ON ho.handset_model = o.old_model
    ORDER BY n.subscriber_id, n.imei
    """
    with connection(source, progress=False) as con:
        require_tables(con, _TABLES, "detect_changers")
        lo, hi = presence_days(con)
        if first < lo or day > hi:
            raise ParameterError.invalid(
                "day", f"a day from {(lo + pd.Timedelta(days=window_days - 1)).date()} to {hi.date()} (imei_days "
                f"covers {lo.date()} to {hi.date()}; a change first seen on day F is judged on F + {window_days - 1})",
                day.date().isoformat())
        frame = con.execute(sql, {"first": first.date(), "last": day.date()}).df()
    frame["change_day"] = pd.to_datetime(frame["change_day"]).astype("datetime64[us]")
    frame["detect_day"] = day.as_unit("us") if hasattr(day, "as_unit") else day
    frame["stable"] = (frame["active_days"] >= min_active_days) & ~frame["switched_back"]
    for c in CAPABILITIES:
        for side in ("new", "old"):
            frame[f"{side}_cap_{c}"] = frame[f"{side}_cap_{c}"].fillna(False).astype(bool)
    frame["active_days"] = frame["active_days"].astype("int64")
    frame = frame[list(CHANGER_COLUMNS)]
    if stable_only:
        frame = frame[frame["stable"]]
    return frame.reset_index(drop=True)
