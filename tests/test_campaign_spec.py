"""CampaignSpec: validation names the field, round trips through dict / JSON / YAML, versions and hashes."""
import dataclasses
import datetime as dt
import json

import pytest

from workbench.campaign import (
    BY_PREFERENCE, CAMPAIGN_CHANNELS, CampaignSpec, ChannelSpec, ContactPolicy, Goal, Offer, TargetGroup,
    UniversalControl,
)
from workbench.data.tables import ORDER_CHANNELS
from workbench.errors import ParameterError


def make_spec(**changes) -> CampaignSpec:
    base = dict(
        name="手机报 autumn push",
        owner="analyst1",
        goal=Goal(2000, dt.date(2026, 9, 1), dt.date(2026, 9, 30), "penetration fell in the prefectures"),
        offer=Offer("mobile_newspaper", edition="sports", tariff="3元/月", monthly_fee=3.0, free_months=1),
        target=TargetGroup("mn-2026-08", list_size=50_000, rules=("gprs_mb > 20 and content_news > 5",),
                           branches=("hami", "turpan"), brands=("mzone",)),
        channels=(
            ChannelSpec("sms", 0.05, 1.4, default_daily_capacity=5000),
            ChannelSpec("outbound_call", 2.5, 4.0, daily_capacity={"hami": 300, "turpan": 0}),
        ),
        branches=("hami", "turpan", "urumqi"),
        response_window_days=30,
        control_share=0.1,
        universal_control=UniversalControl(enabled=True, share=0.02, period_key="2026H2", seed=99),
        contact_policy=ContactPolicy(recent_days=7, max_contacts_month=3),
        value_per_order=36.0,
        budget=80_000.0,
        seed=20260901,
    )
    base.update(changes)
    return CampaignSpec(**base)


def test_round_trip_dict_json_yaml_keeps_everything():
    spec = make_spec()
    assert CampaignSpec.from_dict(spec.to_dict()) == spec
    assert CampaignSpec.from_json(spec.to_json()) == spec
    assert CampaignSpec.from_yaml(spec.to_yaml()) == spec
    data = json.loads(spec.to_json())
    assert data["goal"]["period_start"] == "2026-09-01"
    assert data["channels"][1]["daily_capacity"] == {"hami": 300, "turpan": 0}
    assert "手机报" in spec.to_yaml()  # unicode kept readable


def test_dates_in_iso_strings_are_parsed():
    spec = make_spec()
    data = spec.to_dict()
    assert isinstance(data["goal"]["period_end"], str)
    back = CampaignSpec.from_dict(data)
    assert back.goal.period_end == dt.date(2026, 9, 30)
    assert back.goal.period_days == 30


def test_content_hash_ignores_version_and_tracks_content():
    spec = make_spec()
    v2 = spec.bump()
    assert v2.version == 2 and spec.version == 1
    assert v2.content_hash() == spec.content_hash()
    v3 = spec.bump(control_share=0.2)
    assert v3.version == 2 and v3.control_share == 0.2
    assert v3.content_hash() != spec.content_hash()
    assert len(spec.content_hash()) == 64
    # the hash is a function of the content, not of object identity
    assert CampaignSpec.from_json(spec.to_json()).content_hash() == spec.content_hash()


def test_bump_validates_again_and_refuses_version():
    spec = make_spec()
    with pytest.raises(ParameterError, match="'control_share' parameter must be a finite number in \\[0, 0.9\\]"):
        spec.bump(control_share=1.5)
    with pytest.raises(ParameterError, match="'changes' parameter"):
        spec.bump(version=7)


def test_derived_properties():
    spec = make_spec(branches=())
    assert len(spec.campaign_branches) == 14
    assert spec.channel_names == ("sms", "outbound_call")
    assert spec.channel("outbound_call").capacity_for("hami") == 300
    assert spec.channel("outbound_call").capacity_for("urumqi") is None
    assert spec.channel("sms").capacity_for("urumqi") == 5000
    assert Offer("mobile_newspaper").by_preference and Offer("mobile_newspaper").edition == BY_PREFERENCE
    with pytest.raises(ParameterError, match="'channel' parameter must be one of the campaign's channels"):
        spec.channel("ivr")


def test_campaign_channels_are_order_channels():
    assert set(CAMPAIGN_CHANNELS) <= set(ORDER_CHANNELS)


@pytest.mark.parametrize("changes, message", [
    ({"name": " "}, "'name' parameter must be a non-empty string"),
    ({"owner": 3}, "'owner' parameter must be a non-empty string"),
    ({"control_share": -0.1}, "'control_share' parameter must be a finite number in \\[0, 0.9\\]. Got -0.1"),
    ({"response_window_days": 0}, "'response_window_days' parameter must be an integer in \\[1, 365\\]. Got 0"),
    ({"value_per_order": 0}, "'value_per_order' parameter must be a finite number > 0"),
    ({"budget": -1.0}, "'budget' parameter must be a finite number >= 0"),
    ({"seed": -5}, "'seed' parameter must be an integer in \\[0, "),
    ({"seed": True}, "'seed' parameter must be an integer"),
    ({"version": 0}, "'version' parameter must be an integer >= 1"),
    ({"branches": ("hami", "paris")}, "'branches' parameter must be a list of values from .*Got \\['paris'\\]"),
    ({"branches": ("hami", "hami")}, "'branches' parameter must be a list without repeated values"),
    ({"branches": ("urumqi",)}, "'target.branches' parameter must be branches of the campaign \\['urumqi'\\]"),
    ({"channels": ()}, "'channels' parameter must be a non-empty list of ChannelSpec"),
    ({"channels": (ChannelSpec("sms", 0.1), ChannelSpec("sms", 0.2))},
     "'channels' parameter must be each channel at most once"),
    ({"goal": "soon"}, "'goal' parameter must be a Goal"),
])
def test_invalid_spec_fields_are_named(changes, message):
    with pytest.raises(ParameterError, match=message):
        make_spec(**changes)


