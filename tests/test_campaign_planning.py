"""Campaign planning end to end: eligibility with the province data, list, control, channel plan, lists, release.

Two kinds of data: a tiny explicit province (frames) where every exclusion rule hits known users, and the
sample province scored by a TargetModel trained here with the public model API (label: stable subscribers).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.i18n import t
import sqlalchemy as sa

from workbench.campaign import LIST_COLUMNS, ChannelSpec, evaluate_plan, universal_control
from workbench.campaign.channel_plan import build_problem, channel_inputs
from workbench.campaign.executors import ROSTER_COLUMNS, default_executors, executor_roster, roster_mapping
from workbench.campaign.from_goal import baseline_from_goal, channel_specs, spec_from_goal
from workbench.campaign.inputs import PlanInputs, candidate_frame, capable_subscribers
from workbench.campaign.planning import (
    CAMPAIGN_FILE, FUNNEL_STEPS, MEMBER_FRAME_COLUMNS, PLAN_STEPS, SCORES_FILE, CampaignPlan, contact_history,
    default_store_url, gather_plan_inputs, model_reference, model_rules, plan_campaign, plan_from_inputs,
    read_campaign_file, read_scores, release, release_for_run, store_user, write_campaign_file,
)
from workbench.campaign.targeting import calibrate_scores, join_reasons, select_target, shadow_channels
from workbench.report.t04 import (
    channel_totals, inputs_story, list_preview, plan_cards, plan_story, release_story, spec_table,
)
from workbench.campaign.spec import TargetGroup
from workbench.errors import AccessDenied, DataValidationError, ParameterError
from workbench.notebook import narrative
from workbench.store import SYSTEM_USER, PasswordPolicy, Store

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"
PASSWORD = "s3cret-pass-123"


# ----------------------------------------------------------------- a tiny province
def tiny_province() -> dict[str, pd.DataFrame]:
    """12 subscribers: 1-10 and 12 in hami / urumqi, 11 in kashgar (outside the campaign's branches).

    1 subscribes to the newspaper; 5 has a handset without MMS; 6 changed to one before as_of; 8 has no
    handset on record; 7 changed from a basic handset to an MMS one; 12 got an MMS handset only after as_of.
    """
    ids = list(range(1, 13))
    branch = ["hami"] * 6 + ["urumqi"] * 4 + ["kashgar", "hami"]
    subscribers = pd.DataFrame({
        "subscriber_id": ids, "msisdn": [f"1380000{i:04d}" for i in ids], "branch_id": branch,
        "brand": ["mzone"] * 12, "tariff_plan": ["t1"] * 12,
        "join_date": pd.to_datetime(["2024-01-01"] * 12), "age": [30] * 12, "gender": ["M"] * 12,
        "rejoined": [False] * 12,
    })
    products = pd.DataFrame({
        "product_id": ["MN_NEWS", "SONG"], "family": ["mobile_newspaper", "full_song"],
        "name_zh": ["手机报新闻版", "整曲"], "name_en": ["News", "Song"], "content_category": ["news", "music"],
        "edition": ["news", None], "monthly_fee": [3.0, 8.0], "free_months": [1, 0],
        "required_capability": ["mms", "mp3"],
    })
    orders = pd.DataFrame({
        "event_id": [1, 2], "subscriber_id": [1, 2], "product_id": ["MN_NEWS", "SONG"],
        "event_date": pd.to_datetime(["2026-05-01", "2026-05-01"]), "event_type": ["order", "order"],
        "channel": ["sms", "sms"],
    })
    models = pd.DataFrame({
        "handset_model": ["MMS-1", "BASIC-1"], "vendor": ["v", "v"], "price_band": ["mid", "low"],
        "cap_wap": [True, False], "cap_mms": [True, False], "cap_java": [False, False], "cap_mp3": [False, False],
        "smartphone": [False, False],
    })
    ev = [(i, "2026-01-01", "MMS-1") for i in ids if i not in (5, 6, 7, 8, 12)]
    ev += [(5, "2026-01-01", "BASIC-1"), (6, "2026-01-01", "MMS-1"), (6, "2026-11-01", "BASIC-1"),
           (7, "2026-01-01", "BASIC-1"), (7, "2026-10-01", "MMS-1"), (12, "2026-01-01", "BASIC-1"),
           (12, "2026-12-01", "MMS-1")]
    handsets = pd.DataFrame(ev, columns=["subscriber_id", "event_date", "handset_model"])
    handsets["event_date"] = pd.to_datetime(handsets["event_date"])
    handsets["imei"] = [f"{i:015d}" for i in range(len(handsets))]
    return {"subscribers": subscribers, "vas_products": products, "vas_orders": orders, "handset_models": models,
            "handset_events": handsets}


TINY_AS_OF = "2026-11-20"


def tiny_scores() -> pd.DataFrame:
    ids = list(range(1, 13))
    return pd.DataFrame({"subscriber_id": ids, "score": [0.9 - 0.05 * i for i in range(12)],
                         "reason_1": [f"r{i}" for i in ids], "reason_2": [None] * 6 + ["s"] * 6,
                         "edition": ["sports"] * 12})


def tiny_goal(**kw) -> dict:
    goal = {"product": "mobile_newspaper", "target_stable_subscribers": 2, "period_start": "2026-11-20",
            "period_end": "2026-11-21", "reason": {"text": "tiny"}, "branches": ["hami", "urumqi"],
            "check": {"conversion_rate": 0.1, "lookalikes": 4}}
    goal.update(kw)
    return goal


def tiny_spec(**kw):
    args = dict(channels={"sms": {"unit_cost": 0.01, "response_multiplier": 1.5},
                          "outbound_call": {"unit_cost": 1.0, "response_multiplier": 4.0, "daily_capacity": 1}},
                list_size=3, control_share=0.0, seed=5, universal_control_share=0.0)
    args.update(kw)
    return spec_from_goal(tiny_goal(), **args)


#: 3: contacted yesterday (recent); 4: four contacts earlier this month (monthly cap), none recent.
TINY_CONTACTS = pd.DataFrame({
    "subscriber_id": [3, 4, 4, 4, 4, 9],
    "contact_date": pd.to_datetime(["2026-11-19", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05",
                                    "2026-10-01"]),
})


def tiny_plan(**kw):
    spec = kw.pop("spec", None) or tiny_spec()
    args = dict(as_of=TINY_AS_OF, executors={"hami": ["ha"], "urumqi": ["ua", "ub"]}, dnd=[2, 1],
                contacts=TINY_CONTACTS, progress=False)
    args.update(kw)
    return plan_campaign(spec, tiny_scores(), tiny_province(), **args)


# ----------------------------------------------------------------- eligibility on the tiny province
def test_every_exclusion_rule_hits_the_right_users_and_the_funnel_adds_up():
    plan = tiny_plan()
    f = plan.funnel.set_index("step")
    assert list(plan.funnel["step"]) == list(FUNNEL_STEPS)
    assert f["excluded"].to_dict() == {"candidates": 0, "segment": 1, "subscriber": 1, "do_not_disturb": 1,
                                       "recent_contact": 1, "monthly_cap": 1, "handset": 4, "universal_control": 0,
                                       "credit_grade": 0,
                                       "outside_list": 0}
    assert (plan.funnel["remaining"] == 12 - plan.funnel["excluded"].cumsum()).all()
    # eligible: 7 (MMS handset since October), 9, 10 (urumqi); the list takes the best 3 of them
    assert sorted(plan.members["subscriber_id"]) == [7, 9, 10]
    assert plan.summary["eligible"] == 3 and plan.summary["listed"] == 3 and plan.summary["candidates"] == 12


def test_universal_control_holds_out_exactly_the_hashed_members():
    spec = tiny_spec(universal_control_share=0.2, universal_period_key="2026H2")
    plan = tiny_plan(spec=spec, dnd=None, contacts=None)
    segment = [i for i in range(1, 13) if i != 11]
    reached = [i for i in segment if i not in (1, 5, 6, 8, 12)]   # past the subscriber and handset rules
    held = np.asarray(reached)[universal_control(reached, 0.2, "2026H2", 0)]
    assert plan.funnel.set_index("step").loc["universal_control", "excluded"] == len(held)
    assert not set(held) & set(plan.members["subscriber_id"])


def test_handset_at_as_of_and_current_subscribers():
    src = tiny_province()
    capable = set(capable_subscribers(src, TINY_AS_OF, "mobile_newspaper").tolist())
    assert capable == {1, 2, 3, 4, 7, 9, 10, 11}          # 6 changed to a basic handset; 12 upgraded later
    assert set(capable_subscribers(src, "2026-12-31", "mobile_newspaper").tolist()) == capable | {12}
    assert capable_subscribers(src, TINY_AS_OF, "full_song").size == 0   # nobody plays MP3
    with pytest.raises(ParameterError, match=r"catalogue \(vas_products\) has no product 'MN_X'"):
        capable_subscribers(src, TINY_AS_OF, "mobile_newspaper", "MN_X")
    src["vas_products"].loc[0, "required_capability"] = None
    assert capable_subscribers(src, TINY_AS_OF, "mobile_newspaper") is None   # needs nothing: rule off


def test_default_campaign_name_is_the_products_name_in_the_current_language_and_the_period():
    from workbench.i18n import get_language, set_language

    before = get_language()
    try:
        set_language("zh")
        assert tiny_spec().name == "手机报 2026-11-20..2026-11-21"
        set_language("en")
        assert tiny_spec().name == "Mobile newspaper 2026-11-20..2026-11-21"
    finally:
        set_language(before)
    assert tiny_spec(name="Spring push").name == "Spring push"


def test_segment_branches_and_brands_of_the_target_group():
    goal = tiny_goal(branches=[])
    spec = spec_from_goal(goal, channels={"sms": {"unit_cost": 0.01, "response_multiplier": 1.5}}, list_size=5,
                          control_share=0.0, brands=["gotone"])
    with pytest.raises(ParameterError, match="The target group is empty: of 12 scored users 0 are in the segment"):
        plan_campaign(spec, tiny_scores(), tiny_province(), as_of=TINY_AS_OF, executors={}, progress=False)


def test_candidates_carry_branch_and_brand_and_reasons_join():
    cands = candidate_frame(tiny_scores().iloc[::-1], tiny_province())
    assert list(cands.columns) == ["subscriber_id", "score", "branch_id", "brand"]
    assert cands["subscriber_id"].tolist() == list(range(12, 0, -1))   # the order of the scores
    assert cands["branch_id"].tolist()[:2] == ["hami", "kashgar"] and set(cands["brand"]) == {"mzone"}
    assert join_reasons(tiny_scores()).tolist()[5:7] == ["r6", "r7; s"]
    src = tiny_province()
    src["subscribers"].loc[0, "brand"] = "unknown_brand"   # outside the vocabulary: still carried as text
    assert candidate_frame(tiny_scores(), src)["brand"].tolist()[:2] == ["unknown_brand", "mzone"]


def test_scores_the_data_does_not_know_or_bad_scores_are_named():
    bad = pd.concat([tiny_scores(), pd.DataFrame({"subscriber_id": [99], "score": [0.5]})], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"1 scored subscriber id\(s\) are not in the data's subscribers "
                                                  r"table, e.g. \[99\]"):
        candidate_frame(bad, tiny_province())
    with pytest.raises(DataValidationError, match=r"column 'score' must hold probabilities in \[0, 1\]"):
        candidate_frame(tiny_scores().assign(score=1.5), tiny_province())
    with pytest.raises(DataValidationError, match="must be unique"):
        candidate_frame(pd.concat([tiny_scores()] * 2), tiny_province())
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['score'\]"):
        candidate_frame(tiny_scores().drop(columns="score"), tiny_province())
    with pytest.raises(DataValidationError, match="must hold integer subscriber ids"):
        candidate_frame(tiny_scores().assign(subscriber_id=np.arange(12) + 0.5), tiny_province())
    src = tiny_province()
    del src["handset_events"]
    with pytest.raises(DataValidationError, match=r"the source lacks \['handset_events'\]"):
        plan_campaign(tiny_spec(), tiny_scores(), src, as_of=TINY_AS_OF, executors={}, progress=False)


def test_bad_parameters_of_plan_campaign_are_named():
    with pytest.raises(ParameterError, match="The 'spec' parameter must be a CampaignSpec"):
        plan_campaign({"name": "x"}, tiny_scores(), tiny_province(), as_of=TINY_AS_OF, executors={})
    with pytest.raises(ParameterError, match="The 'as_of' parameter must be a date"):
        tiny_plan(as_of="yesterday")
    with pytest.raises(ParameterError, match=r"The 'baseline_rate' parameter must be a finite number in \(0, 1\]"):
        tiny_plan(baseline_rate=0.0)
    with pytest.raises(ParameterError, match="at least one executor for every .branch, channel. of the plan"):
        tiny_plan(executors={"hami": ["ha"]})
    with pytest.raises(DataValidationError, match=r"contacts: missing column\(s\) \['contact_date'\]"):
        tiny_plan(contacts=TINY_CONTACTS.rename(columns={"contact_date": "day"}))
    with pytest.raises(ParameterError, match="all 3 listed users are held out as control"):
        tiny_plan(spec=tiny_spec(control_share=0.9))


# ----------------------------------------------------------------- channel plan, lists on the tiny province
def test_tiny_plan_respects_capacity_and_gives_rows_to_executors():
    plan = tiny_plan()
    rows = plan.rows
    assert list(rows.columns) == list(LIST_COLUMNS)
    assert list(plan.members.columns) == list(MEMBER_FRAME_COLUMNS)
    # outbound calls: 1 a day for 2 days per branch -> at most 2 per branch
    calls = rows[rows["channel"] == "outbound_call"]
    assert calls.groupby("branch_id").size().max() <= 2
    assert rows["subscriber_id"].is_unique and set(rows["group"]) == {"target"}
    # the eligible users 7, 9, 10 are all in urumqi: 9 and 10 (the best rates) get the 2 calls, 7 an SMS;
    # the call list is dealt to both urumqi executors
    assert rows.set_index("subscriber_id")["channel"].to_dict() == {9: "outbound_call", 10: "outbound_call",
                                                                    7: "sms"}
    assert sorted(calls["executor"]) == ["ua", "ub"] and set(rows["executor"]) <= {"ua", "ub"}
    assert rows["msisdn_masked"].str.fullmatch(r"138\*{4}\d{4}").all()
    assert set(rows["edition"]) == {"sports"}   # by preference: the scores' edition
    # joined with the language's separator ("；" in Chinese)
    assert rows.set_index("subscriber_id").loc[7, "reasons"] == "r7" + t("reasons.separator") + "s"
    one_edition = tiny_plan(spec=tiny_spec(edition="news"))
    assert set(one_edition.rows["edition"]) == {"news"}


def test_a_plan_worth_nobody_releases_nothing(tmp_path):
    spec = tiny_spec(channels={"outbound_call": {"unit_cost": 100.0, "response_multiplier": 2.0}}, control_share=0.3,
                     list_size=3)
    plan = tiny_plan(spec=spec, dnd=None, contacts=None)
    assert plan.summary["contacted"] == 0 and plan.rows.empty and plan.power is None
    assert plan.members["channel"].isna().all() and not plan.members["released"].any()
    key, values = plan_story(plan, "power")
    assert key == "t04.story.power.none" and values == {}
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}", progress=False) as store, \
            pytest.raises(ParameterError, match="The plan releases no rows: nobody is contacted"):
        release(plan, store, SYSTEM_USER)


def test_scores_are_recalibrated_to_the_baseline_rate_of_a_reference_group():
    p = calibrate_scores([0.1, 0.2, 0.6], 0.05)
    assert p.mean() == pytest.approx(0.05, abs=1e-9) and (np.diff(p) > 0).all()
    ref = calibrate_scores([0.6, 0.2], 0.05, reference=[0.1, 0.2, 0.6])
    assert ref == pytest.approx(p[[2, 1]])
    assert calibrate_scores([0.0, 1.0], 0.5).tolist() == pytest.approx([0.5 - 0.5, 0.5 + 0.5], abs=1e-6)
    with pytest.raises(ParameterError, match=r"'scores' parameter must be a 1-d array of probabilities in \[0, 1\]. "
                                             r"Got \[1.2\]"):
        calibrate_scores([0.1, 1.2], 0.05)
    with pytest.raises(ParameterError, match=r"The 'baseline_rate' parameter must be a number in \(0, 1\)"):
        calibrate_scores([0.1], 1.0)
    # in a plan: the list's rates follow the reference, not the list size
    a = tiny_plan(baseline_rate=0.1, baseline_size=4)
    b = tiny_plan(baseline_rate=0.1, baseline_size=4, spec=tiny_spec(list_size=2))
    both = a.members.merge(b.members, on="subscriber_id")
    assert len(both) == 2 and both["response_rate_x"].to_numpy() == pytest.approx(both["response_rate_y"].to_numpy())


def test_shadow_channels_follow_the_plan_prices():
    users = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "branch_id": ["hami", "hami", "urumqi", "altay"],
                          "response_rate": [0.5, 0.01, 0.5, 0.5]})
    chans = pd.DataFrame({"channel": ["sms", "outbound_call"], "unit_cost": [0.1, 2.0],
                          "response_multiplier": [1.5, 3.0]})
    lam = pd.DataFrame([[0.0, 0.0], [0.0, 100.0]], index=pd.Index(["hami", "urumqi"], name="branch_id"),
                       columns=pd.Index(["sms", "outbound_call"], name="channel"))

    class Plan:
        info = {"lambda": lam, "mu": 0.0}

    got = shadow_channels(users, Plan(), chans, value_per_order=10.0)
    # 1: call (0.5*2*10-2 = 8 > sms 2.4); 2: sms worth 0.05-0.1 < 0, call -1.8: none; 3: call priced out -> sms;
    # 4: no price for altay (no target user there) -> none
    assert got.tolist()[0] == "outbound_call" and pd.isna(got.iloc[1]) and got.iloc[2] == "sms"
    assert pd.isna(got.iloc[3])
    Plan.info = {"lambda": lam, "mu": 10.0}   # a dear budget: the call's 2 yuan now cost 22
    assert shadow_channels(users, Plan(), chans, value_per_order=10.0).iloc[0] == "sms"
    Plan.info = {}
    with pytest.raises(ParameterError, match=r"a plan_channels\(\) result with prices"):
        shadow_channels(users, Plan(), chans, value_per_order=10.0)


def test_select_target_by_size_or_threshold_ties_by_id():
    frame = pd.DataFrame({"subscriber_id": [5, 3, 4, 1], "score": [0.5, 0.9, 0.5, 0.1]})
    assert select_target(frame, TargetGroup("m", list_size=2))["subscriber_id"].tolist() == [3, 4]
    assert select_target(frame, TargetGroup("m", score_threshold=0.5))["subscriber_id"].tolist() == [3, 4, 5]
    with pytest.raises(ParameterError, match="The 'target' parameter must be a TargetGroup"):
        select_target(frame, {"list_size": 2})


# ----------------------------------------------------------------- spec from the goal, channels
def test_spec_from_goal_takes_goal_period_reason_branches_and_names_bad_values():
    spec = tiny_spec()
    assert spec.goal.period_days == 2 and spec.goal.reason == "tiny" and spec.branches == ("hami", "urumqi")
    assert spec.channel("outbound_call").capacity_for("hami") == 1 and spec.channel("sms").capacity_for("hami") is None
    other = spec_from_goal(tiny_goal(), channels=[ChannelSpec("sms", 0.1)], list_size=2,
                           period=["2026-12-01", "2026-12-31"], universal_control_share=0.02)
    assert other.goal.period_days == 31 and other.universal_control.period_key == "2026H2"
    with pytest.raises(ParameterError, match="The 'product' parameter must be the goal's product 'mobile_newspaper'"):
        tiny_spec(product="fetion")
    with pytest.raises(ParameterError, match="The 'goal' parameter must be the goal of template 02"):
        spec_from_goal({"product": "x"}, channels={}, list_size=1)
    with pytest.raises(ParameterError, match="The 'period' parameter must be"):
        tiny_spec(period=["2026-12-01"])
    with pytest.raises(ParameterError, match=r"The 'channels\[fax\]' parameter must be a mapping"):
        channel_specs({"fax": 3})
    with pytest.raises(ParameterError, match=r"unknown key\(s\) \['cost'\]"):
        channel_specs({"sms": {"cost": 0.1}})
    with pytest.raises(ParameterError, match=r"The 'channels.name' parameter must be one of"):
        channel_specs({"fax": {"unit_cost": 0.1}})
    with pytest.raises(ParameterError, match="not both"):
        channel_specs({"sms": {"unit_cost": 0.1, "daily_capacity": 3, "default_daily_capacity": 2}})


def test_baseline_from_goal_scales_the_conversion_to_the_window():
    goal = tiny_goal(period_start="2026-11-01", period_end="2027-01-29")   # 90 days
    rate, size = baseline_from_goal(goal, 30)
    assert rate == pytest.approx(0.1 / 3) and size == 4
    assert baseline_from_goal(goal, 120)[0] == pytest.approx(0.1)
    with pytest.raises(ParameterError, match=r"'goal.check.conversion_rate' parameter must be a conversion rate"):
        baseline_from_goal(tiny_goal(check={}), 30)


def test_executor_roster_from_the_store_else_placeholders(tmp_path):
    assert default_executors(["hami"], 3) == {"hami": ["hami_exec1", "hami_exec2", "hami_exec3"]}
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
               progress=False) as store:
        store.add_user(SYSTEM_USER, "li", "executor", password=PASSWORD, branch_id="hami")
        store.add_user(SYSTEM_USER, "an", "executor", password=PASSWORD, branch_id="hami")
        store.add_user(SYSTEM_USER, "old", "executor", password=PASSWORD, branch_id="hami")
        store.set_active(SYSTEM_USER, "old", False)
        store.add_user(SYSTEM_USER, "boss", "branch_manager", password=PASSWORD, branch_id="urumqi")
        roster = executor_roster(["hami", "urumqi"], store=store, per_branch=1)
    assert list(roster.columns) == list(ROSTER_COLUMNS)
    assert roster.values.tolist() == [["hami", "an", "store"], ["hami", "li", "store"],
                                      ["urumqi", "urumqi_exec1", "default"]]
    assert roster_mapping(roster) == {"hami": ["an", "li"], "urumqi": ["urumqi_exec1"]}
    with pytest.raises(ParameterError, match="The 'branches' parameter must be branch ids from"):
        executor_roster(["atlantis"])
    with pytest.raises(ParameterError, match=r"The 'per_branch' parameter must be an integer in \[1, 100\]"):
        default_executors(["hami"], 0)
    with pytest.raises(ParameterError, match="The 'roster' parameter must be a DataFrame"):
        roster_mapping({"hami": ["x"]})


# ----------------------------------------------------------------- the store: contacts, release, immutability
@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
              progress=False)
    s.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    s.add_user(SYSTEM_USER, "ha", "executor", password=PASSWORD, branch_id="hami")
    s.add_user(SYSTEM_USER, "pm", "province_manager", password=PASSWORD)
    yield s
    s.close()


def test_release_writes_spec_and_rows_and_a_new_plan_is_a_new_version(store):
    ana = store_user(store, "ana")
    plan = tiny_plan()
    first = release(plan, store, ana)
    assert (first.version, first.member_count) == (1, len(plan.rows))
    rows_v1 = store.worklist(ana, first.campaign_id, version=1, include_control=True)
    assert sorted(rows_v1["subscriber_id"]) == sorted(plan.rows["subscriber_id"])
    assert store.spec(ana, first.campaign_id)["offer"]["family"] == "mobile_newspaper"
    changed = tiny_plan(spec=tiny_spec(list_size=2, seed=6))
    second = release(changed, store, ana, campaign_id=first.campaign_id)
    assert second.version == 2 and second.campaign_id == first.campaign_id
    assert store.spec(ana, first.campaign_id, 2)["version"] == 2   # the spec's version follows the store's
    again = store.worklist(ana, first.campaign_id, version=1, include_control=True)
    pd.testing.assert_frame_equal(again, rows_v1)   # version 1 never changes
    with store.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError, match="immutable"):
        conn.execute(sa.text("UPDATE campaign_members SET channel = 'ivr' WHERE subscriber_id = :s"),
                     {"s": int(plan.rows["subscriber_id"].iloc[0])})
    audit = store.audit_log(SYSTEM_USER, action="release")
    assert len(audit) == 2


def test_release_refuses_what_it_must(store):
    plan = tiny_plan()
    with pytest.raises(AccessDenied, match="releasing a campaign is allowed for roles"):
        release(plan, store, store_user(store, "ha"))
    with pytest.raises(ParameterError, match="The 'plan' parameter must be a CampaignPlan"):
        release({"rows": []}, store, SYSTEM_USER)
    empty = tiny_plan()
    empty.rows = empty.rows.iloc[:0]
    with pytest.raises(ParameterError, match="The plan releases no rows"):
        release(empty, store, SYSTEM_USER)
    with pytest.raises(ParameterError, match=r"The store has no active user 'nobody'; its active users are \['ana', "
                                             r"'ha', 'pm'\]"):
        store_user(store, "nobody")
    assert store_user(store, "system") == SYSTEM_USER


def test_recorded_contacts_of_any_campaign_exclude_users_recently_contacted(store):
    plan = tiny_plan(dnd=None, contacts=None, spec=tiny_spec(list_size=8))
    listed = set(plan.members["subscriber_id"])
    released = release(plan, store, SYSTEM_USER)
    worklist = store.worklist(SYSTEM_USER, released.campaign_id)
    member = worklist[worklist["subscriber_id"] == 9]["member_id"].iloc[0]
    yesterday = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    store.record_result(SYSTEM_USER, int(member), "refused", contacted_at=yesterday)
    history = contact_history(store)
    assert history["subscriber_id"].tolist() == [9]
    today = pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None).normalize()
    assert (today - history["contact_date"].iloc[0]).days in (1, 2)
    again = tiny_plan(dnd=None, contacts=None, spec=tiny_spec(list_size=8), store=store, as_of=today)
    assert 9 in listed and 9 not in set(again.members["subscriber_id"])
    assert again.funnel.set_index("step").loc["recent_contact", "excluded"] == 1


_PLAN_FRAMES = ("funnel", "members", "groups", "balance", "workload", "rows")


def _assert_same_plan(got: CampaignPlan, want: CampaignPlan) -> None:
    for name in _PLAN_FRAMES:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)
    pd.testing.assert_frame_equal(got.channel_plan.plan, want.channel_plan.plan)
    assert got.summary == want.summary and got.power == want.power


def test_gathered_inputs_then_the_computation_is_plan_campaign(store):
    """Every kind of input: the store's recorded contact, further contacts, a do-not-disturb list."""
    first = release(tiny_plan(dnd=None, contacts=None, spec=tiny_spec(list_size=8)), store, SYSTEM_USER)
    worklist = store.worklist(SYSTEM_USER, first.campaign_id)
    member = worklist[worklist["subscriber_id"] == 9]["member_id"].iloc[0]
    store.record_result(SYSTEM_USER, int(member), "refused",
                        contacted_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    today = pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None).normalize()
    spec = tiny_spec(list_size=8, control_share=0.3)
    inputs = gather_plan_inputs(spec, tiny_scores(), tiny_province(), as_of=today, store=store)
    assert isinstance(inputs, PlanInputs) and inputs.as_of == today
    assert inputs.contact_history["subscriber_id"].tolist() == [9]
    # numbers are read for the segment only: 11 (kashgar) is outside the campaign's branches
    assert sorted(inputs.msisdn.index) == [*range(1, 11), 12] and inputs.msisdn.loc[3] == "13800000003"
    candidates, msisdn = inputs.candidates.copy(), inputs.msisdn.copy()
    args = dict(executors={"hami": ["ha"], "urumqi": ["ua", "ub"]}, dnd=[2], contacts=TINY_CONTACTS, progress=False)
    pure = plan_from_inputs(spec, inputs, **args)
    again = plan_from_inputs(spec, inputs, **args)
    whole = plan_campaign(spec, tiny_scores(), tiny_province(), as_of=today, store=store, **args)
    _assert_same_plan(pure, whole)
    _assert_same_plan(again, whole)
    assert 9 not in set(pure.members["subscriber_id"])
    # the computation leaves its inputs as they were and times every step
    pd.testing.assert_frame_equal(inputs.candidates, candidates)
    pd.testing.assert_series_equal(inputs.msisdn, msisdn)
    assert set(pure.info["seconds"]) == set(PLAN_STEPS)
    assert pure.info["contact_history_rows"] == 1 + len(TINY_CONTACTS)
    with pytest.raises(ParameterError, match="The 'inputs' parameter must be a PlanInputs"):
        plan_from_inputs(spec, {"candidates": candidates}, **args)
    with pytest.raises(ParameterError, match="The 'spec' parameter must be a CampaignSpec"):
        gather_plan_inputs({"name": "x"}, tiny_scores(), tiny_province(), as_of=today)


def test_plan_folder_round_trip_and_its_errors(tmp_path):
    plan = tiny_plan(baseline_rate=0.1)
    plan.save(tmp_path / "plan")
    back = CampaignPlan.load(tmp_path / "plan")
    assert back.spec == plan.spec and back.summary == plan.summary and back.as_of == plan.as_of
    pd.testing.assert_frame_equal(back.rows, plan.rows)
    pd.testing.assert_frame_equal(back.funnel, plan.funnel)
    assert back.channel_plan.objective == pytest.approx(plan.channel_plan.objective)
    assert back.channel_plan.info["lambda"].to_numpy() == pytest.approx(plan.channel_plan.info["lambda"].to_numpy())
    with pytest.raises(ParameterError, match="does not exist"):
        CampaignPlan.load(tmp_path / "nothing")
    (tmp_path / "half").mkdir()
    with pytest.raises(ParameterError, match=r"lacks \['spec.json'"):
        CampaignPlan.load(tmp_path / "half")


def test_model_rules_in_words_from_the_model_folder(tmp_path):
    from workbench.models import Condition, Rule, TargetModel, save_model

    assert model_rules(tmp_path) == []
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"gprs_mb_max": rng.gamma(2, 5, 300), "tenure_months": rng.integers(1, 60, 300)})
    y = (X["gprs_mb_max"] > 10).astype(int)
    model = TargetModel(n_jobs=1, max_rounds=20).fit(X, y)
    rules = [Rule((Condition("gprs_mb_max", ">", 8.29, False), Condition("tenure_months", ">", 18.5, True)), 10),
             Rule((Condition("gprs_mb_max", "<=", 1.5, False),), 5)]
    save_model(model, tmp_path / "model", label_definition={}, training_window=None, metrics={},
               training_data=X, rules=rules)
    got = model_rules(tmp_path, top=1, lang="en")
    assert got == ["GPRS/WAP data traffic (MB): largest month of the window > 8.29 and "
                   "Calendar months from the join month to the snapshot month > 18.5 (or missing)"]
    assert len(model_rules(tmp_path, top=5, lang="zh")) == 2 and model_rules(tmp_path, top=0) == []
    assert model_reference(tmp_path).startswith("model@")


