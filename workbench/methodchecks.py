"""Method checks: the mistakes the closed loop exists to prevent, flagged with a severity and an action.

Each check compares two things the method says must agree and returns a :class:`MethodCheck`: which
check (``check``), what it found (``code``), how serious it is (``severity``: ``info``, ``warning`` or
``error``), the measured values and the code of the suggested action.  No words here: a report words a
check through the label catalogue (``method_checks.<check>.<code>`` and ``method_checks.action.<action>``,
:mod:`workbench.report.checks`), and a run folder records it in its manifest
(:meth:`workbench.runs.RunFolder.record_checks`).

==================  ==========================================================================
check               compares
==================  ==========================================================================
``plan_vs_goal``    template 04's expected incremental orders with template 02's goal
``spend_vs_budget`` the planned (04) or recorded (06) contact cost with the budget
``control_power``   the control group with the lift the goal needs (statsmodels' power)
``evidence``        an effect's 95 % interval with 0: a lesson only from a supported effect
``list_overlap``    the list with the lists of the other live campaigns of the store
``scores_snapshot`` the snapshot the scoring model was trained at with the campaign's snapshot
==================  ==========================================================================

Examples
--------
>>> c = plan_vs_goal(71, 50.0)
>>> c.code, c.severity, c.action, c.values["shortfall"]
('shortfall', 'warning', 'extend_plan', 21.0)
>>> evidence("outbound_call", 0.0289, -0.0524, 0.051, 120, 80, 0.02).code
'not_enough_evidence'
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from workbench.checks import check_num
from workbench.errors import ParameterError

__all__ = [
    "SEVERITIES", "CHECKS", "MethodCheck", "plan_vs_goal", "spend_vs_budget", "control_power", "evidence",
    "list_overlap", "scores_snapshot", "other_live_lists", "plan_checks", "evaluation_checks", "worst_severity",
]

#: Severities, least serious first.
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")
#: The checks of this module, in the order a report lists them.
CHECKS: tuple[str, ...] = ("plan_vs_goal", "spend_vs_budget", "control_power", "evidence", "list_overlap",
                           "scores_snapshot")


@dataclass(frozen=True)
class MethodCheck:
    """The result of one method check.

    Attributes
    ----------
    check : str
        One of :data:`CHECKS`.
    code : str
        What the check found (``ok``, ``shortfall``, ``overrun``, ...).
    severity : {"info", "warning", "error"}
    values : dict
        The measured values (numbers, text codes) the words of the check show.
    action : str or None
        Code of the suggested action (None when nothing needs doing).
    subject : str or None
        What was checked when a check runs more than once (e.g. a channel code for ``evidence``).
    """

    check: str
    code: str
    severity: str
    values: dict = field(default_factory=dict)
    action: str | None = None
    subject: str | None = None

    def __post_init__(self):
        if self.check not in CHECKS:
            raise ParameterError.invalid("check", f"one of {list(CHECKS)}", self.check)
        if self.severity not in SEVERITIES:
            raise ParameterError.invalid("severity", f"one of {list(SEVERITIES)}", self.severity)

    @property
    def passed(self) -> bool:
        """True when the check found nothing to act on."""
        return self.action is None

    def to_dict(self) -> dict:
        """The check as plain data (for the run manifest)."""
        return asdict(self)


def worst_severity(checks: Iterable[MethodCheck]) -> str | None:
    """The most serious severity among the checks that did not pass (None when all passed)."""
    found = [SEVERITIES.index(c.severity) for c in checks if not c.passed]
    return SEVERITIES[max(found)] if found else None


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ the checks
def plan_vs_goal(goal_target, planned_orders) -> MethodCheck:
    """Does the plan reach the goal?  Template 04's expected incremental orders against 02's stable users.

    Parameters
    ----------
    goal_target : int
        The goal's new stable subscribers (``goal.json``'s ``target_stable_subscribers``).
    planned_orders : float
        The plan's expected incremental orders (``plan.summary["expected_orders"]``).

    Returns
    -------
    MethodCheck
        ``ok`` (info) when the plan reaches the goal; ``shortfall`` (warning; error when the plan
        expects no order at all) with action ``extend_plan``: a larger list, other channels, a longer
        period.
    """
    goal = check_num("goal_target", goal_target, 0)
    planned = check_num("planned_orders", planned_orders, 0)
    values = {"goal": goal, "planned": planned, "shortfall": max(goal - planned, 0.0),
              "reached": planned / goal if goal > 0 else float("nan")}
    if planned >= goal:
        return MethodCheck("plan_vs_goal", "ok", "info", values)
    return MethodCheck("plan_vs_goal", "shortfall", "error" if planned <= 0 else "warning", values, "extend_plan")


def spend_vs_budget(budget, spend, *, stage: str = "plan") -> MethodCheck:
    """Does the contact cost stay within the budget?

    Parameters
    ----------
    budget : float or None
        The campaign's contact budget (yuan); None or 0: no budget was set.
    spend : float
        The planned (``stage="plan"``) or recorded (``stage="actual"``) contact cost (yuan).

    Returns
    -------
    MethodCheck
        ``no_budget`` (info, action ``set_budget``), ``ok`` (info) or ``overrun`` (warning; error above
        150 % of the budget) with action ``review_budget``.
    """
    if stage not in ("plan", "actual"):
        raise ParameterError.invalid("stage", "one of ['plan', 'actual']", stage)
    spend = check_num("spend", spend, 0)
    values = {"spend": spend, "stage": stage}
    if budget is None or (_finite(budget) and float(budget) == 0):
        return MethodCheck("spend_vs_budget", "no_budget", "info", {**values, "budget": None}, "set_budget")
    budget = check_num("budget", budget, 0, lo_open=True)
    values.update(budget=budget, overrun=max(spend - budget, 0.0), used=spend / budget)
    if spend <= budget:
        return MethodCheck("spend_vs_budget", "ok", "info", values)
    return MethodCheck("spend_vs_budget", "overrun", "error" if spend > 1.5 * budget else "warning", values,
                       "review_budget")


def _effect_size(p1: float, p0: float) -> float:
    from statsmodels.stats.proportion import proportion_effectsize

    return float(proportion_effectsize(min(max(p1, 0.0), 1.0), p0))


def control_power(n_treated, n_control, baseline_rate, needed_lift, *, alpha: float = 0.05,
                  power: float = 0.8) -> MethodCheck:
    """Is the control group big enough to detect the lift the goal needs?

    Uses :class:`statsmodels.stats.power.NormalIndPower` with Cohen's ``h``
    (:func:`statsmodels.stats.proportion.proportion_effectsize`) for a two-sided test.

    Parameters
    ----------
    n_treated, n_control : int
        Sizes of the contacted and the control group.
    baseline_rate : float
        Expected response rate without contact.
    needed_lift : float
        Absolute lift of the response rate the goal needs (goal / contacted users).
    alpha, power : float
        Level of the test and the power wanted.

    Returns
    -------
    MethodCheck
        ``ok`` (info) when the power reaches ``power``; ``underpowered`` (warning, action
        ``larger_control``, with the control size that would be needed) or ``unmeasurable`` (error,
        action ``larger_list``: no control size is enough for this treated group).
    """
    from statsmodels.stats.power import NormalIndPower

    n1 = check_num("n_treated", n_treated, 0)
    n0 = check_num("n_control", n_control, 0)
    p0 = check_num("baseline_rate", baseline_rate, 0, 1)
    lift = check_num("needed_lift", needed_lift, 0)
    values = {"n_treated": int(n1), "n_control": int(n0), "baseline": p0, "needed_lift": lift, "alpha": alpha,
              "target_power": power}
    if n1 < 1 or n0 < 1 or lift <= 0:
        values.update(power=0.0, required_control=None)
        return MethodCheck("control_power", "unmeasurable", "error", values, "larger_list")
    h = _effect_size(p0 + lift, p0)
    analysis = NormalIndPower()
    achieved = float(analysis.power(h, nobs1=n1, alpha=alpha, ratio=n0 / n1))
    # the most an unlimited control group could give: the power with a huge ratio
    ceiling = float(analysis.power(h, nobs1=n1, alpha=alpha, ratio=1e9))
    required = None
    if ceiling > power:
        ratio = float(analysis.solve_power(h, nobs1=n1, alpha=alpha, power=power, ratio=None))
        required = int(math.ceil(ratio * n1))
    values.update(power=achieved, required_control=required)
    if achieved >= power:
        return MethodCheck("control_power", "ok", "info", values)
    if required is None:
        return MethodCheck("control_power", "unmeasurable", "error", values, "larger_list")
    return MethodCheck("control_power", "underpowered", "warning", values, "larger_control")


def evidence(subject, estimate, low, high, n_treated, n_control, baseline_rate, *, alpha: float = 0.05,
             power: float = 0.8) -> MethodCheck:
    """May a lesson be drawn from an effect?  Only when its interval excludes 0.

    Parameters
    ----------
    subject : str
        What the effect is of (a channel code, ``"campaign"`` ...), kept in :attr:`MethodCheck.subject`.
    estimate, low, high : float
        The absolute lift and its 95 % interval.
    n_treated, n_control : int
        Group sizes the effect was measured on.
    baseline_rate : float
        The control group's response rate.

    Returns
    -------
    MethodCheck
        ``supported`` (info) when the interval lies above 0, ``harmful`` (warning, action ``stop``) when
        it lies below, else ``not_enough_evidence`` (info, action ``gather_more``) with ``needed_per_arm``:
        the users per group (at the same ratio of control to target) that would detect ``estimate``
        with the given power (None when the estimate is 0 or missing).
    """
    from statsmodels.stats.power import NormalIndPower

    values = {"estimate": float(estimate) if _finite(estimate) else float("nan"),
              "low": float(low) if _finite(low) else float("nan"),
              "high": float(high) if _finite(high) else float("nan"),
              "n_treated": int(n_treated or 0), "n_control": int(n_control or 0)}
    if _finite(low) and float(low) > 0:
        return MethodCheck("evidence", "supported", "info", values, subject=str(subject))
    if _finite(high) and float(high) < 0:
        return MethodCheck("evidence", "harmful", "warning", values, "stop", subject=str(subject))
    needed = None
    p0 = float(baseline_rate) if _finite(baseline_rate) else float("nan")
    est = values["estimate"]
    if _finite(est) and est != 0 and 0 <= p0 <= 1 and 0 < p0 + est <= 1:
        ratio = values["n_control"] / values["n_treated"] if values["n_treated"] and values["n_control"] else 1.0
        n1 = NormalIndPower().solve_power(abs(_effect_size(p0 + est, p0)), nobs1=None, alpha=alpha, power=power,
                                          ratio=ratio)
        needed = int(math.ceil(float(np.asarray(n1).item())))
    values["needed_treated"] = needed
    values["needed_control"] = None if needed is None else int(math.ceil(needed * (
        values["n_control"] / values["n_treated"] if values["n_treated"] and values["n_control"] else 1.0)))
    return MethodCheck("evidence", "not_enough_evidence", "info", values, "gather_more", subject=str(subject))


def list_overlap(list_ids, others: Mapping[int, Iterable]) -> MethodCheck:
    """Are users of this list also on the list of another live campaign?

    Parameters
    ----------
    list_ids : iterable of int
        The subscribers of this campaign's list.
    others : mapping of campaign id to iterable of int
        The lists of the other live campaigns (:func:`other_live_lists`).

    Returns
    -------
    MethodCheck
        ``ok`` (info) or ``overlap`` (warning, action ``coordinate``) with the users in both, their share
        of the list and the campaigns involved.
    """
    mine = np.unique(np.asarray(list(list_ids), dtype="int64"))
    shared = np.array([], dtype="int64")
    campaigns = []
    for cid, ids in sorted(others.items()):
        common = np.intersect1d(mine, np.asarray(list(ids), dtype="int64"))
        if common.size:
            campaigns.append(int(cid))
            shared = np.union1d(shared, common)
    values = {"listed": int(mine.size), "overlap": int(shared.size),
              "share": shared.size / mine.size if mine.size else 0.0, "campaigns": campaigns,
              "live": len(others)}
    if not shared.size:
        return MethodCheck("list_overlap", "ok", "info", values)
    return MethodCheck("list_overlap", "overlap", "warning", values, "coordinate")


def scores_snapshot(model_snapshot, campaign_snapshot) -> MethodCheck:
    """Were the scores made by a model trained on the campaign's snapshot?

    Parameters
    ----------
    model_snapshot : "YYYY-MM" or None
        The snapshot the model was trained (and the base scored) at; None when unknown
        (scores given as a file).
    campaign_snapshot : "YYYY-MM"
        The snapshot of the goal (template 02).

    Returns
    -------
    MethodCheck
        ``ok`` (info), ``unknown`` (info, action ``record_model``) or ``other_snapshot`` (warning; error
        when the model is newer than the campaign's snapshot, i.e. it saw the future) with action
        ``rescore``.
    """
    values = {"model": None if model_snapshot is None else str(model_snapshot)[:7],
              "campaign": str(campaign_snapshot)[:7]}
    if values["model"] is None:
        return MethodCheck("scores_snapshot", "unknown", "info", values, "record_model")
    if values["model"] == values["campaign"]:
        return MethodCheck("scores_snapshot", "ok", "info", values)
    severity = "error" if values["model"] > values["campaign"] else "warning"
    return MethodCheck("scores_snapshot", "other_snapshot", severity, values, "rescore")


# ------------------------------------------------------------------ gathering and the checks of a step
def other_live_lists(store, start, *, exclude: Sequence[int] = (), user=None) -> dict[int, np.ndarray]:
    """The target lists of the store's released campaigns whose period has not ended by ``start``.

    Parameters
    ----------
    store : workbench.store.Store
    start : date or "YYYY-MM-DD"
        First day of the new campaign.
    exclude : sequence of int
        Campaign ids to leave out (e.g. the campaign itself, when it is released already).
    user : workbench.store.User, optional
        Default: the workbench itself (sees every campaign).
    """
    import pandas as pd

    from workbench.store import SYSTEM_USER

    user = user or SYSTEM_USER
    day = pd.Timestamp(start).date()
    found: dict[int, np.ndarray] = {}
    campaigns = store.visible_campaigns(user)
    for cid, status in zip(campaigns["campaign_id"].tolist(), campaigns["status"].tolist()) if len(campaigns) else []:
        if status != "released" or int(cid) in set(exclude):
            continue
        end = (store.spec(user, int(cid)).get("goal") or {}).get("period_end")
        if end is not None and pd.Timestamp(end).date() < day:
            continue
        rows = store.worklist(user, int(cid))
        found[int(cid)] = rows["subscriber_id"].to_numpy(dtype="int64") if len(rows) else np.array([], "int64")
    return found


def plan_checks(goal: Mapping, plan, *, model_snapshot=None, store=None) -> list[MethodCheck]:
    """The method checks of a campaign plan (template 04).

    Parameters
    ----------
    goal : mapping
        ``goal.json`` of template 02.
    plan : workbench.campaign.CampaignPlan
    model_snapshot : "YYYY-MM", optional
        The snapshot of the model that made the scores (None: unknown).
    store : workbench.store.Store, optional
        The campaign store, for the overlap with other live campaigns (skipped without one).

    Returns
    -------
    list of MethodCheck
        plan vs goal, spend vs budget, control power (when the plan has a power check), list overlap
        (with a store) and the scores' snapshot.
    """
    s = plan.summary
    checks = [plan_vs_goal(goal["target_stable_subscribers"], s["expected_orders"]),
              spend_vs_budget(s.get("budget"), s["cost"], stage="plan")]
    p = plan.power
    if p is not None:
        d = p.detectable
        checks.append(control_power(d.n_treated, d.n_control, d.baseline_rate, p.expected_absolute,
                                    alpha=d.alpha, power=d.power))
    if store is not None:
        target = plan.rows.loc[plan.rows["group"] == "target", "subscriber_id"]
        checks.append(list_overlap(target, other_live_lists(store, plan.spec.goal.period_start)))
    checks.append(scores_snapshot(model_snapshot, goal.get("snapshot", "")))
    return checks


def evaluation_checks(evaluation, budget=None, *, run=None) -> list[MethodCheck]:
    """The method checks of an evaluated campaign (template 06).

    Spend vs budget on the recorded contact cost, and the evidence of the campaign's effect and of
    each channel's (what :func:`workbench.report.t06.lessons` may draw a lesson from).

    Parameters
    ----------
    evaluation : workbench.tracking.CampaignEvaluation
    budget : float, optional
        The plan's contact budget (``spec["budget"]``).
    run : workbench.tracking.CampaignRun, optional
        The evaluated run: the budget is read from its released plan in the store when ``budget`` is None.
    """
    if budget is None and run is not None:
        from workbench.store import SYSTEM_USER

        budget = run.store.spec(SYSTEM_USER, run.campaign_id, run.version).get("budget")
    h = evaluation.headline
    checks = [spend_vs_budget(budget, h["cost"], stage="actual"),
              evidence("campaign", h["lift"], h["lift_low"], h["lift_high"], h["target"], h["control"],
                       h["rate_control"])]
    if "channel" in evaluation.by:
        for _, r in evaluation.by["channel"].sort_values("abs_lift", ascending=False).iterrows():
            checks.append(evidence(r["segment"], r["abs_lift"], r["abs_ci_low"], r["abs_ci_high"], r["n_treated"],
                                   r["n_control"], r["mean_control"]))
    return checks
