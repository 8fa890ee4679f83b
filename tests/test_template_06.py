"""Template 06 (campaign evaluation) runs in a real kernel on the sample province.

Its prerequisites are built in a fixture through the public APIs, as templates 02-04 and the demo's
``simulate`` step would leave them: a goal, fixture look-alike scores, a campaign planned and released by
workbench.campaign.planning (campaign.json and the store in the run folder), and its simulated execution
recorded in the store. One kernel run serves the module; its narratives are compared with the same
numbers computed here through the public API.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import workbench.i18n as i18n
from workbench import templates as wt
from workbench.campaign.executors import executor_roster
from workbench.campaign.from_goal import spec_from_goal
from workbench.campaign.planning import SCORES_FILE, default_store_url, plan_campaign, release_for_run
from workbench.commands import demo
from workbench.features import build_features
from workbench.notebook import narrative
from workbench.status.goal import check_goal, write_goal
from workbench.store import SYSTEM_USER, Store
from workbench.templates import run_template, template_parameters
from workbench.report.t06 import evaluation_story, lessons
from workbench.demo.steps import run_truth_check
from workbench.tracking.loop import SIMULATION_DIR, evaluate_run, open_run, read_simulation

T06 = "06_campaign_evaluation"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"
PLOTLY_MARK = "* plotly.js v"
#: Text only the template's code holds: none of it may reach the report.
CODE_MARKS = ("evaluate_run(", "narrate(", "fit_uplift(", "from workbench", "evaluation_story(",
              '<div class="jp-InputArea-editor')


@pytest.fixture(autouse=True)
def _clean_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv(wt.TEMPLATES_ENV, raising=False)
    monkeypatch.setattr(i18n, "_current", None)


def _prerequisites(run: Path) -> pd.DataFrame:
    """goal.json, scores.parquet, the released campaign (campaign.json + store) and its simulated execution;
    returns the features of the campaign snapshot."""
    potential = {"lookalikes": 3500, "conversion_rate": 0.028, "horizon_months": 6}
    goal = {"version": 1, "product": "mobile_newspaper", "snapshot": "2026-10", "branches": [], "language": "en",
            "target_stable_subscribers": 60, "period_start": "2026-11-02", "period_end": "2026-11-15",
            "period_months": 1, "ambition": None, "stable_subscribers": 705,
            "reason": {"problem": "capital_gap", "text": "The capital is far ahead of the prefectures."},
            "potential": potential, "check": check_goal(60, potential, 1)}
    write_goal(goal, run)
    feats = build_features(SAMPLE, "2026-10")
    potential_ids = feats.index[~feats["vas_fam_mobile_newspaper_active"].to_numpy(bool)]
    f = feats.loc[potential_ids]
    z = (np.log1p(f["content_news_mean"]) + np.log1p(f["wap_visits_mean"]) + f["handset_cap_mms"].astype(float))
    score = 1 / (1 + np.exp(-(z - z.mean()) / z.std() + 3))          # a rough look-alike score
    pd.DataFrame({"subscriber_id": potential_ids.to_numpy(), "score": score.to_numpy(),
                  "edition": "news"}).to_parquet(run / SCORES_FILE, index=False)
    spec = spec_from_goal(
        goal, channels={"sms": {"unit_cost": 0.05, "response_multiplier": 1.3},
                        "outbound_call": {"unit_cost": 2.0, "response_multiplier": 3.0}},
        list_size=4000, control_share=0.4, budget=None, edition="news", free_months=1, seed=3,
        name="Mobile newspaper, test", owner="ana")
    scores = pd.read_parquet(run / SCORES_FILE)
    plan = plan_campaign(spec, scores, SAMPLE, as_of=spec.goal.period_start,
                         executors=executor_roster(spec.campaign_branches, per_branch=2), progress=False)
    url = default_store_url(run)
    store = Store(url, progress=False)
    release_for_run(plan, store, SYSTEM_USER, run, url)
    store.close()
    assert demo.STEP_FUNCTIONS["simulate"] == "workbench.demo.steps:demo_simulate"
    demo.run_demo(SAMPLE, run, steps=["simulate"], progress=False, executed_share=1.0)   # worked through
    return feats


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    run = tmp_path_factory.mktemp("run06")
    feats = _prerequisites(run)
    result = run_template(T06, {"data": str(SAMPLE), "run_dir": str(run), "uplift_method": "transformed_outcome"},
                          run, language="en", progress=False)
    return result, run, feats


def _outputs(path: Path) -> list[dict]:
    nb = nbformat.read(str(path), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _markdown(path: Path) -> str:
    return "\n".join(o["data"]["text/markdown"] for o in _outputs(path) if "text/markdown" in o.get("data", {}))


# ----------------------------------------------------------------- declarations
def test_parameters_are_declared_with_their_meaning():
    params = template_parameters(T06)
    assert set(params) == {"run_dir", "data", "as_of", "truth", "uplift_method", "test_size", "pool_factor", "seed",
                           "language"}
    assert all(p.help for p in params.values())
    assert params["run_dir"].default == "" and params["language"].default == "zh"  # "": the workspace's
    info = {i.name: i for i in wt.list_templates("en")}[T06]
    assert info.title == "Campaign summary (evaluation)"
    nb = nbformat.read(str(wt.find_template(T06)), as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert all(line.startswith("#") for cell in markdown for line in cell.splitlines())   # titles only


def test_the_demo_simulates_then_evaluates_after_the_campaign_design():
    steps = demo.DEMO_STEPS
    assert steps.index("04_campaign_design") < steps.index("simulate") < steps.index(T06)
    assert steps[-1] == "publish"            # results for operations come last, from everything before
    assert steps.index("03_target_model") < steps.index("04_campaign_design")


# ----------------------------------------------------------------- the run
@pytest.mark.kernel
def test_the_simulated_execution_is_in_the_run_folder_and_the_store(evaluated):
    _, run, _ = evaluated
    sim = read_simulation(run / SIMULATION_DIR)
    assert sim is not None and sim.contacts_written > 0 and sim.start.isoformat() == "2026-11-02"
    opened = open_run(run)
    try:
        assert (opened.campaign_id, opened.simulation.summary()) == (sim.campaign_id, sim.summary())
        stored = opened.store.contact_results(SYSTEM_USER, opened.campaign_id)
        assert len(stored) == sim.contacts_written
    finally:
        opened.close()


@pytest.mark.kernel
def test_the_report_narrates_the_numbers_of_the_public_api(evaluated):
    result, run, feats = evaluated
    md = _markdown(result.notebook)
    opened = open_run(run)
    try:
        ev = evaluate_run(opened, SAMPLE, features=feats)
        truth = run_truth_check(opened, ev)
        for section in ("overview", "effect", "adjusted", "srm", "channels", "executors", "quality"):
            key, values = evaluation_story(ev, section, "en")
            assert narrative(key, "en", **values) in md, section
        key, values = evaluation_story(ev, "data", "en", simulation=opened.simulation)
        assert key == "t06.data.simulated" and narrative(key, "en", **values) in md
        key, values = evaluation_story(ev, "truth", "en", truth=truth)
        assert key in ("t06.truth.inside", "t06.truth.outside") and narrative(key, "en", **values) in md
    finally:
        opened.close()
    assert narrative("t06.intro", "en") in md
    assert "**The uplift model (transformed outcome)**" in md or "**Too little data for an uplift model:**" in md
    assert "**A simulated next round:**" in md and "per 10,000 contacts" in md
    assert "**Lessons and the recommendation for the next round:**" in md
    assert re.search(r"\n1\. The (campaign worked|effect is not proven)", md)
    codes = [c for c, _ in lessons(ev, lang="en")]
    assert codes[0] in ("worked", "unproven")


@pytest.mark.kernel
def test_the_notebook_has_figures_tables_and_no_errors_or_warnings(evaluated):
    result, _, _ = evaluated
    outputs = _outputs(result.notebook)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]  # no bars
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    # effect, 4 breakdowns (channel, branch, score decile, score band), retention, ARPU DiD, trend, Qini, by decile
    assert len(figures) == 10
    guides = [o for o in outputs if 'class="wb-guide"' in o.get("data", {}).get("text/html", "")]
    assert len(guides) == 11
    tables = [o["data"]["text/html"] for o in outputs if "<table" in o.get("data", {}).get("text/html", "")]
    assert any("Cost per incremental (yuan)" in h for h in tables)
    assert any("Executor" in h and "Reached" in h for h in tables)
    assert any("Incremental orders per 10,000 contacts" in h and "Uplift model" in h for h in tables)


@pytest.mark.kernel
def test_the_html_report_has_no_code_and_embeds_plotly_once(evaluated):
    result, _, _ = evaluated
    html = result.html.read_text(encoding="utf-8")
    assert result.html.name == f"{T06}.html"
    assert html.count(PLOTLY_MARK) == 1 and "cdn.plot.ly/plotly" not in html
    assert not re.findall(r"<script[^>]+src=", html), "the report must not load scripts from elsewhere"
    assert html.count('class="plotly-graph-div"') == 10
    assert not [m for m in CODE_MARKS if m in html]
    assert "Campaign summary" in html and "A note for new analysts" in html
