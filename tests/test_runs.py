"""The run folder (workbench.runs): its layout, the manifest run.json, content hashes, stale steps,
missing files, and `template run --out` writing nothing outside its folder."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import workbench
from workbench.campaign import planning
from workbench.commands import demo
from workbench.errors import ParameterError
from workbench.runs import (
    CAMPAIGN_FILE, FINDINGS_FILE, GOAL_FILE, LAYOUT, MANIFEST_FILE, SCORES_FILE, SIMULATION_DIR, RunFileMissing,
    RunFolder, StaleInput, StaleInputWarning, file_hash, next_run_dir, path_hash,
)
from workbench.status import analysis, goal
from workbench.tracking import loop

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "province"
FINDINGS = {"version": 1, "product": "mobile_newspaper", "snapshot": "2026-10", "branches": [], "stable_months": 3}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "subscribers.csv").write_text("subscriber_id\n1\n2\n", encoding="utf-8")
    return folder


def _run_01(folder: RunFolder, data_dir: Path, findings: dict = FINDINGS) -> None:
    folder.step("01_status_analysis", parameters={"data": str(data_dir), "snapshot": findings["snapshot"]})
    analysis.write_findings(findings, folder.path)   # the package function records into the active step
    folder.finish()


def _run_02(folder: RunFolder) -> None:
    folder.step("02_goal_setting", parameters={"ambition": 0.1})
    found = analysis.read_findings(folder.path)
    assert found is not None
    folder.write_json("goal", {"product": found["product"], "snapshot": found["snapshot"]})
    folder.finish()


# ----------------------------------------------------------------- layout
def test_every_file_name_is_defined_once_in_runs():
    assert planning.SCORES_FILE is SCORES_FILE and loop.SCORES_FILE is SCORES_FILE
    assert planning.CAMPAIGN_FILE is CAMPAIGN_FILE and loop.CAMPAIGN_FILE is CAMPAIGN_FILE
    assert analysis.FINDINGS_FILE is FINDINGS_FILE and goal.GOAL_FILE is GOAL_FILE
    assert loop.SIMULATION_DIR is SIMULATION_DIR


def test_layout_paths_and_writers(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert folder.file("findings") == tmp_path / "run" / "status_findings.json"
    assert folder.file("goal") == tmp_path / "run" / "goal.json"
    assert folder.file("scores") == tmp_path / "run" / "scores.parquet"
    assert folder.file("model") == tmp_path / "run" / "model"
    assert folder.file("campaign") == tmp_path / "run" / "campaign.json"
    assert folder.file("plan") == tmp_path / "run" / "plan"
    assert folder.file("simulation") == tmp_path / "run" / "simulation"
    assert folder.file("manifest") == tmp_path / "run" / MANIFEST_FILE
    assert folder.report("04_campaign_design") == tmp_path / "run" / "04_campaign_design.html"
    assert LAYOUT["scores"][1] == "03_target_model" and LAYOUT["campaign"][1] == "04_campaign_design"
    assert folder.store_url() == f"sqlite:///{(tmp_path / 'run' / 'store.sqlite').as_posix()}"
    assert planning.default_store_url(tmp_path / "run") == folder.store_url()
    with pytest.raises(ParameterError, match="'kind' parameter"):
        folder.file("nonsense")
    with pytest.raises(ParameterError, match="'run_dir' parameter"):
        RunFolder("")


@pytest.mark.parametrize("kind, call, writer", [
    ("goal.json", lambda d: goal.read_goal(d), "02_goal_setting"),
    ("scores.parquet", lambda d: planning.read_scores(RunFolder(d)), "03_target_model"),
    ("campaign.json", lambda d: planning.read_campaign_file(d), "04_campaign_design"),
    ("campaign.json", lambda d: loop.open_run(d), "04_campaign_design"),
])
def test_a_missing_file_names_itself_and_the_template_that_writes_it(tmp_path, kind, call, writer):
    with pytest.raises(RunFileMissing) as info:
        call(tmp_path)
    assert kind in str(info.value) and f"template {writer}" in str(info.value) and str(tmp_path) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)   # callers that catch FileNotFoundError keep working


def test_a_missing_simulation_names_the_demo_step(tmp_path):
    with pytest.raises(RunFileMissing, match=r"holds no simulation/: run the 'simulate' step"):
        RunFolder(tmp_path).require("simulation")


# ----------------------------------------------------------------- hashes
def test_file_and_folder_hashes(tmp_path, data_dir):
    f = data_dir / "subscribers.csv"
    assert file_hash(f) == _sha(f)
    before = path_hash(data_dir)
    assert before is not None and before == path_hash(data_dir)
    (data_dir / "subscribers.csv").write_text("subscriber_id\n1\n3\n", encoding="utf-8")
    changed = path_hash(data_dir)
    assert changed != before
    (data_dir / "subscribers.csv").rename(data_dir / "other.csv")      # same content, another name
    assert path_hash(data_dir) not in (before, changed)
    assert path_hash(tmp_path / "absent") is None


# ----------------------------------------------------------------- manifest
def test_manifest_records_parameters_inputs_outputs_code_and_times(tmp_path, data_dir):
    folder = RunFolder(tmp_path / "run")
    _run_01(folder, data_dir)
    _run_02(folder)
    manifest = json.loads((tmp_path / "run" / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["format"] == {"name": "workbench.run", "version": 1}
    s01, s02 = manifest["steps"]["01_status_analysis"], manifest["steps"]["02_goal_setting"]
    assert s01["parameters"] == {"data": str(data_dir), "snapshot": "2026-10"}
    assert s01["inputs"] == {"data": {"path": data_dir.resolve().as_posix(), "sha256": path_hash(data_dir),
                                      "step": None}}
    assert s01["outputs"] == {FINDINGS_FILE: {"sha256": _sha(tmp_path / "run" / FINDINGS_FILE)}}
    assert s02["inputs"] == {FINDINGS_FILE: {"sha256": _sha(tmp_path / "run" / FINDINGS_FILE),
                                             "step": "01_status_analysis"}}
    assert s02["outputs"] == {GOAL_FILE: {"sha256": _sha(tmp_path / "run" / GOAL_FILE)}}
    assert s02["parameters"] == {"ambition": 0.1}
    for s in (s01, s02):
        assert s["code"]["package"] == workbench.__version__
        assert s["started"] <= s["finished"]
    assert [h["step"] for h in manifest["history"]] == ["01_status_analysis", "02_goal_setting"]
    assert folder.stale_steps() == []


def test_reads_and_writes_without_a_step_record_nothing(tmp_path):
    analysis.write_findings(FINDINGS, tmp_path)
    assert analysis.read_findings(tmp_path)["product"] == "mobile_newspaper"
    assert not (tmp_path / MANIFEST_FILE).exists()


def test_a_template_step_takes_its_parameters_from_the_notebook_variables(tmp_path):
    namespace = {"product": "mobile_newspaper", "snapshot": "2026-09", "run_dir": str(tmp_path), "unrelated": 1,
                 "RunFolder": RunFolder}
    exec('folder = RunFolder(run_dir).step("01_status_analysis")', namespace)
    record = RunFolder(tmp_path).steps()["01_status_analysis"]
    assert record["parameters"] == {"product": "mobile_newspaper", "snapshot": "2026-09", "run_dir": str(tmp_path)}
    assert record["finished"] is None


def test_json_is_written_through_jsonable(tmp_path):
    import numpy as np

    folder = RunFolder(tmp_path)
    folder.write_json("campaign", {"campaign_id": np.int64(3), "share": float("nan"),
                                   "when": pd.Timestamp("2026-11-01")})
    assert json.loads((tmp_path / CAMPAIGN_FILE).read_text(encoding="utf-8")) == {
        "campaign_id": 3, "share": None, "when": "2026-11-01T00:00:00"}


# ----------------------------------------------------------------- stale steps
def test_a_step_whose_input_changed_is_stale_and_so_are_the_steps_after_it(tmp_path, data_dir):
    folder = RunFolder(tmp_path / "run")
    _run_01(folder, data_dir)
    _run_02(folder)
    folder.step("04_campaign_design", parameters={})
    assert goal.read_goal(folder)["product"] == "mobile_newspaper"
    folder.write_campaign({"campaign_id": 1, "version": 1})
    folder.finish()
    assert folder.stale_steps() == []

    _run_01(folder, data_dir, {**FINDINGS, "snapshot": "2026-09"})     # 01 again, on another snapshot
    assert folder.stale_steps() == [
        StaleInput("02_goal_setting", FINDINGS_FILE, "changed", "01_status_analysis"),
        StaleInput("04_campaign_design", GOAL_FILE, "upstream", "02_goal_setting"),
    ]
    assert folder.check_inputs("04_campaign_design") == folder.stale_steps()
    assert folder.check_inputs("01_status_analysis") == []
    text = folder.stale_steps()[0].message("en")
    assert "status_findings.json" in text and "02_goal_setting" in text and "01_status_analysis" in text
    assert "02_goal_setting" in folder.stale_steps()[0].message("zh")

    _run_02(folder)                                                     # 02 again: only 04 is left behind
    assert folder.stale_steps() == [StaleInput("04_campaign_design", GOAL_FILE, "changed", "02_goal_setting")]


def test_reading_the_output_of_a_stale_step_warns(tmp_path, data_dir):
    folder = RunFolder(tmp_path / "run")
    _run_01(folder, data_dir)
    _run_02(folder)
    _run_01(folder, data_dir, {**FINDINGS, "snapshot": "2026-09"})
    folder.step("04_campaign_design", parameters={})
    with pytest.warns(StaleInputWarning, match=r"goal\.json.*02_goal_setting"):
        goal.read_goal(folder.path)
    folder.finish()


def test_changed_data_and_removed_inputs_make_a_step_stale(tmp_path, data_dir):
    folder = RunFolder(tmp_path / "run")
    _run_01(folder, data_dir)
    _run_02(folder)
    (data_dir / "subscribers.csv").write_text("subscriber_id\n7\n", encoding="utf-8")
    assert folder.stale_steps()[0] == StaleInput("01_status_analysis", "data", "changed", None)
    (tmp_path / "run" / FINDINGS_FILE).unlink()
    assert StaleInput("02_goal_setting", FINDINGS_FILE, "missing", "01_status_analysis") in folder.stale_steps()


def test_a_step_rereading_its_own_earlier_output_is_not_stale(tmp_path):
    folder = RunFolder(tmp_path)
    folder.step("04_campaign_design", parameters={})
    folder.write_campaign({"campaign_id": 1})
    folder.finish()
    folder.step("04_campaign_design", parameters={})
    folder.read_campaign()                                  # release_for_run reads the earlier campaign.json
    folder.write_campaign({"campaign_id": 2})
    folder.finish()
    assert folder.stale_steps() == []
    assert folder.steps()["04_campaign_design"]["inputs"] == {}


# ----------------------------------------------------------------- demo folders
def test_next_run_dir_counts_up(tmp_path):
    assert next_run_dir(tmp_path) == tmp_path / "demo-1"
    (tmp_path / "demo-1").mkdir()
    (tmp_path / "demo-2").mkdir()
    assert next_run_dir(tmp_path) == tmp_path / "demo-3"


def test_demo_refuses_a_non_empty_out_unless_resume(tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "goal.json").write_text("{}", encoding="utf-8")
    assert main(["demo", "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "不是空的" in err and "--resume" in err   # the command line's errors are in its language, zh by default
    assert sorted(p.name for p in out.iterdir()) == ["goal.json"]
    assert demo.demo_folder(out, resume=True) == out
    assert demo.demo_folder(tmp_path / "new") == tmp_path / "new"


def test_demo_without_out_takes_a_new_folder_of_the_workspace(tmp_path, monkeypatch):
    (tmp_path / "workbench.toml").write_text('[workspace]\ndata = "data"\nruns = "myruns"\n', encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_WORKSPACE", str(tmp_path))
    assert demo.demo_folder() == tmp_path / "myruns" / "demo-1"
    (tmp_path / "myruns" / "demo-1").mkdir(parents=True)
    assert demo.demo_folder() == tmp_path / "myruns" / "demo-2"


# ----------------------------------------------------------------- template run --out
def _checksums(root: Path, skip: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha(p) for p in sorted(root.rglob("*"))
            if p.is_file() and skip not in p.parents}


@pytest.mark.slow
@pytest.mark.kernel
def test_template_run_out_writes_only_into_its_folder(tmp_path):
    """`workbench template run 01 --out DIR` in a workspace: DIR is the run folder; nothing else changes."""
    ws = tmp_path / "ws"
    (ws / "runs" / "demo").mkdir(parents=True)
    (ws / "workbench.toml").write_text(f'[workspace]\ndata = "{SAMPLE.as_posix()}"\n', encoding="utf-8")
    sentinel = ws / "runs" / "demo" / FINDINGS_FILE
    sentinel.write_text('{"version": 1, "product": "sentinel"}', encoding="utf-8")
    (ws / "templates").mkdir()
    out = ws / "r01"
    before = _checksums(ws, out)
    env = {**os.environ, "WORKBENCH_WORKSPACE": str(ws)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "workbench"), "template", "run", "01_status_analysis", "--out", "r01",
         "-p", "data", str(SAMPLE), "--lang", "en", "--no-progress"],
        cwd=ws, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _checksums(ws, out) == before                    # the sentinel and everything else unchanged
    assert json.loads((out / FINDINGS_FILE).read_text(encoding="utf-8"))["product"] == "mobile_newspaper"
    record = RunFolder(out).steps()["01_status_analysis"]
    assert record["parameters"]["run_dir"] == str(out.resolve())
    assert set(record["outputs"]) == {FINDINGS_FILE, "01_status_analysis.ipynb", "01_status_analysis.html"}
    assert record["inputs"]["data"]["sha256"] == path_hash(SAMPLE)
    assert record["finished"] is not None


def test_an_evaluation_reading_a_simulation_of_a_re_released_campaign_warns(tmp_path):
    """04 again after the simulation: the simulation is stale, and 06 reading it says so."""
    folder = RunFolder(tmp_path)
    folder.step("04_campaign_design", parameters={})
    folder.write_campaign({"campaign_id": 1, "version": 1})
    folder.finish()
    folder.step("simulate", parameters={})
    folder.read_campaign()
    (tmp_path / SIMULATION_DIR).mkdir()
    (tmp_path / SIMULATION_DIR / "simulation.json").write_text('{"version": 1}', encoding="utf-8")
    folder.record_output("simulation")
    folder.finish()
    folder.step("04_campaign_design", parameters={})
    folder.write_campaign({"campaign_id": 1, "version": 2})          # re-released as version 2
    folder.finish()
    assert folder.stale_steps() == [StaleInput("simulate", CAMPAIGN_FILE, "changed", "04_campaign_design")]
    folder.step("06_campaign_evaluation", parameters={})
    folder.read_campaign()
    with pytest.warns(StaleInputWarning, match=r"(?=.*06_campaign_evaluation)(?=.*simulate )(?=.*campaign\.json)"):
        folder.record_input("simulation")
    folder.finish()
    assert folder.check_inputs("06_campaign_evaluation") == folder.stale_steps()


def test_demo_resume_skips_the_steps_that_are_current(tmp_path, data_dir, monkeypatch):
    """--resume runs a step again only when it did not finish or its inputs changed."""
    import types

    calls = []

    def fake(data, run_dir, progress=False):
        calls.append(run_dir)
        folder = RunFolder(run_dir).step("fake", parameters={"data": data})
        folder.write_json("goal", {"n": len(calls)})
        folder.finish()
        return "fake ran"

    module = types.ModuleType("runs_fake_steps")
    module.fake = fake
    monkeypatch.setitem(sys.modules, "runs_fake_steps", module)
    monkeypatch.setitem(demo.STEP_FUNCTIONS, "fake", "runs_fake_steps:fake")
    out = tmp_path / "run"
    demo.run_demo(data_dir, out, steps=["fake"], progress=False, store="sqlite://")
    demo.run_demo(data_dir, out, steps=["fake"], progress=False, store="sqlite://", resume=True)
    assert len(calls) == 1
    (data_dir / "subscribers.csv").write_text("subscriber_id\n9\n", encoding="utf-8")
    demo.run_demo(data_dir, out, steps=["fake"], progress=False, store="sqlite://", resume=True)
    assert len(calls) == 2
    demo.run_demo(data_dir, out, steps=["fake"], progress=False, store="sqlite://")   # no resume: always runs
    assert len(calls) == 3
