"""Status figure builders return figures with the expected traces and catalogue labels."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.errors import ParameterError
from workbench.viz.status import (
    drivers_figure, kpi_trend_figure, penetration_figure, potential_bands_figure, potential_funnel_figure,
    retention_figure,
)

KPIS = pd.DataFrame({
    "month": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01"]), "subscribers": [10, 12, 11],
    "orders": [3, 4, 1], "unsubscribes": [1, 2, 2], "net_adds": [2, 2, -1], "free_month_leavers": [0, 1, 1],
    "free_month_leaver_share": [0.0, 0.5, 0.5], "churn_rate": [0.1, 0.2, 0.17],
})
PEN = pd.DataFrame({
    "dimension": ["total", "branch_id", "branch_id", "brand", "brand", "age_band"],
    "value": ["total", "urumqi", "hami", "gotone", "mzone", "unknown"],
    "subscribers": [100, 60, 40, 30, 70, 5], "active": [10, 8, 2, 6, 4, 0],
    "penetration": [0.1, 8 / 60, 0.05, 0.2, 4 / 70, 0.0], "lift": [1.0, 1.33, 0.5, 2.0, 0.57, 0.0],
})
CURVES = pd.DataFrame({
    "cohort": pd.to_datetime(["2026-07-01"] * 4 + ["2026-09-01"] * 2), "k": [0, 1, 2, 3, 0, 1],
    "cohort_size": [4, 4, 4, 4, 2, 2], "retained": [3, 2, 1, 1, 2, 1],
    "retention": [0.75, 0.5, 0.25, 0.25, 1.0, 0.5],
})
DRIVERS = pd.DataFrame({
    "rank": [1, 2, 3], "feature": ["arpu_mean", "brand", "not_in_catalogue"], "kind": ["numeric", "categorical", "x"],
    "iv": [0.9, 0.4, 0.1], "bins": [10, 3, 2], "top_bin": ["> 200", "gotone", "a"],
    "top_bin_share": [0.1, 0.2, 0.5], "top_bin_rate": [0.2, 0.1, 0.05], "lift": [5.0, 2.5, 1.2],
})
BANDS = pd.DataFrame({"band": [1, 2, 3], "density_ratio": [4.0, 1.5, 0.2], "nonsubscribers": [10, 50, 90],
                      "high_potential": [True, False, False], "subscribers": [25, 55, 92],
                      "expected_new_stable": [2.1, 1.0, 0.1]})
FUNNEL = pd.DataFrame({"stage": ["base", "nonsubscribers", "lookalikes", "expected_new_stable"],
                       "count": [172.0, 150.0, 10.0, 2.1], "share": [1.0, 0.87, 0.06, 0.01]})


def test_kpi_trend_has_one_bar_per_flow_and_the_base_line():
    fig = kpi_trend_figure(KPIS, lang="en")
    assert isinstance(fig, go.Figure)
    assert [tr.type for tr in fig.data] == ["bar", "bar", "bar", "scatter"]
    assert [tr.name for tr in fig.data] == ["Orders", "Unsubscribes", "Free-month leavers", "Subscribers at month end"]
    assert fig.data[3].yaxis == "y2" and list(fig.data[0].y) == [3, 4, 1]
    assert fig.layout.title.text == "Mobile newspaper: monthly KPIs"
    zh = kpi_trend_figure(KPIS, bars=["net_adds"], line=None, lang="zh")
    assert [tr.name for tr in zh.data] == ["净增"] and zh.layout.title.text == "手机报月度关键指标"


def test_penetration_bars_with_the_average():
    fig = penetration_figure(PEN, "branch_id", lang="zh")
    assert [tr.type for tr in fig.data] == ["bar", "scatter"]
    assert list(fig.data[0].x) == ["乌鲁木齐", "哈密"]
    assert list(fig.data[0].y) == pytest.approx([800 / 60, 5.0])
    assert list(fig.data[1].y) == pytest.approx([10.0, 10.0])
    en = penetration_figure(PEN, "brand", lang="en", sort=True)
    assert list(en.data[0].x) == ["GoTone", "M-Zone"] and "brand" in en.layout.title.text
    assert list(penetration_figure(PEN, "age_band", lang="en").data[0].x) == ["Unknown"]
    assert list(penetration_figure(PEN, lang="en").data[0].x) == ["Urumqi", "Hami"]  # first dimension by default


def test_retention_lines_per_cohort_and_average():
    fig = retention_figure(CURVES, lang="en", stable_months=3)
    assert [tr.name for tr in fig.data] == ["2026-07", "2026-09", "All cohorts (weighted)"]
    assert list(fig.data[2].y) == pytest.approx([500 / 6, 50.0, 25.0, 25.0])
    assert fig.layout.shapes[0].x0 == 2  # the stable mark at k = stable_months - 1
    latest = retention_figure(CURVES, cohorts=1, average=False, stable_months=None)
    assert [tr.name for tr in latest.data] == ["2026-09"] and not latest.layout.shapes


def test_drivers_ranked_with_catalogue_labels():
    fig = drivers_figure(DRIVERS, top=2, lang="en")
    assert len(fig.data) == 1 and fig.data[0].orientation == "h"
    assert list(fig.data[0].x) == [0.4, 0.9]  # highest IV drawn at the top
    assert fig.data[0].y[1].startswith("Total bill of the month (ARPU)") and fig.data[0].y[1].endswith("(arpu_mean)")
    assert drivers_figure(DRIVERS, lang="zh").data[0].y[0] == "not_in_catalogue"


def test_potential_bands_and_funnel():
    fig = potential_bands_figure(BANDS, k=2.0, lang="en")
    assert [tr.type for tr in fig.data] == ["bar", "scatter"]
    assert list(fig.data[1].y) == [2.0, 2.0, 2.0]
    assert fig.data[0].marker.color[0] != fig.data[0].marker.color[1]  # high-potential bands stand out
    f = potential_funnel_figure(FUNNEL, lang="zh")
    assert len(f.data) == 1 and f.data[0].type == "funnel"
    assert list(f.data[0].y) == ["在网用户", "非订购用户", "与稳定用户相似的非订购用户", "预计新增稳定用户"]
    assert list(f.data[0].x) == [172.0, 150.0, 10.0, 2.0]


def test_wrong_inputs_are_named():
    with pytest.raises(ParameterError, match="'kpis' parameter must be product_kpis\\(\\) output"):
        kpi_trend_figure(PEN)
    with pytest.raises(ParameterError, match="'dimension' parameter must be one of \\['branch_id', 'brand', "
                                             "'age_band'\\]. Got 'region'"):
        penetration_figure(PEN, "region")
    with pytest.raises(ParameterError, match="'curves' parameter must be retention_curves\\(\\) output"):
        retention_figure(KPIS)
    with pytest.raises(ParameterError, match="'drivers' parameter must be information_value\\(\\) output"):
        drivers_figure(KPIS)
    with pytest.raises(ParameterError, match="'funnel' parameter must be potential_funnel\\(\\) output"):
        potential_funnel_figure("nope")
