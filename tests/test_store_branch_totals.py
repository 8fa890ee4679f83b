"""Store.branch_totals: a branch's counts for its executors, never another branch's, whatever is asked."""
from __future__ import annotations

import pytest

from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import SQLITE_ONLY
from workbench.errors import AccessDenied, ParameterError
from workbench.store import BRANCH_TOTALS_COLUMNS, SYSTEM_USER, User, totals_branch


def _record(seeded) -> None:
    s, u, m = seeded.store, seeded.users, seeded.member
    s.record_result(u["ex_u1"], m[101], "accepted", client_request_id="a")
    s.record_result(u["ex_u2"], m[104], "not_reachable", client_request_id="b")
    s.record_result(u["ex_h"], m[105], "refused", client_request_id="c")


@pytest.mark.parametrize("user, asked, branch", [
    (User("e", "executor", "urumqi"), None, "urumqi"),
    (User("e", "executor", "urumqi"), "urumqi", "urumqi"),
    (User("b", "branch_manager", "hami"), None, "hami"),
    (User("p", "province_manager"), "hami", "hami"),
    (User("a", "analyst"), "urumqi", "urumqi"),
])
def test_totals_branch_is_the_own_branch_for_branch_roles(user, asked, branch):
    assert totals_branch(user, asked) == branch


def test_totals_branch_refuses_other_branches_and_bad_codes():
    with pytest.raises(AccessDenied, match="branch totals of 'hami' are not for user 'e'"):
        totals_branch(User("e", "executor", "urumqi"), "hami")
    with pytest.raises(ParameterError, match=r"'branch_id' parameter must be one of \['urumqi'.* Got 'mars'"):
        totals_branch(User("e", "executor", "urumqi"), "mars")
    with pytest.raises(ParameterError, match="'branch_id' parameter is required for role 'province_manager'"):
        totals_branch(User("p", "province_manager"), None)


def test_branch_totals_count_the_whole_branch_and_nothing_else(seeded):
    _record(seeded)
    got = seeded.store.branch_totals(seeded.users["ex_u1"], seeded.campaign_id)
    assert list(got.columns) == list(BRANCH_TOTALS_COLUMNS) and len(got) == 1
    row = got.iloc[0]
    # Urumqi's four target rows (ex_u1's two, ex_u2's one, one unassigned): the colleague's attempt counts
    assert (row["branch"], row["members"], row["contacted"], row["reached"], row["accepted"]) == (
        "urumqi", 4, 2, 1, 1)
    assert row["contacted_rate"] == pytest.approx(0.5) and row["accepted_rate"] == pytest.approx(0.25)
    # the same figures for the colleague and the branch manager; Hami's for Hami
    for name in ("ex_u2", "bm_u"):
        again = seeded.store.branch_totals(seeded.users[name], seeded.campaign_id)
        assert again.iloc[0][["members", "contacted", "accepted"]].tolist() == [4, 2, 1]
    hami = seeded.store.branch_totals(seeded.users["ex_h"], seeded.campaign_id).iloc[0]
    assert (hami["branch"], hami["members"], hami["contacted"], hami["accepted"]) == ("hami", 1, 1, 0)
    pm = seeded.store.branch_totals(seeded.users["pm"], seeded.campaign_id, branch_id="hami").iloc[0]
    assert pm[["members", "contacted", "accepted"]].tolist() == [1, 1, 0]


def test_branch_totals_follow_a_colleagues_new_result(seeded):
    s, u, m = seeded.store, seeded.users, seeded.member
    before = s.branch_totals(u["ex_u1"], seeded.campaign_id).iloc[0]
    s.record_result(u["ex_u2"], m[104], "accepted", client_request_id="x")
    after = s.branch_totals(u["ex_u1"], seeded.campaign_id).iloc[0]
    assert (before["contacted"], before["accepted"]) == (0, 0)
    assert (after["contacted"], after["accepted"]) == (1, 1)


def test_a_branch_user_cannot_get_another_branchs_totals_even_with_crafted_arguments(seeded):
    s, u = seeded.store, seeded.users
    _record(seeded)
    with pytest.raises(AccessDenied, match="branch totals of 'urumqi' are not for user 'ex_h'"):
        s.branch_totals(u["ex_h"], seeded.campaign_id, branch_id="urumqi")
    with pytest.raises(AccessDenied, match="branch totals of 'urumqi' are not for user 'bm_h'"):
        s.branch_totals(u["bm_h"], seeded.campaign_id, branch_id="urumqi")
    # a User object claiming another branch: the store takes the branch from its users table
    forged = User("ex_h", "executor", "urumqi")
    assert s.branch_totals(forged, seeded.campaign_id).iloc[0]["branch"] == "hami"
    with pytest.raises(AccessDenied, match="branch totals of 'urumqi' are not for user 'ex_h'"):
        s.branch_totals(forged, seeded.campaign_id, branch_id="urumqi")
    refused = s.audit_log(SYSTEM_USER, campaign_id=seeded.campaign_id, action="branch_totals_refused")
    assert refused["user_name"].tolist() == ["ex_h", "bm_h", "ex_h"]
    assert all(d["branch_id"] == "urumqi" for d in refused["details"])


@SQLITE_ONLY
def test_branch_totals_need_rows_in_the_campaign_and_valid_arguments(seeded):
    s, u = seeded.store, seeded.users
    outsider = s.add_user(SYSTEM_USER, "ex_k", "executor", branch_id="kashgar", password="correct-horse-9")
    with pytest.raises(AccessDenied, match=f"campaign {seeded.campaign_id} has no rows for user 'ex_k'"):
        s.branch_totals(outsider, seeded.campaign_id)
    with pytest.raises(ParameterError, match="'branch_id' parameter is required for role 'province_manager'"):
        s.branch_totals(u["pm"], seeded.campaign_id)
    with pytest.raises(ParameterError, match="'campaign_id' parameter names no campaign. Got 999"):
        s.branch_totals(u["ex_u1"], 999)
