"""Templates run with Run All as they are, from ``templates/`` or a copy inside a workspace.

Each template 00..06 is executed with nbclient in the ``workbench`` kernel (the templates' kernelspec),
with default parameters, in the closed loop's order, the kernel's working folder being either

1. the repository's ``templates/`` with ``$WORKBENCH_WORKSPACE`` naming a temporary workspace, or
2. a copy of the templates in a sub-folder of the same temporary workspace, found by walking up (no variable).

One chain serves both ways (the chain takes minutes; two chains were the suite's second most expensive
test): the steps alternate between them (:data:`WAYS`), so each step reads the run folder and the store the
step before it wrote the other way, and 00_hello, the step that counts the workspace's data, runs both ways.

The temporary workspace is the repository's ``workbench.toml`` with ``data`` pointing at the committed
sample province: every run folder and the store live in the temporary folder, so neither the repository
nor the copy of the templates is ever written.  Between 04 and 05 the loop's execution is simulated with
the command line (``workbench simulate --run-dir runs/lab``), as ``workbench demo`` does: 06 evaluates the
recorded contacts and responses, and without them the campaign has none to evaluate.  Template 05 is an
app: it needs a signed-in user, so it runs as a batch report for an analyst added with ``workbench users
add`` (the one parameter not left at its default).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from workbench.workspace import CONFIG_FILE, ENV_VAR, STORE_ENV, load_workspace

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"
SAMPLE = REPO / "sample_data" / "province"
CHAIN = ("00_hello", "01_status_analysis", "02_goal_setting", "03_target_model", "07_credit_grading",
         "04_campaign_design", "simulate", "05_campaign_monitoring", "06_campaign_evaluation")
#: How each step of the chain finds the workspace: "variable" (from the repository's templates/ with
#: $WORKBENCH_WORKSPACE) or "walk_up" (from a copy in a sub-folder of the workspace, no variable).
#: 00_hello, which counts the workspace's data, runs both ways; the store's writer (04) and readers (05, 06)
#: and the command line's simulation are spread over both.
WAYS: tuple[tuple[str, str], ...] = (
    ("00_hello", "variable"), ("00_hello", "walk_up"), ("01_status_analysis", "walk_up"),
    ("02_goal_setting", "variable"), ("03_target_model", "walk_up"), ("07_credit_grading", "variable"),
    ("04_campaign_design", "walk_up"), ("simulate", "variable"), ("05_campaign_monitoring", "walk_up"),
    ("06_campaign_evaluation", "variable"))
ANALYST = {"user_name": "ana", "user_role": "analyst"}
KERNEL = "workbench"
CELL_TIMEOUT_S = 900


def make_workspace(root: Path) -> Path:
    """A copy of the repository's workbench.toml in ``root`` with data = the committed sample province."""
    config = tomllib.loads((REPO / CONFIG_FILE).read_text(encoding="utf-8"))["workspace"]
    assert config["data"] == "sample_data/province"  # the repository is the sample province's workspace
    text = (REPO / CONFIG_FILE).read_text(encoding="utf-8").replace(
        'data = "sample_data/province"', f'data = "{SAMPLE.as_posix()}"')
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_FILE).write_text(text, encoding="utf-8")
    return root


def tree_digest(folder: Path) -> dict:
    """``{relative path: sha256}`` of every file under ``folder`` (byte-compiled files aside)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def set_parameters(nb, values: dict) -> None:
    """Replace the defaults of ``values`` in the notebook's parameters cell (as a person would edit it)."""
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = cell.source.split("\n")
    for name, value in values.items():
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} = "))
        comment = lines[index].partition("  #")[2]
        lines[index] = f"{name} = {value!r}  #{comment}"
    cell.source = "\n".join(lines)


