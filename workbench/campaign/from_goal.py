"""A campaign spec from the goal of template 02: channels from plain mappings, the period, the baseline rate.

:func:`spec_from_goal` turns the goal (``goal.json``) and the planner's choices into a validated
:class:`~workbench.campaign.CampaignSpec`; :func:`baseline_from_goal` reads the organic response
rate of the goal's look-alikes; :func:`channel_specs` reads channel parameters (a template
parameter or a YAML file); :func:`check_goal` / :func:`goal_reason` read a goal mapping.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.campaign.spec import (
    BY_PREFERENCE, CampaignSpec, ChannelSpec, ContactPolicy, Goal, Offer, TargetGroup, UniversalControl,
)
from workbench.checks import check_int
from workbench.errors import ParameterError

__all__ = ["channel_specs", "spec_from_goal", "baseline_from_goal", "check_goal", "goal_reason"]


def channel_specs(channels: Mapping) -> tuple[ChannelSpec, ...]:
    """Channel specs from a plain mapping (a template parameter or a YAML file).

    Parameters
    ----------
    channels : mapping
        ``{channel: {"unit_cost": yuan, "response_multiplier": m,
        "daily_capacity": contacts per day of every branch, or {branch: contacts per day},
        "default_daily_capacity": for branches not in that mapping}}``.
        ``daily_capacity`` missing or ``None`` means unlimited.

    Returns
    -------
    tuple of ChannelSpec

    Examples
    --------
    >>> specs = channel_specs({"sms": {"unit_cost": 0.05, "response_multiplier": 2, "daily_capacity": 300}})
    >>> specs[0].capacity_for("hami")
    300
    """
    if not isinstance(channels, Mapping) or not channels:
        raise ParameterError.invalid(
            "channels", "a non-empty mapping {channel: {unit_cost, response_multiplier, daily_capacity}}", channels)
    out = []
    allowed = {"unit_cost", "response_multiplier", "daily_capacity", "default_daily_capacity"}
    for name, entry in channels.items():
        if not isinstance(entry, Mapping):
            raise ParameterError.invalid(f"channels[{name}]", f"a mapping with keys from {sorted(allowed)}", entry)
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise ParameterError.invalid(f"channels[{name}]", f"a mapping with keys from {sorted(allowed)}",
                                         f"unknown key(s) {unknown}")
        if "unit_cost" not in entry:
            raise ParameterError.invalid(f"channels[{name}].unit_cost", "a cost per contact in yuan", None)
        daily = entry.get("daily_capacity")
        default = entry.get("default_daily_capacity")
        per_branch: Mapping = {}
        if isinstance(daily, Mapping):
            per_branch = daily
        elif daily is not None:
            if default is not None:
                raise ParameterError.invalid(f"channels[{name}]", "daily_capacity as a number or "
                                             "default_daily_capacity, not both", entry)
            default = daily
        out.append(ChannelSpec(str(name), entry["unit_cost"], entry.get("response_multiplier", 1.0),
                               dict(per_branch), default))
    return tuple(out)


def _goal_period(goal: Mapping, period) -> tuple[dt.date, dt.date]:
    if period in (None, "", [], ()):
        return goal["period_start"], goal["period_end"]
    if isinstance(period, str) or not isinstance(period, (list, tuple)) or len(period) != 2:
        raise ParameterError.invalid("period", "[] (the goal's period) or ['YYYY-MM-DD', 'YYYY-MM-DD']", period)
    return period[0], period[1]


def check_goal(goal) -> Mapping:
    """``goal`` as template 02 writes it (``goal.json``): a mapping with the product, the target and the period."""
    need = ("product", "target_stable_subscribers", "period_start", "period_end")
    if not isinstance(goal, Mapping) or not set(need) <= set(goal):
        raise ParameterError.invalid("goal", f"the goal of template 02 (goal.json) with {list(need)}",
                                     sorted(goal) if isinstance(goal, Mapping) else type(goal).__name__)
    return goal


def goal_reason(goal: Mapping) -> str:
    """The goal's reason as text (``""`` when none)."""
    reason = goal.get("reason", "")
    if isinstance(reason, Mapping):
        reason = reason.get("text") or ""
    return str(reason or "")


