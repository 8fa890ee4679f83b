"""Status analysis: KPIs, penetration, retention, information value, drivers, potential on hand-made data."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.data.tables import USAGE_MEASURES
from workbench.errors import ParameterError
from workbench.status import (
    KPI_COLUMNS, assign_bands, average_retention, band_labels, fit_binning, fit_lookalike, information_value,
    own_feature_names, penetration, potential, potential_funnel, product_kpis, retention_curves, uptake_drivers,
    woe_table,
)

D = pd.to_datetime
PRODUCTS = pd.DataFrame({
    "product_id": ["mn_a", "mn_b", "rb"], "family": ["mobile_newspaper", "mobile_newspaper", "ringback_tone"],
    "content_category": ["news", "sports", None], "free_months": [1, 0, 0],
})


def orders(events: list[tuple]) -> pd.DataFrame:
    ev = pd.DataFrame(events, columns=["subscriber_id", "product_id", "event_date", "event_type"])
    ev.insert(0, "event_id", range(1, len(ev) + 1))
    ev["event_date"] = D(ev["event_date"])
    ev["channel"] = "sms"
    return ev


# ------------------------------------------------------------------ KPIs
def test_product_kpis_against_hand_counts():
    src = {"vas_products": PRODUCTS, "vas_orders": orders([
        (1, "mn_a", "2026-01-05", "order"), (1, "mn_a", "2026-01-20", "unsubscribe"),  # left in its free month
        (2, "mn_a", "2026-01-10", "order"),
        (3, "mn_a", "2026-02-01", "order"), (3, "mn_a", "2026-03-15", "unsubscribe"),
        (4, "mn_b", "2026-03-01", "order"),
        (5, "rb", "2026-02-01", "order"),  # another family
    ])}
    k = product_kpis(src, "mobile_newspaper")
    assert list(k.columns) == list(KPI_COLUMNS)
    assert k["month"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-02", "2026-03"]
    assert k["subscribers"].tolist() == [1, 2, 2]
    assert k["orders"].tolist() == [2, 1, 1]
    assert k["unsubscribes"].tolist() == [1, 0, 1]
    assert k["net_adds"].tolist() == [1, 1, 0]
    assert k["free_month_leavers"].tolist() == [1, 0, 0]
    assert k["free_month_leaver_share"].iloc[0] == 1.0 and math.isnan(k["free_month_leaver_share"].iloc[1])
    assert k["free_month_leaver_share"].iloc[2] == 0.0
    assert math.isnan(k["churn_rate"].iloc[0])  # nobody subscribed at the end of December
    assert k["churn_rate"].tolist()[1:] == [0.0, 0.5]


# ------------------------------------------------------------------ penetration
def _usage(rows: list[tuple]) -> pd.DataFrame:
    out = []
    for sid, month, arpu in rows:
        r = {"subscriber_id": sid, "month": pd.Timestamp(month + "-01"), **{m: 0.0 for m in USAGE_MEASURES}}
        r["arpu"] = float(arpu)
        out.append(r)
    return pd.DataFrame(out)


def penetration_source() -> dict[str, pd.DataFrame]:
    subs = pd.DataFrame({
        "subscriber_id": [1, 2, 3, 4, 5, 6, 7],
        "branch_id": ["urumqi"] * 3 + ["hami"] * 3 + ["hami"],
        "brand": ["gotone", "mzone", "easyown", "gotone", "mzone", "easyown", "gotone"],
        "tariff_plan": ["t"] * 7, "gender": ["M", "F", None, "M", "F", "M", "F"],
        "rejoined": [False, False, True, False, True, False, False],
        "age": [20, 30, np.nan, 40, 70, 17, 50],
        "join_date": D(["2020-01-01"] * 6 + ["2026-11-01"]),
    })
    usage = _usage([(1, "2026-09", 40), (1, "2026-10", 60), (2, "2026-08", 500), (2, "2026-10", 10),
                    (4, "2026-10", 150), (5, "2026-09", 80), (6, "2026-11", 999)])
    ev = orders([
        (1, "mn_a", "2026-05-01", "order"),
        (2, "mn_a", "2026-02-01", "order"), (2, "mn_a", "2026-10-31", "unsubscribe"),  # gone on the last day
        (3, "rb", "2026-05-01", "order"),
        (4, "mn_b", "2026-10-31", "order"),
        (5, "mn_a", "2026-01-01", "order"), (5, "mn_a", "2026-11-15", "unsubscribe"),  # after the snapshot
        (7, "mn_a", "2026-11-02", "order"),
    ])
    return {"subscribers": subs, "monthly_usage": usage, "vas_orders": ev, "vas_products": PRODUCTS}


def test_penetration_by_segment_against_hand_counts():
    p = penetration(penetration_source(), "2026-10", arpu_bands=(0, 50, 100, math.inf), arpu_months=2,
                    by=("branch_id", "brand", "age_band", "arpu_band", "rejoined"))
    total = p.iloc[0]
    assert (total["dimension"], total["subscribers"], total["active"], total["penetration"]) == ("total", 6, 3, 0.5)

    def seg(dim):
        rows = p[p["dimension"] == dim]
        return dict(zip(rows["value"], zip(rows["subscribers"], rows["active"])))

    assert seg("branch_id") == {"hami": (3, 2), "urumqi": (3, 1)}
    assert seg("brand") == {"easyown": (2, 0), "gotone": (2, 2), "mzone": (2, 1)}
    assert list(seg("age_band")) == ["0-18", "18-25", "25-35", "35-45", "65+", "unknown"]
    assert seg("age_band")["65+"] == (1, 1) and seg("age_band")["unknown"] == (1, 0)
    assert seg("arpu_band") == {"0-50": (1, 0), "50-100": (2, 2), "100+": (1, 1), "unknown": (2, 0)}
    assert seg("rejoined") == {"false": (4, 2), "true": (2, 1)}
    hami = p[(p["dimension"] == "branch_id") & (p["value"] == "hami")].iloc[0]
    assert hami["penetration"] == pytest.approx(2 / 3) and hami["lift"] == pytest.approx(4 / 3)


def test_bands_are_left_closed_with_an_unknown_band():
    assert band_labels((0, 18, math.inf)) == ["0-18", "18+"]
    b = assign_bands(pd.Series([0, 17.9, 18, np.nan, -1, 1e9]), (0, 18, math.inf))
    assert b.astype(str).tolist() == ["0-18", "0-18", "18+", "unknown", "unknown", "18+"]
    assert b.cat.ordered


def test_penetration_errors_are_named():
    src = penetration_source()
    with pytest.raises(ParameterError, match="'by' parameter must be a non-empty list of .* Got \\['region'\\]"):
        penetration(src, "2026-10", by=["region"])
    with pytest.raises(ParameterError, match="'age_bands' parameter must be at least two strictly increasing"):
        penetration(src, "2026-10", age_bands=(30, 20))
    with pytest.raises(ParameterError, match="'arpu_months' parameter must be an integer >= 1"):
        penetration(src, "2026-10", arpu_months=0)


# ------------------------------------------------------------------ retention
def retention_source() -> dict[str, pd.DataFrame]:
    return {"vas_products": PRODUCTS, "vas_orders": orders([
        (1, "mn_a", "2026-07-05", "order"),                                        # open
        (2, "mn_a", "2026-07-20", "order"), (2, "mn_a", "2026-07-25", "unsubscribe"),  # gone in the order month
        (3, "mn_b", "2026-07-01", "order"), (3, "mn_b", "2026-08-31", "unsubscribe"),  # gone on the last day of k=1
        (4, "mn_a", "2026-07-10", "order"), (4, "mn_a", "2026-09-01", "unsubscribe"),
        (5, "mn_a", "2026-09-03", "order"),
        (6, "mn_a", "2026-09-30", "order"), (6, "mn_a", "2026-10-01", "unsubscribe"),
        (6, "mn_a", "2026-12-01", "order"),                                        # after the snapshot
    ])}


def test_retention_curves_by_cohort():
    r = retention_curves(retention_source(), "mobile_newspaper", "2026-10")
    july = r[r["cohort"] == pd.Timestamp("2026-07-01")]
    assert july["k"].tolist() == [0, 1, 2, 3]  # observed up to the snapshot month only
    assert july["cohort_size"].unique().tolist() == [4]
    assert july["retained"].tolist() == [3, 2, 1, 1]
    assert july["retention"].tolist() == [0.75, 0.5, 0.25, 0.25]
    sept = r[r["cohort"] == pd.Timestamp("2026-09-01")]
    assert sept["retained"].tolist() == [2, 1] and sept["k"].tolist() == [0, 1]
    avg = average_retention(r)
    assert avg["retention"].tolist() == pytest.approx([5 / 6, 0.5, 0.25, 0.25])
    assert avg["cohorts"].tolist() == [2, 2, 1, 1]
    assert retention_curves(retention_source(), snapshot="2026-10", max_months=1)["k"].max() == 1
    assert retention_curves(retention_source(), snapshot="2026-10", start="2026-08")["cohort"].nunique() == 1


def test_retention_without_orders_is_empty():
    r = retention_curves(retention_source(), "fetion", "2026-10")
    assert r.empty and list(r.columns) == ["cohort", "k", "cohort_size", "retained", "retention"]


# ------------------------------------------------------------------ information value
def test_information_value_on_a_constructed_example():
    # A: 40 events / 10 non-events, B: 10 / 40 -> woe = +-ln 4, IV = 2 * 0.6 * ln 4
    x = pd.Series(["A"] * 50 + ["B"] * 50, name="segment")
    y = np.r_[np.ones(40), np.zeros(10), np.ones(10), np.zeros(40)].astype(int)
    w = woe_table(x, y, smoothing=0)
    assert w["label"].tolist() == ["A", "B"]
    assert w["woe"].tolist() == pytest.approx([math.log(4), -math.log(4)])
    frame = pd.DataFrame({"segment": x, "constant": 1.0, "noise": np.tile([0.0, 1.0], 50)})
    iv = information_value(frame, y, smoothing=0)
    assert iv["feature"].tolist()[0] == "segment" and iv["rank"].tolist() == [1, 2, 3]
    top = iv.iloc[0]
    assert top["iv"] == pytest.approx(1.2 * math.log(4))
    assert (top["top_bin"], top["top_bin_rate"], top["lift"]) == ("A", 0.8, pytest.approx(1.6))
    assert iv.set_index("feature").loc["constant", "iv"] == 0.0
    assert iv.set_index("feature").loc["noise", "iv"] == pytest.approx(0.0)


def test_numeric_binning_by_quantiles_keeps_a_mass_of_ties_apart():
    b = fit_binning(pd.Series([0.0] * 90 + [1.0] * 10), bins=10)
    assert b.labels == ("<= 0", "> 0", "missing")
    even = fit_binning(pd.Series(np.arange(100.0)), bins=4)
    codes = even.codes(pd.Series([0.0, 24.0, 25.0, 99.0, np.nan]))
    assert codes.tolist() == [0, 0, 1, 3, 4]
    rows = woe_table(pd.Series(np.arange(100.0)), np.r_[np.zeros(50), np.ones(50)], bins=4)["rows"]
    assert rows.tolist() == [25, 25, 25, 25]


def test_information_value_errors():
    frame = pd.DataFrame({"a": [1, 2, 3, 4]})
    with pytest.raises(ParameterError, match="'target' parameter must be both events and non-events"):
        information_value(frame, [0, 0, 0, 0])
    with pytest.raises(ParameterError, match="'target' parameter must be 0/1 or boolean"):
        information_value(frame, [0, 1, 2, 1])
    with pytest.raises(ParameterError, match="'target' parameter must be one value per row \\(4\\)"):
        information_value(frame, [0, 1])
    with pytest.raises(ParameterError, match="'features' parameter must be columns of the frame"):
        information_value(frame, [0, 1, 0, 1], features=["b"])
    with pytest.raises(ParameterError, match="'bins' parameter must be an integer >= 2"):
        information_value(frame, [0, 1, 0, 1], bins=1)
    with pytest.raises(ParameterError, match="'smoothing' parameter must be a number >= 0. Got -1"):
        woe_table(frame["a"], [0, 1, 0, 1], smoothing=-1)
    with pytest.raises(ParameterError, match=r"'min_bin_share' parameter must be a share in \[0, 1\)"):
        information_value(frame, [0, 1, 0, 1], min_bin_share=1.5)


# ------------------------------------------------------------------ drivers and potential
def constructed_base() -> tuple[pd.DataFrame, pd.DataFrame]:
    """105 subscribers: segment H (25) holds most stable subscribers, L (80) few.

    H: 10 stable (6 of them subscribed six months ago), 10 non-subscribers, 5 recent non-stable subscribers.
    L: 2 stable (both subscribed six months ago), 78 non-subscribers.
    """
    seg = ["H"] * 25 + ["L"] * 80
    stable = [True] * 10 + [False] * 15 + [True] * 2 + [False] * 78
    active = [True] * 10 + [False] * 10 + [True] * 5 + [True] * 2 + [False] * 78
    before = [True] * 6 + [False] * 19 + [True] * 2 + [False] * 78
    idx = pd.Index(range(1, 106), name="subscriber_id")
    features = pd.DataFrame({"segment": pd.Categorical(seg),
                             "vas_fam_mobile_newspaper_active": active,
                             "noise": np.tile([1.0, 2.0, 3.0], 35)}, index=idx)
    status = pd.DataFrame({"active": active, "stable": stable, "nonsubscriber": [not a for a in active],
                           "active_before": before}, index=idx)
    return features, status


def test_uptake_drivers_leave_out_the_familys_own_features():
    features, status = constructed_base()
    d = uptake_drivers({"vas_products": PRODUCTS}, features=features, status=status, bins=3)
    assert "vas_fam_mobile_newspaper_active" not in d["feature"].tolist()
    assert d["feature"].iloc[0] == "segment"
    assert (d["sample"].iloc[0], d["events"].iloc[0]) == (100, 12)  # the 5 non-stable subscribers are left out
    own = own_feature_names("mobile_newspaper", ["news"])
    assert "vas_fam_mobile_newspaper_orders" in own and "vas_cat_news_active" in own
    assert "vas_cat_music_active" not in own and "vas_fam_ringback_tone_active" not in own


def test_potential_bands_density_conversion_and_funnel():
    features, status = constructed_base()
    bands = potential({}, features=features, status=status, drivers=["segment"], k=2.0)
    assert bands["band"].tolist() == [1, 2]
    b1, b2 = bands.iloc[0], bands.iloc[1]
    assert (b1["subscribers"], b1["stable"], b1["nonsubscribers"]) == (25, 10, 10)
    assert (b2["subscribers"], b2["stable"], b2["nonsubscribers"]) == (80, 2, 78)
    assert b1["density"] == 0.5 and b1["density_ratio"] == pytest.approx(0.5 / 0.12)
    assert bands["high_potential"].tolist() == [True, False]
    assert (b1["at_risk"], b1["converted"]) == (19, 4) and b1["conversion_rate"] == pytest.approx(4 / 19)
    assert b1["expected_new_stable"] == pytest.approx(40 / 19) and b2["expected_new_stable"] == 0.0
    assert bands.attrs["drivers"] == ["segment"]
    f = potential_funnel(bands)
    assert f["stage"].tolist() == ["base", "nonsubscribers", "lookalikes", "expected_new_stable"]
    assert f["count"].tolist() == pytest.approx([105, 88, 10, 40 / 19])
    fixed = potential({}, features=features, status=status, drivers=["segment"], conversion_rate=0.1)
    assert fixed["expected_new_stable"].tolist() == pytest.approx([1.0, 7.8])


def test_lookalike_score_is_the_sum_of_weights_of_evidence():
    features, status = constructed_base()
    sample = features[status["stable"] | status["nonsubscriber"]]
    y = status.loc[sample.index, "stable"].astype(int)
    model = fit_lookalike(sample, y, ["segment"], smoothing=0)
    s = model.score(features)
    # H in the sample: 10 stable / 10 non; L: 2 / 78; overall 12 / 88
    assert s.loc[1] == pytest.approx(math.log((10 / 12) / (10 / 88)))
    assert s.loc[105] == pytest.approx(math.log((2 / 12) / (78 / 88)))


def test_potential_errors():
    features, status = constructed_base()
    with pytest.raises(ParameterError, match="'horizon' parameter must be at least stable_months \\(3\\)"):
        potential({}, features=features, status=status, drivers=["segment"], horizon=2)
    with pytest.raises(ParameterError, match="'status' parameter must be subscriber_status\\(..., horizon=...\\)"):
        potential({}, features=features, status=status.drop(columns="active_before"), drivers=["segment"])
    with pytest.raises(ParameterError, match="'conversion_rate' parameter must be a rate in \\[0, 1\\]"):
        potential({}, features=features, status=status, drivers=["segment"], conversion_rate=2)
    with pytest.raises(ParameterError, match="'drivers' parameter must be columns of the sample"):
        potential({}, features=features, status=status, drivers=["nope"])
    nobody = status.assign(stable=False)
    with pytest.raises(ParameterError, match="'status' parameter must be a base with both stable subscribers"):
        potential({}, features=features, status=nobody, drivers=["segment"])
    with pytest.raises(ParameterError, match="'bands' parameter must be potential\\(\\) output"):
        potential_funnel(pd.DataFrame({"band": [1]}))
