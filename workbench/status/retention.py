"""Retention of subscribers by order cohort: the share still subscribed *k* months after ordering.

A cohort is the month a stay in the family started (a family spell, see
:mod:`workbench.features.subscriptions`: switching editions is not leaving).
A stay of cohort *c* is **retained at k** when it is still open at the last day
of month *c + k* (k = 0 is the order month itself).  Only months up to the
snapshot month are observed, so a cohort's curve stops at ``snapshot - c``.
With ``k = stable_months - 1`` the curve reads as the share of orders that
became stable subscribers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.features._db import (
    check_family, check_positive_int, connection, month_end, parse_month, require, sql_date,
)
from workbench.features.subscriptions import USES, family_spells_sql

__all__ = ["retention_curves", "average_retention"]


def retention_curves(source, family: str = "mobile_newspaper", snapshot="2026-10", *, max_months: int = 12,
                     start=None, gap_days: int = 0) -> pd.DataFrame:
    """Retention curve of every order cohort.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``vas_orders`` and ``vas_products``.
    family : str
        Product family.
    snapshot : "YYYY-MM"
        Last month observed (records after its last day are not read).
    max_months : int
        Largest *k* reported.
    start : "YYYY-MM", optional
        First cohort reported (default: the first order).
    gap_days : int
        Days between two spells that still count as one stay.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (cohort, k) observed: ``cohort`` (first day of
        the order month), ``k``, ``cohort_size`` (stays started in the month),
        ``retained`` and ``retention`` (``retained / cohort_size``).
    """
    fam = check_family(family)
    snap = parse_month(snapshot)
    kmax = check_positive_int(max_months, "max_months", minimum=0)
    gap = check_positive_int(gap_days, "gap_days", minimum=0)
    first = None if start is None else parse_month(start, "start")
    end = month_end(snap)
    cohort_filter = "" if first is None else f"WHERE start_date >= {sql_date(first)}"
    with connection(source) as con:
        require(con, USES, "retention_curves")
        counts = con.execute(f"""
            SELECT CAST(date_trunc('month', start_date) AS DATE) AS cohort,
                   datediff('month', date_trunc('month', start_date), end_date) AS d, count(*) AS n
            FROM ({family_spells_sql(fam, end, gap)}) i {cohort_filter}
            GROUP BY 1, 2""").df()
    columns = ["cohort", "k", "cohort_size", "retained", "retention"]
    if counts.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "retention" else "int64") for c in columns})
    counts["cohort"] = pd.to_datetime(counts["cohort"])
    cohorts = np.sort(counts["cohort"].unique())
    ci = np.searchsorted(cohorts, counts["cohort"].to_numpy())
    # d = month offset of the end (retained at k while d > k); open stays are retained at every k
    d = counts["d"].to_numpy(dtype="float64", na_value=np.nan)
    n = counts["n"].to_numpy(dtype="int64")
    size = np.bincount(ci, weights=n, minlength=len(cohorts)).astype("int64")
    ks = np.arange(kmax + 1)
    closed = np.zeros((len(cohorts), kmax + 1), dtype="int64")   # closed[c, k] = stays of c with d <= k
    is_closed = ~np.isnan(d)
    dc = np.minimum(d[is_closed], kmax + 1).astype("int64")
    hist = np.zeros((len(cohorts), kmax + 2), dtype="int64")
    np.add.at(hist, (ci[is_closed], dc), n[is_closed])
    closed[:] = np.cumsum(hist, axis=1)[:, : kmax + 1]
    retained = size[:, None] - closed
    starts = pd.DatetimeIndex(cohorts)
    age = ((snap.year - starts.year) * 12 + (snap.month - starts.month)).to_numpy()
    observed = ks[None, :] <= age[:, None]
    rows, cols = np.nonzero(observed)
    out = pd.DataFrame({
        "cohort": pd.DatetimeIndex(cohorts)[rows], "k": ks[cols].astype("int64"),
        "cohort_size": size[rows], "retained": retained[rows, cols],
    })
    out["retention"] = out["retained"] / out["cohort_size"]
    return out[columns]


def average_retention(curves: pd.DataFrame) -> pd.DataFrame:
    """Retention by *k* pooled over the cohorts observed at *k* (weighted by cohort size).

    Parameters
    ----------
    curves : pandas.DataFrame
        Output of :func:`retention_curves`.

    Returns
    -------
    pandas.DataFrame
        ``k, cohorts, cohort_size, retained, retention``.
    """
    g = curves.groupby("k", sort=True).agg(cohorts=("cohort", "size"), cohort_size=("cohort_size", "sum"),
                                           retained=("retained", "sum")).reset_index()
    g["retention"] = g["retained"] / g["cohort_size"].where(g["cohort_size"] > 0)
    return g
