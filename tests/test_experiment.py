"""Experiment statistics against hand-computed and reference values."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from workbench.errors import ParameterError
from workbench.metrics.experiment import (
    EFFECT_COLUMNS,
    cuped_effect,
    incremental_outcomes,
    mean_effect,
    proportion_effect,
    regression_adjusted_effect,
    srm_check,
    srm_test,
)


# ------------------------------------------------------------------ two proportions
def test_two_proportions_by_hand():
    # treated 60 / 1000 = 0.06, control 40 / 1000 = 0.04, lift d = 0.02
    # pooled p = 100 / 2000 = 0.05
    # z = 0.02 / sqrt(0.05 * 0.95 * (1/1000 + 1/1000)) = 0.02 / 0.0097468 = 2.05196
    # p = 2 * (1 - Phi(2.05196)) = 0.04017
    r = proportion_effect(60, 1000, 40, 1000).iloc[0]
    assert list(proportion_effect(60, 1000, 40, 1000).columns) == list(EFFECT_COLUMNS)
    assert r["mean_treated"] == pytest.approx(0.06)
    assert r["mean_control"] == pytest.approx(0.04)
    assert r["abs_lift"] == pytest.approx(0.02)
    assert r["statistic"] == pytest.approx(2.05196, abs=1e-5)
    assert r["p_value"] == pytest.approx(0.04017, abs=1e-5)
    # unpooled se = sqrt(0.06*0.94/1000 + 0.04*0.96/1000) = sqrt(9.48e-5) = 0.0097365
    assert r["se"] == pytest.approx(0.0097365, abs=1e-7)
    # relative lift 0.06/0.04 - 1 = 0.5; log-ratio se = sqrt(1/60 - 1/1000 + 1/40 - 1/1000) = 0.199165
    # ratio CI = 1.5 * exp(+-1.959964 * 0.199165) = 1.5 * (0.676815, 1.477507) = (1.01522, 2.21626)
    assert r["rel_lift"] == pytest.approx(0.5)
    assert r["rel_ci_low"] == pytest.approx(0.01522, abs=1e-5)
    assert r["rel_ci_high"] == pytest.approx(1.21626, abs=1e-5)
    assert r["note"] == ""


def test_wald_interval_by_hand():
    # d +- 1.959964 * 0.0097365 = 0.02 +- 0.019083 -> (0.000917, 0.039083)
    r = proportion_effect(60, 1000, 40, 1000, ci_method="wald").iloc[0]
    assert r["abs_ci_low"] == pytest.approx(0.000917, abs=1e-6)
    assert r["abs_ci_high"] == pytest.approx(0.039083, abs=1e-6)


def test_newcombe_interval_from_wilson_limits_and_statsmodels():
    # Newcombe (1998) method 10: L = d - sqrt((p1-l1)^2 + (u2-p2)^2), U = d + sqrt((u1-p1)^2 + (p2-l2)^2)
    x1, n1, x2, n2 = 15, 120, 7, 110
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = proportion_confint(x1, n1, method="wilson")
    l2, u2 = proportion_confint(x2, n2, method="wilson")
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    r = proportion_effect(x1, n1, x2, n2).iloc[0]
    assert r["abs_ci_low"] == pytest.approx(low, abs=1e-10)
    assert r["abs_ci_high"] == pytest.approx(high, abs=1e-10)
    ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert (r["abs_ci_low"], r["abs_ci_high"]) == pytest.approx(ref)


def test_vectorised_rows_equal_single_calls():
    many = proportion_effect([60, 15, 3], [1000, 120, 40], [40, 7, 1], [1000, 110, 45])
    assert len(many) == 3
    for i, args in enumerate([(60, 1000, 40, 1000), (15, 120, 7, 110), (3, 40, 1, 45)]):
        one = proportion_effect(*args).iloc[0]
        pd.testing.assert_series_equal(many.iloc[i], one, check_names=False)


def test_zero_counts_give_nan_and_notes_not_errors():
    r = proportion_effect([0, 5, 0, 3], [100, 50, 0, 3], [0, 0, 5, 3], [100, 50, 10, 3])
    # no events at all: the difference interval exists (Newcombe), the test and ratio do not
    assert r.loc[0, "abs_lift"] == 0
    assert r.loc[0, "abs_ci_low"] < 0 < r.loc[0, "abs_ci_high"]
    assert np.isnan(r.loc[0, "p_value"]) and np.isnan(r.loc[0, "rel_lift"])
    assert set(r.loc[0, "note"].split(";")) == {"zero_control", "zero_count", "no_variation"}
    # events only among the treated: p-value exists, the relative lift does not
    assert r.loc[1, "p_value"] < 0.05
    assert np.isnan(r.loc[1, "rel_ci_low"]) and "zero_control" in r.loc[1, "note"]
    # an empty treated group
    assert r.loc[2, "note"] == "empty_group" and np.isnan(r.loc[2, "abs_lift"])
    # everyone converts in both groups: nothing to test, no degenerate ratio interval
    assert np.isnan(r.loc[3, "p_value"]) and np.isnan(r.loc[3, "rel_ci_low"])


def test_log_adjusted_ratio_exists_with_zero_events():
    r = proportion_effect(5, 50, 0, 50, ratio_method="log-adjusted").iloc[0]
    assert np.isfinite(r["rel_ci_low"]) and np.isfinite(r["rel_ci_high"])


def test_proportion_impossible_inputs_raise():
    with pytest.raises(ParameterError, match="'count_treated' parameter must be non-negative counts"):
        proportion_effect(-1, 10, 1, 10)
    with pytest.raises(ParameterError, match="'count_control' parameter must not exceed 'n_control'"):
        proportion_effect(1, 10, 11, 10)
    with pytest.raises(ParameterError, match="'n_treated' parameter must be finite"):
        proportion_effect(1, np.nan, 1, 10)
    with pytest.raises(ParameterError, match="'alpha' parameter must be a number strictly between 0 and 1"):
        proportion_effect(1, 10, 1, 10, alpha=1.5)
    with pytest.raises(ParameterError, match="'ci_method' parameter must be one of .* Got 'exact'"):
        proportion_effect(1, 10, 1, 10, ci_method="exact")
    with pytest.raises(ParameterError, match="'ratio_method' parameter must be one of"):
        proportion_effect(1, 10, 1, 10, ratio_method="score")
    with pytest.raises(ParameterError, match="same length"):
        proportion_effect([1, 2], [10, 10, 10], 1, 10)


# ------------------------------------------------------------------ means
def test_welch_matches_scipy():
    a = np.array([3.0, 5, 7, 9, 11, 4.5])
    b = np.array([1.0, 2, 2, 3, 4, 8, 2.5, 3])
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    r = mean_effect(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size).iloc[0]
    assert r["abs_lift"] == pytest.approx(a.mean() - b.mean())
    assert r["statistic"] == pytest.approx(ref.statistic)
    assert r["p_value"] == pytest.approx(ref.pvalue)
    assert (r["abs_ci_low"], r["abs_ci_high"]) == pytest.approx((ci.low, ci.high))


def test_relative_difference_delta_method_by_hand():
    # m_t = 12, s_t = 4, n_t = 100 -> v_t = 0.16 ; m_c = 10, s_c = 5, n_c = 100 -> v_c = 0.25
    # r = 0.2 ; se = sqrt(0.16/100 + 144*0.25/10000) = sqrt(0.0016 + 0.0036) = 0.0721110
    r = mean_effect(12, 4, 100, 10, 5, 100).iloc[0]
    assert r["rel_lift"] == pytest.approx(0.2)
    assert r["rel_ci_low"] == pytest.approx(0.2 - 1.959964 * 0.0721110, abs=1e-6)
    assert r["rel_ci_high"] == pytest.approx(0.2 + 1.959964 * 0.0721110, abs=1e-6)


def test_mean_edge_cases():
    r = mean_effect([5, 1, 2, 3], [1, np.nan, 0, 1], [10, 1, 4, 0], [4, 2, 2, 0], [1, 1, 0, 1], [10, 5, 4, 5])
    assert r.loc[1, "note"] == "too_few" and np.isnan(r.loc[1, "p_value"])
    assert r.loc[2, "note"] == "zero_variance" and np.isnan(r.loc[2, "statistic"])
    assert r.loc[3, "note"] == "empty_group" and np.isnan(r.loc[3, "abs_lift"])
    with pytest.raises(ParameterError, match="'sd_control' parameter must be non-negative"):
        mean_effect(1, 1, 10, 1, -1, 10)


# ------------------------------------------------------------------ SRM
def test_srm_known_cases():
    # 480 vs 520 with a planned 50/50: chi2 = 2 * 20^2 / 500 = 1.6, p = 0.2059 -> no mismatch
    # 10000 vs 11000: chi2 = 2 * 500^2 / 10500 = 47.619 -> mismatch
    r = srm_check([480, 10000], [520, 11000], 0.5)
    assert r["chi2"].tolist() == pytest.approx([1.6, 47.619048], abs=1e-6)
    assert r.loc[0, "p_value"] == pytest.approx(0.205903, abs=1e-6)
    assert r["srm"].tolist() == [False, True]
    # 10 % hold-out planned, 85 / 15 observed among 1000:
    # chi2 = (850-900)^2/900 + (150-100)^2/100 = 2.778 + 25 = 27.78
    r = srm_check(850, 150, 0.1).iloc[0]
    assert r["chi2"] == pytest.approx(27.7778, abs=1e-4)
    assert bool(r["srm"])


def test_srm_multi_arm():
    res = srm_test({"a": 480, "b": 520, "c": 500}, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    # chi2 = (20^2 + 20^2 + 0) / 500 = 1.6 on 2 df -> p = exp(-0.8) = 0.4493
    assert res["chi2"] == pytest.approx(1.6)
    assert res["dof"] == 2
    assert res["p_value"] == pytest.approx(np.exp(-0.8))
    assert res["srm"] is False
    assert res["expected"] == pytest.approx({"a": 500, "b": 500, "c": 500})


def test_srm_errors():
    with pytest.raises(ParameterError, match="'planned_control_share' parameter must be a share strictly between"):
        srm_check(10, 10, 1.0)
    with pytest.raises(ParameterError, match="'n_control' parameter must be non-negative"):
        srm_check(10, -1, 0.5)
    with pytest.raises(ParameterError, match="shares summing to 1"):
        srm_test([10, 10], [0.5, 0.6])
    with pytest.raises(ParameterError, match="same groups as counts"):
        srm_test({"a": 1, "b": 2}, {"a": 0.5, "c": 0.5})
    with pytest.raises(ParameterError, match="'threshold' parameter"):
        srm_check(10, 10, 0.5, threshold=0)


# ------------------------------------------------------------------ CUPED and regression adjustment
def _balanced_experiment():
    # the same covariate values in both arms; y = 2x + 0.5 T + e with e summing to 0 within each arm
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    e = np.array([0.3, -0.2, 0.1, -0.4, 0.2, 0.3, -0.1, -0.2])
    xs = np.r_[x, x]
    es = np.r_[e, -e[::-1]]
    t = np.r_[np.ones(8, bool), np.zeros(8, bool)]
    return 2 * xs + 0.5 * t + es, t, xs


def test_cuped_unbiased_and_tighter_on_a_balanced_design():
    y, t, x = _balanced_experiment()
    r = cuped_effect(y, t, x)
    assert r["plain_estimate"] == pytest.approx(0.5)
    assert r["estimate"] == pytest.approx(0.5)
    assert r["se"] < r["plain_se"] / 5
    assert r["variance_reduction"] > 0.95
    # theta = pooled within-arm covariance / pooled within-arm variance
    cov = sum(np.cov(x[g], y[g])[0, 1] for g in (t, ~t))
    var = sum(np.var(x[g], ddof=1) for g in (t, ~t))
    assert r["theta"][0] == pytest.approx(cov / var)
    assert r["ci_low"] < 0.5 < r["ci_high"]


def test_cuped_over_every_randomisation_reduces_the_true_variance():
    # a fixed population of 10 with potential outcomes y0 = 3x + noise, y1 = y0 + 1;
    # enumerate all 252 ways to treat 5 of them (no random numbers)
    x = np.arange(10, dtype=float)
    y0 = 3 * x + np.array([0.5, -0.3, 0.2, 0.0, -0.6, 0.4, 0.1, -0.2, 0.3, -0.4])
    plain, cuped = [], []
    for treated in combinations(range(10), 5):
        t = np.zeros(10, bool)
        t[list(treated)] = True
        r = cuped_effect(np.where(t, y0 + 1, y0), t, x)
        plain.append(r["plain_estimate"])
        cuped.append(r["estimate"])
    assert np.mean(plain) == pytest.approx(1.0)  # difference in means: exactly unbiased
    # CUPED (within-arm theta = ANCOVA): with 5/5 arms every assignment has its mirror image
    # (the complement) whose error is the negative, so the average is exactly the effect
    assert np.mean(cuped) == pytest.approx(1.0)
    assert np.var(cuped) < np.var(plain) / 20


def test_regression_adjustment_recovers_effect_under_imbalance():
    # y = 4 + 1.5 x + 2 T exactly, covariate imbalanced between the arms:
    # the plain difference is biased by 1.5 * (mean x_t - mean x_c) = 1.5 * 2 = 3, Lin's estimate is exact
    x = np.array([3.0, 4, 5, 6, 7, 1, 2, 3, 4, 5])
    t = np.r_[np.ones(5, bool), np.zeros(5, bool)]
    y = 4 + 1.5 * x + 2 * t
    r = regression_adjusted_effect(y, t, x)
    assert r["estimate"] == pytest.approx(2.0)
    c = cuped_effect(y, t, x)
    assert c["plain_estimate"] == pytest.approx(5.0)


def test_regression_adjustment_equals_post_stratification_with_a_binary_covariate():
    # with one binary covariate, Lin's interacted regression is the post-stratified estimator
    # sum_s n_s / n * (mean_t,s - mean_c,s)
    x = np.array([0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0], dtype=float)
    t = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    y = np.array([3.0, 4, 2, 9, 7, 1, 2, 6, 5, 7, 6, 2])
    strata = [(x == s) for s in (0, 1)]
    expected = sum(m.mean() * (y[m & t].mean() - y[m & ~t].mean()) for m in strata)
    r = regression_adjusted_effect(y, t, x)
    assert r["estimate"] == pytest.approx(expected)


def test_regression_adjustment_hc2_standard_error_by_sandwich():
    x = np.array([1.0, 3, 2, 5, 4, 2, 6, 1, 3, 5, 4, 2])
    t = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0], dtype=bool)
    y = np.array([2.0, 3.5, 3.1, 5.2, 5.9, 2.2, 7.4, 1.1, 4.8, 4.9, 5.5, 1.7])
    xc = x - x.mean()
    X = np.column_stack([np.ones(12), t, xc, xc * t])
    bread = np.linalg.inv(X.T @ X)
    resid = y - X @ (bread @ X.T @ y)
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    meat = X.T @ (X * (resid**2 / (1 - h))[:, None])
    se = np.sqrt((bread @ meat @ bread)[1, 1])
    r = regression_adjusted_effect(y, t, x)
    assert r["se"] == pytest.approx(se)
    assert regression_adjusted_effect(y, t, x, cov_type="HC0")["se"] != pytest.approx(se)


def test_adjustment_edge_cases_and_errors():
    y = np.array([1.0, 2, np.nan, 4, 5, 6])
    t = np.array([1, 1, 1, 0, 0, 0])
    x = np.array([1.0, 1, 1, 1, 1, 1])
    r = cuped_effect(y, t, x)
    assert "dropped_missing" in r["note"] and "constant_covariate" in r["note"]
    assert r["estimate"] == pytest.approx(r["plain_estimate"])
    r = regression_adjusted_effect(y[:3], np.array([1, 1, 1]), x[:3])
    assert np.isnan(r["estimate"]) and "empty_group" in r["note"]
    with pytest.raises(ParameterError, match="'treated' parameter must be booleans or 0/1"):
        cuped_effect(y, np.array([0, 1, 2, 0, 1, 2]), x)
    with pytest.raises(ParameterError, match="same number of rows"):
        regression_adjusted_effect(y, t, x[:4])
    with pytest.raises(ParameterError, match="'cov_type' parameter must be one of"):
        regression_adjusted_effect(y, t, x, cov_type="HC9")


# ------------------------------------------------------------------ incremental outcomes
def test_incremental_outcomes_and_cost():
    # lift 0.02 on 1000 treated = 20 incremental orders; 500 yuan / 20 = 25 yuan each
    r = incremental_outcomes([0.02, -0.01], [1000, 1000], [0.001, -0.03], [0.039, 0.01], cost=[500.0, 500.0])
    assert r["incremental"].tolist() == pytest.approx([20.0, -10.0])
    assert r["incremental_ci_low"].tolist() == pytest.approx([1.0, -30.0])
    assert r.loc[0, "cost_per_incremental"] == pytest.approx(25.0)
    assert np.isnan(r.loc[1, "cost_per_incremental"]) and r.loc[1, "note"] == "no_increment"
    assert np.isnan(incremental_outcomes(0.02, 1000)["cost_per_incremental"].iloc[0])
    with pytest.raises(ParameterError, match="'cost' parameter must be non-negative"):
        incremental_outcomes(0.02, 1000, cost=-5)
