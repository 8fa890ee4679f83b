"""Who may see and do what: the pure rules, and the store enforcing them on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import PASSWORD, SPEC, SQLITE_ONLY, members_frame
from workbench.errors import AccessDenied, ParameterError
from workbench.store.access import (
    DEFAULT_REVEAL_CAP, MANAGERS_RECORD_ENV, REVEAL_CAP_ENV, AccessPolicy, can_reveal_number, may_call, on_behalf_of,
    sees_executors,
)
from workbench.store.audit import RevealLimitReached
from workbench.store import (
    ROLES, SYSTEM_USER, User, can_read_member, can_read_responses, can_see_numbers, can_write_member,
    may_record_for_others, require_role, sees_all_members, sees_drafts, sees_missing_members,
)

EX_U1 = User("ex_u1", "executor", "urumqi")
BM_U = User("bm_u", "branch_manager", "urumqi")
PM = User("pm", "province_manager")
ANA = User("ana", "analyst")
ADM = User("adm", "admin")


# ------------------------------------------------------------------ the rules
@pytest.mark.parametrize("user, branch, executor, read, write", [
    (EX_U1, "urumqi", "ex_u1", True, True),      # own row
    (EX_U1, "urumqi", "ex_u2", False, True),     # colleague's row of own branch: may cover the call
    (EX_U1, "urumqi", None, False, True),        # unassigned row of own branch
    (EX_U1, "hami", "ex_h", False, False),       # another branch
    (EX_U1, "hami", "ex_u1", True, True),        # assigned to them across branches
    (BM_U, "urumqi", "ex_u2", True, False),      # an executor's customer: the policy's (default: no)
    (BM_U, "urumqi", None, True, True),          # unassigned row of own branch
    (BM_U, "urumqi", "bm_u", True, True),        # assigned to the manager
    (BM_U, "hami", "ex_h", False, False),
    (PM, "hami", "ex_h", True, False),           # monitors, does not record
    (ANA, "hami", "ex_h", True, False),
    (ADM, "hami", "ex_h", True, True),
])
def test_read_and_write_rules(user, branch, executor, read, write):
    assert can_read_member(user, branch, executor) is read
    assert can_write_member(user, branch, executor) is write


@pytest.mark.parametrize("user, province, drafts, responses, missing, for_others", [
    (EX_U1, False, False, False, False, False),
    (BM_U, False, False, False, False, True),
    (PM, True, False, True, False, True),
    (ANA, True, True, True, False, True),
    (ADM, True, True, True, True, True),
])
def test_role_decisions(user, province, drafts, responses, missing, for_others):
    assert sees_all_members(user) is province
    assert sees_drafts(user) is drafts
    assert can_read_responses(user) is responses
    assert sees_missing_members(user) is missing
    assert may_record_for_others(user) is for_others


def test_only_executors_see_full_phone_numbers():
    assert [role for role in ROLES if can_see_numbers(role)] == ["executor"]
    with pytest.raises(ParameterError, match=r"'role' parameter must be one of \['executor', .*Got 'guest'"):
        can_see_numbers("guest")


def test_campaign_lists_use_the_store_rules():
    from workbench import campaign

    assert campaign.can_see_numbers is can_see_numbers
    assert campaign.KNOWN_ROLES == ROLES


def test_roles_are_decided_only_in_store_access():
    """No module but store/access.py compares a user's role (demo.py picks its own demo accounts by role)."""
    import re
    from pathlib import Path

    import workbench

    package = Path(workbench.__file__).parent
    allowed = {package / "store" / "access.py", package / "apps" / "demo.py"}
    compare = re.compile(r"\.role\s*(==|!=|in\s|not\s+in\s)")
    found = [f"{path.relative_to(package)}:{number}: {line.strip()}"
             for path in sorted(package.rglob("*.py")) if path not in allowed
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if compare.search(line)]
    assert found == []


