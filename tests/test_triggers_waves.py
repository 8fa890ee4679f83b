"""Rolling trigger waves released into the store, their evaluation and the simulator's truth."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.data.source import connect
from workbench.data.synth.generate import generate_province
from workbench.demo.triggers import simulate_trigger_responses, true_probabilities
from workbench.errors import ParameterError
from workbench.store import SYSTEM_USER, Store
from workbench.triggers import (
    TriggerSpec, channel_files, detect_changers, evaluate_triggers, member_outcomes, plan_wave, presence_days,
    run_wave, wave_members,
)


@pytest.fixture(scope="module")
def prov(tmp_path_factory):
    out = tmp_path_factory.mktemp("trig") / "prov"
    generate_province(20_000, months=3, out=out, progress=False)
    return out, out.with_name("prov_truth")


@pytest.fixture
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'store.db'}", progress=False) as s:
        yield s


def _busy_day(con):
    lo, hi = presence_days(con)
    return max(pd.date_range(lo + pd.Timedelta(days=9), hi), key=lambda d: len(detect_changers(con, d)))


def test_a_wave_is_an_immutable_version_and_a_rerun_adds_no_contact(prov, store):
    con = connect(prov[0])
    day = _busy_day(con)
    wave, rel = run_wave(TriggerSpec(), con, day, store, SYSTEM_USER)
    assert rel.created and rel.version == 1 and rel.members == len(wave.members) > 0
    again_wave, again = run_wave(TriggerSpec(), con, day, store, SYSTEM_USER)
    assert not again.created and again.version == 1 and again_wave.members.empty
    members = wave_members(store, SYSTEM_USER)
    assert len(members) == rel.members and not members["subscriber_id"].duplicated().any()
    assert len(store.versions(SYSTEM_USER, rel.campaign_id)) == 1
    spec = store.spec(SYSTEM_USER, rel.campaign_id, 1)
    assert spec["wave_day"] == day.date().isoformat() and spec["kind"] == "handset_trigger"


def test_next_waves_hold_back_earlier_members_and_each_has_its_control(prov, store):
    con = connect(prov[0])
    lo, hi = presence_days(con)
    days = list(pd.date_range(hi - pd.Timedelta(days=5), hi))
    for d in days:
        run_wave(TriggerSpec(control_share=0.25), con, d, store, SYSTEM_USER)
    m = wave_members(store, SYSTEM_USER)
    assert not m["subscriber_id"].duplicated().any()           # nobody listed in two waves
    assert m["version"].nunique() == m["wave_day"].nunique() > 1
    for _, rows in m.groupby(["wave_day", "score_band"]):
        assert (rows["group"] == "control").sum() == round(0.25 * len(rows))
    assert set(m["score_band"]) == {"changer", "comparison"}
    assert m["msisdn_masked"].str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    # the comparison group gets the same pushes as the changers, product by product
    share = m.groupby(["score_band", "edition"]).size().unstack(0).fillna(0)
    assert (share["comparison"] <= share["changer"]).all() and share["comparison"].sum() > 0


def test_comparison_members_did_not_change_and_are_eligible(prov):
    con = connect(prov[0])
    wave = plan_wave(TriggerSpec(), con, _busy_day(con))
    comp = wave.members[wave.members["score_band"] == "comparison"]
    changers = wave.members[wave.members["score_band"] == "changer"]
    assert len(comp) and not set(comp["subscriber_id"]) & set(changers["subscriber_id"])
    pres = pd.read_parquet(prov[0] / "imei_presence.parquet")
    recent = pres[pd.to_datetime(pres["first_seen"]) > wave.day - pd.Timedelta(days=90)]
    multi = pres["subscriber_id"].value_counts()
    changed = set(recent["subscriber_id"]) & set(multi[multi > 1].index)
    assert not set(comp["subscriber_id"]) & changed
    files = channel_files(wave)
    pushed = wave.members[(wave.members["group"] == "target") & wave.members["channel"].isin(["sms", "wap_push"])]
    assert sum(len(f) for f in files.values()) == len(pushed)
    assert all("msisdn" not in f.columns for f in files.values())


@pytest.mark.slow
def test_extra_uplift_ci_covers_the_simulators_truth(prov, store):
    con = connect(prov[0])
    lo, hi = presence_days(con)
    spec = TriggerSpec(cooldown_days=0)       # no store reads of earlier waves: keeps the test quick
    for d in pd.date_range(lo + pd.Timedelta(days=9), hi):
        run_wave(spec, con, d, store, SYSTEM_USER)
    sim = simulate_trigger_responses(store, SYSTEM_USER, prov[1], seed=7)
    assert sim["responses"] > 0 and sim["true_extra_uplift"] > 0
    again = simulate_trigger_responses(store, SYSTEM_USER, prov[1], seed=7)
    assert again["responses"] == 0                                # each wave is simulated once
    m = wave_members(store, SYSTEM_USER)
    result = evaluate_triggers(member_outcomes(m, store.responses(SYSTEM_USER, int(m["campaign_id"].iloc[0]))))
    assert result["extra_low"] <= sim["true_extra_uplift"] <= result["extra_high"]
    probs = true_probabilities(m, prov[1])
    assert probs.loc[probs["score_band"] == "comparison", "boosted"].sum() == 0
    assert probs.loc[probs["score_band"] == "changer", "boosted"].mean() > 0.9


def test_bad_spec_and_day_are_named(prov, store):
    with pytest.raises(ParameterError, match="control_share"):
        TriggerSpec(control_share=1.0)
    with pytest.raises(ParameterError, match="min_active_days"):
        TriggerSpec(window_days=5, min_active_days=6)
    with pytest.raises(ParameterError, match="'day'"):
        run_wave(TriggerSpec(), prov[0], "2030-01-01", store, SYSTEM_USER)
    assert wave_members(store, SYSTEM_USER).empty                # nothing written
