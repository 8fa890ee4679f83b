"""Templates run with Run All as they are, from ``templates/`` or a copy inside a workspace.

Each template 00..06 is executed with nbclient in the ``workbench`` kernel (the templates' kernelspec),
with default parameters, in the closed loop's order, the kernel's working folder being

1. the repository's ``templates/`` with ``$WORKBENCH_WORKSPACE`` naming a temporary workspace, and
2. a copy of the templates in a sub-folder of a temporary workspace, found by walking up (no variable).

The temporary workspace is the repository's ``workbench.toml`` with ``data`` pointing at the committed
sample province: every run folder and the store live in the temporary folder, so the repository's
``runs/`` is never written.  Between 04 and 05 the loop's execution is simulated with the command line
(``workbench simulate --run-dir runs/lab``), as ``workbench demo`` does: 06 evaluates the recorded
contacts and responses, and without them the campaign has none to evaluate.  Template 05 is an app:
it needs a signed-in user, so it runs as a batch report for an analyst added with ``workbench users
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


def run_chain(folder: Path, cwd: Path, workspace: Path) -> dict:
    """Run the chain from the templates in ``folder``; return ``{template: executed notebook}``."""
    done = {}
    for step in CHAIN:
        if step == "simulate":
            workbench("simulate", "--run-dir", "runs/lab", "--no-progress", cwd=cwd)
            workbench("users", "add", ANALYST["user_name"], "--role", ANALYST["user_role"], "--password-stdin",
                      cwd=cwd, stdin="ana-password-1\n")
            continue
        done[step] = run_notebook(folder / f"{step}.ipynb", cwd, ANALYST if step.startswith("05") else None)
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
    # 00 counted the sample's tables (not "0 tables": data resolved against the workspace, not the kernel's cwd)
    hello = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/markdown", ""))
                      for c in done["00_hello"].cells if c.cell_type == "code" for o in c.outputs)
    counted = re.search(r"\*\*(\d+)\*\* 张数据模型中的表，共 \*\*([\d,]+)\*\* 行", hello)
    assert counted and int(counted.group(1)) > 0 and int(counted.group(2).replace(",", "")) > 0, hello[:500]
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


def test_chain_from_the_templates_folder_with_the_workspace_variable(tmp_path, clean_env):
    workspace = make_workspace(tmp_path / "ws")
    clean_env.setenv(ENV_VAR, str(workspace))
    watched = [REPO / "runs", TEMPLATES, REPO / "sample_data"]  # where a run could write in the repository
    before = [tree_digest(f) if f.exists() else None for f in watched]
    done = run_chain(TEMPLATES, TEMPLATES, workspace)
    check_chain(done, workspace)
    after = [tree_digest(f) if f.exists() else None for f in watched]
    assert after == before, "a template run wrote into the repository"


def test_chain_from_a_copy_in_a_sub_folder_found_by_walking_up(tmp_path, clean_env):
    workspace = make_workspace(tmp_path / "ws")
    copies = workspace / "analysis" / "oct"
    shutil.copytree(TEMPLATES, copies)
    done = run_chain(copies, copies, workspace)
    check_chain(done, workspace)
    assert not (copies / "runs").exists() and not (copies / "sample_data").exists()
