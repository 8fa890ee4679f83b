"""The feedback loop: a released campaign on the sample province is simulated into the store, evaluated,
and its truth recovered inside the 95 % interval; uplift model and the next-round comparison.

One simulated campaign (6,000 non-subscribers, half held out, a hand-made truth with a clear effect, fixed
seeds) serves most tests; the evaluation must find the simulator's true incremental effect in its interval.
"""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from workbench.campaign import CampaignSpec, ChannelSpec, Goal, Offer, TargetGroup
from workbench.errors import ParameterError
from workbench.features import build_features
from workbench.notebook import narrative
from workbench.store import SYSTEM_USER, PasswordPolicy, Store
from workbench.demo.campaign import simulate_campaign, truth_check
from workbench.demo.next_round import COMPARISON_COLUMNS, STRATEGIES, next_campaign_comparison
from workbench.report.t06 import (
    STORY_SECTIONS, breakdown_table, comparison_table, effect_summary_table, evaluation_cards, evaluation_story,
    executor_table, lessons,
)
from workbench.tracking.evaluation import EXECUTOR_COLUMNS, evaluate_campaign
from workbench.demo.steps import run_simulation_step
from workbench.tracking.loop import SIMULATION_DIR, open_run, read_simulation
from workbench.tracking.terms import CampaignTerms, campaign_terms
from workbench.tracking.uplift_fit import fit_uplift

SAMPLE = "sample_data/province"
START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)
TODAY = dt.date(2026, 11, 26)
N = 6000


def _spec(control_share: float = 0.5, **changes) -> CampaignSpec:
    fields = dict(
        name="loop test", owner="ana",
        goal=Goal(100, START, END, "penetration fell in the prefectures"),
        offer=Offer("mobile_newspaper", free_months=1),
        target=TargetGroup("test-scores", list_size=N),
        channels=(ChannelSpec("outbound_call", 2.0, 3.0), ChannelSpec("sms", 0.05, 1.3)),
        control_share=control_share, response_window_days=30, value_per_order=30.0, seed=1,
    )
    fields.update(changes)
    return CampaignSpec(**fields)


def _truth(ids: np.ndarray, seed: int = 7) -> pd.DataFrame:
    """A hand-made truth: base 4 %, a contact adds U(0, 16 %) by call, a quarter of that by SMS; 5 % sleeping dogs."""
    rng = np.random.default_rng(seed)
    n = len(ids)
    base = np.full(n, 0.04)
    gain = rng.uniform(0, 0.16, n)
    gain[rng.random(n) < 0.05] = -0.03
    return pd.DataFrame({"subscriber_id": ids, "p_order_base": base, "p_order_outbound_call": base + gain,
                         "p_order_sms": base + gain / 4, "p_keep": 0.6})


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return build_features(SAMPLE, "2026-10")


@pytest.fixture(scope="module")
def campaign(features, tmp_path_factory):
    """A released campaign of 6,000 non-subscribers, its simulated execution and its evaluation."""
    folder = tmp_path_factory.mktemp("loop")
    eligible = features.index[~features["vas_fam_mobile_newspaper_active"].to_numpy(bool)].to_numpy()
    rng = np.random.default_rng(3)
    ids = np.sort(rng.choice(eligible, N, replace=False))
    score = rng.random(N)
    branch = features.loc[ids, "branch_id"].astype(str).to_numpy()
    members = pd.DataFrame({
        "subscriber_id": ids, "branch_id": branch, "score": score,
        "group": np.where(rng.random(N) < 0.5, "control", "target"),
        "channel": np.where(score > 0.6, "outbound_call", "sms"),
        "executor": [f"{b}_{i % 2}" for i, b in enumerate(branch)],
        "score_band": np.array(list("ABCDE"))[np.minimum((score * 5).astype(int), 4)],
    })
    store = Store(f"sqlite:///{folder / 'store.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
                  progress=False)
    release = store.release_campaign(SYSTEM_USER, _spec(), members, product="mobile_newspaper")
    truth = _truth(ids)
    sim = simulate_campaign(store, release.campaign_id, SAMPLE, truth, seed=11, today=TODAY,
                            out_dir=folder / SIMULATION_DIR, progress=False)
    ev = evaluate_campaign(store, release.campaign_id, SAMPLE, as_of=sim.followup_end, orders=sim.orders,
                           arpu=sim.arpu, features=features)
    yield SimpleNamespace(store=store, release=release, members=members, truth=truth, sim=sim, ev=ev, folder=folder)
    store.close()


