"""Store.record_results: many contact results in one transaction, on SQLite and PostgreSQL.

Same access rules as record_result, idempotent on client_request_id, one audit row per batch,
nothing written when any row is refused.
"""
from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
import pytest

from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import SQLITE_ONLY
from workbench.errors import AccessDenied, DataValidationError, ParameterError
from workbench.store import SYSTEM_USER, MAX_NOTE_LENGTH, PasswordPolicy, Store, engine_for
from workbench.store import results as results_module
from workbench.store.repository import RECORDED_BATCH_COLUMNS

PAST = pd.Timestamp("2026-11-03 02:00")   # naive = UTC


def _batch(seeded, rows) -> pd.DataFrame:
    """rows: (subscriber_id, result, minutes after PAST, request id, executor)."""
    return pd.DataFrame({
        "member_id": [seeded.member[s] for s, *_ in rows],
        "result": [r for _, r, *_ in rows],
        "contacted_at": [PAST + pd.Timedelta(minutes=m) for _, _, m, *_ in rows],
        "client_request_id": [q for *_, q, _ in rows],
        "executor": [e for *_, e in rows],
    })


def _count(store, sql: str) -> int:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


def _results(seeded) -> pd.DataFrame:
    return seeded.store.contact_results(seeded.users["ana"], seeded.campaign_id)


def test_admin_records_a_batch_on_the_executors_behalf_with_one_audit_row(seeded):
    s = seeded.store
    batch = _batch(seeded, [(101, "not_reachable", 0, "d-1", "ex_u1"), (101, "accepted", 60, "d-2", "ex_u1"),
                            (104, "refused", 5, "d-3", "ex_u2"), (105, "reached", 7, "d-4", "ex_h")])
    batch["note"] = ["", "3 free months", "", "busy"]
    got = s.record_results(seeded.users["adm"], batch)
    assert list(got.columns) == list(RECORDED_BATCH_COLUMNS)
    assert got["created"].tolist() == [True] * 4
    assert got["member_id"].tolist() == batch["member_id"].tolist()
    stored = _results(seeded).set_index("client_request_id")
    assert stored.loc[got["client_request_id"], "result_id"].tolist() == got["result_id"].tolist()
    assert stored.loc[["d-1", "d-3", "d-4"], "executor"].tolist() == ["ex_u1", "ex_u2", "ex_h"]
    assert stored.loc["d-2", "note"] == "3 free months" and stored.loc["d-2", "result"] == "accepted"
    assert stored.loc["d-2", "contacted_at"] == pd.Timestamp("2026-11-03 03:00", tz="UTC")
    audit = s.audit_log(seeded.users["ana"], action="record_results")
    assert len(audit) == 1 and audit["user_name"].iloc[0] == "adm"
    assert int(audit["campaign_id"].iloc[0]) == seeded.campaign_id
    details = audit["details"].iloc[0]
    assert {k: details[k] for k in ("rows", "created", "already_stored", "members", "campaigns")} == \
        {"rows": 4, "created": 4, "already_stored": 0, "members": 3, "campaigns": [seeded.campaign_id]}
    assert details["results"] == {"reached": 1, "not_reachable": 1, "refused": 1, "accepted": 1}
    assert details["executors"] == ["ex_h", "ex_u1", "ex_u2"]
    assert details["contacted_from"].startswith("2026-11-03T02:00") and details["contacted_to"].startswith(
        "2026-11-03T03:00")
    assert s.audit_log(seeded.users["ana"], action="record_result").empty   # no per-row audit
    progress = s.progress(seeded.users["pm"], seeded.campaign_id)
    assert progress.iloc[0][["contacted", "reached", "accepted"]].tolist() == [3, 3, 1]   # refused is an answer


def test_a_retried_batch_records_nothing_twice(seeded):
    s, adm = seeded.store, seeded.users["adm"]
    first = s.record_results(adm, _batch(seeded, [(101, "reached", 0, "r-1", "ex_u1"), (102, "refused", 1, "r-2",
                                                                                        "ex_u1")]))
    again = s.record_results(adm, _batch(seeded, [(101, "reached", 0, "r-1", "ex_u1"), (102, "refused", 1, "r-2",
                                                                                        "ex_u1"),
                                                  (104, "accepted", 2, "r-3", "ex_u2")]))
    assert again["created"].tolist() == [False, False, True]
    assert again["result_id"].tolist()[:2] == first["result_id"].tolist()
    assert _count(s, "SELECT count(*) FROM contact_results") == 3
    audit = s.audit_log(seeded.users["ana"], action="record_results")
    assert [(d["created"], d["already_stored"]) for d in audit["details"]] == [(1, 2), (2, 0)]   # newest first


