"""Figures of goal setting (template 02): the problems found and the goal checked against the potential.

Draw only: each builder takes what :mod:`workbench.status.goal` computed and
returns a :class:`plotly.graph_objects.Figure` (never shown here).  Labels come
from the catalogue (``goal.*``; zh by default, ``lang="en"`` for English).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.i18n import get_language, t

__all__ = ["problems_figure", "goal_check_figure", "VERDICT_COLOURS"]

#: Colour of the target bar for each verdict.
VERDICT_COLOURS: dict[str, str] = {"feasible": "#2ca02c", "ambitious": "#ff7f0e", "not_reachable": "#d62728"}
_FLAGGED, _CALM = "#d62728", "#7f7f7f"


def problems_figure(problems: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Severity of each problem as horizontal bars, with the alert line at 1.

    Parameters
    ----------
    problems : pandas.DataFrame
        :func:`workbench.status.goal.diagnose` output.
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace (most severe at the top; problems past their line in red;
        a severity below 0, far from its line, is drawn as 0 — the hover shows
        the indicator and its alert line) and one line trace (the alert line).

    Raises
    ------
    ParameterError
        When ``problems`` is not a ``diagnose()`` frame.
    """
    lang = lang or get_language()
    need = {"problem", "indicator", "alert", "severity", "flagged"}
    if not isinstance(problems, pd.DataFrame) or not need <= set(problems.columns):
        got = sorted(problems.columns) if isinstance(problems, pd.DataFrame) else type(problems).__name__
        raise ParameterError.invalid("problems", f"diagnose() output with columns {sorted(need)}", got)
    rows = problems.sort_values("severity", ascending=True, kind="mergesort")
    labels = [t(f"goal.problem.{p}", lang=lang) for p in rows["problem"]]
    fig = go.Figure(go.Bar(
        x=rows["severity"].clip(lower=0.0), y=labels, orientation="h", name=t("goal.figure.severity", lang=lang),
        marker_color=[_FLAGGED if f else _CALM for f in rows["flagged"]],
        customdata=rows[["indicator", "alert"]].to_numpy(),
        hovertemplate="%{y}<br>" + t("goal.figure.indicator", lang=lang) + " %{customdata[0]:.3f}<br>"
                      + t("goal.figure.alert", lang=lang) + " %{customdata[1]:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[1.0, 1.0], y=[labels[0], labels[-1]] if labels else [], mode="lines",
                             line=dict(dash="dash", color="black"), name=t("goal.figure.alert_line", lang=lang)))
    fig.update_layout(title=t("goal.figure.problems_title", lang=lang),
                      xaxis_title=t("goal.figure.severity", lang=lang), height=max(320, 70 * len(rows) + 160),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def goal_check_figure(goal: Mapping, *, lang: str | None = None) -> go.Figure:
    """The target next to what the potential is expected to bring, and the stretch limit.

    Parameters
    ----------
    goal : dict
        :func:`workbench.status.goal.propose_goal` output.
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace with three bars: expected new stable subscribers at the
        expected conversion, the stretch limit, and the target (coloured by the verdict).

    Raises
    ------
    ParameterError
        When ``goal`` is not a ``propose_goal()`` dict.
    """
    lang = lang or get_language()
    check = goal.get("check") if isinstance(goal, Mapping) else None
    need = {"target", "expected_new_stable", "stretch_limit", "verdict"}
    if not isinstance(check, Mapping) or not need <= set(check):
        raise ParameterError.invalid("goal", f"propose_goal() output whose 'check' has {sorted(need)}",
                                     sorted(goal) if isinstance(goal, Mapping) else type(goal).__name__)
    verdict = check["verdict"]
    x = [t("goal.figure.expected", lang=lang), t("goal.figure.stretch_limit", lang=lang, stretch=check["stretch"]),
         t("goal.figure.target", lang=lang)]
    y = [check["expected_new_stable"], check["stretch_limit"], check["target"]]
    fig = go.Figure(go.Bar(
        x=x, y=y, text=[f"{v:,.0f}" for v in y], textposition="outside",
        marker_color=["#1f77b4", "#aec7e8", VERDICT_COLOURS.get(verdict, _CALM)],
        name=t("goal.figure.new_stable", lang=lang)))
    fig.update_layout(
        title=t("goal.figure.check_title", lang=lang, product=t(f"family.{goal.get('product')}", lang=lang),
                verdict=t(f"goal.verdict.{verdict}", lang=lang)),
        yaxis_title=t("goal.figure.new_stable", lang=lang), showlegend=False, height=420,
        yaxis_range=[0, max(y) * 1.2 if max(y) > 0 else 1])
    return fig
