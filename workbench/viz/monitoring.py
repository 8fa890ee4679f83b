"""Figures of model monitoring (template 09): drift of the inputs and of the score over the months, decay of
AUC and lift where outcomes are known, and calibration.

Draw only: each builder takes a :class:`workbench.monitoring.MonthlyMonitoring` (or one of its frames) and
returns a :class:`plotly.graph_objects.Figure` (never shown here).  Titles and axes come from the label
catalogue (``t09.fig.*``); feature names from ``names`` (a callable, e.g.
:func:`workbench.models.province_inputs.feature_labels`).
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.i18n import get_language, t

__all__ = ["psi_heatmap", "drift_over_time_figure", "decay_figure", "monitoring_calibration_figure"]

_STATUS_COLOURS = {"ok": "#2e7d32", "watch": "#f9a825", "alert": "#c62828"}


def _need(result) -> None:
    for attr in ("psi", "status", "score", "decay", "thresholds", "months"):
        if not hasattr(result, attr):
            raise ParameterError.invalid("result", "a MonthlyMonitoring (workbench.monitoring.monitor_months)",
                                         type(result).__name__)


def psi_heatmap(result, *, top: int = 20, names: Callable[[str], str] | None = None,
                lang: str | None = None) -> go.Figure:
    """PSI of the ``top`` most moved features (rows) by month (columns), coloured green / amber / red at the
    watch and alert thresholds."""
    _need(result)
    lang = lang or get_language()
    psi = result.psi
    order = psi.max(axis=1).sort_values(ascending=False).index[:top]
    sub = psi.loc[order[::-1]]
    watch, alert = result.thresholds["watch"], result.thresholds["alert"]
    zmax = max(float(sub.to_numpy().max()) if sub.size else 0.0, alert * 2)
    w, a = watch / zmax, alert / zmax
    scale = [[0, "#e8f5e9"], [w, "#a5d6a7"], [w, "#fff59d"], [a, "#ffcc80"], [a, "#ef9a9a"], [1, "#b71c1c"]]
    label = names or (lambda n: n)
    fig = go.Figure(go.Heatmap(
        z=sub.to_numpy(), x=list(sub.columns), y=[label(f) for f in sub.index], zmin=0, zmax=zmax,
        colorscale=scale, colorbar={"title": {"text": "PSI"}},
        text=[[f"{v:.3f}" for v in row] for row in sub.to_numpy()], texttemplate="%{text}",
        hovertemplate="%{y}<br>%{x}: PSI %{z:.3f}<extra></extra>"))
    fig.update_layout(title=t("t09.fig.heatmap", lang, top=len(sub)), xaxis_title=t("t09.fig.month", lang),
                      height=max(320, 26 * len(sub) + 140), margin={"l": 260}, xaxis={"type": "category"})
    return fig


def drift_over_time_figure(result, lang: str | None = None) -> go.Figure:
    """Score PSI by month (line) and the number of features in watch and in alert (bars)."""
    _need(result)
    lang = lang or get_language()
    months = list(result.months)
    counts = {s: [int((result.status[m] == s).sum()) for m in months] for s in ("watch", "alert")}
    fig = go.Figure()
    for s in ("watch", "alert"):
        fig.add_bar(x=months, y=counts[s], name=t(f"model.monitor.status.{s}", lang),
                    marker_color=_STATUS_COLOURS[s], yaxis="y2", opacity=0.55)
    fig.add_scatter(x=months, y=result.score["psi"], mode="lines+markers", name=t("t09.fig.score_psi", lang),
                    line={"color": "#1f4e79", "width": 3})
    for key, value in result.thresholds.items():
        fig.add_hline(y=value, line_dash="dash", line_color=_STATUS_COLOURS[key],
                      annotation_text=t(f"model.monitor.status.{key}", lang), annotation_position="top left")
    fig.update_layout(title=t("t09.fig.drift", lang), xaxis={"type": "category", "title": t("t09.fig.month", lang)},
                      yaxis={"title": t("t09.fig.score_psi", lang),
                             "range": [0, max(float(result.score["psi"].max()), result.thresholds["alert"]) * 1.15]},
                      yaxis2={"title": t("t09.fig.features", lang), "overlaying": "y", "side": "right",
                              "range": [0, max(1, max(w + a for w, a in zip(counts["watch"], counts["alert"]))) * 1.1]},
                      barmode="stack", legend={"orientation": "h", "y": -0.2})
    return fig


def decay_figure(result, lang: str | None = None) -> go.Figure:
    """AUC and top-decile lift by month of outcome, with their values at training (dashed)."""
    _need(result)
    lang = lang or get_language()
    d = result.decay
    fig = go.Figure()
    fig.add_scatter(x=d["month"], y=d["auc"], mode="lines+markers", name=t("model.metric.auc", lang),
                    line={"color": "#1f4e79"})
    fig.add_scatter(x=d["month"], y=d["top_decile_lift"], mode="lines+markers", yaxis="y2",
                    name=t("model.monitor.top_decile_lift", lang), line={"color": "#c25e00"})
    tr = result.training
    if tr.get("auc") is not None and len(d):
        fig.add_scatter(x=list(d["month"]), y=[tr["auc"]] * len(d), mode="lines", line={"dash": "dash",
                        "color": "#1f4e79"}, name=t("t09.fig.training_auc", lang))
    if tr.get("top_decile_lift") is not None and len(d):
        fig.add_scatter(x=list(d["month"]), y=[tr["top_decile_lift"]] * len(d), mode="lines", yaxis="y2",
                        line={"dash": "dash", "color": "#c25e00"}, name=t("t09.fig.training_lift", lang))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#888", annotation_text=t("t09.fig.random", lang))
    fig.update_layout(title=t("t09.fig.decay", lang), xaxis={"type": "category", "title": t("t09.fig.outcome_month",
                                                                                             lang)},
                      yaxis={"title": t("model.metric.auc", lang), "range": [0.3, 1.0]},
                      yaxis2={"title": t("model.monitor.top_decile_lift", lang), "overlaying": "y", "side": "right",
                              "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def monitoring_calibration_figure(calibration: pd.DataFrame, lang: str | None = None) -> go.Figure:
    """Mean predicted score and observed rate by training score bin (lowest scores first)."""
    lang = lang or get_language()
    need = {"bin", "predicted", "observed", "rows"}
    if not isinstance(calibration, pd.DataFrame) or not need <= set(calibration.columns):
        raise ParameterError.invalid("calibration", f"a frame with columns {sorted(need)} "
                                     "(workbench.monitoring.compare_performance)", type(calibration).__name__)
    fig = go.Figure()
    fig.add_bar(x=calibration["bin"], y=calibration["observed"], name=t("model.monitor.observed", lang),
                marker_color="#c25e00")
    fig.add_scatter(x=calibration["bin"], y=calibration["predicted"], mode="lines+markers",
                    name=t("model.monitor.predicted", lang), line={"color": "#1f4e79"})
    month = calibration["month"].iloc[0] if "month" in calibration.columns and len(calibration) else ""
    fig.update_layout(title=t("t09.fig.calibration", lang, month=month),
                      xaxis={"title": t("model.monitor.bin", lang), "dtick": 1},
                      yaxis={"title": t("t09.fig.rate", lang), "tickformat": ".1%"},
                      legend={"orientation": "h", "y": -0.2})
    return fig
