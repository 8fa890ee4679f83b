"""The monitoring view's aggregates, counted by the database, equal pandas' count of the same rows.

On SQLite and PostgreSQL (the ``seeded`` store of store_fixtures): a few contacts
around local midnight (UTC+8), a second attempt, an acceptance, orders of target and
control customers; each role's scope.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from store_fixtures import *  # noqa: F401,F403 (fixtures)

from workbench.errors import AccessDenied
from workbench.store import DAILY_COUNT_COLUMNS, GROUP_COUNT_COLUMNS

UTC = dt.timezone.utc
# (subscriber, recorded by, result, UTC time): 17:30 UTC is the next local day in the province
CONTACTS = [
    (101, "ex_u1", "not_reachable", dt.datetime(2026, 3, 1, 17, 30, tzinfo=UTC)),
    (101, "ex_u1", "accepted", dt.datetime(2026, 3, 3, 2, 0, tzinfo=UTC)),
    (102, "ex_u1", "reached", dt.datetime(2026, 3, 1, 3, 0, tzinfo=UTC)),
    (103, "bm_u", "accepted", dt.datetime(2026, 3, 1, 15, 59, tzinfo=UTC)),
    (104, "ex_u2", "refused", dt.datetime(2026, 3, 2, 16, 1, tzinfo=UTC)),
    (105, "ex_h", "call_back", dt.datetime(2026, 3, 2, 4, 0, tzinfo=UTC)),
]
ORDERS = [(101, "2026-03-05"), (103, "2026-03-05"), (105, "2026-03-06"), (106, "2026-03-06")]  # 106: control


@pytest.fixture
def worked(seeded):
    s = seeded
    for subscriber, who, result, when in CONTACTS:
        s.store.record_result(s.users[who], s.member[subscriber], result, contacted_at=when)
    s.store.record_responses(s.users["ana"], s.campaign_id, pd.DataFrame(
        {"subscriber_id": [o[0] for o in ORDERS], "order_date": [o[1] for o in ORDERS], "product": "mnp_news"}))
    return s


def pandas_counts(s, who: str) -> pd.DataFrame:
    """The same counts from the rows the user may read, in pandas: what the store no longer does per visit."""
    user = s.users[who]
    members = s.store.worklist(user, s.campaign_id)[["member_id", "subscriber_id", "branch_id", "executor"]]
    results = s.store.contact_results(user, s.campaign_id)[["member_id", "result", "contacted_at"]]
    results = results.merge(members, on="member_id")
    results["day"] = pd.to_datetime(results["contacted_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    keys = ["day", "branch_id", "executor"]
    first = results.sort_values("contacted_at").drop_duplicates("subscriber_id")
    accepted = results[results["result"] == "accepted"].sort_values("contacted_at").drop_duplicates("subscriber_id")
    parts = [first.groupby(keys, dropna=False).size().rename("contacted"),
             results.groupby(keys, dropna=False).size().rename("results"),
             accepted.groupby(keys, dropna=False).size().rename("accepted")]
    if user.role in ("province_manager", "analyst", "admin"):
        orders = s.store.responses(user, s.campaign_id).merge(members, on="subscriber_id")
        orders["day"] = pd.to_datetime(orders["order_date"]).dt.date
        parts.append(orders.groupby(keys, dropna=False).size().rename("orders"))
    out = pd.concat(parts, axis=1).fillna(0).astype("int64").reset_index()
    out = out.rename(columns={"branch_id": "branch"})
    out["executor"] = out["executor"].astype(object).where(out["executor"].notna(), None)
    return out.reindex(columns=list(DAILY_COUNT_COLUMNS), fill_value=0)


def _rows(frame: pd.DataFrame) -> set[tuple]:
    return {tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)}


@pytest.mark.parametrize("who", ["pm", "bm_u", "ex_u1"])
def test_daily_counts_equal_pandas_on_the_rows_of_each_scope(worked, who):
    counts = worked.store.daily_counts(worked.users[who], worked.campaign_id)
    assert list(counts.columns) == list(DAILY_COUNT_COLUMNS)
    expected = pandas_counts(worked, who)
    if who != "pm":  # branch roles get no orders: empty, not zero
        assert counts["orders"].isna().all()
        counts = counts.assign(orders=0)
    assert _rows(counts) == _rows(expected)


def test_daily_counts_put_a_contact_on_its_local_day(worked):
    counts = worked.store.daily_counts(worked.users["pm"], worked.campaign_id)
    first = counts.groupby("day")["contacted"].sum()
    # 101 at 17:30 UTC on the 1st is the 2nd in the province; 103 at 15:59 UTC the 1st; 104 at 16:01 UTC the 3rd
    assert first.to_dict() == {dt.date(2026, 3, 1): 2, dt.date(2026, 3, 2): 2, dt.date(2026, 3, 3): 1,
                               dt.date(2026, 3, 5): 0, dt.date(2026, 3, 6): 0}
    assert int(counts["results"].sum()) == len(CONTACTS)
    assert int(counts["orders"].sum()) == 3   # the control customer's order is not the target group's


def test_group_counts_count_members_and_customers_who_ordered(worked):
    groups = worked.store.group_counts(worked.users["pm"], worked.campaign_id)
    assert list(groups.columns) == list(GROUP_COUNT_COLUMNS)
    assert groups.values.tolist() == [["control", 2, 1], ["target", 5, 3]]
    with pytest.raises(AccessDenied, match="reading responses is allowed for roles"):
        worked.store.group_counts(worked.users["bm_u"], worked.campaign_id)


def test_campaign_period_is_the_specs_goal_period(worked):
    period = worked.store.campaign_period(worked.users["ex_h"], worked.campaign_id)
    assert (period.start, period.end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