# ------------------------------------------------------------------ terms
def test_terms_come_from_the_stored_plan_and_overrides_win():
    t = campaign_terms(_spec().to_dict())
    assert (t.start, t.end, t.days, t.snapshot) == (START, END, 14, "2026-10")
    assert (t.response_window_days, t.control_share, t.family, t.free_months) == (30, 0.5, "mobile_newspaper", 1)
    assert t.unit_costs == {"outbound_call": 2.0, "sms": 0.05} and t.value_per_order == 30.0
    moved = campaign_terms(_spec().to_dict(), start="2026-10-20", response_window_days=10)
    assert (moved.start, moved.response_window_days) == (dt.date(2026, 10, 20), 10)
    plain = campaign_terms({"name": "x", "product": "mnp"}, start="2026-11-01", end="2026-11-30")
    assert plain.family == "mobile_newspaper" and plain.control_share is None and plain.unit_costs == {}
    assert isinstance(plain, CampaignTerms)


def test_terms_errors():
    with pytest.raises(ParameterError, match=r"no goal\.period_start and no start= was given"):
        campaign_terms({"name": "x"})
    with pytest.raises(ParameterError, match=r"'end' parameter must be a day on or after the start \(2026-11-02\)"):
        campaign_terms(_spec().to_dict(), end="2026-11-01")
    with pytest.raises(ParameterError, match="'family' parameter must be one of"):
        campaign_terms(_spec().to_dict(), family="tv")
    with pytest.raises(ParameterError, match="'overrides' parameter must be fields of CampaignTerms"):
        campaign_terms(_spec().to_dict(), window=5)


# ------------------------------------------------------------------ simulation into the store
def test_simulated_execution_is_in_the_store_and_saved(campaign):
    sim, store, cid = campaign.sim, campaign.store, campaign.release.campaign_id
    assert (sim.start, sim.days, sim.n_treated) == (START, 14, int((campaign.members["group"] == "target").sum()))
    contacts = store.contact_results(SYSTEM_USER, cid)
    assert len(contacts) == sim.contacts_written > sim.n_treated          # calls are retried
    assert set(contacts["executor"]) <= set(campaign.members["executor"])    # recorded on the executors' behalf
    local = contacts["contacted_at"].dt.tz_convert("Asia/Shanghai")
    assert local.min().date() >= START and local.max().date() <= END
    assert len(store.responses(SYSTEM_USER, cid)) == sim.responses_written > 0
    audit = store.audit_log(SYSTEM_USER, campaign_id=cid, action="record_results")
    assert len(audit) == 1 and audit["details"].iloc[0]["created"] == len(contacts)
    saved = read_simulation(campaign.folder / SIMULATION_DIR)
    assert saved.summary() == sim.summary()
    pd.testing.assert_frame_equal(saved.orders, sim.orders)
    assert sim.followup_end == dt.date(2027, 3, 31)
    # the truth's expected increment: reached target members' p_order_<channel> - p_order_base
    expo = sim.exposure.merge(campaign.truth.drop(columns="p_order_base"), on="subscriber_id")
    reached = expo[expo["reached"]]
    gain = np.where(reached["channel"] == "sms", reached["p_order_sms"], reached["p_order_outbound_call"]) \
        - reached["p_order_base"]
    assert sim.true_incremental == pytest.approx(gain.sum())


def test_simulating_again_records_nothing_twice(campaign):
    again = simulate_campaign(campaign.store, campaign.release.campaign_id, SAMPLE, campaign.truth, seed=11,
                              today=TODAY, progress=False)
    assert again.contacts_written == 0 and again.responses_written == 0
    assert again.true_incremental == campaign.sim.true_incremental


