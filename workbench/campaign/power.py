"""Power of a campaign's control group: what lift it can detect, and how big it must be.

The campaign's effect is measured with a two-proportion z-test of the
response rate of the target group against the control group.  The power
calculation uses Cohen's effect size for proportions,
``h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0))`` (the arcsine transformation
stabilises the variance, so ``h`` has variance ``1/n_t + 1/n_c``), exactly as
:class:`statsmodels.stats.power.NormalIndPower` with
:func:`statsmodels.stats.proportion.proportion_effectsize` does; the tests
check the numbers against statsmodels.

:func:`minimum_detectable_lift`
    The smallest true lift the test detects with the given power:
    solve ``power(h) = power`` for ``h``, then ``p1 = sin(asin(sqrt(p0)) + h/2)^2``.
:func:`required_control_size`
    The smallest control group that detects a target lift.
:func:`check_control_power`
    Compares the detectable lift with the lift the campaign goal implies
    (goal orders / treated users) and returns a :class:`PowerCheck` carrying
    a warning message when the control is too small to measure the goal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats

from workbench.checks import check_int
from workbench.errors import ParameterError
from workbench.i18n import t

__all__ = [
    "ALTERNATIVES",
    "DetectableLift",
    "PowerCheck",
    "minimum_detectable_lift",
    "required_control_size",
    "check_control_power",
]

#: Alternatives of the test: "two-sided" (any difference) or "larger" (target above control).
ALTERNATIVES: tuple[str, ...] = ("two-sided", "larger")


@dataclass(frozen=True)
class DetectableLift:
    """The minimum detectable lift of a design.

    Attributes
    ----------
    absolute : float
        Detectable difference of response rates ``p1 - p0`` (NaN when no rate
        up to 1 is detectable).
    relative : float
        ``absolute / p0`` (NaN when ``p0`` is 0).
    effect_size : float
        Cohen's ``h`` that is detected with the requested power.
    """

    n_treated: int
    n_control: int
    baseline_rate: float
    alpha: float
    power: float
    alternative: str
    effect_size: float
    absolute: float
    relative: float


@dataclass(frozen=True)
class PowerCheck:
    """Can the control group measure the campaign goal?

    Attributes
    ----------
    ok : bool
        True when the detectable lift is at most the expected lift.
    detectable : DetectableLift
    expected_absolute, expected_relative : float
        The lift the goal implies.
    required_control : int or None
        Smallest control group detecting the expected lift (None when no
        control size can, because the treated group is too small).
    message : str or None
        A warning for the planner when not ``ok`` (from the label catalogue).
    """

    ok: bool
    detectable: DetectableLift
    expected_absolute: float
    expected_relative: float
    required_control: int | None
    message: str | None


# ------------------------------------------------------------------ checks
def _prob(name: str, value, *, open_lo: bool = True, open_hi: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError.invalid(name, "a number in (0, 1)", value)
    if (value < 0 or value > 1) or (open_lo and value == 0) or (open_hi and value == 1):
        lo, hi = "(" if open_lo else "[", ")" if open_hi else "]"
        raise ParameterError.invalid(name, f"a number in {lo}0, 1{hi}", value)
    return float(value)


def _alternative(value: str) -> str:
    if value not in ALTERNATIVES:
        raise ParameterError.invalid("alternative", f"one of {list(ALTERNATIVES)}", value)
    return value


def _power(h: float, n1: float, n2: float, alpha: float, alternative: str) -> float:
    """Power of the z-test for effect size ``h`` (as statsmodels' ``normal_power``)."""
    shift = h * math.sqrt(1.0 / (1.0 / n1 + 1.0 / n2))
    if alternative == "two-sided":
        crit = stats.norm.isf(alpha / 2)
        return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))
    return float(stats.norm.sf(stats.norm.isf(alpha) - shift))


