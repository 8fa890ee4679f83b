"""Statistics of a randomised campaign: lift, confidence intervals, p-values, SRM, CUPED.

Compute only, vectorised: every comparison function takes scalars or arrays
(one element per comparison, e.g. per arm and segment) and returns one row per
comparison.  The heavy lifting is done by ``statsmodels`` and ``scipy``; this
module chooses the methods, guards the edge cases and names the results.

Methods
-------
Binary outcome (:func:`proportion_effect`)
    * absolute lift ``p_t - p_c`` with the **Newcombe hybrid score** interval
      (``method="newcomb"`` of :func:`statsmodels.stats.proportion.confint_proportions_2indep`).
      It is chosen over the unpooled Wald interval because it keeps its coverage
      for small counts and rare events (a 1 % take-up rate is normal for a VAS
      campaign), never leaves ``[-1, 1]`` and exists when a group has no events.
      ``ci_method="wald"`` gives the textbook interval
      ``d +- z * sqrt(p_t (1-p_t)/n_t + p_c (1-p_c)/n_c)``.
    * relative lift ``p_t / p_c - 1`` with the **log ratio (Katz)** interval
      ``exp(log(r) +- z * sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c)) - 1``
      (``compare="ratio", method="log"``), i.e. the delta method on the log scale.
    * p-value of the **pooled two-proportion z test**
      ``z = d / sqrt(p (1-p) (1/n_t + 1/n_c))`` with ``p`` the pooled rate
      (:func:`statsmodels.stats.proportion.test_proportions_2indep`,
      ``method="score", correction=False``, which is that test).
Numeric outcome (:func:`mean_effect`)
    * difference of means with the **Welch** interval and p-value
      (Welch-Satterthwaite degrees of freedom, as
      ``scipy.stats.ttest_ind(equal_var=False)``);
    * relative difference ``m_t / m_c - 1`` with a **delta-method** interval
      ``se = sqrt(v_t / m_c**2 + m_t**2 v_c / m_c**4)``, ``v = s**2 / n``.
Sample-ratio mismatch (:func:`srm_check`, :func:`srm_test`)
    Chi-square goodness of fit of the observed group sizes against the planned
    shares; flagged when ``p < 0.001`` (the usual threshold: at that level a
    correctly randomised experiment is flagged once in a thousand checks, while a
    broken assignment of a large campaign is flagged almost surely).
Variance reduction with pre-period covariates
    * :func:`cuped_effect` - CUPED (Deng et al. 2013): ``y - (x - mean(x)) theta``
      with ``theta`` from the pooled within-group covariance (``sum_g cov_g(x, y) /
      sum_g var_g(x)`` for one covariate: the slope of ``y`` on ``x`` with each arm
      centred at its own means, so the treatment effect does not leak into
      ``theta``), then Welch on the adjusted outcome;
    * :func:`regression_adjusted_effect` - Lin (2013): OLS of the outcome on
      treatment, centred covariates and their interactions with treatment, with a
      heteroskedasticity-robust (HC2 by default) standard error.
Incremental outcomes (:func:`incremental_outcomes`)
    ``incremental = absolute lift x treated n`` (with its interval) and the cost
    per incremental outcome.

Edge cases
----------
Impossible inputs (negative counts, counts above n, a share outside (0, 1), alpha
outside (0, 1)) raise :class:`~workbench.errors.ParameterError`.  Possible but
degenerate inputs (an empty group, no events at all, a control rate of zero, a
single observation) return NaN for what cannot be computed and a code in the
``note`` column (codes joined by ``";"``; their labels are ``evaluate.note.<code>``
in the catalogue):

``empty_group``        a group has no observations
``no_variation``       no events in either group, or every unit has one (p-value undefined)
``zero_control``       control rate / mean is zero (relative lift undefined)
``zero_count``         a group has no events (or both have only events): log-ratio interval undefined
``too_few``            fewer than two observations in a group (variance undefined)
``zero_variance``      both groups constant (Welch test undefined)
``no_increment``       no positive increment: cost per incremental outcome undefined
``dropped_missing``    rows with a missing outcome or covariate were left out
``constant_covariate`` a covariate without variation was left out
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from workbench.errors import ParameterError

__all__ = [
    "EFFECT_COLUMNS",
    "DIFF_CI_METHODS",
    "RATIO_CI_METHODS",
    "SRM_THRESHOLD",
    "proportion_effect",
    "mean_effect",
    "srm_check",
    "srm_test",
    "cuped_effect",
    "regression_adjusted_effect",
    "incremental_outcomes",
]

#: Columns of the frames returned by :func:`proportion_effect` and :func:`mean_effect`.
EFFECT_COLUMNS: tuple[str, ...] = (
    "n_treated", "n_control", "mean_treated", "mean_control",
    "abs_lift", "se", "abs_ci_low", "abs_ci_high",
    "rel_lift", "rel_ci_low", "rel_ci_high",
    "statistic", "p_value", "note",
)
#: Interval methods for the absolute lift of a proportion (vectorised in statsmodels).
DIFF_CI_METHODS: tuple[str, ...] = ("newcomb", "wald", "agresti-caffo")
#: Interval methods for the rate ratio.
RATIO_CI_METHODS: tuple[str, ...] = ("log", "log-adjusted")
#: p-value below which a sample-ratio mismatch is flagged.
SRM_THRESHOLD: float = 0.001
_COV_TYPES: tuple[str, ...] = ("HC0", "HC1", "HC2", "HC3")


# ------------------------------------------------------------------ helpers
def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ParameterError.invalid("alpha", "a number strictly between 0 and 1", alpha)
    return float(alpha)


def _as_float(name: str, value, *, nonneg: bool = True, finite: bool = True) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError.invalid(name, "numbers", value) from None
    if arr.ndim != 1:
        raise ParameterError.invalid(name, "a number or a one-dimensional array", f"shape {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ParameterError(f"The {name!r} parameter must be finite numbers. "
                             f"Got {arr[~np.isfinite(arr)][:5].tolist()}.")
    if nonneg and (arr < 0).any():
        raise ParameterError(
            f"The {name!r} parameter must be non-negative counts. Got negative values {arr[arr < 0][:5].tolist()}."
        )
    return arr


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return [np.array(a) for a in np.broadcast_arrays(*arrays.values())]
    except ValueError:
        shapes = {k: v.shape for k, v in arrays.items()}
        raise ParameterError(f"The parameters must have the same length (or length 1). Got shapes {shapes}.") from None


class _Notes:
    """Accumulates note codes per row."""

    def __init__(self, n: int):
        self._codes: list[list[str]] = [[] for _ in range(n)]

    def add(self, mask: np.ndarray, code: str) -> None:
        for i in np.flatnonzero(mask):
            if code not in self._codes[i]:
                self._codes[i].append(code)

    def result(self) -> list[str]:
        return [";".join(c) for c in self._codes]


@contextmanager
def _quiet():
    """Silence the divide-by-zero warnings of the guarded (NaN-returning) computations."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# ------------------------------------------------------------------ proportions
