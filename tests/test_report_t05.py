"""The words of template 05 (campaign monitoring): opening line, lagging branches, the provisional read."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from workbench.notebook import narrative
from workbench.report.t05 import intro_story, lagging_story, provisional_numbers, provisional_story

EFFECT = pd.DataFrame({"mean_treated": [0.1], "mean_control": [0.05], "abs_lift": [0.05],
                       "abs_ci_low": [-0.01], "abs_ci_high": [0.11]})
TOTALS = {"members": 24, "contacted": 6, "accepted": 2, "contacted_rate": 0.25, "accepted_rate": 2 / 24}


def view(lagging=(), effect=None):
    """What the stories read of a MonitorData: its name, totals, lagging branches and first read."""
    return SimpleNamespace(campaign_name="Spring news", totals=lambda: dict(TOTALS),
                           lagging_branches=lambda lang=None: list(lagging), effect=effect)


def test_provisional_numbers_need_an_effect_row():
    assert provisional_numbers(None) is None
    assert provisional_numbers(EFFECT.iloc[:0]) is None
    assert provisional_numbers(EFFECT) == {"treated": 0.1, "control": 0.05, "lift": 0.05, "low": -0.01, "high": 0.11}


def test_intro_names_the_campaign_and_its_plan():
    key, values = intro_story(view(), 14, 40)
    assert key == "t05.intro" and values["campaign"] == "Spring news" and values["members"] == 24
    text = narrative(key, "en", **values)
    assert "6 contacted (25%)" in text and "within 14 days" in text and "contact 40 a day" in text


@pytest.mark.parametrize("lang, words", [("en", "over the campaign period (2026-11-01 to 2027-01-31,\n92 days)"),
                                         ("zh", "活动期内（2026-11-01 至 2027-01-31，共 92 天）")])
def test_intro_says_the_plan_runs_over_the_campaign_period(lang, words):
    period_view = view()
    period_view.period = (dt.date(2026, 11, 1), dt.date(2027, 1, 31))
    key, values = intro_story(period_view, 92, 40, follows_period=True)
    assert key == "t05.intro_period"
    assert words in narrative(key, lang, **values)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lagging_branches_or_all_on_plan(lang):
    key, values = lagging_story(view(["Hami", "Kashgar"]), 0.8, lang)
    assert key == "t05.lagging" and values == {"lag_ratio": 0.8, "branches": "Hami, Kashgar"}
    assert "80%" in narrative(key, lang, **values)
    assert lagging_story(view(), 0.8, lang) == ("t05.on_plan", {})


def test_provisional_read_only_with_responses():
    key, values = provisional_story(view(effect=EFFECT))
    assert key == "t05.provisional"
    assert "+5.00%" in narrative(key, "en", **values) and "-1.00%" in narrative(key, "en", **values)
    assert provisional_story(view()) == ("t05.no_response", {})
