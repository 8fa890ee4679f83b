"""Template 04 (campaign design) runs in a real kernel on the sample province and releases a campaign.

One kernel run serves the module: a run folder holding a goal.json (written with the goal module's public
functions) and a scores.parquet (fixture scores of the potential customers: this module tests the template's
mechanics, test_campaign_planning the planning on model scores).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import workbench.i18n as i18n
from workbench import templates as wt
from workbench.campaign import hash_uniform
from workbench.campaign.executors import executor_roster
from workbench.campaign.from_goal import baseline_from_goal, spec_from_goal
from workbench.campaign.planning import (
    CAMPAIGN_FILE, SCORES_FILE, default_store_url, model_reference, plan_campaign, read_scores,
)
from workbench.report.t04 import inputs_story, plan_story, release_story
from workbench.commands import demo
from workbench.features import subscriber_status
from workbench.notebook import narrative
from workbench.status.goal import GOAL_FILE, check_goal, read_goal, write_goal
from workbench.store import SYSTEM_USER, Store
from workbench.templates import run_template, template_parameters

T04 = "04_campaign_design"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"
PLOTLY_MARK = "* plotly.js v"
#: Text only the template's code holds: none of it may reach the report.
CODE_MARKS = ("plan_campaign(", "narrate(", "spec_from_goal(", "import ", "release_for_run(")


@pytest.fixture(autouse=True)
def _clean_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv(wt.TEMPLATES_ENV, raising=False)
    monkeypatch.setattr(i18n, "_current", None)


def write_inputs(run: Path) -> tuple[dict, pd.DataFrame]:
    """goal.json as template 02 writes it, and fixture scores of the potential customers."""
    potential = {"lookalikes": 3500, "conversion_rate": 0.028, "horizon_months": 6}
    goal = {"version": 1, "product": "mobile_newspaper", "snapshot": "2026-10", "branches": [], "language": "en",
            "target_stable_subscribers": 60, "period_start": "2026-11-01", "period_end": "2027-01-31",
            "period_months": 3, "ambition": None, "stable_subscribers": 705,
            "reason": {"problem": "capital_gap", "text": "The capital is far ahead of the prefectures."},
            "potential": potential, "check": check_goal(60, potential, 3)}
    write_goal(goal, run)
    status = subscriber_status(SAMPLE, "mobile_newspaper", "2026-10", 3)
    ids = status.index[status["nonsubscriber"]].to_numpy()
    u = hash_uniform(ids, seed=4)
    scores = pd.DataFrame({"subscriber_id": ids, "score": 0.3 * u ** 12,
                           "reason_1": np.where(u > 0.5, "heavy WAP user", "reads news"),
                           "reason_2": "changed handset lately",
                           "edition": np.where(ids % 2 == 0, "news", "sports")})
    scores.to_parquet(run / SCORES_FILE, index=False)
    return goal, scores


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    run = tmp_path_factory.mktemp("run04")
    goal, scores = write_inputs(run)
    # the run folder's own store: the default (the workspace's store) is shared with every other run
    result = run_template(T04, {"data": str(SAMPLE), "run_dir": str(run), "store": default_store_url(run)}, run,
                          language="en", progress=False)
    return result, run, goal, scores


@pytest.fixture(scope="module")
def expected_plan(released):
    """The plan the template's defaults give, computed here with the same calls."""
    _, run, goal, scores = released
    p = {n: par.default for n, par in template_parameters(T04).items()}
    i18n.set_language("en")
    try:
        spec = spec_from_goal(
            goal, product=p["product"], channels=p["channels"], list_size=p["list_size"], edition=p["edition"],
            free_months=p["free_months"], control_share=p["control_share"], budget=p["budget"] or None,
            value_per_order=p["value_per_order"], response_window_days=p["response_window_days"], period=p["period"],
            seed=p["seed"], recent_days=p["recent_days"], max_contacts_month=p["max_contacts_month"],
            universal_control_share=p["universal_control_share"], name=p["campaign_name"], owner=p["planner"],
            model_id=model_reference(run))
        rate, size = baseline_from_goal(goal, spec.response_window_days)
        plan = plan_campaign(spec, scores, SAMPLE, as_of=spec.goal.period_start,
                             executors=executor_roster(spec.campaign_branches, per_branch=p["executors_per_branch"]),
                             baseline_rate=rate, baseline_size=size, progress=False)
    finally:
        i18n._current = None
    return plan