def proportion_effect(
    count_treated,
    n_treated,
    count_control,
    n_control,
    *,
    alpha: float = 0.05,
    ci_method: str = "newcomb",
    ratio_method: str = "log",
) -> pd.DataFrame:
    """Lift of a binary outcome, treated versus control, with intervals and p-value.

    Parameters
    ----------
    count_treated, n_treated : int or array-like
        Units with the outcome, and all units, in the treated group.
    count_control, n_control : int or array-like
        The same for the control group.  All four broadcast together; each
        element is one comparison.
    alpha : float, default 0.05
        ``1 - alpha`` is the interval's coverage.
    ci_method : {"newcomb", "wald", "agresti-caffo"}, default "newcomb"
        Interval of the absolute lift (see the module notes).
    ratio_method : {"log", "log-adjusted"}, default "log"
        Interval of the rate ratio: ``"log"`` is the log-ratio (Katz) delta
        method; ``"log-adjusted"`` adds 0.5 to the counts and so exists when a
        group has no events.

    Returns
    -------
    pandas.DataFrame
        One row per comparison with the columns of :data:`EFFECT_COLUMNS`:
        ``mean_*`` are the rates, ``abs_*`` the rate difference and its interval,
        ``se`` the unpooled standard error of the difference,
        ``rel_*`` the relative lift ``p_t / p_c - 1`` and its interval,
        ``statistic`` the pooled z and ``p_value`` its two-sided p-value,
        ``note`` codes for what could not be computed.

    Raises
    ------
    ParameterError
        Negative or non-finite counts, a count above its n, an unknown method or
        an ``alpha`` outside (0, 1).

    Examples
    --------
    >>> r = proportion_effect(60, 1000, 40, 1000)
    >>> round(float(r["abs_lift"].iloc[0]), 3), round(float(r["statistic"].iloc[0]), 3)
    (0.02, 2.052)
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    alpha = _check_alpha(alpha)
    if ci_method not in DIFF_CI_METHODS:
        raise ParameterError.invalid("ci_method", f"one of {DIFF_CI_METHODS}", ci_method)
    if ratio_method not in RATIO_CI_METHODS:
        raise ParameterError.invalid("ratio_method", f"one of {RATIO_CI_METHODS}", ratio_method)
    xt, nt, xc, nc = _broadcast(
        count_treated=_as_float("count_treated", count_treated),
        n_treated=_as_float("n_treated", n_treated),
        count_control=_as_float("count_control", count_control),
        n_control=_as_float("n_control", n_control),
    )
    for cname, x, nname, n in (("count_treated", xt, "n_treated", nt), ("count_control", xc, "n_control", nc)):
        if (x > n).any():
            i = int(np.flatnonzero(x > n)[0])
            raise ParameterError(
                f"The {cname!r} parameter must not exceed {nname!r}. Got {cname}={x[i]:g} > {nname}={n[i]:g}."
            )

    k = xt.size
    notes = _Notes(k)
    nan = np.full(k, np.nan)
    abs_lo, abs_hi, rel_lo, rel_hi, z, p = (nan.copy() for _ in range(6))
    empty = (nt == 0) | (nc == 0)
    notes.add(empty, "empty_group")
    ok = ~empty
    with _quiet():
        pt = np.where(nt > 0, xt / nt, np.nan)
        pc = np.where(nc > 0, xc / nc, np.nan)
        diff = pt - pc
        se = np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
        ratio = np.where(pc > 0, pt / pc, np.nan)
        notes.add(ok & (pc == 0), "zero_control")
        if ok.any():
            lo, hi = confint_proportions_2indep(
                xt[ok], nt[ok], xc[ok], nc[ok], method=ci_method, compare="diff", alpha=alpha
            )
            abs_lo[ok], abs_hi[ok] = lo, hi
        # the log-ratio interval needs events in both groups (and is degenerate
        # when every unit of both groups has one)
        if ratio_method == "log":
            ratio_ok = ok & (xt > 0) & (xc > 0) & ~((xt == nt) & (xc == nc))
            notes.add(ok & ~ratio_ok, "zero_count")
        else:
            ratio_ok = ok.copy()
        if ratio_ok.any():
            lo, hi = confint_proportions_2indep(
                xt[ratio_ok], nt[ratio_ok], xc[ratio_ok], nc[ratio_ok],
                method=ratio_method, compare="ratio", alpha=alpha,
            )
            rel_lo[ratio_ok], rel_hi[ratio_ok] = np.asarray(lo) - 1.0, np.asarray(hi) - 1.0
        pooled = (xt + xc) / (nt + nc)
        test_ok = ok & (pooled > 0) & (pooled < 1)
        notes.add(ok & ~test_ok, "no_variation")
        if test_ok.any():
            res = test_proportions_2indep(
                xt[test_ok], nt[test_ok], xc[test_ok], nc[test_ok],
                method="score", correction=False, return_results=True,
            )
            z[test_ok], p[test_ok] = res.statistic, res.pvalue
    return pd.DataFrame({
        "n_treated": nt, "n_control": nc, "mean_treated": pt, "mean_control": pc,
        "abs_lift": diff, "se": se, "abs_ci_low": abs_lo, "abs_ci_high": abs_hi,
        "rel_lift": ratio - 1.0, "rel_ci_low": rel_lo, "rel_ci_high": rel_hi,
        "statistic": z, "p_value": p, "note": notes.result(),
    })


# ------------------------------------------------------------------ means
def mean_effect(
    mean_treated,
    sd_treated,
    n_treated,
    mean_control,
    sd_control,
    n_control,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Difference of means with the Welch interval and p-value, from summary statistics.

    Parameters
    ----------
    mean_treated, sd_treated, n_treated : float or array-like
        Mean, sample standard deviation (``ddof=1``) and size of the treated group.
        An ``sd`` may be NaN where ``n < 2``.
    mean_control, sd_control, n_control : float or array-like
        The same for the control group.  All six broadcast together.
    alpha : float, default 0.05
        ``1 - alpha`` is the interval's coverage.

    Returns
    -------
    pandas.DataFrame
        One row per comparison with the columns of :data:`EFFECT_COLUMNS`;
        ``se`` is ``sqrt(s_t**2/n_t + s_c**2/n_c)``, ``statistic`` Welch's t, ``rel_*`` the relative difference
        ``m_t / m_c - 1`` with its delta-method (normal) interval.

    Raises
    ------
    ParameterError
        Negative sizes or standard deviations, or ``alpha`` outside (0, 1).

    Examples
    --------
    >>> r = mean_effect(7.0, 3.1623, 5, 3.3333, 2.5033, 6)
    >>> round(float(r["statistic"].iloc[0]), 2)
    2.1
    """
    alpha = _check_alpha(alpha)
    mt, st_, nt, mc, sc, nc = _broadcast(
        mean_treated=_as_float("mean_treated", mean_treated, nonneg=False, finite=False),
        sd_treated=_as_float("sd_treated", sd_treated, finite=False),
        n_treated=_as_float("n_treated", n_treated),
        mean_control=_as_float("mean_control", mean_control, nonneg=False, finite=False),
        sd_control=_as_float("sd_control", sd_control, finite=False),
        n_control=_as_float("n_control", n_control),
    )
    k = mt.size
    notes = _Notes(k)
    empty = (nt == 0) | (nc == 0)
    notes.add(empty, "empty_group")
    few = ~empty & ((nt < 2) | (nc < 2))
    notes.add(few, "too_few")
    with _quiet():
        mt = np.where(nt > 0, mt, np.nan)
        mc = np.where(nc > 0, mc, np.nan)
        vt = np.where(nt >= 2, st_**2 / nt, np.nan)
        vc = np.where(nc >= 2, sc**2 / nc, np.nan)
        diff = mt - mc
        se = np.sqrt(vt + vc)
        zero_var = ~empty & ~few & (se == 0)
        notes.add(zero_var, "zero_variance")
        se = np.where(zero_var, np.nan, se)
        df = (vt + vc) ** 2 / (vt**2 / (nt - 1) + vc**2 / (nc - 1))
        tstat = diff / se
        pval = 2 * stats.t.sf(np.abs(tstat), df)
        q = stats.t.ppf(1 - alpha / 2, df)
        lo, hi = diff - q * se, diff + q * se
        notes.add(~empty & (mc == 0), "zero_control")
        rel = np.where(mc != 0, mt / mc - 1.0, np.nan)
        rel_se = np.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
        zq = stats.norm.ppf(1 - alpha / 2)
        rel_lo = np.where(mc != 0, rel - zq * rel_se, np.nan)
        rel_hi = np.where(mc != 0, rel + zq * rel_se, np.nan)
    return pd.DataFrame({
        "n_treated": nt, "n_control": nc, "mean_treated": mt, "mean_control": mc,
        "abs_lift": diff, "se": se, "abs_ci_low": lo, "abs_ci_high": hi,
        "rel_lift": rel, "rel_ci_low": rel_lo, "rel_ci_high": rel_hi,
        "statistic": tstat, "p_value": pval, "note": notes.result(),
    })


