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

The reads are gathered first (:func:`gather_plan_inputs`: the source through one DuckDB
connection, the store's contact history) into a :class:`~workbench.campaign.PlanInputs`;
:func:`plan_from_inputs` computes the plan from those DataFrames alone, and
:func:`plan_campaign` is the two in a row.  :func:`release` writes the plan's spec and rows
to the campaign store in one transaction (a new campaign, or the next version of one).
Everything here is pure except :func:`gather_plan_inputs`, :func:`contact_history`, the
release, :meth:`CampaignPlan.save` / :meth:`CampaignPlan.load` and the run-folder files
(:func:`read_scores`, :func:`write_campaign_file`).  The plan in words and tables is
:mod:`workbench.report.t04`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.campaign.assignment import EXECUTOR, SCORE_BAND, assign_executors, score_bands, workload
from workbench.campaign.channel_plan import ChannelPlan, build_problem, channel_inputs, plan_channels
from workbench.campaign.control import GROUP_CONTROL, GROUP_TARGET, assign_control, control_balance, \
    universal_control
from workbench.campaign.inputs import (
    BRANCH_ID, PLAN_TABLES, SUBSCRIBER_ID, PlanInputs, candidate_frame, capable_subscribers, phone_numbers,
    require_tables,
)
from workbench.campaign.lists import build_list
from workbench.campaign.policy import CONTACT_DATE, POLICY_STEPS, apply_contact_policy
from workbench.campaign.power import DetectableLift, PowerCheck, check_control_power
from workbench.campaign.spec import CampaignSpec
from workbench.campaign.targeting import calibrate_scores, in_segment, join_reasons, reason_columns, select_target, \
    shadow_channels
from workbench.checks import check_date, check_int, check_num, require_columns
from workbench.checks import jsonable as _json_safe  # CampaignPlan.save's converter: the one of workbench.checks
from workbench.data.source import connection
from workbench.errors import ParameterError
from workbench.i18n import t
from workbench.runs import CAMPAIGN_FILE, SCORES_FILE  # the run folder's file names live in workbench.runs

__all__ = [
    "SCORES_FILE",
    "CAMPAIGN_FILE",
    "PLAN_STEPS",
    "FUNNEL_STEPS",
    "MEMBER_FRAME_COLUMNS",
    "CampaignPlan",
    "contact_history",
    "gather_plan_inputs",
    "plan_from_inputs",
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
]

#: Steps of :func:`plan_campaign`, timed in ``CampaignPlan.info["seconds"]``.
PLAN_STEPS: tuple[str, ...] = ("candidates", "eligibility", "selection", "control", "channel_plan", "lists")
#: Rows of :attr:`CampaignPlan.funnel`: candidates, segment, the policy rules, the list cut-off.
FUNNEL_STEPS: tuple[str, ...] = ("candidates", "segment", *POLICY_STEPS, "outside_list")
#: Columns of :attr:`CampaignPlan.members` (one row per user of the target list).
MEMBER_FRAME_COLUMNS: tuple[str, ...] = (
    SUBSCRIBER_ID, BRANCH_ID, "score", "response_rate", "score_decile", "group", "channel", "expected_orders",
    "released",
)
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


def _check_plan_args(spec, baseline_rate, baseline_size) -> None:
    if not isinstance(spec, CampaignSpec):
        raise ParameterError.invalid("spec", "a CampaignSpec", type(spec).__name__)
    if baseline_rate is not None:
        check_num("baseline_rate", baseline_rate, 0, 1, lo_open=True)
    if baseline_size is not None:
        check_int("baseline_size", baseline_size, 1)


def gather_plan_inputs(spec: CampaignSpec, scores: pd.DataFrame, source, *, as_of, store=None, user=None,
                       score_col: str = "score") -> PlanInputs:
    """Read everything a plan needs from the province data and the store (the plan's only reads).

    One DuckDB connection over ``source`` (:func:`workbench.data.source.connection`) gives
    the scored users' branch and brand (:func:`~workbench.campaign.candidate_frame`), the
    current subscribers of the offer's family at ``as_of``
    (:func:`workbench.features.active_subscribers`), the users whose handset can use the
    product (:func:`~workbench.campaign.capable_subscribers`) and the phone numbers of the
    candidates in the spec's segment (:func:`~workbench.campaign.phone_numbers`); the store
    gives every campaign's recorded contacts (:func:`contact_history`).

    Parameters
    ----------
    spec, scores, source, as_of, store, user, score_col
        As :func:`plan_campaign`.

    Returns
    -------
    PlanInputs
        For :func:`plan_from_inputs`.

    Raises
    ------
    ParameterError
        Invalid spec or as_of; a product the catalogue does not know.
    DataValidationError
        Bad scores (missing columns, repeated ids, scores outside [0, 1], ids
        the data does not know) or a source without the tables needed.
    """
    from workbench.features import active_subscribers

    if not isinstance(spec, CampaignSpec):
        raise ParameterError.invalid("spec", "a CampaignSpec", type(spec).__name__)
    day = check_date("as_of", as_of)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with connection(source) as con:
        require_tables(con, PLAN_TABLES, "plan_campaign")
        cands = candidate_frame(scores, con, score_col=score_col)
        seconds["candidates"] = time.perf_counter() - start
        start = time.perf_counter()
        subs = active_subscribers(con, spec.offer.family, at=day.date().isoformat())[SUBSCRIBER_ID].to_numpy()
        capable = capable_subscribers(con, day, spec.offer.family, spec.offer.product_id)
        history = contact_history(store, user=user, before=day) if store is not None else None
        seconds["eligibility"] = time.perf_counter() - start
        start = time.perf_counter()
        ids = cands.loc[in_segment(cands, spec), SUBSCRIBER_ID].to_numpy()
        msisdn = phone_numbers(con, ids) if len(ids) else pd.Series([], dtype="str")
        seconds["lists"] = time.perf_counter() - start
    return PlanInputs(as_of=day, scores=scores, candidates=cands, product_subscribers=subs, capable=capable,
                      contact_history=history, msisdn=msisdn, seconds=seconds)


def plan_from_inputs(spec: CampaignSpec, inputs: PlanInputs, *, executors, dnd=None, credit_grades=None,
                     contacts: pd.DataFrame | None = None, baseline_rate: float | None = None,
                     baseline_size: int | None = None, lang: str | None = None, progress: bool = True) -> CampaignPlan:
    """Plan a campaign from gathered inputs: eligibility, target group, control, channel plan, executors, rows.

    Pure: reads nothing but ``inputs`` (:func:`gather_plan_inputs`) and the arguments, so a
    plan can be made again, or varied, from the same inputs without the data.  The other
    parameters are those of :func:`plan_campaign`; ``info["seconds"]`` adds the reads'
    seconds of ``inputs`` to the computation's.

    Returns
    -------
    CampaignPlan
        The same plan :func:`plan_campaign` makes from the data ``inputs`` were read from.

    Raises
    ------
    ParameterError
        Invalid spec, inputs, baseline_rate or executors, or an empty target group.
    DataValidationError
        ``contacts`` without ``subscriber_id`` / ``contact_date``.
    """
    _check_plan_args(spec, baseline_rate, baseline_size)
    if not isinstance(inputs, PlanInputs):
        raise ParameterError.invalid("inputs", "a PlanInputs (gather_plan_inputs())", type(inputs).__name__)
    day, scores, cands, subs = inputs.as_of, inputs.scores, inputs.candidates, inputs.product_subscribers
    clock = _Clock(progress)
    try:
        # 1. candidates (read by gather_plan_inputs)
        n_cand = len(cands)
        clock.done("candidates")

        # 2. segment and 3. contact policy
        segment = cands.loc[in_segment(cands, spec)].reset_index(drop=True)
        parts = [inputs.contact_history] if inputs.contact_history is not None else []
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
            handset_capable=inputs.capable, held_out=held, credit_grades=credit_grades,
            **dataclasses.asdict(spec.contact_policy))
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
        reasons = join_reasons(extra, t("reasons.separator", lang)) if reason_columns(extra) else None
        editions = extra[_EDITION].astype("str") if (_EDITION in extra.columns and spec.offer.by_preference) \
            else None
        rows = build_list(both, msisdn=inputs.msisdn if len(ids) else None, reasons=reasons,
                          editions=editions, edition=spec.offer.edition, free_months=spec.offer.free_months,
                          lang=lang)
        loads = workload(assigned) if len(assigned) else pd.DataFrame(columns=[BRANCH_ID, "channel", EXECUTOR,
                                                                               "total"])
        clock.done("lists")
    finally:
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
    seconds = {step: inputs.seconds.get(step, 0.0) + clock.seconds[step] for step in PLAN_STEPS}
    plan.info = {"seconds": seconds, "baseline_rate": baseline_rate, "baseline_size": baseline_size,
                 "scored": int(len(scores)),
                 "roster_sources": roster_sources, "contact_history_rows": 0 if history is None else len(history),
                 "dnd_given": dnd is not None}
    plan.summary = _summary(plan)
    return plan