def test_the_period_is_cut_at_yesterday_and_must_have_started(campaign):
    store = campaign.store
    small = campaign.members.head(300)
    cid = store.release_campaign(SYSTEM_USER, _spec(name="short"), small, product="mobile_newspaper").campaign_id
    with pytest.raises(ParameterError, match=r"starts on 2026-11-02, which is not before today \(2026-11-02\)"):
        simulate_campaign(store, cid, SAMPLE, campaign.truth, today="2026-11-02", progress=False)
    short = simulate_campaign(store, cid, SAMPLE, campaign.truth, today="2026-11-06", seed=99, progress=False)
    assert short.days == 4
    local = store.contact_results(SYSTEM_USER, cid)["contacted_at"].dt.tz_convert("Asia/Shanghai")
    assert local.max().date() <= dt.date(2026, 11, 5)


# ------------------------------------------------------------------ evaluation
def test_the_evaluation_recovers_the_true_incremental_effect_inside_its_interval(campaign):
    row = campaign.ev.effect_row("responded")
    check = truth_check(campaign.ev, campaign.sim)
    assert 0.025 < check["true_rate"] < 0.04     # 40 % calls: 0.66 reached x 0.075; 60 % SMS: 0.95 x 0.019
    assert check["inside"] and row["abs_ci_low"] <= check["true_rate"] <= row["abs_ci_high"]
    assert check["ci_low"] > 0                                    # and the effect is clearly there
    assert check["incremental_low"] <= check["true_incremental"] <= check["incremental_high"]
    assert check["cuped_inside"]
    # the adjusted estimates sit next to the plain one, with no wider interval
    assert row["cuped_lift"] == pytest.approx(row["abs_lift"], abs=0.01)
    assert row["cuped_ci_high"] - row["cuped_ci_low"] <= row["abs_ci_high"] - row["abs_ci_low"] + 1e-12
    assert campaign.ev.covariates[0] == "score"


def test_headline_arithmetic(campaign):
    ev = campaign.ev
    h = ev.headline
    m = ev.members
    target = m[m["group"] == "target"]
    assert h["target"] + h["control"] == len(m) == N
    assert h["incremental"] == pytest.approx(h["lift"] * h["target"])
    attempts = ev.contacts.merge(m[["subscriber_id", "channel"]], on="subscriber_id", suffixes=("", "_m"))
    cost = (attempts["channel_m"].map({"outbound_call": 2.0, "sms": 0.05})).sum()
    assert h["cost"] == pytest.approx(cost) and h["attempts"] == len(ev.contacts)
    assert h["cost_per_incremental"] == pytest.approx(cost / h["incremental"])
    assert h["responders"] == int(target["responded"].sum())
    progress = campaign.store.progress(SYSTEM_USER, campaign.release.campaign_id).iloc[0]
    assert (h["contacted"], h["reached"], h["accepted"]) == (progress["contacted"], progress["reached"],
                                                            progress["accepted"])
    stable = ev.effect_row("stable_response")
    assert stable["mean_treated"] <= ev.effect_row("responded")["mean_treated"]


def test_breakdowns_srm_and_executors(campaign):
    ev = campaign.ev
    assert set(ev.by) == {"branch", "channel", "score_decile", "segment", "brand"}
    channel = ev.by["channel"].set_index("segment")
    assert channel.loc["outbound_call", "abs_lift"] > channel.loc["sms", "abs_lift"]   # calls gain 4 times as much
    expo = campaign.sim.exposure.merge(campaign.truth.drop(columns="p_order_base"), on="subscriber_id")
    for name in ("outbound_call", "sms"):                      # each channel's truth inside its interval
        mine = expo[(expo["channel"] == name) & (expo["group"] == "target")]
        true_rate = ((mine["p_order_" + name] - mine["p_order_base"]) * mine["reached"]).sum() / len(mine)
        assert channel.loc[name, "abs_ci_low"] <= true_rate <= channel.loc[name, "abs_ci_high"], name
    assert channel["n_treated"].sum() + channel["n_control"].sum() == N
    assert ev.by["score_decile"]["segment"].tolist() == list(range(1, 11))
    assert not ev.srm["srm"].any() and ev.srm.loc[ev.srm["arm"] == "control", "planned_share"].iloc[0] == 0.5
    ex = ev.executors
    assert list(ex.columns) == list(EXECUTOR_COLUMNS)
    assert ex["members"].sum() == (ev.members["group"] == "target").sum()
    assert ex["attempts"].sum() == len(ev.contacts)
    assert (ex["reach_rate"].diff().dropna() <= 0).all()                          # best reach first
    one = ex.iloc[0]
    mine = ev.members[(ev.members["executor"] == one["executor"]) & (ev.members["group"] == "target")]
    assert one["reached"] == mine["reached"].sum() and one["responders"] == mine["responded"].sum()


