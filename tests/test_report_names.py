"""Codes as names (workbench.report.names): catalogue labels and branch names in either language."""
from __future__ import annotations

import pytest

import workbench.i18n as i18n
from workbench.report.names import branch_name, label


@pytest.fixture(autouse=True)
def _clean_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.setattr(i18n, "_current", None)


def test_a_code_is_shown_by_its_catalogue_name():
    assert label("channel", "outbound_call", "zh") == "外呼"
    assert label("channel", "outbound_call", "en") == "Outbound call"
    assert label("brand", "gotone", "en") == "GoTone"


def test_a_code_without_a_name_is_shown_as_it_is():
    assert label("channel", "carrier_pigeon", "en") == "carrier_pigeon"
    assert label("score_decile", 3, "zh") == "3"
    assert branch_name("atlantis", "zh") == "atlantis"


def test_a_branch_is_shown_by_its_name_in_the_current_language():
    assert (branch_name("aksu", "zh"), branch_name("aksu", "en")) == ("阿克苏", "Aksu")
    i18n.set_language("en")
    assert branch_name("aksu") == "Aksu" and label("channel", "sms") == "SMS"
    i18n.set_language("zh")
    assert branch_name("aksu") == "阿克苏" and label("channel", "sms") == "短信"
