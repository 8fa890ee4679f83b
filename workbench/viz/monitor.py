"""Figures of a released campaign's progress: the manager's monitoring (template 05) and the executor's own chart.

Draw only: each builder takes what :mod:`workbench.apps.monitor` computed or
:meth:`workbench.store.Store.progress` returned and gives a
:class:`plotly.graph_objects.Figure` (never shown here).  Labels come from the
catalogue (``app_monitor.*``, ``app_executor.*``, ``channel.*``; branch names
from the data model).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.data.tables import branch_name
from workbench.errors import ParameterError
from workbench.i18n import get_language, labels_for, t

__all__ = ["progress_over_time_figure", "activity_figure", "branch_status_figure", "dimension_figure",
           "progress_figure"]

_MONITOR, _EXECUTOR = "app_monitor", "app_executor"


def _branch_label(branch_id: str | None, lang: str) -> str:
    """As :func:`workbench.apps.widgets.branch_label`: the branch's name, the whole province for none."""
    return branch_name(branch_id, lang) if branch_id else t("apps.whoami.no_branch", lang=lang)


# ------------------------------------------------------------------ the manager's view (template 05)
def _period_range(period, daily: pd.DataFrame) -> list[str]:
    """The x range of a day axis: the campaign's period (half a day either side), never the data's own extent."""
    start = pd.Timestamp(period[0])
    end = pd.Timestamp(period[1]) if period[1] is not None else (
        pd.Timestamp(daily["day"].max()) if len(daily) else start)
    end = max(end, start)
    half = pd.Timedelta(hours=12)
    return [(start - half).isoformat(), (end + half).isoformat()]


def progress_over_time_figure(daily: pd.DataFrame, period, lang: str | None = None) -> go.Figure:
    """Contacted share by day per branch (lines) against the plan (dashed), over the campaign's period.

    Parameters
    ----------
    daily : DataFrame
        :func:`workbench.apps.monitor.daily_progress` (``day`` a calendar day).
    period : tuple
        The campaign's ``(start, end)`` days (:meth:`workbench.store.Store.campaign_period`): the
        x axis spans them whatever the data holds (``end`` None: up to the last day shown).
    """
    lang = lang or get_language()
    labels = labels_for(_MONITOR, lang)
    fig = go.Figure()
    for branch, part in daily.groupby("branch", sort=True):
        fig.add_scatter(x=part["day"], y=part["contacted_rate"] * 100, mode="lines",
                        name=_branch_label(branch, lang))
    if len(daily):
        plan = daily.drop_duplicates("day")
        fig.add_scatter(x=plan["day"], y=plan["planned_rate"] * 100, mode="lines", name=labels["plan"],
                        line=dict(dash="dash", color="#7b8794"))
    fig.update_layout(title=labels["over_time_title"], xaxis_title=labels["date"], yaxis_title=labels["contacted_rate"],
                      yaxis_ticksuffix="%", yaxis_range=[0, 105], height=360, margin=dict(l=50, r=20, t=50, b=40))
    fig.update_xaxes(type="date", range=_period_range(period, daily), tickformat="%m-%d")
    return fig


def activity_figure(activity: pd.DataFrame, period, lang: str | None = None, *, orders: bool = True) -> go.Figure:
    """Work per day over the campaign's period: contacts recorded and customers first contacted (bars), orders.

    Parameters
    ----------
    activity : DataFrame
        :func:`workbench.apps.monitor.activity_by_day` (``day, contacted, results, orders``).
    period : tuple
        The campaign's ``(start, end)`` days: the x axis's range.
    orders : bool, default True
        Draw the orders (False for roles that may not read them).
    """
    lang = lang or get_language()
    labels = labels_for(_MONITOR, lang)
    fig = go.Figure()
    fig.add_bar(x=activity["day"], y=activity["results"], name=labels["results"], marker_color="#9fb3c8")
    fig.add_bar(x=activity["day"], y=activity["contacted"], name=labels["first_contacts"], marker_color="#3e7cb1")
    if orders:
        fig.add_scatter(x=activity["day"], y=activity["orders"], name=labels["orders"], mode="lines+markers",
                        line=dict(color="#2e933c"))
    fig.update_layout(title=labels["activity_title"], barmode="overlay", xaxis_title=labels["date"],
                      yaxis_title=labels["count"], height=320, margin=dict(l=50, r=20, t=50, b=40),
                      legend_orientation="h")
    fig.update_xaxes(type="date", range=_period_range(period, activity), tickformat="%m-%d")
    fig.update_yaxes(rangemode="tozero")
    return fig


