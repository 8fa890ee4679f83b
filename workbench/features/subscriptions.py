"""Subscription spells of VAS products, built from the order / unsubscribe records.

A **spell** is one continuous subscription of one subscriber to one product: it
starts with an ``order`` and ends with the next ``unsubscribe`` of that product
(or is *open*).  Rules, applied per (subscriber, product) in date order (an
order sorts before an unsubscribe of the same day, then by ``event_id``):

* an order while a spell is open does not start a new spell (a repeated order);
* an unsubscribe with no open spell is ignored (an orphan record);
* a spell covers the days ``[start_date, end_date)``: a subscriber who
  unsubscribes on day *d* is no longer subscribed on *d*;
* a **free-month leaver** is a spell that ended before its product's
  ``free_months`` had passed (``end_date < start_date + free_months months``);
  products without free months have none.

Spells of the same family are merged into **family spells** (islands): spells
of one subscriber that overlap or touch (a new spell starting on or before the
day the previous one ended, plus ``gap_days``) form one continuous stay in the
family, e.g. a switch between two editions of the mobile newspaper.

A **stable subscriber** of a family at a snapshot month is a subscriber who
was subscribed at each of the last ``stable_months`` month ends (the snapshot
month's included) within one continuous family stay: for snapshot 2026-10 and
3 months, a stay that started on or before 2026-08-31 and is still open after
2026-10-31 (billed for August, September and October).  This is the operator's
month-end count, and the definition of the synthetic province's ground truth.

Only records dated on or before ``as_of`` are read, so a spell that ended after
``as_of`` is open as seen from ``as_of`` (no leakage from the future).

Everything is DuckDB SQL over the source's views; results come back as small
DataFrames (one row per spell, subscriber or month).
"""
from __future__ import annotations

import pandas as pd

from workbench.features._db import (
    add_months, check_family, check_positive_int, connection, declare_columns, month_end, parse_date,
    parse_month, require, sql_date,
)
from workbench.errors import ParameterError

__all__ = [
    "spells_sql", "family_spells_sql", "subscription_spells", "family_spells", "active_subscribers",
    "stable_subscribers", "subscriber_status", "monthly_flows",
]

USES = declare_columns({
    "vas_orders": ("event_id", "subscriber_id", "product_id", "event_date", "event_type", "channel"),
    "vas_products": ("product_id", "family", "content_category", "free_months"),
})
_OPEN_END = "DATE '9999-12-31'"


def _family_filter(family: str | None, alias: str = "p") -> str:
    return "" if family is None else f"AND {alias}.family = '{family}'"


def spells_sql(as_of: pd.Timestamp | None = None, family: str | None = None) -> str:
    """SQL (a SELECT) of the subscription spells seen on ``as_of``.

    Columns: ``subscriber_id, product_id, family, content_category, free_months,
    start_date, end_date`` (NULL when open), ``order_channel, unsubscribe_channel,
    free_month_leaver``.
    """
    cutoff = "" if as_of is None else f"WHERE CAST(event_date AS DATE) <= {sql_date(as_of)}"
    return f"""
SELECT g.subscriber_id, g.product_id, p.family, p.content_category, p.free_months,
       g.start_date, g.end_date, g.order_channel, g.unsubscribe_channel,
       coalesce(g.end_date IS NOT NULL AND p.free_months > 0
                AND g.end_date < CAST(g.start_date + to_months(CAST(p.free_months AS INTEGER)) AS DATE),
                false) AS free_month_leaver
FROM (
    SELECT subscriber_id, product_id, spell_no,
           min(event_date) FILTER (WHERE event_type = 'order') AS start_date,
           max(event_date) FILTER (WHERE event_type = 'unsubscribe') AS end_date,
           arg_min(channel, seq) FILTER (WHERE event_type = 'order') AS order_channel,
           max(channel) FILTER (WHERE event_type = 'unsubscribe') AS unsubscribe_channel
    FROM (
        SELECT *, coalesce(sum(CASE WHEN event_type = 'unsubscribe' THEN 1 ELSE 0 END) OVER (
                      PARTITION BY subscriber_id, product_id ORDER BY seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS spell_no
        FROM (
            SELECT subscriber_id, product_id, CAST(event_date AS DATE) AS event_date, event_type, channel,
                   row_number() OVER (PARTITION BY subscriber_id, product_id
                                      ORDER BY CAST(event_date AS DATE), event_type = 'unsubscribe', event_id) AS seq
            FROM vas_orders {cutoff}
        ) ev
    ) grp
    GROUP BY subscriber_id, product_id, spell_no
    HAVING count(*) FILTER (WHERE event_type = 'order') > 0
) g
JOIN vas_products p ON p.product_id = g.product_id {_family_filter(family)}
"""