def _effect_size(n1: int, n2: int, alpha: float, power: float, alternative: str) -> float:
    """Cohen's ``h`` detected with ``power``: the root of ``_power(h) = power``."""
    a = alpha / 2 if alternative == "two-sided" else alpha
    guess = (stats.norm.isf(a) + stats.norm.ppf(power)) * math.sqrt(1.0 / n1 + 1.0 / n2)
    if alternative == "larger":
        return float(guess)  # exact: a single tail
    lo, hi = max(guess * 0.5, 1e-12), guess * 1.5 + 1e-9
    return float(optimize.brentq(lambda h: _power(h, n1, n2, alpha, alternative) - power, lo, hi, xtol=1e-14))


def _h(p1: float, p0: float) -> float:
    return 2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p0))


# ------------------------------------------------------------------- public
def minimum_detectable_lift(n_treated: int, n_control: int, baseline_rate: float, *, alpha: float = 0.05,
                            power: float = 0.8, alternative: str = "two-sided") -> DetectableLift:
    """Minimum detectable lift of a target-vs-control comparison of response rates.

    Parameters
    ----------
    n_treated, n_control : int
        Sizes of the contacted (target) group and of the control group.
    baseline_rate : float
        Expected response rate without contact (the control's rate), in [0, 1).
    alpha : float
        Significance level, in (0, 1).
    power : float
        Probability to detect the lift, in (0, 1).
    alternative : {"two-sided", "larger"}

    Returns
    -------
    DetectableLift

    Examples
    --------
    >>> mde = minimum_detectable_lift(45000, 5000, 0.02)
    >>> round(mde.absolute, 4), round(mde.relative, 2)
    (0.0063, 0.31)
    """
    n1, n2 = check_int("n_treated", n_treated, 1), check_int("n_control", n_control, 1)
    p0 = _prob("baseline_rate", baseline_rate, open_lo=False)
    alpha, power = _prob("alpha", alpha), _prob("power", power)
    alternative = _alternative(alternative)
    h = _effect_size(n1, n2, alpha, power, alternative)
    angle = math.asin(math.sqrt(p0)) + h / 2.0
    absolute = math.sin(angle) ** 2 - p0 if angle <= math.pi / 2 else float("nan")
    relative = absolute / p0 if p0 > 0 else float("nan")
    return DetectableLift(n1, n2, p0, alpha, power, alternative, h, absolute, relative)


def required_control_size(n_treated: int, baseline_rate: float, lift: float, *, relative: bool = False,
                          alpha: float = 0.05, power: float = 0.8, alternative: str = "two-sided") -> int:
    """The smallest control group that detects ``lift`` with the requested power.

    Parameters
    ----------
    n_treated : int
        Size of the contacted group.
    baseline_rate : float
        Expected response rate without contact, in [0, 1).
    lift : float
        Lift to detect: absolute (``p1 - p0``), or relative (``p1 / p0 - 1``)
        with ``relative=True``.  Must be > 0 and keep ``p1 <= 1``.
    alpha, power, alternative
        As :func:`minimum_detectable_lift`.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        A lift that is not positive or gives a rate above 1, or a treated group
        so small that no control group can detect the lift (the message gives
        the smallest treated group that could).

    Examples
    --------
    >>> required_control_size(45000, 0.02, 0.25, relative=True)
    8128
    """
    n1 = check_int("n_treated", n_treated, 1)
    p0 = _prob("baseline_rate", baseline_rate, open_lo=False)
    alpha, power = _prob("alpha", alpha), _prob("power", power)
    alternative = _alternative(alternative)
    if isinstance(lift, bool) or not isinstance(lift, (int, float)) or not math.isfinite(lift) or lift <= 0:
        raise ParameterError.invalid("lift", "a number > 0", lift)
    if relative and p0 == 0:
        raise ParameterError.invalid("baseline_rate", "a rate > 0 for a relative lift", p0)
    p1 = p0 * (1.0 + lift) if relative else p0 + lift
    if p1 > 1:
        raise ParameterError.invalid("lift", f"a lift that keeps the response rate <= 1 (baseline {p0})", lift)
    h = _h(p1, p0)
    a = alpha / 2 if alternative == "two-sided" else alpha
    z = stats.norm.isf(a) + stats.norm.ppf(power)
    slack = (h / z) ** 2 - 1.0 / n1
    if slack <= 0:
        min_treated = math.ceil((z / h) ** 2) + 1
        raise ParameterError(
            f"The 'lift' parameter cannot be detected with n_treated={n1}: even an unlimited control group "
            f"needs at least {min_treated} treated users for a lift of {lift!r}"
            f"{' (relative)' if relative else ''} at baseline {p0}. Got n_treated={n1}."
        )
    n2 = max(1, math.ceil(1.0 / slack))
    while _power(h, n1, n2, alpha, alternative) < power:
        n2 += 1
    while n2 > 1 and _power(h, n1, n2 - 1, alpha, alternative) >= power:
        n2 -= 1
    return n2


