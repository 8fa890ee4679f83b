"""What template 06 says and shows (workbench.report.t06), on the hand-made campaign of evaluation_fixtures.

The words of a simulated campaign with an uplift model and a next-round comparison are checked in test_loop.py
and, through the kernel, in test_template_06.py; here every section is worded for a campaign that was not
simulated and taught no uplift model, and the tables show missing numbers as the format module says.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import pytest
from evaluation_fixtures import hand_made_inputs

from workbench.errors import ParameterError
from workbench.notebook import narrative
from workbench.report.format import MISSING
from workbench.report.t06 import (
    STORY_SECTIONS,
    breakdown_figures,
    breakdown_table,
    dimension_table,
    effect_figure,
    effect_summary_table,
    evaluation_story,
    executor_table,
    lessons,
    quality_figures,
    uplift_figures,
)
from workbench.tracking.evaluation import evaluate


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(hand_made_inputs(), covariates=())


@pytest.fixture(scope="module")
def uncontrolled():
    """The same campaign with every member of branch hotan (odd ids) in the target group: no control there."""
    ids = np.arange(1, 41)
    groups = np.where((ids <= 20) | (ids % 2 == 1), "target", "control")
    return evaluate(hand_made_inputs(groups=groups), covariates=())


def test_the_sections_come_in_report_order():
    assert STORY_SECTIONS == ("overview", "data", "effect", "adjusted", "srm", "channels", "executors", "quality",
                              "truth", "uplift", "comparison", "recommendation")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_is_worded_without_simulation_model_or_truth(evaluation, lang):
    keys = {}
    for section in STORY_SECTIONS:
        key, values = evaluation_story(evaluation, section, lang)
        text = narrative(key, lang, **values)
        assert text and "{" not in text and "nan" not in text, section
        keys[section] = key
    assert keys["data"] == "t06.data.recorded" and keys["adjusted"] == "t06.adjusted.none"
    assert keys["quality"] == "t06.quality.no_arpu" and keys["truth"] == "t06.truth.none"
    assert keys["uplift"] == "t06.uplift.none" and keys["comparison"] == "t06.comparison.none"
    assert keys["channels"] == "t06.channels.story" and keys["srm"] == "t06.srm.ok"


def test_the_story_words_the_evaluations_numbers(evaluation):
    key, values = evaluation_story(evaluation, "overview", "en")
    assert (values["target"], values["control"], values["reached"], values["name"]) == (20, 20, 20, "hand-made")
    assert values["start"] == "2026-11-02" and values["as_of"] == "2027-06-30"
    key, values = evaluation_story(evaluation, "uplift", "en")
    assert (values["responders"], values["control_responders"]) == (8, 2)
    key, values = evaluation_story(evaluation, "effect", "en")
    assert values["lift"] == pytest.approx(0.3) and key.startswith("t06.effect.")
    with pytest.raises(ParameterError, match=r"'section' parameter must be one of \['overview', 'data'"):
        evaluation_story(evaluation, "summary", "en")


def test_without_an_uplift_model_the_recommendation_says_to_gather_data(evaluation):
    codes = [code for code, _ in lessons(evaluation, lang="en")]
    assert codes[-2:] == ["cost_unvalued", "no_uplift"]      # the plan values no order; no model, no comparison
    key, values = evaluation_story(evaluation, "recommendation", "en")
    assert "too few responses to learn an uplift model" in narrative(key, "en", **values)
    assert "this time 50%" in narrative(key, "en", **values)


def test_the_cost_is_judged_against_the_value_of_an_order_only_when_the_plan_gives_one():
    inputs = hand_made_inputs()
    cost = dict(lessons(evaluate(inputs, covariates=()), lang="en"))["cost_unvalued"]["cost"]
    for value, code in ((cost + 1, "cost_ok"), (cost - 1, "cost_high")):
        inputs.terms = dataclasses.replace(inputs.terms, value_per_order=value)
        assert dict(lessons(evaluate(inputs, covariates=()), lang="en"))[code] == {"cost": cost, "value": value}


def test_a_branch_without_control_members_shows_missing_not_nan(uncontrolled):
    table = dimension_table(uncontrolled, "branch", "en").set_index("Branch")
    assert table.loc["Aksu", "Control"] == "10.00%"
    # a branch without control members says why it has no comparison, not "nan" nor a bare dash
    assert table.loc["Hotan", "Control"] == "no control group" and table.loc["Hotan", "95% CI"] == "no control group"
    assert table.loc["Hotan", "Incremental orders"] == "no control group"
    shown = breakdown_table(uncontrolled, lang="zh")
    assert list(shown.columns[:2]) == ["维度", "分组"] and "阿克苏" in shown["分组"].tolist()
    assert "无对照组" in shown["对照组"].tolist() and MISSING not in shown["对照组"].tolist()
    assert "<th" in shown._repr_html_() and ">0</th>" not in shown._repr_html_()    # no index column 0..n
    assert not shown.astype(str).apply(lambda col: col.str.contains("nan")).any().any()


def test_the_effect_table_without_adjustment_says_missing_once(evaluation):
    row = effect_summary_table(evaluation, "en").iloc[0]
    assert row["Outcome"] == "Responded (ordered)" and row["Lift"] == "30.00%"
    assert row["CUPED"] == MISSING and row["Regression-adjusted"] == MISSING
    assert row["Incremental orders"].startswith("6.0 [")


def test_the_executor_table_names_branches(evaluation):
    table = executor_table(evaluation, "zh")
    assert set(table["分公司"]) == {"阿克苏", "和田"} and table["执行人员"].tolist() == ["ana", "bo"]


def test_each_section_selects_the_figures_it_can_show(evaluation):
    assert isinstance(effect_figure(evaluation, "en"), go.Figure)
    assert effect_figure(evaluation, "zh").layout.title.text.startswith("响应（订购）")   # the outcome's name
    figures = breakdown_figures(evaluation, lang="en")
    assert all("responded" not in f.layout.title.text for f in figures)
    assert len(figures) == 3                                  # channel, branch, score decile; no segment column
    assert [f.layout.title.text.rsplit(" · ", 1)[1] for f in figures] == ["Channel", "Branch", "Score decile"]
    assert len(quality_figures(evaluation, "en")) == 1        # retention only: no ARPU panel, no product trend
    assert uplift_figures(None) == []


def test_quality_without_organic_orders_in_the_control_group_says_so_instead_of_nan():
    from types import SimpleNamespace

    import pandas as pd

    from workbench.i18n import t
    from workbench.report.t06 import _quality

    retention = pd.DataFrame({"months": [3], "rate_treated": [0.742], "rate_control": [float("nan")],
                              "abs_lift": [float("nan")], "abs_ci_low": [float("nan")], "abs_ci_high": [float("nan")]})
    unsub = pd.DataFrame({"metric": ["free_month_leaver"], "rate_treated": [0.161], "rate_control": [float("nan")]})
    story = SimpleNamespace(evaluation=SimpleNamespace(retention=retention, unsubscribes=unsub, did=None), lang="zh")
    key, values = _quality(story)
    assert key == "t06.quality.no_control"
    text = t(key, lang="zh", **values)
    assert "nan" not in text and "74.2%" in text and "对照组没有人自然订购" in text