def plan_campaign(spec: CampaignSpec, scores: pd.DataFrame, source, *, as_of, executors, store=None, user=None,
                  dnd=None, contacts: pd.DataFrame | None = None, baseline_rate: float | None = None,
                  baseline_size: int | None = None, score_col: str = "score", lang: str | None = None,
                  progress: bool = True, credit_grades: pd.DataFrame | None = None) -> CampaignPlan:
    """Plan a campaign: eligibility, target group, control, channel plan, executors and list rows.

    See the module docstring for the steps and their rules: :func:`gather_plan_inputs` (the
    reads of the source and the store), then :func:`plan_from_inputs` (the computation).

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
    credit_grades : DataFrame, optional
        New users' credit grades (``subscriber_id``, ``grade``; template 07's ``credit_grades.parquet``):
        the grades of ``spec.contact_policy.exclude_credit_grades`` are not contacted.
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
    _check_plan_args(spec, baseline_rate, baseline_size)
    inputs = gather_plan_inputs(spec, scores, source, as_of=as_of, store=store, user=user, score_col=score_col)
    return plan_from_inputs(spec, inputs, executors=executors, dnd=dnd, contacts=contacts, baseline_rate=baseline_rate,
                            baseline_size=baseline_size, lang=lang, progress=progress, credit_grades=credit_grades)




def contact_history(store, *, user=None, tz: str | None = None, before=None) -> pd.DataFrame:
    """The contacts recorded in the campaign store, by any campaign: ``subscriber_id, contact_date``.

    Parameters
    ----------
    store : workbench.store.Store
    user : workbench.store.User, optional
        Who reads (a province role); default :data:`workbench.store.SYSTEM_USER`.
    tz : str, optional
        Time zone of the contact day (default: the province's,
        :data:`workbench.tracking.attribution.LOCAL_TIMEZONE`).
    before : date, optional
        Only contacts on a day before this one (a plan's ``as_of``): a campaign planned
        for a day is not held back by contacts recorded on or after it - for instance by
        another run of the same plan that shares the store.

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
    out = pd.DataFrame({SUBSCRIBER_ID: both[SUBSCRIBER_ID].astype("int64").to_numpy(),
                        CONTACT_DATE: when.dt.tz_localize(None).dt.normalize().to_numpy()})
    if before is not None:
        out = out[out[CONTACT_DATE] < check_date("before", before)].reset_index(drop=True)
    return out


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
    """The scores of template 03 (a run folder's ``scores.parquet``) or any Parquet / CSV scores file.

    Parameters
    ----------
    path : path or workbench.runs.RunFolder
        A run folder (its read is recorded in the manifest) or a scores file.

    Raises
    ------
    FileNotFoundError
        When the file does not exist (names template 03, which writes it).
    ParameterError
        When the suffix is neither CSV nor Parquet (:func:`workbench.data.files.read_table`).
    """
    from workbench.runs import RunFolder

    if isinstance(path, RunFolder) or Path(path).is_dir():
        return RunFolder.of(path).read_scores()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"The scores file {str(path)!r} does not exist: run template 03_target_model with "
                                f"this run_dir first (it writes {SCORES_FILE}).")
    from workbench.data.files import read_table

    return read_table(path, parameter="scores")


