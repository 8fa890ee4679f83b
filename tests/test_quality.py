"""Quality of acquired subscribers and product growth: hand-computed retention, unsubscribe and
free-month-leaver rates, the ARPU difference-in-differences, the product trend, and their figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.proportion import proportion_confint

from workbench.errors import DataValidationError, ParameterError
from workbench.metrics.experiment import proportion_effect
from workbench.tracking.quality import (
    DID_COLUMNS, RETENTION_COLUMNS, TREND_COLUMNS, UNSUBSCRIBE_COLUMNS, arpu_did, product_trend, retention_table,
    unsubscribe_table,
)
from workbench.viz.quality import arpu_did_figure, product_trend_figure, retention_curve_figure

AS_OF = "2027-01-10"
NAT = None
# id, group, responded, response date, subscribed until
_ROWS = [
    (1, "target", True, "2026-11-05", NAT),             # still subscribed
    (2, "target", True, "2026-11-05", "2026-11-20"),    # left inside the free month
    (3, "target", True, "2026-11-05", "2026-12-05"),    # left on the 1-month day: not retained at 1 month
    (4, "target", True, "2026-11-05", "2026-12-06"),    # retained at 1 month, not at 2
    (5, "target", True, "2026-12-20", "2026-12-25"),    # too recent for the 1-month and free-month counts
    (6, "target", False, NAT, NAT),
    (7, "control", True, "2026-11-05", NAT),
    (8, "control", True, "2026-11-05", "2027-01-05"),   # left on the 2-month day
    (9, "control", False, NAT, NAT),
]
ATT = pd.DataFrame({
    "subscriber_id": [r[0] for r in _ROWS], "group": [r[1] for r in _ROWS], "responded": [r[2] for r in _ROWS],
    "response_date": pd.to_datetime([r[3] for r in _ROWS]), "subscribed_until": pd.to_datetime([r[4] for r in _ROWS]),
})


# ------------------------------------------------------------------ retention and unsubscribes
def test_retention_by_hand():
    out = retention_table(ATT, as_of=AS_OF, months=[1, 2, 3])
    assert list(out.columns) == list(RETENTION_COLUMNS)
    assert out["months"].tolist() == [1, 2, 3]
    assert out["n_treated"].tolist() == [4, 4, 0]          # member 5 is not observed a month yet
    assert out["count_treated"].tolist() == [2, 1, 0]      # month 1: 1 and 4; month 2: 1
    assert out["n_control"].tolist() == [2, 2, 0]
    assert out["count_control"].tolist() == [2, 1, 0]
    assert out["rate_treated"].tolist()[:2] == [0.5, 0.25]
    assert out["rate_control"].tolist()[:2] == [1.0, 0.5]
    lo, hi = proportion_confint(2, 4, alpha=0.05, method="wilson")
    assert out.loc[0, "rate_treated_ci_low"] == pytest.approx(lo)
    assert out.loc[0, "rate_treated_ci_high"] == pytest.approx(hi)
    ref = proportion_effect([2, 1], [4, 4], [2, 1], [2, 2])
    for col in ("abs_lift", "abs_ci_low", "abs_ci_high", "p_value"):
        np.testing.assert_allclose(out[col].to_numpy()[:2], ref[col].to_numpy(), equal_nan=True)
    assert np.isnan(out.loc[2, "rate_treated"]) and "empty_group" in out.loc[2, "note"]


def test_unsubscribe_and_free_month_leavers_by_hand():
    out = unsubscribe_table(ATT, as_of=AS_OF)
    assert list(out.columns) == list(UNSUBSCRIBE_COLUMNS)
    rows = out.set_index("metric")
    # unsubscribed by as_of among all responders: target 2, 3, 4, 5 of 5; control 8 of 2
    counts = ["count_treated", "n_treated", "count_control", "n_control"]
    assert rows.loc["unsubscribed", counts].tolist() == [4, 5, 1, 2]
    # free-month leavers among responders whose free month is over: target 2 of 1-4 (3 left on the day itself)
    assert rows.loc["free_month_leaver", counts].tolist() == [1, 4, 0, 2]
    assert rows.loc["free_month_leaver", "rate_treated"] == 0.25
    assert rows.loc["unsubscribed", "abs_lift"] == pytest.approx(0.8 - 0.5)


def test_retention_errors():
    with pytest.raises(DataValidationError, match=r"attribution: missing column\(s\) \['subscribed_until'\]"):
        retention_table(ATT.drop(columns="subscribed_until"), as_of=AS_OF)
    with pytest.raises(ParameterError, match="'months' parameter must be an integer >= 1"):
        retention_table(ATT, as_of=AS_OF, months=[0, 1])
    with pytest.raises(ParameterError, match="holds neither the treated value 'a' nor the control value 'b'"):
        retention_table(ATT, as_of=AS_OF, treated_value="a", control_value="b")
    with pytest.raises(ParameterError, match="'alpha' parameter must be a number strictly between 0 and 1"):
        unsubscribe_table(ATT, as_of=AS_OF, alpha=1.5)
    with pytest.raises(ParameterError, match="'free_months' parameter must be an integer >= 1"):
        unsubscribe_table(ATT, as_of=AS_OF, free_months=0)


# ------------------------------------------------------------------ ARPU difference-in-differences
def _panel(n=300, effect_treated=5.0, effect_control=1.0, seed=0):
    """Two pre months, the campaign month and two post months; a known effect on the target group."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, 2 * n + 1)
    group = np.where(ids <= n, "target", "control")
    responded = rng.random(2 * n) < 0.3
    base = rng.gamma(4.0, 25.0, 2 * n)
    months = pd.to_datetime(["2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"])
    rows = []
    for j, m in enumerate(months):
        shift = np.where(group == "target", effect_treated, effect_control) * (j >= 3)
        rows.append(pd.DataFrame({"subscriber_id": ids, "month": m,
                                  "arpu": base + shift + rng.normal(0, 8, 2 * n)}))
    attribution = pd.DataFrame({"subscriber_id": ids, "group": group, "responded": responded})
    return pd.concat(rows, ignore_index=True), attribution


