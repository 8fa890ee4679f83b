"""Generic credit models (workbench.credit.model): segments, methods, grades, rules, files, bad input."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from credit_model_fixtures import applicants
from sklearn.metrics import roc_auc_score

from workbench.credit.grades import choose_cutoffs, grade_of
from workbench.credit.model import CreditModel, load_credit_model, train_credit
from workbench.credit.rules import tree_leaves
from workbench.errors import DataValidationError, ParameterError


@pytest.fixture(scope="module")
def german():
    """A model of a 1,000-row applicant table trained with the defaults (cross-validated choice)."""
    df, _ = applicants(1000, 0)
    return df, train_credit(df, target="risk", positive="bad", id_col="app_id", progress=False)


@pytest.fixture(scope="module")
def fresh():
    return applicants(30_000, 99)


def _regions(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Two segment columns: joiner (new / rejoined) x region (urumqi / other), 'rejoined & urumqi' small."""
    rng = np.random.default_rng(seed)
    n = len(df)
    rejoined = rng.random(n) < 0.3
    urumqi = np.where(rejoined, rng.random(n) < 0.08, rng.random(n) < 0.5)
    return df.assign(joiner=np.where(rejoined, "rejoined", "new"), region=np.where(urumqi, "urumqi", "other"))


# ------------------------------------------------------------------ quality on a small table
def test_small_table_ranks_fresh_rows_close_to_the_truth(german, fresh):
    _, model = german
    new, p = fresh
    y = (new["risk"] == "bad").to_numpy()
    auc = roc_auc_score(y, model.score(new)["score"])
    assert auc >= 0.95 * roc_auc_score(y, p)        # no overfitting with 1,000 rows and 20 columns
    assert model.summary["validation"] == "cv"
    m = model.summary["models"][0]
    assert set(m["auc_oot"]) == {"tree", "scorecard", "lightgbm"} and m["method"] in m["auc_oot"]


def test_grades_bad_rate_increases_strictly_on_fresh_rows(german, fresh):
    _, model = german
    new, _ = fresh
    scored = model.score(new)
    rates = pd.Series((new["risk"] == "bad").to_numpy()).groupby(scored["grade"].to_numpy()).mean()
    assert list(rates.index) == ["A", "B", "C", "D", "E"]
    assert np.all(np.diff(rates.to_numpy()) > 0), rates
    g = model.summary["grades"]
    assert np.all(np.diff(g["bad_rate"]) > 0) and len(g["cutoffs"]) == 4 and np.all(np.diff(g["cutoffs"]) > 0)


def test_grade_of_a_score_is_deterministic_and_cut_points_belong_to_the_lower_grade(german):
    _, model = german
    cuts = model.cutoffs
    assert list(model.grade(cuts)) == ["A", "B", "C", "D"]
    assert list(model.grade([np.nextafter(c, 1) for c in cuts])) == ["B", "C", "D", "E"]
    assert list(model.grade([0.0, 1.0])) == ["A", "E"]


def test_choose_cutoffs_merges_to_fewer_grades_when_the_data_cannot_carry_more():
    rng = np.random.default_rng(1)
    s = np.repeat([0.1, 0.5], 500)                      # two distinct scores only
    y = (rng.random(1000) < s).astype(int)
    g = choose_cutoffs(s, y, 5)
    assert g["kept"] == 2 and g["labels"] == ["A", "B"] and len(g["cuts"]) == 1
    assert g["table"]["bad_rate"][0] < g["table"]["bad_rate"][1]
    assert list(grade_of([0.1, 0.5], g["cuts"])) == [0, 1]


# ------------------------------------------------------------------ segments
@pytest.fixture(scope="module")
def segmented():
    df, _ = applicants(6000, 3)
    df = _regions(df)
    oot = pd.Series(np.arange(len(df)) >= 4500)
    model = train_credit(df, target="risk", positive="bad", id_col="app_id", segments=["joiner", "region"], oot=oot,
                         min_segment_rows=400, min_segment_bads=60, progress=False)
    return df, model


def test_small_segment_is_merged_with_its_sibling_and_the_summary_says_so(segmented):
    df, model = segmented
    merges = model.summary["merges"]
    assert [m["segment"] for m in merges] == ["joiner=rejoined & region=urumqi"]
    assert merges[0]["into"] == "joiner=rejoined" and merges[0]["reason"] in ("rows", "bads")
    segs = {s["segment"]: s for s in model.summary["segments"]}
    assert segs["joiner=rejoined & region=urumqi"]["merged_into"] == "joiner=rejoined"
    assert segs["joiner=new & region=urumqi"]["merged_into"] is None
    names = sorted(m["segment"] for m in model.summary["models"])
    assert names == ["joiner=new & region=other", "joiner=new & region=urumqi", "joiner=rejoined"]
    assert sorted(model.summary["models"][names.index("joiner=rejoined")]["members"]) == [
        "joiner=rejoined & region=other", "joiner=rejoined & region=urumqi"]
    scored = model.score(df)
    rejoined = (df["joiner"] == "rejoined").to_numpy()
    assert set(scored.loc[rejoined, "segment"]) == {"joiner=rejoined"}
    assert model.summary["validation"] == "oot"


