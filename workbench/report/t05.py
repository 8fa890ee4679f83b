"""What template 05 (campaign monitoring) says: the view's opening line, lagging branches, the first read.

The view is read and computed by :func:`workbench.apps.monitor.monitor_data`
(a :class:`~workbench.apps.monitor.MonitorData`) and drawn by
:mod:`workbench.viz.monitor`; this module words it.  Each story returns a
catalogue key and its values for :func:`workbench.notebook.narrate`.

Examples
--------
>>> key, values = lagging_story(view, lag_ratio=0.8)     # doctest: +SKIP
>>> narrate(key, **values)                               # doctest: +SKIP
"""
from __future__ import annotations

import pandas as pd

__all__ = ["intro_story", "lagging_story", "provisional_numbers", "provisional_story"]


def intro_story(view, plan_days: int, capacity_per_day: int, *, follows_period: bool = False) -> tuple[str, dict]:
    """The opening line: the campaign, its members, contacted and accepted against the plan.

    Parameters
    ----------
    view : workbench.apps.monitor.MonitorData
        What :func:`workbench.apps.monitor.monitor_data` read for the user (its ``period`` is read
        when ``follows_period``).
    plan_days, capacity_per_day : int
        The plan the view was computed with (:func:`workbench.apps.monitor.plan_length`).
    follows_period : bool, default False
        The plan runs over the campaign's period (``plan_days`` is then its length) rather than
        ``plan_days`` days from the first contact.

    Returns
    -------
    tuple
        ``("t05.intro", values)`` or ``("t05.intro_period", values)``; shares stay fractions (the
        catalogue formats them).
    """
    values = {"campaign": view.campaign_name, "plan_days": plan_days, "capacity_per_day": capacity_per_day,
              **view.totals()}
    if follows_period:
        return "t05.intro_period", {**values, "start": view.period[0].isoformat(), "end": view.period[1].isoformat()}
    return "t05.intro", values


def lagging_story(view, lag_ratio: float, lang: str | None = None) -> tuple[str, dict]:
    """The branches behind plan, slowest first (``t05.lagging``), or ``t05.on_plan`` when none is.

    Parameters
    ----------
    view : workbench.apps.monitor.MonitorData
        What :func:`workbench.apps.monitor.monitor_data` read for the user.
    lag_ratio : float
        The share of the plan below which a branch lags (as the view was computed).
    lang : {"zh", "en"}, optional
        Language of the branch names; the current one when omitted.
    """
    lagging = view.lagging_branches(lang)
    if not lagging:
        return "t05.on_plan", {}
    return "t05.lagging", {"lag_ratio": lag_ratio, "branches": ", ".join(lagging)}


def provisional_numbers(effect: pd.DataFrame | None) -> dict[str, float] | None:
    """The target-vs-control figures of :func:`workbench.apps.monitor.early_response` for the narrative.

    Returns
    -------
    dict or None
        ``treated, control, lift, low, high`` (order rates and their difference with its
        95 % interval); ``None`` without a read.
    """
    if effect is None or effect.empty:
        return None
    row = effect.iloc[0]
    return {"treated": float(row["mean_treated"]), "control": float(row["mean_control"]),
            "lift": float(row["abs_lift"]), "low": float(row["abs_ci_low"]), "high": float(row["abs_ci_high"])}


def provisional_story(view) -> tuple[str, dict]:
    """The first, provisional read of target vs control (``t05.provisional``), or ``t05.no_response``.

    Parameters
    ----------
    view : workbench.apps.monitor.MonitorData
        Its ``effect`` (:func:`workbench.apps.monitor.early_response`, None for roles that may not read responses).
    """
    numbers = provisional_numbers(view.effect)
    return ("t05.provisional", numbers) if numbers else ("t05.no_response", {})
