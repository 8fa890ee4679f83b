"""Figures of user quality and product growth after a campaign.

Draw only: each builder takes a frame computed by :mod:`workbench.tracking.quality`
and returns a :class:`plotly.graph_objects.Figure` (never shown here).  Titles,
axes and legends come from the label catalogue (``tracking.*``, ``store.group.*``,
``family.*``; zh by default, ``lang="en"`` for English).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.i18n import t

__all__ = ["retention_curve_figure", "arpu_did_figure", "product_trend_figure"]

_TREATED_COLOUR = "#2a9d8f"
_CONTROL_COLOUR = "#8d99ae"


def _check(frame, needed: set[str], name: str, producer: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not needed <= set(frame.columns):
        got = sorted(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"a {producer} result with columns {sorted(needed)}", got)
    return frame


def retention_curve_figure(retention: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Share of acquired subscribers still subscribed by months after the order, target vs control.

    Parameters
    ----------
    retention : pandas.DataFrame
        A :func:`~workbench.tracking.quality.retention_table` result; the curve
        starts at 100 % at month 0, and each point carries its Wilson interval.
    lang : {"zh", "en"}, optional
        Language of the labels.

    Returns
    -------
    plotly.graph_objects.Figure
        Two line traces (target, control).

    Raises
    ------
    ParameterError
        Not a retention table.
    """
    needed = {"months", "rate_treated", "rate_treated_ci_low", "rate_treated_ci_high", "rate_control",
              "rate_control_ci_low", "rate_control_ci_high", "n_treated", "n_control"}
    rows = _check(retention, needed, "retention", "retention_table()").sort_values("months")
    x = np.r_[0, rows["months"].to_numpy(np.int64)]
    fig = go.Figure()
    for side, group, colour in (("treated", "target", _TREATED_COLOUR), ("control", "control", _CONTROL_COLOUR)):
        rate = np.r_[1.0, rows[f"rate_{side}"].to_numpy(float)]
        lo = np.r_[1.0, rows[f"rate_{side}_ci_low"].to_numpy(float)]
        hi = np.r_[1.0, rows[f"rate_{side}_ci_high"].to_numpy(float)]
        n = np.r_[np.nan, rows[f"n_{side}"].to_numpy(float)]
        fig.add_trace(go.Scatter(
            x=x, y=rate, mode="lines+markers", name=t(f"store.group.{group}", lang=lang),
            line={"color": colour},
            error_y={"type": "data", "symmetric": False, "array": hi - rate, "arrayminus": rate - lo},
            customdata=n, hovertemplate="%{x}: %{y:.1%} (n=%{customdata:.0f})<extra></extra>",
        ))
    fig.update_layout(
        title=t("tracking.viz.retention.title", lang=lang),
        xaxis={"title": t("tracking.viz.retention.months", lang=lang), "dtick": 1},
        yaxis={"title": t("tracking.viz.retention.share", lang=lang), "tickformat": ".0%", "rangemode": "tozero"},
    )
    return fig


