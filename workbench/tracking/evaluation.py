"""The evaluation of a released campaign, computed on DataFrames (no store, no DuckDB, no files).

:func:`evaluate` takes the :class:`~workbench.tracking.inputs.EvaluationInputs` that
:func:`~workbench.tracking.inputs.gather_evaluation_inputs` read and computes: response attribution,
the effect with 95 % intervals (plain, CUPED and regression adjusted with pre-campaign behaviour), by
branch, channel, score decile, segment and brand, the executors' results, incremental orders and cost per
incremental order, the sample-ratio check against the planned control share and the quality of the
acquired subscribers -> :class:`CampaignEvaluation`.  :func:`evaluate_campaign` does both steps.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.data.tables import table
from workbench.errors import ParameterError
from workbench.store.models import BRANCH_ID, SUBSCRIBER_ID
from workbench.tracking.attribution import CONTROL, REACHED_RESULTS, TARGET, attribute_responses
from workbench.tracking.effect import effect_table, srm_table
from workbench.tracking.inputs import DEFAULT_COVARIATES, CampaignRecords, EvaluationInputs, gather_evaluation_inputs

__all__ = [
    "DIMENSIONS",
    "EXECUTOR_COLUMNS",
    "CampaignEvaluation",
    "evaluate",
    "evaluate_campaign",
]

#: Breakdowns of the effect: name -> member column.
DIMENSIONS: dict[str, str] = {
    "branch": BRANCH_ID, "channel": "channel", "score_decile": "score_decile", "segment": "score_band",
    "brand": "brand",
}
#: Columns of :attr:`CampaignEvaluation.executors`.
EXECUTOR_COLUMNS: tuple[str, ...] = (
    "executor", "executor_name", BRANCH_ID, "members", "attempts", "contacted", "reached", "accepted", "responders",
    "contact_rate", "reach_rate", "acceptance_rate", "response_rate", "control_rate", "lift_vs_control",
)
_BRAND = table("subscribers").column("brand").name


@dataclass
class CampaignEvaluation(CampaignRecords):
    """Everything template 06 reports about one campaign (see :func:`evaluate_campaign`).

    Attributes
    ----------
    campaign_id, version : int
    name : str
    terms : CampaignTerms
    as_of : pandas.Timestamp
        The day of the evaluation.
    members : pandas.DataFrame
        One row per member: the list's columns, the attribution
        (:data:`~workbench.tracking.attribution.ATTRIBUTION_COLUMNS`),
        ``stable_response``, the contact summary (``attempts``, ``contacted``,
        ``reached``, ``accepted``, ``cost``), ``score_decile``, ``brand`` and
        the covariates used.
    contacts : pandas.DataFrame
        The recorded contacts (:meth:`workbench.store.Store.contact_results`).
    effect : pandas.DataFrame
        :func:`~workbench.tracking.effect_table` of ``responded`` and
        ``stable_response``: plain, CUPED and regression-adjusted, cost and SRM columns.
    by : dict of str to pandas.DataFrame
        The effect on ``responded`` by each of :data:`DIMENSIONS` present.
    srm : pandas.DataFrame
        :func:`~workbench.tracking.srm_table` against the planned control share
        (empty when the plan has none).
    srm_by_branch : pandas.DataFrame
    executors : pandas.DataFrame
        Columns :data:`EXECUTOR_COLUMNS`.
    retention, unsubscribes : pandas.DataFrame
        :func:`~workbench.tracking.retention_table` and :func:`~workbench.tracking.unsubscribe_table`.
    did : pandas.DataFrame or None
        :func:`~workbench.tracking.arpu_did` (None without post-campaign ARPU).
    trend : pandas.DataFrame or None
        :func:`~workbench.tracking.product_trend`.
    covariates : list of str
        The pre-campaign columns of the adjusted estimates.
    notes : list of str
        Codes of what could not be computed (``no_arpu_panel``, ``no_trend``, ...).
    features : pandas.DataFrame or None
        The features at the campaign snapshot the evaluation read (indexed by
        ``subscriber_id``), for the uplift model.
    """

    effect: pd.DataFrame
    by: dict
    srm: pd.DataFrame
    srm_by_branch: pd.DataFrame
    executors: pd.DataFrame
    retention: pd.DataFrame
    unsubscribes: pd.DataFrame
    did: pd.DataFrame | None
    trend: pd.DataFrame | None
    covariates: list
    notes: list = field(default_factory=list)
    features: pd.DataFrame | None = None

    def effect_row(self, outcome: str = "responded") -> pd.Series:
        """The overall effect row of one outcome."""
        rows = self.effect[self.effect["outcome"] == outcome]
        if rows.empty:
            raise ParameterError.invalid("outcome", f"one of {self.effect['outcome'].tolist()}", outcome)
        return rows.iloc[0]

    @property
    def headline(self) -> dict:
        """The headline numbers (plain Python values) of the summary."""
        m = self.members
        target = m["group"] == TARGET
        row = self.effect_row("responded")
        stable = self.effect_row("stable_response")
        cost = float(m.loc[target, "cost"].sum())
        inc, lo, hi = (float(row[c]) for c in ("incremental", "incremental_ci_low", "incremental_ci_high"))
        return {
            "members": int(len(m)), "target": int(target.sum()), "control": int((~target).sum()),
            "contacted": int(m.loc[target, "contacted"].sum()), "reached": int(m.loc[target, "reached"].sum()),
            "accepted": int(m.loc[target, "accepted"].sum()), "attempts": int(m.loc[target, "attempts"].sum()),
            "responders": int(m.loc[target, "responded"].sum()),
            "control_responders": int(m.loc[~target, "responded"].sum()),
            "rate_target": float(row["mean_treated"]), "rate_control": float(row["mean_control"]),
            "lift": float(row["abs_lift"]), "lift_low": float(row["abs_ci_low"]),
            "lift_high": float(row["abs_ci_high"]),
            "rel_lift": float(row["rel_lift"]), "p_value": float(row["p_value"]),
            "incremental": inc, "incremental_low": lo, "incremental_high": hi,
            "incremental_stable": float(stable["incremental"]),
            "incremental_stable_low": float(stable["incremental_ci_low"]),
            "incremental_stable_high": float(stable["incremental_ci_high"]),
            "cost": cost, "cost_per_incremental": cost / inc if inc > 0 else float("nan"),
            "cost_per_incremental_low": cost / hi if hi > 0 else float("nan"),
            "cost_per_incremental_high": cost / lo if lo > 0 else float("inf") if hi > 0 else float("nan"),
        }


def _contact_summary(contacts: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """Per member (aligned with ``ids``): attempts, contacted, reached, accepted."""
    out = pd.DataFrame({"attempts": 0, "contacted": False, "reached": False, "accepted": False},
                       index=pd.Index(ids, name=SUBSCRIBER_ID))
    if len(contacts):
        c = pd.DataFrame({
            SUBSCRIBER_ID: contacts[SUBSCRIBER_ID].to_numpy(np.int64),
            "reached": contacts["result"].isin(REACHED_RESULTS).to_numpy(),
            "accepted": (contacts["result"] == "accepted").to_numpy(),
        })
        agg = c.groupby(SUBSCRIBER_ID).agg(attempts=("reached", "size"), reached=("reached", "any"),
                                           accepted=("accepted", "any"))
        agg = agg.reindex(out.index)
        has = agg["attempts"].notna().to_numpy()
        out.loc[has, "attempts"] = agg.loc[has, "attempts"].astype(np.int64).to_numpy()
        out.loc[has, "reached"] = agg.loc[has, "reached"].astype(bool).to_numpy()
        out.loc[has, "accepted"] = agg.loc[has, "accepted"].astype(bool).to_numpy()
        out["contacted"] = out["attempts"] > 0
    return out.astype({"attempts": np.int64, "contacted": bool, "reached": bool, "accepted": bool})


def _executor_results(members: pd.DataFrame, control_rate: Mapping) -> pd.DataFrame:
    """Per assigned executor (target members): contacts, reach, acceptance and responses."""
    target = members[members["group"] == TARGET].copy()
    target["_executor"] = target["executor"].astype(object).where(target["executor"].notna(), "")
    # the name people know the executor by (the store's worklist carries it), else the login
    names = target["executor_name"] if "executor_name" in target.columns else target["executor"]
    target["_name"] = names.astype(object).where(names.notna(), target["_executor"])
    grouped = target.groupby(["_executor", BRANCH_ID], sort=True, dropna=False).agg(
        members=(SUBSCRIBER_ID, "size"), attempts=("attempts", "sum"), contacted=("contacted", "sum"),
        reached=("reached", "sum"), accepted=("accepted", "sum"), responders=("responded", "sum"),
        executor_name=("_name", "first"),
    ).reset_index()
    grouped = grouped.rename(columns={"_executor": "executor"})
    grouped["executor"] = grouped["executor"].where(grouped["executor"] != "", None)
    grouped["executor_name"] = grouped["executor_name"].where(grouped["executor"].notna(), None)
    n = grouped["members"].to_numpy(float)
    with np.errstate(all="ignore"):
        grouped["contact_rate"] = grouped["contacted"] / n
        grouped["reach_rate"] = grouped["reached"] / n
        grouped["acceptance_rate"] = np.where(grouped["reached"] > 0, grouped["accepted"] / grouped["reached"], np.nan)
        grouped["response_rate"] = grouped["responders"] / n
    grouped["control_rate"] = grouped[BRANCH_ID].map(lambda b: control_rate.get(b, np.nan)).astype(float)
    grouped["lift_vs_control"] = grouped["response_rate"] - grouped["control_rate"]
    for col in ("members", "attempts", "contacted", "reached", "accepted", "responders"):
        grouped[col] = grouped[col].astype(np.int64)
    return grouped.sort_values(["reach_rate", "members"], ascending=[False, False], kind="stable")[
        list(EXECUTOR_COLUMNS)].reset_index(drop=True)


def evaluate(inputs: EvaluationInputs, *, covariates: Sequence[str] | None = DEFAULT_COVARIATES,
             dimensions: Mapping[str, str] | None = None, alpha: float = 0.05,
             retention_months: Sequence[int] = (1, 2, 3), progress: bool = False) -> CampaignEvaluation:
    """Evaluate a campaign from its gathered frames: effect, breakdowns, executors, SRM and quality.

    Parameters
    ----------
    inputs : EvaluationInputs
        What :func:`~workbench.tracking.inputs.gather_evaluation_inputs` read (or frames made by hand).
    covariates : sequence of str, optional
        Pre-campaign columns of the CUPED / regression-adjusted estimates (those present in the list or
        the features are used; ``()`` for none).
    dimensions : mapping, optional
        Breakdowns, name -> member column (default :data:`DIMENSIONS`).
    alpha : float, default 0.05
        ``1 - alpha`` is the coverage of every interval.
    retention_months : sequence of int, default (1, 2, 3)
    progress : bool, default False

    Returns
    -------
    CampaignEvaluation
        With the inputs' features, trend and contacts; ``notes`` says what the inputs lacked.

    Raises
    ------
    ParameterError
        ``as_of`` before the start, a campaign without a target or a control group, or as the
        functions called.
    """
    from workbench.tracking.quality import arpu_did, retention_table, unsubscribe_table

    t = inputs.terms
    cutoff = inputs.as_of
    members, contacts, features, arpu = inputs.members, inputs.contacts, inputs.features, inputs.arpu
    ids = members[SUBSCRIBER_ID].to_numpy(np.int64)
    notes: list[str] = []
    attribution = attribute_responses(members, contacts, inputs.orders, campaign_start=t.start,
                                      response_window_days=t.response_window_days, stable_months=t.stable_months,
                                      as_of=cutoff, family=t.family, products=inputs.products)
    m = attribution
    # a stable response: responded and still subscribed stable_months later (unknown yet: missing)
    stable_response = m["stable"].astype("boolean").copy()
    stable_response[~m["responded"].to_numpy(bool)] = False
    m["stable_response"] = stable_response
    summary = _contact_summary(contacts, ids)
    for col in summary.columns:
        m[col] = summary[col].to_numpy()
    cost_of = m["channel"].map(lambda c: t.unit_costs.get(c, 0.0)).astype(float)
    m["cost"] = np.where(m["group"] == TARGET, m["attempts"] * cost_of, 0.0)
    score = pd.to_numeric(m["score"], errors="coerce") if "score" in m.columns else pd.Series(np.nan, index=m.index)
    if score.notna().any():
        from workbench.campaign import score_deciles

        m["score_decile"] = score_deciles(score.fillna(-np.inf).to_numpy(float), ids, 10).astype(np.int64)

    # features of the snapshot: brand and the covariates -----------------------------------
    wanted = [c for c in (covariates or ()) if c not in m.columns]
    if features is not None:
        feats = features.set_index(SUBSCRIBER_ID) if SUBSCRIBER_ID in features.columns else features
        pos = pd.Index(feats.index).get_indexer(ids)
        for col in [c for c in (*wanted, _BRAND) if c in feats.columns and c not in m.columns]:
            values = feats[col].to_numpy()[np.maximum(pos, 0)]
            m[col] = pd.Series(values, index=m.index).where(pos >= 0)
        if _BRAND in m.columns:
            m[_BRAND] = m[_BRAND].astype("str")
    covs = [c for c in (covariates or ()) if c in m.columns and pd.api.types.is_numeric_dtype(m[c].dtype)
            and m[c].notna().all() and m[c].nunique() > 1]

    # the effect ------------------------------------------------------------------------------
    target = (m["group"] == TARGET).to_numpy()
    if target.all() or not target.any():
        raise ParameterError(f"campaign {inputs.campaign_id} has {'no control' if target.all() else 'no target'} "
                             "group: an effect needs both a contacted and a held-out group")
    cost_per_treated = float(m.loc[target, "cost"].mean())
    effect = effect_table(m, "group", CONTROL, ["responded", "stable_response"], covariates=covs or None,
                          planned_control_share=t.control_share, cost_per_treated=cost_per_treated, alpha=alpha,
                          progress=progress)
    dims = DIMENSIONS if dimensions is None else dict(dimensions)
    by = {}
    for name, col in dims.items():
        if col in m.columns and m[col].notna().any() and m[col].nunique() > 1:
            by[name] = effect_table(m, "group", CONTROL, "responded", by=col, alpha=alpha,
                                    planned_control_share=t.control_share)
    if t.control_share is not None:
        srm = srm_table(m, "group", CONTROL, t.control_share)
        srm_by_branch = srm_table(m, "group", CONTROL, t.control_share, by=BRANCH_ID)
    else:
        srm = srm_by_branch = pd.DataFrame()
        notes.append("no_planned_share")
    control_rate = m.loc[~target].groupby(BRANCH_ID)["responded"].mean().to_dict()
    executors = _executor_results(m, control_rate)

    # quality and the product --------------------------------------------------------------------
    retention = retention_table(m, as_of=cutoff, months=retention_months, alpha=alpha)
    unsubscribes = unsubscribe_table(m, as_of=cutoff, free_months=max(t.free_months, 1), alpha=alpha)
    did = None
    if arpu is not None and len(arpu):
        try:
            did = arpu_did(arpu, m, campaign_start=t.start, alpha=alpha)
        except ParameterError:
            notes.append("no_arpu_panel")
    else:
        notes.append("no_arpu_panel")
    if inputs.trend is None:
        notes.append("no_trend")
    return CampaignEvaluation(
        campaign_id=int(inputs.campaign_id), version=int(inputs.version), name=inputs.name, terms=t, as_of=cutoff,
        members=m, contacts=contacts, effect=effect, by=by, srm=srm, srm_by_branch=srm_by_branch,
        executors=executors, retention=retention, unsubscribes=unsubscribes, did=did, trend=inputs.trend,
        covariates=covs, notes=notes, features=features,
    )


def evaluate_campaign(store, campaign_id: int, source, *, as_of, version: int | None = None, user=None,
                      orders: pd.DataFrame | None = None, arpu: pd.DataFrame | None = None,
                      features: pd.DataFrame | None = None, covariates: Sequence[str] | None = DEFAULT_COVARIATES,
                      dimensions: Mapping[str, str] | None = None, alpha: float = 0.05,
                      retention_months: Sequence[int] = (1, 2, 3), simulated: bool | None = None,
                      progress: bool = False, **terms) -> CampaignEvaluation:
    """Evaluate a released campaign: effect, breakdowns, executors, SRM, quality and product trend.

    Parameters
    ----------
    store : workbench.store.Store
        The campaign store (members, plan, recorded contacts).
    campaign_id : int
    source : path, mapping or Source
        The province: ``vas_orders`` / ``vas_products`` (order records of the
        members), ``monthly_usage`` (ARPU) and every table
        :func:`~workbench.features.build_features` reads (when ``features`` is
        not given).
    as_of : date
        The day of the evaluation: later records are not read; stable responses
        and retention are judged as of this day.
    version : int, optional
        Released version (default: the newest).
    user : workbench.store.User, optional
        The acting user (a province role; default ``SYSTEM_USER``).
    orders : pandas.DataFrame, optional
        ``vas_orders`` events after the source's extract (a simulated
        execution's :attr:`SimulationRecord.orders`); appended to the source's.
    arpu : pandas.DataFrame, optional
        Monthly ARPU panel (``subscriber_id``, ``month``, ``arpu``) spanning the
        campaign (default: the members' ``monthly_usage`` rows of the source).
    features : pandas.DataFrame, optional
        Features at the campaign snapshot indexed by ``subscriber_id`` (default:
        :func:`~workbench.features.build_features` of the source at
        :attr:`CampaignTerms.snapshot`); read for the covariates and the brand.
    covariates : sequence of str, optional
        Pre-campaign columns of the CUPED / regression-adjusted estimates (those
        present in the list or the features are used; ``()`` for none).
    dimensions : mapping, optional
        Breakdowns, name -> member column (default :data:`DIMENSIONS`).
    alpha : float, default 0.05
        ``1 - alpha`` is the coverage of every interval.
    retention_months : sequence of int, default (1, 2, 3)
    simulated : bool, optional
        Whether ``orders`` are simulated months (the product trend marks them);
        default True when ``orders`` is given.
    progress : bool, default False
    **terms
        Overrides of the plan's :class:`CampaignTerms` (``start``, ``end``,
        ``response_window_days``, ``control_share``, ``family``, ...).

    Returns
    -------
    CampaignEvaluation

    Raises
    ------
    ParameterError
        Unknown campaign or version, a plan without a period (pass ``start`` and
        ``end``), ``as_of`` before the start, or as the functions called.
    AccessDenied
        When ``user`` may not read responses or the control group.
    """
    inputs = gather_evaluation_inputs(store, campaign_id, source, as_of=as_of, version=version, user=user,
                                      orders=orders, arpu=arpu, features=features, covariates=covariates,
                                      simulated=simulated, **terms)
    return evaluate(inputs, covariates=covariates, dimensions=dimensions, alpha=alpha,
                    retention_months=retention_months, progress=progress)