def test_a_request_id_used_for_another_member_is_refused_and_nothing_is_written(seeded):
    s, adm = seeded.store, seeded.users["adm"]
    s.record_result(adm, seeded.member[101], "reached", client_request_id="form-7")
    batch = _batch(seeded, [(104, "reached", 0, "new-1", "ex_u2"), (102, "reached", 0, "form-7", "ex_u1")])
    with pytest.raises(ParameterError, match=r"'form-7' was already used for member .* got it again for member"):
        s.record_results(adm, batch)
    assert _count(s, "SELECT count(*) FROM contact_results") == 1


def test_scope_rules_are_those_of_record_result(seeded):
    s, u = seeded.store, seeded.users
    own = _batch(seeded, [(101, "reached", 0, "e-1", "ex_u1")])
    own_branch = _batch(seeded, [(103, "reached", 0, "e-2", None)])          # unassigned row of Urumqi
    assert s.record_results(u["ex_u1"], own)["created"].all()
    assert s.record_results(u["ex_u1"], own_branch)["created"].all()
    assert _results(seeded).set_index("client_request_id").loc["e-2", "executor"] == "ex_u1"   # acting user
    with pytest.raises(AccessDenied, match=r"records results only on their own behalf; 1 rows name other"):
        s.record_results(u["ex_u1"], _batch(seeded, [(104, "reached", 0, "e-3", "ex_u2")]))
    with pytest.raises(AccessDenied, match=r"1 members, e\.g\. \[\d+\], are not in the scope of user 'ex_u1'"):
        s.record_results(u["ex_u1"], _batch(seeded, [(102, "reached", 0, "e-4", "ex_u1"),
                                                     (105, "reached", 0, "e-5", "ex_u1")]))
    assert s.record_results(u["bm_h"], _batch(seeded, [(105, "refused", 0, "e-6", "ex_h")]))["created"].all()
    with pytest.raises(AccessDenied, match="not in the scope of user 'bm_h'"):
        s.record_results(u["bm_h"], _batch(seeded, [(101, "refused", 0, "e-7", "ex_u1")]))
    for role_user in ("ana", "pm"):
        with pytest.raises(AccessDenied, match=r"recording contact results is allowed for roles"):
            s.record_results(u[role_user], _batch(seeded, [(101, "reached", 0, "e-8", "ex_u1")]))
    assert sorted(_results(seeded)["client_request_id"]) == ["e-1", "e-2", "e-6"]
    s.set_active(SYSTEM_USER, "ex_u1", False)
    with pytest.raises(AccessDenied, match="unknown or deactivated"):
        s.record_results(u["ex_u1"], _batch(seeded, [(101, "reached", 0, "e-9", "ex_u1")]))


def test_a_refused_row_refuses_the_whole_batch(seeded):
    s, adm = seeded.store, seeded.users["adm"]
    with pytest.raises(ParameterError, match=r"1 members, e\.g\. \[\d+\], are in the 'control' group"):
        s.record_results(adm, _batch(seeded, [(101, "reached", 0, "c-1", "ex_u1"), (107, "reached", 0, "c-2",
                                                                                    "ex_u1")]))
    bad = _batch(seeded, [(101, "reached", 0, "c-3", "ex_u1")]).assign(member_id=[10**9])
    with pytest.raises(ParameterError, match=r"names 1 members that do not exist, e\.g\. \[1000000000\]"):
        s.record_results(adm, bad)
    with pytest.raises(AccessDenied, match="not in the scope of user 'ex_u1'"):
        s.record_results(seeded.users["ex_u1"], bad)
    s.close_campaign(seeded.users["ana"], seeded.campaign_id)
    with pytest.raises(ParameterError, match="belong to a closed campaign"):
        s.record_results(adm, _batch(seeded, [(101, "reached", 0, "c-4", "ex_u1")]))
    assert _count(s, "SELECT count(*) FROM contact_results") == 0
    assert s.audit_log(seeded.users["ana"], action="record_results").empty


def test_defaults_for_time_request_id_and_executor(seeded):
    s = seeded.store
    before = dt.datetime.now(dt.timezone.utc)
    got = s.record_results(seeded.users["bm_u"], pd.DataFrame({"member_id": [seeded.member[103]],  # unassigned
                                                               "result": ["call_back"]}))
    row = _results(seeded).iloc[0]
    assert row["executor"] == "bm_u" and row["note"] == ""
    assert len(row["client_request_id"]) == 32 and got["client_request_id"].iloc[0] == row["client_request_id"]
    assert before - dt.timedelta(seconds=1) <= row["contacted_at"] <= dt.datetime.now(dt.timezone.utc)
    empty = s.record_results(seeded.users["bm_u"], pd.DataFrame({"member_id": [], "result": []}))
    assert empty.empty and list(empty.columns) == list(RECORDED_BATCH_COLUMNS)
    assert len(s.audit_log(seeded.users["ana"], action="record_results")) == 1


