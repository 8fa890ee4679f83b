"""Effect of a randomised campaign from a table of units: one row per arm, outcome and segment.

:func:`effect_table` takes any table with one row per unit (subscriber), an arm
column (which group the unit was assigned to), one or more outcome columns and,
optionally, a segment column and pre-period covariates, and compares every arm
with the shared control group using :mod:`workbench.metrics.experiment`.  The
group statistics come from one pandas group-by aggregation, the statistics from
the vectorised functions; only the covariate adjustment (which needs the unit
rows) loops, once per (segment, arm, outcome).

Outcomes
--------
* boolean, or numeric with only the values 0 and 1: a *binary* outcome (rates);
* other numbers: a *numeric* outcome (means, e.g. spend);
* text: binary with ``positive`` naming the value that counts as success (every
  other value is a non-success).

Missing outcome values are left out of that outcome's counts; rows whose arm is
missing, or whose segment is missing when ``by`` is given, are left out.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.metrics.experiment import (
    SRM_THRESHOLD,
    cuped_effect,
    mean_effect,
    proportion_effect,
    regression_adjusted_effect,
    srm_check,
    srm_test,
)

__all__ = [
    "EFFECT_TABLE_COLUMNS",
    "ADJUSTED_COLUMNS",
    "SRM_COLUMNS",
    "COST_COLUMNS",
    "SEGMENT_COLUMN",
    "effect_table",
    "srm_table",
    "resolve_value",
    "outcome_kind",
]

#: Name of the segment column of the output when ``by`` is given.
SEGMENT_COLUMN = "segment"
#: Columns of :func:`effect_table` always present (``segment`` first when ``by`` is given).
EFFECT_TABLE_COLUMNS: tuple[str, ...] = (
    "arm", "control", "outcome", "kind",
    "n_treated", "n_control", "mean_treated", "mean_control",
    "abs_lift", "se", "abs_ci_low", "abs_ci_high",
    "rel_lift", "rel_ci_low", "rel_ci_high",
    "statistic", "p_value",
    "incremental", "incremental_ci_low", "incremental_ci_high",
)
#: Added when ``cost_per_treated`` is given.
COST_COLUMNS: tuple[str, ...] = ("cost", "cost_per_incremental")
#: Added when ``planned_control_share`` is given (pairwise test of arm vs control sizes).
SRM_COLUMNS: tuple[str, ...] = ("units_treated", "units_control", "srm_p_value", "srm")
#: Added when ``covariates`` are given: CUPED and regression-adjusted (Lin) estimates.
ADJUSTED_COLUMNS: tuple[str, ...] = (
    "cuped_lift", "cuped_ci_low", "cuped_ci_high", "cuped_p_value", "cuped_variance_reduction",
    "reg_lift", "reg_ci_low", "reg_ci_high", "reg_p_value",
)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


# ------------------------------------------------------------------ value matching
def _natural_sort(values: Sequence) -> list:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def resolve_value(series: pd.Series, value) -> object | None:
    """The value of ``series`` that ``value`` means, or None when there is none.

    Values typed on a command line arrive as text while the column may hold
    numbers or booleans, so a text ``value`` also matches an element whose text
    form is the same (``"0"`` matches ``0`` and ``0.0``, ``"true"`` matches
    ``True``), and at last case-insensitively when exactly one element matches.

    Parameters
    ----------
    series : pandas.Series
        The column.
    value : object
        The value asked for.

    Returns
    -------
    object or None
        The element of the column (with the column's type), or None.

    Examples
    --------
    >>> resolve_value(pd.Series([0, 1, 2]), "0")
    0
    >>> resolve_value(pd.Series(["No E-Mail", "Mens E-Mail"]), "no e-mail")
    'No E-Mail'
    """
    uniques = pd.unique(series.dropna())
    for u in uniques:
        try:
            if u == value and type(u == value) in (bool, np.bool_):
                return u.item() if isinstance(u, np.generic) else u
        except (TypeError, ValueError):
            continue
    if not isinstance(value, str):
        return None
    text = value.strip()
    for u in uniques:
        if isinstance(u, (bool, np.bool_)):
            if (bool(u) and text.lower() in _TRUE) or (not bool(u) and text.lower() in _FALSE):
                return bool(u)
        elif isinstance(u, (int, float, np.integer, np.floating)):
            try:
                if float(text) == float(u):
                    return u.item() if isinstance(u, np.generic) else u
            except ValueError:
                continue
        elif str(u) == text:
            return u
    folded = [u for u in uniques if str(u).strip().casefold() == text.casefold()]
    if len(folded) == 1:
        u = folded[0]
        return u.item() if isinstance(u, np.generic) else u
    return None


def _values_list(series: pd.Series, limit: int = 20) -> list:
    vals = _natural_sort([v.item() if isinstance(v, np.generic) else v for v in pd.unique(series.dropna())])
    return vals[:limit] + (["..."] if len(vals) > limit else [])


def outcome_kind(series: pd.Series) -> str:
    """``"binary"``, ``"numeric"`` or ``"text"`` for an outcome column (see the module notes).

    Examples
    --------
    >>> outcome_kind(pd.Series([0, 1, 1])), outcome_kind(pd.Series([0.0, 12.5])), outcome_kind(pd.Series(["y", "n"]))
    ('binary', 'numeric', 'text')
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return "binary"
    if pd.api.types.is_numeric_dtype(series.dtype):
        present = series.dropna()
        return "binary" if present.isin([0, 1]).all() else "numeric"
    present = series.dropna()
    if len(present) and present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return "binary"
    return "text"


def _code_outcome(series: pd.Series, name: str, positive) -> tuple[str, np.ndarray]:
    """(kind, float values with NaN for missing) of one outcome column."""
    kind = outcome_kind(series)
    wanted = positive.get(name) if isinstance(positive, Mapping) else positive
    if kind == "text" or (isinstance(positive, Mapping) and name in positive):
        if wanted is None:
            raise ParameterError(
                f"Outcome column {name!r} holds text; say which value counts as success with "
                f"positive=VALUE (--positive VALUE). Its values are {_values_list(series)}."
            )
        match = resolve_value(series, wanted)
        if match is None:
            raise ParameterError(
                f"The 'positive' value {wanted!r} is not among the values of outcome column {name!r}: "
                f"{_values_list(series)}."
            )
        coded = np.where(series.isna().to_numpy(), np.nan, (series == match).to_numpy(dtype=bool, na_value=False))
        return "binary", coded.astype(float)
    values = pd.to_numeric(series.astype("float64") if kind == "binary" else series, errors="coerce")
    return kind, values.to_numpy(dtype=float, na_value=np.nan)


# ------------------------------------------------------------------ validation
def _as_list(name: str, value) -> list:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple, pd.Index)):
        return [value]
    out = list(value)
    if len(set(out)) != len(out):
        raise ParameterError.invalid(name, "distinct column names", out)
    return out


