"""Campaign planning end to end: from a spec, model scores and the province data to a releasable list.

:func:`plan_campaign` chains the steps of :mod:`workbench.campaign`, each
counted so that the numbers add up:

1. **Candidates** - the scored users, joined to ``subscribers`` (branch,
   brand); a scored id the data does not know is an error (scores of another
   extract).
2. **Segment** - only the spec's branches (``target.branches``, else the
   campaign's) and brands (``target.brands``, else all).
3. **Contact policy** (:func:`~workbench.campaign.apply_contact_policy`) with
   the province data: current subscribers of the product *family* at
   ``as_of`` (:func:`workbench.features.active_subscribers`); the handset at
   ``as_of`` (latest ``handset_events`` row up to that day) must have a
   capability the offered product needs (``vas_products.required_capability``;
   an unknown handset cannot be shown to be capable); contacts recorded in the
   store by any campaign (:func:`contact_history`); an optional do-not-disturb
   list; the universal control group of the spec.
4. **Target group** - the ``list_size`` best-scored eligible users (ties by
   id), or every eligible user scoring at least ``score_threshold``.
5. **Control** - stratified by branch x score decile, reproducible from the
   spec's seed (:func:`~workbench.campaign.assign_control`).
6. **Channel plan** of the target group under the daily capacities x the days
   of the period and the budget (:func:`~workbench.campaign.plan_channels`).
   A model score ranks users but is no response rate: with ``baseline_rate``
   the scores are recalibrated (:func:`calibrate_scores`, a shift of the
   log-odds so that the list's mean equals the organic response rate).
   Control users get the channel the plan's prices would give them
   (:func:`shadow_channels`), so each control member stands for a target
   member of the same branch, score level *and* channel; target users the plan
   cannot contact (capacity, budget, not worth the cost) and control users who
   would not have been contacted leave the released list.
7. **Power** of the released control against the goal
   (:func:`~workbench.campaign.check_control_power`).
8. **Executors and list rows** - each (branch, channel) list dealt to its
   executors in a snake by score (:func:`~workbench.campaign.assign_executors`);
   rows with masked phone numbers, reasons, edition and talking points
   (:func:`~workbench.campaign.build_list`).

:func:`release` writes the plan's spec and rows to the campaign store in one
transaction (a new campaign, or the next version of one).  Everything here is
pure except the reads of the source and the store, :meth:`CampaignPlan.save` /
:meth:`CampaignPlan.load` and the run-folder files (:func:`read_scores`,
:func:`write_campaign_file`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.checks import check_int, check_num, require_columns, require_complete, require_unique
from workbench.campaign.assignment import EXECUTOR, SCORE_BAND, assign_executors, score_bands, workload
from workbench.campaign.channel_plan import ChannelPlan, build_problem, channel_inputs, plan_channels
from workbench.campaign.control import GROUP_CONTROL, GROUP_TARGET, assign_control, control_balance, \
    universal_control
from workbench.campaign.lists import LIST_COLUMNS, MSISDN, build_list
from workbench.campaign.policy import CONTACT_DATE, POLICY_STEPS, apply_contact_policy
from workbench.campaign.power import DetectableLift, PowerCheck, check_control_power
from workbench.campaign.spec import (
    BY_PREFERENCE, CampaignSpec, ChannelSpec, ContactPolicy, Goal, Offer, TargetGroup, UniversalControl,
)
from workbench.data.tables import BRANCHES, BRANDS, CAPABILITIES, table
from workbench.errors import DataValidationError, ParameterError

__all__ = [
    "SCORES_FILE",
    "CAMPAIGN_FILE",
    "PLAN_STEPS",
    "FUNNEL_STEPS",
    "MEMBER_FRAME_COLUMNS",
    "CampaignPlan",
    "calibrate_scores",
    "channel_specs",
    "spec_from_goal",
    "baseline_from_goal",
    "candidate_frame",
    "join_reasons",
    "phone_numbers",
    "capable_subscribers",
    "contact_history",
    "select_target",
    "shadow_channels",
    "plan_campaign",
    "release",
    "store_user",
    "read_scores",
    "model_reference",
    "model_rules",
    "default_store_url",
    "write_campaign_file",
    "read_campaign_file",
    "release_for_run",
    "inputs_story",
    "release_story",
    "spec_table",
    "plan_story",
    "plan_cards",
    "channel_totals",
    "list_preview",
]

# ----------------------------------------------------------- names of the data model
_SUBS = table("subscribers")
SUBSCRIBER_ID: str = _SUBS.column("subscriber_id").name
BRANCH_ID: str = _SUBS.column("branch_id").name
BRAND: str = _SUBS.column("brand").name
_HE = table("handset_events")
_HE_ID, _HE_DATE, _HE_MODEL = (_HE.column(c).name for c in ("subscriber_id", "event_date", "handset_model"))
_HM = table("handset_models")
_HM_MODEL = _HM.column("handset_model").name
_CAP_COLUMNS: dict[str, str] = {c: _HM.column(f"cap_{c}").name for c in CAPABILITIES}
_VP = table("vas_products")
_VP_ID, _VP_FAMILY, _VP_CAP = (_VP.column(c).name for c in ("product_id", "family", "required_capability"))
_BRANCH_IDS: tuple[str, ...] = tuple(b[0] for b in BRANCHES)
_TABLES_NEEDED: tuple[str, ...] = ("subscribers", "vas_orders", "vas_products", "handset_events", "handset_models")

#: Scores file a run folder holds (written by template 03).
SCORES_FILE: str = "scores.parquet"
#: Campaign file template 04 writes to a run folder for the later steps.
CAMPAIGN_FILE: str = "campaign.json"
#: Steps of :func:`plan_campaign`, timed in ``CampaignPlan.info["seconds"]``.
PLAN_STEPS: tuple[str, ...] = ("candidates", "eligibility", "selection", "control", "channel_plan", "lists")
#: Rows of :attr:`CampaignPlan.funnel`: candidates, segment, the policy rules, the list cut-off.
FUNNEL_STEPS: tuple[str, ...] = ("candidates", "segment", *POLICY_STEPS, "outside_list")
#: Columns of :attr:`CampaignPlan.members` (one row per user of the target list).
MEMBER_FRAME_COLUMNS: tuple[str, ...] = (
    SUBSCRIBER_ID, BRANCH_ID, "score", "response_rate", "score_decile", "group", "channel", "expected_orders",
    "released",
)
_REASON_PREFIX = "reason_"
_EDITION = "edition"
_PLAN_FILES = ("spec.json", "plan.json", "funnel.parquet", "members.parquet", "groups.parquet",
               "balance.parquet", "channel_rows.parquet", "channel_summary.parquet", "lambda.parquet",
               "workload.parquet", "rows.parquet")


# ----------------------------------------------------------------------- the plan
@dataclass
class CampaignPlan:
    """Everything :func:`plan_campaign` decided, ready to release.

    Attributes
    ----------
    spec : CampaignSpec
    as_of : pandas.Timestamp
        The day the contact policy was evaluated.
    funnel : DataFrame
        ``step, excluded, remaining`` over :data:`FUNNEL_STEPS`: each user is
        counted once, at the first step that drops them; the last
        ``remaining`` is the list size.
    members : DataFrame
        :data:`MEMBER_FRAME_COLUMNS`, one row per user of the list:
        ``response_rate`` is the rate the channel plan used, ``channel`` the
        planned (target) or shadow (control) channel, missing when none,
        ``released`` whether the row goes to the store.
    groups : DataFrame
        ``group, listed, released, dropped`` for the target and control groups.
    balance : DataFrame
        :func:`~workbench.campaign.control_balance` of the list.
    power : PowerCheck or None
        The released control against the goal; ``None`` without a control group.
    channel_plan : ChannelPlan
        The plan of the target group (its ``info["lambda"]`` and ``info["mu"]`` are the prices).
    workload : DataFrame
        :func:`~workbench.campaign.workload` of the executors.
    rows : DataFrame
        The released list, :data:`~workbench.campaign.LIST_COLUMNS`: contacted
        target rows with an executor, then the control rows (no executor).
    summary : dict
        Headline figures (see :meth:`figures`).
    info : dict
        ``seconds`` per step of :data:`PLAN_STEPS`, ``baseline_rate``,
        ``roster_sources`` and the inputs' sizes.
    """

    spec: CampaignSpec
    as_of: pd.Timestamp
    funnel: pd.DataFrame
    members: pd.DataFrame
    groups: pd.DataFrame
    balance: pd.DataFrame
    power: PowerCheck | None
    channel_plan: ChannelPlan
    workload: pd.DataFrame
    rows: pd.DataFrame
    summary: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    # -- persistence (I/O at the edge)
    def save(self, folder) -> Path:
        """Write the plan to ``folder`` (created): the spec as JSON, figures as JSON, tables as Parquet."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "spec.json").write_text(self.spec.to_json(), encoding="utf-8")
        cp = self.channel_plan
        meta = {
            "format": {"name": "workbench.campaign_plan", "version": 1},
            "as_of": self.as_of.date().isoformat(),
            "summary": self.summary,
            "info": {k: v for k, v in self.info.items()},
            "power": None if self.power is None else dataclasses.asdict(self.power),
            "channel_plan": {"objective": cp.objective, "upper_bound": cp.upper_bound, "method": cp.method,
                             "mu": cp.info.get("mu"), "seconds": cp.info.get("seconds", {}),
                             "sweeps": cp.info.get("sweeps"), "improve_rounds": cp.info.get("improve_rounds")},
        }
        (folder / "plan.json").write_text(json.dumps(_json_safe(meta), ensure_ascii=False, indent=2,
                                                     allow_nan=False), encoding="utf-8")
        frames = {"funnel": self.funnel, "members": self.members, "groups": self.groups, "balance": self.balance,
                  "channel_rows": cp.plan, "channel_summary": cp.summary, "workload": self.workload,
                  "rows": self.rows}
        for name, frame in frames.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        lam = cp.info.get("lambda")
        if isinstance(lam, pd.DataFrame):
            lam.reset_index().to_parquet(folder / "lambda.parquet", index=False)
        return folder

    @classmethod
    def load(cls, folder) -> "CampaignPlan":
        """Read a plan :meth:`save` wrote.

        Raises
        ------
        ParameterError
            When ``folder`` is not a saved plan (names the missing files).
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise ParameterError(f"The plan folder {str(folder)!r} does not exist; write one with "
                                 "`workbench campaign plan --out DIR` or CampaignPlan.save().")
        missing = [f for f in _PLAN_FILES if f != "lambda.parquet" and not (folder / f).is_file()]
        if missing:
            raise ParameterError(f"The plan folder {str(folder)!r} lacks {missing}; expected the files "
                                 f"{list(_PLAN_FILES)} written by CampaignPlan.save().")
        spec = CampaignSpec.from_json((folder / "spec.json").read_text(encoding="utf-8"))
        meta = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        frames = {name: pd.read_parquet(folder / f"{name}.parquet")
                  for name in ("funnel", "members", "groups", "balance", "channel_rows", "channel_summary",
                               "workload", "rows")}
        cpm = meta["channel_plan"]
        info = {"mu": cpm.get("mu"), "seconds": cpm.get("seconds", {}), "sweeps": cpm.get("sweeps"),
                "improve_rounds": cpm.get("improve_rounds")}
        if (folder / "lambda.parquet").is_file():
            lam = pd.read_parquet(folder / "lambda.parquet")
            info["lambda"] = lam.set_index(lam.columns[0]).rename_axis(columns="channel")
        channel_plan = ChannelPlan(frames["channel_rows"], frames["channel_summary"], _num(cpm["objective"]),
                                   _num(cpm["upper_bound"]), cpm["method"], info)
        power = meta.get("power")
        if power is not None:
            power = PowerCheck(**{**power, "detectable": DetectableLift(**{
                k: _num(v) if isinstance(v, float) or v is None else v for k, v in power["detectable"].items()})})
        return cls(spec=spec, as_of=pd.Timestamp(meta["as_of"]), funnel=frames["funnel"],
                   members=frames["members"], groups=frames["groups"], balance=frames["balance"], power=power,
                   channel_plan=channel_plan, workload=frames["workload"], rows=frames["rows"],
                   summary=meta.get("summary", {}), info=meta.get("info", {}))

    # -- figures
    def figures(self) -> dict:
        """The headline figures (also :attr:`summary`).

        Keys: ``candidates, eligible, listed, target, control, contacted,
        not_contacted, control_released, control_dropped, released,
        expected_orders, cost, revenue, net_value, roi, budget, goal,
        executors, gap`` (relative distance of the channel plan to its bound).
        """
        return dict(self.summary)


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def _json_safe(obj):
    if isinstance(obj, pd.DataFrame):
        return None
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items() if not isinstance(v, pd.DataFrame)}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.isoformat()
    return obj


# ------------------------------------------------------------------ small pure helpers
def calibrate_scores(scores, baseline_rate: float, *, reference=None, tol: float = 1e-12) -> np.ndarray:
    """Response rates from model scores: the log-odds shifted so that a reference group's mean is ``baseline_rate``.

    A look-alike score ranks users but is not the probability to order
    without contact.  Adding one constant ``delta`` to every score's log-odds,
    ``p_i = expit(logit(s_i) + delta)``, keeps the ranking, keeps every rate in
    (0, 1) and is the classical prior correction of a model trained at another
    base rate; ``delta`` is solved so that the mean rate of the ``reference``
    scores (default: ``scores`` themselves) is ``baseline_rate``.

    Parameters
    ----------
    scores : array-like
        Scores in [0, 1] (0 and 1 are moved 1e-12 inside).
    baseline_rate : float
        Mean response rate without contact of the reference group, in (0, 1).
    reference : array-like, optional
        Scores of the group ``baseline_rate`` is known for (e.g. the goal's
        look-alikes: the best-scored users); the shift found there is applied to ``scores``.
    tol : float
        Tolerance of the shift.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> p = calibrate_scores([0.1, 0.2, 0.6], 0.05)
    >>> round(float(p.mean()), 6), bool((p[0] < p[1]) and (p[1] < p[2]))
    (0.05, True)
    >>> round(float(calibrate_scores([0.6], 0.05, reference=[0.1, 0.2, 0.6])[0]), 4) == round(float(p[2]), 4)
    True
    """
    from scipy.optimize import brentq
    from scipy.special import expit, logit

    def _check(name, values):
        a = np.asarray(values, dtype=float)
        if a.ndim != 1 or not np.all(np.isfinite(a)) or (a.size and (a.min() < 0 or a.max() > 1)):
            raise ParameterError.invalid(name, "a 1-d array of numbers in [0, 1]", getattr(a, "shape", a))
        return logit(np.clip(a, 1e-12, 1 - 1e-12))

    z = _check("scores", scores)
    ref = z if reference is None else _check("reference", reference)
    rate = check_num("baseline_rate", baseline_rate, 0, 1, lo_open=True)
    if rate >= 1:
        raise ParameterError.invalid("baseline_rate", "a number in (0, 1)", baseline_rate)
    if ref.size == 0:
        if z.size:
            raise ParameterError.invalid("reference", "at least one score", 0)
        return expit(z)
    lo, hi = -60.0 - ref.max(), 60.0 - ref.min()
    delta = brentq(lambda d: float(expit(ref + d).mean()) - rate, lo, hi, xtol=tol, maxiter=200)
    return expit(z + delta)


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


def _check_goal_dict(goal) -> Mapping:
    need = ("product", "target_stable_subscribers", "period_start", "period_end")
    if not isinstance(goal, Mapping) or not set(need) <= set(goal):
        raise ParameterError.invalid("goal", f"the goal of template 02 (goal.json) with {list(need)}",
                                     sorted(goal) if isinstance(goal, Mapping) else type(goal).__name__)
    return goal


def _reason_text(goal: Mapping) -> str:
    reason = goal.get("reason", "")
    if isinstance(reason, Mapping):
        reason = reason.get("text") or ""
    return str(reason or "")


def spec_from_goal(goal: Mapping, *, channels, list_size: int | None = None, score_threshold: float | None = None,
                   product: str | None = None, edition: str = BY_PREFERENCE, product_id: str | None = None,
                   tariff: str = "", monthly_fee: float | None = None, free_months: int = 0, promotion: str = "",
                   control_share: float = 0.1, budget: float | None = None, response_window_days: int = 30,
                   period=None, seed: int = 0, value_per_order: float = 30.0, recent_days: int = 7,
                   max_contacts_month: int = 4, universal_control_share: float = 0.0, universal_period_key: str = "",
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
    goal = _check_goal_dict(goal)
    family = product or goal["product"]
    if family != goal["product"]:
        raise ParameterError.invalid("product", f"the goal's product {goal['product']!r} (or run template 02 for "
                                                f"{family!r})", family)
    start, end = _goal_period(goal, period)
    chans = tuple(channels) if isinstance(channels, (list, tuple)) else channel_specs(channels)
    g = Goal(goal["target_stable_subscribers"], start, end, _reason_text(goal))
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
        contact_policy=ContactPolicy(recent_days=recent_days, max_contacts_month=max_contacts_month),
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
    goal = _check_goal_dict(goal)
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


# ------------------------------------------------------------------ reads of the data
def _as_of(value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if value is None or pd.isna(ts):
        raise ParameterError.invalid("as_of", "a date (datetime.date, Timestamp or 'YYYY-MM-DD')", value)
    return ts.normalize()


@contextmanager
def _connection(source) -> Iterator:
    """A DuckDB connection over ``source``; an open connection is used as is (and not closed)."""
    import duckdb

    from workbench.data.source import connect

    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    con = connect(source)
    try:
        yield con
    finally:
        con.close()


def _sql_date(day: pd.Timestamp) -> str:
    return f"DATE '{day.date().isoformat()}'"


def _require_tables(con, names: Sequence[str], what: str) -> None:
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [n for n in names if n not in present]
    if missing:
        raise DataValidationError(
            f"{what} needs the tables {list(names)}; the source lacks {missing}",
            [{"table": n, "column": None, "check": "table present", "count": 1, "examples": []} for n in missing])


def _reason_columns(frame: pd.DataFrame) -> list[str]:
    """``reason_1``, ``reason_2``, ... of a scores frame, in number order."""
    cols = [c for c in frame.columns if str(c).startswith(_REASON_PREFIX) and str(c)[len(_REASON_PREFIX):].isdigit()]
    return sorted(cols, key=lambda c: int(str(c)[len(_REASON_PREFIX):]))


def join_reasons(frame: pd.DataFrame) -> pd.Series:
    """The reason columns of each row (``reason_1`` ...) as one text, joined with ``"; "`` (missing when none).

    Examples
    --------
    >>> import pandas as pd
    >>> join_reasons(pd.DataFrame({"reason_1": ["a", None], "reason_2": ["b", None]})).tolist()
    ['a; b', nan]
    """
    text = pd.Series("", index=frame.index, dtype="str")
    for c in _reason_columns(frame):
        part = frame[c].astype("str").fillna("")
        glue = pd.Series(np.where((text != "") & (part != ""), "; ", ""), index=frame.index, dtype="str")
        text = text + glue + part
    return text.where(text != "")


def _scores_frame(scores, score_col: str) -> pd.DataFrame:
    require_columns(scores, "scores", [SUBSCRIBER_ID, score_col])
    require_complete(scores, "scores", [SUBSCRIBER_ID, score_col])
    require_unique(scores, "scores", SUBSCRIBER_ID)
    ids = scores[SUBSCRIBER_ID]
    if not pd.api.types.is_integer_dtype(ids.dtype):
        as_num = pd.to_numeric(ids, errors="coerce")
        bad = as_num.isna() | (as_num != np.round(as_num))
        if bad.any():
            raise DataValidationError(
                f"scores: column {SUBSCRIBER_ID!r} must hold integer subscriber ids; found "
                f"{ids[bad].head(5).tolist()}",
                [{"table": "scores", "column": SUBSCRIBER_ID, "check": "integer", "count": int(bad.sum()),
                  "examples": ids[bad].head(5).tolist()}])
    s = pd.to_numeric(scores[score_col], errors="coerce")
    bad = s.isna() | (s < 0) | (s > 1)
    if bad.any():
        raise DataValidationError(
            f"scores: column {score_col!r} must hold probabilities in [0, 1]; {int(bad.sum())} value(s) are not, "
            f"e.g. {scores.loc[bad, score_col].head(5).tolist()}",
            [{"table": "scores", "column": score_col, "check": "in [0, 1]", "count": int(bad.sum()),
              "examples": scores.loc[bad, score_col].head(5).tolist()}])
    return pd.DataFrame({SUBSCRIBER_ID: pd.to_numeric(ids).astype("int64").to_numpy(),
                         "score": s.astype(float).to_numpy()})


def candidate_frame(scores: pd.DataFrame, source, *, score_col: str = "score") -> pd.DataFrame:
    """The scored users with their branch and brand from ``subscribers``.

    Parameters
    ----------
    scores : DataFrame
        ``subscriber_id`` and ``score_col`` (probabilities).
    source : path, mapping, Source or duckdb connection
        The province data (needs ``subscribers``).

    Returns
    -------
    DataFrame
        ``subscriber_id, score, branch_id, brand`` in the order of ``scores``.

    Raises
    ------
    DataValidationError
        Missing / repeated / non-integer ids, scores outside [0, 1], or ids the
        data does not know (scores of another extract).
    """
    frame = _scores_frame(scores, score_col)
    vocab = {BRANCH_ID: list(_BRANCH_IDS), BRAND: list(BRANDS)}
    join = f'FROM subscribers s JOIN _wb_scored c ON c."{SUBSCRIBER_ID}" = s."{SUBSCRIBER_ID}"'
    with _connection(source) as con:
        _require_tables(con, ("subscribers",), "candidate_frame")
        con.register("_wb_scored", frame[[SUBSCRIBER_ID]])
        try:
            # codes of the data model's vocabularies travel faster than a million strings ...
            info = con.execute(
                f'SELECT s."{SUBSCRIBER_ID}", '
                + ", ".join(f'coalesce(list_position(${c}, CAST(s."{c}" AS VARCHAR)), 0) AS "{c}"' for c in vocab)
                + f" {join}", vocab).df()
            if all((info[c] > 0).all() for c in vocab):
                for c, values in vocab.items():
                    info[c] = np.asarray(values, dtype=object)[info[c].to_numpy() - 1]
            else:   # ... a value outside them (the data was not validated) comes as text
                info = con.execute(f'SELECT s."{SUBSCRIBER_ID}", '
                                   + ", ".join(f'CAST(s."{c}" AS VARCHAR) AS "{c}"' for c in vocab)
                                   + f" {join}").df()
        finally:
            con.unregister("_wb_scored")
    pos = pd.Index(info[SUBSCRIBER_ID].to_numpy()).get_indexer(frame[SUBSCRIBER_ID].to_numpy())
    unknown = pos < 0
    if unknown.any():
        examples = frame.loc[unknown, SUBSCRIBER_ID].head(5).tolist()
        raise DataValidationError(
            f"scores: {int(unknown.sum())} scored subscriber id(s) are not in the data's subscribers table, e.g. "
            f"{examples}; the scores must come from the same extract as the data",
            [{"table": "scores", "column": SUBSCRIBER_ID, "check": "in subscribers", "count": int(unknown.sum()),
              "examples": examples}])
    for col in (BRANCH_ID, BRAND):
        frame[col] = pd.Series(info[col].to_numpy()[pos], dtype="str").to_numpy()
    return frame


def capable_subscribers(source, as_of, family: str, product_id: str | None = None) -> np.ndarray | None:
    """Subscribers whose handset at ``as_of`` can use the product (``None``: the product needs nothing).

    The handset at ``as_of`` is the latest ``handset_events`` row dated on or
    before that day.  The product's needs are ``vas_products.required_capability``
    of ``product_id``, or of every product of ``family`` (a handset capable of
    any of them qualifies); a product needing nothing switches the rule off.

    Raises
    ------
    ParameterError
        When the catalogue has no such product, or no product of the family.
    """
    day = _as_of(as_of)
    with _connection(source) as con:
        _require_tables(con, ("vas_products", "handset_events", "handset_models"), "capable_subscribers")
        where = f'"{_VP_ID}" = $p' if product_id else f'"{_VP_FAMILY}" = $p'
        caps = con.execute(f'SELECT DISTINCT CAST("{_VP_CAP}" AS VARCHAR) FROM vas_products WHERE {where}',
                           {"p": product_id or family}).fetchall()
        if not caps:
            what = f"product {product_id!r}" if product_id else f"a product of family {family!r}"
            raise ParameterError(f"The product catalogue (vas_products) has no {what}; the offer cannot be checked "
                                 "against handsets.")
        needed = [c[0] for c in caps]
        if any(c is None for c in needed):
            return None
        unknown = sorted(set(needed) - set(_CAP_COLUMNS))
        if unknown:
            raise DataValidationError(f"vas_products: required_capability {unknown} is not one of {list(CAPABILITIES)}")
        cond = " OR ".join(f'coalesce(CAST(m."{_CAP_COLUMNS[c]}" AS BOOLEAN), false)' for c in sorted(set(needed)))
        ids = con.execute(f"""
            SELECT h.sid FROM (
                SELECT "{_HE_ID}" AS sid, arg_max("{_HE_MODEL}", CAST("{_HE_DATE}" AS DATE)) AS model
                FROM handset_events WHERE CAST("{_HE_DATE}" AS DATE) <= {_sql_date(day)} GROUP BY 1) h
            JOIN handset_models m ON m."{_HM_MODEL}" = h.model
            WHERE {cond}""").df()["sid"]
    return ids.to_numpy()


def contact_history(store, *, user=None, tz: str | None = None) -> pd.DataFrame:
    """Every contact recorded in the campaign store, by any campaign: ``subscriber_id, contact_date``.

    Parameters
    ----------
    store : workbench.store.Store
    user : workbench.store.User, optional
        Who reads (a province role); default :data:`workbench.store.SYSTEM_USER`.
    tz : str, optional
        Time zone of the contact day (default: the province's,
        :data:`workbench.tracking.attribution.LOCAL_TIMEZONE`).

    Returns
    -------
    DataFrame
        One row per recorded contact; ``contact_date`` is the local calendar day.
    """
    from workbench.store import SYSTEM_USER
    from workbench.tracking.attribution import LOCAL_TIMEZONE

    user = user or SYSTEM_USER
    campaigns = store.visible_campaigns(user)
    parts = []
    for cid in campaigns["campaign_id"].tolist() if len(campaigns) else []:
        res = store.contact_results(user, int(cid))
        if len(res):
            parts.append(res[[SUBSCRIBER_ID, "contacted_at"]])
    if not parts:
        return pd.DataFrame({SUBSCRIBER_ID: pd.Series(dtype="int64"),
                             CONTACT_DATE: pd.Series(dtype="datetime64[us]")})
    both = pd.concat(parts, ignore_index=True)
    when = pd.to_datetime(both["contacted_at"], utc=True).dt.tz_convert(tz or LOCAL_TIMEZONE)
    return pd.DataFrame({SUBSCRIBER_ID: both[SUBSCRIBER_ID].astype("int64").to_numpy(),
                         CONTACT_DATE: when.dt.tz_localize(None).dt.normalize().to_numpy()})


def select_target(eligible: pd.DataFrame, target: TargetGroup, *, score_col: str = "score") -> pd.DataFrame:
    """The target list: the ``list_size`` best-scored users, or all scoring at least ``score_threshold``.

    Ties in the score are broken by subscriber id, so the list does not depend
    on the row order.  Returns the selected rows, best first, index reset.
    """
    if not isinstance(target, TargetGroup):
        raise ParameterError.invalid("target", "a TargetGroup", type(target).__name__)
    require_columns(eligible, "eligible", [SUBSCRIBER_ID, score_col])
    s = eligible[score_col].to_numpy(dtype=float)
    order = np.lexsort((eligible[SUBSCRIBER_ID].to_numpy(), -s))
    if target.list_size is not None:
        keep = order[: target.list_size]
    else:
        keep = order[s[order] >= target.score_threshold]
    return eligible.iloc[keep].reset_index(drop=True)


def shadow_channels(users: pd.DataFrame, plan: ChannelPlan, channels: pd.DataFrame, *, value_per_order: float,
                    rate_col: str = "response_rate") -> pd.Series:
    """The channel each user would get at the plan's prices (for the control group).

    A user takes ``argmax_c (Delta_ic v - k_c - lambda_bc - mu k_c)`` when that
    is positive and the contact itself is worth its cost (``Delta_ic v > k_c``),
    else no channel - exactly the rule the plan's Lagrangian prices give the
    target users.  A branch the plan has no price for (no target user there)
    gives no channel.

    Parameters
    ----------
    users : DataFrame
        ``subscriber_id``, ``branch_id`` and ``rate_col`` (response rate without contact).
    plan : ChannelPlan
        From :func:`~workbench.campaign.plan_channels` (``info["lambda"]``, ``info["mu"]``).
    channels : DataFrame
        The channel table of :func:`~workbench.campaign.channel_inputs`.

    Returns
    -------
    Series of str
        The channel per row of ``users`` (missing: none).
    """
    lam = plan.info.get("lambda")
    if not isinstance(lam, pd.DataFrame) or "mu" not in plan.info:
        raise ParameterError.invalid("plan", "a plan_channels() result with prices (info['lambda'], info['mu'])",
                                     sorted(plan.info))
    if len(users) == 0:
        return pd.Series([], dtype="str")
    problem = build_problem(users.rename(columns={rate_col: "score"}), channels, value_per_order=value_per_order)
    V = problem.net_values()
    L = lam.reindex(index=list(problem.branches), columns=list(problem.channels)).to_numpy(dtype=float)
    L = np.where(np.isnan(L), np.inf, L)
    mu = float(plan.info["mu"] or 0.0)
    adjusted = V - L[problem.branch_codes] - mu * problem.unit_cost[None, :]
    best = adjusted.argmax(axis=1)
    rows = np.arange(len(best))
    ok = (adjusted[rows, best] > 0) & (V[rows, best] > 0)
    names = np.asarray(problem.channels, dtype=object)[best]
    return pd.Series(np.where(ok, names, None), index=users.index, dtype="str")


# ----------------------------------------------------------------------- the chain
class _Clock:
    def __init__(self, progress: bool):
        from tqdm.auto import tqdm

        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()
        self.bar = tqdm(total=len(PLAN_STEPS), desc="campaign plan", unit="step", disable=not progress)

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = now - self._t
        self._t = now
        self.bar.set_postfix_str(step)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def phone_numbers(source, ids) -> pd.Series:
    """Full phone numbers (personal data) of ``ids`` from ``subscribers``, as a Series indexed by subscriber id.

    For an export to a role that may see numbers (:func:`workbench.campaign.can_see_numbers`); never store them.
    """
    with _connection(source) as con:
        con.register("_wb_ids", pd.DataFrame({SUBSCRIBER_ID: np.asarray(ids, dtype=np.int64)}))
        try:
            got = con.execute(f'SELECT s."{SUBSCRIBER_ID}", CAST(s."{MSISDN}" AS VARCHAR) AS "{MSISDN}" '
                              f'FROM subscribers s JOIN _wb_ids i ON i."{SUBSCRIBER_ID}" = s."{SUBSCRIBER_ID}"').df()
        finally:
            con.unregister("_wb_ids")
    return pd.Series(got[MSISDN].astype("str").to_numpy(), index=got[SUBSCRIBER_ID].to_numpy())


def plan_campaign(spec: CampaignSpec, scores: pd.DataFrame, source, *, as_of, executors, store=None, user=None,
                  dnd=None, contacts: pd.DataFrame | None = None, baseline_rate: float | None = None, baseline_size: int | None = None,
                  score_col: str = "score", lang: str | None = None, progress: bool = True) -> CampaignPlan:
    """Plan a campaign: eligibility, target group, control, channel plan, executors and list rows.

    See the module docstring for the steps and their rules.

    Parameters
    ----------
    spec : CampaignSpec
        The campaign.
    scores : DataFrame
        The target model's scores: ``subscriber_id`` and ``score_col``, and
        optionally ``reason_1`` ... (reasons) and ``edition`` (preferred edition).
    source : path, mapping, Source or duckdb connection
        The province data: ``subscribers``, ``vas_orders``, ``vas_products``,
        ``handset_events``, ``handset_models``.
    as_of : date
        The day eligibility is evaluated (the campaign's "today").
    executors : DataFrame or mapping
        Who works the lists, as :func:`~workbench.campaign.assign_executors`
        takes it (e.g. :func:`~workbench.campaign.executors.executor_roster`).
    store : workbench.store.Store, optional
        Read every campaign's recorded contacts for the contact policy.
    user : workbench.store.User, optional
        Who reads the store (default :data:`workbench.store.SYSTEM_USER`).
    dnd : ids, optional
        Do-not-disturb users (anything :func:`~workbench.campaign.apply_contact_policy` takes).
    contacts : DataFrame, optional
        Further contact history (``subscriber_id``, ``contact_date``), e.g.
        from the operator's other contact systems; added to the store's.
    baseline_rate : float, optional
        Mean response rate without contact of the ``baseline_size``
        best-scored users (default: of the list); the scores are recalibrated
        to it (:func:`calibrate_scores`).  ``None``: the scores are taken as
        response rates already.
    baseline_size : int, optional
        How many of the best-scored users ``baseline_rate`` refers to, e.g.
        the look-alikes of the goal's check (:func:`baseline_from_goal`); then
        the rates do not depend on the list size.
    score_col : str
        The score column of ``scores``.
    lang : {"zh", "en"}, optional
        Language of the talking points and of the power warning.
    progress : bool
        Show a tqdm bar over :data:`PLAN_STEPS` (and the channel plan's own).

    Returns
    -------
    CampaignPlan

    Raises
    ------
    ParameterError
        Invalid spec, as_of, baseline_rate or executors (a list without an executor).
    DataValidationError
        Bad scores (missing columns, repeated ids, scores outside [0, 1], ids
        the data does not know) or a source without the tables needed.
    """
    from workbench.features import active_subscribers

    if not isinstance(spec, CampaignSpec):
        raise ParameterError.invalid("spec", "a CampaignSpec", type(spec).__name__)
    day = _as_of(as_of)
    if baseline_rate is not None:
        check_num("baseline_rate", baseline_rate, 0, 1, lo_open=True)
    if baseline_size is not None:
        check_int("baseline_size", baseline_size, 1)
    clock = _Clock(progress)
    stack = ExitStack()
    try:
        con = stack.enter_context(_connection(source))
        _require_tables(con, _TABLES_NEEDED, "plan_campaign")
        # 1. candidates
        cands = candidate_frame(scores, con, score_col=score_col)
        n_cand = len(cands)
        clock.done("candidates")

        # 2. segment and 3. contact policy
        branches = spec.target.branches or spec.campaign_branches
        in_segment = cands[BRANCH_ID].isin(branches)
        if spec.target.brands:
            in_segment &= cands[BRAND].isin(spec.target.brands)
        segment = cands.loc[in_segment.to_numpy()].reset_index(drop=True)
        subs = active_subscribers(con, spec.offer.family, at=day.date().isoformat())[SUBSCRIBER_ID].to_numpy()
        capable = capable_subscribers(con, day, spec.offer.family, spec.offer.product_id)
        parts = [contact_history(store, user=user)] if store is not None else []
        if contacts is not None:
            require_columns(contacts, "contacts", [SUBSCRIBER_ID, CONTACT_DATE])
            parts.append(contacts[[SUBSCRIBER_ID, CONTACT_DATE]])
        history = pd.concat(parts, ignore_index=True) if parts else None
        held = None
        uc = spec.universal_control
        if uc.enabled:
            ids = segment[SUBSCRIBER_ID].to_numpy()
            held = ids[universal_control(ids, uc.share, uc.period_key, uc.seed)]
        eligible, policy_funnel = apply_contact_policy(
            segment, as_of=day, product_subscribers=subs, dnd=dnd, contact_history=history,
            handset_capable=capable, held_out=held, **dataclasses.asdict(spec.contact_policy))
        clock.done("eligibility")

        # 4. target group
        listed = select_target(eligible, spec.target)
        if not len(listed):
            raise ParameterError(
                f"The target group is empty: of {n_cand:,} scored users {len(segment):,} are in the segment and "
                f"{len(eligible):,} pass the contact policy, and none is on the list (list_size / score_threshold "
                f"{spec.target.list_size or spec.target.score_threshold!r}). Check the segment, the policy and the "
                "threshold.")
        per_step = [0, n_cand - len(segment), *policy_funnel["excluded"].iloc[1:].astype(int).tolist(),
                    len(eligible) - len(listed)]
        funnel = pd.DataFrame({"step": pd.Series(FUNNEL_STEPS, dtype="str"),
                               "excluded": np.asarray(per_step, dtype=np.int64),
                               "remaining": n_cand - np.cumsum(per_step).astype(np.int64)})
        reference = None
        if baseline_rate is not None and baseline_size is not None:
            # the look-alikes are potential customers: the best-scored users who do not subscribe yet
            potential = cands.loc[~cands[SUBSCRIBER_ID].isin(subs), "score"].to_numpy(dtype=float)
            k = min(baseline_size, len(potential))
            reference = -np.partition(-potential, k - 1)[:k] if k else None
        rate = (calibrate_scores(listed["score"].to_numpy(), baseline_rate, reference=reference)
                if baseline_rate is not None else listed["score"].to_numpy(dtype=float))
        listed["response_rate"] = rate
        clock.done("selection")

        # 5. control
        split = assign_control(listed, share=spec.control_share, seed=spec.seed)
        balance = control_balance(split)
        clock.done("control")

        # 6. channel plan of the target group; shadow channels of the control group
        chans, cap = channel_inputs(spec)
        is_target = (split["group"] == GROUP_TARGET).to_numpy()
        if not is_target.any():
            raise ParameterError(f"The target group is empty: all {len(split):,} listed users are held out as "
                                 f"control (control_share {spec.control_share}). Enlarge the list or lower the share.")
        target = split.loc[is_target]
        problem = build_problem(target[[SUBSCRIBER_ID, BRANCH_ID, "response_rate"]].rename(
            columns={"response_rate": "score"}), chans, value_per_order=spec.value_per_order, budget=spec.budget,
            capacity=cap)
        cplan = plan_channels(problem, seed=spec.seed, progress=progress)
        planned = cplan.plan.set_index(SUBSCRIBER_ID)
        channel = np.full(len(split), None, dtype=object)
        expected = np.zeros(len(split))
        tgt_ids = split.loc[is_target, SUBSCRIBER_ID]
        got = tgt_ids.map(planned["channel"])
        channel[is_target] = got.astype(object).where(got.notna(), None).to_numpy()
        expected[is_target] = tgt_ids.map(planned["expected_orders"]).fillna(0.0).to_numpy(dtype=float)
        control = split.loc[~is_target]
        shadow = shadow_channels(control[[SUBSCRIBER_ID, BRANCH_ID, "response_rate"]], cplan, chans,
                                 value_per_order=spec.value_per_order)
        channel[~is_target] = shadow.astype(object).where(shadow.notna(), None).to_numpy()
        members = pd.DataFrame({
            SUBSCRIBER_ID: split[SUBSCRIBER_ID].to_numpy(), BRANCH_ID: split[BRANCH_ID].astype("str").to_numpy(),
            "score": split["score"].to_numpy(), "response_rate": split["response_rate"].to_numpy(),
            "score_decile": split["score_decile"].to_numpy(), "group": split["group"].astype("str").to_numpy(),
            "channel": pd.Series(channel, dtype="str").to_numpy(), "expected_orders": expected,
        })
        members["channel"] = members["channel"].astype("str")
        members["released"] = members["channel"].notna().to_numpy()
        clock.done("channel_plan")

        # 7. power, 8. executors and rows
        rel = members[members["released"]]
        n_treated = int((rel["group"] == GROUP_TARGET).sum())
        n_control = int((rel["group"] == GROUP_CONTROL).sum())
        power = None
        if n_treated and n_control:
            base = float(np.clip(rel.loc[rel["group"] == GROUP_TARGET, "response_rate"].mean(), 0, 1 - 1e-9))
            power = check_control_power(n_treated, n_control, base,
                                        goal_orders=spec.goal.target_stable_subscribers, lang=lang)
        contacted = rel[rel["group"] == GROUP_TARGET][[SUBSCRIBER_ID, BRANCH_ID, "channel", "score"]]
        if len(contacted):
            assigned = assign_executors(contacted.reset_index(drop=True), executors)
        else:
            assigned = contacted.assign(**{EXECUTOR: pd.Series(dtype="str"), SCORE_BAND: pd.Series(dtype="str")})
        ctrl_rows = rel[rel["group"] == GROUP_CONTROL][[SUBSCRIBER_ID, BRANCH_ID, "channel", "score"]]
        ctrl_rows = ctrl_rows.sort_values([BRANCH_ID, "channel", "score", SUBSCRIBER_ID],
                                          ascending=[True, True, False, True], kind="stable")
        ctrl_rows = ctrl_rows.assign(**{EXECUTOR: pd.Series(None, index=ctrl_rows.index, dtype="str")})
        both = pd.concat([assigned.assign(group=GROUP_TARGET), ctrl_rows.assign(group=GROUP_CONTROL)],
                         ignore_index=True)
        both[SCORE_BAND] = pd.Series(score_bands(both["score"].to_numpy(), both[SUBSCRIBER_ID].to_numpy())
                                     if len(both) else [], dtype="str")
        if len(assigned):
            assigned[SCORE_BAND] = both[SCORE_BAND].iloc[: len(assigned)].to_numpy()
        ids = both[SUBSCRIBER_ID].to_numpy()
        at = pd.Index(pd.to_numeric(scores[SUBSCRIBER_ID]).to_numpy()).get_indexer(ids)
        extra = scores.iloc[at].set_index(pd.Index(ids, name=SUBSCRIBER_ID))
        reasons = join_reasons(extra) if _reason_columns(extra) else None
        editions = extra[_EDITION].astype("str") if (_EDITION in extra.columns and spec.offer.by_preference) \
            else None
        rows = build_list(both, msisdn=phone_numbers(con, ids) if len(ids) else None, reasons=reasons,
                          editions=editions, edition=spec.offer.edition, free_months=spec.offer.free_months,
                          lang=lang)
        loads = workload(assigned) if len(assigned) else pd.DataFrame(columns=[BRANCH_ID, "channel", EXECUTOR,
                                                                               "total"])
        clock.done("lists")
    finally:
        stack.close()
        clock.close()

    groups = pd.DataFrame({
        "group": pd.Series([GROUP_TARGET, GROUP_CONTROL], dtype="str"),
        "listed": [int(is_target.sum()), int((~is_target).sum())],
        "released": [n_treated, n_control],
    })
    groups["dropped"] = groups["listed"] - groups["released"]
    plan = CampaignPlan(spec=spec, as_of=day, funnel=funnel, members=members, groups=groups, balance=balance,
                        power=power, channel_plan=cplan, workload=loads, rows=rows)
    roster_sources = {}
    if isinstance(executors, pd.DataFrame) and "source" in executors.columns:
        roster_sources = executors.groupby(BRANCH_ID, sort=True)["source"].first().astype(str).to_dict()
    plan.info = {"seconds": clock.seconds, "baseline_rate": baseline_rate, "baseline_size": baseline_size,
                 "scored": int(len(scores)),
                 "roster_sources": roster_sources, "contact_history_rows": 0 if history is None else len(history),
                 "dnd_given": dnd is not None}
    plan.summary = _summary(plan)
    return plan


def _summary(plan: CampaignPlan) -> dict:
    spec, cp, f = plan.spec, plan.channel_plan, plan.funnel.set_index("step")
    g = plan.groups.set_index("group")
    orders = float(cp.summary["expected_orders"].sum()) if len(cp.summary) else 0.0
    cost = float(cp.summary["cost"].sum()) if len(cp.summary) else 0.0
    revenue = orders * spec.value_per_order
    listed = int(f["remaining"].iloc[-1])
    eligible = int(f.loc["outside_list", "remaining"] + f.loc["outside_list", "excluded"])
    return {
        "candidates": int(f.loc["candidates", "remaining"]), "eligible": eligible, "listed": listed,
        "target": int(g.loc[GROUP_TARGET, "listed"]), "control": int(g.loc[GROUP_CONTROL, "listed"]),
        "contacted": int(g.loc[GROUP_TARGET, "released"]), "not_contacted": int(g.loc[GROUP_TARGET, "dropped"]),
        "control_released": int(g.loc[GROUP_CONTROL, "released"]),
        "control_dropped": int(g.loc[GROUP_CONTROL, "dropped"]), "released": int(len(plan.rows)),
        "expected_orders": orders, "cost": cost, "revenue": revenue, "net_value": revenue - cost,
        "roi": (revenue - cost) / cost if cost > 0 else None, "budget": spec.budget,
        "goal": spec.goal.target_stable_subscribers,
        "executors": int(plan.workload[EXECUTOR].nunique()) if len(plan.workload) else 0,
        "gap": cp.gap if math.isfinite(cp.gap) else None,
    }


# ----------------------------------------------------------------------- release
def store_user(store, name: str):
    """The store's user ``name`` as a :class:`workbench.store.User` (``"system"``: the workbench itself).

    Raises
    ------
    ParameterError
        When the store has no active user of that name (the message lists who it has).
    """
    from workbench.store import SYSTEM_USER, User

    if name == SYSTEM_USER.name:
        return SYSTEM_USER
    users = store.list_users(SYSTEM_USER)
    found = users[users["name"] == name] if len(users) else users
    if not len(found) or not bool(found["active"].iloc[0]):
        names = sorted(users.loc[users["active"].astype(bool), "name"].tolist()) if len(users) else []
        raise ParameterError(f"The store has no active user {name!r}; its active users are {names} "
                             f"(or use {SYSTEM_USER.name!r}, the workbench itself). "
                             "Add one with `workbench users add`.")
    row = found.iloc[0]
    branch = row["branch_id"] if isinstance(row["branch_id"], str) and row["branch_id"] else None
    return User(str(row["name"]), str(row["role"]), branch, str(row["display_name"] or ""))


def release(plan: CampaignPlan, store, user, *, campaign_id: int | None = None):
    """Release a plan: its spec and list rows into the campaign store, in one transaction.

    Parameters
    ----------
    plan : CampaignPlan
    store : workbench.store.Store
    user : workbench.store.User
        An analyst or admin (see :func:`store_user`).
    campaign_id : int, optional
        Release the plan as the next version of this released campaign (the
        spec's ``version`` is set to the store's next version number); a
        released list never changes.

    Returns
    -------
    workbench.store.Release

    Raises
    ------
    ParameterError
        Not a plan, an empty list, an unknown or unreleased campaign.
    AccessDenied
        When ``user`` may not release campaigns.
    """
    if not isinstance(plan, CampaignPlan):
        raise ParameterError.invalid("plan", "a CampaignPlan (plan_campaign() or CampaignPlan.load())",
                                     type(plan).__name__)
    if plan.rows.empty:
        raise ParameterError("The plan releases no rows: nobody is contacted (check the funnel, the capacities and "
                             "the budget). Nothing was written.")
    product = plan.spec.offer.product_id or plan.spec.offer.family
    if campaign_id is None:
        return store.release_campaign(user, plan.spec, plan.rows, product=product)
    versions = store.versions(user, int(campaign_id))
    spec = dataclasses.replace(plan.spec, version=int(versions["version"].max()) + 1) if len(versions) else plan.spec
    return store.new_version(user, int(campaign_id), spec, plan.rows)


# ------------------------------------------------------------------ run-folder files
def read_scores(path) -> pd.DataFrame:
    """The scores of template 03 (``run_dir/scores.parquet``) or any Parquet / CSV scores file.

    Raises
    ------
    FileNotFoundError
        When the file does not exist (names template 03, which writes it).
    ParameterError
        When the suffix is neither CSV nor Parquet (:func:`workbench.data.files.read_table`).
    """
    path = Path(path)
    if path.is_dir():
        path = path / SCORES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"The scores file {str(path)!r} does not exist: run template 03_target_model with "
                                f"this run_dir first (it writes {SCORES_FILE}).")
    from workbench.data.files import read_table

    return read_table(path, parameter="scores")


def model_reference(run_dir, scores_path=None) -> str:
    """An id for the scores: ``model@<fingerprint>`` of ``run_dir/model`` or ``scores@<sha256>`` of the file."""
    model_json = Path(run_dir) / "model" / "model.json"
    if model_json.is_file():
        try:
            meta = json.loads(model_json.read_text(encoding="utf-8"))
            digest = (meta.get("fingerprint") or {}).get("sha256")
            if digest:
                return f"model@{digest[:12]}"
        except (json.JSONDecodeError, AttributeError):
            pass
    path = Path(scores_path) if scores_path is not None else Path(run_dir) / SCORES_FILE
    if path.is_file():
        return f"scores@{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    return "scores"


def model_rules(run_dir, top: int = 3, lang: str | None = None) -> list[str]:
    """The first ``top`` rule examples (规则示例) of the model in ``run_dir/model``, in words.

    Features are named as in the feature catalogue (:data:`workbench.features.FEATURE_INDEX`).
    Returns an empty list when the run folder has no model or the model no rules.

    Raises
    ------
    ParameterError
        When ``run_dir/model`` exists but is not a complete model folder.
    """
    from workbench.features import FEATURE_INDEX
    from workbench.i18n import get_language
    from workbench.models import Rule, load_card

    top = check_int("top", top, 0)
    folder = Path(run_dir) / "model"
    if not folder.is_dir() or not top:
        return []
    rules = load_card(folder).get("rules") or []
    lang = lang or get_language()
    labels = {name: (f.meaning_zh if lang == "zh" else f.meaning) for name, f in FEATURE_INDEX.items()}
    # statistics saved as null (NaN in JSON) would not read back: only the conditions matter here
    return [Rule.from_dict({k: v for k, v in r.items() if v is not None}).render(lang, labels) for r in rules[:top]]


def default_store_url(run_dir) -> str:
    """``sqlite:///<run_dir>/store.sqlite`` (absolute), the store of a run folder."""
    return f"sqlite:///{(Path(run_dir).resolve() / 'store.sqlite').as_posix()}"


def write_campaign_file(run_dir, released, store_url: str, plan: CampaignPlan) -> Path:
    """Write ``run_dir/campaign.json`` (campaign id, version, store URL ...) for the later steps; return the path."""
    spec = plan.spec
    data = {
        "campaign_id": int(released.campaign_id), "version": int(released.version),
        "version_id": int(released.version_id), "members": int(released.member_count),
        "spec_hash": released.spec_hash, "store_url": store_url, "name": spec.name,
        "product": spec.offer.product_id or spec.offer.family, "family": spec.offer.family,
        "period_start": spec.goal.period_start.isoformat(), "period_end": spec.goal.period_end.isoformat(),
        "response_window_days": spec.response_window_days, "as_of": plan.as_of.date().isoformat(),
        "control_share": spec.control_share, "seed": spec.seed,
    }
    path = Path(run_dir) / CAMPAIGN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def read_campaign_file(run_dir) -> dict:
    """The campaign template 04 released (``run_dir/campaign.json``).

    Raises
    ------
    FileNotFoundError
        When ``run_dir`` holds no campaign.json (run template 04 first).
    """
    path = Path(run_dir) / CAMPAIGN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"The 'run_dir' {os.fspath(run_dir)!r} holds no {CAMPAIGN_FILE}: run template "
                                "04_campaign_design with this run_dir first.")
    return json.loads(path.read_text(encoding="utf-8"))


def release_for_run(plan: CampaignPlan, store, user, run_dir, store_url: str):
    """Release a plan for a run folder and write its ``campaign.json``.

    When ``run_dir`` already holds a campaign of the same product family in
    the same store (an earlier run of template 04), the plan is released as
    that campaign's next version - its earlier versions stay as they were;
    otherwise a new campaign is released.

    Returns
    -------
    (Release, pathlib.Path, bool)
        The release, the path of ``campaign.json`` and whether it is a new version of an earlier campaign.
    """
    earlier = None
    path = Path(run_dir) / CAMPAIGN_FILE
    if path.is_file():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            earlier = None
    campaign_id = None
    if isinstance(earlier, Mapping) and earlier.get("store_url") == store_url \
            and earlier.get("family") == plan.spec.offer.family and isinstance(earlier.get("campaign_id"), int):
        known = store.visible_campaigns(user)
        hit = known[known["campaign_id"] == earlier["campaign_id"]] if len(known) else known
        if len(hit) and hit["status"].iloc[0] == "released":
            campaign_id = int(earlier["campaign_id"])
    released = release(plan, store, user, campaign_id=campaign_id)
    return released, write_campaign_file(run_dir, released, store_url, plan), campaign_id is not None


# ------------------------------------------------------------------ the plan in words and figures
def _pct(x) -> float:
    return float("nan") if x is None else float(x)


def plan_story(plan: CampaignPlan, part: str, lang: str | None = None) -> tuple[str, dict]:
    """The narrative key and values of one part of a plan (for :func:`workbench.notebook.narrate`).

    Parameters
    ----------
    part : {"funnel", "control", "power", "channels", "workload"}

    Returns
    -------
    (key, values)
    """
    from workbench.i18n import t

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
        budget_text = t("t04.story.no_budget", lang=lang) if budget is None else f"{budget:,.0f}"
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
    raise ParameterError.invalid("part", "one of ['funnel', 'control', 'power', 'channels', 'workload']", part)


def inputs_story(goal: Mapping, scores: pd.DataFrame, model_id: str, rules: Sequence[str] = (),
                 lang: str | None = None) -> tuple[str, dict]:
    """Narrative key and values of the campaign's inputs: the goal of template 02, the scores and rule
    examples of template 03."""
    from workbench.i18n import t

    goal = _check_goal_dict(goal)
    values = {
        "product": t(f"family.{goal['product']}", lang=lang), "target": int(goal["target_stable_subscribers"]),
        "start": str(goal["period_start"]), "end": str(goal["period_end"]), "reason": _reason_text(goal) or "-",
        "scored": int(len(scores)), "model": model_id}
    if rules:
        return "t04.story.inputs_rules", {**values, "rules": "\n".join(f"- {r}" for r in rules)}
    return "t04.story.inputs", values


def release_story(released, path, new_version: bool) -> tuple[str, dict]:
    """Narrative key and values of a release (:func:`release_for_run`)."""
    return ("t04.story.released.version" if new_version else "t04.story.released.new"), {
        "campaign": int(released.campaign_id), "version": int(released.version),
        "members": int(released.member_count), "path": str(path)}


def spec_table(spec: CampaignSpec, lang: str | None = None) -> pd.DataFrame:
    """The channels of a spec: unit cost, response multiplier, daily capacity and capacity over the period.

    Headers and channel names come from the catalogue (``t04.spec.*``).
    """
    from workbench.i18n import t

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
            daily_text = f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"
            total = f"{sum(daily) * days:,}"
        rows.append((t(f"channel.{c.name}", lang=lang), c.unit_cost, c.response_multiplier, daily_text, total))
    cols = ["channel", "unit_cost", "multiplier", "daily", "period"]
    return pd.DataFrame(rows, columns=[t(f"t04.spec.col.{k}", lang=lang) for k in cols])


def plan_cards(plan: CampaignPlan) -> tuple[dict, dict]:
    """Values and formats of the plan's KPI tiles: ``kpi_cards(*plan_cards(plan))``."""
    s = plan.summary
    values = {"t04.card.listed": s["listed"], "t04.card.contacted": s["contacted"],
              "t04.card.control": s["control_released"], "t04.card.orders": s["expected_orders"],
              "t04.card.cost": s["cost"], "t04.card.roi": _pct(s["roi"])}
    return values, {"t04.card.orders": "{:,.1f}", "t04.card.cost": "{:,.0f}", "t04.card.roi": "{:.0%}"}


def channel_totals(plan: CampaignPlan, by: str = "channel", lang: str | None = None) -> pd.DataFrame:
    """Users, capacity, expected orders, cost, revenue, net value and ROI of the plan by channel or branch.

    For display: numbers rounded, capacity and ROI as text; headers and channel / branch names
    from the catalogue (``t04.table.*``, ``common.*``, ``channel.*``).
    """
    from workbench.i18n import get_language, t

    if by not in ("channel", "branch"):
        raise ParameterError.invalid("by", "'channel' or 'branch'", by)
    lang = lang or get_language()
    col = "channel" if by == "channel" else BRANCH_ID
    s = plan.channel_plan.summary
    sums = s.groupby(col, sort=True)[["users", "capacity", "expected_orders", "cost", "revenue", "net_value"]].sum()
    sums["roi"] = sums["net_value"] / sums["cost"].where(sums["cost"] > 0)
    unlimited = t("t04.spec.unlimited", lang=lang)
    sums["users"] = sums["users"].round().astype("int64")
    sums["capacity"] = [f"{c:,.0f}" if np.isfinite(c) else unlimited for c in sums["capacity"]]
    sums["expected_orders"] = sums["expected_orders"].round(1)
    for c in ("cost", "revenue", "net_value"):
        sums[c] = sums[c].round(0).astype("int64")
    sums["roi"] = [f"{r:.0%}" if np.isfinite(r) else "-" for r in sums["roi"].astype(float)]
    names = {b[0]: (b[1] if lang == "zh" else b[2]) for b in BRANCHES}
    sums.index = [t(f"channel.{k}", lang=lang) if by == "channel" else names.get(k, k) for k in sums.index]
    sums = sums.reset_index(names="key")
    sums.columns = [t("common.channel" if by == "channel" else "common.branch", lang=lang),
                    *(t(f"t04.table.{c}", lang=lang) for c in sums.columns[1:])]
    return sums


def list_preview(plan: CampaignPlan, n: int = 10, lang: str | None = None) -> pd.DataFrame:
    """The first ``n`` target rows of the released list for display: catalogue headers, branch and channel
    names, masked phone numbers."""
    from workbench.i18n import get_language, t

    n = check_int("n", n, 1)
    lang = lang or get_language()
    rows = plan.rows[plan.rows["group"] == GROUP_TARGET].head(n)
    cols = [c for c in LIST_COLUMNS if c != "group"]
    out = rows[cols].copy()
    names = {b[0]: (b[1] if lang == "zh" else b[2]) for b in BRANCHES}
    out[BRANCH_ID] = out[BRANCH_ID].map(names).fillna(out[BRANCH_ID])
    out["channel"] = [t(f"channel.{c}", lang=lang) for c in out["channel"]]
    out["score"] = out["score"].round(3)
    out.columns = [t(f"campaign.list.col.{c}", lang=lang) for c in cols]
    return out.reset_index(drop=True)
