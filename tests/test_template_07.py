"""Template 07 (credit grading of new users) executed in a real kernel on the committed sample province."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from workbench import templates as wt
from workbench.runs import RunFolder
from workbench.store import SYSTEM_USER, Store

NAME = "07_credit_grading"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "province"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One English run of the template on the sample province."""
    out = tmp_path_factory.mktemp("t07")
    params = {"data": str(SAMPLE), "run_dir": str(out), "store": f"sqlite:///{out / 'store.sqlite'}"}
    result = wt.run_template(NAME, params, out, language="en", progress=False)
    return result, out


def _text(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = o.get("data", {})
            parts.append(data.get("text/markdown", "") + data.get("text/plain", "") + o.get("text", ""))
    return "\n".join(parts)


def test_template_declares_the_label_and_grading_parameters():
    params = wt.template_parameters(NAME)
    assert list(params)[:4] == ["feature_months", "outcome_first", "outcome_last", "arrears_yuan"]
    assert params["outcome_last"].default == 6 and params["exclude_credit_grades"].default == ["D", "E"]
    assert all(p.help for p in params.values())


def test_template_markdown_cells_are_titles_only():
    nb = nbformat.read(str(wt.find_template(NAME)), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert all(line.startswith("#") for line in cell.source.splitlines() if line.strip()), cell.source
    assert nb.metadata["workbench"] == {"description": "t07.description", "title": "t07.title"}


@pytest.mark.kernel
def test_template_grades_the_new_users_and_writes_rules_for_template_04(run):
    result, out = run
    nb = nbformat.read(str(result.notebook), as_version=4)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.output_type == "error"]
    text = _text(result.notebook)
    assert "Re-joined / new x Urumqi / other prefectures" in text and "Out-of-time AUC" in text
    folder = RunFolder(out)
    grades = folder.read_credit_grades(required=True)
    assert {"subscriber_id", "grade", "score"} <= set(grades.columns) and grades["grade"].isin(list("ABCDE")).all()
    rules = pd.read_csv(folder.file("ocs_rules"), encoding="utf-8-sig")
    assert rules["grade"].tolist() == list("ABCDE") and rules["promotions_excluded"].tolist()[-2:] == [True, True]
    assert folder.file("credit_model").is_dir() and folder.file("dunning").is_file()
    store = Store(folder.store_url(), progress=False)
    assert store.ocs_rules(SYSTEM_USER)["grade"].tolist() == list("ABCDE")
    store.close()
    assert "07_credit_grading" in folder.manifest()["steps"]


@pytest.mark.kernel
def test_the_report_shows_no_identifiers_missing_values_or_errors(run):
    from report_scan import untranslated

    result, _ = run
    assert untranslated(result.notebook, "en") == []