def test_quality_and_trend(campaign):
    ev = campaign.ev
    assert ev.retention["months"].tolist() == [1, 2, 3]
    assert ev.retention["n_treated"].iloc[0] > 0 and ev.retention["n_control"].iloc[0] > 0
    assert ev.unsubscribes["metric"].tolist() == ["unsubscribed", "free_month_leaver"]
    assert ev.did is not None and ev.did["comparison"].tolist() == ["groups", "responders"]
    assert ev.did.loc[0, "ci_low"] <= 0 <= ev.did.loc[0, "ci_high"] + 0.5        # fee of new subscribers only
    trend = ev.trend
    assert trend["source"].iloc[-1] == "simulated" and trend["in_campaign"].sum() == 1
    assert ev.notes == []


def test_a_sample_ratio_mismatch_is_flagged(features, tmp_path):
    ids = features.index[~features["vas_fam_mobile_newspaper_active"].to_numpy(bool)].to_numpy()[:2000]
    members = pd.DataFrame({"subscriber_id": ids, "branch_id": features.loc[ids, "branch_id"].astype(str).to_numpy(),
                            "group": np.where(np.arange(2000) % 10 < 3, "control", "target"), "channel": "sms"})
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(), progress=False)
    release = store.release_campaign(SYSTEM_USER, _spec(control_share=0.5), members, product="mobile_newspaper")
    ev = evaluate_campaign(store, release.campaign_id, SAMPLE, as_of="2026-12-31", features=features, covariates=())
    assert bool(ev.srm["srm"].iloc[0]) and ev.covariates == []
    key, values = evaluation_story(ev, "srm", "en")
    assert key == "t06.srm.mismatch" and values["observed"] == pytest.approx(0.3)
    assert "srm" in [code for code, _ in lessons(ev, lang="en")]
    assert evaluation_story(ev, "adjusted", "en")[0] == "t06.adjusted.none"
    assert evaluation_story(ev, "channels", "en")[0] == "t06.channels.single"
    assert fit_uplift(ev, on_error="none") is None                     # nobody was contacted, nobody responded
    assert evaluation_story(ev, "uplift", "en")[0] == "t06.uplift.none"
    with pytest.raises(ParameterError, match="The treated rows have no responders"):
        fit_uplift(ev)
    store.close()


def test_evaluation_errors(campaign):
    with pytest.raises(ParameterError, match="'as_of' parameter must be a day on or after campaign_start"):
        evaluate_campaign(campaign.store, campaign.release.campaign_id, SAMPLE, as_of="2026-10-01",
                          features=campaign.ev.features)
    with pytest.raises(ParameterError, match="The 'campaign_id' parameter names no campaign"):
        evaluate_campaign(campaign.store, 999, SAMPLE, as_of="2026-12-31")
    other = read_simulation(campaign.folder / SIMULATION_DIR)
    with pytest.raises(ParameterError, match="The simulation is of campaign 1 version 1; the evaluation of campaign 5"):
        truth_check(SimpleNamespace(campaign_id=5, version=1), other)


# ------------------------------------------------------------------ uplift and the next round
@pytest.fixture(scope="module")
def uplift(campaign):
    return fit_uplift(campaign.ev, method="transformed_outcome", seed=2, n_jobs=1, n_boot=50)


def test_uplift_model_from_the_campaign(campaign, uplift):
    up = uplift
    assert up.n_train + up.n_test == N and up.n_test == pytest.approx(0.3 * N, abs=1)
    assert "score" in up.columns and up.qini_low <= up.qini <= up.qini_high
    assert up.qini_curve["n"].iloc[-1] == up.n_test and list(up.by_bin["bin"]) == list(range(1, 11))
    assert up.final_model is not up.model


class _Oracle:
    """A 'model' that knows each candidate's true uplift (to check the comparison's arithmetic)."""

    def __init__(self, gain: pd.Series):
        self.gain = gain

    def predict(self, X):
        return self.gain.reindex(X.index).to_numpy(float)


