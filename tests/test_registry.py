"""Registry: pickle-free save / load with identical scores, the model card, scoring and schema errors."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError, SchemaMismatchError
from workbench.metrics.classification import evaluate_classifier
from workbench.models import TargetModel, fingerprint, learn_rules, load_card, load_model, save_model, score


def _table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    brand = rng.choice(np.array(["gotone", "mzone", "easyown"]), n).astype(object)
    brand[rng.random(n) < 0.05] = None
    gprs = rng.gamma(2.0, 50.0, n)
    gprs[rng.random(n) < 0.1] = np.nan
    logit = -2.5 + 1.5 * (brand == "mzone") + 0.01 * np.nan_to_num(gprs)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"user_id": np.arange(1000, 1000 + n), "brand": pd.array(brand, dtype="str"),
                       "gprs_mb": gprs, "smartphone": rng.random(n) < 0.4, "age": rng.integers(15, 70, n)})
    return df, y


FEATURES = ["brand", "gprs_mb", "smartphone", "age"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    df, y = _table(1500, seed=21)
    model = TargetModel(n_jobs=1).fit(df[FEATURES], y)
    folder = tmp_path_factory.mktemp("model") / "m"
    metrics = evaluate_classifier(y, model.predict_proba(df[FEATURES])[:, 1])
    rules = learn_rules(df[FEATURES], y, n_rules=3)
    save_model(model, folder, label_definition={"target": "ordered", "positive": "1"},
               training_window={"from": "2026-01", "to": "2026-06"}, metrics=metrics,
               training_data=df[FEATURES], id_col="user_id", rules=rules)
    return model, folder, df, y


def test_round_trip_gives_identical_scores(saved):
    model, folder, _, _ = saved
    loaded = load_model(folder)
    new, _ = _table(700, seed=22)
    np.testing.assert_array_equal(loaded.predict_proba(new), model.predict_proba(new))
    pd.testing.assert_frame_equal(score(loaded, new, "user_id", lang="en"), score(model, new, "user_id", lang="en"))
    assert loaded.classes_.tolist() == [0, 1]
    assert loaded.best_iteration_ == model.best_iteration_
    assert [f.to_dict() for f in loaded.features_] == [f.to_dict() for f in model.features_]
    assert list(loaded.feature_names_in_) == FEATURES


def test_folder_holds_text_and_json_only(saved):
    _, folder, _, _ = saved
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["features.json", "label.json", "metrics.json", "model.json", "model.txt", "rules.json"]
    assert (folder / "model.txt").read_text().startswith("tree")
    for p in folder.iterdir():
        assert not p.read_bytes().startswith(b"\x80"), f"{p.name} looks like a pickle"
    features = json.loads((folder / "features.json").read_text())["features"]
    assert [(f["name"], f["kind"]) for f in features] == [
        ("brand", "categorical"), ("gprs_mb", "numeric"), ("smartphone", "numeric"), ("age", "numeric")]
    assert set(features[0]["levels"]) == {"gotone", "mzone", "easyown"}


def test_card_records_label_window_metrics_fingerprint_versions(saved):
    model, folder, df, _ = saved
    card = load_card(folder)
    assert card["label"] == {"target": "ordered", "positive": "1"}
    assert card["model"]["training_window"] == {"from": "2026-01", "to": "2026-06"}
    assert card["model"]["id_col"] == "user_id"
    assert card["model"]["fingerprint"] == fingerprint(df[FEATURES])
    assert card["model"]["fingerprint"]["rows"] == 1500 and card["model"]["fingerprint"]["columns"] == 4
    assert set(card["model"]["versions"]) >= {"workbench", "lightgbm", "pandas"}
    assert card["model"]["params"]["num_leaves"] == model.params_["num_leaves"]
    assert len(card["metrics"]["gains"]) == 10 and card["metrics"]["gains"][0]["bin"] == 1
    assert len(card["rules"]) == 3 and card["importance"] is None


def test_fingerprint_changes_with_the_data():
    df, _ = _table(50, seed=1)
    assert fingerprint(df) == fingerprint(df.copy())
    changed = df.copy()
    changed.loc[3, "age"] += 1
    assert fingerprint(changed)["sha256"] != fingerprint(df)["sha256"]


def test_score_ranks_deciles_and_reasons(saved):
    model, _, _, _ = saved
    new, _ = _table(200, seed=23)
    out = score(model, new.sample(frac=1, random_state=0), "user_id", lang="en")
    assert list(out.columns) == ["user_id", "score", "rank", "decile", "reason_1", "reason_2", "reason_3"]
    assert out["rank"].tolist() == list(range(1, 201))
    assert out["score"].is_monotonic_decreasing
    assert out["decile"].tolist() == [d for d in range(1, 11) for _ in range(20)]
    np.testing.assert_array_equal(out.set_index("user_id").loc[new["user_id"], "score"],
                                  model.predict_proba(new)[:, 1])
    assert out["reason_1"].notna().mean() > 0.5
    plain = score(model, new, "user_id", reasons=0)
    assert list(plain.columns) == ["user_id", "score", "rank", "decile"]


def test_ties_are_ranked_by_id(saved):
    model, _, _, _ = saved
    row, _ = _table(1, seed=24)
    same = pd.concat([row] * 4, ignore_index=True).assign(user_id=[7, 3, 9, 5])
    out = score(model, same, "user_id", reasons=0)
    assert out["user_id"].tolist() == [3, 5, 7, 9] and out["rank"].tolist() == [1, 2, 3, 4]


def test_mismatched_tables_raise_schema_mismatch(saved):
    model, _, _, _ = saved
    new, _ = _table(30, seed=25)
    with pytest.raises(SchemaMismatchError, match=r"lacks 2 column\(s\).*\['gprs_mb', 'age'\]"):
        score(model, new.drop(columns=["gprs_mb", "age"]), "user_id")
    with pytest.raises(SchemaMismatchError, match="'brand' \\(trained as text/categorical \\[str\\], found int64\\)"):
        score(model, new.assign(brand=3), "user_id")
    odd = new.assign(brand=pd.array(["gotone"] * 28 + ["shenzhouxing", "dongganplus"], dtype="str"))
    with pytest.raises(SchemaMismatchError, match=r"unseen at training.*'brand': \['dongganplus', 'shenzhouxing'\]"):
        score(model, odd, "user_id", strict=True)
    assert len(score(model, odd, "user_id", reasons=0)) == 30  # lenient: unseen levels scored as missing


def test_score_id_errors(saved):
    model, _, _, _ = saved
    new, _ = _table(30, seed=26)
    with pytest.raises(ParameterError, match="id column 'msisdn' is not in the scored table"):
        score(model, new, "msisdn")
    with pytest.raises(DataValidationError, match="must be unique and complete; found 0 missing and 1 duplicate"):
        score(model, new.assign(user_id=[1] * 2 + list(range(2, 30))), "user_id")


def test_load_errors(saved, tmp_path):
    _, folder, _, _ = saved
    with pytest.raises(ParameterError, match="does not exist or is not a folder"):
        load_model(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "model.txt").write_text((folder / "model.txt").read_text())
    with pytest.raises(ParameterError, match=r"lacks \['features.json', 'label.json'"):
        load_model(partial)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    for p in folder.iterdir():
        (foreign / p.name).write_bytes(p.read_bytes())
    meta = json.loads((foreign / "model.json").read_text())
    meta["format"] = {"name": "someone.else", "version": 1}
    (foreign / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ParameterError, match="holds format .*someone.else"):
        load_model(foreign)


def test_save_errors(saved, tmp_path):
    model, _, df, _ = saved
    with pytest.raises(ParameterError, match="'label_definition' parameter must be a dict"):
        save_model(model, tmp_path, label_definition="ordered", training_window=None, metrics={},
                   training_data=df)
    with pytest.raises(ParameterError, match="'training_data' parameter must be a pandas DataFrame"):
        save_model(model, tmp_path, label_definition={}, training_window=None, metrics={}, training_data=[1])


def test_model_fitted_on_an_array_round_trips(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + rng.normal(size=400) > 0.8).astype(int)
    model = TargetModel(n_jobs=1).fit(X, y)
    save_model(model, tmp_path / "arr", label_definition={}, training_window=None, metrics={},
               training_data=pd.DataFrame(X))
    loaded = load_model(tmp_path / "arr")
    assert not hasattr(loaded, "feature_names_in_")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_scored_list_matches_its_schema(saved):
    import pandera.errors

    from workbench.models import scored_schema

    model, _, _, _ = saved
    new, _ = _table(50, seed=27)
    out = score(model, new, "user_id", reasons=2)
    scored_schema("user_id", 2).validate(out)
    with pytest.raises(pandera.errors.SchemaErrors, match="decile"):
        scored_schema("user_id", 2).validate(out.assign(decile=11), lazy=True)


def test_reasons_only_for_the_top_of_the_ranking(saved):
    model, _, _, _ = saved
    new, _ = _table(200, seed=28)
    full = score(model, new, "user_id", lang="en")
    for top in (20, 0.1):
        part = score(model, new, "user_id", lang="en", reasons_top=top)
        pd.testing.assert_frame_equal(part.drop(columns=["reason_1", "reason_2", "reason_3"]),
                                      full.drop(columns=["reason_1", "reason_2", "reason_3"]))
        # the same words for the top 20 (percentiles still among all 200 rows), nothing below
        pd.testing.assert_frame_equal(part.head(20), full.head(20))
        assert part.loc[20:, ["reason_1", "reason_2", "reason_3"]].isna().all().all()
    with pytest.raises(ParameterError, match="'list_size' parameter must be a count between 1 and 200"):
        score(model, new, "user_id", reasons_top=500)
