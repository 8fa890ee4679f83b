"""Goal setting: diagnosis, reason, the check against the potential, the goal, its figures and file
(its words: test_report_t02).

Every number here is computed by hand from the tiny findings below.
"""
from __future__ import annotations

import copy
import json
import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.errors import ParameterError
from workbench.i18n import t
from workbench.status.goal import (
    DEFAULT_ALERTS, GOAL_FILE, PROBLEMS, VERDICTS, check_goal, diagnose, goal_check, goal_reason, propose_goal,
    read_goal, write_goal,
)
from workbench.viz.goal import VERDICT_COLOURS, goal_check_figure, problems_figure

FINDINGS = {
    "version": 1, "product": "mobile_newspaper", "snapshot": "2026-10", "branches": [], "stable_months": 3,
    "kpis": {"first_month": "2026-08", "last_month": "2026-10", "months": 3, "subscribers": 130,
             "subscribers_before": 100, "orders": 60, "unsubscribes": 30, "net_adds": 30, "free_month_leavers": 15,
             "orders_per_month": 20.0, "unsubscribes_per_month": 10.0, "net_adds_per_month": 10.0,
             "free_month_leaver_share": 0.5, "churn_rate": 0.09, "growth": 0.3},
    "penetration": {"base": 1000, "active": 130, "penetration": 0.13,
                    "capital": {"subscribers": 400, "active": 80, "penetration": 0.2},
                    "prefectures": {"subscribers": 600, "active": 50, "penetration": 50 / 600},
                    "capital_ratio": 2.4, "segments": {}},
    "retention": {"orders": 200, "cohorts": 6, "k_stable": 2, "at_stable": 0.85, "k_last": 5, "at_last": 0.6,
                  "lost_before_stable": 0.15},
    "drivers": {"top": [{"feature": "arpu_mean", "iv": 0.5, "top_bin": "> 200", "lift": 3.0}], "sample": 950,
                "events": 100},
    "potential": {"base": 1000, "stable": 100, "nonsubscribers": 870, "lookalikes": 200, "high_bands": 2,
                  "expected_new_stable": 12.0, "expected_new_stable_all": 15.0, "conversion_rate": 0.06,
                  "horizon_months": 6, "k": 2.0, "drivers": ["arpu_mean"]},
}
POTENTIAL = FINDINGS["potential"]


def findings(**changes) -> dict:
    """A deep copy of FINDINGS with ``section__field=value`` changes."""
    out = copy.deepcopy(FINDINGS)
    for name, value in changes.items():
        section, field = name.split("__")
        out[section][field] = value
    return out


# ----------------------------------------------------------------- diagnose
def test_diagnose_ranks_problems_by_severity_against_their_alert_lines():
    p = diagnose(FINDINGS)
    assert list(p.columns) == ["problem", "indicator", "alert", "direction", "severity", "flagged"]
    # free-month leavers 0.5 / 0.25 = 2.0; capital 2.4 / 1.5 = 1.6; early churn 0.15 / 0.2 = 0.75;
    # growth 10 / 100 = 0.1 a month against a lower line of 0.01: 2 - 0.1 / 0.01 = -8
    assert p["problem"].tolist() == ["free_month_leavers", "capital_gap", "early_churn", "slow_growth"]
    assert p["severity"].tolist() == pytest.approx([2.0, 1.6, 0.75, -8.0])
    assert p["indicator"].tolist() == pytest.approx([0.5, 2.4, 0.15, 0.1])
    assert p["flagged"].tolist() == [True, True, False, False]
    assert p["direction"].tolist() == ["above", "above", "above", "below"]


def test_diagnose_takes_other_alert_lines_and_skips_what_was_not_computed():
    p = diagnose(findings(penetration__capital_ratio=None, kpis__free_month_leaver_share=None),
                 alerts={"early_churn": 0.1, "slow_growth": 0.25})
    assert p["problem"].tolist() == ["slow_growth", "early_churn"]
    assert p["severity"].tolist() == pytest.approx([2 - 0.1 / 0.25, 0.15 / 0.1])
    assert p["flagged"].tolist() == [True, True]
    assert p["alert"].tolist() == [0.25, 0.1]
    # an equal severity is broken by the order of PROBLEMS
    tie = diagnose(findings(kpis__free_month_leaver_share=0.375, penetration__capital_ratio=2.25))
    assert tie["problem"].tolist()[:2] == ["capital_gap", "free_month_leavers"]
    assert set(PROBLEMS) == set(DEFAULT_ALERTS)


