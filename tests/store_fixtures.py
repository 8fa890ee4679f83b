"""Fixtures of the store tests: a throwaway PostgreSQL server and a fresh store per test.

Test modules use them with ``from store_fixtures import *``.  The server is
started once per test session by ``scripts/pg-test-server.sh`` (or taken from
``$WORKBENCH_TEST_POSTGRES_URL``) and each test gets its own database on it.
Missing PostgreSQL binaries make the tests FAIL with instructions: they are
never skipped.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa
from browser import free_port

from workbench.store import PasswordPolicy, Store, engine_for, upgrade

__all__ = [
    "postgres_url", "_postgres_slot", "_sqlite_slot", "empty_store_url", "store_engine", "store_url", "store",
    "seeded",
    "members_frame", "fresh_database", "BACKENDS", "SPEC", "PASSWORD", "SQLITE_ONLY",
]

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-test-server.sh"
#: Environment variable naming an already running server (skips starting one).
POSTGRES_URL_ENV = "WORKBENCH_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")
#: The backends as fixture parameters: a test on the PostgreSQL one carries the ``postgres`` marker.
BACKEND_PARAMS = (pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres))
#: For tests of input checks that fail before any SQL runs: one backend is enough.
SQLITE_ONLY = pytest.mark.parametrize("store_engine", ["sqlite"], indirect=True)
STORE_TABLES = ("contact_results", "responses", "audit_log", "campaign_members", "campaign_versions", "campaigns",
                "users", "published_results", "published_versions", "api_tokens", "ocs_rules", "app_sessions",
                "sign_in_throttle")
_server: dict[str, str] = {}


def _stop_server() -> None:
    folder = _server.pop("dir", None)
    _server.pop("url", None)
    if folder:
        subprocess.run(["bash", str(SCRIPT), "stop", folder], capture_output=True, text=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _start_server(config: pytest.Config) -> str:
    if "url" in _server:
        return _server["url"]
    if os.environ.get(POSTGRES_URL_ENV):
        _server["url"] = os.environ[POSTGRES_URL_ENV]
        return _server["url"]
    # directly under /tmp: when run as root the server runs as `postgres`, which must reach the folder
    folder = tempfile.mkdtemp(prefix="workbench-pg-", dir="/tmp")
    # each pytest-xdist worker starts its own server, on a port of the worker's own block (browser.free_port)
    proc = subprocess.run(["bash", str(SCRIPT), "start", folder, str(free_port())], capture_output=True, text=True,
                          timeout=180)
    if proc.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        hint = (
            "PostgreSQL server binaries are missing: run `make test` (it installs the apt package "
            "'postgresql'), or `apt-get install -y postgresql`."
            if proc.returncode == 3 else "the throwaway PostgreSQL server did not start."
        )
        pytest.fail(f"{hint}\n{SCRIPT.name} exited {proc.returncode}:\n{proc.stderr.strip()}", pytrace=False)
    _server.update(dir=folder, url=proc.stdout.strip().splitlines()[-1])
    config.add_cleanup(_stop_server)
    return _server["url"]


@pytest.fixture(scope="session")
def postgres_url(request) -> str:
    """SQLAlchemy URL of the session's PostgreSQL server (database ``postgres``)."""
    return _start_server(request.config)


