"""Subscription spells, family stays, active / stable subscribers and monthly flows on hand-made records."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError
from workbench.features import (
    active_subscribers, family_spells, monthly_flows, stable_subscribers, subscriber_status, subscription_spells,
)

D = pd.to_datetime

PRODUCTS = pd.DataFrame({
    "product_id": ["mn_a", "mn_b", "rb"],
    "family": ["mobile_newspaper", "mobile_newspaper", "ringback_tone"],
    "content_category": ["news", "sports", None],
    "free_months": [2, 0, 1],
})

EVENTS = [
    # subscriber 1: repeated order, leaves inside the two free months, comes back in May
    (1, "mn_a", "2026-01-10", "order", "sms"), (1, "mn_a", "2026-01-20", "order", "wap"),
    (1, "mn_a", "2026-03-05", "unsubscribe", "hall"), (1, "mn_a", "2026-05-01", "order", "sms"),
    # subscriber 2: two overlapping products -> one stay since 2026-02-01
    (2, "mn_a", "2026-02-01", "order", "sms"), (2, "mn_b", "2026-03-15", "order", "sms"),
    (2, "mn_a", "2026-04-10", "unsubscribe", "sms"),
    # subscriber 3: an orphan unsubscribe, and a ring-back tone left in its free month
    (3, "mn_a", "2026-04-30", "unsubscribe", "sms"), (3, "rb", "2026-04-01", "order", "ivr"),
    (3, "rb", "2026-04-20", "unsubscribe", "ivr"),
    (4, "mn_a", "2026-06-02", "order", "sms"),
    # subscriber 5: switches edition on the same day -> continuous since 2026-03-01
    (5, "mn_a", "2026-03-01", "order", "sms"), (5, "mn_a", "2026-05-10", "unsubscribe", "sms"),
    (5, "mn_b", "2026-05-10", "order", "sms"),
    # subscriber 6: order and unsubscribe on the same day
    (6, "mn_b", "2026-04-04", "order", "sms"), (6, "mn_b", "2026-04-04", "unsubscribe", "sms"),
    # subscriber 7: leaves on the last day of June
    (7, "mn_a", "2026-04-01", "order", "sms"), (7, "mn_a", "2026-06-30", "unsubscribe", "sms"),
    # subscribers 8 and 9: exactly on / one day after the stable boundary of snapshot 2026-06 (04-30)
    (8, "mn_b", "2026-04-30", "order", "sms"), (9, "mn_b", "2026-05-01", "order", "sms"),
    # subscriber 10: a two-day gap (and leaves exactly when the two free months end: not a free-month leaver)
    (10, "mn_a", "2026-01-01", "order", "sms"), (10, "mn_a", "2026-03-01", "unsubscribe", "sms"),
    (10, "mn_a", "2026-03-03", "order", "sms"),
]


def source(extra: list | None = None) -> dict[str, pd.DataFrame]:
    ev = pd.DataFrame(EVENTS + (extra or []),
                      columns=["subscriber_id", "product_id", "event_date", "event_type", "channel"])
    ev.insert(0, "event_id", range(1, len(ev) + 1))
    ev["event_date"] = D(ev["event_date"])
    subs = pd.DataFrame({"subscriber_id": range(1, 12),
                         "join_date": D(["2020-01-01"] * 10 + ["2026-07-01"])})
    return {"vas_orders": ev, "vas_products": PRODUCTS, "subscribers": subs}


def test_spells_follow_the_rules():
    s = subscription_spells(source())
    one = s[s["subscriber_id"] == 1]
    assert one["start_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-10", "2026-05-01"]
    assert one["end_date"].iloc[0] == pd.Timestamp("2026-03-05") and pd.isna(one["end_date"].iloc[1])
    assert one["order_channel"].tolist() == ["sms", "sms"]  # the repeated order (wap) starts no spell
    assert one["unsubscribe_channel"].iloc[0] == "hall"
    assert one["free_month_leaver"].tolist() == [True, False]
    three = s[s["subscriber_id"] == 3]
    assert three["product_id"].tolist() == ["rb"]  # the orphan unsubscribe of mn_a is ignored
    assert three["free_month_leaver"].tolist() == [True] and three["family"].tolist() == ["ringback_tone"]
    six = s[s["subscriber_id"] == 6]
    assert six["start_date"].tolist() == six["end_date"].tolist() == [pd.Timestamp("2026-04-04")]
    ten = s[s["subscriber_id"] == 10]
    assert ten["free_month_leaver"].tolist() == [False, False]
    assert len(s) == 14
    assert set(subscription_spells(source(), family="ringback_tone")["subscriber_id"]) == {3}


def test_as_of_hides_later_records():
    s = subscription_spells(source(), as_of="2026-03-01")
    one = s[s["subscriber_id"] == 1]
    assert len(one) == 1 and pd.isna(one["end_date"].iloc[0])  # left on 03-05, after as_of
    assert s.loc[s["subscriber_id"] == 10, "end_date"].tolist() == [pd.Timestamp("2026-03-01")]
    assert s["start_date"].max() <= pd.Timestamp("2026-03-01")


def test_family_stays_merge_overlapping_and_touching_spells():
    f = family_spells(source())
    starts = f.groupby("subscriber_id")["start_date"].apply(lambda x: [d.strftime("%m-%d") for d in x]).to_dict()
    assert starts[2] == ["02-01"] and starts[5] == ["03-01"] and starts[10] == ["01-01", "03-03"]
    assert f.loc[f["subscriber_id"] == 2, "products"].tolist() == [2]
    merged = family_spells(source(), gap_days=2)
    assert merged.loc[merged["subscriber_id"] == 10, "start_date"].tolist() == [pd.Timestamp("2026-01-01")]


def test_active_subscribers_at_a_month_end():
    a = active_subscribers(source(), "mobile_newspaper", at="2026-03")
    assert a["subscriber_id"].tolist() == [2, 5, 10]
    assert a["products"].tolist() == [2, 1, 1]
    assert a["since"].dt.strftime("%Y-%m-%d").tolist() == ["2026-02-01", "2026-03-01", "2026-03-03"]
    # a subscriber who unsubscribes on a day is no longer subscribed that day
    assert 7 not in active_subscribers(source(), at="2026-06-30")["subscriber_id"].tolist()
    assert 7 in active_subscribers(source(), at="2026-06-29")["subscriber_id"].tolist()


def test_stable_subscribers_cover_every_day_of_the_last_months():
    s = stable_subscribers(source(), "mobile_newspaper", "2026-06", stable_months=3)
    assert s["subscriber_id"].tolist() == [2, 5, 8, 10]  # 7 left on 06-30, 9 started on 05-01
    assert s["tenure_months"].tolist() == [4, 3, 2, 3]
    # four month ends at 2026-05: the stay must have started by 02-28, so subscriber 10's two-day gap matters
    assert stable_subscribers(source(), snapshot="2026-05", stable_months=4)["subscriber_id"].tolist() == [2]
    assert stable_subscribers(source(), snapshot="2026-05", stable_months=4, gap_days=2)["subscriber_id"].tolist() \
        == [2, 10]
    assert stable_subscribers(source(), snapshot="2026-06", stable_months=1)["subscriber_id"].tolist() \
        == [1, 2, 4, 5, 8, 9, 10]


def test_subscriber_status_flags_every_subscriber_on_the_network():
    st = subscriber_status(source(), "mobile_newspaper", "2026-06", 3, horizon=3)
    assert st.index.tolist() == list(range(1, 11))  # subscriber 11 joins after the snapshot
    assert st.index[st["active"]].tolist() == [1, 2, 4, 5, 8, 9, 10]
    assert st.index[st["stable"]].tolist() == [2, 5, 8, 10]
    assert (st["nonsubscriber"] == ~st["active"]).all()
    assert st.index[st["active_before"]].tolist() == [2, 5, 10]
    # given the network's subscribers (a feature table's index), the same flags without joining them again
    known = subscriber_status(source(), "mobile_newspaper", "2026-06", 3, horizon=3, base=st.index)
    pd.testing.assert_frame_equal(known, st)
    fewer = subscriber_status(source(), "mobile_newspaper", "2026-06", 3, base=pd.Index([9, 3, 2]))
    assert fewer.index.tolist() == [9, 3, 2] and fewer["active"].tolist() == [True, False, True]
    assert fewer["stable"].tolist() == [False, False, True] and fewer["nonsubscriber"].tolist() == [False, True, False]


def test_monthly_flows_against_hand_counts():
    f = monthly_flows(source(), "mobile_newspaper")
    assert f["month"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
                                                        "2026-06"]
    assert f["orders"].tolist() == [2, 1, 3, 3, 3, 1]
    assert f["unsubscribes"].tolist() == [0, 0, 2, 2, 1, 1]
    assert f["free_month_leavers"].tolist() == [0, 0, 1, 0, 0, 0]
    assert f["subscribers"].tolist() == [2, 3, 3, 5, 7, 7]
    assert f["net_adds"].tolist() == [2, 1, 0, 2, 2, 0]
    part = monthly_flows(source(), "mobile_newspaper", start="2026-03", end="2026-04")
    assert part["subscribers"].tolist() == [3, 5] and part["net_adds"].tolist() == [0, 2]
    assert part["orders"].tolist() == [3, 3]
    empty = monthly_flows(source(), "fetion", start="2026-01", end="2026-02")
    assert empty[["subscribers", "orders", "net_adds"]].to_numpy().sum() == 0 and len(empty) == 2


def test_errors_name_the_parameter():
    with pytest.raises(ParameterError, match="'family' parameter must be one of .* Got 'newspaper'"):
        active_subscribers(source(), "newspaper", at="2026-03")
    with pytest.raises(ParameterError, match="'stable_months' parameter must be an integer >= 1. Got 0"):
        stable_subscribers(source(), snapshot="2026-06", stable_months=0)
    with pytest.raises(ParameterError, match="'gap_days' parameter must be an integer >= 0"):
        family_spells(source(), gap_days=-1)
    with pytest.raises(ParameterError, match="'at' parameter must be a date"):
        active_subscribers(source(), at="last month")
    with pytest.raises(ParameterError, match="'end' parameter must be a month on or after start"):
        monthly_flows(source(), start="2026-05", end="2026-03")
    with pytest.raises(ParameterError, match="no order of family 'fetion'"):
        monthly_flows(source(), "fetion")
    with pytest.raises(ParameterError, match="'horizon' parameter must be an integer >= 1"):
        subscriber_status(source(), snapshot="2026-06", horizon=0)


def test_missing_table_is_named():
    data = source()
    del data["vas_products"]
    with pytest.raises(DataValidationError, match="subscription_spells needs .* table 'vas_products' is missing"):
        subscription_spells(data)