def test_run_folder_files(tmp_path, store):
    with pytest.raises(FileNotFoundError, match=r"scores.parquet' does not exist: run template 03_target_model"):
        read_scores(tmp_path)
    tiny_scores().to_parquet(tmp_path / SCORES_FILE)
    assert len(read_scores(tmp_path)) == 12
    (tmp_path / "s.json").write_text("x")
    with pytest.raises(ParameterError, match=r"The 'scores' parameter must be a CSV \(.*\) or Parquet"):
        read_scores(tmp_path / "s.json")
    tiny_scores().to_csv(tmp_path / "scores.csv", index=False, encoding="utf-8-sig")  # as Excel saves it
    assert read_scores(tmp_path / "scores.csv").columns.tolist() == tiny_scores().columns.tolist()
    assert model_reference(tmp_path).startswith("scores@")
    with pytest.raises(FileNotFoundError, match="holds no campaign.json: run template 04_campaign_design"):
        read_campaign_file(tmp_path)
    url = default_store_url(tmp_path)
    assert url == f"sqlite:///{(tmp_path / 'store.sqlite').resolve().as_posix()}"
    plan = tiny_plan()
    first, path, new_version = release_for_run(plan, store, SYSTEM_USER, tmp_path, url)
    assert not new_version and path == tmp_path / CAMPAIGN_FILE
    info = read_campaign_file(tmp_path)
    assert (info["campaign_id"], info["version"], info["store_url"]) == (first.campaign_id, 1, url)
    second, _, new_version = release_for_run(plan, store, SYSTEM_USER, tmp_path, url)
    assert new_version and (second.campaign_id, second.version) == (first.campaign_id, 2)
    third, _, new_version = release_for_run(plan, store, SYSTEM_USER, tmp_path, "sqlite:///elsewhere.sqlite")
    assert not new_version and third.campaign_id != first.campaign_id
    key, values = release_story(second, path, True)
    assert "**#" in narrative(key, "en", **values)
    write_campaign_file(tmp_path, first, url, plan)
    assert read_campaign_file(tmp_path)["version"] == 1