def test_next_campaign_comparison_by_hand(campaign):
    ids = np.arange(1, 9)
    truth = pd.DataFrame({"subscriber_id": ids, "p_order_base": 0.1,
                          "p_order_sms": 0.1 + np.array([0.0, 0.1, 0.0, 0.2, 0.3, 0.0, 0.4, 0.05]),
                          "p_order_outbound_call": 0.5})
    candidates = pd.DataFrame({"score": np.linspace(0.9, 0.2, 8), "x": 1.0}, index=pd.Index(ids, name="subscriber_id"))
    gain = pd.Series(truth["p_order_sms"].to_numpy() - 0.1, index=ids)
    out = next_campaign_comparison(campaign.ev, _Oracle(gain), candidates, truth, size=2, pool_factor=3.0,
                                   channel_mix={"sms": 1.0}, reach={"sms": 0.5}, per=10)
    assert list(out.columns) == list(COMPARISON_COLUMNS) and out["strategy"].tolist() == list(STRATEGIES)
    got = out.set_index("strategy")
    # pool = the 6 best scores (ids 1..6); propensity = ids 1, 2; uplift = oracle = ids 5 (0.3), 4 (0.2)
    assert got.loc["propensity", "expected_incremental"] == pytest.approx(0.5 * 0.1)
    assert got.loc["uplift", "expected_incremental"] == pytest.approx(0.5 * 0.5)
    assert got.loc["oracle", "expected_incremental"] == pytest.approx(0.5 * 0.5)
    assert got.loc["uplift", "incremental_per_10k"] == pytest.approx(0.25 / 2 * 10)
    assert got.loc["uplift", "vs_propensity"] == pytest.approx(5.0)
    assert got.loc["propensity", "expected_orders"] == pytest.approx(0.2 + 0.05)
    with pytest.raises(ParameterError, match="Only 8 candidates for a list of 9"):
        next_campaign_comparison(campaign.ev, _Oracle(gain), candidates, truth, size=9)
    with pytest.raises(ParameterError, match="'pool_factor' parameter must be a number >= 1"):
        next_campaign_comparison(campaign.ev, _Oracle(gain), candidates, truth, size=2, pool_factor=0.5)
    with pytest.raises(ParameterError, match=r"The truth lacks the columns \['p_order_ivr'\]"):
        next_campaign_comparison(campaign.ev, _Oracle(gain), candidates, truth, size=2, channel_mix={"ivr": 1.0})


def test_next_round_on_the_campaign_uses_its_mix_and_reach(campaign, features, uplift):
    up = uplift
    ids = campaign.members["subscriber_id"].to_numpy()
    candidates = features.loc[ids].copy()
    candidates["score"] = campaign.members["score"].to_numpy()
    out = next_campaign_comparison(campaign.ev, up, candidates, campaign.truth, size=2000, pool_factor=3.0)
    got = out.set_index("strategy")
    assert (got["contacts"] == 2000).all()
    others = got.loc[["propensity", "uplift", "random"], "expected_incremental"]
    assert got.loc["oracle", "expected_incremental"] >= others.max()
    assert got.loc["oracle", "sleeping_dogs_share"] == 0.0
    share = out.attrs["channel_mix"]
    assert share["sms"] + share["outbound_call"] == pytest.approx(1.0)
    assert 0.6 < out.attrs["reach"]["outbound_call"] < out.attrs["reach"]["sms"] <= 1.0


