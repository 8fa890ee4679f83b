"""Re-runs: the demo twice with one seed in one workspace store gives the same evaluation, each run
releasing its own campaign; planning's contact history counts only contacts before the plan's day.

The two demos are the executed chain of templates 01-06 of the test suite: the first in Chinese, the second in
English, so every report of both languages is also scanned for words a person must never read
(tests/report_scan.py) and the method checks of 04 and 06 are found in the reports and in run.json."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from workbench.campaign.planning import CampaignPlan, contact_history
from workbench.commands import demo
from workbench.errors import ParameterError
from workbench.runs import CAMPAIGN_FILE, RunFolder, other_campaigns
from workbench.store import SYSTEM_USER, Store
from workbench.tracking.attribution import LOCAL_TIMEZONE
from workbench.tracking.loop import evaluate_run, open_run
from chain_fixtures import DEMO_CHAIN_LANGUAGES, DEMO_CHAIN_STEPS
from report_scan import untranslated

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "province"
#: The demo's steps from the status analysis on (00_hello writes nothing the later steps read).
STEPS = list(DEMO_CHAIN_STEPS)
#: Language of each demo: the chain's reports are read in both.
LANGUAGES = DEMO_CHAIN_LANGUAGES


class _Store:
    """The two calls contact_history makes, over fixed contacts."""

    def __init__(self, contacts: dict[int, pd.DataFrame]):
        self.contacts = contacts

    def visible_campaigns(self, user):
        return pd.DataFrame({"campaign_id": list(self.contacts), "name": [f"c{c}" for c in self.contacts],
                             "status": "released"})

    def contact_results(self, user, campaign_id):
        return self.contacts[campaign_id]


def test_contact_history_counts_only_contacts_before_the_plan_day():
    at = pd.to_datetime(["2026-10-30T10:00:00+06:00", "2026-11-01T09:00:00+06:00", "2026-11-03T09:00:00+06:00"])
    store = _Store({1: pd.DataFrame({"subscriber_id": [1, 2, 3], "contacted_at": at})})
    everything = contact_history(store)
    assert everything["subscriber_id"].tolist() == [1, 2, 3]
    before = contact_history(store, before="2026-11-01")
    assert before["subscriber_id"].tolist() == [1]
    assert before["contact_date"].tolist() == [pd.Timestamp("2026-10-30")]
    assert contact_history(store, before="2026-10-30").empty


def test_other_campaigns_are_those_of_the_store_but_this_one():
    store = _Store({1: pd.DataFrame(), 2: pd.DataFrame(), 5: pd.DataFrame()})
    others = other_campaigns(store, 2)
    assert others["campaign_id"].tolist() == [1, 5] and others["name"].tolist() == ["c1", "c5"]


def test_the_executed_share_is_checked_before_any_step_runs(tmp_path):
    with pytest.raises(ParameterError, match="'executed_share' parameter must be a share of the campaign period"):
        demo.run_demo(SAMPLE, tmp_path / "out", steps=["01_status_analysis"], progress=False, store="sqlite://",
                      executed_share=1.5)
    assert not (tmp_path / "out").exists()


def test_a_served_demo_has_its_accounts_before_the_steps_run(tmp_path):
    """With accounts (``--serve``), the executors the simulated execution works for have names from the start."""
    from workbench.apps.demo import DEMO_USERS

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    demo.run_demo(SAMPLE, tmp_path / "plain", steps=[], progress=False, store=url)
    with Store(url, progress=False) as store:
        assert store.list_users(SYSTEM_USER).empty                       # not asked for: no accounts
    demo.run_demo(SAMPLE, tmp_path / "served", steps=[], progress=False, store=url, accounts=True)
    demo.run_demo(SAMPLE, tmp_path / "again", steps=[], progress=False, store=url, accounts=True)   # no duplicates
    with Store(url, progress=False) as store:
        users = store.list_users(SYSTEM_USER).set_index("name")
    assert sorted(users.index) == sorted(u.name for u in DEMO_USERS)
    assert all(users.loc[u.name, "display_name"] == u.display_name for u in DEMO_USERS)


def _markdown(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "\n".join(o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if "text/markdown" in o.get("data", {}))


@pytest.fixture(scope="module")
def two_demos(demo_chain):
    """Two demo runs in one temporary workspace (its own store), same seed, default run folders: the session's
    demo chain (tests/conftest.py), evaluated here."""
    evaluations = []
    for folder in demo_chain.folders:
        run = open_run(folder)
        try:
            evaluations.append(evaluate_run(run, SAMPLE))
        finally:
            run.close()
    return demo_chain.ws, demo_chain.folders, evaluations


@pytest.mark.slow
@pytest.mark.kernel
def test_each_demo_writes_a_new_run_folder_and_releases_a_new_campaign(two_demos):
    ws, folders, _ = two_demos
    assert folders == [ws / "runs" / "demo-1", ws / "runs" / "demo-2"]
    pointers = [json.loads((f / CAMPAIGN_FILE).read_text(encoding="utf-8")) for f in folders]
    assert [p["campaign_id"] for p in pointers] == [1, 2]
    assert [p["version"] for p in pointers] == [1, 1]
    shared = f"sqlite:///{(ws / 'runs' / 'store.sqlite').as_posix()}"
    assert pointers[0]["store_url"] == pointers[1]["store_url"] == shared
    for folder in folders:
        assert set(RunFolder(folder).steps()) == set(STEPS) and RunFolder(folder).stale_steps() == []


@pytest.mark.slow
@pytest.mark.kernel
def test_the_demo_stops_mid_period_so_each_executor_has_part_of_the_list_still_to_work(two_demos):
    _, folders, _ = two_demos
    for folder in folders:
        run = open_run(folder)
        try:
            rows = run.store.worklist(SYSTEM_USER, run.campaign_id, version=run.version)
            period = (pd.Timestamp(run.store.spec(SYSTEM_USER, run.campaign_id)["goal"]["period_end"])
                      - pd.Timestamp(run.simulation.start)).days + 1
        finally:
            run.close()
        assert 0 < run.simulation.days < period
        done = rows.assign(contacted=rows["contacts"] > 0).groupby("executor")["contacted"].agg(["sum", "size"])
        assert len(done) > 1
        assert (done["sum"] > 0).all() and (done["sum"] < done["size"]).all(), done
        last = pd.to_datetime(rows["last_contacted_at"]).max()
        stop = pd.Timestamp(run.simulation.start) + pd.Timedelta(days=run.simulation.days)   # the day after the last
        assert last < (stop.tz_localize(LOCAL_TIMEZONE) if last.tzinfo is not None else stop)
    report = _markdown(folders[1] / "06_campaign_evaluation.ipynb")
    assert "stopped part-way through the" in report and "not contacted yet" in report


@pytest.mark.slow
@pytest.mark.kernel
def test_the_second_plan_is_not_held_back_by_the_first_campaign(two_demos):
    _, folders, _ = two_demos
    funnels = [CampaignPlan.load(RunFolder(f).require("plan")).funnel.set_index("step")["excluded"] for f in folders]
    assert funnels[1]["recent_contact"] == 0 and funnels[1]["monthly_cap"] == 0
    pd.testing.assert_series_equal(funnels[0], funnels[1])


@pytest.mark.slow
@pytest.mark.kernel
def test_same_seed_same_evaluation_in_a_shared_store(two_demos):
    _, _, (first, second) = two_demos
    assert (first.campaign_id, second.campaign_id) == (1, 2)
    assert first.headline.keys() == second.headline.keys()
    for key, value in first.headline.items():      # NaN (no figure) must stay NaN
        assert value == second.headline[key] or (pd.isna(value) and pd.isna(second.headline[key])), key
    assert first.headline["contacted"] > 0
    pd.testing.assert_frame_equal(first.effect, second.effect)
    assert len(first.contacts) == len(second.contacts)


@pytest.mark.slow
@pytest.mark.kernel
def test_the_evaluation_names_the_other_campaigns_of_the_store(two_demos):
    _, folders, _ = two_demos
    first, second = (_markdown(f / "06_campaign_evaluation.ipynb") for f in folders)
    assert "活动库中只有本次评估的活动 #1" in first
    assert "campaign(s) released by other runs: #1 " in second and "covers campaign #2 only" in second
    store = Store(json.loads((folders[1] / CAMPAIGN_FILE).read_text(encoding="utf-8"))["store_url"], progress=False)
    try:
        assert sorted(store.visible_campaigns(SYSTEM_USER)["campaign_id"].tolist()) == [1, 2]
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.kernel
def test_no_report_shows_identifiers_missing_values_or_english_errors(two_demos):
    _, folders, _ = two_demos
    problems = []
    for folder, lang in zip(folders, LANGUAGES):
        for step in STEPS:
            if step != "simulate":
                problems += [f"{lang} {step} {p}" for p in untranslated(folder / f"{step}.ipynb", lang)]
    assert problems == []


@pytest.mark.slow
@pytest.mark.kernel
def test_the_method_checks_are_in_the_reports_and_the_manifest(two_demos):
    _, folders, _ = two_demos
    zh, en = folders
    plan = _markdown(zh / "04_campaign_design.ipynb")
    assert "**方法检查**" in plan and plan.index("**方法检查**") < plan.index("**资格筛选：**")   # a card near the top
    recorded = RunFolder(zh).checks("04_campaign_design")
    assert {c["check"] for c in recorded} == {"plan_vs_goal", "spend_vs_budget", "control_power", "list_overlap",
                                               "scores_snapshot"}
    goal = json.loads((zh / "goal.json").read_text(encoding="utf-8"))["target_stable_subscribers"]
    planned = CampaignPlan.load(RunFolder(zh).require("plan")).summary["expected_orders"]
    shortfall = next(c for c in recorded if c["check"] == "plan_vs_goal")
    assert (shortfall["code"] == "shortfall") == (planned < goal)
    if planned < goal:
        assert "低于模板 02 的目标" in plan
    evaluation = RunFolder(en).checks("06_campaign_evaluation")
    assert [c["check"] for c in evaluation][:2] == ["spend_vs_budget", "evidence"]
    report = _markdown(en / "06_campaign_evaluation.ipynb")
    assert "**Method checks**" in report
    # a lesson favours a channel only when its interval excludes 0
    channel = [c for c in evaluation if c["check"] == "evidence" and c["subject"] != "campaign"][0]
    assert ("give it budget and staff first" in report) == (channel["code"] == "supported")