def model_reference(run_dir, scores_path=None) -> str:
    """An id for the scores: ``model@<fingerprint>`` of ``run_dir/model`` or ``scores@<sha256>`` of the file."""
    from workbench.runs import RunFolder, file_hash

    folder = RunFolder.of(run_dir)
    model_json = folder.model_dir() / "model.json"
    if model_json.is_file():
        try:
            meta = json.loads(model_json.read_text(encoding="utf-8"))
            digest = (meta.get("fingerprint") or {}).get("sha256")
            if digest:
                return f"model@{digest[:12]}"
        except (json.JSONDecodeError, AttributeError):
            pass
    path = Path(scores_path) if scores_path is not None else folder.file("scores")
    if path.is_file():
        if scores_path is None:
            folder.record_input("scores")
        return f"scores@{file_hash(path)[:12]}"
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
    from workbench.i18n import get_language
    from workbench.models import Rule, load_card
    from workbench.models.province_inputs import feature_labels
    from workbench.runs import RunFolder

    top = check_int("top", top, 0)
    folder = RunFolder.of(run_dir).model_dir()
    if not folder.is_dir() or not top:
        return []
    rules = load_card(folder).get("rules") or []
    lang = lang or get_language()
    labels = feature_labels(lang)    # catalogue features, preference and derived inputs alike
    # statistics saved as null (NaN in JSON) would not read back: only the conditions matter here
    return [Rule.from_dict({k: v for k, v in r.items() if v is not None}).render(lang, labels) for r in rules[:top]]