def spec_from_goal(goal: Mapping, *, channels, list_size: int | None = None, score_threshold: float | None = None,
                   product: str | None = None, edition: str = BY_PREFERENCE, product_id: str | None = None,
                   tariff: str = "", monthly_fee: float | None = None, free_months: int = 0, promotion: str = "",
                   control_share: float = 0.1, budget: float | None = None, response_window_days: int = 30,
                   period=None, seed: int = 0, value_per_order: float = 30.0, recent_days: int = 7,
                   max_contacts_month: int = 4, exclude_credit_grades=("D", "E"),
                   universal_control_share: float = 0.0, universal_period_key: str = "",
                   name: str = "", owner: str = "system", model_id: str = "scores", rules: Sequence[str] = (),
                   brands: Sequence[str] = ()) -> CampaignSpec:
    """A validated :class:`CampaignSpec` from the goal of template 02 and the planner's choices.

    Parameters
    ----------
    goal : mapping
        The goal (``goal.json``): ``product``, ``target_stable_subscribers``,
        ``period_start``, ``period_end``, ``reason`` and ``branches``.
    channels : mapping or sequence of ChannelSpec
        See :func:`channel_specs`.
    list_size, score_threshold
        The target group: exactly one of the two.
    product : str, optional
        Product family; must be the goal's (default: the goal's).
    period : [start, end], optional
        The campaign period (default: the goal's).
    universal_control_share : float
        Share of the province in the universal control group (0 = none);
        ``universal_period_key`` names its period (default: the start's year and half, e.g. ``"2026H2"``).
    name : str
        Campaign name (default: the family's name in the current language and the period,
        e.g. ``手机报 2026-11-01..2027-01-31``).

    Other parameters are the fields of :class:`CampaignSpec` and its sections.

    Raises
    ------
    ParameterError
        A product other than the goal's, a malformed goal or period, or any
        invalid field (named as in :class:`CampaignSpec`).
    """
    goal = check_goal(goal)
    family = product or goal["product"]
    if family != goal["product"]:
        raise ParameterError.invalid("product", f"the goal's product {goal['product']!r} (or run template 02 for "
                                                f"{family!r})", family)
    start, end = _goal_period(goal, period)
    chans = tuple(channels) if isinstance(channels, (list, tuple)) else channel_specs(channels)
    g = Goal(goal["target_stable_subscribers"], start, end, goal_reason(goal))
    key = universal_period_key or f"{g.period_start.year}H{1 if g.period_start.month <= 6 else 2}"
    uc = UniversalControl(enabled=universal_control_share > 0, share=universal_control_share,
                          period_key=key if universal_control_share > 0 else "")
    if not name:  # the product's name in the current language, as people call it
        from workbench.i18n import t

        name = f"{t(f'family.{family}')} {g.period_start.isoformat()}..{g.period_end.isoformat()}"
    return CampaignSpec(
        name=name, owner=owner, goal=g,
        offer=Offer(family, edition=edition, product_id=product_id, tariff=tariff, monthly_fee=monthly_fee,
                    free_months=free_months, promotion=promotion),
        target=TargetGroup(model_id, list_size=list_size or None, score_threshold=score_threshold,
                           rules=tuple(rules), brands=tuple(brands)),
        channels=chans, branches=tuple(goal.get("branches") or ()), response_window_days=response_window_days,
        control_share=control_share, universal_control=uc,
        contact_policy=ContactPolicy(recent_days=recent_days, max_contacts_month=max_contacts_month,
                                     exclude_credit_grades=tuple(exclude_credit_grades)),
        value_per_order=value_per_order, budget=budget, seed=seed,
    )


def baseline_from_goal(goal: Mapping, response_window_days: int) -> tuple[float, int | None]:
    """Organic response rate of the goal's look-alikes over the response window, and how many they are.

    The goal's check holds the look-alikes' expected conversion over the goal
    period (``check.conversion_rate``) and their number (``check.lookalikes``,
    the best-scored potential customers); over a window of ``w`` days of a
    period of ``P`` days the rate is ``conversion_rate x min(1, w / P)``.

    Returns
    -------
    (rate, size)
        ``baseline_rate`` and ``baseline_size`` for :func:`plan_campaign`
        (``size`` is ``None`` when the check gives no look-alikes).

    Raises
    ------
    ParameterError
        When the goal has no conversion rate in (0, 1) (then give ``baseline_rate`` yourself).
    """
    goal = check_goal(goal)
    window = check_int("response_window_days", response_window_days, 1, 365)
    check = goal.get("check") if isinstance(goal.get("check"), Mapping) else {}
    rate = check.get("conversion_rate")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate < 1:
        raise ParameterError.invalid("goal.check.conversion_rate", "a conversion rate in (0, 1) (template 02's "
                                     "check); otherwise give baseline_rate", rate)
    start, end = pd.Timestamp(goal["period_start"]), pd.Timestamp(goal["period_end"])
    days = max(1, (end - start).days + 1)
    size = check.get("lookalikes")
    size = int(size) if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0 else None
    return float(rate) * min(1.0, window / days), size