def _outputs(path: Path) -> list[dict]:
    nb = nbformat.read(str(path), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _markdown(path: Path) -> str:
    return "\n".join(o["data"]["text/markdown"] for o in _outputs(path) if "text/markdown" in o.get("data", {}))


# ----------------------------------------------------------------- declarations
def test_parameters_are_declared_with_their_meaning():
    params = template_parameters(T04)
    assert {"product", "edition", "list_size", "control_share", "channels", "budget", "response_window_days",
            "period", "seed", "language", "data", "run_dir", "store"} <= set(params)
    assert all(p.help for p in params.values())
    assert params["edition"].default == "by_preference" and params["store"].default == ""
    assert set(params["channels"].default) == {"sms", "wap_push", "outbound_call"}
    info = {i.name: i for i in wt.list_templates("en")}[T04]
    assert info.title == "Campaign design"


def test_the_demo_runs_it_after_the_goal():
    steps = demo.DEMO_STEPS
    assert T04 in steps and steps.index(T04) > steps.index("02_goal_setting")


def test_missing_inputs_name_the_template_to_run_first(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"holds no {GOAL_FILE}: run template 02_goal_setting"):
        read_goal(tmp_path)
    with pytest.raises(FileNotFoundError, match=f"{SCORES_FILE}' does not exist: run template 03_target_model"):
        read_scores(tmp_path)


# ----------------------------------------------------------------- the run
@pytest.mark.kernel
def test_the_campaign_is_released_and_recorded_for_the_later_steps(released, expected_plan):
    _, run, _, _ = released
    info = json.loads((run / CAMPAIGN_FILE).read_text(encoding="utf-8"))
    url = default_store_url(run)
    assert (info["campaign_id"], info["version"], info["store_url"]) == (1, 1, url)
    assert info["members"] == len(expected_plan.rows) > 0
    assert (info["period_start"], info["period_end"]) == ("2026-11-01", "2027-01-31")
    with Store(url, progress=False) as store:
        campaigns = store.visible_campaigns(SYSTEM_USER)
        rows = store.worklist(SYSTEM_USER, 1, include_control=True)
        spec = store.spec(SYSTEM_USER, 1)
    assert len(campaigns) == 1 and campaigns["status"].iloc[0] == "released"
    assert int(campaigns["member_count"].iloc[0]) == info["members"]
    key = ["subscriber_id"]
    got = rows[["subscriber_id", "group", "channel", "executor"]].sort_values(key).reset_index(drop=True)
    want = expected_plan.rows[["subscriber_id", "group", "channel", "executor"]].sort_values(key)
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_dtype=False)
    assert spec["offer"]["family"] == "mobile_newspaper" and spec["seed"] == expected_plan.spec.seed
    assert not rows["msisdn_masked"].str.fullmatch(r"\d{11}").any()


@pytest.mark.kernel
def test_the_report_tells_every_step_with_the_plan_numbers(released, expected_plan):
    result, run, goal, scores = released
    md = _markdown(result.notebook)
    assert narrative("t04.intro", "en") in md
    key, values = inputs_story(goal, scores, model_reference(run), lang="en")
    assert narrative(key, "en", **values) in md
    for part in ("funnel", "control", "power", "channels", "workload"):
        key, values = plan_story(expected_plan, part, "en")
        assert narrative(key, "en", **values) in md, part

    class Done:
        campaign_id, version, member_count = 1, 1, len(expected_plan.rows)

    key, values = release_story(Done, run / CAMPAIGN_FILE, False)
    assert narrative(key, "en", **values) in md
    # the defaults make the budget bind; every capacity holds
    s = expected_plan.summary
    assert s["cost"] == pytest.approx(600.0, abs=1.0) and s["contacted"] > 500
    summary = expected_plan.channel_plan.summary
    assert (summary["users"] <= summary["capacity"]).all()


@pytest.mark.kernel
def test_the_notebook_has_figures_guides_and_no_errors(released):
    result, _, _, _ = released
    outputs = _outputs(result.notebook)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 5   # funnel, control balance, orders by branch, cost by channel, workload
    guides = [o for o in outputs if 'class="wb-guide"' in o.get("data", {}).get("text/html", "")]
    assert len(guides) == 8
    tables = [o for o in outputs if "text/html" in o.get("data", {}) and "<table" in o["data"]["text/html"]]
    assert len(tables) == 4    # channels of the spec, totals by channel and by branch, list preview


@pytest.mark.kernel
def test_the_html_report_has_no_code_and_embeds_plotly_once(released):
    result, _, _, _ = released
    html = result.html.read_text(encoding="utf-8")
    assert html.count(PLOTLY_MARK) == 1
    body = html.split(PLOTLY_MARK)[0] + html.split(PLOTLY_MARK)[1].split("</script>", 1)[1]
    assert not [m for m in CODE_MARKS if m in body]
    assert "cdn.plot.ly" not in body and "<script src=\"http" not in body   # nothing loads from the network
    assert "A note for new analysts" in html and "Outbound call" in html and "****" in html
