"""Eligibility of every subscriber x product (workbench.ops.eligibility) on a tiny explicit province."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from ops_fixtures import PRODUCTS, tiny_province

from workbench.errors import DataValidationError, ParameterError
from workbench.i18n import catalogue, t
from workbench.ops.eligibility import ELIGIBILITY_COLUMNS, REASON_ORDER, eligibility, offers_json, reason_code


def _reasons(frame: pd.DataFrame) -> dict[tuple[int, str], str | None]:
    return {(int(r.subscriber_id), r.product_id): (None if pd.isna(r.reason) else r.reason)
            for r in frame.itertuples()}


def test_every_rule_gives_its_reason():
    found = eligibility(tiny_province())
    assert list(found.columns) == list(ELIGIBILITY_COLUMNS)
    assert len(found) == 5 * len(PRODUCTS)
    r = _reasons(found)
    assert r[(1, "A")] == "held"
    assert r[(1, "B")] == "exclusive:A"
    assert r[(1, "C")] is None and r[(1, "D")] is None
    assert r[(2, "A")] is None                          # unsubscribed again: may order it
    assert r[(2, "C")] == "handset"                     # current handset lacks MMS
    assert r[(3, "C")] is None                          # the later handset (SMART) counts, not the old one
    assert r[(3, "D")] == "held"
    assert r[(4, "C")] == "handset_unknown"
    assert r[(4, "D")] is None
    assert {r[(5, p)] for p in PRODUCTS} == {"inactive"}
    assert (found["eligible"] == found["reason"].isna()).all()


def test_credit_grade_excludes_promotions_only_where_nothing_else_applies():
    credit = pd.DataFrame({"subscriber_id": [1, 3, 4], "grade": ["E", "A", "D"]})
    r = _reasons(eligibility(tiny_province(), credit=credit))
    assert r[(1, "A")] == "held"                        # held comes first
    assert r[(1, "C")] == "credit_grade:E"
    assert r[(3, "A")] is None                          # grade A is not excluded
    assert r[(4, "D")] == "credit_grade:D"
    r = _reasons(eligibility(tiny_province(), credit=credit, excluded_grades=("E",)))
    assert r[(4, "D")] is None


def test_as_of_ignores_later_events():
    r = _reasons(eligibility(tiny_province(), as_of="2026-10-15"))
    assert r[(3, "D")] is None                          # ordered on 10-30
    assert r[(1, "A")] == "held"
    r = _reasons(eligibility(tiny_province(), as_of="2026-09-10"))
    assert r[(5, "A")] is None                          # September's usage is the last month then
    assert r[(1, "A")] == "inactive"                    # ... and only subscriber 5 used the network


def test_offers_json_lists_every_product_with_the_same_answers():
    frame = tiny_province()
    offers = offers_json(frame).set_index("subscriber_id")["offers"].map(json.loads)
    flat = eligibility(frame)
    assert [o["product"] for o in offers.loc[1]] == list(PRODUCTS)
    for row in flat.itertuples():
        item = next(o for o in offers.loc[row.subscriber_id] if o["product"] == row.product_id)
        assert item["eligible"] == bool(row.eligible)
        assert item["reason"] == (None if pd.isna(row.reason) else row.reason)


def test_missing_table_and_capability_column_are_named():
    frame = tiny_province()
    del frame["handset_events"]
    with pytest.raises(DataValidationError, match="handset_events"):
        eligibility(frame)
    frame = tiny_province()
    frame["handset_models"] = frame["handset_models"].drop(columns="cap_mms")
    with pytest.raises(DataValidationError, match=r"cap_mms"):
        eligibility(frame)
    frame = tiny_province()
    frame["vas_orders"] = frame["vas_orders"].drop(columns="event_type")
    with pytest.raises(DataValidationError, match=r"vas_orders.*event_type"):
        eligibility(frame)


def test_credit_without_grade_column_is_refused():
    with pytest.raises(DataValidationError, match="grade"):
        eligibility(tiny_province(), credit=pd.DataFrame({"subscriber_id": [1]}))


def test_every_reason_code_has_words_in_both_languages():
    labels = catalogue()
    for code in REASON_ORDER:
        entry = labels[f"ops.reason.{code}"]
        assert entry["zh"] and entry["en"]
    for code, arg in (("exclusive", "MN_NEWS"), ("credit_grade", "E")):   # rendered as the look-up API does
        for lang in ("zh", "en"):
            assert arg in t(f"ops.reason.{code}", lang, arg=arg)
    assert reason_code("exclusive:MN_NEWS") == ("exclusive", "MN_NEWS")
    with pytest.raises(ParameterError, match="reason code"):
        reason_code("nope")
