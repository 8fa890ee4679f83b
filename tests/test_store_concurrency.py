"""Twenty writers at the same moment lose nothing and duplicate nothing (SQLite WAL and PostgreSQL).

Each writer is a thread with its own Store and engine, as twenty Voila kernels
would have; a barrier releases them together.
"""
from __future__ import annotations

import threading

import pandas as pd
import sqlalchemy as sa

from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import PASSWORD, SPEC
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, engine_for

WRITERS = 20


def _setup(store: Store) -> tuple[list, dict, int]:
    ana = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    executors = [store.add_user(SYSTEM_USER, f"ex_{i:02d}", "executor", branch_id="urumqi", password=PASSWORD)
                 for i in range(WRITERS)]
    members = pd.DataFrame({
        "subscriber_id": range(1000, 1000 + WRITERS), "branch_id": ["urumqi"] * WRITERS,
        "group": ["target"] * WRITERS, "channel": ["outbound_call"] * WRITERS,
        "executor": [u.name for u in executors],
    })
    release = store.release_campaign(ana, SPEC, members)
    listing = store.worklist(ana, release.campaign_id)
    member_of = dict(zip(listing["executor"], listing["member_id"]))
    return executors, member_of, release.campaign_id


def test_twenty_simultaneous_writers_lose_nothing_and_duplicate_nothing(store, store_url):
    executors, member_of, campaign_id = _setup(store)
    shared_member = member_of["ex_00"]
    barrier = threading.Barrier(WRITERS)
    outcomes: dict[int, tuple] = {}
    errors: list[BaseException] = []

    def writer(i: int, own: Store) -> None:
        user = executors[i]
        try:
            barrier.wait(timeout=60)
            first = own.record_result(user, member_of[user.name], "reached", client_request_id=f"own-{i}")
            shared = own.record_result(user, shared_member, "call_back", client_request_id="shared-form")
            retry = own.record_result(user, member_of[user.name], "reached", client_request_id=f"own-{i}")
            outcomes[i] = (first, shared, retry)
        except BaseException as exc:  # reported below with the writer's number
            errors.append(exc)

    stores = [Store(engine=engine_for(store_url, pool_size=2), migrate=False,
                    password_policy=PasswordPolicy.fast_for_tests(), progress=False) for _ in range(WRITERS)]
    threads = [threading.Thread(target=writer, args=(i, stores[i])) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.engine.dispose()
    assert not errors, errors
    assert len(outcomes) == WRITERS

    firsts = [outcomes[i][0] for i in range(WRITERS)]
    retries = [outcomes[i][2] for i in range(WRITERS)]
    shared = [outcomes[i][1] for i in range(WRITERS)]
    assert all(r.created for r in firsts)
    assert not any(r.created for r in retries)
    assert [r.result_id for r in retries] == [r.result_id for r in firsts]
    assert sum(r.created for r in shared) == 1
    assert len({r.result_id for r in shared}) == 1

    ana = sa.text("SELECT count(*), count(DISTINCT client_request_id) FROM contact_results")
    with store.engine.connect() as conn:
        rows, distinct = conn.execute(ana).one()
        audit = conn.exec_driver_sql("SELECT count(*) FROM audit_log WHERE action = 'record_result'").scalar()
    assert (rows, distinct, audit) == (WRITERS + 1, WRITERS + 1, WRITERS + 1)
    progress = store.progress(SYSTEM_USER, campaign_id)
    assert progress.iloc[0][["members", "contacted", "reached"]].tolist() == [WRITERS, WRITERS, WRITERS]


def _upgrade_together(url: str, n: int = 4) -> tuple[list, list]:
    """``n`` threads upgrading the store at ``url`` at the same moment: their revisions and errors."""
    from workbench.store import upgrade

    barrier = threading.Barrier(n)
    revisions, errors = [], []

    def start() -> None:
        try:
            barrier.wait(timeout=60)
            revisions.append(upgrade(url))
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return revisions, errors


def test_apps_starting_together_migrate_once(empty_store_url):
    """Several kernels opening a new store at once: one migrates, the others find it done."""
    from workbench.store import head_revision

    revisions, errors = _upgrade_together(empty_store_url)
    assert not errors, errors
    assert revisions == [head_revision()] * 4


def test_simultaneous_new_versions_are_numbered_without_gaps_or_clashes(store, store_url):
    executors, member_of, campaign_id = _setup(store)
    analyst = store.add_user(SYSTEM_USER, "ana2", "analyst", password=PASSWORD)
    barrier = threading.Barrier(5)
    releases, errors = [], []

    def release(i: int, own: Store) -> None:
        try:
            barrier.wait(timeout=60)
            releases.append(own.new_version(analyst, campaign_id, {**SPEC, "revision": i}))
        except BaseException as exc:  # reported below
            errors.append(exc)

    stores = [Store(engine=engine_for(store_url, pool_size=2), migrate=False, progress=False) for _ in range(5)]
    threads = [threading.Thread(target=release, args=(i, stores[i])) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.engine.dispose()
    assert not errors, errors
    assert sorted(r.version for r in releases) == [2, 3, 4, 5, 6]
    assert all(r.member_count == WRITERS for r in releases)
    assert store.versions(SYSTEM_USER, campaign_id)["member_count"].tolist() == [WRITERS] * 6


def test_a_new_sqlite_file_opened_by_four_at_once_never_reports_locked(tmp_path):
    """Switching a new file to WAL raced ("database is locked" in about one start in eight): twenty starts."""
    from workbench.store import head_revision

    for attempt in range(20):
        revisions, errors = _upgrade_together(f"sqlite:///{tmp_path / f'store{attempt}.sqlite'}")
        assert not errors, (attempt, errors)
        assert revisions == [head_revision()] * 4
