"""The score history of a workspace: each scoring run's distribution appended to score_history.jsonl in the
runs root (RunFolder.write_scores, `workbench model score`), read back as records or a table."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ParameterError
from workbench.models.registry import load_card
from workbench.monitoring import build_reference, record_scores, score_history, score_summary
from workbench.runs import SCORE_HISTORY_FILE, RunFolder, append_score_history, read_score_history


def test_summary_without_reference_uses_ten_equal_bins():
    s = np.linspace(0, 1, 1001)
    rec = score_summary(s, kind="generic", snapshot="2026-10", source="x.csv", time="2026-12-07T00:00:00+00:00")
    assert rec["rows"] == 1001 and rec["mean"] == pytest.approx(0.5)
    assert rec["deciles"] == pytest.approx(list(np.arange(1, 10) / 10))
    assert rec["bins"]["basis"] == "uniform" and len(rec["bins"]["shares"]) == 11   # 10 bins + missing
    assert sum(rec["bins"]["shares"]) == pytest.approx(1) and rec["psi"] is None and rec["status"] is None
    assert rec["snapshot"] == "2026-10" and rec["kind"] == "generic"
    json.dumps(rec, allow_nan=False)


def test_summary_against_the_training_reference_gives_psi_and_status():
    rng = np.random.default_rng(1)
    train = rng.beta(2, 8, 5000)
    ref = build_reference(pd.DataFrame({"x": train}), train)
    same = score_summary(rng.beta(2, 8, 5000), reference=ref)
    moved = score_summary(rng.beta(5, 5, 5000), reference=ref)
    assert same["bins"]["basis"] == "training" and same["status"] == "ok"
    assert moved["status"] == "alert" and moved["psi"] > same["psi"]
    with pytest.raises(ParameterError, match="needs scores"):
        score_summary([np.nan])


def test_append_and_read_back_and_a_broken_line_is_named(tmp_path):
    assert read_score_history(tmp_path) == []
    for i in range(3):
        record_scores(tmp_path, np.full(10, i / 10), kind="target", snapshot=f"2026-0{i + 1}")
    recs = read_score_history(tmp_path)
    assert [r["snapshot"] for r in recs] == ["2026-01", "2026-02", "2026-03"]
    table = score_history(tmp_path)
    assert list(table["snapshot"]) == ["2026-01", "2026-02", "2026-03"]
    assert table["mean"].tolist() == pytest.approx([0.0, 0.1, 0.2])
    with open(tmp_path / SCORE_HISTORY_FILE, "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    with pytest.raises(ParameterError, match=r"line 4 .*JSON"):
        read_score_history(tmp_path)
    append_score_history(tmp_path / "other", {"mean": float("nan")})   # no NaN in JSON: written as null
    assert read_score_history(tmp_path / "other") == [{"mean": None}]


def test_run_folder_scores_are_recorded_in_the_runs_root(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    run = RunFolder(tmp_path / "runs" / "r1")
    run.write_scores(pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "score": [0.1, 0.2, 0.3, 0.9]}))
    recs = read_score_history(tmp_path / "runs")
    assert len(recs) == 1 and recs[0]["kind"] == "target" and recs[0]["rows"] == 4
    assert recs[0]["source"] == str(tmp_path / "runs" / "r1") and recs[0]["model"] is None


def test_cli_score_in_a_workspace_appends_a_record_with_the_model_version(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WORKBENCH_WORKSPACE", raising=False)
    (tmp_path / "data").mkdir()
    (tmp_path / "workbench.toml").write_text('data = "data"\nruns = "runs"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    n = 1500
    x = rng.normal(size=n)
    df = pd.DataFrame({"id": range(n), "x": x, "c": rng.choice(["a", "b"], n),
                       "y": np.where(rng.random(n) < 1 / (1 + np.exp(-2 * x)), "yes", "no")})
    df.to_csv("t.csv", index=False)
    assert main(["model", "train", "--data", "t.csv", "--target", "y", "--positive", "yes", "--id", "id",
                 "--out", "m", "--no-progress", "--json"]) == 0
    assert main(["model", "score", "--model", "m", "--data", "t.csv", "--out", "s.csv", "--no-progress"]) == 0
    capsys.readouterr()
    recs = read_score_history(tmp_path / "runs")
    assert len(recs) == 1
    rec = recs[0]
    assert rec["kind"] == "generic" and rec["rows"] == n and rec["bins"]["basis"] == "training"
    assert rec["status"] == "ok"   # the training table scored again: its score did not move
    assert rec["model"]["fingerprint"] == load_card(tmp_path / "m")["model"]["fingerprint"]


def test_cli_score_outside_a_workspace_writes_no_history(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WORKBENCH_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=800), "y": rng.choice(["yes", "no"], 800)})
    df.to_csv("t.csv", index=False)
    assert main(["model", "train", "--data", "t.csv", "--target", "y", "--positive", "yes", "--out", "m",
                 "--no-progress", "--json"]) == 0
    assert main(["model", "score", "--model", "m", "--data", "t.csv", "--out", "s.csv", "--no-progress"]) == 0
    capsys.readouterr()
    assert not list(tmp_path.rglob(SCORE_HISTORY_FILE))