# ----------------------------------------------------------------- the sample province, scored by a model
@pytest.fixture(scope="module")
def model_scores():
    """Scores of every subscriber of the sample province from a quickly trained TargetModel."""
    from workbench.features import build_features, family_feature_names, subscriber_status
    from workbench.models import TargetModel, score

    feats = build_features(SAMPLE, snapshot="2026-10", window=6)
    feats = feats.drop(columns=family_feature_names("mobile_newspaper")).copy()
    status = subscriber_status(SAMPLE, "mobile_newspaper", "2026-10", 3)
    sample = status[status["stable"] | status["nonsubscriber"]]
    model = TargetModel(learning_rate=0.2, max_rounds=60, validation="holdout", n_jobs=1, random_state=0)
    model.fit(feats.loc[sample.index], sample["stable"].astype(int))
    frame = feats.reset_index()
    scored = score(model, frame, "subscriber_id", reasons=2, lang="en")
    scored["edition"] = np.where(scored["subscriber_id"] % 3 == 0, "sports", "news")
    return scored


SAMPLE_CHANNELS = {"sms": {"unit_cost": 0.01, "response_multiplier": 1.5, "daily_capacity": 20},
                   "wap_push": {"unit_cost": 0.02, "response_multiplier": 2.0, "daily_capacity": 10},
                   "outbound_call": {"unit_cost": 1.5, "response_multiplier": 10.0, "daily_capacity": {"urumqi": 3},
                                     "default_daily_capacity": 1}}