def family_spells_sql(family: str | None, as_of: pd.Timestamp | None = None, gap_days: int = 0) -> str:
    """SQL (a SELECT) of the family spells (islands): ``subscriber_id, family, start_date, end_date, products``.

    ``end_date`` is NULL while the stay is open.  With ``family=None`` the islands
    are built per family over every family.
    """
    return f"""
SELECT subscriber_id, family, min(start_date) AS start_date,
       nullif(max(end_date), {_OPEN_END}) AS end_date, count(*) AS products
FROM (
    SELECT *, sum(CASE WHEN prev_end IS NULL OR start_date > prev_end + {int(gap_days)} THEN 1 ELSE 0 END)
              OVER (PARTITION BY subscriber_id, family ORDER BY start_date, end_date
                    ROWS UNBOUNDED PRECEDING) AS island
    FROM (
        SELECT subscriber_id, family, start_date, coalesce(end_date, {_OPEN_END}) AS end_date,
               max(coalesce(end_date, {_OPEN_END})) OVER (
                   PARTITION BY subscriber_id, family ORDER BY start_date, coalesce(end_date, {_OPEN_END})
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
        FROM ({spells_sql(as_of, family)}) s
    ) o
) i
GROUP BY subscriber_id, family, island
"""


def _as_of(as_of) -> pd.Timestamp | None:
    return None if as_of is None else parse_date(as_of, "as_of")


def _gap(gap_days) -> int:
    return check_positive_int(gap_days, "gap_days", minimum=0)


def subscription_spells(source, *, family: str | None = None, as_of=None) -> pd.DataFrame:
    """One row per subscription spell.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Where ``vas_orders`` and ``vas_products`` are.
    family : str, optional
        Keep only products of this family (default: every family).
    as_of : date or "YYYY-MM", optional
        Read only records dated on or before this day (a month means its last day).

    Returns
    -------
    pandas.DataFrame
        Columns ``subscriber_id, product_id, family, content_category, free_months,
        start_date, end_date, order_channel, unsubscribe_channel, free_month_leaver``,
        sorted by subscriber, product and start.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"event_id": [1, 2], "subscriber_id": [7, 7], "product_id": ["mn1", "mn1"],
    ...     "event_date": pd.to_datetime(["2026-01-05", "2026-02-10"]),
    ...     "event_type": ["order", "unsubscribe"], "channel": ["sms", "sms"]})
    >>> products = pd.DataFrame({"product_id": ["mn1"], "family": ["mobile_newspaper"],
    ...     "content_category": ["news"], "free_months": [1]})
    >>> s = subscription_spells({"vas_orders": orders, "vas_products": products})
    >>> s[["start_date", "end_date", "free_month_leaver"]].astype(str).values.tolist()
    [['2026-01-05', '2026-02-10', 'False']]
    """
    fam = check_family(family, allow_none=True)
    cut = _as_of(as_of)
    with connection(source) as con:
        require(con, USES, "subscription_spells")
        return con.execute(
            f"SELECT * FROM ({spells_sql(cut, fam)}) ORDER BY subscriber_id, product_id, start_date").df()