# ------------------------------------------------------------------ the report's words
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_has_its_narrative(campaign, uplift, lang):
    ev = campaign.ev
    up = uplift
    truth = truth_check(ev, campaign.sim)
    candidates = ev.features.loc[campaign.members["subscriber_id"]].copy()
    candidates["score"] = campaign.members["score"].to_numpy()
    comparison = next_campaign_comparison(ev, up, candidates, campaign.truth, size=2000)
    keys = []
    for section in STORY_SECTIONS:
        key, values = evaluation_story(ev, section, lang, simulation=campaign.sim, truth=truth, uplift=up,
                                       comparison=comparison)
        text = narrative(key, lang, **values)
        assert text and "{" not in text
        keys.append(key)
    assert "t06.effect.significant" in keys and "t06.truth.inside" in keys and "t06.data.simulated" in keys
    key, values = evaluation_story(ev, "recommendation", lang, uplift=up, comparison=comparison)
    rec = narrative(key, lang, **values)
    codes = [c for c, _ in lessons(ev, uplift=up, comparison=comparison, lang=lang)]
    assert codes[0] == "worked" and "channel" in codes and codes[-1] in ("target_uplift", "keep_propensity")
    assert rec.count("\n1. ") == 1 and f"\n{len(codes)}. " in rec
    assert evaluation_story(ev, "truth", lang)[0] == "t06.truth.none"
    assert evaluation_story(ev, "comparison", lang)[0] == "t06.comparison.none"
    assert evaluation_story(ev, "data", lang)[0] == "t06.data.recorded"
    with pytest.raises(ParameterError, match="'section' parameter must be one of"):
        evaluation_story(ev, "summary", lang)


def test_report_tables_are_labelled(campaign):
    ev = campaign.ev
    table = effect_summary_table(ev, "en")
    assert table.iloc[:, 0].tolist() == ["Responded (ordered)", "Stable response"]
    assert "95% CI" in table.columns and "CUPED" in table.columns
    block = breakdown_table(ev, lang="zh")
    assert list(block.columns[:2]) == ["维度", "分组"] and "外呼" in block["分组"].tolist()
    assert "第1十分位" in block["分组"].tolist()
    ex = executor_table(ev, "en", top=3)
    assert len(ex) == 3 and ex.columns[0] == "Executor"
    assert comparison_table(None).empty
    values, formats = evaluation_cards(ev)
    assert set(formats) <= set(values) and values["t06.kpi.target"] == ev.headline["target"]


def test_the_demo_step_needs_the_campaign_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="run template 04_campaign_design"):
        run_simulation_step(SAMPLE, tmp_path)
    (tmp_path / "campaign.json").write_text(json.dumps({"campaign_id": 1}), encoding="utf-8")
    with pytest.raises(ParameterError, match=r"lacks \['store_url'\]"):
        open_run(tmp_path)


def test_the_simulate_command(campaign, tmp_path, capsys):
    from workbench.cli import main

    store = campaign.store
    small = campaign.members.head(400)
    cid = store.release_campaign(SYSTEM_USER, _spec(name="cli"), small, product="mobile_newspaper").campaign_id
    url = store.engine.url.render_as_string(hide_password=False)
    args = ["simulate", "--campaign", str(cid), "--store", url, "--data", SAMPLE, "--out", str(tmp_path / "sim"),
            "--seed", "4", "--no-progress"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["campaign_id"] == cid and summary["contacts_written"] > 0
    assert summary["folder"] == str(tmp_path / "sim") and read_simulation(tmp_path / "sim").seed == 4
    assert len(store.contact_results(SYSTEM_USER, cid)) == summary["contacts_written"]
    assert main(args) == 0 and json.loads(capsys.readouterr().out)["contacts_written"] == 0   # nothing twice
    assert main(["simulate", "--run-dir", str(tmp_path), "--data", SAMPLE]) == 1
    assert "run template 04_campaign_design" in capsys.readouterr().err
    assert main(["simulate", "--campaign", str(cid), "--store", url, "--truth", str(tmp_path)]) == 1
    assert "中没有真实效果数据" in capsys.readouterr().err   # zh by default


def test_an_uplift_model_that_cannot_be_measured_is_said_so(campaign, uplift):
    import dataclasses

    blind = dataclasses.replace(uplift, qini_low=float("nan"), qini_high=float("nan"))
    key, values = evaluation_story(campaign.ev, "uplift", "en", uplift=blind)
    assert key == "t06.uplift.unmeasured" and "cannot be used yet" in narrative(key, "en", **values)
    shown = dataclasses.replace(uplift, qini_low=0.01, qini_high=0.2)
    assert evaluation_story(campaign.ev, "uplift", "en", uplift=shown)[0] == "t06.uplift.useful"
    weak = dataclasses.replace(uplift, qini_low=-0.01, qini_high=0.2)
    assert evaluation_story(campaign.ev, "uplift", "en", uplift=weak)[0] == "t06.uplift.weak"