SAMPLE_GOAL = {"product": "mobile_newspaper", "target_stable_subscribers": 60, "period_start": "2026-11-01",
               "period_end": "2027-01-31", "reason": "capital gap", "branches": [],
               "check": {"conversion_rate": 0.014, "lookalikes": 3500}}


@pytest.fixture(scope="module")
def sample_plan(model_scores):
    spec = spec_from_goal(SAMPLE_GOAL, channels=SAMPLE_CHANNELS, list_size=2000, budget=500.0, seed=11,
                          control_share=0.1, universal_control_share=0.02)
    rate, size = baseline_from_goal(SAMPLE_GOAL, spec.response_window_days)
    roster = executor_roster(spec.campaign_branches, per_branch=2)
    plan = plan_campaign(spec, model_scores, SAMPLE, as_of=spec.goal.period_start, executors=roster,
                         baseline_rate=rate, baseline_size=size, progress=False)
    return plan, roster


def test_sample_funnel_and_groups_add_up(sample_plan, model_scores):
    plan, _ = sample_plan
    f = plan.funnel
    assert f["remaining"].iloc[0] == len(model_scores) == 20000
    assert (f["remaining"].diff().iloc[1:] == -f["excluded"].iloc[1:]).all()
    ex = f.set_index("step")["excluded"]
    assert ex["subscriber"] > 0 and ex["handset"] > 0 and ex["universal_control"] > 0 and ex["segment"] == 0
    assert f["remaining"].iloc[-1] == len(plan.members) == 2000
    g = plan.groups.set_index("group")
    assert g["listed"].sum() == 2000 and (g["listed"] == g["released"] + g["dropped"]).all()
    assert g.loc["target", "released"] == plan.summary["contacted"] == len(plan.channel_plan.plan)
    assert len(plan.rows) == g["released"].sum() == plan.summary["released"]
    # the list is the best-scored eligible users: nobody left out scores higher than the list's lowest
    listed = set(plan.members["subscriber_id"])
    assert plan.members["score"].min() >= model_scores.loc[
        ~model_scores["subscriber_id"].isin(listed), "score"].nsmallest(1).iloc[0]