def test_diagnose_names_bad_alerts_and_findings():
    with pytest.raises(ParameterError, match=r"'alerts' parameter must be a mapping with keys from .*Got 'churn'"):
        diagnose(FINDINGS, alerts={"churn": 0.1})
    with pytest.raises(ParameterError, match=r"'alerts.early_churn' parameter must be a finite number > 0. Got 0"):
        diagnose(FINDINGS, alerts={"early_churn": 0})
    with pytest.raises(ParameterError, match=r"'findings' parameter must be status findings holding the 'retention'"):
        diagnose({k: v for k, v in FINDINGS.items() if k != "retention"})
    with pytest.raises(ParameterError, match=r"'findings' parameter must be the dict of status findings"):
        diagnose(["not", "a", "dict"])


# ----------------------------------------------------------------- reason
def test_reason_is_the_most_severe_flagged_problem_with_its_numbers():
    r = goal_reason(FINDINGS, lang="en")
    assert r["problem"] == "free_month_leavers" and r["also"] == ["capital_gap"]
    assert r["indicator"] == 0.5 and r["alert"] == 0.25 and r["severity"] == pytest.approx(2.0)
    assert r["text"] == ("Of 30 Mobile newspaper unsubscribes in the last 3 months, 15 (50.0%) came within the free "
                         "months: promotions bring subscribers who do not stay.")
    zh = goal_reason(findings(kpis__free_month_leaver_share=0.1), lang="zh")
    assert zh["problem"] == "capital_gap" and zh["also"] == []
    assert zh["text"] == ("手机报在地州的渗透率只有 8.33%，首府乌鲁木齐是 20.00%（2.40 倍）："
                          "地州还有大量相似用户没有被开发。")


def test_reason_when_nothing_is_past_its_line():
    calm = findings(kpis__free_month_leaver_share=0.1, penetration__capital_ratio=1.2)
    r = goal_reason(calm, lang="en")
    assert r["problem"] is None and r["also"] == [] and r["severity"] is None
    assert r["text"] == t("goal.reason.none", lang="en", product="Mobile newspaper", stable=100)
    for code in ("early_churn", "slow_growth"):   # every reason's sentence fills in
        forced = goal_reason(FINDINGS, diagnose(FINDINGS, alerts={"early_churn": 0.01, "slow_growth": 0.5})
                             .query("problem == @code"), lang="zh")
        assert forced["problem"] == code and "{" not in forced["text"]
    with pytest.raises(ParameterError, match="'problems' parameter must be diagnose"):
        goal_reason(FINDINGS, pd.DataFrame({"problem": ["x"]}))


# ----------------------------------------------------------------- check
def test_check_against_the_potential_by_hand():
    # c = 0.06 x 3 / 6 = 0.03; E = 200 x 0.03 = 6; stretch limit 9
    feasible = check_goal(6, POTENTIAL, 3)
    assert feasible["conversion_rate"] == pytest.approx(0.03)
    assert feasible["expected_new_stable"] == pytest.approx(6.0)
    assert feasible["stretch_limit"] == pytest.approx(9.0)
    assert feasible["required_conversion"] == pytest.approx(6 / 200)
    assert feasible["target_over_expected"] == pytest.approx(1.0)
    assert feasible["verdict"] == "feasible" and feasible["conversion_source"] == "observed"
    assert check_goal(9, POTENTIAL, 3)["verdict"] == "ambitious"
    assert check_goal(10, POTENTIAL, 3)["verdict"] == "not_reachable"
    assert check_goal(10, POTENTIAL, 3, stretch=2.0)["verdict"] == "ambitious"
    # a longer period scales the observed conversion: 0.06 x 12 / 6 = 0.12, E = 24
    assert check_goal(20, POTENTIAL, 12)["expected_new_stable"] == pytest.approx(24.0)
    assert check_goal(20, POTENTIAL, 12)["verdict"] == "feasible"
    assert set(VERDICTS) == {"feasible", "ambitious", "not_reachable"}