def run_notebook(path: Path, cwd: Path, parameters: dict | None = None):
    """Execute ``path`` in the workbench kernel with ``cwd`` as its working folder (Run All); return it."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata.kernelspec.name == KERNEL
    if parameters:
        set_parameters(nb, parameters)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def workbench(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=cwd, input=stdin, text=True,
                            capture_output=True, env=dict(os.environ), check=False)
    assert result.returncode == 0, f"workbench {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def run_chain(ways, workspace: Path, copies: Path, env: pytest.MonkeyPatch) -> dict:
    """Run the chain's steps, each the way ``ways`` says; return ``{(template, way): executed notebook}``.

    "variable" runs from the repository's templates/ with $WORKBENCH_WORKSPACE set, "walk_up" from
    ``copies`` (a copy of templates/ inside ``workspace``) with the variable unset.
    """
    done = {}
    for step, way in ways:
        if way == "variable":
            folder = cwd = TEMPLATES
            env.setenv(ENV_VAR, str(workspace))
        else:
            folder = cwd = copies
            env.delenv(ENV_VAR, raising=False)
        if step == "simulate":
            workbench("simulate", "--run-dir", "runs/lab", "--no-progress", cwd=cwd)
            workbench("users", "add", ANALYST["user_name"], "--role", ANALYST["user_role"], "--password-stdin",
                      cwd=cwd, stdin="ana-password-1\n")
            continue
        done[step, way] = run_notebook(folder / f"{step}.ipynb", cwd, ANALYST if step.startswith("05") else None)
    return done


def error_outputs(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.get("output_type") == "error"]


def check_chain(done: dict, workspace: Path) -> None:
    ws = load_workspace(workspace)
    run = ws.run_path()
    assert run == workspace / "runs" / "lab"
    for name, nb in done.items():
        assert not error_outputs(nb), name
    # each step's output is in the workspace's run folder, read by the next step
    for produced in ("status_findings.json", "goal.json", "scores.parquet", "campaign.json"):
        assert (run / produced).is_file(), produced
    # every step, the command line's simulation too, is recorded in the run folder's manifest
    from workbench.runs import RunFolder

    assert {"01_status_analysis", "04_campaign_design", "simulate", "06_campaign_evaluation"} <= set(
        RunFolder(run).steps())
    # 00 counted the sample's tables (not "0 tables": data resolved against the workspace, not the kernel's cwd),
    # both ways
    for way in ("variable", "walk_up"):
        hello = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/markdown", ""))
                          for c in done["00_hello", way].cells if c.cell_type == "code" for o in c.outputs)
        counted = re.search(r"\*\*(\d+)\*\* 张数据模型中的表，共 \*\*([\d,]+)\*\* 行", hello)
        assert counted and int(counted.group(1)) > 0 and int(counted.group(2).replace(",", "")) > 0, (way, hello[:500])
    # 04 released into the workspace's store: the one the command line reads by default
    import json

    campaign = json.loads((run / "campaign.json").read_text(encoding="utf-8"))
    assert campaign["store_url"] == ws.store_url == f"sqlite:///{(workspace / 'runs' / 'store.sqlite').as_posix()}"
    listed = workbench("campaign", "list", "--lang", "en", cwd=workspace).stdout
    assert campaign["name"] in listed


@pytest.fixture
def clean_env(monkeypatch):
    for var in (ENV_VAR, STORE_ENV, "WORKBENCH_LANG", "WORKBENCH_TEMPLATES"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_ways_run_every_step_of_the_chain_and_both_ways_often():
    assert tuple(dict.fromkeys(step for step, _ in WAYS)) == CHAIN
    for way in ("variable", "walk_up"):
        assert sum(w == way for _, w in WAYS) >= 4, way


def test_chain_from_the_templates_folder_with_the_variable_and_from_a_copy_found_by_walking_up(tmp_path, clean_env):
    workspace = make_workspace(tmp_path / "ws")
    copies = workspace / "analysis" / "oct"
    shutil.copytree(TEMPLATES, copies)
    copied = tree_digest(copies)
    watched = [REPO / "runs", TEMPLATES, REPO / "sample_data"]  # where a run could write in the repository
    before = [tree_digest(f) if f.exists() else None for f in watched]
    done = run_chain(WAYS, workspace, copies, clean_env)
    check_chain(done, workspace)
    after = [tree_digest(f) if f.exists() else None for f in watched]
    assert after == before, "a template run wrote into the repository"
    assert tree_digest(copies) == copied, "a template run wrote into the copy of the templates"
    assert not (copies / "runs").exists() and not (copies / "sample_data").exists()
