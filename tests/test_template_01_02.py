"""Templates 01 (status analysis) and 02 (goal setting) run in a real kernel on the sample province.

One kernel run of its own serves the module (a bad product, snapshot or branch is named by check_scope,
tested in test_status_analysis.py; here only that the templates call it first): 02 in zh runs alone in a
folder without findings (it recomputes them), and must reach the goal 02 reached in the run folder it
shared with 01 (02 reads 01's findings).  The runs of 01 (zh) and 02 (en) in a shared run folder are those
of the session's demo chain (tests/chain_fixtures.py), which runs 01-06 with the templates' defaults.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import pytest

import workbench.i18n as i18n
from workbench import templates as wt
from workbench.commands import demo
from workbench.errors import ParameterError
from workbench.notebook import narrative
from workbench.report.t01 import story
from workbench.status.analysis import FINDINGS_FILE
from workbench.status.goal import GOAL_FILE, PROBLEMS, VERDICTS, check_goal
from workbench.templates import run_template, template_parameters

STATUS, GOAL = "01_status_analysis", "02_goal_setting"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "province"
PLOTLY_MARK = "* plotly.js v"
#: Text that only the templates' code holds: none of it may reach a report.
CODE_MARKS = ("scoped_connection(", "narrate(", "status_findings(", "propose_goal(", "from workbench",
              '<div class="jp-InputArea-editor', '<div class="highlight')


@pytest.fixture(autouse=True)
def _clean_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv(wt.TEMPLATES_ENV, raising=False)
    monkeypatch.setattr(i18n, "_current", None)


@pytest.fixture(scope="module")
def shared_run(demo_chain):
    """01 in zh and 02 in en, each in the run folder its chain's 01 and 02 shared: the session's demo chain
    (tests/chain_fixtures.py). Returns (01's run, 02's run, 01's folder, 02's folder)."""
    zh, en = demo_chain.folders
    return demo_chain.runs["zh"][STATUS], demo_chain.runs["en"][GOAL], zh, en


@pytest.fixture(scope="module")
def alone_run(tmp_path_factory):
    """02 in zh in a run folder without findings."""
    out = tmp_path_factory.mktemp("run_alone")
    return run_template(GOAL, {"data": str(SAMPLE), "run_dir": str(out)}, out, progress=False), out


def _outputs(path: Path) -> list[dict]:
    nb = nbformat.read(str(path), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _markdown(path: Path) -> str:
    return "\n".join(o["data"]["text/markdown"] for o in _outputs(path) if "text/markdown" in o.get("data", {}))


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------- declarations
def test_both_templates_declare_the_shared_parameters():
    common = {"product": "mobile_newspaper", "snapshot": "2026-10", "branches": [], "stable_months": 3,
              "language": "zh", "data": "", "run_dir": ""}  # empty: the workspace's
    status = {n: p.default for n, p in template_parameters(STATUS).items()}
    goal = {n: p.default for n, p in template_parameters(GOAL).items()}
    assert status == common
    assert goal == {**common, "period_months": 3, "ambition": 0.1}
    assert all(p.help for p in template_parameters(GOAL).values())


def test_templates_are_listed_with_catalogue_titles_and_run_by_the_demo():
    infos = {i.name: i for i in wt.list_templates("en")}
    assert infos[STATUS].title == "Status analysis" and infos[GOAL].title == "Setting the campaign goal"
    assert wt.list_templates("zh")[[i.name for i in wt.list_templates("zh")].index(GOAL)].title == "设定营销目标"
    steps = demo.DEMO_STEPS
    assert steps.index(STATUS) == steps.index("00_hello") + 1 and steps.index(GOAL) == steps.index(STATUS) + 1


def test_scope_is_checked_before_any_data_is_read(tmp_path):
    """The cell after the parameters checks product, snapshot and branches (check_scope names a bad one)."""
    for name in (STATUS, GOAL):
        nb = nbformat.read(str(wt.find_template(name)), as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in nb.cells[1].metadata["tags"] and code[0] == nb.cells[1].source
        assert "product, snapshot, branches = check_scope(product, snapshot, branches, data=data)" in code[1]
        assert "setup(language)" in code[1]
        assert [c.source for c in nb.cells if c.cell_type == "markdown"][0].startswith("# ")
    with pytest.raises(ParameterError, match="has no parameter 'ambitions'"):
        run_template(GOAL, {"ambitions": 0.2}, tmp_path, progress=False)
    with pytest.raises(ParameterError, match="'ambition' parameter must be a number"):
        run_template(GOAL, {"ambition": "high"}, tmp_path, progress=False)


# ----------------------------------------------------------------- 01
@pytest.mark.kernel
def test_status_report_tells_the_story_with_the_numbers(shared_run):
    status, _, out, _ = shared_run
    findings = _read(out / FINDINGS_FILE)
    assert findings["product"] == "mobile_newspaper" and findings["snapshot"] == "2026-10"
    assert findings["branches"] == [] and findings["kpis"]["last_month"] == "2026-10"
    md = _markdown(status.notebook)
    for section in ("scope", "kpis", "capital", "retention", "drivers", "potential"):
        key, values = story(findings, section, "zh")
        assert narrative(key, "zh", **values) in md, section
    for dim in ("brand", "age_band", "arpu_band"):
        key, values = story(findings, "segment", "zh", dimension=dim)
        assert narrative(key, "zh", **values) in md, dim
    assert narrative("t01.intro", "zh") in md
    # sample province: the capital is well ahead of the prefectures, and there is a potential
    assert findings["penetration"]["capital_ratio"] > 1.5
    assert 0 < findings["potential"]["lookalikes"] < findings["potential"]["nonsubscribers"]
    assert findings["potential"]["stable"] == findings["drivers"]["events"]


@pytest.mark.kernel
def test_status_notebook_has_figures_and_no_errors_or_warnings(shared_run):
    status, _, _, _ = shared_run
    outputs = _outputs(status.notebook)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 10   # 2 KPI trends, 4 penetration, retention, drivers, potential bands and funnel
    guides = [o for o in outputs if 'class="wb-guide"' in o.get("data", {}).get("text/html", "")]
    assert len(guides) == 11   # one per chart or step, and the next step


@pytest.mark.kernel
def test_status_html_report_has_no_code_and_embeds_plotly_once(shared_run):
    status, _, _, _ = shared_run
    html = status.html.read_text(encoding="utf-8")
    assert status.html.name == f"{STATUS}.html"
    assert html.count(PLOTLY_MARK) == 1 and "cdn.plot.ly/plotly" not in html
    assert not re.findall(r"<script[^>]+src=", html), "the report must not load scripts from elsewhere"
    assert html.count('class="plotly-graph-div"') == 10
    assert not [m for m in CODE_MARKS if m in html]
    assert "现状分析回答营销闭环的第一个问题" in html and "给新分析师的提示" in html
    assert "月末在订用户" in html and "乌鲁木齐" in html   # KPI tile, capital narrative


# ----------------------------------------------------------------- 02
@pytest.mark.kernel
def test_goal_json_is_written_and_consistent_with_the_findings(shared_run):
    _, goal_run, _, out = shared_run
    findings, goal = _read(out / FINDINGS_FILE), _read(out / GOAL_FILE)
    assert {"product", "target_stable_subscribers", "period_start", "period_end", "reason", "potential",
            "check"} <= set(goal)
    assert goal["product"] == "mobile_newspaper" and goal["language"] == "en"
    assert (goal["period_start"], goal["period_end"]) == ("2026-11-01", "2027-01-31")
    stable = findings["potential"]["stable"]
    assert goal["stable_subscribers"] == stable
    assert goal["target_stable_subscribers"] == max(1, math.ceil(round(0.1 * stable, 9)))
    assert goal["potential"]["lookalikes"] == findings["potential"]["lookalikes"]
    check = goal["check"]
    assert check == check_goal(goal["target_stable_subscribers"], findings["potential"], 3)
    assert check["expected_new_stable"] == pytest.approx(
        check["lookalikes"] * findings["potential"]["conversion_rate"] * 3 / 6)
    assert check["verdict"] in VERDICTS
    assert goal["reason"]["problem"] in PROBLEMS and goal["reason"]["text"]
    assert [p["problem"] for p in goal["problems"]][0] == goal["reason"]["problem"]


@pytest.mark.kernel
def test_goal_report_reads_the_findings_and_shows_the_check(shared_run):
    _, goal_run, _, out = shared_run
    goal = _read(out / GOAL_FILE)
    md = _markdown(goal_run.notebook)
    assert narrative("t02.findings.file", "en", run_dir=str(out)) in md
    assert f"**Goal:** **{goal['target_stable_subscribers']:,}** new Mobile newspaper stable subscribers" in md
    assert goal["reason"]["text"] in md
    verdict = {"feasible": "feasible", "ambitious": "ambitious",
               "not_reachable": "not reachable with the expected conversion"}[goal["check"]["verdict"]]
    assert f"**Verdict: {verdict}.**" in md
    outputs = _outputs(goal_run.notebook)
    assert not [o for o in outputs if o["output_type"] in ("error",)]
    assert not [o for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    html = goal_run.html.read_text(encoding="utf-8")
    assert html.count(PLOTLY_MARK) == 1 and html.count('class="plotly-graph-div"') == 2
    assert not [m for m in CODE_MARKS if m in html]
    assert "Conversion needed = target ÷ look-alikes" in html   # the arithmetic table
    assert "A note for new analysts" in html and "goal.json" in html


@pytest.mark.kernel
def test_goal_alone_recomputes_the_findings_and_reaches_the_same_goal(shared_run, alone_run):
    _, _, _, shared = shared_run
    result, out = alone_run
    assert not (out / FINDINGS_FILE).exists()   # recomputed in memory, not written by 02
    md = _markdown(result.notebook)
    assert narrative("t02.findings.computed", "zh", run_dir=str(out)) in md
    assert "**营销目标：**" in md and "**检验结论：" in md
    alone, together = _read(out / GOAL_FILE), _read(shared / GOAL_FILE)
    assert alone["language"] == "zh" and together["language"] == "en"
    for key in ("target_stable_subscribers", "period_start", "period_end", "stable_subscribers", "check",
                "potential"):
        assert alone[key] == together[key], key
    assert alone["reason"]["problem"] == together["reason"]["problem"]
