"""Response attribution: window edges, reference days, products, stable responses and errors."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError
from workbench.tracking.attribution import (
    ATTRIBUTION_COLUMNS, REACHED_RESULTS, add_months, attribute_responses, catalogue_products, reference_dates,
)

START = "2026-11-01"


def _orders(rows):
    """rows: (subscriber_id, product_id, date, event_type) -> a vas_orders frame."""
    return pd.DataFrame({
        "event_id": range(1, len(rows) + 1),
        "subscriber_id": [r[0] for r in rows],
        "product_id": [r[1] for r in rows],
        "event_date": pd.to_datetime([r[2] for r in rows]),
        "event_type": [r[3] for r in rows],
        "channel": ["sms"] * len(rows),
    })


def _contacts(rows):
    """rows: (subscriber_id, result, time)."""
    return pd.DataFrame({"subscriber_id": [r[0] for r in rows], "result": [r[1] for r in rows],
                         "contacted_at": pd.to_datetime([r[2] for r in rows])})


def _attr(members, contacts, orders, **kw):
    kw.setdefault("campaign_start", START)
    kw.setdefault("response_window_days", 30)
    kw.setdefault("stable_months", 3)
    kw.setdefault("as_of", "2027-06-30")
    return attribute_responses(members, contacts, orders, **kw).set_index("subscriber_id")


def test_contact_window_edges_are_inclusive_at_both_ends():
    # every member is reached on 2026-11-03; the window is days 0..30 after that day
    ids = [1, 2, 3, 4]
    members = pd.DataFrame({"subscriber_id": ids, "group": ["target"] * 4})
    contacts = _contacts([(i, "reached", "2026-11-03 10:15") for i in ids])
    orders = _orders([
        (1, "MN_NEWS", "2026-11-03", "order"),   # day 0: counts
        (2, "MN_NEWS", "2026-12-03", "order"),   # day 30 = window end: counts
        (3, "MN_NEWS", "2026-12-04", "order"),   # day 31: outside
        (4, "MN_NEWS", "2026-11-02", "order"),   # the day before the contact: does not count
    ])
    out = _attr(members, contacts, orders)
    assert out["responded"].tolist() == [True, True, False, False]
    assert out["days_to_response"].tolist()[:2] == [0, 30]
    assert out["days_to_response"].isna().tolist() == [False, False, True, True]
    assert (out["reference"] == "contact").all()
    assert out.loc[1, "reference_date"] == pd.Timestamp("2026-11-03")


def test_control_and_unreached_members_count_from_the_campaign_start():
    members = pd.DataFrame({"subscriber_id": [1, 2, 3, 4, 5],
                            "group": ["control", "control", "target", "target", "control"]})
    contacts = _contacts([
        (3, "not_reachable", "2026-11-05 09:00"),      # attempted, never reached
        (5, "reached", "2026-11-20 09:00"),            # a control contact is ignored
    ])
    orders = _orders([
        (1, "MN_NEWS", "2026-10-31", "order"),         # before the start: no
        (2, "MN_NEWS", "2026-12-01", "order"),         # start + 30: yes
        (3, "MN_NEWS", "2026-11-02", "order"),         # unreached target, after the start: yes
        (4, "MN_NEWS", "2026-12-02", "order"),         # never contacted, start + 31: no
        (5, "MN_NEWS", "2026-11-01", "order"),         # control, on the start day: yes
    ])
    out = _attr(members, contacts, orders)
    assert out["responded"].tolist() == [False, True, True, False, True]
    assert (out["reference"] == "campaign_start").all()
    assert out.loc[5, "days_to_response"] == 0
    assert out.loc[2, "days_to_response"] == 30


def test_first_reached_contact_opens_the_window_and_local_time_decides_the_day():
    members = pd.DataFrame({"subscriber_id": [1, 2], "group": ["target", "target"]})
    contacts = pd.DataFrame({
        "subscriber_id": [1, 1, 1, 2],
        "result": ["not_reachable", "call_back", "accepted", "refused"],
        # 20:30 UTC on the 4th is 04:30 on the 5th in Urumqi's official (Beijing) time
        "contacted_at": pd.to_datetime(["2026-11-02 01:00", "2026-11-04 20:30", "2026-11-08 03:00",
                                        "2026-11-06 02:00"]).tz_localize("UTC"),
    })
    orders = _orders([(1, "MN_NEWS", "2026-11-05", "order"), (2, "MN_NEWS", "2026-11-05", "order")])
    out = _attr(members, contacts, orders)
    assert out.loc[1, "reference_date"] == pd.Timestamp("2026-11-05")
    assert bool(out.loc[1, "responded"]) and out.loc[1, "days_to_response"] == 0
    # refused is a reached result: member 2's window opened on the 6th, after the order
    assert not bool(out.loc[2, "responded"])
    assert set(REACHED_RESULTS) == {"reached", "refused", "accepted", "call_back"}


def test_several_orders_count_once_and_other_products_do_not_count():
    members = pd.DataFrame({"subscriber_id": [1, 2, 3], "group": ["control"] * 3})
    orders = _orders([
        (1, "MN_SPORTS", "2026-11-20", "order"),
        (1, "MN_NEWS", "2026-11-10", "order"),
        (1, "MN_NEWS", "2026-11-25", "order"),
        (2, "RBT", "2026-11-10", "order"),             # another product family
        (3, "MN_SPORTS", "2026-11-10", "order"),       # another edition when only MN_NEWS counts
    ])
    out = _attr(members, None, orders)
    assert out["responded"].tolist() == [True, False, True]
    assert out.loc[1, "response_date"] == pd.Timestamp("2026-11-10")
    assert out.loc[1, "response_product"] == "MN_NEWS"
    only_news = _attr(members, None, orders, product_ids=["MN_NEWS"])
    assert only_news["responded"].tolist() == [True, False, False]


def test_orders_after_as_of_are_not_read():
    members = pd.DataFrame({"subscriber_id": [1], "group": ["control"]})
    orders = _orders([(1, "MN_NEWS", "2026-11-20", "order")])
    assert not bool(_attr(members, None, orders, as_of="2026-11-19").loc[1, "responded"])
    assert bool(_attr(members, None, orders, as_of="2026-11-20").loc[1, "responded"])


def test_stable_is_unknown_until_the_stable_period_has_elapsed():
    members = pd.DataFrame({"subscriber_id": [1, 2, 3, 4, 5, 6], "group": ["control"] * 6})
    orders = _orders([
        (1, "MN_NEWS", "2026-11-10", "order"),                                           # still open
        (2, "MN_NEWS", "2026-11-10", "order"), (2, "MN_NEWS", "2026-12-05", "unsubscribe"),   # free-month leaver
        (3, "MN_NEWS", "2026-11-10", "order"), (3, "MN_NEWS", "2027-02-10", "unsubscribe"),   # left on the stable day
        (4, "MN_NEWS", "2026-11-10", "order"), (4, "MN_NEWS", "2027-02-11", "unsubscribe"),   # left the day after
        # switched edition on the same day: one continuous stay in the family
        (5, "MN_NEWS", "2026-11-10", "order"), (5, "MN_NEWS", "2026-12-20", "unsubscribe"),
        (5, "MN_SPORTS", "2026-12-20", "order"),
        (6, "MN_NEWS", "2026-11-10", "order"), (6, "MN_NEWS", "2027-01-15", "unsubscribe"),
    ])
    early = _attr(members, None, orders, as_of="2026-12-31")
    assert early["stable"].isna().tolist() == [True, False, True, True, True, True]
    assert early.loc[2, "stable"] == False  # noqa: E712 - known: left before the stable day
    assert early.loc[2, "subscribed_until"] == pd.Timestamp("2026-12-05")
    assert pd.isna(early.loc[1, "subscribed_until"])
    # the stable day is 2027-02-10 (3 calendar months after the order)
    def verdicts(frame):
        return [None if pd.isna(v) else bool(v) for v in frame["stable"]]

    assert verdicts(_attr(members, None, orders, as_of="2027-02-09")) == [None, False, None, None, None, False]
    # on the stable day itself: whoever is still subscribed is stable; 3 left that very day
    assert verdicts(_attr(members, None, orders, as_of="2027-02-10")) == [True, False, False, True, True, False]
    final = _attr(members, None, orders, as_of="2027-06-30")
    assert final["stable"].tolist() == [True, False, False, True, True, False]
    assert str(final["stable"].dtype) == "boolean"


def test_output_keeps_member_columns_and_adds_the_attribution_columns():
    members = pd.DataFrame({"subscriber_id": [9, 8], "group": ["target", "control"], "branch_id": ["hami", "ili"],
                            "score": [0.9, 0.1]})
    out = attribute_responses(members, None, _orders([(8, "MN_NEWS", "2026-11-03", "order")]),
                              campaign_start=START, as_of="2026-12-31")
    assert list(out.columns) == ["subscriber_id", "group", "branch_id", "score", *ATTRIBUTION_COLUMNS]
    assert out["subscriber_id"].tolist() == [9, 8]
    assert out["responded"].tolist() == [False, True]
    assert out["response_channel"].tolist()[1] == "sms"
    assert str(out["days_to_response"].dtype) == "Int64"


def test_reference_dates_alone():
    members = pd.DataFrame({"subscriber_id": [1, 2], "group": ["target", "control"]})
    refs = reference_dates(members, _contacts([(1, "accepted", "2026-11-07 11:00")]), START)
    assert refs["reference_date"].tolist() == [pd.Timestamp("2026-11-07"), pd.Timestamp(START)]
    assert refs["reference"].tolist() == ["contact", "campaign_start"]


def testadd_months_clips_to_the_month_end_like_dateoffset():
    days = pd.to_datetime(["2026-01-31", "2026-11-10", "2024-02-29"]).to_numpy(dtype="datetime64[D]")
    got = pd.to_datetime(add_months(days, 1)).tolist()
    want = [d + pd.DateOffset(months=1) for d in pd.to_datetime(["2026-01-31", "2026-11-10", "2024-02-29"])]
    assert got == want


def test_catalogue_products_are_the_synthetic_catalogue():
    products = catalogue_products()
    news = products[products["family"] == "mobile_newspaper"]
    assert news["product_id"].tolist() == ["MN_NEWS", "MN_SPORTS", "MN_FINANCE", "MN_ENT"]
    assert (news["free_months"] == 1).all()


# ------------------------------------------------------------------ errors
MEMBERS = pd.DataFrame({"subscriber_id": [1], "group": ["control"]})
ORDERS = _orders([(1, "MN_NEWS", "2026-11-03", "order")])


def test_missing_columns_are_named():
    with pytest.raises(DataValidationError, match=r"orders: missing column\(s\) \['channel'\]"):
        attribute_responses(MEMBERS, None, ORDERS.drop(columns="channel"), campaign_start=START, as_of="2026-12-01")
    with pytest.raises(DataValidationError, match=r"members: missing column\(s\) \['group'\]"):
        attribute_responses(MEMBERS.drop(columns="group"), None, ORDERS, campaign_start=START, as_of="2026-12-01")
    with pytest.raises(DataValidationError, match=r"contacts: missing column\(s\) \['contacted_at'\]"):
        attribute_responses(MEMBERS, pd.DataFrame({"subscriber_id": [1], "result": ["reached"]}), ORDERS,
                            campaign_start=START, as_of="2026-12-01")


def test_duplicate_members_are_refused():
    with pytest.raises(DataValidationError, match="subscriber_id must be unique"):
        attribute_responses(pd.concat([MEMBERS, MEMBERS]), None, ORDERS, campaign_start=START, as_of="2026-12-01")


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError, match="'as_of' parameter must be a day on or after campaign_start"):
        attribute_responses(MEMBERS, None, ORDERS, campaign_start=START, as_of="2026-10-01")
    with pytest.raises(ParameterError, match="'response_window_days' parameter must be an integer >= 0"):
        attribute_responses(MEMBERS, None, ORDERS, campaign_start=START, as_of="2026-12-01", response_window_days=-1)
    with pytest.raises(ParameterError, match="'stable_months' parameter must be an integer >= 1"):
        attribute_responses(MEMBERS, None, ORDERS, campaign_start=START, as_of="2026-12-01", stable_months=0)
    with pytest.raises(ParameterError, match="'product_ids' parameter must be products of family"):
        attribute_responses(MEMBERS, None, ORDERS, campaign_start=START, as_of="2026-12-01", product_ids="RBT")
    with pytest.raises(ParameterError, match="'family' parameter must be one of"):
        attribute_responses(MEMBERS, None, ORDERS, campaign_start=START, as_of="2026-12-01", family="news")
    with pytest.raises(ParameterError, match="'campaign_start' parameter must be a date"):
        attribute_responses(MEMBERS, None, ORDERS, campaign_start="soon", as_of="2026-12-01")
    with pytest.raises(ParameterError, match=r"column 'result' must hold .*found \['maybe'\]"):
        attribute_responses(MEMBERS, _contacts([(1, "maybe", "2026-11-02")]), ORDERS, campaign_start=START,
                            as_of="2026-12-01")
