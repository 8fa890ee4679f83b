"""Method checks (workbench.methodchecks): each flags the mistake it exists for, words it (report.checks) and is
recorded in the run manifest (RunFolder.record_checks); the evaluation's lessons favour only a supported effect."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from workbench.errors import ParameterError
from workbench.methodchecks import (
    CHECKS, MethodCheck, control_power, evidence, list_overlap, plan_checks, plan_vs_goal, scores_snapshot,
    spend_vs_budget, worst_severity,
)
from workbench.notebook import narrative
from workbench.report.checks import check_line, check_text, checks_story
from workbench.report.t06 import lessons
from workbench.runs import RunFolder


# ------------------------------------------------------------------ plan vs goal (02 -> 04)
def test_a_goal_the_plan_cannot_reach_is_a_shortfall_with_the_suggested_remedies():
    check = plan_vs_goal(71, 50.0)
    assert (check.check, check.code, check.severity, check.action) == ("plan_vs_goal", "shortfall", "warning",
                                                                       "extend_plan")
    assert check.values["shortfall"] == pytest.approx(21.0) and check.values["reached"] == pytest.approx(50 / 71)
    line = check_line(check, "zh")
    assert "缺口 21.0" in line and "扩大名单" in line and "延长活动周期" in line
    assert "a larger list, other channels" in check_line(check, "en")
    assert plan_vs_goal(71, 80.0).passed and plan_vs_goal(71, 0.0).severity == "error"


class _Plan:
    """What plan_checks reads of a CampaignPlan."""

    def __init__(self, orders, cost, budget, ids=(1, 2, 3)):
        self.summary = {"expected_orders": orders, "cost": cost, "budget": budget}
        self.power = None
        self.rows = pd.DataFrame({"subscriber_id": list(ids), "group": "target"})


def test_template_04s_checks_flag_a_goal_larger_than_the_plan_and_record_them(tmp_path):
    goal = {"target_stable_subscribers": 71, "snapshot": "2026-10"}
    checks = plan_checks(goal, _Plan(50.0, 590.0, 600.0), model_snapshot="2026-10")
    found = {c.check: c for c in checks}
    assert found["plan_vs_goal"].code == "shortfall" and found["spend_vs_budget"].code == "ok"
    assert found["scores_snapshot"].passed and worst_severity(checks) == "warning"
    key, values = checks_story(checks, "en")
    text = narrative(key, "en", **values)
    assert text.index("short by 21.0") < text.index("within the budget")          # the warning comes first
    folder = RunFolder(tmp_path).step("04_campaign_design", {})
    folder.record_checks(checks)
    stored = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["steps"]["04_campaign_design"]["checks"]
    assert [c["check"] for c in stored] == [c.check for c in checks]
    assert stored[0] == {"check": "plan_vs_goal", "code": "shortfall", "severity": "warning",
                         "values": {"goal": 71.0, "planned": 50.0, "shortfall": 21.0, "reached": 50 / 71},
                         "action": "extend_plan", "subject": None}
    assert RunFolder(tmp_path).checks("04_campaign_design") == stored


def test_checks_are_recorded_only_for_a_step_of_the_manifest(tmp_path):
    with pytest.raises(ParameterError, match="'name' parameter must be a step recorded in run.json"):
        RunFolder(tmp_path).record_checks([plan_vs_goal(1, 2)], "04_campaign_design")


# ------------------------------------------------------------------ spend vs budget (04 -> 06)
def test_a_recorded_cost_above_the_budget_is_an_overrun():
    check = spend_vs_budget(600.0, 1315.0, stage="actual")
    assert (check.code, check.severity, check.action) == ("overrun", "error", "review_budget")  # > 150 %
    assert check.values["overrun"] == pytest.approx(715.0)
    assert "超出预算 600 元 715 元" in check_text(check, "zh") and check_text(check, "zh").startswith("实际")
    assert spend_vs_budget(600.0, 700.0).severity == "warning"
    assert spend_vs_budget(600.0, 600.0).passed
    no_budget = spend_vs_budget(None, 10.0)
    assert (no_budget.code, no_budget.severity, no_budget.action) == ("no_budget", "info", "set_budget")
    with pytest.raises(ParameterError, match="'stage' parameter must be one of"):
        spend_vs_budget(1.0, 1.0, stage="later")


# ------------------------------------------------------------------ control power
def test_control_power_agrees_with_statsmodels_and_names_the_control_needed():
    check = control_power(1800, 200, 0.01, 0.01)
    h = proportion_effectsize(0.02, 0.01)
    expected = NormalIndPower().power(h, nobs1=1800, alpha=0.05, ratio=200 / 1800)
    assert check.values["power"] == pytest.approx(expected)
    assert (check.code, check.action) == ("underpowered", "larger_control")
    required = check.values["required_control"]
    assert NormalIndPower().power(h, nobs1=1800, alpha=0.05, ratio=required / 1800) >= 0.8
    assert NormalIndPower().power(h, nobs1=1800, alpha=0.05, ratio=(required - 2) / 1800) < 0.8
    assert control_power(1800, required, 0.01, 0.01).passed
    impossible = control_power(100, 50, 0.01, 0.002)       # no control size detects 0.2 pp on 100 users
    assert (impossible.code, impossible.severity, impossible.values["required_control"]) == \
        ("unmeasurable", "error", None)
    assert "对照组再大也不够" in check_text(impossible, "zh")


# ------------------------------------------------------------------ evidence: lessons only from supported effects
def test_an_interval_spanning_zero_is_not_enough_evidence_with_the_sample_that_would_be():
    check = evidence("outbound_call", 0.0289, -0.0524, 0.051, 381, 44, 0.0)
    assert (check.code, check.action, check.subject) == ("not_enough_evidence", "gather_more", "outbound_call")
    n1 = NormalIndPower().solve_power(abs(proportion_effectsize(0.0289, 0.0)), alpha=0.05, power=0.8,
                                      ratio=44 / 381)
    assert check.values["needed_treated"] == math.ceil(n1)
    text = check_text(check, "zh")
    assert text.startswith("外呼") and "证据不足" in text and "[-5.24%, 5.10%]" in text
    assert evidence("sms", 0.02, 0.001, 0.04, 100, 100, 0.01).code == "supported"
    assert evidence("sms", -0.02, -0.04, -0.001, 100, 100, 0.03).code == "harmful"
    assert evidence("sms", 0.0, -0.01, 0.01, 100, 100, 0.01).values["needed_treated"] is None


class _Evaluation:
    """What lessons() reads of a CampaignEvaluation: one channel whose interval spans 0, or excludes it."""

    def __init__(self, low):
        self.headline = {"lift_low": -0.01, "lift_high": 0.03, "lift": 0.01, "cost_per_incremental": float("nan")}
        self.by = {"channel": pd.DataFrame({
            "segment": ["outbound_call", "sms"], "abs_lift": [0.0289, 0.001], "abs_ci_low": [low, -0.01],
            "abs_ci_high": [0.051, 0.012], "n_treated": [381, 1418], "n_control": [44, 157],
            "mean_control": [0.0, 0.0064]})}
        self.executors = pd.DataFrame({"members": [], "reach_rate": []})
        self.retention = pd.DataFrame({"months": [], "abs_ci_high": [], "abs_lift": [], "rate_treated": []})
        self.srm = pd.DataFrame({"srm": []})
        self.terms = type("T", (), {"control_share": 0.1, "value_per_order": None})()


def test_no_favour_lesson_from_a_channel_whose_interval_spans_zero():
    codes = dict(lessons(_Evaluation(-0.0524), lang="zh"))
    assert "channel" not in codes and "channel_unproven" in codes
    text = narrative("t06.lesson.channel_unproven", "zh", **codes["channel_unproven"])
    assert "证据不足" in text and "优先" not in text and "外呼" in text
    assert codes["channel_unproven"]["treated"] > 381
    supported = dict(lessons(_Evaluation(0.004), lang="en"))
    assert supported["channel"] == {"channel": "Outbound call", "lift": 0.0289}


# ------------------------------------------------------------------ list overlap, the scores' snapshot
def test_users_on_another_live_list_are_an_overlap():
    check = list_overlap([1, 2, 3, 4], {7: np.array([3, 4, 9]), 8: [10]})
    assert (check.code, check.action) == ("overlap", "coordinate")
    assert check.values == {"listed": 4, "overlap": 2, "share": 0.5, "campaigns": [7], "live": 2}
    assert "#7" in check_text(check, "en") and "50.0%" in check_text(check, "zh")
    assert list_overlap([1, 2], {7: [3]}).passed and list_overlap([1], {}).passed


class _Store:
    """The calls other_live_lists makes: campaign 1 ended before the new one starts, 2 is live, 3 a draft."""

    def visible_campaigns(self, user):
        return pd.DataFrame({"campaign_id": [3, 2, 1], "status": ["draft", "released", "released"]})

    def spec(self, user, campaign_id, version=None):
        return {"goal": {"period_end": {1: "2026-10-31", 2: "2026-12-31"}[campaign_id]}}

    def worklist(self, user, campaign_id):
        return pd.DataFrame({"subscriber_id": {1: [1, 2], 2: [2, 3]}[campaign_id]})


def test_plan_checks_read_the_live_lists_of_the_store():
    checks = plan_checks({"target_stable_subscribers": 1, "snapshot": "2026-10"}, _PlanAt(), store=_Store())
    overlap = next(c for c in checks if c.check == "list_overlap")
    assert overlap.values == {"listed": 3, "overlap": 2, "share": 2 / 3, "campaigns": [2], "live": 1}  # not ended #1


class _PlanAt(_Plan):
    def __init__(self):
        super().__init__(5.0, 1.0, None)
        self.spec = type("S", (), {"goal": type("G", (), {"period_start": "2026-11-01"})()})()


def test_scores_from_a_model_of_another_snapshot_are_flagged():
    assert scores_snapshot("2026-10", "2026-10").passed
    other = scores_snapshot("2026-07", "2026-10")
    assert (other.code, other.severity, other.action) == ("other_snapshot", "warning", "rescore")
    assert scores_snapshot("2026-11", "2026-10").severity == "error"          # a model that saw the future
    assert scores_snapshot(None, "2026-10").code == "unknown"
    assert "2026-07" in check_text(other, "zh") and "2026-10" in check_text(other, "zh")


def test_every_check_and_action_is_worded_in_both_languages():
    from workbench.i18n import catalogue

    examples = [plan_vs_goal(1, 0.5), plan_vs_goal(1, 2), spend_vs_budget(1, 2), spend_vs_budget(2, 1),
                spend_vs_budget(None, 1), control_power(1800, 200, 0.01, 0.01), control_power(1800, 900, 0.01, 0.01),
                control_power(100, 50, 0.01, 0.002), evidence("sms", 0.02, -0.01, 0.04, 100, 100, 0.01),
                evidence("sms", 0.02, 0.01, 0.04, 100, 100, 0.01), evidence("sms", -0.02, -0.04, -0.01, 100, 100, 0.05),
                list_overlap([1], {2: [1]}), list_overlap([1], {}), scores_snapshot("2026-07", "2026-10"),
                scores_snapshot(None, "2026-10"), scores_snapshot("2026-10", "2026-10")]
    assert {c.check for c in examples} == set(CHECKS)
    for lang in ("zh", "en"):
        for c in examples:
            line = check_line(c, lang)
            assert "{" not in line and "nan" not in line and "None" not in line, line
    for c in examples:
        if c.action:
            assert f"method_checks.action.{c.action}" in catalogue()


def test_a_check_refuses_unknown_names_and_severities():
    with pytest.raises(ParameterError, match="'severity' parameter must be one of"):
        MethodCheck("plan_vs_goal", "ok", "fatal")
    with pytest.raises(ParameterError, match="'check' parameter must be one of"):
        MethodCheck("vibes", "ok", "info")


def test_no_cost_verdict_from_an_unproven_increment():
    evaluation = _Evaluation(-0.0524)
    evaluation.headline["cost_per_incremental"] = 54.7
    evaluation.terms.value_per_order = 30.0
    codes = dict(lessons(evaluation, lang="zh"))
    assert "cost_high" not in codes and "cost_ok" not in codes and codes["cost_unproven"] == {"cost": 54.7}
    evaluation.headline.update(lift_low=0.001, incremental=20.0, incremental_low=1.0, incremental_high=40.0)
    assert dict(lessons(evaluation, lang="zh"))["cost_high"] == {"cost": 54.7, "value": 30.0}
