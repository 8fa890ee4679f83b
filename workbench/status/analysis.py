"""The status analysis of template 01 as findings: scope, summaries, a JSON file.

Template 01 computes the status frames step by step (KPIs, penetration,
retention, drivers, potential; see :mod:`workbench.status`) and condenses each
into a small, language-neutral summary; :func:`status_findings` puts them
together as the **findings** that template 02 turns into a goal.  The findings
are a plain dict of numbers, ids and strings (JSON-ready), written to the run
folder by :func:`write_findings`; template 02 reads them back with
:func:`load_findings`, which recomputes them (:func:`analyse_status`) when the
file is missing or describes another product, snapshot or scope.

The findings are numbers; :mod:`workbench.report.t01` words them (stories, KPI tiles).

Examples
--------
>>> from workbench.status.analysis import analyse_status, scoped_connection   # doctest: +SKIP
>>> con = scoped_connection("sample_data/province", ["urumqi", "hami"])          # doctest: +SKIP
>>> result = analyse_status(con, "mobile_newspaper", "2026-10")                  # doctest: +SKIP
>>> sorted(result.findings)                                                       # doctest: +SKIP
['branches', 'drivers', 'kpis', 'penetration', 'potential', 'product', 'retention', 'snapshot', ...]
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.checks import check_int, check_num
from workbench.data.tables import BRANCHES, PRODUCT_FAMILIES, TABLES
from workbench.errors import ParameterError
from workbench.runs import FINDINGS_FILE  # the run folder's file names live in workbench.runs

__all__ = [
    "FINDINGS_FILE", "FINDINGS_VERSION", "CAPITAL",
    "check_scope", "scoped_connection", "conversion_horizon",
    "summarise_kpis", "summarise_penetration", "summarise_retention", "summarise_drivers", "summarise_potential",
    "status_findings",
    "StatusAnalysis", "analyse_status",
    "write_findings", "read_findings", "load_findings",
]

#: Version of the findings layout (a file of another version is recomputed, not trusted).
FINDINGS_VERSION = 1
#: Branch id(s) of the provincial capital (Urumqi): the first branch of the data model.
CAPITAL: tuple[str, ...] = (BRANCHES[0][0],)

_BRANCH_IDS = tuple(b[0] for b in BRANCHES)
# tables whose rows belong to one subscriber, and the subscribers table's branch column
_SUBSCRIBERS = "subscribers"
_SUBSCRIBER_KEY = TABLES[_SUBSCRIBERS].primary_key[0]
_BRANCH_COL = TABLES[_SUBSCRIBERS].column("branch_id").name
_PER_SUBSCRIBER = tuple(
    name for name, spec in TABLES.items()
    if name != _SUBSCRIBERS and spec.foreign_keys.get(_SUBSCRIBER_KEY, ("",))[0] == _SUBSCRIBERS
)


# ----------------------------------------------------------------- scope
def _month_text(value, name: str) -> str:
    from workbench.features._db import parse_month

    return f"{parse_month(value, name):%Y-%m}"


def _check_branches(branches) -> list[str]:
    allowed = f"a list of branch ids from {list(_BRANCH_IDS)} (empty = the whole province)"
    if branches is None:
        return []
    if isinstance(branches, str) or not isinstance(branches, Sequence):
        raise ParameterError.invalid("branches", allowed, branches)
    unknown = [b for b in branches if b not in _BRANCH_IDS]
    if unknown:
        raise ParameterError.invalid("branches", allowed, unknown)
    return sorted(set(branches))


def check_scope(product: str, snapshot, branches: Sequence[str] | None = (), *,
                data=None) -> tuple[str, str, list[str]]:
    """Check a template's scope parameters and return them normalised.

    Parameters
    ----------
    product : str
        Product family, one of :data:`workbench.data.tables.PRODUCT_FAMILIES`.
    snapshot : "YYYY-MM" or date
        The snapshot month.
    branches : sequence of str, optional
        Branch ids; empty or ``None`` means the whole province.
    data : optional
        The province's data: when given, the scope is also checked against it
        (:func:`workbench.status.scope.check_data_scope`: a snapshot within the data's months and with
        orders, existing branches, a product with orders), before any computation.

    Returns
    -------
    tuple
        ``(product, "YYYY-MM", sorted unique branch ids)``.

    Raises
    ------
    ParameterError
        Naming ``product``, ``snapshot`` or ``branches``, what is allowed and what was given.

    Examples
    --------
    >>> check_scope("mobile_newspaper", "2026-10", ["hami", "urumqi", "hami"])
    ('mobile_newspaper', '2026-10', ['hami', 'urumqi'])
    """
    month = _month_text(snapshot, "snapshot")
    if data is not None:    # against the data first: its messages give the data's own range, localized
        from workbench.status.scope import check_data_scope

        listed = [] if branches is None or isinstance(branches, str) or not isinstance(branches, Sequence) \
            else [str(b) for b in branches]
        check_data_scope(data, product, month, listed)
    if product not in PRODUCT_FAMILIES:
        raise ParameterError.invalid("product", f"one of {list(PRODUCT_FAMILIES)}", product)
    return product, month, _check_branches(branches)


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def scoped_connection(data, branches: Sequence[str] | None = (), *, progress: bool = False, **connect_options):
    """A DuckDB connection over ``data`` whose subscriber tables hold only the given branches.

    Parameters
    ----------
    data : path, mapping or workbench.data.Source
        Anything :func:`workbench.data.connect` accepts.
    branches : sequence of str, optional
        Branch ids; empty or ``None`` keeps the whole province.
    progress : bool
        Let DuckDB show its progress bar on long statements (off by default: in a
        notebook it would leave a widget in the report).
    **connect_options
        ``memory_limit``, ``threads``, ``temp_directory`` of :func:`workbench.data.connect`.

    Returns
    -------
    duckdb.DuckDBPyConnection
        One view per table, as :func:`workbench.data.connect`; with ``branches``,
        ``subscribers`` keeps the subscribers of those branches and every table
        keyed by subscriber (usage, orders, handsets) keeps their rows only, so
        every status function reads the scope without knowing about it.

    Raises
    ------
    ParameterError
        When ``data`` does not exist or ``branches`` names an unknown branch.
    """
    from workbench.data.source import as_source, connect

    scope = _check_branches(branches)
    if isinstance(data, (str, os.PathLike)) and not Path(data).exists():
        raise ParameterError(
            f"The 'data' parameter must be an existing folder (or DuckDB file) of province tables. "
            f"Got {os.fspath(data)!r} instead: it does not exist. Run `make sample` to create sample_data/province."
        )
    src = as_source(data)
    con = connect(src, **connect_options)
    con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}")
    if not scope:
        return con
    present = set(src.tables())
    if _SUBSCRIBERS not in present:
        return con

    def base(name: str) -> str:
        if src.kind == "frames":
            alias = f"_wb_all_{name}"
            con.register(alias, src.location[name])
            return f'"{alias}"'
        return src.scan_sql(name)

    subscribers = base(_SUBSCRIBERS)
    keep = f"SELECT {_SUBSCRIBER_KEY} FROM {subscribers} WHERE CAST({_BRANCH_COL} AS VARCHAR) IN ({_sql_list(scope)})"
    con.execute(f'CREATE OR REPLACE TEMP VIEW "{_SUBSCRIBERS}" AS SELECT * FROM {subscribers} '
                f"WHERE CAST({_BRANCH_COL} AS VARCHAR) IN ({_sql_list(scope)})")
    for name in _PER_SUBSCRIBER:
        if name in present:
            con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM {base(name)} '
                        f"WHERE {_SUBSCRIBER_KEY} IN ({keep})")
    return con


def conversion_horizon(stable_months: int = 3) -> int:
    """Months back over which the status analysis observes conversion to stable subscribers.

    ``stable_months + 3`` (the default of :func:`workbench.status.potential`): a
    subscriber who was not subscribed then and is a stable subscriber at the
    snapshot has converted.
    """
    return check_int("stable_months", stable_months, 1) + 3


# ----------------------------------------------------------------- small helpers
def _num(value) -> float | None:
    """A JSON-ready float (None for a missing or infinite value)."""
    if value is None:
        return None
    x = float(value)
    return None if math.isnan(x) or math.isinf(x) else x


def _ratio(a, b) -> float | None:
    a, b = _num(a), _num(b)
    return None if a is None or not b else a / b


def _need(frame, columns: set[str], name: str, producer: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not columns <= set(frame.columns):
        got = sorted(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"{producer} output with columns {sorted(columns)}", got)
    return frame


# ----------------------------------------------------------------- summaries (pure)
def summarise_kpis(kpis: pd.DataFrame, snapshot=None, *, recent_months: int = 6) -> dict:
    """The product's recent months in a few numbers.

    Parameters
    ----------
    kpis : pandas.DataFrame
        :func:`workbench.status.product_kpis` output.
    snapshot : "YYYY-MM", optional
        Last month considered (default: the last month of ``kpis``).
    recent_months : int
        Length of the recent window ending with the snapshot month.

    Returns
    -------
    dict
        ``first_month, last_month, months`` (the window actually covered),
        ``subscribers`` (at the snapshot month end), ``subscribers_before`` (at the
        end of the month before the window), window totals ``orders,
        unsubscribes, net_adds, free_month_leavers``, monthly means
        ``orders_per_month, unsubscribes_per_month, net_adds_per_month``,
        ``free_month_leaver_share`` (free-month leavers / unsubscribes),
        ``churn_rate`` (unsubscribes / sum of the month-start bases: the average
        monthly churn) and ``growth`` (net adds / ``subscribers_before``).
        Ratios with a zero denominator are ``None``.

    Raises
    ------
    ParameterError
        When ``kpis`` lacks a column, ``recent_months`` is not a positive
        integer, or no month of ``kpis`` is on or before the snapshot.
    """
    cols = {"month", "subscribers", "orders", "unsubscribes", "net_adds", "free_month_leavers"}
    _need(kpis, cols, "kpis", "product_kpis()")
    n = check_int("recent_months", recent_months, 1)
    months = pd.to_datetime(kpis["month"])
    rows = kpis.assign(month=months).sort_values("month")
    if snapshot is not None:
        rows = rows[rows["month"] <= pd.Timestamp(_month_text(snapshot, "snapshot") + "-01")]
    if rows.empty:
        raise ParameterError.invalid("kpis", f"at least one month on or before the snapshot {snapshot!r}",
                                     "no such month")
    window = rows.tail(n)
    first = window.iloc[0]
    before = int(first["subscribers"] - first["net_adds"])
    totals = {c: int(window[c].sum()) for c in ("orders", "unsubscribes", "net_adds", "free_month_leavers")}
    bases = (window["subscribers"] - window["net_adds"]).astype("float64")
    m = len(window)
    return {
        "first_month": f"{window['month'].iloc[0]:%Y-%m}", "last_month": f"{window['month'].iloc[-1]:%Y-%m}",
        "months": m, "subscribers": int(window["subscribers"].iloc[-1]), "subscribers_before": before,
        **totals,
        "orders_per_month": totals["orders"] / m, "unsubscribes_per_month": totals["unsubscribes"] / m,
        "net_adds_per_month": totals["net_adds"] / m,
        "free_month_leaver_share": _ratio(totals["free_month_leavers"], totals["unsubscribes"]),
        "churn_rate": _ratio(totals["unsubscribes"], bases.sum()),
        "growth": _ratio(totals["net_adds"], before),
    }


def _group(rows: pd.DataFrame) -> dict | None:
    if rows.empty:
        return None
    subs, active = int(rows["subscribers"].sum()), int(rows["active"].sum())
    return {"subscribers": subs, "active": active, "penetration": _ratio(active, subs)}


def summarise_penetration(pen: pd.DataFrame, *, capital: Sequence[str] = CAPITAL,
                          min_share: float = 0.01) -> dict:
    """Penetration overall, capital vs prefectures, and the highest and lowest segment of each dimension.

    Parameters
    ----------
    pen : pandas.DataFrame
        :func:`workbench.status.penetration` output (its ``total`` row and the
        rows of its dimensions).
    capital : sequence of str
        Branch id(s) of the provincial capital; every other branch is a prefecture.
    min_share : float
        A segment must hold at least this share of the base to be named highest
        or lowest (tiny segments have noisy rates); ``"unknown"`` is never named.

    Returns
    -------
    dict
        ``base, active, penetration`` (the total); ``capital`` and
        ``prefectures`` (each ``subscribers, active, penetration``, ``None`` when
        the scope holds no such branch or there is no branch dimension);
        ``capital_ratio`` (capital's penetration over the prefectures'); and
        ``segments``: ``{dimension: {"highest": {...}, "lowest": {...}}}`` with
        ``value, subscribers, active, penetration, lift`` of each.

    Raises
    ------
    ParameterError
        When ``pen`` lacks a column or its total row, or ``min_share`` is not in [0, 1).
    """
    _need(pen, {"dimension", "value", "subscribers", "active", "penetration", "lift"}, "pen", "penetration()")
    if not (isinstance(min_share, (int, float)) and 0 <= min_share < 1):
        raise ParameterError.invalid("min_share", "a share in [0, 1)", min_share)
    total = pen[pen["dimension"] == "total"]
    if total.empty:
        raise ParameterError.invalid("pen", "penetration() output with its 'total' row", "no total row")
    base, active = int(total["subscribers"].iloc[0]), int(total["active"].iloc[0])
    branches = pen[pen["dimension"] == _BRANCH_COL]
    is_cap = branches["value"].astype(str).isin(list(capital))
    cap = _group(branches[is_cap]) if len(branches) else None
    pref = _group(branches[~is_cap]) if len(branches) else None
    segments = {}
    for dim in [d for d in pd.unique(pen["dimension"]) if d != "total"]:
        rows = pen[(pen["dimension"] == dim) & (pen["value"].astype(str) != "unknown")
                   & (pen["subscribers"] >= min_share * base) & pen["penetration"].notna()]
        if rows.empty:
            continue
        ordered = rows.sort_values(["penetration", "subscribers"], ascending=[False, False], kind="mergesort")

        def pick(r) -> dict:
            return {"value": str(r["value"]), "subscribers": int(r["subscribers"]), "active": int(r["active"]),
                    "penetration": _num(r["penetration"]), "lift": _num(r["lift"])}

        segments[str(dim)] = {"highest": pick(ordered.iloc[0]), "lowest": pick(ordered.iloc[-1])}
    return {
        "base": base, "active": active, "penetration": _ratio(active, base),
        "capital": cap, "prefectures": pref,
        "capital_ratio": _ratio(cap["penetration"], pref["penetration"]) if cap and pref else None,
        "segments": segments,
    }


def summarise_retention(curves: pd.DataFrame, stable_months: int = 3) -> dict:
    """Pooled retention at the point an order becomes a stable subscriber, and at the longest horizon observed.

    Parameters
    ----------
    curves : pandas.DataFrame
        :func:`workbench.status.retention_curves` output.
    stable_months : int
        Definition of a stable subscriber: ``k = stable_months - 1`` is where an order becomes stable.

    Returns
    -------
    dict
        ``orders`` (stays in every cohort), ``cohorts``, ``k_stable`` and
        ``at_stable`` (pooled retention there), ``k_last`` and ``at_last``
        (pooled retention at the largest *k* observed), ``lost_before_stable``
        (``1 - at_stable``).  Retentions are ``None`` when not observed.

    Raises
    ------
    ParameterError
        When ``curves`` lacks a column or ``stable_months`` is not a positive integer.
    """
    from workbench.status.retention import average_retention

    _need(curves, {"cohort", "k", "cohort_size", "retained", "retention"}, "curves", "retention_curves()")
    k_stable = check_int("stable_months", stable_months, 1) - 1
    if curves.empty:
        return {"orders": 0, "cohorts": 0, "k_stable": k_stable, "at_stable": None, "k_last": None,
                "at_last": None, "lost_before_stable": None}
    avg = average_retention(curves).set_index("k")
    at_stable = _num(avg["retention"].get(k_stable))
    k_last = int(avg.index.max())
    return {
        "orders": int(curves.loc[curves["k"] == 0, "cohort_size"].sum()),
        "cohorts": int(curves["cohort"].nunique()),
        "k_stable": k_stable, "at_stable": at_stable,
        "k_last": k_last, "at_last": _num(avg["retention"].loc[k_last]),
        "lost_before_stable": None if at_stable is None else 1.0 - at_stable,
    }


def summarise_drivers(drivers: pd.DataFrame, top: int = 5) -> dict:
    """The strongest drivers of uptake.

    Parameters
    ----------
    drivers : pandas.DataFrame
        :func:`workbench.status.uptake_drivers` (or ``information_value``) output.
    top : int
        How many drivers to keep.

    Returns
    -------
    dict
        ``top``: a list of ``{"feature", "iv", "top_bin", "lift"}`` by decreasing
        IV; ``sample`` and ``events`` (the model sample) when ``drivers`` has them.

    Raises
    ------
    ParameterError
        When ``drivers`` lacks a column or ``top`` is not a positive integer.
    """
    _need(drivers, {"feature", "iv", "top_bin", "lift"}, "drivers", "uptake_drivers()")
    n = check_int("top", top, 1)
    rows = drivers.sort_values("iv", ascending=False, kind="mergesort").head(n)
    out = {"top": [{"feature": str(r["feature"]), "iv": _num(r["iv"]), "top_bin": str(r["top_bin"]),
                    "lift": _num(r["lift"])} for _, r in rows.iterrows()]}
    for col in ("sample", "events"):
        out[col] = int(drivers[col].iloc[0]) if col in drivers.columns and len(drivers) else None
    return out


def summarise_potential(bands: pd.DataFrame, *, horizon: int, k: float = 2.0) -> dict:
    """The sized potential: look-alikes and the new stable subscribers they bring at the observed conversion.

    Parameters
    ----------
    bands : pandas.DataFrame
        :func:`workbench.status.potential` output.
    horizon : int
        The ``horizon`` (months) ``potential`` measured its conversion over: its
        ``expected_new_stable`` is what a period of that length brings.
    k : float
        The density threshold ``potential`` used for high-potential bands.

    Returns
    -------
    dict
        ``base`` (subscribers scored), ``stable`` (current stable subscribers),
        ``nonsubscribers``, ``lookalikes`` (non-subscribers in high-potential
        bands), ``high_bands``, ``expected_new_stable`` (from the look-alikes, over
        ``horizon_months``), ``expected_new_stable_all`` (from every
        non-subscriber), ``conversion_rate`` (look-alikes' expected / look-alikes,
        over ``horizon_months``), ``horizon_months``, ``k``, ``drivers``.

    Raises
    ------
    ParameterError
        When ``bands`` lacks a column, ``horizon`` is not a positive integer or ``k`` not positive.
    """
    _need(bands, {"subscribers", "stable", "nonsubscribers", "high_potential", "expected_new_stable"}, "bands",
          "potential()")
    h = check_int("horizon", horizon, 1)
    check_num("k", k, 0, lo_open=True)
    high = bands["high_potential"].astype(bool).to_numpy()
    lookalikes = int(bands.loc[high, "nonsubscribers"].sum())
    expected = float(bands.loc[high, "expected_new_stable"].sum())
    return {
        "base": int(bands["subscribers"].sum()), "stable": int(bands["stable"].sum()),
        "nonsubscribers": int(bands["nonsubscribers"].sum()), "lookalikes": lookalikes,
        "high_bands": int(high.sum()), "expected_new_stable": expected,
        "expected_new_stable_all": float(bands["expected_new_stable"].sum()),
        "conversion_rate": _ratio(expected, lookalikes), "horizon_months": h, "k": float(k),
        "drivers": [str(d) for d in bands.attrs.get("drivers", [])],
    }


def status_findings(product: str, snapshot, branches: Sequence[str] | None = (), *, stable_months: int = 3,
                    kpis: Mapping | None = None, penetration: Mapping | None = None,
                    retention: Mapping | None = None, drivers: Mapping | None = None,
                    potential: Mapping | None = None) -> dict:
    """The findings of a status analysis: its scope and the summary of each step.

    Template 01 starts with the scope alone and adds each summary as its step
    is done (``findings["kpis"] = summarise_kpis(...)``); :func:`analyse_status`
    passes all five at once.

    Parameters
    ----------
    product, snapshot, branches
        The scope (see :func:`check_scope`).
    stable_months : int
        Definition of a stable subscriber used throughout.
    kpis, penetration, retention, drivers, potential : dict, optional
        Outputs of :func:`summarise_kpis`, :func:`summarise_penetration`,
        :func:`summarise_retention`, :func:`summarise_drivers`, :func:`summarise_potential`.

    Returns
    -------
    dict
        ``version, product, snapshot, branches, stable_months`` and the summaries given (JSON-ready).

    Raises
    ------
    ParameterError
        For a bad scope or ``stable_months``, or a summary that is not a dict.
    """
    product, month, scope = check_scope(product, snapshot, branches)
    months = check_int("stable_months", stable_months, 1)
    out = {"version": FINDINGS_VERSION, "product": product, "snapshot": month, "branches": scope,
           "stable_months": months}
    parts = {"kpis": kpis, "penetration": penetration, "retention": retention, "drivers": drivers,
             "potential": potential}
    for name, part in parts.items():
        if part is None:
            continue
        if not isinstance(part, Mapping):
            raise ParameterError.invalid(name, f"the dict summarise_{name}() returns", type(part).__name__)
        out[name] = dict(part)
    return out


# ----------------------------------------------------------------- the whole analysis (for template 02)
@dataclass
class StatusAnalysis:
    """The frames of a status analysis and their findings (what :func:`analyse_status` returns)."""

    kpis: pd.DataFrame
    penetration: pd.DataFrame
    retention: pd.DataFrame
    drivers: pd.DataFrame
    bands: pd.DataFrame
    findings: dict = field(default_factory=dict)


def analyse_status(source, product: str = "mobile_newspaper", snapshot="2026-10",
                   branches: Sequence[str] | None = (), *, stable_months: int = 3, horizon: int | None = None,
                   recent_months: int = 6, window: int = 6, k: float = 2.0, top: int = 5,
                   progress: bool = False) -> StatusAnalysis:
    """Run every step of the status analysis of template 01 and condense it into findings.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        The province data (a connection from :func:`scoped_connection` is used as is;
        anything else is scoped to ``branches`` here).
    product, snapshot, branches
        The scope (see :func:`check_scope`).
    stable_months : int
        Definition of a stable subscriber.
    horizon : int, optional
        Months back for the observed conversion of :func:`workbench.status.potential`
        (default :func:`conversion_horizon`).
    recent_months : int
        Window of :func:`summarise_kpis`.
    window : int
        Feature window (months) of :func:`workbench.features.build_features`.
    k : float
        High-potential threshold of :func:`workbench.status.potential`.
    top : int
        Drivers kept in the findings.
    progress : bool
        Show a tqdm bar over the steps.

    Returns
    -------
    StatusAnalysis
    """
    import duckdb
    from tqdm.auto import tqdm

    from workbench.features import build_features, subscriber_status
    from workbench.status import penetration, potential, product_kpis, retention_curves, uptake_drivers

    product, month, scope = check_scope(product, snapshot, branches)
    months = check_int("stable_months", stable_months, 1)
    horizon = conversion_horizon(months) if horizon is None else check_int("horizon", horizon, 1)
    own = not isinstance(source, duckdb.DuckDBPyConnection)
    con = scoped_connection(source, scope) if own else source
    bar = tqdm(total=6, desc="status", unit="step", disable=not progress)
    try:
        kp = product_kpis(con, product, end=month)
        bar.update()
        pen = penetration(con, month, product)
        bar.update()
        curves = retention_curves(con, product, month)
        bar.update()
        feats = build_features(con, month, window)
        status = subscriber_status(con, product, month, months, horizon=horizon)
        bar.update()
        drv = uptake_drivers(con, month, product, features=feats, status=status)
        bar.update()
        bands = potential(con, month, product, features=feats, status=status, drivers=drv, k=k,
                          stable_months=months, horizon=horizon)
        bar.update()
    finally:
        bar.close()
        if own:
            con.close()
    findings = status_findings(
        product, month, scope, stable_months=months,
        kpis=summarise_kpis(kp, month, recent_months=recent_months), penetration=summarise_penetration(pen),
        retention=summarise_retention(curves, months), drivers=summarise_drivers(drv, top),
        potential=summarise_potential(bands, horizon=horizon, k=k))
    return StatusAnalysis(kp, pen, curves, drv, bands, findings)


# ----------------------------------------------------------------- the findings file (I/O at the edge)
def write_findings(findings: Mapping, run_dir: str | os.PathLike) -> Path:
    """Write the findings as ``run_dir/status_findings.json`` (the folder is created); return the path.

    ``run_dir`` is a path or a :class:`workbench.runs.RunFolder`; the write is recorded in its manifest.
    """
    from workbench.runs import RunFolder

    return RunFolder.of(run_dir).write_findings(findings)


def read_findings(run_dir: str | os.PathLike, product: str | None = None, snapshot=None,
                  branches: Sequence[str] | None = None, stable_months: int | None = None) -> dict | None:
    """The findings in ``run_dir``, or ``None`` when there are none for this scope.

    Parameters
    ----------
    run_dir : path or workbench.runs.RunFolder
        The run folder template 01 wrote to.
    product, snapshot, branches, stable_months : optional
        When given, findings for another product, snapshot, set of branches or
        definition of a stable subscriber count as absent.

    Returns
    -------
    dict or None
        ``None`` also for an unreadable file or one of another :data:`FINDINGS_VERSION`.
    """
    from workbench.runs import RunFolder

    found = RunFolder.of(run_dir).read_findings()
    if not isinstance(found, dict) or found.get("version") != FINDINGS_VERSION:
        return None
    wanted = {}
    if product is not None or snapshot is not None or branches is not None:
        p, m, b = check_scope(product or found.get("product"), snapshot or found.get("snapshot"), branches)
        wanted = {"product": p, "snapshot": m}
        if branches is not None:
            wanted["branches"] = b
    if stable_months is not None:
        wanted["stable_months"] = stable_months
    if any(found.get(key) != value for key, value in wanted.items()):
        return None
    return found


def load_findings(run_dir: str | os.PathLike, data, product: str = "mobile_newspaper", snapshot="2026-10",
                  branches: Sequence[str] | None = (), *, stable_months: int = 3, progress: bool = False,
                  **analysis_options) -> tuple[dict, str]:
    """The findings of template 01 for this scope: read from ``run_dir``, else recomputed from ``data``.

    Parameters
    ----------
    run_dir : path
        Where template 01 wrote :data:`FINDINGS_FILE`.
    data : path, mapping or Source
        The province data (used only when the findings must be recomputed).
    product, snapshot, branches, stable_months
        The scope the findings must match.
    progress : bool
        Progress bar of a recomputation.
    **analysis_options
        Passed to :func:`analyse_status`.

    Returns
    -------
    tuple
        ``(findings, how)`` with ``how`` ``"file"`` or ``"computed"``.
    """
    product, month, scope = check_scope(product, snapshot, branches)
    found = read_findings(run_dir, product, month, scope, stable_months)
    if found is not None:
        return found, "file"
    result = analyse_status(data, product, month, scope, stable_months=stable_months, progress=progress,
                            **analysis_options)
    return result.findings, "computed"
