"""Explanations: SHAP contributions, global importance, reason codes in words, readable rules."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.models import (
    Condition, Rule, RulesBaseline, TargetModel, contributions, global_importance, learn_rules, reason_codes,
    reason_distribution, rules_table,
)

LABELS = {"gprs_mb": "GPRS traffic", "brand": "Brand"}
LABELS_ZH = {"gprs_mb": "GPRS流量", "brand": "品牌"}


def _table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    brand = rng.choice(np.array(["gotone", "mzone", "easyown"]), n).astype(object)
    gprs = rng.gamma(2.0, 50.0, n)
    logit = -3 + 1.6 * (brand == "mzone") + 0.02 * gprs
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    brand[rng.random(n) < 0.05] = None
    gprs[rng.random(n) < 0.08] = np.nan
    X = pd.DataFrame({"brand": pd.array(brand, dtype="str"), "gprs_mb": gprs, "noise": rng.normal(size=n)})
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _table(2000, seed=11)
    return TargetModel(n_jobs=1).fit(X, y), X, y


def test_contributions_sum_to_the_log_odds(fitted):
    model, X, _ = fitted
    shap = contributions(model, X.head(300), chunk_size=64)
    assert list(shap.columns) == ["brand", "gprs_mb", "noise", "bias"]
    np.testing.assert_allclose(shap.sum(axis=1), model.decision_function(X.head(300)), atol=1e-9)


def test_global_importance_ranks_signal_above_noise(fitted):
    model, X, _ = fitted
    imp = global_importance(model, X)
    assert list(imp.columns) == ["feature", "gain", "gain_share", "splits", "mean_abs_shap"]
    assert imp["gain_share"].sum() == pytest.approx(1.0)
    assert imp["feature"].iloc[-1] == "noise"
    assert imp["mean_abs_shap"].is_monotonic_decreasing
    by_gain = global_importance(model)
    assert "mean_abs_shap" not in by_gain and by_gain["gain"].is_monotonic_decreasing


def test_reasons_are_the_largest_positive_contributions(fitted):
    model, X, _ = fitted
    shap = contributions(model, X)
    reasons = reason_codes(model, X, shap=shap, lang="en")
    C = shap[["brand", "gprs_mb", "noise"]]
    for i in range(0, len(X), 97):
        row = C.iloc[i]
        positive = row[row > 0].sort_values(ascending=False)
        for slot in range(3):
            feature = reasons[f"reason_{slot + 1}_feature"].iloc[i]
            if slot < len(positive):
                assert feature == positive.index[slot]
            else:
                assert pd.isna(feature) and pd.isna(reasons[f"reason_{slot + 1}"].iloc[i])


@pytest.fixture(scope="module")
def hundred():
    """101 rows: gprs 1..100 and one missing, a model fitted on them, and a SHAP matrix made by hand
    (gprs always the first reason, brand the second, noise never)."""
    rng = np.random.default_rng(0)
    gprs = np.r_[np.arange(1, 101, dtype=float), np.nan]
    X = pd.DataFrame({"brand": pd.array(np.where(np.arange(101) % 2, "mzone", "gotone"), dtype="str"),
                      "gprs_mb": gprs, "noise": rng.normal(size=101)})
    y = (np.arange(101) % 4 == 0).astype(int)
    model = TargetModel(n_jobs=1).fit(X, y)
    shap = pd.DataFrame({"brand": 0.5, "gprs_mb": 1.0, "noise": -0.1, "bias": -2.0}, index=X.index)
    return model, X, shap


def test_numeric_reason_says_the_value_and_its_percentile_band(hundred):
    model, X, shap = hundred
    en = reason_codes(model, X, shap=shap, feature_labels=LABELS, lang="en")["reason_1"]
    zh = reason_codes(model, X, shap=shap, feature_labels=LABELS_ZH, lang="zh")["reason_1"]
    # 100 known values 1..100.  Value 100: 1 of 100 at or above (1%) -> top 1%: more than 99%
    assert en[99] == "GPRS traffic: 100, more than 99% of users in the province"
    assert zh[99] == "GPRS流量 100，高于全省 99% 的用户"
    # value 95: 6 of 100 at or above -> smallest band holding 6% is 10%
    assert en[94] == "GPRS traffic: 95, more than 90% of users in the province"
    # value 3: 98% at or above (not a top band); 3 of 100 at or below -> bottom 5%
    assert en[2] == "GPRS traffic: 3, less than 95% of users in the province"
    # value 50: 51% at or above, 50% at or below -> bottom 50%; value 51: 50% at or above -> top 50%
    assert en[49] == "GPRS traffic: 50, less than 50% of users in the province"
    assert en[50] == "GPRS traffic: 51, more than 50% of users in the province"
    assert en[100] == "GPRS traffic: unknown" and zh[100] == "GPRS流量：未知"
    scored = reason_codes(model, X, shap=shap, feature_labels=LABELS, lang="en", scope="scored")["reason_1"]
    assert scored[99] == "GPRS traffic: 100, more than 99% of scored users"
    # a value most of the population shares (0 for 80 of 101 rows) is neither top nor bottom: said as is
    zero_heavy = X.assign(gprs_mb=np.r_[np.zeros(80), np.arange(1, 21, dtype=float), np.nan])
    said = reason_codes(model, zero_heavy, shap=shap, feature_labels=LABELS, lang="en")
    assert said["reason_1"][0] == "GPRS traffic: 0"
    assert said["reason_1"][99] == "GPRS traffic: 20, more than 99% of users in the province"
    assert said["reason_1_code"][99] == '{"feature":"gprs_mb","value":20.0,"band":"top1"}'


def test_categorical_reason_uses_value_labels_from_the_catalogue(hundred):
    model, X, shap = hundred
    r_en = reason_codes(model, X, shap=shap, feature_labels=LABELS, lang="en")
    r_zh = reason_codes(model, X, shap=shap, feature_labels=LABELS_ZH, lang="zh")
    assert r_en.loc[1, "reason_2"] == "On the M-Zone brand"          # the brand's own phrase
    assert r_zh.loc[1, "reason_2"] == "使用动感地带品牌"
    custom = reason_codes(model, X, shap=shap, lang="en", value_labels={"brand": {"gotone": "GoTone (VIP)"}})
    assert custom.loc[0, "reason_2"] == "On the GoTone (VIP) brand"
    # noise never contributes positively: no third reason
    assert r_en["reason_3"].isna().all() and r_en["reason_3_feature"].isna().all()
    assert r_en["reason_3_code"].isna().all()
    # callable labels name a feature without a phrase of its own
    renamed = X.rename(columns={"brand": "segment"})
    seg_model = TargetModel(n_jobs=1).fit(renamed, (np.arange(101) % 4 == 0).astype(int))
    seg_shap = shap.rename(columns={"brand": "segment"})
    assert reason_codes(seg_model, renamed, shap=seg_shap, lang="en", feature_labels=str.upper).loc[1, "reason_2"] == (
        "SEGMENT: mzone")


def test_reason_distribution_counts_each_slot(hundred):
    model, X, shap = hundred
    dist = reason_distribution(reason_codes(model, X, shap=shap, lang="en"))
    assert dist["feature"].tolist() == ["gprs_mb", "brand"]
    assert dist["reason_1"].tolist() == [101, 0] and dist["reason_2"].tolist() == [0, 101]
    assert dist["share"].tolist() == [1.0, 1.0]
    with pytest.raises(ParameterError, match="no reason_<i>_feature column"):
        reason_distribution(pd.DataFrame({"x": [1]}))


def test_reason_errors(fitted):
    model, X, _ = fitted
    with pytest.raises(ParameterError, match="'scope' parameter must be one of"):
        reason_codes(model, X.head(5), scope="country")
    with pytest.raises(ParameterError, match="'top' parameter must be an integer >= 1"):
        reason_codes(model, X.head(5), top=0)


# ------------------------------------------------------------------ rules
def _rule_data():
    X, y = _table(3000, seed=12)
    X["tenure"] = np.random.default_rng(1).integers(1, 120, len(X))
    return X, y


@pytest.mark.parametrize("use_score", [False, True])
def test_every_rule_reproduces_its_counts_with_pandas_query(fitted, use_score):
    model, _, _ = fitted
    X, y = _rule_data()
    score = model.predict_proba(X)[:, 1] if use_score else None
    rules = learn_rules(X, y, score=score, n_rules=8, min_lift=None)
    assert 2 <= len(rules) <= 8
    base = y.mean()
    for rule in rules:
        assert 1 <= len(rule.conditions) <= 3
        hit = X.query(rule.to_query()).index
        assert len(hit) == rule.size
        assert y[hit].sum() == rule.positives
        assert rule.target_share == pytest.approx(y[hit].mean())
        assert rule.lift == pytest.approx(y[hit].mean() / base)
        np.testing.assert_array_equal(rule.mask(X), X.index.isin(hit))
    lifts = [r.lift for r in rules]  # with labels, rules are ordered by lift (score or not)
    assert lifts == sorted(lifts, reverse=True)


def test_rules_keep_segments_above_the_base_rate_by_default():
    X, y = _rule_data()
    rules = learn_rules(X, y)
    assert rules[0].lift > 1
    assert all(r.lift >= 1 for r in rules)


def test_rule_rendering_bilingual_and_query_semantics_for_missing():
    rule = Rule((Condition("gprs_mb", ">", 100.0, missing=True), Condition("brand", "==", "mzone"),
                 Condition("branch", "not in", ("hami", "urumqi"))))
    assert rule.render("en", LABELS) == "GPRS traffic > 100 (or missing) and Brand is M-Zone and branch is none " \
                                        "of hami, urumqi"
    assert rule.render("zh", LABELS_ZH) == "GPRS流量 > 100(含缺失) 且 品牌为动感地带 且 branch不属于hami、urumqi"
    df = pd.DataFrame({"gprs_mb": [150.0, np.nan, 50.0, 150.0, 150.0],
                       "brand": pd.array(["mzone", "mzone", "mzone", None, "mzone"], dtype="str"),
                       "branch": pd.array(["ili", None, "ili", "ili", "hami"], dtype="str")})
    expected = [True, True, False, False, False]
    assert rule.mask(df).tolist() == expected
    assert df.index.isin(df.query(rule.to_query()).index).tolist() == expected
    ne = Rule((Condition("brand", "!=", "mzone"),))
    assert ne.mask(df).tolist() == df.index.isin(df.query(ne.to_query()).index).tolist() == [
        False, False, False, True, False]
    table = rules_table([rule.evaluate(df, [1, 0, 1, 0, 0])], lang="en")
    assert table.loc[0, "size"] == 2 and table.loc[0, "positives"] == 1 and table.loc[0, "lift"] == 1.25


def test_rule_errors():
    X, y = _rule_data()
    with pytest.raises(ParameterError, match="needs y .* or score"):
        learn_rules(X)
    with pytest.raises(ParameterError, match="y has 3 values but X has 3000 rows"):
        learn_rules(X, [0, 1, 0])
    with pytest.raises(ParameterError, match="'max_depth' parameter must be an integer from 1 to 6"):
        learn_rules(X, y, max_depth=9)
    with pytest.raises(ParameterError, match="'op' parameter must be one of"):
        Condition("x", "=>", 1)
    with pytest.raises(ParameterError, match="column 'tariff', which the table lacks"):
        Rule((Condition("tariff", "==", "T1"),)).mask(X)


def test_rules_baseline_leaves_partition_the_data_and_match_the_tree():
    X, y = _rule_data()
    base = RulesBaseline(max_depth=3).fit(X, y)
    assert sum(r.size for r in base.rules_) == len(X)
    owner = np.zeros(len(X), dtype=int)
    for rule in base.rules_:
        owner += rule.mask(X)
    assert (owner == 1).all()  # every row in exactly one leaf rule, missing values included
    p = base.predict_proba(X)[:, 1]
    for rule in base.rules_:
        m = rule.mask(X)
        assert np.allclose(p[m], rule.target_share)


# ------------------------------------------------------------------ figures
def test_figures_are_built_with_catalogue_labels(fitted):
    import plotly.graph_objects as go

    from workbench.metrics.classification import calibration_table, gains_table, roc_points
    from workbench.viz.model import (
        calibration_figure, gains_figure, importance_figure, reasons_figure, roc_figure,
    )

    model, X, y = fitted
    s = model.predict_proba(X)[:, 1]
    noise = np.random.default_rng(0).random(len(y))
    gains = {"model": gains_table(y, s), "logistic": gains_table(y, noise)}
    fig = gains_figure(gains, lang="en")
    assert isinstance(fig, go.Figure)
    assert [tr.name for tr in fig.data] == ["Target model", "Logistic baseline", "Random"]
    assert list(fig.data[0].x[:2]) == [0.0, 0.1] and fig.data[0].y[-1] == pytest.approx(1.0)
    assert gains_figure(gains, kind="lift", lang="zh").layout.title.text == "累计提升度曲线"
    roc = roc_figure({"model": roc_points(y, s), "my tree": roc_points(y, noise)}, lang="en")
    assert [tr.name for tr in roc.data] == ["Target model", "my tree", "Random"]
    cal = calibration_figure(calibration_table(y, s), lang="en")
    assert cal.layout.xaxis.title.text == "Mean predicted probability"
    imp = importance_figure(global_importance(model, X), feature_labels=LABELS, lang="en")
    assert imp.data[0].y[-1] in {"GPRS traffic", "Brand"} and imp.layout.xaxis.title.text == "Mean |SHAP|"
    dist = reason_distribution(reason_codes(model, X, lang="en"))
    rf = reasons_figure(dist, lang="zh")
    assert [tr.name for tr in rf.data] == ["理由1", "理由2", "理由3"]


def test_figure_errors():
    from workbench.viz.model import gains_figure, importance_figure

    with pytest.raises(ParameterError, match="'kind' parameter must be one of"):
        gains_figure(pd.DataFrame({"cum_share": [1.0], "cum_capture": [1.0]}), kind="roc")
    with pytest.raises(ParameterError, match=r"gains\['model'\]\" parameter must be the result of gains_table"):
        gains_figure({"model": pd.DataFrame({"x": [1]})})
    with pytest.raises(ParameterError, match="'measure' parameter must be 'auto' or a column"):
        importance_figure(pd.DataFrame({"feature": ["a"], "gain_share": [1.0]}), measure="mean_abs_shap")
