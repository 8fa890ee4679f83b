"""Eligible services of changers, ranked, with their channel (workbench.triggers.recommend)."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.data.tables import CAPABILITIES, CONTENT_CATEGORIES
from workbench.errors import DataValidationError, ParameterError
from workbench.triggers import RecommendInputs, recommend

PRODUCTS = pd.DataFrame({
    "product_id": ["SONG", "STOCK", "WAP", "MN_NEWS", "MN_SPORTS", "RBT"],
    "family": ["full_song", "mobile_stock", "wap_portal", "mobile_newspaper", "mobile_newspaper", "ringback_tone"],
    "content_category": ["music", "finance", None, "news", "sports", "music"],
    "required_capability": ["mp3", "java", "wap", "mms", "mms", None],
})


def _changer(sid, new, old=()):
    return {"subscriber_id": sid, **{f"new_cap_{c}": c in new for c in CAPABILITIES},
            **{f"old_cap_{c}": c in old for c in CAPABILITIES}}


def _prefs(rows):
    frame = pd.DataFrame([{c: r.get(c, 0.0) for c in CONTENT_CATEGORIES} for r in rows.values()],
                         index=pd.Index(list(rows), name="subscriber_id"))
    return frame.div(frame.sum(axis=1), axis=0)


def _inputs(holdings=(), prefs=None):
    held = pd.DataFrame(list(holdings), columns=["subscriber_id", "product_id"])
    prefs = prefs if prefs is not None else _prefs({1: {"music": 1, "finance": 1, "news": 1, "sports": 1}})
    return RecommendInputs(PRODUCTS, held, prefs)


def test_only_services_the_new_handset_supports_and_needing_a_capability():
    out = recommend(pd.DataFrame([_changer(1, {"mp3", "wap"})]), _inputs())
    assert sorted(out["product_id"]) == ["SONG", "WAP"]          # no java, no mms; RBT needs nothing
    with_all = recommend(pd.DataFrame([_changer(1, {"mp3", "wap"})]), _inputs(), capability_only=False)
    assert "RBT" in set(with_all["product_id"])


def test_held_products_and_their_family_are_not_offered():
    ch = pd.DataFrame([_changer(1, set(CAPABILITIES))])
    out = recommend(ch, _inputs(holdings=[(1, "MN_NEWS"), (1, "STOCK")]))
    assert sorted(out["product_id"]) == ["SONG", "WAP"]         # one newspaper edition held -> no other edition


def test_ranking_by_preference_and_the_newly_gained_capability():
    prefs = _prefs({1: {"music": 0.3, "finance": 0.4, "news": 0.3}})
    ch = pd.DataFrame([_changer(1, {"mp3", "java"}, old={"java"})])
    out = recommend(ch, _inputs(prefs=prefs), gained_bonus=0.5)
    assert out["product_id"].tolist() == ["SONG", "STOCK"]        # 0.3 * 1.5 beats 0.4 (java not new)
    assert out["rank"].tolist() == [1, 2] and out["gained"].tolist() == [True, False]
    assert recommend(ch, _inputs(prefs=prefs), gained_bonus=0)["product_id"].tolist() == ["STOCK", "SONG"]


def test_channel_by_the_service_rules_and_wap_push_needs_wap():
    with_wap = recommend(pd.DataFrame([_changer(1, {"mp3", "wap", "java"})]), _inputs())
    assert dict(zip(with_wap["product_id"], with_wap["channel"])) == {
        "SONG": "wap_push", "WAP": "wap_push", "STOCK": "outbound_call"}
    no_wap = recommend(pd.DataFrame([_changer(1, {"mp3"})]), _inputs())
    assert no_wap["channel"].tolist() == ["sms"]
    ivr = recommend(pd.DataFrame([_changer(1, {"java"})]), _inputs(), channel_rules={"java": "ivr"})
    assert ivr["channel"].tolist() == ["ivr"]


def test_bad_input_is_named():
    ch = pd.DataFrame([_changer(1, {"mp3"})])
    with pytest.raises(ParameterError, match="channel_rules"):
        recommend(ch, _inputs(), channel_rules={"mp3": "pigeon"})
    with pytest.raises(DataValidationError, match="new_cap_wap"):
        recommend(ch.drop(columns=["new_cap_wap"]), _inputs())
    with pytest.raises(ParameterError, match="gained_bonus"):
        recommend(ch, _inputs(), gained_bonus=-1)