def arpu_did_figure(did: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """ARPU change of target and control, and their difference with its interval, per comparison.

    Parameters
    ----------
    did : pandas.DataFrame
        An :func:`~workbench.tracking.quality.arpu_did` result.
    lang : {"zh", "en"}, optional
        Language of the labels.

    Returns
    -------
    plotly.graph_objects.Figure
        Three bar traces: target change, control change, difference (with error bars).

    Raises
    ------
    ParameterError
        Not a DiD table.
    """
    needed = {"comparison", "change_treated", "change_control", "did", "ci_low", "ci_high"}
    rows = _check(did, needed, "did", "arpu_did()")
    labels = [t(f"tracking.comparison.{c}", lang=lang) for c in rows["comparison"]]
    est = rows["did"].to_numpy(float)
    fig = go.Figure([
        go.Bar(name=t("tracking.viz.did.change_treated", lang=lang), x=labels, y=rows["change_treated"],
               marker_color=_TREATED_COLOUR, hovertemplate="%{x}: %{y:.2f}<extra></extra>"),
        go.Bar(name=t("tracking.viz.did.change_control", lang=lang), x=labels, y=rows["change_control"],
               marker_color=_CONTROL_COLOUR, hovertemplate="%{x}: %{y:.2f}<extra></extra>"),
        go.Bar(name=t("tracking.viz.did.difference", lang=lang), x=labels, y=est, marker_color="#e9c46a",
               error_y={"type": "data", "symmetric": False, "array": rows["ci_high"].to_numpy(float) - est,
                        "arrayminus": est - rows["ci_low"].to_numpy(float)},
               hovertemplate="%{x}: %{y:.2f}<extra></extra>"),
    ])
    fig.add_hline(y=0, line_color="grey", line_width=1)
    fig.update_layout(barmode="group", title=t("tracking.viz.did.title", lang=lang),
                      yaxis_title=t("tracking.viz.did.axis", lang=lang))
    return fig


def product_trend_figure(trend: pd.DataFrame, *, campaign_start, campaign_end, family: str = "mobile_newspaper",
                         lang: str | None = None) -> go.Figure:
    """Subscribers of the product by month (observed, then simulated) with orders and unsubscribes, campaign shaded.

    Parameters
    ----------
    trend : pandas.DataFrame
        A :func:`~workbench.tracking.quality.product_trend` result.
    campaign_start, campaign_end : date
        The campaign period, drawn as a shaded band (``add_vrect``).
    family : str, default "mobile_newspaper"
        Product family (for the title).
    lang : {"zh", "en"}, optional
        Language of the labels.

    Returns
    -------
    plotly.graph_objects.Figure
        Bars of orders and unsubscribes (left axis), the subscriber line
        (right axis; dashed over the simulated months) and the campaign band.

    Raises
    ------
    ParameterError
        Not a trend table, or a campaign end before its start.
    """
    rows = _check(trend, {"month", "subscribers", "orders", "unsubscribes", "source"}, "trend", "product_trend()")
    x0, x1 = pd.Timestamp(campaign_start), pd.Timestamp(campaign_end)
    if x1 < x0:
        raise ParameterError.invalid("campaign_end", f"a day on or after campaign_start ({x0:%Y-%m-%d})",
                                     campaign_end)
    month = pd.to_datetime(rows["month"])
    fig = go.Figure([
        go.Bar(name=t("tracking.viz.trend.orders", lang=lang), x=month, y=rows["orders"], marker_color="#8ecae6"),
        go.Bar(name=t("tracking.viz.trend.unsubscribes", lang=lang), x=month, y=rows["unsubscribes"],
               marker_color="#ffb703"),
    ])
    observed = (rows["source"] == "observed").to_numpy()
    simulated = ~observed
    if simulated.any() and observed.any():  # join the dashed part to the last observed month
        simulated[np.flatnonzero(observed)[-1]] = True
    for mask, key, dash in ((observed, "observed", "solid"), (simulated, "simulated", "dash")):
        if mask.any():
            fig.add_trace(go.Scatter(
                name=t(f"tracking.viz.trend.subscribers_{key}", lang=lang), x=month[mask],
                y=rows["subscribers"].to_numpy()[mask], mode="lines+markers", yaxis="y2",
                line={"color": "#023047", "dash": dash},
            ))
    fig.add_vrect(x0=x0, x1=x1, fillcolor="#e76f51", opacity=0.15, line_width=0,
                  annotation_text=t("tracking.viz.trend.campaign", lang=lang), annotation_position="top left")
    fig.update_layout(
        barmode="group",
        title=t("tracking.viz.trend.title", lang=lang, family=t(f"family.{family}", lang=lang)),
        xaxis_title=t("common.month", lang=lang),
        yaxis={"title": t("tracking.viz.trend.flows", lang=lang)},
        yaxis2={"title": t("tracking.viz.trend.subscribers", lang=lang), "overlaying": "y", "side": "right",
                "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