def test_did_recovers_a_known_effect_and_equals_the_two_way_regression():
    panel, att = _panel()
    out = arpu_did(panel, att, campaign_start="2026-09-10")
    assert list(out.columns) == list(DID_COLUMNS)
    groups = out.set_index("comparison").loc["groups"]
    assert groups["n_treated"] == 300 and groups["n_control"] == 300
    assert groups["did"] == pytest.approx(groups["change_treated"] - groups["change_control"])
    assert groups["ci_low"] <= 4.0 <= groups["ci_high"]
    assert groups["ci_high"] - groups["ci_low"] < 3.0 and groups["p_value"] < 1e-6
    # the same estimate from arpu ~ target * post on the pre / post months, errors clustered by member
    long = panel[panel["month"] != pd.Timestamp("2026-09-01")].merge(att, on="subscriber_id")
    long["target"] = (long["group"] == "target").astype(float)
    long["post"] = (long["month"] > pd.Timestamp("2026-09-01")).astype(float)
    fit = smf.ols("arpu ~ target * post", data=long).fit(cov_type="cluster",
                                                         cov_kwds={"groups": long["subscriber_id"]})
    assert groups["did"] == pytest.approx(fit.params["target:post"])
    assert groups["se"] == pytest.approx(fit.bse["target:post"], rel=0.05)
    # the responders' comparison uses only responders
    resp = out.set_index("comparison").loc["responders"]
    assert resp["n_treated"] + resp["n_control"] == int(att["responded"].sum())
    assert resp["ci_low"] <= 4.0 <= resp["ci_high"]


