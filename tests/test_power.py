"""Power of the control group, checked against statsmodels' NormalIndPower and proportion_effectsize."""
import math

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from workbench.campaign import (
    DetectableLift, PowerCheck, check_control_power, minimum_detectable_lift, required_control_size,
)
from workbench.errors import ParameterError

DESIGNS = [
    # n_treated, n_control, baseline, alpha, power, alternative
    (45_000, 5_000, 0.02, 0.05, 0.8, "two-sided"),
    (9_000, 1_000, 0.036, 0.05, 0.9, "two-sided"),
    (200_000, 2_000, 0.005, 0.01, 0.8, "larger"),
    (1_000, 1_000, 0.3, 0.1, 0.5, "two-sided"),
    (500, 50, 0.0, 0.05, 0.8, "larger"),
]


@pytest.mark.parametrize("n1, n2, p0, alpha, power, alternative", DESIGNS)
def test_minimum_detectable_lift_matches_statsmodels(n1, n2, p0, alpha, power, alternative):
    mde = minimum_detectable_lift(n1, n2, p0, alpha=alpha, power=power, alternative=alternative)
    assert isinstance(mde, DetectableLift)
    es = NormalIndPower().solve_power(effect_size=None, nobs1=n1, ratio=n2 / n1, alpha=alpha, power=power,
                                      alternative=alternative)
    assert mde.effect_size == pytest.approx(es, rel=1e-4)
    # the detected lift has exactly that effect size, and that power
    p1 = p0 + mde.absolute
    assert proportion_effectsize(p1, p0) == pytest.approx(mde.effect_size, rel=1e-9)
    achieved = NormalIndPower().power(effect_size=proportion_effectsize(p1, p0), nobs1=n1, ratio=n2 / n1,
                                      alpha=alpha, alternative=alternative)
    assert achieved == pytest.approx(power, abs=1e-6)
    if p0 > 0:
        assert mde.relative == pytest.approx(mde.absolute / p0)
    else:
        assert math.isnan(mde.relative)


def test_mde_shrinks_with_larger_control_and_grows_with_power():
    small = minimum_detectable_lift(45_000, 1_000, 0.02)
    large = minimum_detectable_lift(45_000, 10_000, 0.02)
    assert large.absolute < small.absolute
    assert minimum_detectable_lift(45_000, 1_000, 0.02, power=0.95).absolute > small.absolute


def test_undetectable_lift_is_nan():
    mde = minimum_detectable_lift(2, 2, 0.9)
    assert math.isnan(mde.absolute) and math.isnan(mde.relative)


@pytest.mark.parametrize("lift, relative", [(0.005, False), (0.25, True), (0.002, False)])
def test_required_control_size_is_the_smallest_that_reaches_power(lift, relative):
    n1, p0 = 45_000, 0.02
    n2 = required_control_size(n1, p0, lift, relative=relative)
    p1 = p0 * (1 + lift) if relative else p0 + lift
    es = proportion_effectsize(p1, p0)
    assert NormalIndPower().power(effect_size=es, nobs1=n1, ratio=n2 / n1, alpha=0.05) >= 0.8
    assert NormalIndPower().power(effect_size=es, nobs1=n1, ratio=(n2 - 1) / n1, alpha=0.05) < 0.8
    # and consistent with the minimum detectable lift
    assert minimum_detectable_lift(n1, n2, p0).absolute <= p1 - p0 + 1e-12
    assert minimum_detectable_lift(n1, n2 - 1, p0).absolute > p1 - p0


def test_required_control_size_errors():
    with pytest.raises(ParameterError, match="'lift' parameter cannot be detected with n_treated=100: even an "
                                             "unlimited control group needs at least \\d+ treated users"):
        required_control_size(100, 0.02, 0.001)
    with pytest.raises(ParameterError, match="'lift' parameter must be a number > 0. Got 0"):
        required_control_size(100, 0.02, 0)
    with pytest.raises(ParameterError, match="'lift' parameter must be a lift that keeps the response rate <= 1"):
        required_control_size(100, 0.5, 0.6)
    with pytest.raises(ParameterError, match="'baseline_rate' parameter must be a rate > 0 for a relative lift"):
        required_control_size(100, 0.0, 0.5, relative=True)


def test_check_control_power_warns_when_control_too_small():
    check = check_control_power(49_000, 1_000, 0.02, goal_orders=200, lang="en")
    assert isinstance(check, PowerCheck)
    assert not check.ok
    assert check.expected_absolute == pytest.approx(200 / 49_000)
    assert check.expected_relative == pytest.approx(200 / 49_000 / 0.02)
    assert check.required_control == required_control_size(49_000, 0.02, 200 / 49_000)
    assert check.required_control > 1_000
    assert "too small" in check.message and f"{check.required_control}" in check.message
    assert "对照组太小" in check_control_power(49_000, 1_000, 0.02, goal_orders=200, lang="zh").message


def test_check_control_power_ok_and_expected_lift_forms():
    ok = check_control_power(40_000, 10_000, 0.02, expected_lift=0.5, relative=True)
    assert ok.ok and ok.message is None
    assert ok.expected_absolute == pytest.approx(0.01)
    same = check_control_power(40_000, 10_000, 0.02, expected_lift=0.01)
    assert same.expected_relative == pytest.approx(0.5)


def test_check_control_power_when_no_control_can_measure():
    check = check_control_power(100, 100, 0.02, goal_orders=1, lang="en")
    assert not check.ok and check.required_control is None
    assert "no control group can measure it" in check.message


@pytest.mark.parametrize("kwargs, message", [
    ({"n_treated": 0, "n_control": 10, "baseline_rate": 0.1}, "'n_treated' parameter must be an integer >= 1. Got 0"),
    ({"n_treated": 10, "n_control": 2.5, "baseline_rate": 0.1}, "'n_control' parameter must be an integer >= 1"),
    ({"n_treated": 10, "n_control": 10, "baseline_rate": 1.0},
     "'baseline_rate' parameter must be a number in \\[0, 1\\)"),
    ({"n_treated": 10, "n_control": 10, "baseline_rate": 0.1, "alpha": 0},
     "'alpha' parameter must be a number in \\(0, 1\\)"),
    ({"n_treated": 10, "n_control": 10, "baseline_rate": 0.1, "power": 1.0},
     "'power' parameter must be a number in \\(0, 1\\)"),
    ({"n_treated": 10, "n_control": 10, "baseline_rate": 0.1, "alternative": "smaller"},
     "'alternative' parameter must be one of \\['two-sided', 'larger'\\]. Got 'smaller'"),
])
def test_invalid_design_parameters_are_named(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        minimum_detectable_lift(**kwargs)


def test_check_control_power_needs_exactly_one_expectation():
    with pytest.raises(ParameterError, match="'goal_orders / expected_lift' parameter must be exactly one of the two"):
        check_control_power(100, 100, 0.02)
    with pytest.raises(ParameterError, match="'goal_orders / expected_lift' parameter must be exactly one of the two"):
        check_control_power(100, 100, 0.02, goal_orders=5, expected_lift=0.1)
    with pytest.raises(ParameterError, match="'goal_orders' parameter must be a number > 0"):
        check_control_power(100, 100, 0.02, goal_orders=-5)
