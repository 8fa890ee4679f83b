"""A model deployed as SQL gives LightGBM's scores inside DuckDB and PostgreSQL (max |diff| <= 1e-9).

The model is trained on the committed sample's feature table (text categories, booleans, columns
that are mostly missing), exported with ``workbench model export-sql`` and run in each database on
that table.  Small synthetic models cover each of LightGBM's missing-value rules (NaN, Zero, None)
and unseen category levels.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from store_fixtures import fresh_database, postgres_url  # noqa: F401 (fixture)

from workbench.errors import ParameterError
from workbench.models.estimator import TargetModel
from workbench.models.registry import load_model, save_model
from workbench.models.sql import export_model_sql, model_sql, quote_ident

ROOT = Path(__file__).resolve().parents[1]
LABEL = "vas_fam_mobile_newspaper_active"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample's features (Parquet), a model saved from them and its Python scores."""
    from workbench.features import build_features

    root = tmp_path_factory.mktemp("sql")
    path = build_features(ROOT / "sample_data" / "province", "2026-10", 6, out=root / "features.parquet")
    df = pd.read_parquet(path)
    y = df[LABEL].astype(int).to_numpy()
    X = df.drop(columns=["subscriber_id", LABEL])
    # the size rule's shape (select="off"): deep enough to use numeric, categorical and missing-value splits
    model = TargetModel(random_state=0, max_rounds=60, n_jobs=1, select="off").fit(X, y)
    folder = root / "model"
    save_model(model, folder, label_definition={"target": LABEL}, training_window=None, metrics={},
               training_data=X, id_col="subscriber_id")
    loaded = load_model(folder)
    scores = pd.Series(loaded.predict_proba(X)[:, 1], index=df["subscriber_id"].to_numpy())
    return {"root": root, "parquet": path, "frame": df, "folder": folder, "model": loaded, "scores": scores}


def _nodes(tree: dict):
    if "leaf_value" in tree:
        return
    yield tree
    yield from _nodes(tree["left_child"])
    yield from _nodes(tree["right_child"])


def _diff(result: pd.DataFrame, expected: pd.Series, id_col: str = "subscriber_id") -> float:
    got = result.set_index(id_col)["score"].astype(float)
    assert len(got) == len(expected) and set(got.index) == set(expected.index)
    return float(np.max(np.abs(got.loc[expected.index].to_numpy() - expected.to_numpy())))


def test_the_sample_model_uses_every_kind_of_split(sample):
    dump = sample["model"].booster_.dump_model()
    nodes = [n for info in dump["tree_info"] for n in _nodes(info["tree_structure"])]
    assert {n["decision_type"] for n in nodes} == {"<=", "=="}            # numeric and categorical splits
    assert "NaN" in {n["missing_type"] for n in nodes}                      # missing values learned
    features = sample["model"].features_                                    # the booster's order
    used = {features[n["split_feature"]] for n in nodes}
    assert any(f.dtype == "bool" for f in used) and any(f.kind == "categorical" for f in used)


def test_exported_sql_gives_the_python_scores_in_duckdb(sample):
    out = sample["root"] / "score_duckdb.sql"
    run = subprocess.run([sys.executable, "-m", "workbench", "model", "export-sql", "--model", str(sample["folder"]),
                          "--dialect", "duckdb", "--table", "marts.features", "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(f"CREATE TABLE marts.features AS SELECT * FROM read_parquet('{sample['parquet']}')")
    result = con.execute(out.read_text(encoding="utf-8")).df()
    assert list(result.columns) == ["subscriber_id", "score"]
    assert _diff(result, sample["scores"]) <= TOLERANCE


@pytest.mark.postgres
def test_exported_sql_gives_the_python_scores_in_postgresql(sample, postgres_url):  # noqa: F811
    url, drop = fresh_database(postgres_url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                              if url.startswith("postgresql://") else url)
    try:
        frame = sample["frame"]
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE SCHEMA marts")
        frame.to_sql("features", engine, schema="marts", index=False, chunksize=2000)
        sql = export_model_sql(sample["folder"], dialect="postgresql", table="marts.features")
        with engine.connect() as conn:
            result = pd.DataFrame(conn.exec_driver_sql(sql).fetchall(), columns=["subscriber_id", "score"])
        assert _diff(result, sample["scores"]) <= TOLERANCE
    finally:
        engine.dispose()
        drop()


def _synthetic(n: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.2] = np.nan
    z = np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))
    c = pd.Series(rng.choice(["a", "b", "c", "d'q"], size=n), dtype="str")
    c[rng.random(n) < 0.1] = None
    flag = rng.random(n) < 0.5
    logit = np.nan_to_num(x, nan=1.5) + 0.8 * z + (c == "b").to_numpy() * 1.2 - flag * 0.7
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"id": np.arange(n), "x": x, "z": z, "c": c, "flag": flag}), y


@pytest.mark.parametrize("params, missing", [({}, "NaN"), ({"zero_as_missing": True}, "Zero"),
                                             ({"use_missing": False}, "None")])
def test_each_missing_value_rule_of_lightgbm(params, missing):
    df, y = _synthetic()
    X = df.drop(columns="id")
    model = TargetModel(random_state=0, max_rounds=40, n_jobs=1, lgb_params=params).fit(X, y)
    dump = model.booster_.dump_model()
    kinds = {n["missing_type"] for info in dump["tree_info"] for n in _nodes(info["tree_structure"])}
    assert missing in kinds
    scored = df.copy()
    scored.loc[:5, "c"] = "never-seen"                       # unseen levels count as missing, as in Python
    scored.loc[6:9, "x"] = 0.0
    expected = pd.Series(model.predict_proba(scored.drop(columns="id"))[:, 1], index=scored["id"].to_numpy())
    con = duckdb.connect()
    con.register("scored", scored)
    result = con.execute(model_sql(model, table="scored", id_col="id", dialect="duckdb")).df()
    assert _diff(result, expected, "id") <= TOLERANCE


def test_bad_requests_are_refused_clearly(sample):
    with pytest.raises(ParameterError, match=r"'dialect' parameter must be one of \['duckdb', 'postgresql'\]"):
        model_sql(sample["model"], dialect="oracle")
    with pytest.raises(ParameterError, match="model folder .* does not exist"):
        export_model_sql(sample["root"] / "nowhere")
    assert quote_ident('odd"name') == '"odd""name"' and quote_ident("s.t") == '"s"."t"'