def default_store_url(run_dir) -> str:
    """``sqlite:///<run_dir>/store.sqlite`` (absolute), the store of a run folder (:meth:`RunFolder.store_url`)."""
    from workbench.runs import RunFolder

    return RunFolder.of(run_dir).store_url()


def write_campaign_file(run_dir, released, store_url: str, plan: CampaignPlan) -> Path:
    """Write ``run_dir/campaign.json`` (campaign id, version, store URL ...) for the later steps; return the path."""
    from workbench.runs import RunFolder

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
    return RunFolder.of(run_dir).write_campaign(data)


def read_campaign_file(run_dir) -> dict:
    """The campaign template 04 released (``run_dir/campaign.json``).

    Raises
    ------
    FileNotFoundError
        (:class:`workbench.runs.RunFileMissing`) When ``run_dir`` holds no campaign.json (run template 04 first).
    """
    from workbench.runs import RunFolder

    return RunFolder.of(run_dir).read_campaign()


def release_for_run(plan: CampaignPlan, store, user, run_dir, store_url: str):
    """Release a plan for a run folder and write its ``campaign.json`` and ``plan/``.

    When ``run_dir`` already holds a campaign of the same product family in
    the same store (an earlier run of template 04), the plan is released as
    that campaign's next version - its earlier versions stay as they were;
    otherwise a new campaign is released.

    Returns
    -------
    (Release, pathlib.Path, bool)
        The release, the path of ``campaign.json`` and whether it is a new version of an earlier campaign.
    """
    from workbench.runs import RunFolder

    folder = RunFolder.of(run_dir)
    earlier = None
    path = folder.file("campaign")
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
    folder.save_plan(plan)
    return released, write_campaign_file(folder, released, store_url, plan), campaign_id is not None


