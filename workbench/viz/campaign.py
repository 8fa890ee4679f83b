"""Figures of campaign design: eligibility funnel, control balance, channel plan, workloads.

Draw only: every builder takes a frame computed by :mod:`workbench.campaign`
and returns a :class:`plotly.graph_objects.Figure` (never shown here).  Titles,
axes, legends, steps, groups and channels come from the label catalogue
(``campaign.*``, ``channel.*``, ``common.*``).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ParameterError
from workbench.data.tables import branch_name
from workbench.i18n import catalogue, get_language, t
from workbench.viz.ticks import funnel_text

__all__ = ["funnel_figure", "control_balance_figure", "channel_plan_figure", "workload_figure"]

_PLAN_MEASURES = {
    "expected_orders": ("campaign.viz.plan.orders.title", "campaign.viz.axis.orders"),
    "cost": ("campaign.viz.plan.cost.title", "campaign.viz.axis.cost"),
    "roi": ("campaign.viz.plan.roi.title", "campaign.viz.axis.roi"),
    "users": ("campaign.viz.plan.users.title", "campaign.viz.axis.users"),
}


def _need(frame, name: str, columns: list[str], source: str) -> None:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        got = sorted(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"the result of {source} with columns {columns}", got)


def _label(prefix: str, value, lang: str | None) -> str:
    key = f"{prefix}.{value}"
    return t(key, lang=lang) if key in catalogue() else str(value)


def _branch(code, lang: str | None) -> str:
    """A branch code as its name (``aksu`` -> ``阿克苏``)."""
    return branch_name(str(code), lang or get_language())


def funnel_figure(funnel: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """The contact-policy funnel: users remaining after each exclusion rule.

    Parameters
    ----------
    funnel : DataFrame
        The funnel of :func:`workbench.campaign.apply_contact_policy`.
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _need(funnel, "funnel", ["step", "excluded", "remaining"], "apply_contact_policy()")
    steps = [_label("campaign.policy.step", s, lang) for s in funnel["step"]]
    remaining = funnel["remaining"].astype(int).tolist()
    first = remaining[0] if remaining else 0
    text = [funnel_text(r, first) + (f" −{e:,}" if i and e else "")
            for i, (r, e) in enumerate(zip(remaining, funnel["excluded"].astype(int)))]
    fig = go.Figure(go.Funnel(y=steps, x=funnel["remaining"], text=text, textinfo="text",
                              hovertemplate="%{y}: %{text}<extra></extra>",
                              name=t("campaign.viz.funnel.remaining", lang=lang)))
    fig.update_layout(title=t("campaign.viz.funnel.title", lang=lang))
    return fig


def control_balance_figure(balance: pd.DataFrame, *, branch_col: str = "branch_id",
                           decile_col: str = "score_decile", lang: str | None = None) -> go.Figure:
    """Target and control users per stratum (branch x score decile), with the control share.

    Parameters
    ----------
    balance : DataFrame
        A :func:`workbench.campaign.control_balance` result.
    branch_col, decile_col : str
        Its stratum columns.
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Stacked bars of users per stratum and the control share on a second axis.
    """
    _need(balance, "balance", [branch_col, decile_col, "target", "control", "control_share"], "control_balance()")
    labels = [f"{_branch(b, lang)} · {d}" for b, d in zip(balance[branch_col], balance[decile_col])]
    fig = go.Figure([
        go.Bar(name=t("campaign.group.target", lang=lang), x=labels, y=balance["target"]),
        go.Bar(name=t("campaign.group.control", lang=lang), x=labels, y=balance["control"]),
        go.Scatter(name=t("campaign.control_share", lang=lang), x=labels, y=balance["control_share"],
                   mode="markers", yaxis="y2", marker={"color": "black", "symbol": "diamond"}),
    ])
    fig.update_layout(
        barmode="stack", title=t("campaign.viz.control.title", lang=lang),
        xaxis_title=f"{t('common.branch', lang=lang)} · {t('campaign.score_decile', lang=lang)}",
        yaxis_title=t("campaign.viz.control.users", lang=lang),
        yaxis2={"title": t("campaign.control_share", lang=lang), "overlaying": "y", "side": "right",
                "tickformat": ".0%", "rangemode": "tozero"},
    )
    return fig