def test_sample_control_share_within_rounding_in_every_stratum(sample_plan):
    plan, _ = sample_plan
    b = plan.balance
    size = b["target"] + b["control"]
    assert (b["control"] == np.floor(0.1 * size + 0.5)).all()
    assert plan.balance["score_decile"].between(1, 10).all() and len(b) > 100


def test_sample_channel_plan_respects_every_capacity_the_budget_and_one_channel(sample_plan):
    plan, _ = sample_plan
    spec = plan.spec
    chans, cap = channel_inputs(spec)
    target = plan.members[plan.members["group"] == "target"]
    problem = build_problem(target[["subscriber_id", "branch_id", "response_rate"]].rename(
        columns={"response_rate": "score"}), chans, value_per_order=spec.value_per_order, budget=spec.budget,
        capacity=cap)
    check = evaluate_plan(problem, plan.channel_plan.plan)
    assert check["over_capacity"] == 0 and check["over_budget"] == 0 and check["max_channels_per_user"] == 1
    assert check["spend"] <= 500.0 + 1e-9 and check["spend"] > 400   # the budget binds
    s = plan.channel_plan.summary
    assert (s["users"] <= s["capacity"]).all()
    assert plan.channel_plan.gap < 0.01
    assert plan.rows["subscriber_id"].is_unique
    planned = plan.channel_plan.plan.set_index("subscriber_id")["channel"]
    rows = plan.rows[plan.rows["group"] == "target"].set_index("subscriber_id")["channel"]
    assert rows.sort_index().equals(planned.sort_index().astype("str"))
    assert plan.summary["cost"] == pytest.approx(check["spend"])


