"""The words of template 02: the goal's statement and verdict, its tiles and arithmetic, hand-checked."""
from __future__ import annotations

import pytest
from test_goal import FINDINGS, findings

from workbench.errors import ParameterError
from workbench.notebook import narrative
from workbench.report.t02 import findings_story, goal_arithmetic, goal_cards, goal_story, reason_story, scope_story
from workbench.status.goal import propose_goal


def test_arithmetic_shows_each_step_with_its_numbers():
    goal = propose_goal(FINDINGS, ambition=0.08, lang="en")
    table = goal_arithmetic(goal, lang="en")
    assert table.index.name == "Step" and list(table.columns) == ["Calculation", "Result"]
    assert table["Calculation"].tolist() == ["⌈8% × 100⌉", "6.00% × 3 / 6", "200 × 3.00%", "1.5 × 6.0", "8 ÷ 200",
                                             "8 ÷ 6.0", ""]
    assert table["Result"].tolist() == ["8", "3.00%", "6.0", "9.0", "4.00%", "1.33", "ambitious"]
    zh = goal_arithmetic(propose_goal(FINDINGS, target=5, conversion_rate=0.05), lang="zh")
    assert zh.index.name == "步骤" and zh.iloc[0, 0] == "参数给定" and zh.iloc[1, 0] == "参数给定"
    assert zh["结果"].tolist()[-1] == "可达成"   # 5 <= 200 x 0.05


def test_goal_story_fills_the_statement_and_every_verdict_in_both_languages():
    for ambition, verdict in ((0.05, "feasible"), (0.08, "ambitious"), (0.5, "not_reachable")):
        for lang in ("zh", "en"):
            goal = propose_goal(FINDINGS, ambition=ambition, lang=lang)
            key, values = goal_story(goal, "verdict", lang)
            assert key == f"t02.verdict.{verdict}"
            assert str(goal["target_stable_subscribers"]) in narrative(key, lang, **values)
            key, values = goal_story(goal, "statement", lang)
            text = narrative(key, lang, **values)
            assert goal["reason"]["text"] in text and "2026-11-01" in text
    en = goal_story(propose_goal(FINDINGS, ambition=0.08, lang="en"), "statement", "en")[1]
    assert en["growth"] == pytest.approx(0.08) and en["product"] == "Mobile newspaper"
    with pytest.raises(ParameterError, match=r"'part' parameter must be one of \['statement', 'verdict'\]"):
        goal_story(propose_goal(FINDINGS), "summary")
    with pytest.raises(ParameterError, match="'goal' parameter must be the dict propose_goal"):
        goal_story({"target": 3}, "verdict")


def test_goal_cards():
    values, formats = goal_cards(propose_goal(FINDINGS, ambition=0.08))
    assert values == {"goal.card.target": "8", "goal.card.period": "2026-11 – 2027-01", "goal.card.stable": "100",
                      "goal.card.lookalikes": "200", "goal.card.expected": "6"}
    assert formats == {}
    big = propose_goal(findings(potential__lookalikes=12000, potential__stable=5000), ambition=0.08)
    values, _ = goal_cards(big)
    assert values["goal.card.lookalikes"] == "12,000" and values["goal.card.target"] == "400"
    assert values["goal.card.expected"] == "360"   # 12,000 x 6 % x 3 / 6


def test_findings_scope_and_reason_stories():
    assert findings_story("file", "runs/x") == ("t02.findings.file", {"run_dir": "runs/x"})
    key, values = findings_story("computed", "runs/x")
    assert "runs/x" in narrative(key, "en", **values)
    with pytest.raises(ParameterError, match=r"'how' parameter must be one of \['file', 'computed'\]. Got 'guess'"):
        findings_story("guess", "runs/x")
    key, values = scope_story(FINDINGS, "en")
    assert key == "t01.scope.story" and values["scope"] == "the whole province"
    goal = propose_goal(FINDINGS, ambition=0.08, lang="en")
    key, values = reason_story(goal)
    assert key == "t02.reason" and values == {"reason": goal["reason"]["text"]}
    assert goal["reason"]["text"] in narrative(key, "en", **values)
    with pytest.raises(ParameterError, match="'goal' parameter must be the dict propose_goal"):
        reason_story({"reason": {"text": "x"}})
