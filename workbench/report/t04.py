"""Template 04 (campaign design) in words and tables: stories, KPI tiles and display tables of a plan.

:mod:`workbench.campaign` computes the plan (:func:`~workbench.campaign.plan_campaign`); this
module words it: the narrative key and values of each part (:func:`plan_story`,
:func:`inputs_story`, :func:`release_story`, for :func:`workbench.notebook.narrate`), the KPI
tiles (:func:`plan_cards`) and the display tables (:func:`spec_table`, :func:`channel_totals`,
:func:`list_preview`).  Numbers are shown through :mod:`workbench.report.format`; channels,
branches and editions by their names in the label catalogue, never by their codes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from workbench.campaign.assignment import EXECUTOR
from workbench.campaign.channel_plan import channel_inputs
from workbench.campaign.control import GROUP_TARGET
from workbench.campaign.from_goal import check_goal, goal_reason
from workbench.campaign.lists import LIST_COLUMNS
from workbench.campaign.planning import BRANCH_ID, CampaignPlan
from workbench.campaign.spec import CampaignSpec
from workbench.checks import check_choice, check_int
from workbench.data.tables import BRANCHES
from workbench.errors import ParameterError
from workbench.i18n import get_language, t
from workbench.report.format import count_text, number_text, pct_text, people_table
from workbench.report.names import edition_name

__all__ = [
    "PLAN_PARTS", "plan_story", "inputs_story", "release_story", "spec_table", "plan_cards", "channel_totals",
    "list_preview",
]

#: Parts of a plan :func:`plan_story` tells.
PLAN_PARTS: tuple[str, ...] = ("funnel", "control", "power", "channels", "workload")


def _pct(x) -> float:
    return float("nan") if x is None else float(x)


def _branch_names(lang: str) -> dict[str, str]:
    return {b[0]: (b[1] if lang == "zh" else b[2]) for b in BRANCHES}


def plan_story(plan: CampaignPlan, part: str, lang: str | None = None) -> tuple[str, dict]:
    """The narrative key and values of one part of a plan (for :func:`workbench.notebook.narrate`).

    Parameters
    ----------
    part : {"funnel", "control", "power", "channels", "workload"}

    Returns
    -------
    (key, values)
    """
    s = plan.summary
    if part == "funnel":
        ex = plan.funnel.set_index("step")["excluded"].astype(int).to_dict()
        return "t04.story.funnel", {
            "candidates": s["candidates"], "segment": ex["segment"], "subscriber": ex["subscriber"],
            "dnd": ex["do_not_disturb"], "recent": ex["recent_contact"], "cap": ex["monthly_cap"],
            "handset": ex["handset"], "universal": ex["universal_control"], "eligible": s["eligible"],
            "outside": ex["outside_list"], "listed": s["listed"]}
    if part == "control":
        b = plan.balance
        strata = int(len(b))
        return "t04.story.control", {
            "listed": s["listed"], "target": s["target"], "control": s["control"],
            "share": plan.spec.control_share, "strata": strata, "seed": plan.spec.seed}
    if part == "power":
        p = plan.power
        if p is None:
            return "t04.story.power.none", {}
        values = {"n_treated": p.detectable.n_treated, "n_control": p.detectable.n_control,
                  "baseline": p.detectable.baseline_rate, "mde": _pct(p.detectable.absolute),
                  "expected": p.expected_absolute, "goal": plan.spec.goal.target_stable_subscribers}
        if p.ok:
            return "t04.story.power.ok", values
        return "t04.story.power.warning", {**values, "message": p.message or ""}
    if part == "channels":
        budget = s["budget"]
        budget_text = t("t04.story.no_budget", lang=lang) if budget is None else number_text(budget, 0)
        return "t04.story.channels", {
            "target": s["target"], "contacted": s["contacted"], "not_contacted": s["not_contacted"],
            "orders": s["expected_orders"], "cost": s["cost"], "revenue": s["revenue"], "net": s["net_value"],
            "roi": _pct(s["roi"]), "budget": budget_text, "goal": s["goal"], "gap": _pct(s["gap"]),
            "control_released": s["control_released"], "control_dropped": s["control_dropped"]}
    if part == "workload":
        w = plan.workload
        spread = w.groupby([BRANCH_ID, "channel"])["total"].agg(lambda x: int(x.max() - x.min())) if len(w) \
            else pd.Series(dtype="int64")
        defaults = sorted(b for b, src in plan.info.get("roster_sources", {}).items() if src == "default")
        return "t04.story.workload", {
            "executors": int(w[EXECUTOR].nunique()) if len(w) else 0, "lists": int(spread.size),
            "spread": int(spread.max()) if spread.size else 0, "busiest": int(w["total"].max()) if len(w) else 0,
            "defaults": len(defaults)}
    raise ParameterError.invalid("part", f"one of {list(PLAN_PARTS)}", part)


def inputs_story(goal: Mapping, scores: pd.DataFrame, model_id: str, rules: Sequence[str] = (),
                 lang: str | None = None) -> tuple[str, dict]:
    """Narrative key and values of the campaign's inputs: the goal of template 02, the scores and rule
    examples of template 03."""
    goal = check_goal(goal)
    values = {
        "product": t(f"family.{goal['product']}", lang=lang), "target": int(goal["target_stable_subscribers"]),
        "start": str(goal["period_start"]), "end": str(goal["period_end"]), "reason": goal_reason(goal) or "-",
        "scored": int(len(scores)), "model": model_id}
    if rules:
        return "t04.story.inputs_rules", {**values, "rules": "\n".join(f"- {r}" for r in rules)}
    return "t04.story.inputs", values


def release_story(released, path, new_version: bool) -> tuple[str, dict]:
    """Narrative key and values of a release (:func:`~workbench.campaign.release_for_run`)."""
    return ("t04.story.released.version" if new_version else "t04.story.released.new"), {
        "campaign": int(released.campaign_id), "version": int(released.version),
        "members": int(released.member_count), "path": str(path)}


def spec_table(spec: CampaignSpec, lang: str | None = None) -> pd.DataFrame:
    """The channels of a spec: unit cost, response multiplier, daily capacity and capacity over the period.

    Headers and channel names come from the catalogue (``t04.spec.*``); one row per channel,
    indexed by the channel's name.
    """
    if not isinstance(spec, CampaignSpec):
        raise ParameterError.invalid("spec", "a CampaignSpec", type(spec).__name__)
    chans, cap = channel_inputs(spec)
    days = spec.goal.period_days
    unlimited = t("t04.spec.unlimited", lang=lang)
    rows = []
    for c in spec.channels:
        daily = [c.capacity_for(b) for b in spec.campaign_branches]
        if any(d is None for d in daily):
            daily_text, total = unlimited, unlimited
        else:
            lo, hi = min(daily), max(daily)
            daily_text = count_text(lo) if lo == hi else f"{count_text(lo)}-{count_text(hi)}"
            total = count_text(sum(daily) * days)
        rows.append((t(f"channel.{c.name}", lang=lang), c.unit_cost, c.response_multiplier, daily_text, total))
    cols = ["channel", "unit_cost", "multiplier", "daily", "period"]
    table = pd.DataFrame(rows, columns=[t(f"t04.spec.col.{k}", lang=lang) for k in cols])
    unit_cost, multiplier = table.columns[1], table.columns[2]
    return people_table(table.set_index(table.columns[0]), {unit_cost: "money2", multiplier: "number1"}, lang=lang)


def plan_cards(plan: CampaignPlan) -> tuple[dict, dict]:
    """Values and formats of the plan's KPI tiles: ``kpi_cards(*plan_cards(plan))``.

    Counts stay numbers (the tiles separate thousands); orders, cost and ROI come as text
    (:mod:`workbench.report.format`), so the formats are empty.
    """
    s = plan.summary
    values = {"t04.card.listed": s["listed"], "t04.card.contacted": s["contacted"],
              "t04.card.control": s["control_released"], "t04.card.orders": number_text(s["expected_orders"], 1),
              "t04.card.cost": number_text(s["cost"], 0), "t04.card.roi": pct_text(s["roi"], 0)}
    return values, {}


def channel_totals(plan: CampaignPlan, by: str = "channel", lang: str | None = None) -> pd.DataFrame:
    """Users, capacity, expected orders, cost, revenue, net value and ROI of the plan by channel or branch.

    For display: one row per channel (or branch), indexed by its name; numbers rounded,
    capacity and ROI as text; headers and channel / branch names from the catalogue
    (``t04.table.*``, ``common.*``, ``channel.*``).
    """
    check_choice("by", by, ("channel", "branch"))
    lang = lang or get_language()
    col = "channel" if by == "channel" else BRANCH_ID
    s = plan.channel_plan.summary
    sums = s.groupby(col, sort=True)[["users", "capacity", "expected_orders", "cost", "revenue", "net_value"]].sum()
    sums["roi"] = sums["net_value"] / sums["cost"].where(sums["cost"] > 0)
    unlimited = t("t04.spec.unlimited", lang=lang)
    sums["users"] = sums["users"].round().astype("int64")
    sums["capacity"] = [count_text(c, missing=unlimited) for c in sums["capacity"]]
    sums["expected_orders"] = [number_text(v, 1) for v in sums["expected_orders"]]
    for c in ("cost", "revenue", "net_value"):
        sums[c] = [number_text(v, 0) for v in sums[c]]
    sums["roi"] = [pct_text(r, 0) for r in sums["roi"].astype(float)]
    names = _branch_names(lang)
    sums.index = pd.Index([t(f"channel.{k}", lang=lang) if by == "channel" else names.get(k, k) for k in sums.index],
                          name=t("common.channel" if by == "channel" else "common.branch", lang=lang))
    sums.columns = [t(f"t04.table.{c}", lang=lang) for c in sums.columns]
    return people_table(sums, lang=lang)


def list_preview(plan: CampaignPlan, n: int = 10, lang: str | None = None) -> pd.DataFrame:
    """The first ``n`` target rows of the released list for display, indexed by subscriber: catalogue
    headers, branch, channel and edition names, masked phone numbers."""
    n = check_int("n", n, 1)
    lang = lang or get_language()
    rows = plan.rows[plan.rows["group"] == GROUP_TARGET].head(n)
    cols = [c for c in LIST_COLUMNS if c != "group"]
    out = rows[cols].copy()
    out[BRANCH_ID] = out[BRANCH_ID].map(_branch_names(lang)).fillna(out[BRANCH_ID])
    out["channel"] = [t(f"channel.{c}", lang=lang) for c in out["channel"]]
    out["edition"] = [edition_name(e, lang) if isinstance(e, str) else e for e in out["edition"]]
    out["score"] = [number_text(v, 3) for v in out["score"]]
    out.columns = [t(f"campaign.list.col.{c}", lang=lang) for c in cols]
    return people_table(out.set_index(out.columns[0]), lang=lang)