def test_each_segment_model_compares_three_methods_out_of_time(segmented):
    _, model = segmented
    for m in model.summary["models"]:
        assert set(m["auc_oot"]) == {"tree", "scorecard", "lightgbm"}
        assert all(0.5 < a < 1 for a in m["auc_oot"].values())
        assert set(m["psi"]) == set(m["auc_oot"]) and len(m["grade_bad_rates"]) == 5


def test_a_large_segment_compares_on_a_stratified_sample_and_refits_the_winner_on_all_training_rows():
    df, _ = applicants(4000, 5)
    oot = pd.Series(np.arange(len(df)) >= 3000)
    y = (df["risk"] == "bad").to_numpy()
    kw = dict(target="risk", positive="bad", oot=oot, progress=False)
    model = train_credit(df, methods=("tree", "scorecard", "lightgbm"), compare_rows=1000, score_rows=True, **kw)
    ms = model.summary["models"][0]
    assert ms["compared_on"] == 1000 and model.spec["settings"]["compare_rows"] == 1000
    assert set(ms["auc_oot"]) == {"tree", "scorecard", "lightgbm"}
    # the kept model learnt from all 3,000 training rows, not the sample: its held-out AUC is the summary's
    scored = model.score(df)
    held_auc = roc_auc_score(y[3000:], scored["score"].iloc[3000:])
    assert ms["auc_held"] == pytest.approx(held_auc)
    # the scores kept from training (held-out rows from the refit model) are the saved model's
    np.testing.assert_array_equal(model.row_scores["score"], scored["score"])
    tree = train_credit(df, methods=("tree",), compare_rows=1000, **kw)
    leaves = [nd for nd in tree.spec["segments"][0]["model"]["nodes"] if nd["leaf"]]
    assert sum(nd["rows"] for nd in leaves) == 3000
    assert sum(nd["bads"] for nd in leaves) == int(y[:3000].sum())
    whole = train_credit(df, methods=("tree",), compare_rows=0, **kw)
    assert whole.summary["models"][0]["compared_on"] == 3000


def test_segments_fitted_side_by_side_give_the_same_model_as_one_after_the_other(segmented):
    df, model = segmented
    oot = pd.Series(np.arange(len(df)) >= 4500)
    serial = train_credit(df, target="risk", positive="bad", id_col="app_id", segments=["joiner", "region"],
                          oot=oot, min_segment_rows=400, min_segment_bads=60, n_jobs=1, progress=False,
                          score_rows=True)
    assert len(model.spec["segments"]) == 3 and model.row_scores is None
    assert json.dumps(serial.spec["segments"], default=str) == json.dumps(model.spec["segments"], default=str)
    assert serial.cutoffs == model.cutoffs
    scored = model.score(df)
    np.testing.assert_array_equal(serial.score(df)["score"], scored["score"])
    # every labelled row's score kept from training equals scoring it again, in every segment
    np.testing.assert_array_equal(serial.row_scores["score"], scored["score"])
    assert serial.row_scores["segment"].tolist() == scored["segment"].tolist()


def test_segments_scored_side_by_side_give_the_scores_of_one_after_the_other(segmented, monkeypatch):
    import workbench.credit.model as credit_model

    df, model = segmented
    monkeypatch.setattr(credit_model, "PARALLEL_SCORE_ROWS", 10**9)
    seg_one, one = model.predict_score(df)
    monkeypatch.setattr(credit_model, "PARALLEL_SCORE_ROWS", 0)
    seg_side, side = model.predict_score(df)
    assert len(set(seg_one)) == 3 and seg_side.tolist() == seg_one.tolist()
    np.testing.assert_array_equal(side, one)


def test_scores_kept_from_cross_validated_training_are_the_final_models():
    df, _ = applicants(600, 9)
    model = train_credit(df, target="risk", positive="bad", methods=("tree", "scorecard"), score_rows=True,
                         progress=False)
    assert model.summary["validation"] == "cv"
    np.testing.assert_array_equal(model.row_scores["score"], model.score(df)["score"])


def test_unseen_segment_value_routes_to_a_merged_segment_or_is_named(segmented):
    df, model = segmented
    rows = df.head(3).assign(joiner="rejoined", region="kashgar")   # region unseen: the merged 'rejoined'
    assert set(model.score(rows)["segment"]) == {"joiner=rejoined"}
    with pytest.raises(DataValidationError, match="unseen at training.*kashgar"):
        model.score(df.head(3).assign(joiner="new", region="kashgar"))


