"""Figures of campaign evaluation: lifts with intervals, treated vs control, uplift and Qini curves.

Draw only: every builder takes the frames computed by
:func:`workbench.tracking.effect_table` or :mod:`workbench.metrics.uplift` and
returns a :class:`plotly.graph_objects.Figure` (never shown here).  Titles,
axes and legends come from the label catalogue (``evaluate.viz.*``).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.i18n import t
from workbench.tracking.effect import SEGMENT_COLUMN as _SEGMENT

__all__ = ["forest_plot", "treated_control_bars", "curve_figure", "uplift_by_bin_figure"]


def _rows_for(effects: pd.DataFrame, outcome: str | None) -> tuple[str, pd.DataFrame]:
    needed = {"arm", "outcome", "kind", "mean_treated", "mean_control", "abs_lift", "abs_ci_low", "abs_ci_high"}
    if not isinstance(effects, pd.DataFrame) or not needed <= set(effects.columns):
        got = sorted(effects.columns) if isinstance(effects, pd.DataFrame) else type(effects).__name__
        raise ParameterError.invalid("effects", f"an effect_table() result with columns {sorted(needed)}", got)
    outcomes = list(pd.unique(effects["outcome"]))
    if outcome is None:
        if len(outcomes) != 1:
            raise ParameterError.invalid("outcome", f"one of {outcomes} (the table has several)", outcome)
        outcome = outcomes[0]
    if outcome not in outcomes:
        raise ParameterError.invalid("outcome", f"one of {outcomes}", outcome)
    return outcome, effects[effects["outcome"] == outcome]


def _labels(rows: pd.DataFrame) -> list[str]:
    if _SEGMENT in rows and rows["arm"].nunique() > 1:
        return [f"{s} · {a}" for s, a in zip(rows[_SEGMENT], rows["arm"])]
    if _SEGMENT in rows:
        return rows[_SEGMENT].astype(str).tolist()
    return rows["arm"].astype(str).tolist()


def forest_plot(
    effects: pd.DataFrame,
    outcome: str | None = None,
    *,
    alpha: float = 0.05,
    lang: str | None = None,
    outcome_label: str | None = None,
) -> go.Figure:
    """Absolute lift with its interval, one line per arm (and segment), around a zero line.

    Parameters
    ----------
    effects : pandas.DataFrame
        An :func:`~workbench.tracking.effect_table` result.
    outcome : str, optional
        The outcome to draw; required when the table has several.
    alpha : float, default 0.05
        The alpha the intervals were computed with (for the title).
    lang : {"zh", "en"}, optional
        Language of the labels.
    outcome_label : str, optional
        The outcome's name in the title (default: the outcome column's name).

    Returns
    -------
    plotly.graph_objects.Figure
        Rates are drawn in percentage points.

    Raises
    ------
    ParameterError
        Not an effect table, or an unknown / ambiguous ``outcome``.
    """
    outcome, rows = _rows_for(effects, outcome)
    scale = 100.0 if (rows["kind"] == "binary").all() else 1.0
    lift = rows["abs_lift"].to_numpy(float) * scale
    lo = rows["abs_ci_low"].to_numpy(float) * scale
    hi = rows["abs_ci_high"].to_numpy(float) * scale
    labels = _labels(rows)
    fig = go.Figure(go.Scatter(
        x=lift, y=labels, mode="markers", marker={"size": 9},
        error_x={"type": "data", "symmetric": False, "array": hi - lift, "arrayminus": lift - lo},
        name=t("evaluate.viz.axis.lift", lang=lang),
        hovertemplate="%{y}: %{x:.3g}<extra></extra>",
    ))
    fig.add_vline(x=0, line_dash="dash", line_color="grey")
    axis = t("evaluate.viz.axis.lift", lang=lang) + (" (pp)" if scale == 100.0 else "")
    fig.update_layout(
        title=t("evaluate.viz.forest.title", lang=lang, outcome=outcome_label or outcome,
                level=f"{100 * (1 - alpha):g}"),
        xaxis_title=axis, yaxis={"autorange": "reversed"}, showlegend=False,
        height=max(300, 60 + 40 * len(labels)),
    )
    return fig


def treated_control_bars(effects: pd.DataFrame, outcome: str | None = None, *, lang: str | None = None) -> go.Figure:
    """Treated and control rate (or mean) side by side, one pair per arm (and segment).

    Parameters
    ----------
    effects : pandas.DataFrame
        An :func:`~workbench.tracking.effect_table` result.
    outcome : str, optional
        The outcome to draw; required when the table has several.
    lang : {"zh", "en"}, optional
        Language of the labels.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ParameterError
        Not an effect table, or an unknown / ambiguous ``outcome``.
    """
    outcome, rows = _rows_for(effects, outcome)
    labels = _labels(rows)
    binary = (rows["kind"] == "binary").all()
    fmt = ".2%" if binary else ".3g"
    fig = go.Figure([
        go.Bar(name=t("evaluate.viz.treated", lang=lang), x=labels, y=rows["mean_treated"],
               hovertemplate=f"%{{x}}: %{{y:{fmt}}}<extra></extra>"),
        go.Bar(name=t("evaluate.viz.control", lang=lang), x=labels, y=rows["mean_control"],
               hovertemplate=f"%{{x}}: %{{y:{fmt}}}<extra></extra>"),
    ])
    fig.update_layout(
        barmode="group", title=t("evaluate.viz.bars.title", lang=lang, outcome=outcome),
        yaxis_title=t("evaluate.viz.axis.value", lang=lang), yaxis_tickformat=".1%" if binary else None,
    )
    return fig


def curve_figure(
    curves: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    kind: str = "qini",
    perfect: pd.DataFrame | None = None,
    random: bool = True,
    lang: str | None = None,
) -> go.Figure:
    """Qini or uplift curve(s) against the targeted share, with the random and perfect curves.

    Parameters
    ----------
    curves : pandas.DataFrame or mapping of name to DataFrame
        :func:`~workbench.metrics.uplift.qini_curve` / ``uplift_curve`` results
        (columns ``share`` and ``value``); a mapping draws several models.
    kind : {"qini", "uplift"}, default "qini"
        Which curve it is (for the title).
    perfect : pandas.DataFrame, optional
        The perfect curve (``perfect_qini_curve`` / ``perfect_uplift_curve``).
    random : bool, default True
        Draw the random line from the origin to the end of the (first) curve.
    lang : {"zh", "en"}, optional
        Language of the labels.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ParameterError
        An unknown ``kind`` or a frame without ``share`` and ``value``.
    """
    if kind not in ("qini", "uplift"):
        raise ParameterError.invalid("kind", "'qini' or 'uplift'", kind)
    named = dict(curves) if isinstance(curves, Mapping) else {t("evaluate.viz.model", lang=lang): curves}
    if not named:
        raise ParameterError.invalid("curves", "at least one curve", curves)
    for name, c in [*named.items(), *([("perfect", perfect)] if perfect is not None else [])]:
        if not isinstance(c, pd.DataFrame) or not {"share", "value"} <= set(c.columns):
            raise ParameterError.invalid("curves", "frames with columns 'share' and 'value'", name)
    fig = go.Figure()
    for name, c in named.items():
        fig.add_trace(go.Scatter(x=c["share"], y=c["value"], mode="lines", name=str(name)))
    if perfect is not None:
        fig.add_trace(go.Scatter(x=perfect["share"], y=perfect["value"], mode="lines",
                                 name=t("evaluate.viz.perfect", lang=lang), line={"dash": "dot"}))
    if random:
        first = next(iter(named.values()))
        end = float(first["value"].iloc[-1])
        fig.add_trace(go.Scatter(x=[0.0, float(first["share"].iloc[-1])], y=[0.0, end], mode="lines",
                                 name=t("evaluate.viz.random", lang=lang), line={"dash": "dash", "color": "grey"}))
    fig.update_layout(
        title=t(f"evaluate.viz.{kind}.title", lang=lang),
        xaxis_title=t("evaluate.viz.axis.share_targeted", lang=lang), xaxis_tickformat=".0%",
        yaxis_title=t("evaluate.viz.axis.incremental", lang=lang),
    )
    return fig


def uplift_by_bin_figure(bins: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Uplift per score bin (:func:`~workbench.metrics.uplift.uplift_by_bin`) as bars.

    Parameters
    ----------
    bins : pandas.DataFrame
        An ``uplift_by_bin`` result (columns ``bin`` and ``uplift``).
    lang : {"zh", "en"}, optional
        Language of the labels.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ParameterError
        A frame without ``bin`` and ``uplift``.
    """
    if not isinstance(bins, pd.DataFrame) or not {"bin", "uplift"} <= set(bins.columns):
        raise ParameterError.invalid("bins", "an uplift_by_bin() result with columns 'bin' and 'uplift'",
                                     type(bins).__name__)
    colours = np.where(bins["uplift"].to_numpy(float) >= 0, "#2a9d8f", "#e76f51")
    fig = go.Figure(go.Bar(x=bins["bin"].astype(str), y=bins["uplift"], marker_color=colours,
                           hovertemplate="%{x}: %{y:+.2%}<extra></extra>"))
    fig.update_layout(    # an uplift is a difference of response rates: percentages, never 0.0601
        title=t("evaluate.viz.by_bin.title", lang=lang),
        xaxis_title=t("evaluate.viz.axis.bin", lang=lang), yaxis_title=t("evaluate.viz.axis.uplift", lang=lang),
        yaxis_tickformat=".1%",
    )
    return fig