def test_sample_control_channels_mirror_the_target(sample_plan):
    plan, _ = sample_plan
    m = plan.members
    share = m.groupby("group")["released"].mean()
    assert abs(share["target"] - share["control"]) < 0.1
    ctrl = plan.rows[plan.rows["group"] == "control"]
    assert ctrl["executor"].isna().all() and ctrl["channel"].notna().all()
    mix_t = plan.rows[plan.rows["group"] == "target"]["channel"].value_counts(normalize=True)
    mix_c = ctrl["channel"].value_counts(normalize=True)
    assert (mix_t.reindex(mix_c.index).fillna(0) - mix_c).abs().max() < 0.15


def test_sample_executors_are_balanced_and_rows_complete(sample_plan):
    plan, roster = sample_plan
    target = plan.rows[plan.rows["group"] == "target"]
    assert target["executor"].notna().all()
    ok = {(b, e) for b, e in zip(roster["branch_id"], roster["executor"])}
    assert set(zip(target["branch_id"], target["executor"])) <= ok
    counts = target.groupby(["branch_id", "channel", "executor"]).size()
    spread = counts.groupby(level=[0, 1]).agg(lambda x: x.max() - x.min())
    lists = target.groupby(["branch_id", "channel"]).size()
    several = spread[counts.groupby(level=[0, 1]).size() == 2]
    assert (several <= 1).all() and len(lists) == len(spread)
    assert target["msisdn_masked"].str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    assert target["reasons"].notna().all() and target["talking_points"].str.len().gt(0).all()
    assert set(plan.rows["score_band"]) <= set("ABCDE")
    assert plan.workload["total"].sum() == len(target)