def family_spells(source, family: str = "mobile_newspaper", *, as_of=None, gap_days: int = 0) -> pd.DataFrame:
    """Continuous stays in a product family (overlapping / touching spells merged).

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id, family, start_date, end_date`` (NaT while open) and
        ``products`` (spells merged), sorted by subscriber and start.
    """
    fam = check_family(family)
    cut, gap = _as_of(as_of), _gap(gap_days)
    with connection(source) as con:
        require(con, USES, "family_spells")
        return con.execute(
            f"SELECT * FROM ({family_spells_sql(fam, cut, gap)}) ORDER BY subscriber_id, start_date").df()


def active_subscribers(source, family: str = "mobile_newspaper", at="2026-10") -> pd.DataFrame:
    """Subscribers with at least one open spell of ``family`` on the day ``at``.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    family : str
        Product family (one of :data:`workbench.data.tables.PRODUCT_FAMILIES`).
    at : date or "YYYY-MM"
        The day; a month means its last day.  Records after ``at`` are not read.

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id, products`` (number of the family's products subscribed)
        and ``since`` (start of the earliest open spell), sorted by subscriber.
    """
    fam = check_family(family)
    day = parse_date(at, "at")
    with connection(source) as con:
        require(con, USES, "active_subscribers")
        return con.execute(f"""
            SELECT subscriber_id, count(*) AS products, min(start_date) AS since
            FROM ({spells_sql(day, fam)}) s
            WHERE start_date <= {sql_date(day)} AND (end_date IS NULL OR end_date > {sql_date(day)})
            GROUP BY subscriber_id ORDER BY subscriber_id""").df()


def stable_since(snapshot: pd.Timestamp, stable_months: int) -> pd.Timestamp:
    """The latest start of a stay that makes a stable subscriber at ``snapshot`` (a month start).

    The last day of the month ``stable_months - 1`` months before the snapshot month.
    """
    return month_end(add_months(snapshot, 1 - stable_months))


def _stable_sql(fam: str, snapshot: pd.Timestamp, stable_months: int, gap: int) -> str:
    end = month_end(snapshot)
    return f"""
        SELECT subscriber_id, start_date AS since,
               datediff('month', start_date, {sql_date(end)}) AS tenure_months
        FROM ({family_spells_sql(fam, end, gap)}) i
        WHERE start_date <= {sql_date(stable_since(snapshot, stable_months))}
          AND (end_date IS NULL OR end_date > {sql_date(end)})"""


def stable_subscribers(source, family: str = "mobile_newspaper", snapshot="2026-10", stable_months: int = 3,
                       *, gap_days: int = 0) -> pd.DataFrame:
    """Subscribers held continuously in ``family`` at the last ``stable_months`` month ends up to the snapshot.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    family : str
        Product family.
    snapshot : "YYYY-MM" or date
        The snapshot month; records after its last day are not read.
    stable_months : int
        Month ends (the snapshot month's included) at which the stay must be open.
    gap_days : int
        Days allowed between two spells of the family that still count as continuous.

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id, since`` (start of the current stay) and
        ``tenure_months`` (calendar months from the month of ``since`` to the snapshot month).
    """
    fam = check_family(family)
    snap = parse_month(snapshot)
    months = check_positive_int(stable_months, "stable_months")
    gap = _gap(gap_days)
    with connection(source) as con:
        require(con, USES, "stable_subscribers")
        return con.execute(
            f"SELECT * FROM ({_stable_sql(fam, snap, months, gap)}) ORDER BY subscriber_id").df()