def test_did_with_explicit_months_and_notes():
    panel, att = _panel(n=40, effect_treated=2.0, effect_control=2.0, seed=3)
    out = arpu_did(panel, att, campaign_start="2026-09-01", pre_months=["2026-08"], post_months=["2026-11"],
                   compare="groups")
    assert out["comparison"].tolist() == ["groups"]
    one = panel[panel["month"].isin(pd.to_datetime(["2026-08-01", "2026-11-01"]))]
    wide = one.pivot(index="subscriber_id", columns="month", values="arpu")
    change = wide.iloc[:, 1] - wide.iloc[:, 0]
    target = att.set_index("subscriber_id")["group"] == "target"
    assert out.loc[0, "did"] == pytest.approx(change[target].mean() - change[~target].mean())
    # a member without post months is left out and noted; a side with one member is too few
    partial = panel[~((panel["subscriber_id"] == 1) & (panel["month"] > pd.Timestamp("2026-09-01")))]
    noted = arpu_did(partial, att, campaign_start="2026-09-01", compare="groups")
    assert noted.loc[0, "n_treated"] == 39 and noted.loc[0, "note"] == "dropped_missing"
    tiny = att.assign(responded=att["subscriber_id"].isin([1, 41, 42]))
    few = arpu_did(panel, tiny, campaign_start="2026-09-01", compare="responders")
    assert "too_few" in few.loc[0, "note"] and np.isnan(few.loc[0, "did"])
    assert few.loc[0, "n_treated"] == 1 and few.loc[0, "n_control"] == 2


def test_did_errors():
    panel, att = _panel(n=10)
    with pytest.raises(ParameterError, match="'compare' parameter must be one or more of"):
        arpu_did(panel, att, campaign_start="2026-09-01", compare="everyone")
    with pytest.raises(ParameterError, match="'cov_type' parameter must be one of"):
        arpu_did(panel, att, campaign_start="2026-09-01", cov_type="HC9")
    with pytest.raises(ParameterError, match="has no pre-campaign month"):
        arpu_did(panel, att, campaign_start="2026-06-01")
    with pytest.raises(DataValidationError, match=r"arpu: missing column\(s\) \['arpu'\]"):
        arpu_did(panel.rename(columns={"arpu": "bill"}), att, campaign_start="2026-09-01")


# ------------------------------------------------------------------ product trend
PRODUCTS = pd.DataFrame({"product_id": ["MN_NEWS", "RBT"], "family": ["mobile_newspaper", "ringback_tone"],
                         "content_category": ["news", "music"], "free_months": [1, 0]})


def _events(rows, first_id=1):
    return pd.DataFrame({
        "event_id": range(first_id, first_id + len(rows)), "subscriber_id": [r[0] for r in rows],
        "product_id": [r[1] for r in rows], "event_date": pd.to_datetime([r[2] for r in rows]),
        "event_type": [r[3] for r in rows], "channel": "sms",
    })


def test_product_trend_joins_history_and_simulated_months():
    history = _events([
        (1, "MN_NEWS", "2026-08-03", "order"), (2, "MN_NEWS", "2026-08-10", "order"),
        (2, "MN_NEWS", "2026-09-02", "unsubscribe"), (3, "MN_NEWS", "2026-10-15", "order"),
        (4, "RBT", "2026-10-01", "order"),
    ])
    simulated = _events([
        (10, "MN_NEWS", "2026-11-05", "order"), (11, "MN_NEWS", "2026-11-20", "order"),
        (11, "MN_NEWS", "2026-12-03", "unsubscribe"), (12, "MN_NEWS", "2027-01-10", "order"),
    ], first_id=100)
    source = {"vas_orders": history, "vas_products": PRODUCTS}
    out = product_trend(source, simulated, campaign_start="2026-11-02", campaign_end="2026-11-30",
                        start="2026-08")
    assert list(out.columns) == list(TREND_COLUMNS)
    assert out["month"].dt.strftime("%Y-%m").tolist() == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12",
                                                          "2027-01"]
    assert out["subscribers"].tolist() == [2, 1, 2, 4, 3, 4]
    assert out["orders"].tolist() == [2, 0, 1, 2, 0, 1]
    assert out["unsubscribes"].tolist() == [0, 1, 0, 0, 1, 0]
    assert out["free_month_leavers"].tolist() == [0, 1, 0, 0, 1, 0]
    assert out["source"].tolist() == ["observed"] * 3 + ["simulated"] * 3
    assert out["in_campaign"].tolist() == [False, False, False, True, False, False]
    observed_only = product_trend(source, campaign_start="2026-10-01", campaign_end="2026-10-31")
    assert observed_only["source"].eq("observed").all() and observed_only["in_campaign"].sum() == 1
    with pytest.raises(ParameterError, match="'campaign_end' parameter must be a day on or after campaign_start"):
        product_trend(source, simulated, campaign_start="2026-11-02", campaign_end="2026-10-01")