def channel_plan_figure(summary: pd.DataFrame, *, measure: str = "expected_orders", by: str = "channel",
                        branch_col: str = "branch_id", lang: str | None = None) -> go.Figure:
    """A measure of the channel plan by channel (bars per branch) or by branch (bars per channel).

    Parameters
    ----------
    summary : DataFrame
        :attr:`workbench.campaign.ChannelPlan.summary`.
    measure : {"expected_orders", "cost", "roi", "users"}
        What to draw; ``roi`` is recomputed from the totals of each bar
        (net value / cost).
    by : {"channel", "branch"}
        The x axis.
    branch_col : str
        The summary's branch column.
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if measure not in _PLAN_MEASURES:
        raise ParameterError.invalid("measure", f"one of {list(_PLAN_MEASURES)}", measure)
    if by not in ("channel", "branch"):
        raise ParameterError.invalid("by", "'channel' or 'branch'", by)
    _need(summary, "summary", [branch_col, "channel", "users", "expected_orders", "cost", "net_value"],
          "ChannelPlan.summary")
    x_col, series_col = ("channel", branch_col) if by == "channel" else (branch_col, "channel")
    title_key, axis_key = _PLAN_MEASURES[measure]
    fig = go.Figure()
    if measure == "roi":
        totals = summary.groupby(x_col, sort=True)[["net_value", "cost"]].sum()
        roi = totals["net_value"] / totals["cost"].where(totals["cost"] > 0)
        xs = [_label("channel", x, lang) if x_col == "channel" else _branch(x, lang) for x in totals.index]
        fig.add_trace(go.Bar(x=xs, y=roi, name=t("campaign.viz.axis.roi", lang=lang)))
        fig.update_layout(yaxis_tickformat=".0%")
    else:
        for key, part in summary.groupby(series_col, sort=True):
            part = part.sort_values(x_col)
            xs = [_label("channel", x, lang) if x_col == "channel" else _branch(x, lang) for x in part[x_col]]
            name = _label("channel", key, lang) if series_col == "channel" else _branch(key, lang)
            fig.add_trace(go.Bar(x=xs, y=part[measure], name=name))
        fig.update_layout(barmode="stack")
    fig.update_layout(
        title=t(title_key, lang=lang),
        xaxis_title=t("common.channel" if by == "channel" else "common.branch", lang=lang),
        yaxis_title=t(axis_key, lang=lang),
    )
    return fig


def workload_figure(workload: pd.DataFrame, *, branch_col: str = "branch_id", lang: str | None = None) -> go.Figure:
    """Users per executor, stacked by score band (A = best).

    Parameters
    ----------
    workload : DataFrame
        A :func:`workbench.campaign.workload` result.
    branch_col : str
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _need(workload, "workload", [branch_col, "channel", "executor", "total"], "workload()")
    bands = [c for c in workload.columns if c not in (branch_col, "channel", "executor", "total")]
    labels = [f"{b} · {_label('channel', c, lang)} · {e}"
              for b, c, e in zip(workload[branch_col], workload["channel"], workload["executor"])]
    fig = go.Figure([go.Bar(name=f"{t('campaign.score_band', lang=lang)} {band}", x=labels, y=workload[band])
                     for band in bands])
    fig.update_layout(
        barmode="stack", title=t("campaign.viz.workload.title", lang=lang),
        xaxis_title=t("campaign.viz.axis.executor", lang=lang), yaxis_title=t("campaign.viz.axis.users", lang=lang),
    )
    return fig
