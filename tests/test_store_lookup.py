"""The store's look-up side on SQLite and PostgreSQL: card rows by primary key, the current-version
map and its refresh, tokens (hash only, revoke, list) and the batched audit of API calls."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa
from lookup_fixtures import publish_rows, seed_published
from store_fixtures import *  # noqa: F401,F403 (fixtures)

from workbench.errors import ParameterError
from workbench.store import SYSTEM_USER

_OPS_TABLES = ("published_results", "published_versions", "api_tokens")


@pytest.fixture
def lookup_store(store):
    with store.engine.begin() as conn:       # the shared fixtures empty the campaign tables only
        for name in _OPS_TABLES:
            conn.exec_driver_sql(f"DELETE FROM {name}")
    store.lookup_refresh_seconds = 3600.0    # refreshed only when a test says so
    yield store


def test_rows_of_the_current_versions_only_by_primary_key(lookup_store):
    store = lookup_store
    versions = seed_published(store.engine)
    store.refresh_lookup(force=True)
    rows = store.published_rows(1001)
    assert sorted(r["version_id"] for r in rows) == sorted([versions["target"], versions["credit"]])
    assert {r["msisdn_masked"] for r in rows} == {"138****1001"}
    assert store.published_rows(999_999) == []
    kinds = {v.kind: v for v in store.current_versions().values()}
    assert set(kinds) == {"target", "credit"} and kinds["credit"].valid_to is None
    # a new target version switched current is seen after the refresh, not before
    new = publish_rows(store.engine, "target", [{"subscriber_id": 1001, "branch_id": "urumqi", "score": 0.99}],
                       model_version="m2", valid_from=dt.date(2027, 1, 1))
    assert versions["target"] in {r["version_id"] for r in store.published_rows(1001)}
    store.refresh_lookup(force=True)
    assert {r["version_id"] for r in store.published_rows(1001)} == {new, versions["credit"]}
    assert store.published_rows(1002) == []                      # not in the new target version
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + store._lookup_cache().query.replace("?", "1001")).all()
        assert any("USING INDEX" in str(step) and "(version_id=? AND subscriber_id=?)" in str(step)
                   for step in plan), plan                     # the primary key's index, both columns


def test_tokens_hash_revoke_list_and_the_audit_batch(lookup_store):
    store = lookup_store
    token = store.create_api_token(SYSTEM_USER, "crm", "branch:hami")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM api_tokens WHERE name = 'crm'")).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    caller = store.verify_api_token(token)
    assert (caller.name, caller.branch_id) == ("crm", "hami") and not caller.allows("urumqi")
    assert store.verify_api_token(token + "x") is None and store.verify_api_token("Bearer") is None
    now = dt.datetime.now(dt.timezone.utc)
    written = store.record_api_calls([
        {"at": now, "caller": "crm", "action": "api.card", "status": 200, "subscriber_id": 2001},
        {"at": now, "caller": None, "action": "api.card", "status": 401},
    ])
    assert written == 2
    audit = store.audit_log(SYSTEM_USER, action="api.card")
    assert sorted(audit["user_name"]) == ["api:-", "api:crm"]
    listed = store.api_tokens(SYSTEM_USER)
    assert listed.columns.tolist() == ["name", "scope", "created_at", "created_by", "revoked_at", "last_used_at"]
    assert listed["last_used_at"].notna().all()
    store.revoke_api_token(SYSTEM_USER, "crm")
    assert store.verify_api_token(token) is None
    with pytest.raises(ParameterError, match="was revoked already"):
        store.revoke_api_token(SYSTEM_USER, "crm")