def test_check_with_a_given_conversion_a_capped_one_and_no_lookalikes():
    given = check_goal(50, POTENTIAL, 3, conversion_rate=0.2)
    assert given["conversion_source"] == "given" and given["expected_new_stable"] == pytest.approx(40.0)
    assert given["verdict"] == "ambitious"   # 40 < 50 <= 60
    capped = check_goal(150, POTENTIAL, 240)   # 0.06 x 240 / 6 = 2.4 -> capped at 1
    assert capped["conversion_rate"] == 1.0 and capped["expected_new_stable"] == 200.0
    assert capped["verdict"] == "feasible"
    assert check_goal(201, POTENTIAL, 240)["verdict"] == "not_reachable"   # more than every look-alike
    empty = check_goal(1, {**POTENTIAL, "lookalikes": 0, "conversion_rate": None}, 3)
    assert empty["verdict"] == "not_reachable"
    assert empty["required_conversion"] is None and empty["target_over_expected"] is None


@pytest.mark.parametrize("kwargs, message", [
    ({"target": 0}, r"'target' parameter must be an integer >= 1. Got 0"),
    ({"target": 2.5}, r"'target' parameter must be an integer >= 1. Got 2.5"),
    ({"period_months": 0}, r"'period_months' parameter must be an integer >= 1. Got 0"),
    ({"stretch": 1.0}, r"'stretch' parameter must be a finite number > 1. Got 1.0"),
    ({"conversion_rate": 0.0}, r"'conversion_rate' parameter must be a finite number in \(0, 1\]. Got 0.0"),
    ({"conversion_rate": 1.5}, r"'conversion_rate' parameter must be a finite number in \(0, 1\]. Got 1.5"),
    ({"potential": {"lookalikes": 3}}, r"'potential' parameter must be the potential summary with \['lookalikes', "
                                       r"'conversion_rate', 'horizon_months'\]. Got \['lookalikes'\]"),
    ({"potential": {**POTENTIAL, "conversion_rate": 2.0}},
     r"'potential.conversion_rate' parameter must be a finite number in \[0, 1\]. Got 2.0"),
])
def test_check_names_bad_parameters(kwargs, message):
    args = {"target": 5, "potential": POTENTIAL, "period_months": 3, **kwargs}
    with pytest.raises(ParameterError, match=message):
        check_goal(args.pop("target"), args.pop("potential"), args.pop("period_months"), **args)


# ----------------------------------------------------------------- the goal
def test_propose_goal_sets_target_period_reason_and_check():
    goal = propose_goal(FINDINGS, period_months=3, ambition=0.08, lang="en")
    assert goal["target_stable_subscribers"] == 8   # ceil(0.08 x 100)
    assert (goal["period_start"], goal["period_end"], goal["period_months"]) == ("2026-11-01", "2027-01-31", 3)
    assert goal["product"] == "mobile_newspaper" and goal["snapshot"] == "2026-10" and goal["branches"] == []
    assert goal["ambition"] == 0.08 and goal["stable_subscribers"] == 100 and goal["language"] == "en"
    assert goal["reason"]["problem"] == "free_month_leavers"
    assert [p["problem"] for p in goal["problems"]] == ["free_month_leavers", "capital_gap", "early_churn",
                                                        "slow_growth"]
    assert goal["potential"]["lookalikes"] == 200 and goal["potential"]["conversion_rate"] == 0.06
    assert goal["check"] == check_goal(8, POTENTIAL, 3)
    assert goal["check"]["verdict"] == "ambitious"
    json.dumps(goal, allow_nan=False)   # JSON-ready as it is


def test_propose_goal_rounding_start_and_given_target():
    # 0.1 x 700 is 70.00000000000001 in floating point: still 70
    assert propose_goal(findings(potential__stable=700), ambition=0.1)["target_stable_subscribers"] == 70
    assert propose_goal(findings(potential__stable=701), ambition=0.1)["target_stable_subscribers"] == 71
    assert propose_goal(findings(potential__stable=0), ambition=0.1)["target_stable_subscribers"] == 1
    given = propose_goal(FINDINGS, target=5, start="2027-02", period_months=2)
    assert given["target_stable_subscribers"] == 5 and given["ambition"] is None
    assert (given["period_start"], given["period_end"]) == ("2027-02-01", "2027-03-31")
    assert given["check"]["expected_new_stable"] == pytest.approx(4.0)   # 200 x 0.06 x 2 / 6
    assert given["check"]["verdict"] == "ambitious"   # 4 < 5 <= 1.5 x 4


