"""Penetration of a product family: the share of subscribers who subscribe to it, by segment.

The base is every subscriber on the network at the snapshot month's last day
(joined on or before it); a subscriber *has* the family when subscribed to any
of its products on that day.  Segments are branch, brand, age band and ARPU
band by default (any subscriber attribute may be added); bands are left-closed
intervals ``[lo, hi)`` of the given edges, labelled ``"lo-hi"`` (``"lo+"`` for
an open top), and a subscriber without a value falls in ``"unknown"``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.features._db import (
    add_months, check_family, check_positive_int, connection, declare_columns, month_end, parse_month, require,
    sql_date,
)
from workbench.features.subscriptions import USES as _ORDER_USES
from workbench.features.subscriptions import spells_sql
from workbench.errors import ParameterError

__all__ = ["penetration", "band_labels", "assign_bands", "DEFAULT_AGE_BANDS", "DEFAULT_ARPU_BANDS",
           "DIMENSIONS", "UNKNOWN"]

#: Age band edges (years).
DEFAULT_AGE_BANDS: tuple[float, ...] = (0, 18, 25, 35, 45, 55, 65, math.inf)
#: ARPU band edges (yuan per month).
DEFAULT_ARPU_BANDS: tuple[float, ...] = (0, 30, 50, 100, 200, math.inf)
#: Label of the band of a subscriber without a value.
UNKNOWN = "unknown"
#: Segment dimensions :func:`penetration` knows.
DIMENSIONS: tuple[str, ...] = ("branch_id", "brand", "tariff_plan", "gender", "rejoined", "age_band", "arpu_band")

USES = declare_columns({
    "subscribers": ("subscriber_id", "branch_id", "brand", "tariff_plan", "gender", "rejoined", "age", "join_date"),
    "monthly_usage": ("subscriber_id", "month", "arpu"),
})


def _check_edges(edges: Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(edges, dtype="float64")
    if arr.ndim != 1 or len(arr) < 2 or np.isnan(arr).any() or not np.all(np.diff(arr) > 0):
        raise ParameterError.invalid(name, "at least two strictly increasing band edges", tuple(edges))
    return arr


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands ``[edges[i], edges[i+1])``: ``"18-25"``, ``"65+"`` for an infinite top."""
    arr = _check_edges(edges, "edges")
    return [f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi:g}" for lo, hi in zip(arr[:-1], arr[1:])]


def assign_bands(values: pd.Series, edges: Sequence[float], name: str = "bands") -> pd.Series:
    """Ordered categorical band of each value (``"unknown"`` for missing or out-of-range values)."""
    arr = _check_edges(edges, name)
    labels = band_labels(arr) + [UNKNOWN]
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    code = np.searchsorted(arr, x, side="right") - 1
    code = np.where(np.isnan(x) | (code < 0) | (code >= len(arr) - 1), len(labels) - 1, code)
    return pd.Series(pd.Categorical.from_codes(code, categories=labels, ordered=True), index=values.index,
                     name=values.name)


def penetration(source, snapshot="2026-10", family: str = "mobile_newspaper", *,
                by: Sequence[str] = ("branch_id", "brand", "age_band", "arpu_band"),
                age_bands: Sequence[float] = DEFAULT_AGE_BANDS, arpu_bands: Sequence[float] = DEFAULT_ARPU_BANDS,
                arpu_months: int = 3) -> pd.DataFrame:
    """Penetration of ``family`` at the snapshot, overall and by segment.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``subscribers``, ``monthly_usage``, ``vas_orders``, ``vas_products``.
    snapshot : "YYYY-MM"
        The snapshot month (the base and the subscriptions are taken at its last day).
    family : str
        Product family.
    by : sequence of str
        Dimensions, from :data:`DIMENSIONS`.
    age_bands, arpu_bands : sequence of float
        Band edges (see the module docstring).
    arpu_months : int
        ARPU is the mean monthly ARPU over this many months ending with the snapshot month.

    Returns
    -------
    pandas.DataFrame
        Columns ``dimension, value, subscribers, active, penetration, lift``: the
        first row is ``("total", "total")``; then one row per value of each
        dimension in ``by`` (bands in band order, other values sorted).
        ``active`` counts subscribers of the family, ``penetration`` is
        ``active / subscribers`` and ``lift`` the penetration over the total's.
    """
    fam = check_family(family)
    snap = parse_month(snapshot)
    months = check_positive_int(arpu_months, "arpu_months")
    dims = list(by)
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad or not dims:
        raise ParameterError.invalid("by", f"a non-empty list of {list(DIMENSIONS)}", list(by))
    age_edges, arpu_edges = _check_edges(age_bands, "age_bands"), _check_edges(arpu_bands, "arpu_bands")
    end = month_end(snap)
    first = add_months(snap, 1 - months)
    with connection(source) as con:
        require(con, {**USES, **_ORDER_USES}, "penetration")
        base = con.execute(f"""
            SELECT s.subscriber_id, CAST(s.branch_id AS VARCHAR) AS branch_id, CAST(s.brand AS VARCHAR) AS brand,
                   CAST(s.tariff_plan AS VARCHAR) AS tariff_plan, CAST(s.gender AS VARCHAR) AS gender,
                   CAST(s.rejoined AS VARCHAR) AS rejoined, CAST(s.age AS DOUBLE) AS age, u.arpu,
                   a.subscriber_id IS NOT NULL AS active
            FROM subscribers s
            LEFT JOIN (SELECT subscriber_id, avg(CAST(arpu AS DOUBLE)) AS arpu FROM monthly_usage
                       WHERE CAST(month AS DATE) >= {sql_date(first)} AND CAST(month AS DATE) <= {sql_date(end)}
                       GROUP BY subscriber_id) u ON u.subscriber_id = s.subscriber_id
            LEFT JOIN (SELECT DISTINCT subscriber_id FROM ({spells_sql(end, fam)}) sp
                       WHERE end_date IS NULL) a ON a.subscriber_id = s.subscriber_id
            WHERE CAST(s.join_date AS DATE) <= {sql_date(end)}""").df()
    base["age_band"] = assign_bands(base["age"], age_edges, "age_bands")
    base["arpu_band"] = assign_bands(base["arpu"], arpu_edges, "arpu_bands")
    total = pd.DataFrame({"dimension": ["total"], "value": ["total"], "subscribers": [len(base)],
                          "active": [int(base["active"].sum())]})
    parts = [total]
    for d in dims:
        col = base[d] if d.endswith("_band") else base[d].fillna(UNKNOWN)
        g = base.groupby(col, observed=True, sort=True)["active"].agg(["size", "sum"])
        parts.append(pd.DataFrame({"dimension": d, "value": g.index.astype(str), "subscribers": g["size"].to_numpy(),
                                   "active": g["sum"].to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    out["subscribers"] = out["subscribers"].astype("int64")
    out["active"] = out["active"].astype("int64")
    out["penetration"] = out["active"] / out["subscribers"].where(out["subscribers"] > 0)
    overall = out.loc[0, "penetration"]
    out["lift"] = out["penetration"] / overall if overall and overall > 0 else np.nan
    return out
