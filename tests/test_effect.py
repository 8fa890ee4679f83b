"""Effect tables (workbench.tracking.effect) and their figures (workbench.viz.effect)."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy import stats

from workbench.errors import ParameterError
from workbench.metrics.experiment import cuped_effect, proportion_effect, regression_adjusted_effect
from workbench.metrics.uplift import perfect_qini_curve, qini_curve, uplift_by_bin
from workbench.tracking import (
    ADJUSTED_COLUMNS,
    EFFECT_TABLE_COLUMNS,
    SRM_COLUMNS,
    effect_table,
    outcome_kind,
    resolve_value,
    srm_table,
)
from workbench.viz.effect import curve_figure, forest_plot, treated_control_bars, uplift_by_bin_figure


def _campaign() -> pd.DataFrame:
    # two arms and a shared control, 8 units each; ordered: sms 4/8, call 6/8, none 2/8
    arm = ["sms"] * 8 + ["call"] * 8 + ["none"] * 8
    ordered = [1, 1, 1, 1, 0, 0, 0, 0] + [1, 1, 1, 1, 1, 1, 0, 0] + [1, 1, 0, 0, 0, 0, 0, 0]
    spend = [5.0, 7, 6, 8, 0, 1, 0, 2] + [9.0, 8, 7, 9, 6, 8, 1, 0] + [3.0, 2, 0, 1, 0, 0, 1, 0]
    branch = ["urumqi", "hami"] * 12
    return pd.DataFrame({"arm": arm, "ordered": ordered, "spend": spend, "branch_id": branch})


def test_two_arms_against_shared_control_by_hand():
    df = _campaign()
    e = effect_table(df, "arm", "none", ["ordered", "spend"])
    assert list(e.columns) == [*EFFECT_TABLE_COLUMNS, "note"]
    # arms in sorted order, outcomes in the order asked
    assert e[["arm", "outcome"]].values.tolist() == [
        ["call", "ordered"], ["call", "spend"], ["sms", "ordered"], ["sms", "spend"],
    ]
    sms = e[(e["arm"] == "sms") & (e["outcome"] == "ordered")].iloc[0]
    # 4/8 - 2/8 = 0.25; incremental = 0.25 * 8 = 2 orders
    assert sms["mean_treated"] == 0.5 and sms["mean_control"] == 0.25
    assert sms["abs_lift"] == pytest.approx(0.25)
    assert sms["incremental"] == pytest.approx(2.0)
    assert sms["kind"] == "binary" and sms["control"] == "none"
    ref = proportion_effect(4, 8, 2, 8).iloc[0]
    for col in ("abs_ci_low", "abs_ci_high", "rel_lift", "rel_ci_low", "p_value"):
        assert sms[col] == pytest.approx(ref[col])
    # the control statistics are shared by both arms
    ordered = e[e["outcome"] == "ordered"]
    assert ordered["mean_control"].tolist() == [0.25, 0.25] and ordered["n_control"].tolist() == [8, 8]


def test_numeric_outcome_is_welch():
    df = _campaign()
    e = effect_table(df, "arm", "none", "spend")
    call = e[e["arm"] == "call"].iloc[0]
    ref = stats.ttest_ind(df.loc[df.arm == "call", "spend"], df.loc[df.arm == "none", "spend"], equal_var=False)
    assert call["kind"] == "numeric"
    assert call["statistic"] == pytest.approx(ref.statistic)
    assert call["p_value"] == pytest.approx(ref.pvalue)
    assert (call["abs_ci_low"], call["abs_ci_high"]) == pytest.approx(tuple(ref.confidence_interval()))


def test_boolean_and_text_outcomes_equal_zero_one():
    df = _campaign()
    df["ordered_bool"] = df["ordered"].astype(bool)
    df["ordered_text"] = np.where(df["ordered"] == 1, "yes", "no")
    e = effect_table(df, "arm", "none", ["ordered", "ordered_bool", "ordered_text"], positive="yes")
    cols = ["n_treated", "mean_treated", "mean_control", "abs_lift", "abs_ci_low", "p_value"]
    base = e[e["outcome"] == "ordered"][cols].reset_index(drop=True)
    for other in ("ordered_bool", "ordered_text"):
        pd.testing.assert_frame_equal(e[e["outcome"] == other][cols].reset_index(drop=True), base)
    assert (e["kind"] == "binary").all()
    # a mapping sets the success value per column
    e2 = effect_table(df, "arm", "none", "ordered_text", positive={"ordered_text": "no"})
    assert e2.loc[e2["arm"] == "sms", "mean_treated"].iloc[0] == 0.5


def test_numeric_and_boolean_arm_columns_match_text_control():
    df = _campaign()
    df["arm_code"] = df["arm"].map({"none": 0, "sms": 1, "call": 2})
    e = effect_table(df, "arm_code", "0", "ordered")
    assert e["arm"].tolist() == [1, 2] and e["control"].tolist() == [0, 0]
    df["arm_float"] = df["arm_code"].astype(float)
    assert effect_table(df, "arm_float", "0", "ordered")["abs_lift"].tolist() == e["abs_lift"].tolist()
    two = df[df["arm"] != "call"].assign(treated=lambda d: d["arm"] == "sms")
    b = effect_table(two, "treated", "false", "ordered")
    assert b["arm"].tolist() == [True] and b["abs_lift"].iloc[0] == pytest.approx(0.25)


def test_resolve_value_and_outcome_kind():
    assert resolve_value(pd.Series([0, 1]), "1") == 1
    assert resolve_value(pd.Series([0.0, 1.0]), "0") == 0.0
    assert resolve_value(pd.Series([True, False]), "TRUE") is True
    assert resolve_value(pd.Series(["No E-Mail", "Mens E-Mail"]), "No E-Mail") == "No E-Mail"
    assert resolve_value(pd.Series(["No E-Mail"]), "no e-mail ") == "No E-Mail"
    assert resolve_value(pd.Series(["a", "b"]), "c") is None
    assert outcome_kind(pd.Series([0, 1, np.nan])) == "binary"
    assert outcome_kind(pd.Series([True, False])) == "binary"
    assert outcome_kind(pd.Series([0, 2])) == "numeric"
    assert outcome_kind(pd.Series(["a", "b"])) == "text"


def test_by_segment_equals_the_subsets():
    df = _campaign()
    e = effect_table(df, "arm", "none", ["ordered", "spend"], by="branch_id")
    assert e.columns[0] == "segment"
    assert sorted(set(e["segment"])) == ["hami", "urumqi"] and len(e) == 8
    for branch in ("hami", "urumqi"):
        sub = effect_table(df[df["branch_id"] == branch], "arm", "none", ["ordered", "spend"])
        part = e[e["segment"] == branch].drop(columns="segment").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, sub)


def test_missing_values_are_left_out():
    df = _campaign()
    df["spend"] = df["spend"].astype(float)
    df.loc[0, "spend"] = np.nan  # one sms unit without spend
    df.loc[23, "arm"] = None  # one unit without arm
    e = effect_table(df, "arm", "none", ["ordered", "spend"])
    sms = e[e["arm"] == "sms"].set_index("outcome")
    assert sms.loc["ordered", "n_treated"] == 8 and sms.loc["spend", "n_treated"] == 7
    assert sms.loc["ordered", "n_control"] == 7
    assert sms.loc["spend", "mean_treated"] == pytest.approx(np.mean([7.0, 6, 8, 0, 1, 0, 2]))


def test_empty_segment_control_gives_nan_and_note():
    df = _campaign()
    df.loc[(df["arm"] == "none") & (df["branch_id"] == "hami"), "branch_id"] = "urumqi"
    e = effect_table(df, "arm", "none", "ordered", by="branch_id")
    hami = e[e["segment"] == "hami"]
    assert (hami["n_control"] == 0).all() and hami["abs_lift"].isna().all()
    assert (hami["note"] == "empty_group").all()


def test_srm_columns_and_multi_arm_table():
    # 150 treated / 100 control with a planned 50/50: chi2 = 2 * 25^2 / 125 = 10, p = 0.00157 (no flag at 0.001)
    df = pd.DataFrame({"arm": ["t"] * 150 + ["c"] * 100, "y": [1, 0] * 125})
    e = effect_table(df, "arm", "c", "y", planned_control_share=0.5)
    assert set(SRM_COLUMNS) <= set(e.columns)
    assert e["srm_p_value"].iloc[0] == pytest.approx(stats.chi2.sf(10, 1))
    assert not e["srm"].iloc[0]
    assert bool(effect_table(df, "arm", "c", "y", planned_control_share=0.5, srm_threshold=0.01)["srm"].iloc[0])
    # three groups planned 1/3 each: every arm vs control is a 50/50 pair
    df3 = _campaign()
    e3 = effect_table(df3, "arm", "none", "ordered", planned_control_share=1 / 3)
    assert e3["srm_p_value"].tolist() == pytest.approx([1.0, 1.0])
    table = srm_table(df3, "arm", "none", 1 / 3, by="branch_id")
    assert table.columns.tolist() == ["segment", "arm", "n", "planned_share", "expected", "chi2", "dof",
                                      "p_value", "srm"]
    assert table["n"].tolist() == [4] * 6 and table["dof"].unique().tolist() == [2]
    assert table["chi2"].unique().tolist() == [0.0]


def test_covariate_adjusted_columns():
    # pre-period spend explains most of the outcome: the adjusted interval is much narrower
    pre = np.array([1.0, 5, 2, 8, 3, 9, 4, 7, 6, 2, 1.0, 5, 2, 8, 3, 9, 4, 7, 6, 2])
    arm = np.array(["t"] * 10 + ["c"] * 10)
    noise = np.array([0.2, -0.1, 0.0, 0.3, -0.2, 0.1, -0.3, 0.2, 0.0, -0.2] * 2)
    y = 2 * pre + np.where(arm == "t", 1.5, 0.0) + noise
    df = pd.DataFrame({"arm": arm, "y": y, "pre": pre})
    e = effect_table(df, "arm", "c", "y", covariates="pre")
    row = e.iloc[0]
    assert set(ADJUSTED_COLUMNS) <= set(e.columns)
    t = arm == "t"
    cu = cuped_effect(y, t, pre)
    rg = regression_adjusted_effect(y, t, pre)
    assert row["cuped_lift"] == pytest.approx(cu["estimate"])
    assert row["reg_lift"] == pytest.approx(rg["estimate"])
    assert row["cuped_lift"] == pytest.approx(1.5)
    assert row["cuped_ci_high"] - row["cuped_ci_low"] < (row["abs_ci_high"] - row["abs_ci_low"]) / 10
    assert row["cuped_variance_reduction"] > 0.99


def test_cost_columns():
    df = _campaign()
    e = effect_table(df, "arm", "none", "ordered", cost_per_treated={"sms": 0.1, "call": 2.0})
    sms = e[e["arm"] == "sms"].iloc[0]
    call = e[e["arm"] == "call"].iloc[0]
    # sms: 8 * 0.1 = 0.8 yuan for 2 incremental orders; call: 16 yuan for 0.5 * 8 = 4
    assert sms["cost"] == pytest.approx(0.8) and sms["cost_per_incremental"] == pytest.approx(0.4)
    assert call["cost_per_incremental"] == pytest.approx(4.0)


def test_effect_table_errors():
    df = _campaign()
    with pytest.raises(ParameterError, match=r"Column 'orderd' \(the 'outcome_cols' parameter\) is not in the table; "
                                             r"available columns are \['arm', 'ordered', 'spend', 'branch_id'\]"):
        effect_table(df, "arm", "none", "orderd")
    with pytest.raises(ParameterError, match=r"control value 'control' does not occur in arm column 'arm'; "
                                             r"the arm values found are \['call', 'none', 'sms'\]"):
        effect_table(df, "arm", "control", "ordered")
    df["answer"] = np.where(df["ordered"] == 1, "yes", "no")
    with pytest.raises(ParameterError, match=r"Outcome column 'answer' holds text.*Its values are \['no', 'yes'\]"):
        effect_table(df, "arm", "none", "answer")
    with pytest.raises(ParameterError, match=r"'positive' value 'Y' is not among the values of outcome column "
                                             r"'answer': \['no', 'yes'\]"):
        effect_table(df, "arm", "none", "answer", positive="Y")
    with pytest.raises(ParameterError, match="holds only the control value 'none'"):
        effect_table(df[df["arm"] == "none"], "arm", "none", "ordered")
    with pytest.raises(ParameterError, match=r"Covariate columns must be numeric; \['branch_id'\]"):
        effect_table(df, "arm", "none", "ordered", covariates="branch_id")
    with pytest.raises(ParameterError, match="arm column 'arm' cannot also be in the 'outcome_cols'"):
        effect_table(df, "arm", "none", ["arm"])
    with pytest.raises(ParameterError, match="'planned_control_share' parameter must be a share strictly between"):
        effect_table(df, "arm", "none", "ordered", planned_control_share=1.2)
    with pytest.raises(ParameterError, match="'df' parameter must be a pandas DataFrame"):
        effect_table(df.to_dict(), "arm", "none", "ordered")


# ------------------------------------------------------------------ figures
def test_forest_plot_and_bars():
    e = effect_table(_campaign(), "arm", "none", ["ordered", "spend"], by="branch_id")
    fig = forest_plot(e, "ordered", lang="en")
    assert isinstance(fig, go.Figure)
    trace = fig.data[0]
    rows = e[e["outcome"] == "ordered"]
    assert list(trace.y) == [f"{s} · {a}" for s, a in zip(rows["segment"], rows["arm"])]
    assert list(trace.x) == pytest.approx((rows["abs_lift"] * 100).tolist())  # percentage points
    assert list(trace.error_x.array) == pytest.approx(((rows["abs_ci_high"] - rows["abs_lift"]) * 100).tolist())
    assert fig.layout.title.text == "ordered: lift over control with 95% CI"
    bars = treated_control_bars(e, "spend", lang="zh")
    assert [b.name for b in bars.data] == ["营销组", "对照组"]
    assert list(bars.data[1].y) == e.loc[e["outcome"] == "spend", "mean_control"].tolist()
    with pytest.raises(ParameterError, match=r"'outcome' parameter must be one of \['ordered', 'spend'\]"):
        forest_plot(e)
    with pytest.raises(ParameterError, match="'effects' parameter must be an effect_table"):
        forest_plot(pd.DataFrame({"x": [1]}))


def test_curve_figures():
    score = [0.9, 0.8, 0.2, 0.1]
    treat = [1, 0, 1, 0]
    y = [1, 0, 0, 0]
    fig = curve_figure(qini_curve(score, treat, y), perfect=perfect_qini_curve(treat, y), lang="en")
    assert [d.name for d in fig.data] == ["Model", "Perfect", "Random"]
    assert list(fig.data[2].y) == [0.0, 1.0]
    fig = curve_figure({"lgbm": qini_curve(score, treat, y)}, kind="uplift", random=False, lang="en")
    assert [d.name for d in fig.data] == ["lgbm"] and fig.layout.title.text == "Uplift curve"
    bars = uplift_by_bin_figure(uplift_by_bin(score, treat, y, bins=2), lang="en")
    assert list(bars.data[0].y) == [1.0, 0.0]
    with pytest.raises(ParameterError, match="'kind' parameter must be 'qini' or 'uplift'"):
        curve_figure(qini_curve(score, treat, y), kind="gain")