# ------------------------------------------------------------------ figures
def test_retention_figure_starts_at_one_and_uses_catalogue_labels():
    fig = retention_curve_figure(retention_table(ATT, as_of=AS_OF, months=[1, 2]), lang="en")
    assert isinstance(fig, go.Figure)
    assert [tr.name for tr in fig.data] == ["Target", "Control"]
    assert list(fig.data[0].x) == [0, 1, 2] and list(fig.data[0].y) == [1.0, 0.5, 0.25]
    assert fig.layout.title.text == "Retention of acquired subscribers: target vs control"
    assert retention_curve_figure(retention_table(ATT, as_of=AS_OF)).data[1].name == "对照组"
    with pytest.raises(ParameterError, match="'retention' parameter must be a retention_table"):
        retention_curve_figure(ATT)


def test_did_figure_has_both_changes_and_the_difference_with_its_interval():
    panel, att = _panel(n=50)
    did = arpu_did(panel, att, campaign_start="2026-09-01")
    fig = arpu_did_figure(did, lang="en")
    assert [tr.name for tr in fig.data] == ["Target change", "Control change", "Difference (DiD)"]
    assert list(fig.data[0].x) == ["Target vs control group", "Target vs control responders"]
    np.testing.assert_allclose(fig.data[2].y, did["did"])
    np.testing.assert_allclose(fig.data[2].error_y.array, did["ci_high"] - did["did"])
    with pytest.raises(ParameterError, match="'did' parameter must be a arpu_did"):
        arpu_did_figure(panel)


def test_trend_figure_marks_the_campaign_and_dashes_the_simulated_months():
    trend = pd.DataFrame({
        "month": pd.to_datetime(["2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01"]),
        "subscribers": [10, 12, 15, 16], "orders": [3, 4, 6, 2], "unsubscribes": [1, 2, 3, 1],
        "free_month_leavers": [0, 1, 1, 0], "net_adds": [2, 2, 3, 1],
        "source": ["observed", "observed", "simulated", "simulated"], "in_campaign": [False, False, True, False],
    })
    fig = product_trend_figure(trend, campaign_start="2026-11-02", campaign_end="2026-11-30", lang="en")
    assert [tr.name for tr in fig.data] == ["Orders", "Unsubscribes", "Subscribers (observed)",
                                            "Subscribers (simulated)"]
    assert fig.data[3].line.dash == "dash" and list(fig.data[3].y) == [12, 15, 16]   # joined to October
    assert fig.data[2].yaxis == "y2"
    band = fig.layout.shapes[0]
    assert pd.Timestamp(band.x0) == pd.Timestamp("2026-11-02") and pd.Timestamp(band.x1) == pd.Timestamp("2026-11-30")
    assert fig.layout.title.text == "Mobile newspaper: subscribers by month"
    assert fig.layout.annotations[0].text == "Campaign"
    with pytest.raises(ParameterError, match="'campaign_end' parameter must be a day on or after campaign_start"):
        product_trend_figure(trend, campaign_start="2026-11-02", campaign_end="2026-11-01")