def subscriber_status_sql(fam: str, snapshot: pd.Timestamp, stable_months: int, gap: int,
                          horizon: int | None = None) -> str:
    """SQL: per subscriber with any spell of ``fam``: ``active``, ``stable`` (and ``active_before``)."""
    end = month_end(snapshot)
    before = "" if horizon is None else f""",
               bool_or(start_date <= {sql_date(month_end(add_months(snapshot, -horizon)))}
                       AND (end_date IS NULL OR end_date > {sql_date(month_end(add_months(snapshot, -horizon)))}))
                   AS active_before"""
    return f"""
        SELECT subscriber_id,
               bool_or(end_date IS NULL OR end_date > {sql_date(end)}) AS active,
               bool_or((end_date IS NULL OR end_date > {sql_date(end)})
                       AND start_date <= {sql_date(stable_since(snapshot, stable_months))}) AS stable{before}
        FROM ({family_spells_sql(fam, end, gap)}) i
        GROUP BY subscriber_id"""


def subscriber_status(source, family: str = "mobile_newspaper", snapshot="2026-10", stable_months: int = 3,
                      *, gap_days: int = 0, horizon: int | None = None, base: pd.Index | None = None) -> pd.DataFrame:
    """Family status of every subscriber on the network at the snapshot month end.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``subscribers`` besides the order tables.
    family, snapshot, stable_months, gap_days
        As for :func:`stable_subscribers`.
    horizon : int, optional
        Also report ``active_before``: subscribed at the end of the month
        ``horizon`` months before the snapshot.
    base : Index, optional
        The ``subscriber_id`` of every subscriber on the network at the snapshot month end, when the
        caller already has them (the index of :func:`~workbench.features.build_features` of the same
        snapshot): the family's subscribers are then read alone and spread over ``base`` in its
        order, instead of joining every subscriber again (~0.4 s a million subscribers).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``subscriber_id`` (every subscriber joined on or before the
        snapshot month end), boolean columns ``active`` (subscribed at the
        snapshot month end), ``stable`` (a stable subscriber), ``nonsubscriber``
        (not active) and, with ``horizon``, ``active_before``.
    """
    fam = check_family(family)
    snap = parse_month(snapshot)
    months = check_positive_int(stable_months, "stable_months")
    gap = _gap(gap_days)
    if horizon is not None:
        horizon = check_positive_int(horizon, "horizon")
    uses = {**USES, "subscribers": ("subscriber_id", "join_date")}
    extra = "" if horizon is None else ", coalesce(f.active_before, false) AS active_before"
    if base is not None:
        with connection(source) as con:
            require(con, USES, "subscriber_status")
            held = con.execute(subscriber_status_sql(fam, snap, months, gap, horizon)).df().set_index("subscriber_id")
        flags = ["active", "stable"] + ([] if horizon is None else ["active_before"])
        out = pd.DataFrame({f: held[f].reindex(base, fill_value=False).to_numpy(dtype=bool) for f in flags},
                           index=pd.Index(base, name="subscriber_id"))
        out.insert(2, "nonsubscriber", ~out["active"].to_numpy())
        return out
    with connection(source) as con:
        require(con, uses, "subscriber_status")
        out = con.execute(f"""
            SELECT s.subscriber_id, coalesce(f.active, false) AS active, coalesce(f.stable, false) AS stable,
                   NOT coalesce(f.active, false) AS nonsubscriber{extra}
            FROM subscribers s
            LEFT JOIN ({subscriber_status_sql(fam, snap, months, gap, horizon)}) f USING (subscriber_id)
            WHERE CAST(s.join_date AS DATE) <= {sql_date(month_end(snap))}
            ORDER BY s.subscriber_id""").df()
    return out.set_index("subscriber_id")


