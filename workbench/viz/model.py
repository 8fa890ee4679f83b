"""Figures of the target-user model: gains / lift, ROC, calibration, importance, reasons.

Draw only: every builder takes numbers computed by
:mod:`workbench.metrics.classification` or :mod:`workbench.models.explain` and
returns a :class:`plotly.graph_objects.Figure` (never shown here).  Titles,
axes and model names come from the label catalogue (``model.*``).

Curves of several models are passed as a dict ``{name: frame}``; a name with a
catalogue entry ``model.name.<name>`` (``model``, ``logistic``, ``rules``) is
shown by its label, any other name as is.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.viz.ticks import rate_axis
from workbench.i18n import catalogue, t
from workbench.models.rules import FeatureLabels, feature_label

__all__ = ["gains_figure", "roc_figure", "calibration_figure", "importance_figure", "reasons_figure"]


def _need(frame, name: str, columns: list[str], source: str) -> None:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        got = sorted(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"the result of {source} with columns {columns}", got)


def _named(frames, name: str, columns: list[str], source: str) -> dict[str, pd.DataFrame]:
    if isinstance(frames, pd.DataFrame):
        frames = {"model": frames}
    if not isinstance(frames, dict) or not frames:
        raise ParameterError.invalid(name, f"a DataFrame or a non-empty dict of DataFrames from {source}",
                                     type(frames).__name__)
    for key, frame in frames.items():
        _need(frame, f"{name}[{key!r}]", columns, source)
    return frames


def _model_name(key: str, lang: str | None) -> str:
    label = f"model.name.{key}"
    return t(label, lang) if label in catalogue() else str(key)


def gains_figure(gains, *, kind: str = "capture", lang: str | None = None) -> go.Figure:
    """Cumulative gains (capture) or cumulative lift by share of users contacted.

    Parameters
    ----------
    gains : DataFrame or dict of DataFrame
        :func:`~workbench.metrics.classification.gains_table` result(s), e.g.
        ``{"model": ..., "logistic": ..., "rules": ...}``.
    kind : {"capture", "lift"}
        Cumulative capture of positives (with the random diagonal) or cumulative
        lift (with the random level 1).
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if kind not in ("capture", "lift"):
        raise ParameterError.invalid("kind", "one of {'capture', 'lift'}", kind)
    column = "cum_capture" if kind == "capture" else "cum_lift"
    frames = _named(gains, "gains", ["cum_share", column], "gains_table()")
    fig = go.Figure()
    for key, g in frames.items():
        x = [0.0, *g["cum_share"]] if kind == "capture" else list(g["cum_share"])
        y = [0.0, *g[column]] if kind == "capture" else list(g[column])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=_model_name(key, lang)))
    rand_y = [0, 1] if kind == "capture" else [1, 1]
    fig.add_trace(go.Scatter(x=[0, 1], y=rand_y, mode="lines", line={"dash": "dash", "color": "grey"},
                             name=t("model.name.random", lang)))
    fig.update_layout(
        title=t(f"model.chart.{'gains' if kind == 'capture' else 'lift'}.title", lang),
        xaxis={"title": t("model.gains.cum_share", lang), "tickformat": ".0%"},
        yaxis={"title": t(f"model.gains.{column}", lang), **({"tickformat": ".0%"} if kind == "capture" else {})},
    )
    return fig


def roc_figure(curves, *, lang: str | None = None) -> go.Figure:
    """ROC curves of one or several models with the random diagonal.

    Parameters
    ----------
    curves : DataFrame or dict of DataFrame
        :func:`~workbench.metrics.classification.roc_points` result(s).
    lang : {"zh", "en"}, optional
    """
    frames = _named(curves, "curves", ["fpr", "tpr"], "roc_points()")
    fig = go.Figure()
    for key, roc in frames.items():
        fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name=_model_name(key, lang)))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "grey"},
                             name=t("model.name.random", lang)))
    fig.update_layout(title=t("model.chart.roc.title", lang), xaxis={"title": t("model.chart.roc.x", lang)},
                      yaxis={"title": t("model.chart.roc.y", lang)})
    return fig