def test_segment_with_too_few_rows_for_a_tree_merges_into_the_whole():
    df, _ = applicants(1000, 4)
    df = df.assign(channel=np.where(np.arange(1000) < 30, "dealer", "hall"))
    model = train_credit(df, target="risk", positive="bad", segments=["channel"], methods=("tree",),
                         min_segment_rows=200, min_segment_bads=30, progress=False)
    assert model.summary["merges"][0]["segment"] == "channel=dealer"
    assert model.summary["merges"][0]["into"] == "*" and model.summary["merges"][0]["reason"] == "rows"
    assert [m["segment"] for m in model.summary["models"]] == ["*"]


# ------------------------------------------------------------------ rules
def test_a_row_satisfying_a_leaf_rule_gets_that_leafs_score_and_grade():
    df, _ = applicants(1500, 5)
    model = train_credit(df, target="risk", positive="bad", methods=("tree",), progress=False)
    seg = model.spec["segments"][0]
    leaves = tree_leaves(seg["model"]["nodes"])
    rules = model.rules("en")[0]
    assert rules["method"] == "tree" and len(rules["rules"]) == len(leaves) >= 4
    base = df.iloc[[0]].copy()
    for item in rules["items"]:
        row = base.copy()
        for c in item["conditions"]:
            if c["kind"] == "numeric":
                row[c["feature"]] = c["hi"] if c["hi"] is not None else c["lo"] + 1.0
            else:
                row[c["feature"]] = c["levels"][0]
        scored = model.score(row)
        assert scored["score"].iloc[0] == pytest.approx(item["score"])
        assert scored["grade"].iloc[0] == item["grade"]
        assert f"grade {item['grade']}" in item["text"] and "If " in item["text"]
    # a leaf's score is the bad rate of its training rows (leaves sharing a rate share it too)
    s = model.score(df)["score"].to_numpy()
    y = (df["risk"] == "bad").to_numpy()
    for v in np.unique(s):
        assert y[s == v].mean() == pytest.approx(v)
    assert sum(lf["rows"] for lf in leaves) == len(df)


def test_scorecard_rules_list_points_per_bin_in_the_chosen_language(german):
    _, model = german
    seg = model.spec["segments"][0]
    if seg["method"] != "scorecard":
        pytest.fail(f"expected the scorecard on this linear table, got {seg['method']}")
    zh = model.rules()[0]["rules"]
    en = model.rules("en")[0]["rules"]
    assert zh[0].startswith("基础风险分") and en[0].startswith("Base risk points")
    assert any(r.startswith("status") and "risk points" in r for r in en)
    assert len(zh) == len(en)


# ------------------------------------------------------------------ files
@pytest.mark.parametrize("method", ["tree", "scorecard", "lightgbm"])
def test_save_load_round_trip_gives_equal_scores(tmp_path, method):
    df, _ = applicants(800, 6)
    model = train_credit(df, target="risk", positive="bad", methods=(method,), progress=False)
    folder = model.save(tmp_path / "m")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("lightgbm_")) == [
        "credit.json", "reference.json", "summary.json"]
    spec = json.loads((folder / "credit.json").read_text())
    assert spec["segments"][0]["model"]["method"] == method
    if method == "tree":
        node = next(nd for nd in spec["segments"][0]["model"]["nodes"] if not nd["leaf"])
        assert {"feature", "threshold", "left", "right", "missing"} <= set(node)
    loaded = load_credit_model(folder)
    new, _ = applicants(500, 7)
    a, b = model.score(new), loaded.score(new)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["row", "segment", "score", "grade"] and list(a["row"]) == list(range(1, 501))


def test_reference_holds_inputs_score_and_grade_mix_with_the_models_cuts(german):
    _, model = german
    ref = model.reference
    assert "status" in ref["features"] and ref["score"] is not None
    assert ref["grades"]["cuts"] == model.cutoffs and ref["grades"]["levels"] == ["A", "B", "C", "D", "E"]
    assert np.all(np.diff(ref["grades"]["bad_rate"]) > 0)
    assert sum(ref["grades"]["shares"]) == pytest.approx(1.0)


