"""Figures of the content-preference model and of the edition matching.

Draw only: every builder takes numbers computed by
:mod:`workbench.models.preference` and returns a
:class:`plotly.graph_objects.Figure` (never shown here).  Labels come from the
catalogue (``preference.*``).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.i18n import catalogue, t

__all__ = ["preference_evaluation_figure", "content_mix_figure", "edition_figure", "truth_correlation_figure"]

_METRICS = ("top1", "ndcg", "loss")


def _need(frame, name: str, columns: list[str], source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        got = sorted(map(str, frame.columns)) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"the result of {source} with columns {columns}", got)
    return frame


def _category(name: str, lang: str | None) -> str:
    key = f"category.{name}"
    return t(key, lang) if key in catalogue() else str(name)


def preference_evaluation_figure(table: pd.DataFrame, *, metric: str = "top1", lang: str | None = None) -> go.Figure:
    """Grouped bars of one metric of the held-out-month evaluation, by method and user segment.

    Parameters
    ----------
    table : DataFrame
        ``PreferenceEvaluation.table`` (``segment``, ``method`` and the metric).
    metric : {"top1", "ndcg", "loss"}
        Top-1 accuracy, NDCG@k or cross-entropy per item.
    lang : {"zh", "en"}, optional
    """
    if metric not in _METRICS:
        raise ParameterError.invalid("metric", f"one of {set(_METRICS)}", metric)
    table = _need(table, "table", ["segment", "method", metric], "evaluate_preference().table")
    fig = go.Figure()
    for method in dict.fromkeys(table["method"]):
        part = table[table["method"] == method]
        fig.add_trace(go.Bar(
            x=[t(f"preference.segment.{s}", lang) for s in part["segment"]], y=part[metric].tolist(),
            name=t(f"preference.method.{method}", lang),
            text=[f"{v:.1%}" if metric != "loss" else f"{v:.2f}" for v in part[metric]], textposition="outside"))
    fig.update_layout(barmode="group", title=t(f"preference.chart.{metric}.title", lang),
                      yaxis={"title": t(f"preference.metric.{metric}", lang),
                             **({"tickformat": ".0%"} if metric != "loss" else {})},
                      template="plotly_white")
    return fig


def content_mix_figure(mix, *, lang: str | None = None) -> go.Figure:
    """Bars of the province's content mix (share of items per category).

    Parameters
    ----------
    mix : Series
        Share per category (``PreferenceModel.province_mix_``).
    """
    if not isinstance(mix, pd.Series) or mix.empty:
        raise ParameterError.invalid("mix", "a non-empty Series of shares by category (province_mix_)",
                                     type(mix).__name__)
    fig = go.Figure(go.Bar(x=[_category(c, lang) for c in mix.index], y=mix.tolist(),
                           text=[f"{v:.1%}" for v in mix], textposition="outside"))
    fig.update_layout(title=t("preference.chart.mix.title", lang), yaxis={"title": t("preference.chart.mix.y", lang),
                                                                         "tickformat": ".0%"},
                      template="plotly_white")
    return fig


def edition_figure(matches: pd.DataFrame, *, lang: str | None = None,
                   editions: pd.DataFrame | None = None) -> go.Figure:
    """Users by best edition and by runner-up edition (stacked counts).

    Parameters
    ----------
    matches : DataFrame
        ``edition`` and ``edition_2`` per user (:func:`~workbench.models.preference.match_editions`
        or the ``scores`` of the province pipeline, usually its top of the list).
    editions : DataFrame, optional
        ``edition`` and ``content_category`` (to name editions by their category label).
    """
    matches = _need(matches, "matches", ["edition", "edition_2"], "match_editions()")
    names = {}
    if editions is not None:
        names = dict(zip(editions["edition"].astype("str"), editions["content_category"].astype("str")))
    order = list(dict.fromkeys([*names, *matches["edition"].dropna().unique()]))
    fig = go.Figure()
    for col, key in (("edition", "best"), ("edition_2", "second")):
        counts = matches[col].value_counts().reindex(order, fill_value=0)
        fig.add_trace(go.Bar(x=[_category(names.get(e, e), lang) for e in order], y=counts.tolist(),
                             name=t(f"preference.chart.edition.{key}", lang)))
    fig.update_layout(barmode="group", title=t("preference.chart.edition.title", lang),
                      yaxis={"title": t("preference.chart.edition.y", lang)}, template="plotly_white")
    return fig


def truth_correlation_figure(correlation: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Correlation of the estimated and the true preference by category (synthetic province).

    Parameters
    ----------
    correlation : DataFrame
        :func:`~workbench.models.preference.truth_correlation` (``category``, ``model`` and optionally ``raw``).
    """
    correlation = _need(correlation, "correlation", ["category", "model"], "truth_correlation()")
    fig = go.Figure()
    for col in [c for c in ("model", "raw") if c in correlation.columns]:
        fig.add_trace(go.Bar(x=[_category(c, lang) if c != "mean" else t("preference.chart.truth.mean", lang)
                                for c in correlation["category"]],
                             y=correlation[col].tolist(), name=t(f"preference.method.{col}", lang),
                             text=[f"{v:.2f}" for v in correlation[col]], textposition="outside"))
    fig.update_layout(barmode="group", title=t("preference.chart.truth.title", lang),
                      yaxis={"title": t("preference.chart.truth.y", lang), "range": [0, 1.05]},
                      template="plotly_white")
    return fig
