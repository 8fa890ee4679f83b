"""Template 09's words (workbench.report.t09): stories, tiles, the PSI table and the advice, in both languages."""
from __future__ import annotations

import pytest

from workbench.errors import ParameterError
from workbench.i18n import set_language
from workbench.notebook import narrative
from workbench.report.t09 import actions_story, monitoring_cards, psi_table, story
from tests.test_viz_monitoring import _result


@pytest.fixture(params=["en", "zh"])
def lang(request):
    set_language(request.param)
    yield request.param
    set_language("zh")


def test_every_story_fills_its_narrative(lang):
    res = _result()
    for section in ("intro", "drift", "score", "decay", "calibration"):
        key, values = story(res, section)
        assert narrative(key, lang, **values)
    key, values = story(_result(decay=False), "decay")
    assert key == "t09.decay.none"
    with pytest.raises(ParameterError, match="section"):
        story(res, "weather")


def test_drift_story_counts_and_names_the_latest_statuses():
    set_language("en")
    try:
        key, values = story(_result(), "drift")
        text = narrative(key, "en", **values)
        assert "**1** input(s) in alert" in text and "**1** to watch" in text
        values_cards, formats = monitoring_cards(_result())
        assert values_cards["t09.kpi.alert"] == 1 and values_cards["t09.kpi.auc"] == 0.55
        table = psi_table(_result(), top=2, lang="en")
        assert list(table.columns) == ["2026-08", "2026-09", "2026-10", "Status"]
        assert table["Status"].tolist() == ["alert", "watch"] and table.iloc[0]["2026-10"] == "0.600"
    finally:
        set_language("zh")


def test_actions_story_words_each_action_in_order(lang):
    actions = [{"action": "retrain_outcomes", "month": "2026-10", "auc": 0.55, "training_auc": 0.82, "lift": 1.2,
                "training_lift": 4.1, "se": 0.03},
               {"action": "retrain", "month": "2026-10", "features": ["gprs_mb_mean"], "score": "alert"},
               {"action": "recut_grades", "psi": 0.4}]
    key, values = actions_story(actions)
    text = narrative(key, lang, **values)
    assert text.index("1.") < text.index("2.") < text.index("3.")
    assert "0.550" in text and "0.820" in text and "0.400" in text
    key, values = actions_story([{"action": "keep", "month": "2026-10"}])
    assert "2026-10" in narrative(key, lang, **values)
