"""The words of template 01: stories of each section of the findings, KPI tiles, branch and feature names."""
from __future__ import annotations

import numpy as np
import pytest
from test_status_analysis import KPIS, PEN, full_findings

from workbench.errors import ParameterError
from workbench.notebook import narrative
from workbench.report.t01 import SECTIONS, branch_name, feature_label, status_cards, story
from workbench.status.analysis import status_findings, summarise_kpis, summarise_penetration


def test_every_section_fills_its_narrative_in_both_languages():
    f = full_findings()
    for lang in ("zh", "en"):
        for section in SECTIONS:
            dims = ["branch_id", "brand", "age_band"] if section == "segment" else [None]
            for dim in dims:
                key, values = story(f, section, lang, dimension=dim)
                text = narrative(key, lang, **values)   # raises on a missing or unused value
                assert text and "{" not in text


def test_story_values_by_hand():
    f = full_findings()
    key, v = story(f, "capital", "zh")
    assert key == "t01.capital.story"
    assert (v["capital"], v["highest"], v["lowest"]) == ("乌鲁木齐", "乌鲁木齐", "克孜勒苏")
    assert v["capital_ratio"] == pytest.approx(2.25)
    assert "首府是地州的 2.25 倍" in narrative(key, "zh", **v)
    key, v = story(f, "segment", "en", dimension="brand")
    assert (v["highest"], v["lowest"], v["dimension"]) == ("GoTone", "Easy-Own", "brand")
    key, v = story(f, "drivers", "en")
    assert v["first"] == feature_label("arpu_mean", "en") and v["others"] == feature_label("brand", "en")
    assert v["count"] == 2 and v["first_lift"] == 5.0
    assert feature_label("not_in_catalogue") == "not_in_catalogue"
    key, v = story(f, "scope", "en")
    assert v["scope"] == "the whole province"
    key, v = story(full_findings(["kashgar", "hami"]), "scope", "zh")
    assert v["scope"] == "哈密、喀什"
    assert branch_name("hotan", "en") == "Hotan" and branch_name("nowhere") == "nowhere"


def test_story_without_the_capital_and_missing_values():
    f = full_findings()
    f["penetration"] = summarise_penetration(PEN[PEN["value"] != "urumqi"])
    key, v = story(f, "capital", "en")
    assert key == "t01.capital.single" and (v["highest"], v["lowest"]) == ("Hami", "Kizilsu")
    assert "Hami" in narrative(key, "en", **v)
    f["kpis"] = summarise_kpis(KPIS, recent_months=12)   # growth undefined
    key, v = story(f, "kpis", "en")
    assert np.isnan(v["growth"]) and "nan%" in narrative(key, "en", **v)


def test_story_names_bad_sections():
    f = full_findings()
    with pytest.raises(ParameterError, match=r"'section' parameter must be one of \['scope'"):
        story(f, "summary")
    with pytest.raises(ParameterError, match=r"'dimension' parameter must be one of \['age_band', 'branch_id', "
                                             r"'brand'\]. Got 'gender'"):
        story(f, "segment", dimension="gender")
    with pytest.raises(ParameterError, match="'findings' parameter must be status findings holding the 'retention'"):
        story(status_findings("mobile_newspaper", "2026-10"), "retention")


def test_status_cards_show_a_dash_for_what_was_not_computed():
    f = full_findings()
    values, formats = status_cards(f)
    # 4/3 net adds a month, 7/37 churn, 3/7 free-month leavers: each as the report shows it
    assert values == {"t01.card.subscribers": "14", "t01.card.penetration": "10.00%", "t01.card.net_adds": "1.3",
                      "t01.card.churn": "18.92%", "t01.card.free_month": "42.9%"}
    assert formats == {}
    f["kpis"]["churn_rate"] = None
    values, formats = status_cards(f)
    assert values["t01.card.churn"] == "-" and formats == {}
    values, _ = status_cards(f, "potential")
    assert values["t01.card.lookalikes"] == "230" and values["t01.card.retained"] == "50.0%"
    assert values["t01.card.expected"] == "7" and values["t01.card.conversion"] == "3.04%"   # 7 / 230
    f["potential"]["lookalikes"] = 12345
    assert status_cards(f, "potential")[0]["t01.card.lookalikes"] == "12,345"
    with pytest.raises(ParameterError, match=r"'which' parameter must be one of \['overview', 'potential'\]"):
        status_cards(f, "all")
