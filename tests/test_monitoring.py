"""Drift monitoring (issue 20): reference bins, PSI and status, reference.json in a model folder and
``workbench model monitor`` on a small seeded table."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import DataValidationError, ParameterError
from workbench.models.registry import REFERENCE_FILE, load_reference, save_reference
from workbench.monitoring import (
    EPSILON,
    MISSING,
    OTHER,
    bin_shares,
    build_reference,
    check_thresholds,
    compare,
    psi,
    status_of,
)

TRAIN_ROWS = 3000


def _table(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Three numeric and two text features (one with a level of 30 %), missing values, a yes/no label."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(np.array(["a", "b", "c", "d"]), n, p=[0.3, 0.35, 0.2, 0.15]).astype(object)
    region = rng.choice(np.array(["north", "south", "east", "west", "centre"]), n).astype(object)
    usage = rng.normal(100.0, 20.0, n)
    tenure = rng.gamma(2.0, 12.0, n)
    calls = rng.poisson(4.0, n).astype(float)
    logit = -2.2 + 0.9 * (plan == "a") + 0.03 * (usage - 100) + 0.02 * tenure - 0.1 * calls
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    tenure[rng.random(n) < 0.05] = np.nan
    region[rng.random(n) < 0.03] = None
    return pd.DataFrame({"id": np.arange(1, n + 1), "plan": plan, "region": region, "usage": usage.round(3),
                         "tenure": tenure.round(2), "calls": calls, "bought": np.where(y, "yes", "no")})


def _drifted(held: pd.DataFrame, train: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """``usage`` shifted by one training standard deviation; the share of plan 'a' doubled."""
    rng = np.random.default_rng(seed)
    out = held.copy()
    out["usage"] = out["usage"] + train["usage"].std()
    share = (out["plan"] == "a").mean()
    others = np.flatnonzero((out["plan"] != "a").to_numpy())
    moved = rng.choice(others, int(round(share * len(out))), replace=False)
    out.loc[out.index[moved], "plan"] = "a"
    assert (out["plan"] == "a").mean() == pytest.approx(2 * share, abs=0.002)
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("monitor")
    table = _table()
    train, held = table.iloc[:TRAIN_ROWS], table.iloc[TRAIN_ROWS:]
    train.to_csv(root / "train.csv", index=False)
    held.to_csv(root / "held.csv", index=False)
    _drifted(held, train).to_csv(root / "drifted.csv", index=False)
    rc = main(["model", "train", "--data", str(root / "train.csv"), "--target", "bought", "--positive", "yes",
               "--id", "id", "--out", str(root / "model"), "--lang", "en", "--no-progress", "--json"])
    assert rc == 0
    return root


def _monitor(capsys, *args):
    capsys.readouterr()
    rc = main(["model", "monitor", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


# ------------------------------------------------------------------ compute
def test_psi_values_and_epsilon():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * np.log(2) + 0.25 * np.log(1.5))
    # an empty bin on one side gives a finite (large) term thanks to the floor
    value = psi([0.5, 0.5, 0.0], [0.5, 0.4, 0.1])
    assert np.isfinite(value) and value == pytest.approx(
        -0.1 * np.log(0.4 / 0.5) + (0.1 - EPSILON) * np.log(0.1 / EPSILON))
    with pytest.raises(ParameterError):
        psi([0.5, 0.5], [1.0])


def test_status_and_thresholds():
    assert [status_of(v) for v in (0.0, 0.099, 0.1, 0.2499, 0.25, 3.0)] == \
        ["ok", "ok", "watch", "watch", "alert", "alert"]
    assert status_of(0.15, watch=0.2, alert=0.3) == "ok"
    assert check_thresholds(0.05, 0.2) == (0.05, 0.2)
    for watch, alert in ((0, 0.25), (-0.1, 0.25), (0.3, 0.25), (0.1, 0.1), (float("nan"), 0.25), (0.1, "x")):
        with pytest.raises(ParameterError):
            check_thresholds(watch, alert)


def test_reference_bins_numeric_categorical_missing_and_unseen():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, np.nan] * 20, "c": ["a", "a", "b", None, "c"] * 20})
    ref = build_reference(train, score=np.linspace(0, 1, 100), n_bins=4, max_categories=2)
    x, c = ref["features"]["x"], ref["features"]["c"]
    assert x["kind"] == "numeric" and len(x["shares"]) == len(x["edges"]) + 2
    assert x["shares"][-1] == pytest.approx(0.2)  # the missing bin
    assert c["kind"] == "categorical" and c["levels"] == ["a", "b"]
    assert c["shares"] == pytest.approx([0.4, 0.2, 0.2, 0.2])  # a, b, other (c), missing
    assert sum(ref["score"]["shares"]) == pytest.approx(1.0)
    json.dumps(ref, allow_nan=False)  # JSON-ready
    # an unseen level falls in 'other'; a numeric value beyond the training range in the last bin
    assert bin_shares(c, pd.Series(["zzz", "a"])).tolist() == [0.5, 0.0, 0.5, 0.0]
    assert bin_shares(x, pd.Series([1e9]))[len(x["edges"])] == 1.0
    res = compare(ref, train, np.linspace(0, 1, 100))
    assert (res["features"]["psi"] < 1e-12).all() and res["score"]["psi"] < 1e-12
    assert list(res["bins"]["c"]["bin"]) == ["a", "b", OTHER, MISSING]


def test_build_reference_uses_given_kinds_and_rejects_bad_input():
    df = pd.DataFrame({"code": [1, 2, 3, 1] * 10})
    assert build_reference(df, kinds={"code": "categorical"})["features"]["code"]["levels"] == ["1", "2", "3"]
    with pytest.raises(ParameterError):
        build_reference(df.iloc[:0])
    with pytest.raises(ParameterError):
        build_reference(df, kinds={"code": "ordinal"})
    with pytest.raises(ParameterError):
        build_reference(df, score=[0.1, 0.2])


def test_compare_names_missing_columns_and_empty_tables():
    ref = build_reference(pd.DataFrame({"x": np.arange(50.0), "c": ["a", "b"] * 25}))
    with pytest.raises(DataValidationError, match=r"lacks column\(s\) \['c'\].*expected \['x', 'c'\].*found \['x'\]"):
        compare(ref, pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ParameterError, match="no rows"):
        compare(ref, pd.DataFrame({"x": [], "c": []}))
    with pytest.raises(DataValidationError, match="'x' must be numeric"):
        compare(ref, pd.DataFrame({"x": ["high", "low"], "c": ["a", "b"]}))


# --------------------------------------------------------- folder and registry
def test_train_writes_a_reference_of_every_feature_and_the_score(folder):
    ref = load_reference(folder / "model")
    features = [f["name"] for f in json.loads((folder / "model" / "features.json").read_text())["features"]]
    assert list(ref["features"]) == features == ["plan", "region", "usage", "tenure", "calls"]
    assert ref["features"]["plan"]["kind"] == "categorical" and ref["features"]["usage"]["kind"] == "numeric"
    assert ref["rows"] == TRAIN_ROWS and ref["score"]["kind"] == "numeric"
    assert 0.5 < ref["performance"]["auc"] <= 1 and ref["performance"]["top_decile_lift"] > 1


def test_folder_without_reference_is_a_clear_error_and_save_reference_fixes_it(folder, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(folder / "model", bare)
    (bare / REFERENCE_FILE).unlink()
    with pytest.raises(ParameterError, match=r"has no reference\.json.*workbench model train.*save_reference"):
        load_reference(bare)
    save_reference(bare, load_reference(folder / "model"))
    assert load_reference(bare)["rows"] == TRAIN_ROWS
    with pytest.raises(ParameterError, match="not a monitoring reference"):
        save_reference(bare, {"features": {}})


# ---------------------------------------------------------------------- CLI
def test_held_out_rows_do_not_alert(folder, capsys):
    rc, out, _ = _monitor(capsys, "--model", folder / "model", "--data", folder / "held.csv", "--json")
    assert rc == 0
    res = json.loads(out)
    assert [f["feature"] for f in res["features"]] == ["plan", "region", "usage", "tenure", "calls"]
    assert all(f["status"] != "alert" for f in res["features"]), res["features"]
    assert all(f["psi"] < 0.1 for f in res["features"]), res["features"]
    assert res["score"]["status"] != "alert"


def test_shifted_numeric_and_doubled_category_alert_and_nothing_else(folder, capsys):
    rc, out, _ = _monitor(capsys, "--model", folder / "model", "--data", folder / "drifted.csv", "--json")
    assert rc == 0
    status = {f["feature"]: f["status"] for f in json.loads(out)["features"]}
    assert {f for f, s in status.items() if s == "alert"} == {"usage", "plan"}, status
    assert all(s == "ok" for f, s in status.items() if f not in ("usage", "plan")), status


def test_json_shape(folder, capsys):
    rc, out, _ = _monitor(capsys, "--model", folder / "model", "--data", folder / "held.csv", "--json",
                          "--target", "bought")
    assert rc == 0
    res = json.loads(out)
    assert {"features", "score"} <= set(res)
    assert all(set(f) == {"feature", "psi", "status"} for f in res["features"])
    assert set(res["score"]) == {"psi", "status"}
    assert all(isinstance(f["psi"], float) and f["status"] in ("ok", "watch", "alert") for f in res["features"])
    perf = res["performance"]
    assert set(perf) == {"training", "now", "change", "calibration"} and perf["now"]["rows"] == 1000
    assert perf["change"]["auc"] == pytest.approx(perf["now"]["auc"] - perf["training"]["auc"])
    cal = perf["calibration"]   # one row per training score bin, predicted and observed now and at training
    ref = load_reference(folder / "model")
    assert [c["bin"] for c in cal] == list(range(1, len(ref["score"]["edges"]) + 2))
    assert sum(c["rows"] for c in cal) == 1000
    assert all(0 <= c["predicted"] <= 1 and 0 <= c["observed"] <= 1 for c in cal if c["rows"])
    assert any(c["training_observed"] is not None for c in cal)
    # a well-ranked score: the observed rate of the top bin is well above that of the bottom bin
    assert cal[-1]["observed"] > cal[0]["observed"]
    assert 0.5 < perf["now"]["auc"] <= 1 and perf["training"]["auc"] is not None
    assert perf["now"]["top_decile_lift"] > 1


def test_thresholds_are_parameters(folder, capsys):
    rc, out, _ = _monitor(capsys, "--model", folder / "model", "--data", folder / "held.csv", "--json",
                          "--watch", "0.000001", "--alert", "0.0000011")
    assert rc == 0
    assert all(f["status"] == "alert" for f in json.loads(out)["features"])
    rc, _, err = _monitor(capsys, "--model", folder / "model", "--data", folder / "held.csv",
                          "--watch", "0.3", "--alert", "0.2")
    assert rc == 1 and "alert" in err and "0.2" in err


@pytest.mark.parametrize("lang, words", [("en", ["Feature", "PSI", "Status", "alert", "Model score",
                                                 "Top-decile lift", "At training (holdout)"]),
                                        ("zh", ["特征", "状态", "告警", "模型得分", "前10%提升度"])])
def test_human_output_is_worded_from_the_catalogue(folder, capsys, lang, words):
    rc, out, _ = _monitor(capsys, "--model", folder / "model", "--data", folder / "drifted.csv",
                          "--target", "bought", "--positive", "yes", "--lang", lang)
    assert rc == 0
    for w in words:
        assert w in out, (w, out)
    assert "usage" in out and "plan" in out


def test_bad_input_exits_1_naming_what_expected_and_found(folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the messages are compared in English (the CLI's default is zh)
    model = folder / "model"
    held = pd.read_csv(folder / "held.csv")
    held.drop(columns=["usage"]).to_csv(tmp_path / "no_usage.csv", index=False)
    rc, _, err = _monitor(capsys, "--model", model, "--data", tmp_path / "no_usage.csv")
    assert rc == 1 and "['usage']" in err and "expected" in err and "found" in err and "no_usage.csv" in err

    held.iloc[:0].to_csv(tmp_path / "header_only.csv", index=False)
    rc, _, err = _monitor(capsys, "--model", model, "--data", tmp_path / "header_only.csv")
    assert rc == 1 and "no rows" in err and "header_only.csv" in err

    (tmp_path / "empty.csv").write_text("")
    rc, _, err = _monitor(capsys, "--model", model, "--data", tmp_path / "empty.csv")
    assert rc == 1 and "empty" in err and "empty.csv" in err

    bare = tmp_path / "bare"
    shutil.copytree(model, bare)
    (bare / REFERENCE_FILE).unlink()
    rc, _, err = _monitor(capsys, "--model", bare, "--data", folder / "held.csv")
    assert rc == 1 and str(bare) in err and "reference.json" in err and "workbench model train" in err

    rc, _, err = _monitor(capsys, "--model", model, "--data", folder / "held.csv", "--target", "nope")
    assert rc == 1 and "'nope'" in err and "found columns" in err

    rc, _, err = _monitor(capsys, "--model", model, "--data", folder / "held.csv", "--target", "bought",
                          "--positive", "maybe")
    assert rc == 1 and "'maybe'" in err

    rc, _, err = _monitor(capsys, "--model", tmp_path / "nowhere", "--data", folder / "held.csv")
    assert rc == 1 and "nowhere" in err


# ------------------------------------------------------------- graded (credit) models
def _graded(n=6000, seed=3, shift=0.0):
    """A score, its grades A-D by cut points, and bad outcomes whose rate falls with the score."""
    rng = np.random.default_rng(seed)
    s = np.clip(rng.beta(2, 5, n) + shift, 0, 1)
    bad = (rng.random(n) < 0.4 * (1 - s) ** 2).astype(int)
    return s, bad


def test_grade_reference_mix_bad_rate_and_grading_by_cuts():
    from workbench.monitoring import compare_grades, grades_from_score, with_grades

    s, bad = _graded()
    cuts = [0.15, 0.3, 0.5]
    ref = with_grades(build_reference(pd.DataFrame({"s": s}), s), np.array(["D", "C", "B", "A"])[
        np.searchsorted(cuts, s, side="left")], bad, levels=["D", "C", "B", "A"], cuts=cuts)
    g = ref["grades"]
    assert g["levels"] == ["D", "C", "B", "A"] and sum(g["shares"]) == pytest.approx(1)
    assert g["bad_rate"][0] > g["bad_rate"][-1]          # worse grades pay worse
    json.dumps(ref, allow_nan=False)
    grades = grades_from_score(ref, s)
    same = compare_grades(ref, grades, bad)
    assert same["psi"] == pytest.approx(0, abs=1e-12) and same["status"] == "ok"
    assert same["table"]["bad_rate"].tolist() == pytest.approx(g["bad_rate"])
    s2, bad2 = _graded(seed=4, shift=0.25)               # a better-looking base: the mix moves up the grades
    moved = compare_grades(ref, grades_from_score(ref, s2), bad2)
    assert moved["status"] == "alert" and moved["table"].set_index("grade").loc["A", "actual"] > g["shares"][3]
    no_labels = compare_grades(ref, grades_from_score(ref, s2))
    assert no_labels["table"]["bad_rate"].isna().all() and no_labels["psi"] == pytest.approx(moved["psi"])


def test_grade_errors_name_what_was_expected():
    from workbench.monitoring import compare_grades, grade_reference, grades_from_score, with_grades

    ref = build_reference(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(ParameterError, match="no grade mix"):
        compare_grades(ref, ["A"])
    with pytest.raises(ParameterError, match="no grade cut points"):
        grades_from_score(with_grades(ref, ["A", "B"]), [0.1])
    with pytest.raises(ParameterError, match="cuts"):
        grade_reference(["A", "B"], levels=["A", "B"], cuts=[0.5, 0.2])
    with pytest.raises(ParameterError, match="bad"):
        grade_reference(["A", "B"], bad=[1])
    with pytest.raises(ParameterError, match="0/1"):
        grade_reference(["A", "B"], bad=[1, 2])


def test_cli_monitor_reports_the_grade_mix_when_the_reference_has_one(folder, tmp_path, capsys):
    from workbench.monitoring import with_grades

    model = tmp_path / "graded"
    shutil.copytree(folder / "model", model)
    ref = load_reference(model)
    save_reference(model, {**with_grades(ref, ["low", "high"] * 5, [1, 0] * 5, levels=["low", "high"],
                                         cuts=[ref["score"]["edges"][4]])})
    rc, out, _ = _monitor(capsys, "--model", model, "--data", folder / "held.csv", "--json", "--target", "bought")
    assert rc == 0
    grades = json.loads(out)["grades"]
    assert grades["status"] in ("ok", "watch", "alert") and [r["grade"] for r in grades["table"]] == ["low", "high"]
    assert all(r["bad_rate"] is not None for r in grades["table"])
    rc, out, _ = _monitor(capsys, "--model", model, "--data", folder / "held.csv", "--lang", "en")
    assert rc == 0 and "Grade mix" in out
    rc, _, err = _monitor(capsys, "--model", folder / "model", "--data", folder / "held.csv", "--grade", "plan",
                          "--lang", "en")
    assert rc == 1 and "no grade mix" in err
    rc, _, err = _monitor(capsys, "--model", model, "--data", folder / "held.csv", "--grade", "nope")
    assert rc == 1 and "'nope'" in err