def _check_columns(df: pd.DataFrame, **params) -> None:
    available = list(df.columns)
    for pname, cols in params.items():
        for col in cols:
            if col not in df.columns:
                raise ParameterError(
                    f"Column {col!r} (the {pname!r} parameter) is not in the table; "
                    f"available columns are {available}."
                )


def _resolve_control(df: pd.DataFrame, arm_col, control_value):
    control = resolve_value(df[arm_col], control_value)
    if control is None:
        raise ParameterError(
            f"The control value {control_value!r} does not occur in arm column {arm_col!r}; "
            f"the arm values found are {_values_list(df[arm_col])}."
        )
    return control


# ------------------------------------------------------------------ the table
def effect_table(
    df: pd.DataFrame,
    arm_col: str,
    control_value,
    outcome_cols: str | Sequence[str],
    by: str | None = None,
    positive=None,
    covariates: str | Sequence[str] | None = None,
    *,
    planned_control_share: float | None = None,
    cost_per_treated: float | Mapping | None = None,
    alpha: float = 0.05,
    ci_method: str = "newcomb",
    srm_threshold: float = SRM_THRESHOLD,
    progress: bool = False,
) -> pd.DataFrame:
    """Every arm against the shared control, for every outcome (and segment).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit.
    arm_col : str
        Column with the arm each unit was assigned to.
    control_value : object
        The arm value of the control group (text such as ``"0"`` also matches
        a numeric ``0``; see :func:`resolve_value`).
    outcome_cols : str or list of str
        Outcome columns: 0/1, boolean, numeric, or text with ``positive``.
    by : str, optional
        Segment column: one row per segment value instead of one overall row.
    positive : object or mapping, optional
        For text outcomes, the value counting as success; a mapping
        ``{column: value}`` sets it per column (and may also recode a
        numeric column).
    covariates : str or list of str, optional
        Numeric pre-period columns; adds the CUPED and regression-adjusted
        estimates (:data:`ADJUSTED_COLUMNS`).
    planned_control_share : float, optional
        Planned share of all units in control, in (0, 1); the other arms are
        planned to share the rest equally.  Adds a sample-ratio-mismatch test of
        each arm against control (:data:`SRM_COLUMNS`; ``srm`` is True where the
        p-value is below ``srm_threshold``).  See also :func:`srm_table`.
    cost_per_treated : float or mapping, optional
        Cost of treating one unit (or ``{arm: cost}``); adds :data:`COST_COLUMNS`.
    alpha : float, default 0.05
        ``1 - alpha`` is the coverage of the intervals.
    ci_method : str, default "newcomb"
        Interval of a rate difference (see :func:`~workbench.metrics.experiment.proportion_effect`).
    srm_threshold : float, default 0.001
        p-value below which a sample-ratio mismatch is flagged.
    progress : bool, default False
        Show a progress bar over the covariate adjustments.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, arm, outcome) with ``segment`` (when ``by``) and
        :data:`EFFECT_TABLE_COLUMNS`, then the optional column groups, then
        ``note`` (codes of :mod:`workbench.metrics.experiment`).  For a binary
        outcome ``mean_*`` are rates; ``kind`` is ``"binary"`` or ``"numeric"``;
        ``incremental`` is ``abs_lift * n_treated``.

    Raises
    ------
    ParameterError
        A missing column (the message lists the available ones), a control
        value absent from the arm column (lists the arm values), only the
        control arm present, a text outcome without ``positive`` or with a
        ``positive`` not among its values (lists them), non-numeric
        covariates, or a bad share / alpha.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["sms"] * 4 + ["none"] * 4, "ordered": [1, 1, 0, 0, 1, 0, 0, 0]})
    >>> effect_table(df, "arm", "none", "ordered")[["arm", "mean_treated", "mean_control", "abs_lift"]]
       arm  mean_treated  mean_control  abs_lift
    0  sms           0.5          0.25      0.25
    """
    from tqdm.auto import tqdm

    if not isinstance(df, pd.DataFrame):
        raise ParameterError.invalid("df", "a pandas DataFrame", type(df).__name__)
    outcomes = _as_list("outcome_cols", outcome_cols)
    if not outcomes:
        raise ParameterError.invalid("outcome_cols", "at least one outcome column", outcome_cols)
    covs = _as_list("covariates", covariates)
    by_cols = _as_list("by", by)
    if len(by_cols) > 1:
        raise ParameterError.invalid("by", "one column name", by)
    _check_columns(df, arm_col=[arm_col], outcome_cols=outcomes, by=by_cols, covariates=covs)
    for pname, cols in (("outcome_cols", outcomes), ("by", by_cols), ("covariates", covs)):
        if arm_col in cols:
            raise ParameterError(f"The arm column {arm_col!r} cannot also be in the {pname!r} parameter.")
    if planned_control_share is not None and not (
        isinstance(planned_control_share, (int, float)) and 0 < planned_control_share < 1
    ):
        raise ParameterError.invalid("planned_control_share", "a share strictly between 0 and 1",
                                     planned_control_share)

    control = _resolve_control(df, arm_col, control_value)
    arm_values = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(df[arm_col].dropna())]
    arms = _natural_sort([a for a in arm_values if not (a == control)])
    if not arms:
        raise ParameterError(
            f"Arm column {arm_col!r} holds only the control value {control!r}; there is no arm to compare."
        )

    # coded outcomes and covariates --------------------------------------------------------
    coded: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for col in outcomes:
        kinds[col], coded[col] = _code_outcome(df[col], col, positive)
    cov_matrix = None
    if covs:
        bad = [c for c in covs if not (pd.api.types.is_numeric_dtype(df[c].dtype) or pd.api.types.is_bool_dtype(df[c].dtype))]
        if bad:
            raise ParameterError(
                f"Covariate columns must be numeric; {bad} hold {[str(df[c].dtype) for c in bad]}."
            )
        cov_matrix = df[covs].astype("float64").to_numpy(dtype=float, na_value=np.nan)

    seg = df[by_cols[0]] if by_cols else pd.Series(0, index=df.index)
    ycols = [f"_y{i}" for i in range(len(outcomes))]
    frame = pd.DataFrame({"_seg": seg.to_numpy(), "_arm": df[arm_col].to_numpy(), "_pos": np.arange(len(df))})
    for ycol, col in zip(ycols, outcomes):
        frame[ycol] = coded[col]
    frame = frame[frame["_arm"].notna() & frame["_seg"].notna()].reset_index(drop=True)

    # group statistics: one aggregation, then one row per (segment, arm, outcome) ---------
    grouped = frame.groupby(["_seg", "_arm"], observed=True, sort=False)
    agg = grouped[ycols].agg(["count", "sum", "mean", "std"]).stack(level=0, future_stack=True)
    units = grouped.size()
    segments = _natural_sort(list(pd.unique(frame["_seg"]))) if by_cols else [0]
    rows = [(s, a, col, ycol) for s in segments for a in arms for ycol, col in zip(ycols, outcomes)]
    keys = pd.DataFrame(rows, columns=["_seg", "_arm", "outcome", "_ycol"])
    treated_stats = agg.reindex(pd.MultiIndex.from_frame(keys[["_seg", "_arm", "_ycol"]]))
    control_stats = agg.reindex(pd.MultiIndex.from_arrays([keys["_seg"], [control] * len(keys), keys["_ycol"]]))
    t_n, t_sum, t_mean, t_sd = (treated_stats[w].to_numpy(dtype=float) for w in ("count", "sum", "mean", "std"))
    c_n, c_sum, c_mean, c_sd = (control_stats[w].to_numpy(dtype=float) for w in ("count", "sum", "mean", "std"))
    t_n, c_n = np.nan_to_num(t_n), np.nan_to_num(c_n)
    t_sum, c_sum = np.nan_to_num(t_sum), np.nan_to_num(c_sum)

    is_bin = np.array([kinds[col] == "binary" for col in keys["outcome"]])
    result = pd.DataFrame(index=range(len(keys)))
    pieces = []
    if is_bin.any():
        b = proportion_effect(t_sum[is_bin], t_n[is_bin], c_sum[is_bin], c_n[is_bin], alpha=alpha,
                              ci_method=ci_method)
        b.index = np.flatnonzero(is_bin)
        pieces.append(b)
    if (~is_bin).any():
        m = mean_effect(t_mean[~is_bin], t_sd[~is_bin], t_n[~is_bin], c_mean[~is_bin], c_sd[~is_bin],
                        c_n[~is_bin], alpha=alpha)
        m.index = np.flatnonzero(~is_bin)
        pieces.append(m)
    stats_frame = pd.concat(pieces).sort_index()

    if by_cols:
        result[SEGMENT_COLUMN] = keys["_seg"].to_numpy()
    result["arm"] = keys["_arm"].to_numpy()
    result["control"] = [control] * len(keys)
    result["outcome"] = keys["outcome"].to_numpy()
    result["kind"] = np.where(is_bin, "binary", "numeric")
    for col in ("n_treated", "n_control"):
        result[col] = stats_frame[col].astype(np.int64).to_numpy()
    for col in ("mean_treated", "mean_control", "abs_lift", "se", "abs_ci_low", "abs_ci_high",
                "rel_lift", "rel_ci_low", "rel_ci_high", "statistic", "p_value"):
        result[col] = stats_frame[col].to_numpy()
    result["incremental"] = result["abs_lift"] * result["n_treated"]
    result["incremental_ci_low"] = result["abs_ci_low"] * result["n_treated"]
    result["incremental_ci_high"] = result["abs_ci_high"] * result["n_treated"]
    notes = [[c for c in str(n).split(";") if c] for n in stats_frame["note"]]

    if cost_per_treated is not None:
        per = np.array([
            (cost_per_treated.get(a, np.nan) if isinstance(cost_per_treated, Mapping) else cost_per_treated)
            for a in result["arm"]
        ], dtype=float)
        if (per < 0).any():
            raise ParameterError.invalid("cost_per_treated", "non-negative costs", cost_per_treated)
        result["cost"] = per * result["n_treated"]
        inc = result["incremental"].to_numpy()
        with np.errstate(all="ignore"):
            result["cost_per_incremental"] = np.where(inc > 0, result["cost"] / inc, np.nan)
        for j in np.flatnonzero(~(inc > 0)):
            notes[j].append("no_increment")

    if planned_control_share is not None:
        k = len(arms)
        pair_share = planned_control_share / (planned_control_share + (1 - planned_control_share) / k)
        nu_t = np.array([units.get((s, a), 0) for s, a in zip(keys["_seg"], keys["_arm"])], dtype=float)
        nu_c = np.array([units.get((s, control), 0) for s in keys["_seg"]], dtype=float)
        srm = srm_check(nu_t, nu_c, pair_share, threshold=srm_threshold)
        result["units_treated"] = nu_t.astype(np.int64)
        result["units_control"] = nu_c.astype(np.int64)
        result["srm_p_value"] = srm["p_value"].to_numpy()
        result["srm"] = srm["srm"].to_numpy()

    if covs:
        pos = frame["_pos"].to_numpy()
        members = {key: pos[idx] for key, idx in grouped.indices.items()}
        adjusted = {c: np.full(len(keys), np.nan) for c in ADJUSTED_COLUMNS}
        for j, (s, a, col, _ycol) in enumerate(tqdm(rows, disable=not progress, desc="covariate adjustment")):
            it, ic = members.get((s, a)), members.get((s, control))
            if it is None or ic is None:
                continue
            idx = np.r_[it, ic]
            t = np.r_[np.ones(len(it), bool), np.zeros(len(ic), bool)]
            cu = cuped_effect(coded[col][idx], t, cov_matrix[idx], alpha=alpha)
            rg = regression_adjusted_effect(coded[col][idx], t, cov_matrix[idx], alpha=alpha)
            adjusted["cuped_lift"][j], adjusted["cuped_ci_low"][j] = cu["estimate"], cu["ci_low"]
            adjusted["cuped_ci_high"][j], adjusted["cuped_p_value"][j] = cu["ci_high"], cu["p_value"]
            adjusted["cuped_variance_reduction"][j] = cu["variance_reduction"]
            adjusted["reg_lift"][j], adjusted["reg_ci_low"][j] = rg["estimate"], rg["ci_low"]
            adjusted["reg_ci_high"][j], adjusted["reg_p_value"][j] = rg["ci_high"], rg["p_value"]
            for code in (cu["note"] + ";" + rg["note"]).split(";"):
                if code and code not in notes[j]:
                    notes[j].append(code)
        for c in ADJUSTED_COLUMNS:
            result[c] = adjusted[c]

    result["note"] = [";".join(n) for n in notes]
    return result