def test_save_refuses_a_folder_that_is_not_a_credit_model_and_leaves_it_alone(german, tmp_path):
    _, model = german
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ParameterError, match="not a credit model folder"):
        model.save(other)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_a_failed_save_leaves_the_old_model_and_no_temporary_folder(german, tmp_path, monkeypatch):
    _, model = german
    folder = model.save(tmp_path / "m")
    before = (folder / "credit.json").read_text()
    import workbench.models.registry as registry

    def boom(obj):
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry, "to_jsonable", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(folder)
    assert (folder / "credit.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


# ------------------------------------------------------------------ data handling and bad input
def test_missing_values_constant_and_id_like_columns_and_unseen_levels():
    df, _ = applicants(1000, 8)
    df = df.assign(country="cn", ref=[f"R{i:06d}" for i in range(1000)])
    model = train_credit(df, target="risk", positive="bad", id_col="app_id", progress=False)
    assert model.summary["dropped"] == {"country": "constant", "ref": "id_like"}
    assert "country" not in model.inputs and "ref" not in model.inputs
    new = df.head(5).assign(status="A99", age=np.nan, savings=None)
    scored = model.score(new)
    assert scored["score"].between(0, 1).all() and list(scored["app_id"]) == list(df["app_id"].head(5))


@pytest.mark.parametrize("kwargs, match", [
    ({"target": "nope"}, "target column 'nope' is not in"),
    ({"id_col": "nope"}, "id column 'nope' is not in"),
    ({"segments": ["region"]}, r"segment column\(s\) \['region'\] are not in"),
    ({"segments": ["risk"]}, "are the target or the id column"),
    ({"positive": "maybe"}, "positive value 'maybe' is not among"),
    ({"grades": 1}, "'grades' parameter must be"),
    ({"oot": [True] * 1000}, "expected both training"),
])
def test_bad_parameters_are_named(german, kwargs, match):
    df, _ = german
    args = {"target": "risk", "positive": "bad", "progress": False, **kwargs}
    with pytest.raises(ParameterError, match=match):
        train_credit(df, **args)


def test_label_with_one_class_empty_table_and_too_few_rows():
    df, _ = applicants(300, 9)
    with pytest.raises(ParameterError, match="single class"):
        train_credit(df.assign(risk="bad"), target="risk", positive="bad", progress=False)
    with pytest.raises(ParameterError, match="is empty"):
        train_credit(df.head(0), target="risk", positive="bad", progress=False)
    with pytest.raises(ParameterError, match="is empty"):
        train_credit(pd.DataFrame(), target="risk", positive="bad", progress=False)
    with pytest.raises(ParameterError, match="too few rows to model"):
        train_credit(df.head(40), target="risk", positive="bad", progress=False)
    late = np.arange(len(df)) >= 250
    with pytest.raises(ParameterError, match="out-of-time rows of the table .* are all good"):
        train_credit(df.assign(risk=np.where(late, "good", df["risk"])), target="risk", positive="bad", oot=late,
                     progress=False)


def test_scoring_a_table_without_a_model_input_names_it(german):
    df, model = german
    with pytest.raises(DataValidationError, match=r"lacks column\(s\) \['status'\]"):
        model.score(df.drop(columns=["status"]))
    with pytest.raises(DataValidationError, match="lacks the id column 'app_id'"):
        model.score(df.drop(columns=["app_id"]))
    assert isinstance(model, CreditModel)


def test_load_names_a_folder_that_is_not_a_credit_model(tmp_path):
    with pytest.raises(ParameterError, match="is not a credit model folder"):
        load_credit_model(tmp_path)


def test_small_level_of_a_many_valued_column_merges_with_its_smallest_sibling_only():
    from workbench.credit.segments import plan_segments, route, segment_keys

    frame = pd.DataFrame({"region": ["urumqi"] * 600 + ["ili"] * 300 + ["hami"] * 40})
    y = np.tile([1, 0, 0, 0], len(frame) // 4 + 1)[:len(frame)]
    plan = plan_segments(segment_keys(frame, ["region"]), y, None, ["region"], min_rows=200, min_bads=20)
    assert sorted(plan["groups"]) == ["region=hami+ili", "region=urumqi"]
    assert plan["merges"] == [{"segment": "region=hami", "into": "region=hami+ili", "rows": 40, "bads": 10,
                               "reason": "rows"}]
    routed = route(segment_keys(pd.DataFrame({"region": ["hami", "ili", "urumqi"]}), ["region"]),
                   plan["groups"], ["region"])
    assert list(routed) == ["region=hami+ili", "region=hami+ili", "region=urumqi"]
    with pytest.raises(DataValidationError, match="unseen at training"):
        route(segment_keys(pd.DataFrame({"region": ["kashgar"]}), ["region"]), plan["groups"], ["region"])


def test_lightgbm_rules_give_each_inputs_direction():
    df, _ = applicants(800, 12)
    model = train_credit(df, target="risk", positive="bad", methods=("lightgbm",), progress=False)
    r = model.rules("en")[0]
    assert r["method"] == "lightgbm" and r["rules"][0].startswith("Monotone gradient boosting (")
    directions = {i["feature"]: i["direction"] for i in r["items"]}
    assert directions["duration"] == 1 and directions["age"] == -1      # risk rises with duration, falls with age
    assert any(t.startswith("status: risk rises across A14") for t in r["rules"])