@pytest.mark.parametrize("kwargs, message", [
    ({"ambition": 0}, r"'ambition' parameter must be a finite number > 0. Got 0"),
    ({"ambition": "high"}, r"'ambition' parameter must be a finite number > 0. Got 'high'"),
    ({"period_months": 0}, r"'period_months' parameter must be an integer >= 1. Got 0"),
    ({"target": 0}, r"'target' parameter must be an integer >= 1. Got 0"),
    ({"start": "next month"}, r"'start' parameter must be a month such as '2026-10'"),
])
def test_propose_goal_names_bad_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        propose_goal(FINDINGS, **kwargs)


def test_propose_goal_needs_the_potential():
    with pytest.raises(ParameterError, match="'findings' parameter must be status findings holding the 'potential'"):
        propose_goal({k: v for k, v in FINDINGS.items() if k != "potential"})


# ----------------------------------------------------------------- figures
def test_problems_figure_marks_the_problems_past_their_line():
    fig = problems_figure(diagnose(FINDINGS), lang="en")
    assert isinstance(fig, go.Figure) and [tr.type for tr in fig.data] == ["bar", "scatter"]
    bars = fig.data[0]
    assert list(bars.y) == ["Stalling growth", "Orders lost before becoming stable",
                            "Capital vs prefectures penetration gap", "Unsubscribes within free months"]
    assert list(bars.x) == pytest.approx([0.0, 0.75, 1.6, 2.0])   # -8 is drawn as 0
    assert bars.customdata[0].tolist() == pytest.approx([0.1, 0.01])   # indicator and alert line in the hover
    assert list(bars.marker.color) == ["#7f7f7f", "#7f7f7f", "#d62728", "#d62728"]
    assert list(fig.data[1].x) == [1.0, 1.0]
    assert problems_figure(diagnose(FINDINGS), lang="zh").layout.title.text.startswith("数据显示的问题")
    with pytest.raises(ParameterError, match="'problems' parameter must be diagnose"):
        problems_figure(pd.DataFrame({"problem": []}))


def test_goal_check_figure_colours_the_target_by_verdict():
    for ambition, verdict in ((0.05, "feasible"), (0.08, "ambitious"), (0.5, "not_reachable")):
        fig = goal_check_figure(propose_goal(FINDINGS, ambition=ambition), lang="en")
        bar = fig.data[0]
        assert list(bar.y) == pytest.approx([6.0, 9.0, math.ceil(ambition * 100)])
        assert bar.marker.color[-1] == VERDICT_COLOURS[verdict]
        assert list(bar.x) == ["Expected at the expected conversion", "Stretch limit (1.5x)", "Target"]
        assert fig.layout.title.text == f"Mobile newspaper goal check: {t(f'goal.verdict.{verdict}', lang='en')}"
    with pytest.raises(ParameterError, match="'goal' parameter must be propose_goal"):
        goal_check_figure({"check": {"target": 1}})


# ----------------------------------------------------------------- the file
def test_goal_file_round_trip_and_missing_file(tmp_path):
    goal = propose_goal(FINDINGS, ambition=0.08, lang="zh")
    path = write_goal(goal, tmp_path / "run")
    assert path == tmp_path / "run" / GOAL_FILE
    assert read_goal(tmp_path / "run") == goal
    assert "地州" in path.read_text(encoding="utf-8") or "免费期" in path.read_text(encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"'run_dir' .* holds no goal.json: run template 02_goal_setting"):
        read_goal(tmp_path / "empty")
    with pytest.raises(ParameterError, match="'goal' parameter must be the dict propose_goal"):
        write_goal({"product": "x"}, tmp_path)
    assert goal_check(goal) is goal["check"]
    with pytest.raises(ParameterError, match="'goal' parameter must be the dict propose_goal"):
        goal_check({"target": 3})