def test_require_role_names_action_roles_and_role():
    require_role(ANA, ("analyst", "admin"), "releasing")
    with pytest.raises(AccessDenied, match=r"releasing is allowed for roles \['analyst', 'admin'\]; "
                                           r"user 'pm' has role 'province_manager'"):
        require_role(PM, ("analyst", "admin"), "releasing")


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "x", "role": "boss"}, r"'role' parameter must be one of"),
    ({"name": "x", "role": "executor"}, r"'branch_id' parameter is required for role 'executor'"),
    ({"name": "x", "role": "branch_manager", "branch_id": "atlantis"}, r"'branch_id' parameter must be one of"),
    ({"name": " ", "role": "analyst"}, r"'name' parameter must be a non-empty string"),
])
def test_user_identity_is_validated(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        User(**kwargs)


# ----------------------------------------------------- enforced by the store
def test_executor_reads_only_own_rows_even_with_filters(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    assert sorted(s.worklist(ex, seeded.campaign_id)["subscriber_id"]) == [101, 102]
    assert s.worklist(ex, seeded.campaign_id, branch_id="hami").empty
    assert s.worklist(ex, seeded.campaign_id, executor="ex_h").empty
    assert sorted(s.export_list(ex, seeded.campaign_id)["subscriber_id"]) == [101, 102]
    s.record_result(seeded.users["ex_h"], seeded.member[105], "accepted")
    assert s.contact_results(ex, seeded.campaign_id).empty
    assert s.contact_results(seeded.users["ex_h"], seeded.campaign_id)["subscriber_id"].tolist() == [105]


def test_executor_cannot_write_another_branch_row_by_id(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    with pytest.raises(AccessDenied, match=r"member \d+ is not in the scope of user 'ex_u1'.*'urumqi'"):
        s.record_result(ex, seeded.member[105], "accepted")
    with pytest.raises(AccessDenied, match="is not in the scope of user 'ex_u1'"):
        s.record_result(ex, 10_000_000, "accepted")  # unknown ids look the same to an executor
    assert s.contact_results(seeded.users["ana"], seeded.campaign_id).empty


def test_executor_may_record_for_own_branch_rows(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    assert s.record_result(ex, seeded.member[103], "reached").created  # unassigned, same branch
    assert s.record_result(ex, seeded.member[104], "call_back").created  # colleague's row
    results = s.contact_results(seeded.users["bm_u"], seeded.campaign_id)
    assert sorted(results["subscriber_id"]) == [103, 104]
    assert set(results["executor"]) == {"ex_u1"}


def test_branch_manager_sees_and_writes_own_branch_only(seeded):
    s, bm = seeded.store, seeded.users["bm_h"]
    assert s.worklist(bm, seeded.campaign_id)["subscriber_id"].tolist() == [105]
    s.policy = AccessPolicy(managers_record_for_executors=True)
    assert s.record_result(bm, seeded.member[105], "refused").created
    with pytest.raises(AccessDenied, match="not in the scope of user 'bm_h'"):
        s.record_result(bm, seeded.member[101], "refused")
    assert s.progress(bm, seeded.campaign_id).iloc[0]["members"] == 1


@pytest.mark.parametrize("role_user", ["pm", "ana", "adm"])
def test_province_roles_see_every_branch(seeded, role_user):
    listing = seeded.store.worklist(seeded.users[role_user], seeded.campaign_id)
    assert sorted(listing["subscriber_id"]) == [101, 102, 103, 104, 105]
    assert set(listing["branch_id"]) == {"urumqi", "hami"}


@pytest.mark.parametrize("role_user", ["pm", "ana"])
def test_monitoring_roles_do_not_record_results(seeded, role_user):
    with pytest.raises(AccessDenied, match="recording a contact result is allowed for roles"):
        seeded.store.record_result(seeded.users[role_user], seeded.member[101], "accepted")


def test_admin_gets_a_clear_error_for_an_unknown_member(seeded):
    with pytest.raises(ParameterError, match="'member_id' parameter names no campaign member. Got 10000000"):
        seeded.store.record_result(seeded.users["adm"], 10_000_000, "accepted")


def test_control_group_is_for_province_roles_only(seeded):
    s = seeded.store
    listing = s.worklist(seeded.users["ana"], seeded.campaign_id, include_control=True)
    assert sorted(listing.loc[listing["group"] == "control", "subscriber_id"]) == [106, 107]
    with pytest.raises(AccessDenied, match="listing control-group members is allowed for roles"):
        s.worklist(seeded.users["ex_u1"], seeded.campaign_id, include_control=True)


def test_campaigns_are_visible_where_the_user_has_rows(seeded):
    s, u = seeded.store, seeded.users
    other = members_frame().assign(branch_id="hami", executor="ex_h")
    second = s.release_campaign(u["ana"], {**SPEC, "name": "Hami only"}, other)
    assert s.visible_campaigns(u["ex_u1"])["campaign_id"].tolist() == [seeded.campaign_id]
    assert s.visible_campaigns(u["ex_h"])["campaign_id"].tolist() == [second.campaign_id, seeded.campaign_id]
    assert s.visible_campaigns(u["bm_u"])["campaign_id"].tolist() == [seeded.campaign_id]
    assert s.visible_campaigns(u["pm"])["campaign_id"].tolist() == [second.campaign_id, seeded.campaign_id]
    with pytest.raises(AccessDenied, match=f"campaign {second.campaign_id} has no rows for user 'ex_u1'"):
        s.spec(u["ex_u1"], second.campaign_id)
    assert s.spec(u["ex_h"], second.campaign_id)["name"] == "Hami only"


def test_audit_log_and_versions_are_for_province_roles(seeded):
    s, u = seeded.store, seeded.users
    assert not s.audit_log(u["pm"]).empty
    with pytest.raises(AccessDenied, match="reading the audit log is allowed for roles"):
        s.audit_log(u["bm_u"])
    with pytest.raises(AccessDenied, match="listing campaign versions is allowed for roles"):
        s.versions(u["ex_u1"], seeded.campaign_id)


def test_user_lists_are_scoped_and_never_show_hashes(seeded):
    s, u = seeded.store, seeded.users
    everyone = s.list_users(u["adm"])
    assert len(everyone) == 8 and "password_hash" not in everyone.columns
    assert sorted(s.list_users(u["bm_u"])["name"]) == ["bm_u", "ex_u1", "ex_u2"]
    with pytest.raises(AccessDenied, match="listing users is allowed for roles"):
        s.list_users(u["ex_u1"])
    with pytest.raises(AccessDenied, match="adding a user is allowed for roles \\['admin'\\]"):
        s.add_user(u["bm_u"], "ex_new", "executor", branch_id="urumqi", password=PASSWORD)


def test_the_database_decides_the_role_not_the_object(seeded):
    s = seeded.store
    forged = User("ex_u1", "admin")  # claims admin; the users table says executor of urumqi
    assert sorted(s.worklist(forged, seeded.campaign_id)["subscriber_id"]) == [101, 102]
    with pytest.raises(AccessDenied, match="releasing a campaign is allowed for roles"):
        s.release_campaign(forged, SPEC, members_frame())
    with pytest.raises(AccessDenied, match="'intruder' is unknown or deactivated"):
        s.worklist(User("intruder", "admin"), seeded.campaign_id)


@SQLITE_ONLY
def test_acting_user_must_be_a_user_object(seeded):
    with pytest.raises(ParameterError, match="'user' parameter must be a workbench.store.User.*Got 'str'"):
        seeded.store.worklist("ex_u1", seeded.campaign_id)


def test_system_user_is_an_admin_without_a_row(store):
    assert SYSTEM_USER.role == "admin"
    store.add_user(SYSTEM_USER, "adm", "admin", password=PASSWORD)
    assert store.list_users(SYSTEM_USER)["name"].tolist() == ["adm"]


# ------------------------------------------------------------------ the policy: managers on executors' customers
ON = AccessPolicy(managers_record_for_executors=True)


@pytest.mark.parametrize("policy, allowed", [(AccessPolicy(), False), (ON, True)])
def test_a_manager_records_on_an_executors_customer_only_when_the_policy_allows(seeded, policy, allowed):
    s, bm, ex = seeded.store, seeded.users["bm_u"], seeded.users["ex_u1"]
    s.policy = policy
    assert can_write_member(bm, "urumqi", "ex_u1", policy) is allowed
    assert can_reveal_number(bm, "urumqi", "ex_u1", policy) is allowed
    member = seeded.member[101]                                   # assigned to ex_u1
    if not allowed:
        with pytest.raises(AccessDenied, match="member .* is not in the scope of user 'bm_u'"):
            s.record_result(bm, member, "accepted")
        assert s.contact_results(bm, seeded.campaign_id).empty
    else:
        recorded = s.record_result(bm, member, "accepted", "called for ex_u1")
        assert recorded.created and recorded.on_behalf_of == "ex_u1"
        row = s.contact_results(bm, seeded.campaign_id).iloc[0]
        assert (row["executor"], row["subscriber_id"]) == ("bm_u", 101)        # who recorded, whose customer:
        assert s.worklist(ex, seeded.campaign_id).set_index("subscriber_id").loc[101, "executor"] == "ex_u1"
        audit = s.audit_log(seeded.users["pm"], action="record_result").iloc[0]
        assert audit["user_name"] == "bm_u" and audit["details"]["on_behalf_of"] == "ex_u1"
    # an unassigned row of the branch is the manager's to work either way, and nobody's behalf
    unassigned = s.record_result(bm, seeded.member[103], "reached")
    assert unassigned.created and unassigned.on_behalf_of is None
    # the executor's own result is never "on behalf"
    assert s.record_result(ex, seeded.member[102], "refused").on_behalf_of is None


def test_a_managers_batch_relays_an_executors_own_contacts_whatever_the_policy(seeded):
    s, bm = seeded.store, seeded.users["bm_u"]
    import pandas as pd

    relayed = pd.DataFrame({"member_id": [seeded.member[101]], "result": ["reached"], "executor": ["ex_u1"]})
    assert s.record_results(bm, relayed)["created"].all()         # ex_u1 made the call; the manager uploads it
    own = pd.DataFrame({"member_id": [seeded.member[102]], "result": ["reached"]})   # the manager's own contact
    with pytest.raises(AccessDenied, match=r"1 members, e\.g\. \[\d+\], are not in the scope of user 'bm_u'"):
        s.record_results(bm, own)
    s.policy = ON
    assert s.record_results(bm, own)["created"].all()


def test_the_policy_reads_its_settings_from_the_environment():
    assert AccessPolicy.from_env({}) == AccessPolicy(False, DEFAULT_REVEAL_CAP)
    assert AccessPolicy.from_env({MANAGERS_RECORD_ENV: "yes", REVEAL_CAP_ENV: "5"}) == AccessPolicy(True, 5)
    with pytest.raises(ParameterError, match=f"'{MANAGERS_RECORD_ENV}' parameter must be one of .*Got 'maybe'"):
        AccessPolicy.from_env({MANAGERS_RECORD_ENV: "maybe"})
    with pytest.raises(ParameterError, match=f"'{REVEAL_CAP_ENV}' parameter must be a non-negative integer.*'-1'"):
        AccessPolicy.from_env({REVEAL_CAP_ENV: "-1"})
    with pytest.raises(ParameterError, match="'reveal_daily_cap' parameter must be a non-negative integer"):
        AccessPolicy(reveal_daily_cap=1.5)


@pytest.mark.parametrize("user, calls, executors", [(EX_U1, True, False), (BM_U, True, True), (PM, False, True),
                                                     (ANA, False, True), (ADM, False, True)])
def test_who_calls_and_who_watches_executors(user, calls, executors):
    assert may_call(user) is calls
    assert sees_executors(user) is executors
    assert on_behalf_of(user, "ex_u1") == (None if user.role == "executor" or user.name == "ex_u1" else "ex_u1")


# ------------------------------------------------------------------ revealing a number: audited and capped
NUMBERS = {101: "13800000101", 102: "13800000102", 103: "13800000103", 105: "13900000105"}


def test_an_executor_reveals_own_customers_numbers_each_audited(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    asked = []

    def lookup(sid):
        asked.append(sid)
        return NUMBERS.get(sid)

    assert s.reveal_number(ex, seeded.member[101], lookup) == "13800000101"
    audit = s.audit_log(seeded.users["pm"], action="reveal_number")
    assert len(audit) == 1 and audit["user_name"].iloc[0] == "ex_u1"
    details = audit["details"].iloc[0]
    assert (details["member_id"], details["subscriber_id"]) == (seeded.member[101], 101)
    assert "13800000101" not in str(details)                              # the number itself is never logged
    for other in (seeded.member[104], seeded.member[105]):                # a colleague's, another branch's
        with pytest.raises(AccessDenied, match="revealing the number of member .* not allowed for user 'ex_u1'"):
            s.reveal_number(ex, other, lookup)
    with pytest.raises(AccessDenied, match="not allowed for user 'pm'"):
        s.reveal_number(seeded.users["pm"], seeded.member[101], lookup)   # monitors do not call
    with pytest.raises(ParameterError, match="is in the 'control' group, which must not be contacted"):
        s.reveal_number(ex, seeded.member[107], lookup)                   # ex_u1's control row
    assert asked == [101]                                                 # refused reveals read no number
    with pytest.raises(ParameterError, match="subscriber 102 .* has no phone number in the data"):
        s.reveal_number(ex, seeded.member[102], lambda sid: None)
    assert len(s.audit_log(seeded.users["pm"], action="reveal_number")) == 1
    assert s.reveals_today(ex) == (1, DEFAULT_REVEAL_CAP)


def test_the_daily_cap_refuses_more_reveals_and_logs_the_refusal(seeded):
    s, ex = seeded.store, seeded.users["ex_u1"]
    s.policy = AccessPolicy(reveal_daily_cap=2)
    assert s.reveal_number(ex, seeded.member[101], NUMBERS.get) == "13800000101"
    assert s.reveal_number(ex, seeded.member[101], NUMBERS.get) == "13800000101"   # every reveal counts
    with pytest.raises(RevealLimitReached, match="revealed 2 phone numbers today; the daily cap is 2") as refused:
        s.reveal_number(ex, seeded.member[102], NUMBERS.get)
    assert (refused.value.used, refused.value.cap) == (2, 2) and isinstance(refused.value, AccessDenied)
    assert len(s.audit_log(seeded.users["pm"], action="reveal_refused")) == 1
    assert s.reveals_today(ex) == (2, 2)
    # the cap is per user: a colleague still reveals
    assert s.reveal_number(seeded.users["ex_u2"], seeded.member[104], {104: "13800000104"}.get) == "13800000104"
