"""A credit model deployed as SQL gives Python's segment, P(bad) and grade in DuckDB and PostgreSQL.

Models are trained on the committed sample's credit features (workbench.credit.province): the
province pipeline's own model, and one model per method (tree, WoE scorecard, monotone LightGBM)
forced with ``methods=``, with the joiner x region segments (the small one merged).  The scored
table adds rows the routing and the encoders must handle like Python: an unseen region of
re-joiners (routed to the merged segment), unseen and missing category levels, missing numbers.
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

from workbench.credit.features import credit_frame
from workbench.credit.model import load_credit_model, train_credit
from workbench.credit.province import model_table, split_cohorts, train_province_credit
from workbench.credit.sql import credit_sql, export_credit_sql
from workbench.errors import DataValidationError, ParameterError

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-9
METHODS = ("tree", "scorecard", "lightgbm")


@pytest.fixture(scope="module")
def credit(tmp_path_factory):
    """The sample's credit features, the table to score (with awkward rows) and the saved models."""
    root = tmp_path_factory.mktemp("credit_sql")
    frame = credit_frame(ROOT / "sample_data" / "province")
    frame["cohort"] = split_cohorts(frame)
    matured = frame[frame["cohort"] != "base"].reset_index(drop=True)
    learn, oot = model_table(matured), (matured["cohort"] == "oot").to_numpy()
    table = model_table(frame).drop(columns=["bad"]).reset_index(drop=True)
    odd = table.head(12).copy()
    odd["subscriber_id"] = -1 - np.arange(len(odd))                # ids -1 .. -12
    odd.loc[odd.index[:4], "joiner"] = "rejoined"
    odd.loc[odd.index[:4], "region"] = "kashgar"                 # unseen region of re-joiners: merged segment
    odd.loc[odd.index[4:8], "join_channel"] = "never-seen"      # unseen level
    odd.loc[odd.index[8:], "brand"] = None                      # missing level
    odd.loc[odd.index[::2], "paid_ratio"] = np.nan              # missing number
    table = pd.concat([table, odd], ignore_index=True)
    path = root / "credit_features.parquet"
    table.to_parquet(path, index=False)
    models = {}
    for method in METHODS:
        m = train_credit(learn, target="bad", positive=1, id_col="subscriber_id", segments=["joiner", "region"],
                         oot=oot, methods=(method,), min_segment_rows=800, progress=False)
        models[method] = m.save(root / method)
    grading = train_province_credit(ROOT / "sample_data" / "province", frame=frame.drop(columns=["cohort"]),
                                    progress=False)
    models["province"] = grading.model.save(root / "province")
    return {"root": root, "table": table, "parquet": path, "models": models}


def _expected(folder: Path, table: pd.DataFrame) -> pd.DataFrame:
    model = load_credit_model(folder)
    rows = model.score(table)
    return rows.set_index("subscriber_id")


def _compare(result: pd.DataFrame, expected: pd.DataFrame) -> float:
    got = result.set_index("subscriber_id")
    assert len(got) == len(expected) and set(got.index) == set(expected.index)
    got = got.loc[expected.index]
    assert (got["segment"].to_numpy() == expected["segment"].to_numpy()).all()
    assert (got["grade"].to_numpy() == expected["grade"].to_numpy()).all()
    return float(np.max(np.abs(got["score"].astype(float).to_numpy() - expected["score"].to_numpy())))


def test_each_method_and_the_merged_segment_are_exported(credit):
    for method in METHODS:
        spec = load_credit_model(credit["models"][method]).spec
        assert {s["method"] for s in spec["segments"]} == {method}
        assert any(len(s["keys"]) > 1 for s in spec["segments"])          # a merged segment
    spec = load_credit_model(credit["models"]["scorecard"]).spec
    kinds = {v["kind"] for s in spec["segments"] for v in s["model"]["variables"]}
    assert kinds == {"numeric", "categorical"}


@pytest.mark.parametrize("which", [*METHODS, "province"])
def test_exported_sql_gives_the_python_scores_and_grades_in_duckdb(credit, which):
    folder = credit["models"][which]
    out = credit["root"] / f"{which}_duckdb.sql"
    run = subprocess.run([sys.executable, "-m", "workbench", "model", "export-sql", "--model", str(folder),
                          "--dialect", "duckdb", "--table", "marts.credit_features", "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(f"CREATE TABLE marts.credit_features AS SELECT * FROM read_parquet('{credit['parquet']}')")
    result = con.execute(out.read_text(encoding="utf-8")).df()
    assert list(result.columns) == ["subscriber_id", "segment", "score", "grade"]
    expected = _expected(folder, credit["table"])
    assert (expected.loc[[-1, -2, -3, -4], "segment"] == "joiner=rejoined").all()
    assert _compare(result, expected) <= TOLERANCE


@pytest.mark.postgres
def test_exported_sql_gives_the_python_scores_and_grades_in_postgresql(credit, postgres_url):  # noqa: F811
    url, drop = fresh_database(postgres_url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                              if url.startswith("postgresql://") else url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE SCHEMA marts")
        credit["table"].to_sql("credit_features", engine, schema="marts", index=False, chunksize=2000)
        for which in (*METHODS, "province"):
            folder = credit["models"][which]
            sql = export_credit_sql(folder, dialect="postgresql", table="marts.credit_features")
            with engine.connect() as conn:
                result = pd.DataFrame(conn.exec_driver_sql(sql).fetchall(),
                                      columns=["subscriber_id", "segment", "score", "grade"])
            assert _compare(result, _expected(folder, credit["table"])) <= TOLERANCE, which
    finally:
        engine.dispose()
        drop()


def test_values_no_segment_covers_get_null_where_python_refuses(credit):
    model = load_credit_model(credit["models"]["province"])   # new & other, new & urumqi: two segments
    rows = credit["table"].head(3).assign(joiner="new", region="kashgar")
    with pytest.raises(DataValidationError, match="unseen at training"):
        model.score(rows)
    con = duckdb.connect()
    con.register("rows", rows)
    result = con.execute(credit_sql(model, table="rows")).df()
    assert len(result) == 3
    assert result["segment"].isna().all() and result["score"].isna().all() and result["grade"].isna().all()


def test_bad_requests_are_refused_clearly(credit):
    model = load_credit_model(credit["models"]["tree"])
    with pytest.raises(ParameterError, match=r"'dialect' parameter must be one of"):
        credit_sql(model, dialect="oracle")
    model.spec["id_col"] = None
    with pytest.raises(ParameterError, match="without an id column"):
        credit_sql(model)