@pytest.mark.parametrize("build, message", [
    (lambda: Goal(0, dt.date(2026, 9, 1), dt.date(2026, 9, 2)),
     "'goal.target_stable_subscribers' parameter must be an integer >= 1"),
    (lambda: Goal(10, "2026-09-10", "2026-09-01"),
     "'goal.period_end' parameter must be a date on or after goal.period_start \\(2026-09-10\\). Got '2026-09-01'"),
    (lambda: Goal(10, "9/1/2026", "2026-09-30"), "'goal.period_start' parameter must be a date"),
    (lambda: Offer("mobile_tv"), "'offer.family' parameter must be one of .*'mobile_newspaper'.*Got 'mobile_tv'"),
    (lambda: Offer("mobile_newspaper", free_months=13),
     "'offer.free_months' parameter must be an integer in \\[0, 12\\]"),
    (lambda: Offer("mobile_newspaper", monthly_fee=-3), "'offer.monthly_fee' parameter must be a finite number >= 0"),
    (lambda: TargetGroup("m1"),
     "'target.list_size / target.score_threshold' parameter must be exactly one of the two set"),
    (lambda: TargetGroup("m1", list_size=10, score_threshold=0.5), "exactly one of the two set"),
    (lambda: TargetGroup("m1", score_threshold=1.5),
     "'target.score_threshold' parameter must be a finite number in \\[0, 1\\]"),
    (lambda: TargetGroup("m1", list_size=0), "'target.list_size' parameter must be an integer >= 1"),
    (lambda: TargetGroup("m1", list_size=5, brands=("iphone",)),
     "'target.brands' parameter must be a list of values from"),
    (lambda: TargetGroup("m1", list_size=5, rules="x > 1"), "'target.rules' parameter must be a list of strings"),
    (lambda: ChannelSpec("fax", 1.0),
     "'channels.name' parameter must be one of \\['sms', 'wap_push', 'outbound_call', 'ivr', 'hall', "
     "'key_account'\\]. Got 'fax'"),
    (lambda: ChannelSpec("ivr", -0.2),
     "'channels\\[ivr\\].unit_cost' parameter must be a finite number >= 0. Got -0.2"),
    (lambda: ChannelSpec("ivr", 0.2, float("nan")),
     "'channels\\[ivr\\].response_multiplier' parameter must be a finite number"),
    (lambda: ChannelSpec("ivr", 0.2, daily_capacity={"mars": 3}),
     "'channels\\[ivr\\].daily_capacity' parameter must be keys from the branches"),
    (lambda: ChannelSpec("ivr", 0.2, daily_capacity={"hami": -3}),
     "'channels\\[ivr\\].daily_capacity\\[hami\\]' parameter must be an integer >= 0"),
    (lambda: UniversalControl(enabled=True, share=0.02),
     "'universal_control.period_key' parameter must be a non-empty string"),
    (lambda: UniversalControl(share=0.5),
     "'universal_control.share' parameter must be a finite number in \\[0, 0.2\\]"),
    (lambda: ContactPolicy(recent_days=-1),
     "'contact_policy.recent_days' parameter must be an integer in \\[0, 365\\]"),
    (lambda: ContactPolicy(max_contacts_month=0),
     "'contact_policy.max_contacts_month' parameter must be an integer in \\[1, 100\\]"),
])
def test_invalid_section_fields_are_named(build, message):
    with pytest.raises(ParameterError, match=message):
        build()


def test_from_dict_rejects_unknown_and_missing_keys():
    data = make_spec().to_dict()
    with pytest.raises(ParameterError,
                       match="'spec' parameter must be a mapping with keys from .*unknown key\\(s\\) \\['colour'\\]"):
        CampaignSpec.from_dict({**data, "colour": "red"})
    bad = json.loads(json.dumps(data))
    bad["goal"]["target"] = 5
    with pytest.raises(ParameterError, match="'goal' parameter must be a mapping with keys from .*\\['target'\\]"):
        CampaignSpec.from_dict(bad)
    bad = json.loads(json.dumps(data))
    del bad["owner"]
    with pytest.raises(ParameterError, match="spec: .*owner"):
        CampaignSpec.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["channels"][0]["unit_cost"] = "cheap"
    with pytest.raises(ParameterError,
                       match="'channels\\[sms\\].unit_cost' parameter must be a finite number >= 0. Got 'cheap'"):
        CampaignSpec.from_dict(bad)
    with pytest.raises(ParameterError, match="spec: not valid JSON"):
        CampaignSpec.from_json("{not json")
    with pytest.raises(ParameterError, match="'spec' parameter must be a mapping"):
        CampaignSpec.from_yaml("- a list")


def test_spec_is_frozen_and_hashable():
    spec = make_spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 1  # type: ignore[misc]
    assert hash(spec) == hash(CampaignSpec.from_json(spec.to_json()))


def test_store_hash_accepts_the_spec():
    from workbench.store import spec_hash

    spec = make_spec()
    assert spec_hash(spec.to_dict()) == spec_hash(CampaignSpec.from_json(spec.to_json()).to_dict())
    assert spec_hash(spec.to_dict()) != spec_hash(spec.bump().to_dict())  # the store's hash includes the version