# ------------------------------------------------------------------ sample-ratio mismatch
def _check_share(name: str, share) -> np.ndarray:
    arr = _as_float(name, share, nonneg=False)
    if ((arr <= 0) | (arr >= 1)).any():
        raise ParameterError.invalid(name, "a share strictly between 0 and 1", share)
    return arr


def srm_check(
    n_treated,
    n_control,
    planned_control_share,
    *,
    threshold: float = SRM_THRESHOLD,
) -> pd.DataFrame:
    """Sample-ratio mismatch of treated / control counts against the planned control share.

    Chi-square goodness of fit (1 degree of freedom) of ``(n_treated, n_control)``
    against ``n x (1 - share, share)``.

    Parameters
    ----------
    n_treated, n_control : int or array-like
        Observed group sizes; each element one comparison.
    planned_control_share : float or array-like
        The share of the two groups together that was planned for control, in (0, 1).
    threshold : float, default :data:`SRM_THRESHOLD` (0.001)
        ``srm`` is True where ``p_value < threshold``.

    Returns
    -------
    pandas.DataFrame
        ``n_treated, n_control, planned_control_share, observed_control_share,
        expected_control, chi2, p_value, srm, note``.

    Raises
    ------
    ParameterError
        Negative counts, a share outside (0, 1) or a threshold outside (0, 1).

    Examples
    --------
    >>> r = srm_check(480, 520, 0.5)
    >>> round(float(r["chi2"].iloc[0]), 2), bool(r["srm"].iloc[0])
    (1.6, False)
    """
    if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ParameterError.invalid("threshold", "a p-value threshold strictly between 0 and 1", threshold)
    nt, nc, share = _broadcast(
        n_treated=_as_float("n_treated", n_treated),
        n_control=_as_float("n_control", n_control),
        planned_control_share=_check_share("planned_control_share", planned_control_share),
    )
    total = nt + nc
    notes = _Notes(nt.size)
    ok = total > 0
    notes.add(~ok, "empty_group")
    chi2 = np.full(nt.size, np.nan)
    p = np.full(nt.size, np.nan)
    if ok.any():
        obs = np.column_stack([nt[ok], nc[ok]])
        exp = np.column_stack([total[ok] * (1 - share[ok]), total[ok] * share[ok]])
        res = stats.chisquare(obs, exp, axis=1)
        chi2[ok], p[ok] = res.statistic, res.pvalue
    with np.errstate(all="ignore"):
        observed = np.where(ok, nc / total, np.nan)
    return pd.DataFrame({
        "n_treated": nt, "n_control": nc, "planned_control_share": share,
        "observed_control_share": observed, "expected_control": total * share,
        "chi2": chi2, "p_value": p, "srm": ok & (p < threshold), "note": notes.result(),
    })