def test_sample_power_and_story(sample_plan):
    plan, _ = sample_plan
    p = plan.power
    assert p.detectable.n_treated == plan.summary["contacted"]
    assert p.detectable.n_control == plan.summary["control_released"]
    assert p.expected_absolute == pytest.approx(60 / plan.summary["contacted"])
    for part in ("funnel", "control", "power", "channels", "workload"):
        key, values = plan_story(plan, part, "en")
        for lang in ("zh", "en"):
            assert narrative(key, lang, **values)
    key, values = plan_story(plan, "funnel", "en")
    assert values["listed"] == 2000 and values["eligible"] == plan.summary["eligible"]
    with pytest.raises(ParameterError, match="The 'part' parameter must be one of"):
        plan_story(plan, "budget")
    cards, formats = plan_cards(plan)
    assert cards["t04.card.listed"] == 2000 and set(formats) <= set(cards)
    by_channel = channel_totals(plan, "channel", "en")
    # a display table: counts as text with thousands separators
    assert by_channel["Users"].str.replace(",", "").astype(int).sum() == plan.summary["contacted"]
    assert len(channel_totals(plan, "branch", "zh")) == 14
    assert len(list_preview(plan, 5, "en")) == 5
    table = spec_table(plan.spec, "en")
    assert table.index.tolist() == ["SMS", "WAP Push", "Outbound call"] and table.index.name == "Channel"
    assert table["Capacity over the period"].tolist() == [f"{20 * 14 * 92:,}", f"{10 * 14 * 92:,}",
                                                         f"{(3 + 13) * 92:,}"]
    key, values = inputs_story(SAMPLE_GOAL, pd.DataFrame({"subscriber_id": [1]}), "m1", lang="en")
    assert "**60** new Mobile newspaper stable subscribers" in narrative(key, "en", **values)
    key, values = inputs_story(SAMPLE_GOAL, pd.DataFrame({"subscriber_id": [1]}), "m1", ["a > 1", "b"], lang="en")
    assert key == "t04.story.inputs_rules" and "- a > 1\n- b" in narrative(key, "en", **values)


