"""Back-fill of the current published versions into an operational database (workbench.ops.backfill)."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from ops_fixtures import write_province, write_run
from store_fixtures import fresh_database, postgres_url  # noqa: F401 - fixture

import workbench.ops.backfill as backfill_module
from workbench.cli import main
from workbench.errors import AccessDenied, ParameterError
from workbench.ops.backfill import backfill
from workbench.ops.publish import publish_run
from workbench.store import SYSTEM_USER, Store


@pytest.fixture
def published(tmp_path):
    """A store with one current target version (5 rows) and one current credit version (2 rows)."""
    data = write_province(tmp_path / "province")
    run = write_run(tmp_path / "run", data, credit={1: "A", 3: "E"})
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}", progress=False) as store:
        publish_run(store, SYSTEM_USER, run)
        yield store, run


def _target_rows(url: str, schema: str | None = None) -> pd.DataFrame:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    prefix = f'"{schema}".' if schema else ""
    with engine.connect() as conn:
        rows = pd.read_sql(f"SELECT * FROM {prefix}wb_published_results ORDER BY kind, subscriber_id", conn)
        log = pd.read_sql(f"SELECT * FROM {prefix}wb_backfill_log ORDER BY id", conn)
        versions = pd.read_sql(f"SELECT * FROM {prefix}wb_published_versions ORDER BY version_id", conn)
    engine.dispose()
    return rows, log, versions


def _check_idempotent_and_transactional(store, run, url, schema, monkeypatch):
    first = backfill(store, SYSTEM_USER, url, schema=schema, batch=2)
    assert sorted((d["kind"], d["rows"]) for d in first) == [("credit", 2), ("target", 5)]
    rows1, log1, versions1 = _target_rows(url, schema)
    backfill(store, SYSTEM_USER, url, schema=schema, batch=2)
    rows2, log2, versions2 = _target_rows(url, schema)
    pd.testing.assert_frame_equal(rows1, rows2)                        # a re-run adds no duplicates
    assert len(rows2) == 7 and not rows2.duplicated(["version_id", "subscriber_id"]).any()
    assert len(log2) == 4 and sorted(versions2["kind"]) == ["credit", "target"]
    # a new target version replaces the old one's rows; a failure mid-way leaves the target as it was
    new = publish_run(store, SYSTEM_USER, run, kinds=["target"])[0]["version_id"]
    calls = {"n": 0}
    original = backfill_module._insert_batch

    def dies_on_second_batch(conn, table, records):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("connection lost mid-way")
        return original(conn, table, records)

    monkeypatch.setattr(backfill_module, "_insert_batch", dies_on_second_batch)
    with pytest.raises(RuntimeError, match="mid-way"):
        backfill(store, SYSTEM_USER, url, schema=schema, kinds=["target"], batch=2)
    rows3, log3, _ = _target_rows(url, schema)
    pd.testing.assert_frame_equal(rows2, rows3)
    assert len(log3) == len(log2)
    monkeypatch.setattr(backfill_module, "_insert_batch", original)
    backfill(store, SYSTEM_USER, url, schema=schema, kinds=["target"], batch=2)
    rows4, _, versions4 = _target_rows(url, schema)
    assert set(rows4.loc[rows4["kind"] == "target", "version_id"]) == {new}
    assert len(rows4) == 7
    credit = int(versions2.loc[versions2["kind"] == "credit", "version_id"].iloc[0])
    assert set(versions4["version_id"]) == {new, credit}
    audit = store.audit_log(SYSTEM_USER, action="backfill")
    assert len(audit) == 5                                             # 2 + 2 + 1 (the failed one is not)


def test_backfill_into_sqlite_is_idempotent_and_transactional(published, tmp_path, monkeypatch):
    store, run = published
    _check_idempotent_and_transactional(store, run, f"sqlite:///{tmp_path / 'ops.sqlite'}", None, monkeypatch)


@pytest.mark.postgres
def test_backfill_into_a_postgresql_schema(published, postgres_url, monkeypatch):  # noqa: F811
    store, run = published
    url, drop = fresh_database(postgres_url)
    try:
        _check_idempotent_and_transactional(store, run, url, "operations", monkeypatch)
        rows, _, _ = _target_rows(url, "operations")
        assert rows["reasons"].dropna().str.startswith("[").all()
    finally:
        drop()


def test_backfill_refuses_bad_input(published, tmp_path):
    store, _ = published
    with pytest.raises(ParameterError, match="--to"):
        backfill(store, SYSTEM_USER, "not a url")
    with pytest.raises(ParameterError, match="kind"):
        backfill(store, SYSTEM_USER, f"sqlite:///{tmp_path / 'x.sqlite'}", kinds=["bogus"])
    with pytest.raises(ParameterError, match="trigger"):
        backfill(store, SYSTEM_USER, f"sqlite:///{tmp_path / 'x.sqlite'}", kinds=["trigger"])
    executor = store.add_user(SYSTEM_USER, "exe", "executor", branch_id="urumqi", password="s3cret-pass-1")
    with pytest.raises(AccessDenied, match="back-filling"):
        backfill(store, executor, f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert not (tmp_path / "x.sqlite").exists()


def test_cli_backfill(published, tmp_path, capsys):
    store, _ = published
    url = f"sqlite:///{tmp_path / 'cli-ops.sqlite'}"
    store_url = store.engine.url.render_as_string(hide_password=False)
    assert main(["publish", "backfill", "--to", url, "--store", store_url, "--kind", "credit"]) == 0
    assert "credit" in capsys.readouterr().out
    rows, _, _ = _target_rows(url)
    assert rows["kind"].unique().tolist() == ["credit"]
    assert main(["publish", "backfill", "--store", store_url]) != 0
    assert "--to" in capsys.readouterr().err
