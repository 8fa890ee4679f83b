"""The model sample of the target model: composition, exclusions and the out-of-time frame, on a tiny
hand-made province whose every subscriber's group is worked out in the comments."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError
from workbench.features import FEATURES
from workbench.models.sample import (
    GROUPS, ModelSample, OutOfTimePlan, SampleComposition, excluded_features, family_categories, last_data_month,
    model_columns, model_sample, out_of_time_labels, out_of_time_plan, sample_from_status,
)

MN = "mobile_newspaper"


def _orders(rows):
    return pd.DataFrame(
        [(i + 1, s, p, pd.Timestamp(d), e, "sms") for i, (s, p, d, e) in enumerate(rows)],
        columns=["event_id", "subscriber_id", "product_id", "event_date", "event_type", "channel"])


@pytest.fixture
def province() -> dict:
    """Snapshot 2026-10, stable_months 3: a stay must start on or before 2026-08-31 and be open after 2026-10-31.

    1  never ordered                                              -> potential
    2  news edition from 2026-07-15, open                          -> stable
    3  news edition from 2026-09-10                                -> recent (left out)
    4  news 2026-03-01 .. 2026-06-10                               -> potential (left before)
    5  ring-back tone only                                         -> potential
    6  sports edition from 2026-08-31 (the last day that counts)   -> stable
    7  news edition from 2026-09-01 (one day too late)             -> recent
    8  joined 2026-11-05, after the snapshot                       -> not on the network
    9  news 2026-06-01 .. 2026-08-15, sports from 2026-08-15       -> stable (one continuous stay)
    10 news from 2026-05-02, unsubscribed 2026-10-20               -> potential (not subscribed at the month end)
    """
    subs = pd.DataFrame({"subscriber_id": list(range(1, 11)),
                         "join_date": pd.to_datetime(["2020-01-01"] * 7 + ["2026-11-05", "2020-01-01", "2020-01-01"])})
    products = pd.DataFrame({"product_id": ["MN_NEWS", "MN_SPORTS", "RBT"], "family": [MN, MN, "ringback_tone"],
                             "content_category": ["news", "sports", "music"], "free_months": [1, 1, 0]})
    orders = _orders([
        (2, "MN_NEWS", "2026-07-15", "order"),
        (3, "MN_NEWS", "2026-09-10", "order"),
        (4, "MN_NEWS", "2026-03-01", "order"), (4, "MN_NEWS", "2026-06-10", "unsubscribe"),
        (5, "RBT", "2026-04-01", "order"),
        (6, "MN_SPORTS", "2026-08-31", "order"),
        (7, "MN_NEWS", "2026-09-01", "order"),
        (8, "MN_NEWS", "2026-11-06", "order"),
        (9, "MN_NEWS", "2026-06-01", "order"), (9, "MN_NEWS", "2026-08-15", "unsubscribe"),
        (9, "MN_SPORTS", "2026-08-15", "order"),
        (10, "MN_NEWS", "2026-05-02", "order"), (10, "MN_NEWS", "2026-10-20", "unsubscribe"),
    ])
    usage = pd.DataFrame({"subscriber_id": [1, 1], "month": pd.to_datetime(["2026-09-01", "2026-10-01"])})
    return {"subscribers": subs, "vas_products": products, "vas_orders": orders, "monthly_usage": usage}


# ------------------------------------------------------------------ composition
def test_sample_composition_on_the_hand_made_province(province):
    s = model_sample(province, MN, "2026-10", 3)
    assert isinstance(s, ModelSample)
    assert s.rows.index.tolist() == [1, 2, 4, 5, 6, 9, 10]
    assert s.rows["group"].tolist() == ["potential", "stable", "potential", "potential", "stable", "stable",
                                        "potential"]
    assert s.target.tolist() == [0, 1, 0, 0, 1, 1, 0]
    assert s.potential_ids.tolist() == [1, 4, 5, 10]
    c = s.composition
    assert (c.sample_size, c.potential, c.stable, c.recent, c.base) == (7, 4, 3, 2, 9)
    assert c.target_share == pytest.approx(3 / 7)
    assert c.snapshot == "2026-10" and c.product == MN and c.stable_months == 3
    assert c.equation("en") == "7 = 4 + 3 (target share 42.857%)"
    assert c.equation("zh") == "7 = 4 + 3(目标用户占比 42.857%)"
    assert c.to_dict()["target_share"] == pytest.approx(3 / 7)
    table = c.table("en")
    assert table["users"].tolist() == [7, 4, 3, 2]
    assert table["share"].tolist() == pytest.approx([1.0, 4 / 7, 3 / 7, 2 / 9])
    assert table["item"].iloc[2] == "Stable subscribers (subscribed at 3 month ends)"


def test_a_longer_stable_definition_moves_subscribers_to_recent(province):
    # 4 month ends: a stay must start on or before 2026-07-31 -> only subscriber 2 (07-15) and 9 (06-01) are stable
    c = model_sample(province, MN, "2026-10", 4).composition
    assert (c.potential, c.stable, c.recent) == (4, 2, 3)


def test_the_source_form_of_the_composition():
    c = SampleComposition(MN, "2026-10", 3, sample_size=1_039_229, potential=1_001_143, stable=38_086, recent=0,
                          base=1_039_229)
    assert c.equation("en") == "1,039,229 = 1,001,143 + 38,086 (target share 3.665%)"


def test_sample_from_status_errors():
    idx = pd.Index([1, 2], name="subscriber_id")
    with pytest.raises(DataValidationError, match=r"lacks column\(s\) \['stable'\]"):
        sample_from_status(pd.DataFrame({"active": [True, False]}, index=idx))
    with pytest.raises(DataValidationError, match="'stable' but not 'active'"):
        sample_from_status(pd.DataFrame({"active": [False, False], "stable": [True, False]}, index=idx))
    with pytest.raises(DataValidationError, match="missing values"):
        sample_from_status(pd.DataFrame({"active": [None, False], "stable": [False, False]}, index=idx))
    with pytest.raises(ParameterError, match="'status' parameter must be a DataFrame"):
        sample_from_status([1, 2])
    with pytest.raises(ParameterError, match="'product' parameter must be one of"):
        sample_from_status(pd.DataFrame({"active": [False], "stable": [False]}), product="newspaper")
    with pytest.raises(ParameterError, match="'stable_months' parameter must be an integer >= 1"):
        sample_from_status(pd.DataFrame({"active": [False], "stable": [False]}), stable_months=0)


# ------------------------------------------------------------------ exclusions
def test_the_target_own_subscription_features_are_excluded(province):
    cats = family_categories(province, MN)
    assert cats == ("news", "sports")
    ex = excluded_features(MN, cats)
    own = {f.name for f in FEATURES if f.name.startswith("vas_fam_mobile_newspaper_")}
    assert own and {n for n, r in ex.items() if r == "own_family"} == own
    assert {n for n, r in ex.items() if r == "own_category"} == {
        f"vas_cat_{c}_{k}" for c in cats for k in ("orders", "unsubscribes", "active", "months_since_order")}
    assert {n for n, r in ex.items() if r == "own_fee"} == {
        f"{m}_{s}" for m in ("vas_spend", "arpu") for s in ("mean", "max", "last", "trend")}
    cols = model_columns(MN, cats, extra=["content_pref_news", "vas_fam_mobile_newspaper_active"])
    assert not set(cols) & set(ex)
    assert cols[-1] == "content_pref_news"
    # what a person reads is kept; other families' and other categories' subscriptions are kept
    for kept in ("content_share_news", "content_news_mean", "vas_fam_ringback_tone_active", "vas_cat_music_active",
                 "gprs_mb_mean", "handset_cap_mms"):
        assert kept in cols
    assert len(cols) == len(FEATURES) - len(ex) + 1
    # another family drops its own features instead
    assert "vas_fam_mobile_newspaper_active" not in excluded_features("ringback_tone", ["music"])


def test_family_categories_errors(province):
    with pytest.raises(DataValidationError, match="no product of family 'fetion'"):
        family_categories(province, "fetion")
    with pytest.raises(DataValidationError, match="vas_products"):
        family_categories({"subscribers": province["subscribers"]}, MN)


# ------------------------------------------------------------------ out of time
def test_out_of_time_plan():
    assert out_of_time_plan("2026-10", 3) == OutOfTimePlan("2026-07", "2026-10", 3)
    assert out_of_time_plan("2026-02", 3, horizon=5).train_snapshot == "2025-09"
    assert out_of_time_plan("2026-10", 3).to_dict() == {"train_snapshot": "2026-07", "eval_snapshot": "2026-10",
                                                        "horizon": 3}
    with pytest.raises(ParameterError, match="'horizon' parameter must be an integer >= stable_months"):
        out_of_time_plan("2026-10", 3, horizon=2)
    with pytest.raises(ParameterError, match="'snapshot' parameter"):
        out_of_time_plan("October", 3)


def test_out_of_time_labels_follow_the_potential_customers_of_the_training_snapshot(province):
    """At 2026-07-31 subscribed: 2 (since 07-15), 9 (since 06-01), 10 (since 05-02); 4 had left; 8 not joined.

    Potential customers then: 1, 3, 4, 5, 6, 7.  At 2026-10: 6 is stable, 3 and 7 are recent,
    1, 4, 5 never ordered again.
    """
    plan = out_of_time_plan("2026-10", 3)
    labels = out_of_time_labels(province, plan, MN, 3)
    assert labels.index.tolist() == [1, 3, 4, 5, 6, 7]
    assert labels["outcome"].tolist() == ["potential", "recent", "potential", "potential", "stable", "recent"]
    assert labels["target"].tolist() == [0, 0, 0, 0, 1, 0]
    with pytest.raises(ParameterError, match="'plan' parameter must be an OutOfTimePlan"):
        out_of_time_labels(province, ("2026-07", "2026-10"))


def test_the_training_sample_reads_nothing_after_its_snapshot(province):
    """The sample of T - k is the same whether or not the data after T - k exist."""
    plan = out_of_time_plan("2026-10", 3)
    cut = pd.Timestamp("2026-07-31")
    truncated = dict(province)
    truncated["vas_orders"] = province["vas_orders"][province["vas_orders"]["event_date"] <= cut]
    truncated["subscribers"] = province["subscribers"][province["subscribers"]["join_date"] <= cut]
    full = model_sample(province, MN, plan.train_snapshot, 3)
    short = model_sample(truncated, MN, plan.train_snapshot, 3)
    pd.testing.assert_frame_equal(full.rows, short.rows)
    assert full.composition == short.composition
    # ... while the sample of T does change when the later data are removed (the check is not vacuous)
    assert model_sample(province, MN, "2026-10", 3).composition != model_sample(truncated, MN, "2026-10", 3).composition


def test_last_data_month(province):
    assert last_data_month(province) == "2026-10"
    empty = dict(province, monthly_usage=province["monthly_usage"].iloc[:0])
    with pytest.raises(DataValidationError, match="monthly_usage has no rows"):
        last_data_month(empty)


def test_groups_constant():
    assert GROUPS == ("potential", "stable", "recent")