def monthly_flows(source, family: str = "mobile_newspaper", start=None, end=None, *,
                  gap_days: int = 0) -> pd.DataFrame:
    """Monthly subscription flows of a product family.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    family : str
        Product family.
    start, end : "YYYY-MM", optional
        First and last month reported (default: the first month with an order
        and the last month with any record of the family).  Records after the
        end month are not read.
    gap_days : int
        As for :func:`stable_subscribers` (affects ``subscribers`` only through
        the merging of stays).

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month`` (first day), ``subscribers`` (distinct
        subscribers with an open spell at the month end), ``orders`` (spells
        started in the month; a repeated order while subscribed is not counted),
        ``unsubscribes`` (spells ended in the month), ``free_month_leavers``
        (spells ended in the month before their free months had passed) and
        ``net_adds`` (change of ``subscribers`` from the previous month end).
        ``orders - unsubscribes`` differs from ``net_adds`` when subscribers
        switch or hold several products of the family.
    """
    fam = check_family(family)
    gap = _gap(gap_days)
    first = None if start is None else parse_month(start, "start")
    last = None if end is None else parse_month(end, "end")
    if first is not None and last is not None and last < first:
        raise ParameterError.invalid("end", f"a month on or after start ({first:%Y-%m})", end)
    cut = None if last is None else month_end(last)
    with connection(source) as con:
        require(con, USES, "monthly_flows")
        spells = f"({spells_sql(cut, fam)})"
        if first is None or last is None:
            lo, hi = con.execute(f"""
                SELECT min(start_date), greatest(max(start_date), max(end_date)) FROM {spells} s""").fetchall()[0]
            if lo is None:
                raise ParameterError(f"no order of family {fam!r} in the source: give start and end months "
                                     "to report empty months")
            first = first if first is not None else parse_month(pd.Timestamp(lo))
            last = last if last is not None else parse_month(pd.Timestamp(hi))
            if last < first:
                raise ParameterError.invalid("start", f"a month on or before the last record ({last:%Y-%m})", start)
            cut = month_end(last)
            spells = f"({spells_sql(cut, fam)})"
        flows = con.execute(f"""
            WITH months AS (
                SELECT CAST(m AS DATE) AS month
                FROM range({sql_date(first)}, {sql_date(last)} + INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(m)
            ), s AS (SELECT * FROM {spells} s),
            o AS (SELECT date_trunc('month', start_date) AS month, count(*) AS orders FROM s GROUP BY 1),
            u AS (SELECT date_trunc('month', end_date) AS month, count(*) AS unsubscribes,
                         count(*) FILTER (WHERE free_month_leaver) AS free_month_leavers
                  FROM s WHERE end_date IS NOT NULL GROUP BY 1),
            isl AS (SELECT * FROM ({family_spells_sql(fam, cut, gap)}) i),
            ins AS (SELECT date_trunc('month', start_date) AS month, count(*) AS n FROM isl GROUP BY 1),
            outs AS (SELECT date_trunc('month', end_date) AS month, count(*) AS n FROM isl
                     WHERE end_date IS NOT NULL GROUP BY 1),
            base AS (SELECT
                (SELECT count(*) FROM isl WHERE start_date < {sql_date(first)})
              - (SELECT count(*) FROM isl WHERE end_date < {sql_date(first)}) AS n)
            SELECT m.month,
                   (SELECT n FROM base) + sum(coalesce(ins.n, 0) - coalesce(outs.n, 0))
                       OVER (ORDER BY m.month ROWS UNBOUNDED PRECEDING) AS subscribers,
                   coalesce(o.orders, 0) AS orders, coalesce(u.unsubscribes, 0) AS unsubscribes,
                   coalesce(u.free_month_leavers, 0) AS free_month_leavers,
                   coalesce(ins.n, 0) - coalesce(outs.n, 0) AS net_adds
            FROM months m
            LEFT JOIN o ON o.month = m.month LEFT JOIN u ON u.month = m.month
            LEFT JOIN ins ON ins.month = m.month LEFT JOIN outs ON outs.month = m.month
            ORDER BY m.month""").df()
    for c in ("subscribers", "orders", "unsubscribes", "free_month_leavers", "net_adds"):
        flows[c] = flows[c].astype("int64")
    flows["month"] = pd.to_datetime(flows["month"])
    return flows
