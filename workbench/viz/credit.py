"""Figures of credit grading: cohorts, method comparison per segment, grades.

Draw only: each builder takes a table of :mod:`workbench.credit.province` and returns a
:class:`plotly.graph_objects.Figure`.  Titles and axes come from the catalogue (``credit.fig.*``).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.errors import ParameterError
from workbench.i18n import catalogue, t

__all__ = ["cohort_figure", "method_figure", "grade_figure"]


def _need(frame, name: str, columns: list[str]) -> None:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        got = sorted(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"a table with columns {columns}", got)


def _label(key: str, fallback: str, lang: str | None) -> str:
    return t(key, lang) if key in catalogue() else fallback


def cohort_figure(cohorts: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Accounts per join month (bars by cohort) and the bad rate of the matured months (line).

    ``cohorts``: ``join_month``, ``cohort`` (train / oot / base), ``accounts``, ``bad_rate``.
    """
    _need(cohorts, "cohorts", ["join_month", "cohort", "accounts", "bad_rate"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for cohort in ("train", "oot", "base"):
        part = cohorts[cohorts["cohort"] == cohort]
        if part.empty:
            continue
        fig.add_trace(go.Bar(x=part["join_month"], y=part["accounts"],
                             name=_label(f"credit.cohort.{cohort}", cohort, lang)), secondary_y=False)
    matured = cohorts[cohorts["cohort"] != "base"]
    fig.add_trace(go.Scatter(x=matured["join_month"], y=matured["bad_rate"], mode="lines+markers",
                             name=t("credit.fig.bad_rate", lang)), secondary_y=True)
    fig.update_layout(title=t("credit.fig.cohorts", lang), barmode="stack", legend_orientation="h")
    fig.update_xaxes(title_text=t("credit.fig.join_month", lang))
    fig.update_yaxes(title_text=t("credit.fig.accounts", lang), secondary_y=False)
    fig.update_yaxes(title_text=t("credit.fig.bad_rate", lang), tickformat=".0%", secondary_y=True)
    return fig


def method_figure(methods: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Out-of-time AUC of each method per modelled segment (grouped bars; the chosen one outlined).

    ``methods``: ``segment``, ``method``, ``auc_oot``, ``chosen`` (bool).
    """
    _need(methods, "methods", ["segment", "method", "auc_oot", "chosen"])
    fig = go.Figure()
    for method, part in methods.groupby("method", sort=False):
        fig.add_trace(go.Bar(
            x=part["segment"], y=part["auc_oot"], name=_label(f"credit.method.{method}", str(method), lang),
            marker_line_width=[3 if c else 0 for c in part["chosen"]], marker_line_color="black",
            text=[f"{v:.3f}" if pd.notna(v) else "" for v in part["auc_oot"]], textposition="outside"))
    fig.update_layout(title=t("credit.fig.methods", lang), barmode="group", legend_orientation="h")
    fig.update_yaxes(title_text=t("credit.fig.auc_oot", lang), range=[0.5, 1.0])
    return fig


def grade_figure(grades: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Share of accounts (bars) and bad rate (line) per grade A..E.

    ``grades``: ``grade``, ``share``, ``bad_rate`` (:func:`workbench.credit.province.grade_table`).
    """
    _need(grades, "grades", ["grade", "share", "bad_rate"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=grades["grade"], y=grades["share"], name=t("credit.fig.share", lang)),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=grades["grade"], y=grades["bad_rate"], mode="lines+markers+text",
                             text=[f"{v:.1%}" for v in grades["bad_rate"]], textposition="top center",
                             name=t("credit.fig.bad_rate", lang)), secondary_y=True)
    fig.update_layout(title=t("credit.fig.grades", lang), legend_orientation="h")
    fig.update_xaxes(title_text=t("credit.fig.grade", lang))
    fig.update_yaxes(title_text=t("credit.fig.share", lang), tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text=t("credit.fig.bad_rate", lang), tickformat=".0%", secondary_y=True)
    return fig
