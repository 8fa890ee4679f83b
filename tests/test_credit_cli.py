"""``workbench credit train | score | rules`` end to end on small CSV files, and monitoring a credit model."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from credit_model_fixtures import applicants

from workbench.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("credit_cli")
    df, _ = applicants(1000, 11)
    df["month"] = [f"2026-{1 + i % 12:02d}" for i in range(len(df))]
    data = root / "applicants.csv"
    df.to_csv(data, index=False)
    return root, data, df


@pytest.fixture(scope="module")
def trained_with_id(files):
    root, data, _ = files
    out = root / "with_id"
    rc = main(["credit", "train", "--data", str(data), "--target", "risk", "--positive", "bad", "--id", "app_id",
               "--oot-column", "month", "--oot-from", "2026-10", "--out", str(out), "--lang", "en", "--no-progress"])
    assert rc == 0
    return out


def test_train_with_id_and_out_of_time_prints_the_choice_and_grades(files, trained_with_id, capsys):
    root, data, df = files
    summary = json.loads((trained_with_id / "summary.json").read_text())
    assert summary["validation"] == "oot"
    spec = json.loads((trained_with_id / "credit.json").read_text())
    assert "month" in spec["excluded"]
    assert all(f["name"] != "month" for seg in spec["segments"] for f in seg["encoder"])
    assert spec["label"]["positive"] == "bad" and spec["id_col"] == "app_id"


def test_score_with_id_writes_id_segment_score_grade(files, trained_with_id, capsys):
    root, data, df = files
    out = root / "scores.parquet"
    assert main(["credit", "score", "--model", str(trained_with_id), "--data", str(data), "--out", str(out),
                 "--lang", "en"]) == 0
    scored = pd.read_parquet(out)
    assert list(scored.columns) == ["app_id", "segment", "score", "grade"]
    assert list(scored["app_id"]) == list(df["app_id"]) and scored["score"].between(0, 1).all()
    assert set(scored["grade"]) <= set("ABCDE")
    assert "Scored and graded 1000 rows" in capsys.readouterr().out


def test_train_and_score_without_id_name_rows_by_their_number(files, capsys):
    root, data, df = files
    out = root / "no_id"
    assert main(["credit", "train", "--data", str(data), "--target", "risk", "--positive", "bad",
                 "--exclude", "app_id,month", "--out", str(out), "--lang", "en", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Validation: 5-fold cross-validation" in text and "Grades (cut-offs chosen on" in text
    assert "Decision tree AUC" in text and "WoE scorecard AUC" in text and "Monotone LightGBM AUC" in text
    scores = root / "no_id.csv"
    assert main(["credit", "score", "--model", str(out), "--data", str(data), "--out", str(scores)]) == 0
    scored = pd.read_csv(scores)
    assert list(scored.columns) == ["row", "segment", "score", "grade"]
    assert list(scored["row"]) == list(range(1, len(df) + 1))


def test_rules_print_each_segment_in_words(trained_with_id, capsys):
    assert main(["credit", "rules", "--model", str(trained_with_id), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Segment All (")
    assert main(["credit", "rules", "--model", str(trained_with_id), "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert rules[0]["segment"] == "*" and rules[0]["method"] in ("tree", "scorecard", "lightgbm")
    assert len(rules[0]["rules"]) >= 2


def test_segments_from_the_command_line_and_the_merge_stated(files, capsys):
    root, data, df = files
    seg = root / "seg.csv"
    df.assign(region=np.where(np.arange(len(df)) < 40, "hami", "urumqi")).to_csv(seg, index=False)
    out = root / "seg_model"
    assert main(["credit", "train", "--data", str(seg), "--target", "risk", "--positive", "bad", "--id", "app_id",
                 "--segments", "region", "--grades", "3", "--out", str(out), "--lang", "en", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Segment region=hami (40 rows" in text and "merged into All" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grades"]["labels"] == ["A", "B", "C"] and len(summary["grades"]["cutoffs"]) == 2


def test_score_and_rules_name_a_folder_that_is_not_a_credit_model(files, capsys):
    root, data, _ = files
    (root / "plain").mkdir(exist_ok=True)
    assert main(["credit", "score", "--model", str(root / "plain"), "--data", str(data),
                 "--out", str(root / "s.csv"), "--lang", "en"]) == 1
    assert "is not a credit model folder" in capsys.readouterr().err and not (root / "s.csv").exists()
    assert main(["credit", "rules", "--model", str(root / "plain")]) == 1
    assert "不是信用模型文件夹" in capsys.readouterr().err   # zh by default


@pytest.mark.parametrize("extra, message", [
    (["--segments", "nope"], "segment column(s) ['nope'] are not in"),
    (["--oot-column", "month"], "--oot-column and --oot-from go together"),
    (["--oot-column", "month", "--oot-from", "2030-01"], "puts 0 of 1000 rows out of time"),
    (["--positive", "never"], "positive value 'never'"),
])
def test_bad_input_is_an_error_and_writes_nothing(files, extra, message, capsys):
    root, data, _ = files
    out = root / "failed"
    positive, rest = (extra[1], []) if extra[0] == "--positive" else ("bad", extra)
    args = ["credit", "train", "--data", str(data), "--target", "risk", "--positive", positive, "--out", str(out),
            "--no-progress", "--lang", "en", *rest]
    assert main(args) == 1
    assert message in capsys.readouterr().err
    assert not out.exists() and not [p for p in root.iterdir() if p.name.startswith(".failed")]


def test_empty_and_header_only_files_are_clear_errors(files, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the messages are compared in English (the CLI's default is zh)
    root, _, _ = files
    empty, header = root / "empty.csv", root / "header.csv"
    empty.write_text("")
    header.write_text("a,b,risk\n")
    for f, message in ((empty, "is empty"), (header, "has a header (a, b, risk) but no rows")):
        assert main(["credit", "train", "--data", str(f), "--target", "risk", "--positive", "bad",
                     "--out", str(root / "x"), "--no-progress"]) == 1
        assert message in capsys.readouterr().err


def test_model_monitor_reads_a_credit_model_folder(files, trained_with_id, capsys):
    root, data, _ = files
    assert main(["model", "monitor", "--model", str(trained_with_id), "--data", str(data), "--target", "risk",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"]["psi"] < 0.1 and {f["feature"] for f in out["features"]} >= {"status", "duration"}
    assert out["performance"]["now"]["auc"] > 0.6


def test_model_score_on_a_credit_folder_points_to_credit_score(files, trained_with_id, capsys):
    root, data, _ = files
    assert main(["model", "score", "--model", str(trained_with_id), "--data", str(data),
                 "--out", str(root / "wrong.csv")]) == 1
    assert "holds a credit model" in capsys.readouterr().err and not (root / "wrong.csv").exists()