def srm_table(
    df: pd.DataFrame,
    arm_col: str,
    control_value,
    planned_control_share: float,
    by: str | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
) -> pd.DataFrame:
    """Sample-ratio mismatch over all arms at once (chi-square, ``k - 1`` degrees of freedom).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit.
    arm_col : str
        Arm column.
    control_value : object
        Control arm value (matched as in :func:`resolve_value`).
    planned_control_share : float
        Planned share of all units in control, in (0, 1); the other arms share
        the rest equally.
    by : str, optional
        Test each segment separately.
    threshold : float, default 0.001
        p-value below which the mismatch is flagged.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, arm): ``segment`` (when ``by``), ``arm``, ``n``,
        ``planned_share``, ``expected``, and the segment's ``chi2``, ``dof``,
        ``p_value`` and ``srm``.

    Raises
    ------
    ParameterError
        A missing column, an absent control value or a share outside (0, 1).
    """
    by_cols = _as_list("by", by)
    _check_columns(df, arm_col=[arm_col], by=by_cols)
    if not (isinstance(planned_control_share, (int, float)) and 0 < planned_control_share < 1):
        raise ParameterError.invalid("planned_control_share", "a share strictly between 0 and 1",
                                     planned_control_share)
    control = _resolve_control(df, arm_col, control_value)
    arm_values = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(df[arm_col].dropna())]
    arms = _natural_sort([a for a in arm_values if not (a == control)])
    if not arms:
        raise ParameterError(
            f"Arm column {arm_col!r} holds only the control value {control!r}; there is no arm to compare."
        )
    groups = [control, *arms]
    shares = [planned_control_share] + [(1 - planned_control_share) / len(arms)] * len(arms)
    seg = df[by_cols[0]] if by_cols else pd.Series(0, index=df.index)
    keep = df[arm_col].notna() & seg.notna()
    counts = pd.crosstab(seg[keep], df.loc[keep, arm_col])
    out = []
    for s in _natural_sort(list(counts.index)):
        n = [int(counts.loc[s, g]) if g in counts.columns else 0 for g in groups]
        res = srm_test(n, shares, threshold=threshold)
        for g, ng, sh, ex in zip(groups, n, shares, res["expected"]):
            row = {"arm": g, "n": ng, "planned_share": sh, "expected": ex, "chi2": res["chi2"],
                   "dof": res["dof"], "p_value": res["p_value"], "srm": res["srm"]}
            if by_cols:
                row = {SEGMENT_COLUMN: s, **row}
            out.append(row)
    return pd.DataFrame(out)
