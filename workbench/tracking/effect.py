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
from dataclasses import dataclass

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
def _py(v):
    """A numpy scalar as the plain Python value."""
    return v.item() if isinstance(v, np.generic) else v


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
                return _py(u)
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
                    return _py(u)
            except ValueError:
                continue
        elif str(u) == text:
            return u
    folded = [u for u in uniques if str(u).strip().casefold() == text.casefold()]
    if len(folded) == 1:
        u = folded[0]
        return _py(u)
    return None


def _values_list(series: pd.Series, limit: int = 20) -> list:
    vals = _natural_sort([_py(v) for v in pd.unique(series.dropna())])
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
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "boolean":
        return "binary"  # booleans with missing values
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


@dataclass(frozen=True)
class _Groups:
    """Integer group codes of the units: ``group = segment_code * n_arms + arm_code``."""

    control: object
    control_code: int
    arms: list  # (value, code) of the treatment arms, in natural order
    segments: list  # (value, code) of the segments, in natural order
    n_arms: int
    group: np.ndarray  # per row; -1 where the arm or segment is missing

    @property
    def n_groups(self) -> int:
        return self.n_arms * max(1, len(self.segments))


def _groups(df: pd.DataFrame, arm_col: str, control_value, by: str | None) -> _Groups:
    arm_codes, arm_uniques = pd.factorize(df[arm_col], sort=False)
    arm_values = [_py(v) for v in arm_uniques]
    control = resolve_value(pd.Series(arm_uniques), control_value)
    if control is None:
        raise ParameterError(
            f"The control value {control_value!r} does not occur in arm column {arm_col!r}; "
            f"the arm values found are {_values_list(pd.Series(arm_uniques))}."
        )
    control_code = next(i for i, v in enumerate(arm_values) if v == control)
    order = _natural_sort([v for i, v in enumerate(arm_values) if i != control_code])
    arms = [(v, arm_values.index(v)) for v in order]
    if not arms:
        raise ParameterError(
            f"Arm column {arm_col!r} holds only the control value {control!r}; there is no arm to compare."
        )
    if by is None:
        seg_codes = np.zeros(len(df), dtype=np.int64)
        segments = [(None, 0)]
    else:
        seg_codes, seg_uniques = pd.factorize(df[by], sort=False)
        seg_values = [_py(v) for v in seg_uniques]
        segments = [(v, seg_values.index(v)) for v in _natural_sort(seg_values)]
    n_arms = len(arm_values)
    group = np.where((arm_codes >= 0) & (seg_codes >= 0), seg_codes * n_arms + arm_codes, -1)
    return _Groups(control, control_code, arms, segments, n_arms, group)


def _group_stats(group: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """count, sum, mean and sample sd of ``values`` per group (NaN and group -1 left out); two-pass variance."""
    ok = (group >= 0) & ~np.isnan(values)
    g, v = group[ok], values[ok]
    count = np.bincount(g, minlength=n_groups).astype(float)
    total = np.bincount(g, weights=v, minlength=n_groups)
    with np.errstate(all="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        ss = np.bincount(g, weights=(v - mean[g]) ** 2, minlength=n_groups)
        sd = np.where(count >= 2, np.sqrt(ss / (count - 1)), np.nan)
    return count, total, mean, sd


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

    grp = _groups(df, arm_col, control_value, by_cols[0] if by_cols else None)
    control = grp.control

    # coded outcomes and covariates --------------------------------------------------------
    coded: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for col in outcomes:
        kinds[col], coded[col] = _code_outcome(df[col], col, positive)
    cov_matrix = None
    if covs:
        bad = [c for c in covs
               if not (pd.api.types.is_numeric_dtype(df[c].dtype) or pd.api.types.is_bool_dtype(df[c].dtype))]
        if bad:
            raise ParameterError(
                f"Covariate columns must be numeric; {bad} hold {[str(df[c].dtype) for c in bad]}."
            )
        cov_matrix = df[covs].astype("float64").to_numpy(dtype=float, na_value=np.nan)

    # group statistics with bincount, then one row per (segment, arm, outcome) -------------
    stats_by_outcome = {col: _group_stats(grp.group, coded[col], grp.n_groups) for col in outcomes}
    units = np.bincount(grp.group[grp.group >= 0], minlength=grp.n_groups)
    rows = [(sv, sc, av, ac, col) for sv, sc in grp.segments for av, ac in grp.arms for col in outcomes]
    keys = pd.DataFrame(rows, columns=["_seg", "_segcode", "_arm", "_armcode", "outcome"])
    t_group = (keys["_segcode"] * grp.n_arms + keys["_armcode"]).to_numpy()
    c_group = (keys["_segcode"] * grp.n_arms + grp.control_code).to_numpy()

    def pick(which: int, groups: np.ndarray) -> np.ndarray:
        return np.array([stats_by_outcome[col][which][g] for col, g in zip(keys["outcome"], groups)], dtype=float)

    t_n, t_sum, t_mean, t_sd = (pick(w, t_group) for w in range(4))
    c_n, c_sum, c_mean, c_sd = (pick(w, c_group) for w in range(4))

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
        k = len(grp.arms)
        pair_share = planned_control_share / (planned_control_share + (1 - planned_control_share) / k)
        nu_t = units[t_group].astype(float)
        nu_c = units[c_group].astype(float)
        srm = srm_check(nu_t, nu_c, pair_share, threshold=srm_threshold)
        result["units_treated"] = nu_t.astype(np.int64)
        result["units_control"] = nu_c.astype(np.int64)
        result["srm_p_value"] = srm["p_value"].to_numpy()
        result["srm"] = srm["srm"].to_numpy()

    if covs:
        order = np.argsort(grp.group, kind="stable")
        bounds = np.searchsorted(grp.group[order], np.arange(grp.n_groups + 1))
        adjusted = {c: np.full(len(keys), np.nan) for c in ADJUSTED_COLUMNS}
        for j, col in enumerate(tqdm(keys["outcome"], disable=not progress, desc="covariate adjustment")):
            it = order[bounds[t_group[j]]:bounds[t_group[j] + 1]]
            ic = order[bounds[c_group[j]]:bounds[c_group[j] + 1]]
            if not len(it) or not len(ic):
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
    grp = _groups(df, arm_col, control_value, by_cols[0] if by_cols else None)
    arms = [(grp.control, grp.control_code), *grp.arms]
    shares = [planned_control_share] + [(1 - planned_control_share) / len(grp.arms)] * len(grp.arms)
    units = np.bincount(grp.group[grp.group >= 0], minlength=grp.n_groups)
    out = []
    for seg_value, seg_code in grp.segments:
        n = [int(units[seg_code * grp.n_arms + code]) for _, code in arms]
        res = srm_test(n, shares, threshold=threshold)
        for (arm, _), ng, sh, ex in zip(arms, n, shares, res["expected"]):
            row = {"arm": arm, "n": ng, "planned_share": sh, "expected": ex, "chi2": res["chi2"],
                   "dof": res["dof"], "p_value": res["p_value"], "srm": res["srm"]}
            if by_cols:
                row = {SEGMENT_COLUMN: seg_value, **row}
            out.append(row)
    return pd.DataFrame(out)
