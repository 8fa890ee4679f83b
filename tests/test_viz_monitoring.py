"""Figures of model monitoring (workbench.viz.monitoring) on an explicit MonthlyMonitoring."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.errors import ParameterError
from workbench.monitoring import MonthlyMonitoring
from workbench.viz.monitoring import (
    decay_figure, drift_over_time_figure, monitoring_calibration_figure, psi_heatmap,
)

MONTHS = ["2026-08", "2026-09", "2026-10"]


def _result(decay=True):
    psi = pd.DataFrame({"2026-08": [0.0, 0.0, 0.0], "2026-09": [0.3, 0.12, 0.01], "2026-10": [0.6, 0.2, 0.02]},
                       index=["gprs_mb_mean", "brand", "age"])
    status = psi.apply(lambda c: c.map(lambda v: "alert" if v >= 0.25 else "watch" if v >= 0.1 else "ok"))
    cal = pd.DataFrame({"bin": [1, 2], "training_predicted": [None, None], "training_observed": [None, None],
                        "rows": [50, 50], "predicted": [0.01, 0.2], "observed": [0.0, 0.1], "month": "2026-10"})
    return MonthlyMonitoring(
        months=MONTHS, psi=psi, status=status,
        score=pd.DataFrame({"month": MONTHS, "rows": 100, "psi": [0.0, 0.05, 0.3], "status": ["ok", "ok", "alert"],
                            "mean_score": 0.1}),
        decay=pd.DataFrame({"month": MONTHS, "scored_at": ["2026-05", "2026-06", "2026-07"], "rows": 100,
                            "auc": [0.8, 0.7, 0.55], "top_decile_lift": [4.0, 3.0, 1.2], "positive_rate": 0.02})
        if decay else pd.DataFrame(columns=["month", "scored_at", "rows", "auc", "top_decile_lift", "positive_rate"]),
        training={"auc": 0.82, "top_decile_lift": 4.1, "rows": 100, "positive_rate": 0.02}, calibration=cal)


def test_heatmap_orders_the_most_moved_features_first_and_names_them():
    fig = psi_heatmap(_result(), top=2, names=str.upper, lang="en")
    assert isinstance(fig, go.Figure)
    hm = fig.data[0]
    assert list(hm.y) == ["BRAND", "GPRS_MB_MEAN"]        # top 2 by max PSI, the largest at the top
    assert list(hm.x) == MONTHS and hm.zmax >= 0.5
    assert "2" in fig.layout.title.text


def test_drift_figure_counts_statuses_and_draws_the_score():
    fig = drift_over_time_figure(_result(), "en")
    bars = {tr.name: list(tr.y) for tr in fig.data if tr.type == "bar"}
    assert bars == {"watch": [0, 1, 1], "alert": [0, 1, 1]}
    line = [tr for tr in fig.data if tr.type == "scatter"][0]
    assert list(line.y) == [0.0, 0.05, 0.3] and fig.layout.yaxis.range[1] >= 0.3


def test_decay_and_calibration_figures():
    fig = decay_figure(_result(), "zh")
    names = [tr.name for tr in fig.data]
    assert len(names) == 4 and list(fig.data[0].y) == [0.8, 0.7, 0.55]
    assert list(fig.data[2].y) == [0.82] * 3            # AUC at training, dashed
    cal = monitoring_calibration_figure(_result().calibration, "en")
    assert "2026-10" in cal.layout.title.text and list(cal.data[0].y) == [0.0, 0.1]
    with pytest.raises(ParameterError, match="calibration"):
        monitoring_calibration_figure(pd.DataFrame({"bin": [1]}))
    with pytest.raises(ParameterError, match="MonthlyMonitoring"):
        psi_heatmap(pd.DataFrame())