def check_control_power(n_treated: int, n_control: int, baseline_rate: float, *,
                        goal_orders: float | None = None, expected_lift: float | None = None,
                        relative: bool = False, alpha: float = 0.05, power: float = 0.8,
                        alternative: str = "two-sided", lang: str | None = None) -> PowerCheck:
    """Is the control group big enough to measure the campaign goal?

    Give the expected effect either as ``goal_orders`` - the incremental
    orders (e.g. stable subscribers) the goal asks for, so the expected
    absolute lift is ``goal_orders / n_treated`` - or as ``expected_lift``
    (absolute, or relative with ``relative=True``).

    Returns
    -------
    PowerCheck
        ``ok`` False and a ``message`` when the detectable lift exceeds the
        expected lift.

    Raises
    ------
    ParameterError
        Neither or both of ``goal_orders`` and ``expected_lift``; invalid sizes or rates.

    Examples
    --------
    >>> check = check_control_power(49000, 1000, 0.02, goal_orders=200, lang="en")
    >>> check.ok, check.required_control
    (False, 12776)
    """
    if (goal_orders is None) == (expected_lift is None):
        raise ParameterError.invalid("goal_orders / expected_lift", "exactly one of the two",
                                     {"goal_orders": goal_orders, "expected_lift": expected_lift})
    mde = minimum_detectable_lift(n_treated, n_control, baseline_rate, alpha=alpha, power=power,
                                  alternative=alternative)
    p0 = mde.baseline_rate
    if goal_orders is not None:
        if isinstance(goal_orders, bool) or not isinstance(goal_orders, (int, float)) or goal_orders <= 0:
            raise ParameterError.invalid("goal_orders", "a number > 0", goal_orders)
        expected_abs = goal_orders / mde.n_treated
    else:
        if isinstance(expected_lift, bool) or not isinstance(expected_lift, (int, float)) or expected_lift <= 0:
            raise ParameterError.invalid("expected_lift", "a number > 0", expected_lift)
        expected_abs = p0 * expected_lift if relative else float(expected_lift)
    expected_rel = expected_abs / p0 if p0 > 0 else float("nan")
    ok = bool(math.isfinite(mde.absolute) and mde.absolute <= expected_abs)
    try:
        required = required_control_size(mde.n_treated, p0, expected_abs, alpha=alpha, power=power,
                                         alternative=alternative)
    except ParameterError:
        required = None
    message = None
    if not ok:
        if required is None:
            message = t("campaign.power.unmeasurable", lang=lang, mde=_pct(mde.absolute),
                        expected=_pct(expected_abs), n_treated=mde.n_treated)
        else:
            message = t("campaign.power.too_small", lang=lang, mde=_pct(mde.absolute),
                        expected=_pct(expected_abs), n_control=mde.n_control, required=required)
    return PowerCheck(ok, mde, expected_abs, expected_rel, required, message)


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:.2f}%"