def srm_test(
    counts: Mapping[object, float] | Sequence[float],
    planned_shares: Mapping[object, float] | Sequence[float],
    *,
    threshold: float = SRM_THRESHOLD,
) -> dict:
    """Sample-ratio mismatch over any number of groups (chi-square goodness of fit).

    Parameters
    ----------
    counts : mapping or sequence
        Observed size of each group (``{arm: n}`` or a list).
    planned_shares : mapping or sequence
        Planned share of each group, same keys / order; must sum to 1.
    threshold : float, default 0.001
        Mismatch flagged where ``p_value < threshold``.

    Returns
    -------
    dict
        ``chi2``, ``dof``, ``p_value``, ``srm`` (bool), ``expected`` (dict or list
        of expected counts).

    Raises
    ------
    ParameterError
        Keys that differ, negative counts, shares outside (0, 1) or not summing to 1.

    Examples
    --------
    >>> srm_test({"a": 480, "b": 520}, {"a": 0.5, "b": 0.5})["p_value"] > 0.2
    True
    """
    if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ParameterError.invalid("threshold", "a p-value threshold strictly between 0 and 1", threshold)
    keys = None
    if isinstance(counts, Mapping):
        if not isinstance(planned_shares, Mapping) or set(counts) != set(planned_shares):
            got = sorted(map(str, planned_shares)) if isinstance(planned_shares, Mapping) else planned_shares
            raise ParameterError.invalid(
                "planned_shares", f"a mapping with the same groups as counts {sorted(map(str, counts))}", got
            )
        keys = list(counts)
        obs = _as_float("counts", [counts[k] for k in keys])
        share = _check_share("planned_shares", [planned_shares[k] for k in keys])
    else:
        obs = _as_float("counts", counts)
        share = _check_share("planned_shares", planned_shares)
        if obs.size != share.size:
            raise ParameterError(
                f"The 'planned_shares' parameter must have one share per count ({obs.size}). Got {share.size}."
            )
    if obs.size < 2:
        raise ParameterError.invalid("counts", "at least two groups", counts)
    if not np.isclose(share.sum(), 1.0, atol=1e-6):
        raise ParameterError.invalid("planned_shares", "shares summing to 1", planned_shares)
    total = obs.sum()
    expected = total * share
    if total == 0:
        chi2, p = np.nan, np.nan
    else:
        res = stats.chisquare(obs, expected)
        chi2, p = float(res.statistic), float(res.pvalue)
    exp_out = dict(zip(keys, expected.tolist())) if keys is not None else expected.tolist()
    return {"chi2": chi2, "dof": obs.size - 1, "p_value": p, "srm": bool(total > 0 and p < threshold),
            "expected": exp_out}


