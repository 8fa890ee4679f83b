"""The campaign store on SQLite and PostgreSQL: migrations, release, immutability, results, audit, passwords."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import PASSWORD, SPEC, SQLITE_ONLY, members_frame
from workbench.errors import AccessDenied, DataValidationError, ParameterError
from workbench.store import (
    MEMBER_COLUMNS, PROGRESS_COLUMNS, SYSTEM_USER, WORKLIST_COLUMNS, ImmutableVersionError, PasswordPolicy,
    Store, current_revision, default_url, engine_for, head_revision, spec_hash, upgrade,
)
from workbench.store import campaigns as campaigns_module
from workbench.store.models import AuditEntry, Base, CampaignMember, CampaignVersion, ContactResult, StoreSession
from workbench.store.db import SQLITE_BUSY_TIMEOUT_MS

TABLE_NAMES = {"users", "campaigns", "campaign_versions", "campaign_members", "contact_results", "responses",
               "audit_log"}


# ---------------------------------------------------------------- connections
def test_default_url_is_sqlite_under_runs_unless_env(monkeypatch):
    monkeypatch.delenv("WORKBENCH_STORE_URL", raising=False)
    assert default_url() == "sqlite:///runs/store.sqlite"
    monkeypatch.setenv("WORKBENCH_STORE_URL", "postgresql+psycopg://u@127.0.0.1:5/x")
    assert default_url() == "postgresql+psycopg://u@127.0.0.1:5/x"


def test_engine_for_sqlite_sets_wal_busy_timeout_and_foreign_keys(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'sub' / 's.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS > 0
    engine.dispose()
    assert (tmp_path / "sub" / "s.sqlite").is_file()


def test_engine_for_postgresql_defaults_to_psycopg3():
    assert engine_for("postgresql://u@127.0.0.1:1/x").url.drivername == "postgresql+psycopg"


def test_engine_for_rejects_other_databases():
    with pytest.raises(ParameterError, match=r"'url' parameter must be a SQLite or PostgreSQL URL.*mysql"):
        engine_for("mysql://u@127.0.0.1/x")


# ----------------------------------------------------------------- migrations
def test_migrations_make_the_schema_and_are_idempotent(empty_store_url):
    store_url = empty_store_url
    engine = engine_for(store_url)
    assert current_revision(engine) is None
    assert upgrade(engine) == head_revision()
    assert upgrade(engine) == head_revision()
    assert TABLE_NAMES <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_store_url):
    store_url = empty_store_url
    engine = engine_for(store_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_removes_everything_and_upgrade_restores(empty_store_url):
    store_url = empty_store_url
    from alembic import command

    from workbench.store.db import _alembic_config

    engine = engine_for(store_url)
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "base")
    assert not TABLE_NAMES & set(sa.inspect(engine).get_table_names())
    assert upgrade(engine) == head_revision()
    engine.dispose()


# -------------------------------------------------------------------- release
def test_release_stores_spec_hash_and_every_member(seeded):
    s, ana = seeded.store, seeded.users["ana"]
    assert seeded.release.version == 1
    assert seeded.release.member_count == 7
    assert seeded.release.spec_hash == spec_hash(SPEC)
    assert s.spec(ana, seeded.campaign_id) == SPEC
    listing = s.worklist(ana, seeded.campaign_id, include_control=True)
    assert list(listing.columns) == list(WORKLIST_COLUMNS)
    got = listing.sort_values("subscriber_id").reset_index(drop=True)
    want = members_frame()
    for col in MEMBER_COLUMNS:
        assert got[col].tolist() == want[col].tolist(), col
    campaigns = s.visible_campaigns(ana)
    assert campaigns[["name", "product", "owner", "status", "version", "member_count"]].values.tolist() == [
        ["Mobile newspaper Q1", "mnp_news", "ana", "released", 1, 7]
    ]


def test_spec_hash_ignores_key_order_but_not_values():
    assert spec_hash({"a": 1, "b": [1, 2]}) == spec_hash({"b": [1, 2], "a": 1})
    assert spec_hash({"a": 1}) != spec_hash({"a": 2})


def test_release_is_all_or_nothing(store, monkeypatch):
    ana = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    store.chunk_size = 2
    real = campaigns_module._member_rows
    calls = []

    def failing(frame, version_id, start, stop):
        calls.append(start)
        if start >= 4:
            raise RuntimeError("disk full while writing chunk 3")
        return real(frame, version_id, start, stop)

    monkeypatch.setattr(campaigns_module, "_member_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        store.release_campaign(ana, SPEC, members_frame())
    assert calls == [0, 2, 4]  # two chunks were written before the failure
    assert store.visible_campaigns(ana).empty
    with store.engine.connect() as conn:
        for name in ("campaigns", "campaign_versions", "campaign_members"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() == 0, name
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_log WHERE action = 'release'").scalar() == 0


def test_release_in_chunks_inserts_every_row(store):
    ana = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    store.chunk_size = 3
    n = 1000
    members = pd.DataFrame({
        "subscriber_id": range(1, n + 1), "branch_id": ["urumqi", "hami"] * (n // 2),
        "group": ["target"] * n, "channel": ["sms"] * n, "score": [i / n for i in range(n)],
    })
    release = store.release_campaign(ana, SPEC, members)
    assert release.member_count == n
    listing = store.worklist(ana, release.campaign_id)
    assert sorted(listing["subscriber_id"].tolist()) == list(range(1, n + 1))
    assert listing["executor"].isna().all()


def test_release_needs_analyst_or_admin(seeded):
    with pytest.raises(AccessDenied, match=r"releasing a campaign is allowed for roles \['analyst', 'admin'\]"):
        seeded.store.release_campaign(seeded.users["pm"], SPEC, members_frame())


@SQLITE_ONLY
def test_release_rejects_a_spec_without_name_or_product(seeded):
    with pytest.raises(ParameterError, match="must give a 'name' and a 'product'"):
        seeded.store.release_campaign(seeded.users["ana"], {"name": "x"}, members_frame())


@SQLITE_ONLY
def test_release_rejects_a_list_missing_columns(seeded):
    with pytest.raises(ParameterError, match=r"must have the columns .*missing \['channel'\]"):
        seeded.store.release_campaign(seeded.users["ana"], SPEC, members_frame().drop(columns="channel"))


@SQLITE_ONLY
def test_release_lists_every_problem_of_a_bad_list(seeded):
    bad = members_frame()
    bad.loc[1, "subscriber_id"] = 101
    bad.loc[2, "branch_id"] = "atlantis"
    bad.loc[3, "channel"] = "carrier_pigeon"
    bad.loc[4, "msisdn_masked"] = "13800000105"
    with pytest.raises(DataValidationError, match="campaign_members: 4 check") as info:
        seeded.store.release_campaign(seeded.users["ana"], SPEC, bad)
    found = {(p["column"], p["count"]) for p in info.value.problems}
    assert found == {("subscriber_id", 2), ("branch_id", 1), ("channel", 1), ("msisdn_masked", 1)}


# --------------------------------------------------------------- immutability
def test_orm_refuses_to_change_released_members(seeded):
    with Session(seeded.store.engine) as plain:  # a plain session still meets the database triggers
        member = plain.get(CampaignMember, seeded.member[101])
        member.executor = "someone_else"
        with pytest.raises(IntegrityError, match="members of a released version are immutable"):
            plain.commit()
    with StoreSession(seeded.store.engine) as session:
        member = session.get(CampaignMember, seeded.member[101])
        member.executor = "someone_else"
        with pytest.raises(ImmutableVersionError, match="belongs to a released version"):
            session.commit()
    with StoreSession(seeded.store.engine) as session:
        session.delete(session.get(CampaignMember, seeded.member[102]))
        with pytest.raises(ImmutableVersionError, match="belongs to a released version"):
            session.commit()
    with StoreSession(seeded.store.engine) as session:
        session.add(CampaignMember(campaign_version_id=seeded.release.version_id, subscriber_id=999,
                                   branch_id="urumqi", group="target", channel="sms"))
        with pytest.raises(ImmutableVersionError, match="belongs to a released version"):
            session.commit()


@pytest.mark.parametrize("statement", [
    "UPDATE campaign_members SET executor = 'x' WHERE id = {m}",
    "DELETE FROM campaign_members WHERE id = {m}",
    "INSERT INTO campaign_members (campaign_version_id, subscriber_id, branch_id, \"group\", channel) "
    "VALUES ({v}, 999, 'urumqi', 'target', 'sms')",
])
def test_database_refuses_raw_sql_on_released_members(seeded, statement):
    with seeded.store.engine.connect() as conn:
        with pytest.raises(IntegrityError, match="members of a released version are immutable"):
            conn.exec_driver_sql(statement.format(m=seeded.member[101], v=seeded.release.version_id))
        conn.rollback()
    assert seeded.store.worklist(seeded.users["ana"], seeded.campaign_id, include_control=True).shape[0] == 7


def test_released_spec_cannot_change(seeded):
    with StoreSession(seeded.store.engine) as session:
        version = session.get(CampaignVersion, seeded.release.version_id)
        version.spec = {"name": "changed", "product": "x"}
        with pytest.raises(ImmutableVersionError, match="was released at .* cannot change"):
            session.commit()
    with seeded.store.engine.connect() as conn:
        with pytest.raises(IntegrityError, match="a released version is immutable"):
            conn.exec_driver_sql(f"UPDATE campaign_versions SET spec_hash = 'x' WHERE id = {seeded.release.version_id}")
        conn.rollback()
        with pytest.raises(IntegrityError, match="a released version is immutable"):
            conn.exec_driver_sql(f"DELETE FROM campaign_versions WHERE id = {seeded.release.version_id}")
        conn.rollback()


def test_changing_the_plan_makes_a_new_version_and_keeps_the_old(seeded):
    s, ana = seeded.store, seeded.users["ana"]
    new_spec = {**SPEC, "channels": ["sms"]}
    reassigned = members_frame()
    reassigned.loc[reassigned["subscriber_id"] == 103, "executor"] = "ex_u2"
    v2 = s.new_version(ana, seeded.campaign_id, new_spec, reassigned)
    assert (v2.version, v2.member_count, v2.spec_hash) == (2, 7, spec_hash(new_spec))
    v3 = s.new_version(ana, seeded.campaign_id, {**new_spec, "note": "same list"})
    assert (v3.version, v3.member_count) == (3, 7)
    assert s.spec(ana, seeded.campaign_id, version=1) == SPEC
    assert s.spec(ana, seeded.campaign_id) == {**new_spec, "note": "same list"}
    old = s.worklist(ana, seeded.campaign_id, version=1)
    new = s.worklist(ana, seeded.campaign_id)
    assert old.loc[old["subscriber_id"] == 103, "executor"].isna().all()
    assert new.loc[new["subscriber_id"] == 103, "executor"].tolist() == ["ex_u2"]
    assert set(new["member_id"]).isdisjoint(old["member_id"])
    assert s.versions(ana, seeded.campaign_id)["version"].tolist() == [1, 2, 3]


def test_contacts_carry_over_to_the_next_version(seeded):
    s = seeded.store
    s.record_result(seeded.users["ex_u1"], seeded.member[101], "accepted", client_request_id="r-1")
    s.new_version(seeded.users["ana"], seeded.campaign_id, {**SPEC, "v": 2})
    row = s.worklist(seeded.users["ex_u1"], seeded.campaign_id).set_index("subscriber_id").loc[101]
    assert (row["version"], row["contacts"], row["last_result"]) == (2, 1, "accepted")
    total = s.progress(seeded.users["ana"], seeded.campaign_id).iloc[0]
    assert (total["contacted"], total["accepted"]) == (1, 1)


def test_new_version_of_a_closed_campaign_is_refused(seeded):
    s, ana = seeded.store, seeded.users["ana"]
    s.close_campaign(ana, seeded.campaign_id)
    with pytest.raises(ParameterError, match="is 'closed'; a new version needs a released campaign"):
        s.new_version(ana, seeded.campaign_id, SPEC)
    with pytest.raises(ParameterError, match="is closed; results are no longer accepted"):
        s.record_result(seeded.users["ex_u1"], seeded.member[101], "reached")


def test_a_draft_can_change_until_it_is_released(store):
    ana = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    pm = store.add_user(SYSTEM_USER, "pm", "province_manager", password=PASSWORD)
    cid = store.save_draft(ana, {"name": "draft", "product": "mnp_news"})
    assert store.save_draft(ana, {"name": "draft 2", "product": "mnp_news"}, campaign_id=cid) == cid
    assert store.visible_campaigns(ana)["status"].tolist() == ["draft"]
    assert store.visible_campaigns(pm).empty
    with pytest.raises(ParameterError, match="has no released version"):
        store.worklist(ana, cid)
    release = store.release_campaign(ana, SPEC, members_frame(), campaign_id=cid)
    assert (release.campaign_id, release.version) == (cid, 1)
    assert store.visible_campaigns(pm)["name"].tolist() == [SPEC["name"]]
    with pytest.raises(ParameterError, match="not a draft; use new_version"):
        store.save_draft(ana, SPEC, campaign_id=cid)


# -------------------------------------------------------------------- results
def test_retried_request_is_recorded_once(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    first = s.record_result(ex, seeded.member[101], "call_back", "after 18:00", client_request_id="req-42")
    again = s.record_result(ex, seeded.member[101], "call_back", "after 18:00", client_request_id="req-42")
    assert first.created and not again.created
    assert again.result_id == first.result_id
    results = s.contact_results(seeded.users["ana"], seeded.campaign_id)
    assert results["client_request_id"].tolist() == ["req-42"]
    audit = s.audit_log(seeded.users["ana"], action="record_result")
    assert len(audit) == 1


def test_request_id_reused_for_another_member_is_refused(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    s.record_result(ex, seeded.member[101], "reached", client_request_id="req-7")
    with pytest.raises(ParameterError, match="'req-7' was already used for member"):
        s.record_result(ex, seeded.member[102], "reached", client_request_id="req-7")


def test_results_are_append_only(seeded):
    seeded.store.record_result(seeded.users["ex_u1"], seeded.member[101], "refused", client_request_id="q")
    with seeded.store.engine.connect() as conn:
        with pytest.raises(IntegrityError, match="contact_results: recorded results are append-only"):
            conn.exec_driver_sql("UPDATE contact_results SET result = 'accepted'")
        conn.rollback()
        with pytest.raises(IntegrityError, match="audit_log: the audit log is append-only"):
            conn.exec_driver_sql("DELETE FROM audit_log")
        conn.rollback()


@SQLITE_ONLY
@pytest.mark.parametrize("kwargs, message", [
    ({"result": "maybe"}, r"'result' parameter must be one of \['reached'"),
    ({"note": "x" * 2001}, r"'note' parameter must be a string of at most 2000 characters"),
    ({"contacted_at": dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc)}, "'contacted_at' parameter must lie between"),
    ({"client_request_id": "x" * 65}, "'client_request_id' parameter must be 1 to 64 characters"),
])
def test_record_result_rejects_bad_input(seeded, kwargs, message):
    args = {"result": "reached", **kwargs}
    with pytest.raises(ParameterError, match=message):
        seeded.store.record_result(seeded.users["ex_u1"], seeded.member[101], **args)


def test_control_group_members_must_not_be_contacted(seeded):
    with pytest.raises(ParameterError, match="in the 'control' group, which must not be contacted"):
        seeded.store.record_result(seeded.users["ex_u1"], seeded.member[107], "reached")
    assert 107 not in seeded.store.worklist(seeded.users["ex_u1"], seeded.campaign_id)["subscriber_id"].tolist()


def test_contacted_at_is_kept_in_utc(seeded):
    s = seeded.store
    local = dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=6)))  # Urumqi time
    s.record_result(seeded.users["ex_u1"], seeded.member[101], "reached", contacted_at=local)
    got = s.contact_results(seeded.users["ana"], seeded.campaign_id)["contacted_at"].iloc[0]
    assert got == pd.Timestamp("2026-03-01 04:30", tz="UTC")


def test_progress_by_branch_channel_and_executor(seeded):
    s, u = seeded.store, seeded.users
    s.record_result(u["ex_u1"], seeded.member[101], "not_reachable", client_request_id="a")
    s.record_result(u["ex_u1"], seeded.member[101], "accepted", client_request_id="b")
    s.record_result(u["ex_u1"], seeded.member[102], "not_reachable", client_request_id="c")
    s.record_result(u["ex_h"], seeded.member[105], "refused", client_request_id="d")
    got = s.progress(u["pm"], seeded.campaign_id)
    assert list(got.columns) == list(PROGRESS_COLUMNS)
    table = {(r.dimension, r.key): (r.members, r.contacted, r.reached, r.accepted) for r in got.itertuples()}
    assert table == {
        ("total", "total"): (5, 3, 2, 1),
        ("branch", "hami"): (1, 1, 1, 0), ("branch", "urumqi"): (4, 2, 1, 1),
        ("channel", "outbound_call"): (4, 3, 2, 1), ("channel", "sms"): (1, 0, 0, 0),
        ("executor", "ex_h"): (1, 1, 1, 0), ("executor", "ex_u1"): (2, 2, 1, 1),
        ("executor", "ex_u2"): (1, 0, 0, 0), ("executor", None): (1, 0, 0, 0),
    }
    total = got.iloc[0]
    assert total["contacted_rate"] == pytest.approx(3 / 5)
    assert total["accepted_rate"] == pytest.approx(1 / 5)
    mine = s.progress(u["ex_u1"], seeded.campaign_id)
    assert mine.iloc[0][["members", "contacted", "accepted"]].tolist() == [2, 2, 1]


def test_worklist_and_progress_name_executors_by_display_name_within_the_users_scope(store):
    """Branch staff know each other by name: the demo accounts' display names ride along with the logins
    (``executor`` / ``key`` stay the login); an empty display name or a user who is gone shows the login; a
    name two executors share gets the login in brackets, only where both are in sight."""
    from workbench.apps.demo import DEMO_USERS, ensure_demo_users

    ensure_demo_users(store, echo=False)
    shown = {u.name: u.display_name for u in DEMO_USERS}
    users = {u.name: store.authenticate(u.name, u.password) for u in DEMO_USERS}
    for name, branch, display in (("zw_u", "urumqi", "张伟"), ("zw_h", "hami", "张伟"), ("plain_u", "urumqi", "")):
        store.add_user(SYSTEM_USER, name, "executor", password=PASSWORD, branch_id=branch, display_name=display)
    members = members_frame()
    members["executor"] = ["urumqi_exec1", "urumqi_exec2", None, "gone_u", "hami_exec1", "hami_exec1", "zw_u"]
    members["group"] = ["target"] * 5 + ["control"] + ["target"]
    extra = members.iloc[[4, 0]].assign(subscriber_id=[108, 109], executor=["zw_h", "plain_u"], group="target")
    cid = store.release_campaign(users["analyst"], SPEC, pd.concat([members, extra])).campaign_id

    def names(frame, login="executor"):
        return {k if isinstance(k, str) else None: v for k, v in zip(frame[login], frame["executor_name"])}

    manager = store.worklist(users["urumqi_manager"], cid)
    assert list(manager.columns) == list(WORKLIST_COLUMNS)
    assert names(manager) == {"urumqi_exec1": shown["urumqi_exec1"], "urumqi_exec2": shown["urumqi_exec2"],
                              None: None, "gone_u": "gone_u", "zw_u": "张伟", "plain_u": "plain_u"}
    province = names(store.worklist(users["province_manager"], cid))
    assert province["zw_u"] == "张伟 (zw_u)" and province["zw_h"] == "张伟 (zw_h)"
    assert province["hami_exec1"] == shown["hami_exec1"]
    with pytest.raises(AccessDenied):          # the analyst may not list users, yet reads the names of the list
        store.list_users(users["analyst"])
    assert names(store.worklist(users["analyst"], cid)) == province
    assert names(store.export_list(users["urumqi_manager"], cid)) == names(manager)
    own = store.worklist(users["urumqi_exec1"], cid)
    assert names(own) == {"urumqi_exec1": shown["urumqi_exec1"]}

    progress = store.progress(users["urumqi_manager"], cid)
    assert list(progress.columns) == list(PROGRESS_COLUMNS)
    rows = progress[progress["dimension"] == "executor"]
    assert names(rows, "key") == names(manager)
    assert progress.loc[progress["dimension"] != "executor", "executor_name"].isna().all()
    assert names(store.progress(users["province_manager"], cid).query("dimension == 'executor'"), "key")["zw_h"] \
        == "张伟 (zw_h)"


# ---------------------------------------------------------------------- audit
def test_export_is_audit_logged_with_its_filters(seeded):
    s, bm = seeded.store, seeded.users["bm_u"]
    rows = s.export_list(bm, seeded.campaign_id, channel="outbound_call", purpose="dialler upload")
    assert sorted(rows["subscriber_id"].tolist()) == [101, 102, 104]
    audit = s.audit_log(seeded.users["pm"], action="export")
    assert audit["user_name"].tolist() == ["bm_u"]
    assert audit["campaign_id"].tolist() == [seeded.campaign_id]
    details = audit["details"].iloc[0]
    assert details["rows"] == 3 and details["channel"] == "outbound_call" and details["purpose"] == "dialler upload"


def test_result_write_and_its_audit_entry_share_one_transaction(seeded):
    s = seeded.store
    with pytest.raises(AccessDenied):
        s.record_result(seeded.users["ex_h"], seeded.member[101], "accepted")
    assert s.audit_log(seeded.users["pm"], action="record_result").empty
    done = s.record_result(seeded.users["ex_h"], seeded.member[105], "accepted", client_request_id="z")
    audit = s.audit_log(seeded.users["pm"], action="record_result")
    assert audit["details"].iloc[0]["result_id"] == done.result_id
    assert audit["user_name"].tolist() == ["ex_h"]
    with s.engine.connect() as conn:
        n_results = conn.execute(sa.select(sa.func.count()).select_from(ContactResult)).scalar()
        n_audit = conn.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "record_result")).scalar()
    assert n_results == n_audit == 1


def test_release_and_sign_in_are_audit_logged(seeded):
    s = seeded.store
    assert s.authenticate("ex_u1", PASSWORD) is not None
    assert s.authenticate("ex_u1", "wrong-password") is None
    log = s.audit_log(seeded.users["adm"])
    actions = log["action"].tolist()
    assert actions[:3] == ["login_failed", "login", "release"]
    assert log["details"].iloc[0]["reason"] == "wrong password"


# ------------------------------------------------------------------ passwords
def test_passwords_are_stored_as_argon2_hashes_and_verify(seeded):
    with seeded.store.engine.connect() as conn:
        hashes = [r[0] for r in conn.exec_driver_sql("SELECT password_hash FROM users").fetchall()]
    assert len(hashes) == 8 and len(set(hashes)) == 8  # salted: same password, different hashes
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    who = seeded.store.authenticate("bm_u", PASSWORD)
    assert (who.name, who.role, who.branch_id) == ("bm_u", "branch_manager", "urumqi")
    assert seeded.store.authenticate("nobody", PASSWORD) is None


def test_default_password_policy_is_slow_argon2id():
    policy = PasswordPolicy()
    h = policy.hash("a-long-password")
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert policy.verify(h, "a-long-password") and not policy.verify(h, "a-long-passwore")
    assert not policy.needs_rehash(h)
    assert PasswordPolicy.fast_for_tests().needs_rehash(h)


@SQLITE_ONLY
def test_short_password_is_refused(store):
    with pytest.raises(ParameterError, match="'password' parameter must be a string of at least 8 characters"):
        store.add_user(SYSTEM_USER, "x", "analyst", password="short")


def test_login_upgrades_an_old_hash(store_url):
    weak = PasswordPolicy(time_cost=1, memory_cost=1024, parallelism=1)
    stronger = PasswordPolicy(time_cost=2, memory_cost=2048, parallelism=1)
    with Store(store_url, password_policy=weak, progress=False) as s:
        s.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    with Store(store_url, password_policy=stronger, progress=False) as s:
        assert s.authenticate("ana", PASSWORD) is not None
        with s.engine.connect() as conn:
            h = conn.exec_driver_sql("SELECT password_hash FROM users").scalar()
        assert "m=2048,t=2" in h
        assert s.authenticate("ana", PASSWORD) is not None


def test_deactivated_user_cannot_sign_in_or_act(seeded):
    s = seeded.store
    s.set_active(seeded.users["adm"], "ex_u1", False)
    assert s.authenticate("ex_u1", PASSWORD) is None
    with pytest.raises(AccessDenied, match="'ex_u1' is unknown or deactivated"):
        s.worklist(seeded.users["ex_u1"], seeded.campaign_id)


def test_password_change_own_or_by_admin(seeded):
    s = seeded.store
    s.set_password(seeded.users["ex_u1"], "ex_u1", "new-password-1")
    assert s.authenticate("ex_u1", "new-password-1") is not None
    with pytest.raises(AccessDenied, match="changing another user's password is allowed for roles"):
        s.set_password(seeded.users["ex_u1"], "ex_u2", "new-password-2")
    s.set_password(seeded.users["adm"], "ex_u2", "new-password-2")
    assert s.authenticate("ex_u2", "new-password-2") is not None


def test_user_names_are_unique_and_system_is_reserved(seeded):
    with pytest.raises(ParameterError, match="'ana' already exists"):
        seeded.store.add_user(seeded.users["adm"], "ana", "analyst", password=PASSWORD)
    with pytest.raises(ParameterError, match="reserved for the command line"):
        seeded.store.add_user(seeded.users["adm"], "system", "analyst", password=PASSWORD)


# ------------------------------------------------------------------ responses
def test_responses_are_recorded_by_analysts_and_read_by_province_roles(seeded):
    s, ana = seeded.store, seeded.users["ana"]
    frame = pd.DataFrame({"subscriber_id": [101, 104], "order_date": ["2026-04-02", "2026-04-05"],
                          "product": ["mnp_news", "mnp_news"], "stable": [True, None]})
    assert s.record_responses(ana, seeded.campaign_id, frame) == 2
    got = s.responses(seeded.users["pm"], seeded.campaign_id)
    assert got["subscriber_id"].tolist() == [101, 104]
    assert got["stable"].tolist()[0] is True and pd.isna(got["stable"].tolist()[1])
    with pytest.raises(AccessDenied, match="recording responses"):
        s.record_responses(seeded.users["bm_u"], seeded.campaign_id, frame)
    with pytest.raises(DataValidationError, match="responses: 1 rows lack"):
        s.record_responses(ana, seeded.campaign_id, frame.assign(order_date=["2026-04-02", None]))


# ------------------------------------------------------ the PostgreSQL server
def test_server_script_explains_missing_binaries(tmp_path):
    import os
    import subprocess

    import store_fixtures

    env = {**os.environ, "PG_LIB_DIR": str(tmp_path / "none"), "PG_BIN": ""}
    proc = subprocess.run(["bash", str(store_fixtures.SCRIPT), "start", str(tmp_path / "pg")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "make test" in proc.stderr and "apt-get install -y postgresql" in proc.stderr


def test_fixture_fails_not_skips_without_binaries(tmp_path, monkeypatch, request):
    import store_fixtures

    monkeypatch.setattr(store_fixtures, "_server", {})
    monkeypatch.delenv(store_fixtures.POSTGRES_URL_ENV, raising=False)
    monkeypatch.setenv("PG_LIB_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("PG_BIN", "")
    with pytest.raises(pytest.fail.Exception, match=r"binaries are missing: run `make test`"):
        store_fixtures._start_server(request.config)


# ------------------------------------------------------------ `workbench users`
def test_users_command_adds_lists_and_deactivates(tmp_path, monkeypatch, capsys):
    import io

    from workbench.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    assert main(["users", "add", "li_wei", "--role", "executor", "--branch", "hami", "--display-name", "Li Wei",
                 "--password-stdin", "--store", url, "--lang", "en"]) == 0
    assert "Added user li_wei (Executor)." in capsys.readouterr().out
    assert main(["users", "list", "--store", url, "--lang", "en"]) == 0
    listing = capsys.readouterr().out
    assert "li_wei" in listing and "Li Wei" in listing and "hami" in listing and "Yes" in listing
    assert "argon2" not in listing
    with Store(url, progress=False) as s:
        assert s.authenticate("li_wei", "a-good-password").branch_id == "hami"
    assert main(["users", "deactivate", "li_wei", "--store", url, "--lang", "en"]) == 0
    assert main(["users", "list", "--store", url, "--lang", "en"]) == 0
    assert "No" in capsys.readouterr().out


def test_users_command_reports_bad_input_as_an_error(tmp_path, monkeypatch, capsys):
    import io

    from workbench.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    assert main(["users", "add", "x", "--role", "executor", "--password-stdin", "--store", url]) == 1
    assert "'branch_id' parameter is required for role 'executor'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "y", "--role", "analyst", "--password-stdin", "--store", url]) == 1
    assert "at least 8 characters" in capsys.readouterr().err


@SQLITE_ONLY
def test_spec_objects_with_to_dict_and_a_nested_offer_are_accepted(store):
    class FakeCampaignSpec:  # the shape of workbench.campaign.CampaignSpec
        def to_dict(self):
            return {"name": "Sports edition", "owner": "ana", "offer": {"product_id": "mnp_sports"}}

    ana = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
    release = store.release_campaign(ana, FakeCampaignSpec(), members_frame())
    got = store.visible_campaigns(ana).iloc[0]
    assert (got["name"], got["product"]) == ("Sports edition", "mnp_sports")
    assert release.spec_hash == spec_hash(FakeCampaignSpec().to_dict())


def test_users_command_offers_exactly_the_store_roles():
    from workbench.commands import users
    from workbench.store import ROLES

    assert users._ROLES == ROLES


def test_sqlite_store_file_and_its_wal_are_owner_only(tmp_path):
    """The store holds password hashes: its file and the WAL/shm files SQLite makes are mode 600."""
    import os
    import stat

    from workbench.store import SYSTEM_USER, PasswordPolicy, Store

    old = os.umask(0o022)  # a usual login umask would give 644
    try:
        store = Store(f"sqlite:///{tmp_path}/s.sqlite", password_policy=PasswordPolicy.fast_for_tests(),
                      progress=False)
        store.add_user(SYSTEM_USER, "ana", "analyst", password="s3cret-pass-1")
    finally:
        os.umask(old)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert "s.sqlite" in made
    for name in made:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_an_existing_world_readable_store_is_tightened(tmp_path):
    import stat

    from workbench.store.db import engine_for

    path = tmp_path / "old.sqlite"
    path.write_bytes(b"")
    path.chmod(0o644)
    engine_for(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("when", [
    dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc),                           # a typo's year
    dt.datetime(2025, 12, 31, 15, 59, tzinfo=dt.timezone.utc),                 # 23:59 local, the day before the start
    dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1),                   # tomorrow
])
def test_contact_time_outside_campaign_start_and_now_is_refused_and_nothing_written(seeded, when):
    from workbench.store.results import ContactTimeError

    s = seeded.store
    with pytest.raises(ContactTimeError) as info:
        s.record_result(seeded.users["ex_u1"], seeded.member[101], "reached", contacted_at=when)
    # the period of the fixture's spec starts 2026-01-01 (local midnight, UTC+8)
    assert info.value.earliest == dt.datetime(2025, 12, 31, 16, tzinfo=dt.timezone.utc)
    batch = pd.DataFrame({"member_id": [seeded.member[101], seeded.member[102]], "result": ["reached"] * 2,
                          "contacted_at": [pd.Timestamp("2026-03-01", tz="UTC"), pd.Timestamp(when)]})
    with pytest.raises((ContactTimeError, DataValidationError)):
        s.record_results(seeded.users["ex_u1"], batch)
    assert s.contact_results(seeded.users["ana"], seeded.campaign_id).empty


def test_contact_time_at_the_campaign_start_is_accepted(seeded):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    seeded.store.record_result(seeded.users["ex_u1"], seeded.member[101], "reached", contacted_at=start)
    assert len(seeded.store.contact_results(seeded.users["ana"], seeded.campaign_id)) == 1