def fresh_database(server_url: str) -> tuple[str, callable]:
    """Create an empty database on the server; return its URL and a function dropping it."""
    name = f"wb_{uuid.uuid4().hex[:12]}"
    admin = engine_for(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


@pytest.fixture(params=BACKEND_PARAMS)
def empty_store_url(request, tmp_path) -> str:
    """URL of an empty database (no schema): a SQLite file, or a new database on the server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    url, drop = fresh_database(request.getfixturevalue("postgres_url"))
    yield url
    drop()


@pytest.fixture(scope="session")
def _postgres_slot(postgres_url):
    """One migrated PostgreSQL database and engine for the session; emptied before each test."""
    url, drop = fresh_database(postgres_url)
    upgrade(url)
    engine = engine_for(url)
    yield engine
    engine.dispose()
    drop()


@pytest.fixture(scope="session")
def _sqlite_slot(tmp_path_factory):
    """A migrated template file, and one engine on a path that each test gets a fresh copy at."""
    folder = tmp_path_factory.mktemp("store")
    template = folder / "template.sqlite"
    maker = engine_for(f"sqlite:///{template}")
    upgrade(maker)
    with maker.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    maker.dispose()
    path = folder / "store.sqlite"
    engine = engine_for(f"sqlite:///{path}")
    yield engine, path, template
    engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    """Delete every row (the append-only triggers are off for this superuser transaction only)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for name in STORE_TABLES:
            conn.exec_driver_sql(f"DELETE FROM {name}")


@pytest.fixture(params=BACKEND_PARAMS)
def store_engine(request) -> sa.Engine:
    """Engine on a migrated, empty store: a fresh SQLite file, or the session's PostgreSQL database emptied.

    The engine lives for the whole session so SQLAlchemy's statement cache stays warm.
    """
    if request.param == "sqlite":
        engine, path, template = request.getfixturevalue("_sqlite_slot")
        engine.dispose()
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(template, path)
        return engine
    engine = request.getfixturevalue("_postgres_slot")
    _empty_tables(engine)
    return engine


@pytest.fixture
def store_url(store_engine) -> str:
    """URL of the migrated, empty store of :func:`store_engine`."""
    return store_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def store(store_engine) -> Store:
    """A store with cheap (still argon2id) password hashing and no progress bars."""
    s = Store(engine=store_engine, migrate=False, password_policy=PasswordPolicy.fast_for_tests(), progress=False)
    yield s
    s.close()


def members_frame() -> pd.DataFrame:
    """Seven members: Urumqi and Hami, two executors in Urumqi, one unassigned row, two controls."""
    return pd.DataFrame({
        "subscriber_id": [101, 102, 103, 104, 105, 106, 107],
        "branch_id": ["urumqi", "urumqi", "urumqi", "urumqi", "hami", "hami", "urumqi"],
        "group": ["target", "target", "target", "target", "target", "control", "control"],
        "score": [0.91, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60],
        "score_band": ["A", "A", "B", "B", "B", "C", "C"],
        "channel": ["outbound_call", "outbound_call", "sms", "outbound_call", "outbound_call", "outbound_call", "sms"],
        "executor": ["ex_u1", "ex_u1", None, "ex_u2", "ex_h", "ex_h", "ex_u1"],
        "reasons": ["reads news on WAP", "sports fan", "", "", "", "", ""],
        "edition": ["news", "sports", "news", "news", "news", "news", "news"],
        "talking_points": ["3 free months", "", "", "", "", "", ""],
        "msisdn_masked": ["138****0101", "138****0102", "138****0103", "138****0104", "139****0105",
                          "139****0106", "138****0107"],
    })


SPEC = {"name": "Mobile newspaper Q1", "product": "mnp_news",
        "goal": {"stable_subscribers": 500, "period_start": "2026-01-01", "period_end": "2026-12-31"},
        "channels": ["outbound_call", "sms"]}
PASSWORD = "correct-horse-9"


@pytest.fixture
def seeded(store):
    """A store with one user of each role and one released campaign of :func:`members_frame`."""
    from workbench.store import SYSTEM_USER

    people = {
        "ana": ("analyst", None), "adm": ("admin", None), "pm": ("province_manager", None),
        "bm_u": ("branch_manager", "urumqi"), "bm_h": ("branch_manager", "hami"),
        "ex_u1": ("executor", "urumqi"), "ex_u2": ("executor", "urumqi"), "ex_h": ("executor", "hami"),
    }
    users = {name: store.add_user(SYSTEM_USER, name, role, branch_id=branch, password=PASSWORD)
             for name, (role, branch) in people.items()}
    release = store.release_campaign(users["ana"], SPEC, members_frame())
    listing = store.worklist(users["ana"], release.campaign_id, include_control=True)
    member = dict(zip(listing["subscriber_id"].tolist(), listing["member_id"].tolist()))
    return SimpleNamespace(store=store, users=users, release=release, member=member,
                           campaign_id=release.campaign_id)