def branch_status_figure(status: pd.DataFrame, lang: str | None = None) -> go.Figure:
    """Contacted share per branch (lagging branches in red) with the planned share as a line."""
    lang = lang or get_language()
    labels = labels_for(_MONITOR, lang)
    names = [_branch_label(b, lang) for b in status["branch"]]
    fig = go.Figure()
    # one trace per state in the same slot, so the legend's colours are the bars' (red = lagging)
    for lagging, colour, name in ((False, "#3e7cb1", labels["contacted_rate"]),
                                  (True, "#c0392b", labels["contacted_rate_lagging"])):
        rows = status["lagging"].to_numpy(bool) == lagging
        if not rows.any():
            continue
        rate = status["contacted_rate"].where(rows)
        fig.add_bar(x=names, y=rate * 100, marker_color=colour, name=name, offsetgroup="contacted",
                    text=[f"{v:.0%}" if r else "" for v, r in zip(status["contacted_rate"], rows)],
                    textposition="outside")
    fig.add_bar(x=names, y=status["accepted_rate"] * 100, marker_color="#2e933c", name=labels["accepted_rate"],
                offsetgroup="accepted")
    fig.add_scatter(x=names, y=status["planned_rate"] * 100, mode="lines+markers", name=labels["plan"],
                    line=dict(dash="dash", color="#7b8794"))
    fig.update_layout(title=labels["branch_title"], barmode="group", yaxis_ticksuffix="%", yaxis_range=[0, 110],
                      height=360, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _executor_names(part: pd.DataFrame, keys: pd.Series) -> pd.Series:
    """``keys`` of :meth:`Store.progress`'s executor rows replaced by the executors' names where the store gave
    them (``executor_name``; a progress frame without that column keeps the logins)."""
    if "executor_name" not in part.columns:
        return keys
    names = part["executor_name"]
    return names.where(names.notna() & names.ne(""), keys)


def dimension_figure(progress: pd.DataFrame, dimension: str, lang: str | None = None) -> go.Figure:
    """Contacted and accepted shares by ``channel`` or ``executor`` (from :meth:`Store.progress`).

    Channels are named by their labels, executors by the names people know them by (``executor_name``).

    Raises
    ------
    ParameterError
        When ``dimension`` is not ``channel`` or ``executor``.
    """
    if dimension not in ("channel", "executor"):
        raise ParameterError.invalid("dimension", "one of ['channel', 'executor']", dimension)
    lang = lang or get_language()
    labels = labels_for(_MONITOR, lang)
    part = progress[progress["dimension"] == dimension]
    keys = part["key"].fillna(labels["unassigned"]).astype(str)
    if dimension == "executor":
        keys = _executor_names(part, keys)
    if dimension == "channel":
        channels = labels_for("channel", lang)
        keys = keys.map(lambda k: channels.get(k, k))
    fig = go.Figure()
    fig.add_bar(x=keys, y=part["contacted_rate"] * 100, name=labels["contacted_rate"], marker_color="#3e7cb1")
    fig.add_bar(x=keys, y=part["accepted_rate"] * 100, name=labels["accepted_rate"], marker_color="#2e933c")
    fig.update_layout(title=labels[f"{dimension}_title"], barmode="group", yaxis_ticksuffix="%",
                      yaxis_range=[0, 110], height=340, margin=dict(l=50, r=20, t=50, b=40))
    return fig


# ------------------------------------------------------------------ the executor's own progress
def progress_figure(progress: pd.DataFrame, user, lang: str | None = None,
                    branch: pd.DataFrame | None = None) -> go.Figure:
    """Bars of contacted % and accepted %: the user's own rows, (for managers) every executor in scope,
    and the branch's totals beside them when given.

    Parameters
    ----------
    progress : DataFrame
        :meth:`Store.progress` for ``user`` (columns :data:`workbench.store.PROGRESS_COLUMNS`).
    user : workbench.store.User
        The signed-in user (their row, ``key == user.name``, is labelled "mine").
    branch : DataFrame, optional
        :meth:`Store.branch_totals` (one row), shown as a bar pair labelled "my branch".

    Returns
    -------
    plotly.graph_objects.Figure
    """
    lang = lang or get_language()
    labels = labels_for(_EXECUTOR, lang)
    total = progress[progress["dimension"] == "total"].assign(key=labels["progress_scope"])
    executors = progress[progress["dimension"] == "executor"].copy()
    executors["key"] = [labels["progress_own"] if k == user.name else str(n)
                        for k, n in zip(executors["key"], _executor_names(executors, executors["key"]))]
    rows = pd.concat([total, executors[executors["key"] != labels["progress_scope"]]], ignore_index=True)
    if len(executors) == 1 and executors["key"].iloc[0] == labels["progress_own"]:
        rows = executors  # an executor's scope is their own rows: one bar pair is enough
    if branch is not None and not branch.empty:
        bar = t("apps.branch_progress.bar", lang=lang)
        rows = pd.concat([rows, branch.iloc[:1].assign(key=bar)[["key", "contacted_rate", "accepted_rate"]]],
                         ignore_index=True)
    fig = go.Figure()
    for col, colour in (("contacted_rate", "#3e7cb1"), ("accepted_rate", "#2e933c")):
        fig.add_bar(x=rows["key"].astype(str).tolist(), y=(rows[col] * 100).round(1).tolist(), name=labels[col],
                    marker_color=colour, text=[f"{v * 100:.0f}%" for v in rows[col]], textposition="outside")
    fig.update_layout(title=labels["chart_title"], barmode="group", height=320, yaxis_range=[0, 110],
                      yaxis_ticksuffix="%", margin=dict(l=40, r=20, t=50, b=40), legend_orientation="h")
    return fig