def test_sample_plan_is_reproducible_from_the_seed(sample_plan, model_scores):
    plan, roster = sample_plan
    rate, size = baseline_from_goal(SAMPLE_GOAL, 30)
    again = plan_campaign(plan.spec, model_scores.sample(frac=1.0, random_state=3), SAMPLE,
                          as_of=plan.spec.goal.period_start, executors=roster, baseline_rate=rate,
                          baseline_size=size, progress=False)
    key = ["subscriber_id"]
    pd.testing.assert_frame_equal(again.rows.sort_values(key).reset_index(drop=True),
                                  plan.rows.sort_values(key).reset_index(drop=True))
    other = plan_campaign(plan.spec.bump(seed=12), model_scores, SAMPLE, as_of=plan.spec.goal.period_start,
                          executors=roster, baseline_rate=rate, baseline_size=size, progress=False)
    a = set(plan.members.loc[plan.members["group"] == "control", "subscriber_id"])
    b = set(other.members.loc[other.members["group"] == "control", "subscriber_id"])
    assert a != b and len(a) == len(b)
    assert json.dumps(plan.summary)   # JSON-ready


def test_sample_plan_from_gathered_inputs_is_the_same_plan(sample_plan, model_scores):
    plan, roster = sample_plan
    rate, size = baseline_from_goal(SAMPLE_GOAL, plan.spec.response_window_days)
    inputs = gather_plan_inputs(plan.spec, model_scores, SAMPLE, as_of=plan.spec.goal.period_start)
    assert len(inputs.candidates) == len(model_scores) and inputs.contact_history is None
    assert set(plan.rows["subscriber_id"]) <= set(inputs.msisdn.index)
    again = plan_from_inputs(plan.spec, inputs, executors=roster, baseline_rate=rate, baseline_size=size,
                             progress=False)
    _assert_same_plan(again, plan)
