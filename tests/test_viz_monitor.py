"""Figures of a released campaign's progress (the manager view of template 05, the executor's chart).

Tiny explicit frames in the shapes :func:`workbench.apps.monitor.branch_status` and
:meth:`workbench.store.Store.progress` return; the store-backed executor chart is tested
in test_app_executor.py.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.errors import ParameterError
from workbench.viz.monitor import (
    activity_figure, branch_status_figure, dimension_figure, progress_figure, progress_over_time_figure,
)

# Hami behind plan (nothing contacted), Urumqi on plan: as branch_status() gives them, slowest first
STATUS = pd.DataFrame({
    "branch": ["hami", "urumqi"], "members": [10, 10], "contacted": [0, 6], "accepted": [0, 2],
    "contacted_rate": [0.0, 0.6], "accepted_rate": [0.0, 0.2], "planned_rate": [0.3, 0.3], "executors": [0, 1],
    "capacity_days": [float("nan"), 0.8], "lagging": [True, False],
})
PROGRESS = pd.DataFrame([
    ("total", "total", 20, 6, 5, 2, 0.3, 0.25, 0.1),
    ("branch", "hami", 10, 0, 0, 0, 0.0, 0.0, 0.0),
    ("branch", "urumqi", 10, 6, 5, 2, 0.6, 0.5, 0.2),
    ("channel", "outbound_call", 20, 6, 5, 2, 0.3, 0.25, 0.1),
    ("executor", "ex_u", 10, 6, 5, 2, 0.6, 0.5, 0.2),
    ("executor", None, 10, 0, 0, 0, 0.0, 0.0, 0.0),
], columns=["dimension", "key", "members", "contacted", "reached", "accepted", "contacted_rate", "reached_rate",
            "accepted_rate"])


def test_branch_figure_legend_colours_are_the_bars_colours():
    fig = branch_status_figure(STATUS, lang="en")
    assert isinstance(fig, go.Figure)
    bars = {t.name: t for t in fig.data if t.type == "bar"}
    on_plan, lagging = bars["Contacted %"], bars["Contacted % (lagging)"]
    assert on_plan.marker.color != lagging.marker.color and on_plan.offsetgroup == lagging.offsetgroup
    assert list(on_plan.x) == list(lagging.x) == ["Hami", "Urumqi"]
    assert pd.isna(on_plan.y[0]) and on_plan.y[1] == pytest.approx(60)        # Urumqi on plan
    assert lagging.y[0] == pytest.approx(0) and pd.isna(lagging.y[1])          # Hami behind
    assert list(on_plan.text) == ["", "60%"] and list(lagging.text) == ["0%", ""]
    assert list(branch_status_figure(STATUS, lang="zh").data[0].x) == ["哈密", "乌鲁木齐"]
    all_on_plan = branch_status_figure(STATUS.assign(lagging=False), lang="en")
    assert [t.name for t in all_on_plan.data if t.type == "bar"] == ["Contacted %", "Accepted %"]


def test_dimension_figure_labels_channels_and_unassigned_rows():
    fig = dimension_figure(PROGRESS, "executor", lang="en")
    assert list(fig.data[0].x) == ["ex_u", "Unassigned"]         # a frame without names: the logins
    named = PROGRESS.assign(executor_name=[None] * 4 + ["乌鲁木齐 执行员", None])   # as Store.progress gives it
    assert list(dimension_figure(named, "executor", lang="en").data[0].x) == ["乌鲁木齐 执行员", "Unassigned"]
    assert list(dimension_figure(PROGRESS, "channel", lang="en").data[0].x) == ["Outbound call"]
    with pytest.raises(ParameterError, match=r"'dimension' parameter must be one of \['channel', 'executor'\]"):
        dimension_figure(PROGRESS, "branch")


def test_progress_over_time_has_a_line_per_branch_and_the_plan_over_the_campaign_period():
    days = pd.to_datetime(["2026-03-01", "2026-03-02"] * 2)
    daily = pd.DataFrame({"day": days, "branch": ["hami", "hami", "urumqi", "urumqi"],
                          "contacted_rate": [0.0, 0.1, 0.2, 0.6], "planned_rate": [0.1, 0.2, 0.1, 0.2]})
    period = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    fig = progress_over_time_figure(daily, period, lang="en")
    assert [t.name for t in fig.data] == ["Hami", "Urumqi", "Plan"]
    assert list(fig.data[1].y) == pytest.approx([20, 60]) and list(fig.data[2].y) == pytest.approx([10, 20])
    assert [t.name for t in progress_over_time_figure(daily.iloc[:0], period, lang="en").data] == []
    # the x axis is the period (half a day either side), whatever the data's own days
    assert fig.layout.xaxis.type == "date"
    assert [pd.Timestamp(x) for x in fig.layout.xaxis.range] == [pd.Timestamp("2026-02-28 12:00"),
                                                                 pd.Timestamp("2026-03-31 12:00")]
    open_end = progress_over_time_figure(daily, (period[0], None), lang="en")
    assert pd.Timestamp(open_end.layout.xaxis.range[1]) == pd.Timestamp("2026-03-02 12:00")


def test_activity_figure_draws_attempts_first_contacts_and_orders_only_when_read():
    activity = pd.DataFrame({"day": pd.to_datetime(["2026-03-01", "2026-03-02"]), "contacted": [2, 1],
                             "results": [3, 1], "orders": [0, 2]})
    period = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    fig = activity_figure(activity, period, lang="en")
    assert [t.name for t in fig.data] == ["Contacts recorded", "Customers first contacted", "Orders"]
    assert list(fig.data[2].y) == [0, 2]
    assert pd.Timestamp(fig.layout.xaxis.range[1]) == pd.Timestamp("2026-03-31 12:00")
    assert [t.name for t in activity_figure(activity, period, lang="en", orders=False).data] == [
        "Contacts recorded", "Customers first contacted"]


def test_progress_figure_labels_the_users_own_row():
    me = SimpleNamespace(name="ex_u")
    fig = progress_figure(PROGRESS[PROGRESS["key"] == "ex_u"], me, lang="en")
    assert list(fig.data[0].x) == ["Mine"] and list(fig.data[0].text) == ["60%"]
    scope = progress_figure(PROGRESS[PROGRESS["key"].notna()], SimpleNamespace(name="bm_u"), lang="en")
    assert list(scope.data[0].x) == ["My scope in total", "ex_u"]
    assert list(scope.data[0].y) == pytest.approx([30, 60]) and list(scope.data[1].text) == ["10%", "20%"]