def calibration_figure(tables, *, lang: str | None = None) -> go.Figure:
    """Observed positive rate against mean predicted probability, with the ideal diagonal.

    Parameters
    ----------
    tables : DataFrame or dict of DataFrame
        :func:`~workbench.metrics.classification.calibration_table` result(s).
    lang : {"zh", "en"}, optional
    """
    frames = _named(tables, "tables", ["mean_score", "observed_rate"], "calibration_table()")
    fig = go.Figure()
    predicted = []
    for key, c in frames.items():
        c = c.sort_values("mean_score")
        predicted.extend(c["mean_score"].astype(float).tolist())
        fig.add_trace(go.Scatter(x=c["mean_score"], y=c["observed_rate"], mode="lines+markers",
                                 name=_model_name(key, lang),
                                 hovertemplate="%{x:.2%} → %{y:.2%}<extra>%{fullData.name}</extra>"))
    # both axes over the predicted range (log when it spans decades): a few high observed rates of small
    # bins must not squeeze every point against 0
    axis = rate_axis(predicted)
    finite = [p for p in predicted if p > 0] or [0.0, 1.0]
    lo, hi = (min(finite), max(finite)) if axis.get("type") == "log" else (0.0, max(finite))
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line={"dash": "dash", "color": "grey"},
                             name=t("model.chart.calibration.ideal", lang)))
    fig.update_layout(title=t("model.chart.calibration.title", lang),
                      xaxis={"title": t("model.chart.calibration.x", lang), **axis},
                      yaxis={"title": t("model.chart.calibration.y", lang), **axis})
    return fig


def importance_figure(importance: pd.DataFrame, *, measure: str = "auto", top: int = 20,
                      feature_labels: FeatureLabels = None, lang: str | None = None) -> go.Figure:
    """Horizontal bars of the most important features.

    Parameters
    ----------
    importance : DataFrame
        :func:`~workbench.models.explain.global_importance` result.
    measure : {"auto", "mean_abs_shap", "gain_share"}
        ``auto`` = mean |SHAP| when present, else the share of split gain.
    top : int
        Features shown.
    feature_labels : mapping or callable, optional
        Display names of features.
    lang : {"zh", "en"}, optional
    """
    _need(importance, "importance", ["feature", "gain_share"], "global_importance()")
    if measure == "auto":
        measure = "mean_abs_shap" if "mean_abs_shap" in importance.columns else "gain_share"
    if measure not in ("mean_abs_shap", "gain_share") or measure not in importance.columns:
        raise ParameterError.invalid("measure", f"'auto' or a column of importance among "
                                                f"{['mean_abs_shap', 'gain_share']}", measure)
    rows = importance.sort_values(measure, ascending=False).head(top).iloc[::-1]
    fig = go.Figure(go.Bar(x=rows[measure], y=[feature_label(f, feature_labels) for f in rows["feature"]],
                           orientation="h"))
    axis = "model.chart.importance.shap" if measure == "mean_abs_shap" else "model.chart.importance.gain"
    fig.update_layout(title=t("model.chart.importance.title", lang),
                      xaxis={"title": t(axis, lang), "tickformat": ".3~f" if measure == "mean_abs_shap" else ".0%"},
                      height=max(300, 22 * len(rows) + 120))
    return fig


def reasons_figure(distribution: pd.DataFrame, *, top: int = 15, feature_labels: FeatureLabels = None,
                   lang: str | None = None) -> go.Figure:
    """How often each feature is a user's 1st / 2nd / 3rd reason (stacked bars).

    Parameters
    ----------
    distribution : DataFrame
        :func:`~workbench.models.explain.reason_distribution` result.
    top : int
        Features shown (most frequent first).
    feature_labels : mapping or callable, optional
    lang : {"zh", "en"}, optional
    """
    _need(distribution, "distribution", ["feature", "total"], "reason_distribution()")
    slots = sorted((c for c in distribution.columns if c.startswith("reason_")), key=lambda c: int(c.split("_")[1]))
    rows = distribution.sort_values("total", ascending=False).head(top).iloc[::-1]
    names = [feature_label(f, feature_labels) for f in rows["feature"]]
    fig = go.Figure([go.Bar(x=rows[s], y=names, orientation="h",
                            name=t("model.chart.reasons.slot", lang, slot=s.split("_")[1])) for s in slots])
    fig.update_layout(barmode="stack", title=t("model.chart.reasons.title", lang),
                      xaxis={"title": t("model.chart.reasons.x", lang)}, height=max(300, 22 * len(rows) + 120))
    return fig
