"""Template 03 (data-model building) executed in a real kernel on the committed sample province (the English
run of the session's demo chain, tests/chain_fixtures.py)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from workbench import templates as wt
from workbench.models.province import PROVINCE_FILE, SCORE_COLUMNS

NAME = "03_target_model"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "province"


@pytest.fixture(scope="module")
def run(demo_chain):
    """The English run of the template on the sample province, with its default parameters: the English demo's
    step 03 in the session's demo chain (tests/chain_fixtures.py; 03 is the chain's most expensive step)."""
    return demo_chain.runs["en"][NAME], demo_chain.folders[1]


def _outputs(path: Path) -> list[dict]:
    nb = nbformat.read(str(path), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(outputs: list[dict]) -> str:
    parts = []
    for o in outputs:
        data = o.get("data", {})
        parts.append(data.get("text/markdown", "") + data.get("text/plain", "") + o.get("text", ""))
    return "\n".join(parts)


def test_template_declares_the_parameters_of_the_method():
    params = wt.template_parameters(NAME)
    assert list(params) == ["product", "snapshot", "stable_months", "list_size", "language", "data", "run_dir"]
    assert params["stable_months"].default == 3 and params["list_size"].default == 0.1
    assert all(p.help for p in params.values())


def test_template_markdown_cells_are_titles_only():
    nb = nbformat.read(str(wt.find_template(NAME)), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert all(line.startswith("#") for line in cell.source.splitlines() if line.strip()), cell.source
    assert nb.metadata["workbench"] == {"description": "t03.description", "title": "t03.title"}


@pytest.mark.kernel
def test_template_runs_on_the_sample_province_and_writes_the_model_and_the_list(run):
    result, out = run
    outputs = _outputs(result.notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    text = _text(outputs)
    # the sample composition in the source's form (19,899 = 19,194 + 705 on the committed sample)
    assert "19,899 = 19,194 + 705 (target share 3.543%)" in text
    for phrase in ("Out-of-time validation", "Logistic baseline", "The strongest rule", "edition",
                   "oracle", "is registered in",
                   # six months of sample data: too short to compare the methods, and the report says so
                   "The two methods cannot be compared", "data start in 2026-05", "Two ways to learn"):
        assert phrase in text
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs) >= 6
    scores = pd.read_parquet(out / "scores.parquet")
    assert tuple(scores.columns) == SCORE_COLUMNS and len(scores) == 19_194
    assert scores["rank"].min() == 1 and scores["reason_1"].iloc[0]
    assert (out / "model" / "model.txt").is_file() and (out / "model" / PROVINCE_FILE).is_file()
    html = result.html.read_text(encoding="utf-8")
    assert "Cumulative gains" in html and "ProvincePipeline(" not in html


@pytest.mark.browser
@pytest.mark.kernel
def test_report_draws_its_charts_offline_in_a_real_browser(run):
    """The HTML report opened from disk in Chromium: every plotly chart drawn, nothing fetched from the network."""
    import os

    from browser import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    result, _ = run
    html = result.html.read_text(encoding="utf-8")
    expected = html.count('class="plotly-graph-div"')
    assert expected >= 5                          # gains, calibration, importance, content mix, editions, ...
    fetched, errors = [], []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", lambda route: (fetched.append(route.request.url), route.abort())
                       if not route.request.url.startswith(("file:", "data:", "blob:")) else route.continue_())
            page.goto(result.html.resolve().as_uri())
            page.wait_for_function(f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {expected}",
                                   timeout=60_000)
            drawn = page.evaluate("document.querySelectorAll('.plotly-graph-div .main-svg').length")
            heading = page.locator("h2", has_text="The gains chart").first     # the picture: the gains section
            heading.evaluate("el => el.scrollIntoView({block: 'start'})")
            folder = os.environ.get("WORKBENCH_SCREENSHOTS")
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(folder) / "report-target-model.png"))
        finally:
            chromium.close()
    assert drawn >= expected
    assert not fetched, f"the report fetched {fetched[:3]} (it must work offline)"
    assert not errors, errors