# ------------------------------------------------------------------ covariate adjustment
def _design(y, treated, covariates, name: str):
    y = np.asarray(y, dtype=float).ravel()
    t = np.asarray(treated)
    if t.dtype != bool:
        vals = set(np.unique(t[~pd.isna(t)]).tolist())
        if not vals <= {0, 1}:
            raise ParameterError.invalid("treated", "booleans or 0/1", sorted(vals, key=str)[:5])
        t = t.astype(float) == 1
    t = t.ravel()
    try:
        x = np.asarray(covariates, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError.invalid("covariates", "numeric values", type(covariates).__name__) from None
    if x.ndim == 1:
        x = x[:, None]
    if not (y.size == t.size == x.shape[0]):
        raise ParameterError(
            f"{name}: 'y', 'treated' and 'covariates' must have the same number of rows. "
            f"Got {y.size}, {t.size} and {x.shape[0]}."
        )
    notes: list[str] = []
    keep = np.isfinite(y) & np.isfinite(x).all(axis=1)
    if not keep.all():
        notes.append("dropped_missing")
    y, t, x = y[keep], t[keep], x[keep]
    if x.shape[0]:
        varying = x.std(axis=0) > 0
        if not varying.all():
            notes.append("constant_covariate")
        x = x[:, varying]
    return y, t, x, notes


def _welch_rows(yt: np.ndarray, yc: np.ndarray, alpha: float) -> pd.DataFrame:
    def sd(v):
        return v.std(ddof=1) if v.size >= 2 else np.nan

    def mean(v):
        return v.mean() if v.size else np.nan

    return mean_effect(mean(yt), sd(yt), yt.size, mean(yc), sd(yc), yc.size, alpha=alpha)


def cuped_effect(y, treated, covariates, *, alpha: float = 0.05) -> dict:
    """CUPED estimate of the difference in means, beside the plain estimate.

    The outcome is adjusted with pre-period covariates ``x``:
    ``y_adj = y - (x - mean(x)) @ theta`` where ``theta`` is the least-squares
    slope of ``y`` on ``x`` from the pooled within-group covariance (each group
    centred at its own means; ``sum_g cov_g(x, y) / sum_g var_g(x)`` for one
    covariate).  The difference in adjusted means then equals the ANCOVA
    estimate ``(mean y_t - mean y_c) - theta (mean x_t - mean x_c)``; it is
    (nearly) unbiased when ``x`` is not affected by the treatment (pre-period),
    and its variance is smaller by the share of variance ``x`` explains.

    Parameters
    ----------
    y : array-like of float
        Outcome per unit.
    treated : array-like of bool or 0/1
        Treatment indicator per unit.
    covariates : array-like, shape (n,) or (n, k)
        Pre-period covariates per unit.
    alpha : float, default 0.05
        ``1 - alpha`` is the interval's coverage.

    Returns
    -------
    dict
        ``estimate, se, ci_low, ci_high, p_value`` (adjusted, Welch),
        ``plain_estimate, plain_se, plain_ci_low, plain_ci_high, plain_p_value``,
        ``variance_reduction`` (``1 - se**2 / plain_se**2``), ``theta`` (list),
        ``n_treated, n_control, note``.  Rows with a missing outcome or covariate
        are left out (note ``dropped_missing``).

    Raises
    ------
    ParameterError
        Lengths that differ, a non-binary ``treated`` or non-numeric covariates.
    """
    alpha = _check_alpha(alpha)
    y, t, x, notes = _design(y, treated, covariates, "cuped_effect")
    if x.shape[1] and t.any() and (~t).any() and y.size >= 3:
        # pooled within-group covariance: centre each group at its own means, so the
        # treatment effect does not leak into theta (the plain pooled fit is biased by
        # about -effect / (n - 1) in small samples)
        xw = x.copy()
        yw = y.copy()
        for g in (t, ~t):
            xw[g] -= x[g].mean(axis=0)
            yw[g] -= y[g].mean()
        theta = np.linalg.lstsq(xw, yw, rcond=None)[0]
        y_adj = y - (x - x.mean(axis=0)) @ theta
    else:
        theta = np.zeros(x.shape[1])
        y_adj = y
    rows = pd.concat([_welch_rows(y[t], y[~t], alpha), _welch_rows(y_adj[t], y_adj[~t], alpha)], ignore_index=True)
    plain, adj = rows.iloc[0], rows.iloc[1]
    plain_se, adj_se = float(plain["se"]), float(adj["se"])
    for code in str(adj["note"]).split(";"):
        if code and code not in notes:
            notes.append(code)
    with _quiet():
        reduction = 1 - adj_se**2 / plain_se**2
    return {
        "estimate": float(adj["abs_lift"]), "se": adj_se,
        "ci_low": float(adj["abs_ci_low"]), "ci_high": float(adj["abs_ci_high"]),
        "p_value": float(adj["p_value"]),
        "plain_estimate": float(plain["abs_lift"]), "plain_se": plain_se,
        "plain_ci_low": float(plain["abs_ci_low"]), "plain_ci_high": float(plain["abs_ci_high"]),
        "plain_p_value": float(plain["p_value"]),
        "variance_reduction": float(reduction), "theta": [float(v) for v in theta],
        "n_treated": int(t.sum()), "n_control": int((~t).sum()), "note": ";".join(notes),
    }


def regression_adjusted_effect(y, treated, covariates, *, alpha: float = 0.05, cov_type: str = "HC2") -> dict:
    """Regression-adjusted treatment effect (Lin 2013) with a robust standard error.

    Fits ``y ~ 1 + T + xc + T * xc`` by OLS, ``xc`` the covariates centred at
    their pooled mean, so the coefficient of ``T`` is the average treatment
    effect; its standard error is heteroskedasticity-robust (``cov_type``) and the
    interval and p-value use the normal distribution (statsmodels' default for
    robust covariances).

    Parameters
    ----------
    y : array-like of float
        Outcome per unit.
    treated : array-like of bool or 0/1
        Treatment indicator per unit.
    covariates : array-like, shape (n,) or (n, k)
        Pre-period covariates per unit.
    alpha : float, default 0.05
        ``1 - alpha`` is the interval's coverage.
    cov_type : {"HC0", "HC1", "HC2", "HC3"}, default "HC2"
        Robust covariance (HC2 is what Lin recommends).

    Returns
    -------
    dict
        ``estimate, se, ci_low, ci_high, p_value, n_treated, n_control, note``.

    Raises
    ------
    ParameterError
        Lengths that differ, a non-binary ``treated``, non-numeric covariates or
        an unknown ``cov_type``.
    """
    from statsmodels.regression.linear_model import OLS

    alpha = _check_alpha(alpha)
    if cov_type not in _COV_TYPES:
        raise ParameterError.invalid("cov_type", f"one of {_COV_TYPES}", cov_type)
    y, t, x, notes = _design(y, treated, covariates, "regression_adjusted_effect")
    nt, nc = int(t.sum()), int((~t).sum())
    out = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
           "n_treated": nt, "n_control": nc}
    k = x.shape[1]
    if nt == 0 or nc == 0:
        notes.append("empty_group")
    elif y.size <= 2 + 2 * k or nt < 2 or nc < 2:
        notes.append("too_few")
    else:
        tf = t.astype(float)
        xc = x - x.mean(axis=0)
        design = np.column_stack([np.ones(y.size), tf, xc, xc * tf[:, None]])
        with _quiet():
            fit = OLS(y, design).fit(cov_type=cov_type)
            ci = fit.conf_int(alpha=alpha)
        out.update(estimate=float(fit.params[1]), se=float(fit.bse[1]), ci_low=float(ci[1, 0]),
                   ci_high=float(ci[1, 1]), p_value=float(fit.pvalues[1]))
        if not np.isfinite(out["se"]) or out["se"] == 0:
            notes.append("zero_variance")
    out["note"] = ";".join(notes)
    return out