def test_aware_times_are_kept_in_utc(seeded):
    local = pd.Timestamp("2026-11-03 10:30", tz="Asia/Shanghai")
    batch = pd.DataFrame({"member_id": [seeded.member[101]], "result": ["reached"], "contacted_at": [local],
                          "client_request_id": ["tz-1"], "executor": ["ex_u1"]})
    seeded.store.record_results(seeded.users["ex_u1"], batch)
    assert _results(seeded)["contacted_at"].iloc[0] == pd.Timestamp("2026-11-03 02:30", tz="UTC")


def test_large_batches_are_read_and_written_in_chunks(seeded, monkeypatch):
    s, adm = seeded.store, seeded.users["adm"]
    monkeypatch.setattr(results_module, "_IN_CHUNK", 2)
    s.chunk_size = 3
    targets = [101, 102, 103, 104, 105]
    rows = [(sid, "not_reachable" if k == 0 else "reached", 10 * k + i, f"b-{sid}-{k}", None)
            for k in range(2) for i, sid in enumerate(targets)]
    got = s.record_results(adm, _batch(seeded, rows))
    assert got["created"].all() and got["result_id"].is_unique
    stored = _results(seeded)
    assert len(stored) == 10 and stored["executor"].eq("adm").all()
    assert dict(zip(stored["client_request_id"], stored["result_id"])) == dict(
        zip(got["client_request_id"], got["result_id"]))
    assert s.record_results(adm, _batch(seeded, rows))["created"].sum() == 0


def test_simultaneous_uploads_of_one_batch_record_each_row_once(seeded, store_url):
    batch = _batch(seeded, [(sid, "reached", i, f"p-{sid}", None) for i, sid in enumerate([101, 102, 103, 104, 105])])
    uploads = 4
    barrier = threading.Barrier(uploads)
    outcomes, errors = [], []
    stores = [Store(engine=engine_for(store_url, pool_size=2), migrate=False,
                    password_policy=PasswordPolicy.fast_for_tests(), progress=False) for _ in range(uploads)]

    def upload(own: Store) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes.append(own.record_results(seeded.users["adm"], batch))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(own,)) for own in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for own in stores:
        own.engine.dispose()
    assert not errors, errors
    assert sum(int(o["created"].sum()) for o in outcomes) == len(batch)
    assert len({tuple(o["result_id"]) for o in outcomes}) == 1
    assert _count(seeded.store, "SELECT count(*) FROM contact_results") == len(batch)


@SQLITE_ONLY
def test_every_bad_row_is_listed_before_anything_is_read(seeded):
    s, adm = seeded.store, seeded.users["adm"]
    future = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=2)
    batch = pd.DataFrame({
        "member_id": [seeded.member[101], "x", seeded.member[102], seeded.member[104]],
        "result": ["reached", "reached", "maybe", "reached"],
        "contacted_at": [PAST, PAST, future, "not a time"],
        "note": ["", "n" * (MAX_NOTE_LENGTH + 1), "", ""],
        "client_request_id": ["same", "same", "ok-1", "q" * 65],
        "executor": ["ex_u1", "ex_u1", "e" * 65, "ex_u2"],
    })
    with pytest.raises(DataValidationError, match=r"contact_results: 8 check\(s\) failed") as info:
        s.record_results(adm, batch)
    checks = {(p["column"], p["check"]) for p in info.value.problems}
    assert checks == {
        ("member_id", "not null integer"), ("result", "isin ['reached', 'not_reachable', 'refused', 'accepted', "
                                                      "'call_back']"),
        ("note", f"at most {MAX_NOTE_LENGTH} characters"), ("contacted_at", "a date and time"),
        ("contacted_at", "not in the future"), ("client_request_id", "1 to 64 characters"),
        ("client_request_id", "unique within the batch"), ("executor", "text of at most 64 characters"),
    }
    with pytest.raises(ParameterError, match=r"must have the columns \['member_id', 'result'\].*missing \['result'\]"):
        s.record_results(adm, pd.DataFrame({"member_id": [1]}))
    with pytest.raises(ParameterError, match="'frame' parameter must be a pandas DataFrame"):
        s.record_results(adm, [{"member_id": 1, "result": "reached"}])
    with pytest.raises(DataValidationError, match="contacted_at: a date and time failed for 1 rows"):
        s.record_results(adm, pd.DataFrame({"member_id": [seeded.member[101]], "result": ["reached"],
                                            "contacted_at": [12345]}))
    assert _count(s, "SELECT count(*) FROM contact_results") == 0