# ------------------------------------------------------------------ incremental outcomes
def incremental_outcomes(abs_lift, n_treated, abs_ci_low=None, abs_ci_high=None, cost=None) -> pd.DataFrame:
    """Incremental outcomes (``lift x treated n``) and the cost per incremental outcome.

    Parameters
    ----------
    abs_lift : float or array-like
        Absolute lift per treated unit (rate difference or mean difference).
    n_treated : int or array-like
        Treated units.
    abs_ci_low, abs_ci_high : float or array-like, optional
        Interval of the lift; scaled the same way.
    cost : float or array-like, optional
        Total cost of treating the ``n_treated`` units.

    Returns
    -------
    pandas.DataFrame
        ``incremental, incremental_ci_low, incremental_ci_high, cost,
        cost_per_incremental, note``; ``cost_per_incremental`` is NaN (note
        ``no_increment``) where the increment is not positive.

    Raises
    ------
    ParameterError
        Negative ``n_treated`` or ``cost``.

    Examples
    --------
    >>> float(incremental_outcomes(0.02, 1000, cost=500.0)["cost_per_incremental"].iloc[0])
    25.0
    """
    nan = np.nan
    lift, n, lo, hi, c = _broadcast(
        abs_lift=_as_float("abs_lift", abs_lift, nonneg=False, finite=False),
        n_treated=_as_float("n_treated", n_treated),
        abs_ci_low=_as_float("abs_ci_low", nan if abs_ci_low is None else abs_ci_low, nonneg=False, finite=False),
        abs_ci_high=_as_float("abs_ci_high", nan if abs_ci_high is None else abs_ci_high, nonneg=False, finite=False),
        cost=_as_float("cost", nan if cost is None else cost, finite=False),
    )
    inc = lift * n
    notes = _Notes(inc.size)
    has_cost = np.isfinite(c)
    positive = inc > 0
    notes.add(has_cost & ~positive, "no_increment")
    with np.errstate(all="ignore"):
        cpi = np.where(has_cost & positive, c / inc, np.nan)
    return pd.DataFrame({
        "incremental": inc, "incremental_ci_low": lo * n, "incremental_ci_high": hi * n,
        "cost": c, "cost_per_incremental": cpi, "note": notes.result(),
    })
