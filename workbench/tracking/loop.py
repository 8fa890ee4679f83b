"""The feedback loop of one campaign: simulated execution, evaluation, uplift model, next round.

What closes the loop (活动总结, template 06) is computed here, from the
campaign store and the province data; the template only calls and shows.

* :func:`simulate_campaign` - for the demo and the tests: "run" a released
  campaign from the synthetic province's ground truth (contacts by the
  executors' channel profiles, orders, unsubscribes, ARPU), record the contacts
  and responses in the store through its API (:meth:`~workbench.store.Store.record_results`)
  and keep the simulated events (the province extract ends before the
  campaign) in ``run_dir/simulation/``.
* :func:`evaluate_campaign` - the evaluation of a released campaign: response
  attribution, the effect with 95 % intervals (plain, CUPED and regression
  adjusted with pre-campaign behaviour), by branch, channel, score decile,
  segment and executor, incremental orders and cost per incremental order,
  the sample-ratio check against the planned control share, the quality of the
  acquired subscribers and the product trend -> :class:`CampaignEvaluation`.
* :func:`truth_check` - on a simulated campaign, does the 95 % interval cover
  the simulator's true incremental effect?
* :func:`fit_uplift` - contacts, responses and controls become training data
  (members joined to their features at the campaign snapshot); an uplift
  model is fitted on part of the members and its Qini curve and AUUC measured
  on the members held out.
* :func:`next_campaign_comparison` - a simulated next campaign of the same size:
  expected incremental orders (from the ground truth) when the list is chosen by
  the look-alike score (propensity) or by the uplift model, per 10,000 contacts,
  with random choice and the truth's own ranking as floor and ceiling.
* :func:`evaluation_story`, :func:`lessons`, :func:`evaluation_cards` and the
  ``*_table`` helpers - the numbers each section of the report narrates.

The ground truth is read only by the simulator and by the benchmark comparison
of :func:`next_campaign_comparison`; no model ever sees it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.tables import PRODUCT_FAMILIES, table
from workbench.errors import ParameterError
from workbench.store.models import BRANCH_ID, SUBSCRIBER_ID
from workbench.tracking.attribution import (
    CONTROL, FAMILY, PRODUCT_ID, REACHED_RESULTS, TARGET, _day, _int_param, _require, attribute_responses,
)
from workbench.tracking.effect import effect_table, srm_table

__all__ = [
    "CAMPAIGN_FILE",
    "SIMULATION_DIR",
    "SIMULATION_FILE",
    "DEFAULT_COVARIATES",
    "DIMENSIONS",
    "EXECUTOR_COLUMNS",
    "STRATEGIES",
    "COMPARISON_COLUMNS",
    "STORY_SECTIONS",
    "CampaignTerms",
    "campaign_terms",
    "CampaignRun",
    "SCORES_FILE",
    "open_run",
    "evaluate_run",
    "next_round_candidates",
    "compare_next_round",
    "run_truth_check",
    "SimulationRecord",
    "simulate_campaign",
    "read_simulation",
    "run_simulation_step",
    "demo_simulate",
    "CampaignEvaluation",
    "evaluate_campaign",
    "truth_check",
    "UpliftResult",
    "fit_uplift",
    "uplift_figures",
    "next_campaign_comparison",
    "evaluation_story",
    "evaluation_cards",
    "lessons",
    "effect_summary_table",
    "dimension_table",
    "dimension_effects",
    "breakdown_figures",
    "breakdown_table",
    "quality_figures",
    "executor_table",
    "comparison_table",
]

#: File template 04 leaves in the run folder: the released campaign (id, version, store URL).
CAMPAIGN_FILE = "campaign.json"
#: File template 03 leaves in the run folder: the look-alike scores of the potential customers.
SCORES_FILE = "scores.parquet"
#: Folder of a simulated execution inside the run folder.
SIMULATION_DIR = "simulation"
#: The summary of a simulated execution, inside :data:`SIMULATION_DIR`.
SIMULATION_FILE = "simulation.json"
#: Pre-campaign columns used for the CUPED / regression-adjusted estimates (those present are used).
DEFAULT_COVARIATES: tuple[str, ...] = (
    "score", "arpu_mean", "vas_spend_mean", "gprs_mb_mean", "wap_visits_mean", "content_news_mean",
)
#: Breakdowns of the effect: name -> member column.
DIMENSIONS: dict[str, str] = {
    "branch": BRANCH_ID, "channel": "channel", "score_decile": "score_decile", "segment": "score_band",
    "brand": "brand",
}
#: Columns of :attr:`CampaignEvaluation.executors`.
EXECUTOR_COLUMNS: tuple[str, ...] = (
    "executor", BRANCH_ID, "members", "attempts", "contacted", "reached", "accepted", "responders",
    "contact_rate", "reach_rate", "acceptance_rate", "response_rate", "control_rate", "lift_vs_control",
)
#: Ways of choosing the next campaign's list, in report order.
STRATEGIES: tuple[str, ...] = ("propensity", "uplift", "random", "oracle")
#: Columns of :func:`next_campaign_comparison`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "strategy", "contacts", "expected_orders", "expected_incremental", "incremental_per_10k",
    "vs_propensity", "sleeping_dogs_share", "mean_score",
)
#: Sections :func:`evaluation_story` narrates.
STORY_SECTIONS: tuple[str, ...] = (
    "overview", "data", "effect", "adjusted", "srm", "channels", "executors", "quality", "truth", "uplift",
    "comparison", "recommendation",
)
_USAGE = table("monthly_usage")
_MONTH = _USAGE.column("month").name
_ARPU = _USAGE.column("arpu").name
_BRAND = table("subscribers").column("brand").name
_TRUTH_FALLBACK = {"key_account": "outbound_call", "hall": "outbound_call"}


# ------------------------------------------------------------------ the campaign's terms
@dataclass(frozen=True)
class CampaignTerms:
    """What the evaluation needs from a campaign plan (a :class:`workbench.campaign.CampaignSpec` dict).

    Attributes
    ----------
    start, end : datetime.date
        The campaign period (both days included).
    response_window_days : int
        Days after the contact in which an order counts.
    control_share : float or None
        Planned share of the list in the control group.
    family : str
        Product family offered.
    free_months : int
        Free months of the offer.
    unit_costs : dict of str to float
        Cost of one contact attempt by channel (yuan).
    value_per_order : float or None
        Value of one incremental order (yuan).
    stable_months : int
        Months an order must be held to be a stable response.
    """

    start: dt.date
    end: dt.date
    response_window_days: int = 30
    control_share: float | None = None
    family: str = "mobile_newspaper"
    free_months: int = 1
    unit_costs: Mapping[str, float] = field(default_factory=dict)
    value_per_order: float | None = None
    stable_months: int = 3

    @property
    def days(self) -> int:
        """Days of the campaign period."""
        return (self.end - self.start).days + 1

    @property
    def snapshot(self) -> str:
        """``YYYY-MM`` of the last month complete before the campaign: the features' snapshot."""
        return (pd.Timestamp(self.start).to_period("M") - 1).strftime("%Y-%m")


def campaign_terms(spec: Mapping, **overrides) -> CampaignTerms:
    """The :class:`CampaignTerms` of a stored plan, with ``overrides`` taking precedence.

    Parameters
    ----------
    spec : mapping
        The plan as :meth:`workbench.store.Store.spec` returns it (the dict of
        a :class:`workbench.campaign.CampaignSpec`): ``goal.period_start``,
        ``goal.period_end``, ``response_window_days``, ``control_share``,
        ``offer.family``, ``offer.free_months``, ``channels[].unit_cost`` and
        ``value_per_order`` are read when present.
    **overrides
        Any field of :class:`CampaignTerms` (``start``, ``end`` as dates or text).

    Raises
    ------
    ParameterError
        The period is missing (and not overridden) or invalid, the family is
        unknown, or an override names no field.
    """
    if not isinstance(spec, Mapping):
        raise ParameterError.invalid("spec", "a mapping (the stored campaign plan)", type(spec).__name__)
    known = set(CampaignTerms.__dataclass_fields__)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParameterError.invalid("overrides", f"fields of CampaignTerms {sorted(known)}", unknown)
    goal = spec.get("goal") if isinstance(spec.get("goal"), Mapping) else {}
    offer = spec.get("offer") if isinstance(spec.get("offer"), Mapping) else {}
    values = {
        "start": goal.get("period_start"), "end": goal.get("period_end"),
        "response_window_days": spec.get("response_window_days", 30),
        "control_share": spec.get("control_share"),
        "family": offer.get("family") or (spec.get("product") if spec.get("product") in PRODUCT_FAMILIES
                                           else "mobile_newspaper"),
        "free_months": offer.get("free_months", 1),
        "unit_costs": {c["name"]: float(c.get("unit_cost", 0.0)) for c in spec.get("channels", ())
                       if isinstance(c, Mapping) and "name" in c},
        "value_per_order": spec.get("value_per_order"),
        "stable_months": spec.get("stable_months", 3),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("start", "end"):
        if values[key] is None:
            raise ParameterError(
                f"The campaign plan has no goal.period_{key} and no {key}= was given; pass the campaign period "
                f"(e.g. {key}='2026-11-02')."
            )
        values[key] = pd.Timestamp(_day(values[key], key)).date()
    if values["end"] < values["start"]:
        raise ParameterError.invalid("end", f"a day on or after the start ({values['start']})", str(values["end"]))
    if values["family"] not in PRODUCT_FAMILIES:
        raise ParameterError.invalid("family", f"one of {list(PRODUCT_FAMILIES)}", values["family"])
    values["response_window_days"] = _int_param(values["response_window_days"], "response_window_days", 0)
    values["free_months"] = _int_param(values["free_months"], "free_months", 0)
    values["stable_months"] = _int_param(values["stable_months"], "stable_months", 1)
    share = values["control_share"]
    if share is not None and not (isinstance(share, (int, float)) and 0 < share < 1):
        values["control_share"] = None   # no control planned (0) cannot be checked for a mismatch
    values["unit_costs"] = dict(values["unit_costs"])
    return CampaignTerms(**values)


# ------------------------------------------------------------------ the run folder
@dataclass
class CampaignRun:
    """A released campaign as the later steps of the loop find it in a run folder.

    Attributes
    ----------
    store : workbench.store.Store
        The campaign store (open; close it when done).
    campaign_id : int
    version : int or None
        The released version (None: the newest).
    run_dir : pathlib.Path
    simulation : SimulationRecord or None
        The simulated execution, when :func:`simulate_campaign` ran in this folder.
    """

    store: object
    campaign_id: int
    version: int | None
    run_dir: Path
    simulation: "SimulationRecord | None" = None

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def open_run(run_dir, *, progress: bool = False) -> CampaignRun:
    """Open the store of the campaign released in ``run_dir`` and read its simulation, if any.

    Raises
    ------
    FileNotFoundError
        When ``run_dir/campaign.json`` is missing (run template 04 first).
    """
    from workbench.campaign.planning import read_campaign_file
    from workbench.store import Store

    info = read_campaign_file(run_dir)
    missing = [k for k in ("campaign_id", "store_url") if k not in info]
    if missing:
        raise ParameterError(f"{Path(run_dir) / CAMPAIGN_FILE} lacks {missing}; run template 04_campaign_design "
                             "again to rewrite it.")
    store = Store(info["store_url"], progress=progress)
    simulation = read_simulation(Path(run_dir) / SIMULATION_DIR)
    if simulation is not None and (simulation.campaign_id, simulation.version) != (
            int(info["campaign_id"]), int(info.get("version") or simulation.version)):
        simulation = None   # a simulation of an earlier campaign of this folder
    version = info.get("version")
    return CampaignRun(store, int(info["campaign_id"]), None if version is None else int(version), Path(run_dir),
                       simulation)


# ------------------------------------------------------------------ simulated execution
@dataclass(frozen=True)
class SimulationRecord:
    """A simulated execution of a released campaign (see :func:`simulate_campaign`).

    Attributes
    ----------
    campaign_id, version : int
    start : datetime.date
        First day of the simulated execution.
    days : int
        Days of execution simulated (the plan's period, cut at yesterday).
    seed : int
    true_incremental : float
        Expected extra orders the contacts caused (from the truth).
    true_incremental_kept : float
        The same, still held three months later.
    true_incremental_rate : float
        ``true_incremental / n_treated``: the true lift of the target group's response rate.
    n_treated : int
        Target-group members.
    followup_end : datetime.date
        Last day simulated (the natural ``as_of`` of the evaluation).
    contacts_written, responses_written : int
        Rows recorded in the store.
    orders, arpu, exposure : pandas.DataFrame
        The simulated ``vas_orders`` events, the ARPU panel and the exposure
        (see :class:`~workbench.tracking.simulate.SimulatedOutcomes`).
    folder : pathlib.Path or None
        Where it was saved.
    """

    campaign_id: int
    version: int
    start: dt.date
    days: int
    seed: int
    true_incremental: float
    true_incremental_kept: float
    true_incremental_rate: float
    n_treated: int
    followup_end: dt.date
    contacts_written: int
    responses_written: int
    orders: pd.DataFrame
    arpu: pd.DataFrame
    exposure: pd.DataFrame
    folder: Path | None = None

    def summary(self) -> dict:
        """The scalar fields as a JSON-ready dict."""
        return {
            "campaign_id": self.campaign_id, "version": self.version, "start": self.start.isoformat(),
            "days": self.days, "seed": self.seed, "true_incremental": self.true_incremental,
            "true_incremental_kept": self.true_incremental_kept, "true_incremental_rate": self.true_incremental_rate,
            "n_treated": self.n_treated, "followup_end": self.followup_end.isoformat(),
            "contacts_written": self.contacts_written, "responses_written": self.responses_written,
        }

    def save(self, folder) -> Path:
        """Write :data:`SIMULATION_FILE` and the three tables (Parquet) to ``folder``; return the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.orders.to_parquet(folder / "orders.parquet", index=False)
        self.arpu.to_parquet(folder / "arpu.parquet", index=False)
        self.exposure.to_parquet(folder / "exposure.parquet", index=False)
        (folder / SIMULATION_FILE).write_text(json.dumps(self.summary(), indent=2) + "\n", encoding="utf-8")
        return folder


def read_simulation(folder) -> SimulationRecord | None:
    """The :class:`SimulationRecord` saved in ``folder``, or None when there is none."""
    folder = Path(folder)
    path = folder / SIMULATION_FILE
    if not path.is_file():
        return None
    s = json.loads(path.read_text(encoding="utf-8"))
    return SimulationRecord(
        campaign_id=int(s["campaign_id"]), version=int(s["version"]), start=dt.date.fromisoformat(s["start"]),
        days=int(s["days"]), seed=int(s["seed"]), true_incremental=float(s["true_incremental"]),
        true_incremental_kept=float(s["true_incremental_kept"]),
        true_incremental_rate=float(s["true_incremental_rate"]), n_treated=int(s["n_treated"]),
        followup_end=dt.date.fromisoformat(s["followup_end"]), contacts_written=int(s["contacts_written"]),
        responses_written=int(s["responses_written"]), orders=pd.read_parquet(folder / "orders.parquet"),
        arpu=pd.read_parquet(folder / "arpu.parquet"), exposure=pd.read_parquet(folder / "exposure.parquet"),
        folder=folder,
    )


def _truth_frame(truth, ids: np.ndarray | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The truth as a DataFrame (a folder is read with :func:`workbench.data.synth.load_truth`)."""
    if isinstance(truth, pd.DataFrame):
        frame = truth
    elif isinstance(truth, (str, os.PathLike)):
        from workbench.data.synth import load_truth, truth_schema

        wanted = None if columns is None else [c for c in columns if c in truth_schema().names]
        frame, _ = load_truth(truth, columns=wanted)
    else:
        raise ParameterError.invalid("truth", "a truth folder (written by `workbench sample`) or a DataFrame",
                                     type(truth).__name__)
    _require(frame, "truth", (SUBSCRIBER_ID, "p_order_base"))
    if ids is not None:
        frame = frame[frame[SUBSCRIBER_ID].isin(ids)]
    return frame.reset_index(drop=True)


def _quiet_connection(source):
    """A DuckDB connection over ``source`` without DuckDB's progress bar (a widget in a notebook's report)."""
    from workbench.data import connect

    con = connect(source)
    con.execute("SET enable_progress_bar = false")
    return con


def _catalogue(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM vas_products").df()


def _arpu_levels(con, ids: np.ndarray, start: dt.date, months: int = 3) -> pd.Series:
    """Mean monthly ARPU of the members over the ``months`` months before the campaign month."""
    first = pd.Timestamp(start).to_period("M").to_timestamp()
    lo = first - pd.DateOffset(months=months)
    con.register("_wb_members", pd.DataFrame({SUBSCRIBER_ID: ids}))
    try:
        level = con.execute(
            f"SELECT u.{SUBSCRIBER_ID}, avg(u.{_ARPU}) AS {_ARPU} FROM monthly_usage u "
            f"JOIN _wb_members m USING ({SUBSCRIBER_ID}) "
            f"WHERE u.{_MONTH} >= ? AND u.{_MONTH} < ? GROUP BY u.{SUBSCRIBER_ID}",
            [lo.to_pydatetime(), first.to_pydatetime()],
        ).df()
    finally:
        con.unregister("_wb_members")
    return pd.Series(level[_ARPU].to_numpy(float), index=level[SUBSCRIBER_ID].to_numpy(np.int64), name=_ARPU)


def simulate_campaign(store, campaign_id: int, source, truth, *, version: int | None = None, start=None,
                      days: int | None = None, today=None, seed: int = 0, daily_capacity: int = 80,
                      coverage: float = 1.0, user=None, out_dir=None, progress: bool = True) -> SimulationRecord:
    """Simulate the execution of a released campaign and record it in the store.

    The members come from the store (target and control), the plan's period
    and response window from the stored spec.  Executors' contact attempts are
    simulated (:func:`~workbench.tracking.simulate.simulate_execution`), the
    members' orders, unsubscribes and ARPU drawn from the ground truth
    (:func:`~workbench.tracking.simulate.simulate_outcomes`), and the contacts
    and the attributed responses written through the store's API
    (:func:`~workbench.tracking.simulate.write_simulated`; running it again
    records nothing twice).

    Parameters
    ----------
    store : workbench.store.Store
    campaign_id : int
    source : path, mapping or Source
        The province (``vas_products`` and ``monthly_usage`` are read).
    truth : path or pandas.DataFrame
        The province's ground truth (folder written by ``workbench sample``).
    version : int, optional
        Released version (default: the newest).
    start : date, optional
        First day of execution (default: the plan's ``goal.period_start``).
    days : int, optional
        Days of execution (default: the plan's period).  The store refuses
        contacts in the future, so the period is cut at the day before
        ``today``.
    today : date, optional
        Default: today's date.
    seed : int, default 0
    daily_capacity, coverage
        As :func:`~workbench.tracking.simulate.simulate_execution`.
    user : workbench.store.User, optional
        The acting user (default the command line's ``SYSTEM_USER``).
    out_dir : path, optional
        Save the record there (see :meth:`SimulationRecord.save`).
    progress : bool, default True

    Returns
    -------
    SimulationRecord

    Raises
    ------
    ParameterError
        The period has not started before ``today``, or as the simulator's functions.
    """
    from workbench.store import SYSTEM_USER
    from workbench.tracking.simulate import simulate_execution, simulate_outcomes, write_simulated

    actor = SYSTEM_USER if user is None else user
    spec = store.spec(actor, campaign_id, version)
    members = store.worklist(actor, campaign_id, version=version, include_control=True)
    number = int(members["version"].iloc[0]) if len(members) else int(version or 1)
    terms = campaign_terms(spec, **({"start": start} if start is not None else {}))
    first = terms.start
    n_days = terms.days if days is None else _int_param(days, "days", 1)
    today = dt.date.today() if today is None else pd.Timestamp(_day(today, "today")).date()
    passed = (today - first).days
    if passed < 1:
        raise ParameterError(
            f"The campaign period starts on {first}, which is not before today ({today}): the store accepts only "
            "past contacts. Plan the campaign in the past to simulate it (e.g. start 2026-11-02)."
        )
    n_days = min(n_days, passed)
    ids = members[SUBSCRIBER_ID].to_numpy(np.int64)
    truth_rows = _truth_frame(truth, ids)
    with _quiet_connection(source) as con:
        products = _catalogue(con)
        levels = _arpu_levels(con, ids, first)
    contacts = simulate_execution(members, start=first, days=n_days, daily_capacity=daily_capacity,
                                  coverage=coverage, seed=seed)
    outcomes = simulate_outcomes(members, contacts, truth_rows, campaign_start=first,
                                 response_window_days=terms.response_window_days, seed=seed + 1,
                                 family=terms.family, products=products, arpu_level=levels)
    attribution = attribute_responses(members, contacts, outcomes.orders, campaign_start=first,
                                      response_window_days=terms.response_window_days,
                                      stable_months=terms.stable_months, as_of=outcomes.followup_end,
                                      family=terms.family, products=products)
    written = write_simulated(store, campaign_id, contacts, attribution, user=actor, version=number,
                              progress=progress)
    record = SimulationRecord(
        campaign_id=int(campaign_id), version=number, start=first, days=int(n_days), seed=int(seed),
        true_incremental=float(outcomes.true_incremental), true_incremental_kept=float(outcomes.true_incremental_kept),
        true_incremental_rate=float(outcomes.true_incremental_rate), n_treated=int(outcomes.n_treated),
        followup_end=outcomes.followup_end.date(), contacts_written=int(written["contacts_written"]),
        responses_written=int(written["responses_written"]), orders=outcomes.orders, arpu=outcomes.arpu,
        exposure=outcomes.exposure,
    )
    if out_dir is not None:
        record = dataclasses.replace(record, folder=record.save(out_dir))
    return record


def run_simulation_step(data, run_dir, *, seed: int = 0, progress: bool = True) -> SimulationRecord:
    """The demo's ``simulate`` step: simulate the campaign template 04 released in ``run_dir``.

    The truth is the province's default truth folder (``<data>_truth``); the
    record is saved to ``run_dir/simulation/``.

    Raises
    ------
    FileNotFoundError
        When ``run_dir/campaign.json`` or the truth folder is missing.
    """
    from workbench.data.synth import default_truth_folder

    truth = default_truth_folder(data)
    if not (Path(truth) / "subscriber_truth.parquet").is_file():
        raise FileNotFoundError(f"no ground truth in {str(truth)!r}: the simulated execution needs the truth that "
                                "`workbench sample` writes next to the province")
    run = open_run(run_dir, progress=progress)
    try:
        return simulate_campaign(run.store, run.campaign_id, data, truth, version=run.version, seed=seed,
                                 out_dir=Path(run_dir) / SIMULATION_DIR, progress=progress)
    finally:
        run.close()


def demo_simulate(data, run_dir, *, progress: bool = False) -> str:
    """The demo's ``simulate`` step (:func:`run_simulation_step`); returns the line the demo prints."""
    from workbench.i18n import t

    record = run_simulation_step(data, run_dir, progress=progress)
    return t("t06.demo.simulated", contacts=record.contacts_written, responses=record.responses_written,
             start=record.start.isoformat(), days=record.days, path=str(record.folder))


# ------------------------------------------------------------------ evaluation
@dataclass
class CampaignEvaluation:
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

    campaign_id: int
    version: int
    name: str
    terms: CampaignTerms
    as_of: pd.Timestamp
    members: pd.DataFrame
    contacts: pd.DataFrame
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


def _member_orders(con, ids: np.ndarray, family_products: list[str], extra: pd.DataFrame | None) -> pd.DataFrame:
    """The family's order records of the members: the source's, then ``extra`` (e.g. simulated)."""
    from workbench.tracking.attribution import ORDER_COLUMNS

    con.register("_wb_members", pd.DataFrame({SUBSCRIBER_ID: ids}))
    try:
        cols = ", ".join(f"o.{c}" for c in ORDER_COLUMNS)
        observed = con.execute(
            f"SELECT {cols} FROM vas_orders o JOIN _wb_members m USING ({SUBSCRIBER_ID}) "
            f"WHERE o.{PRODUCT_ID} IN (SELECT unnest(?))", [family_products],
        ).df()
    finally:
        con.unregister("_wb_members")
    parts = [observed]
    if extra is not None and len(extra):
        _require(extra, "orders", ORDER_COLUMNS)
        mine = extra[extra[SUBSCRIBER_ID].isin(ids) & extra[PRODUCT_ID].isin(family_products)]
        parts.append(mine[list(ORDER_COLUMNS)])
    orders = pd.concat([p for p in parts if len(p)] or [observed], ignore_index=True)
    orders["event_date"] = pd.to_datetime(orders["event_date"])
    for col in (PRODUCT_ID, "event_type", "channel"):
        orders[col] = orders[col].astype("str")
    return orders


def _executor_results(members: pd.DataFrame, control_rate: Mapping) -> pd.DataFrame:
    """Per assigned executor (target members): contacts, reach, acceptance and responses."""
    target = members[members["group"] == TARGET].copy()
    target["_executor"] = target["executor"].astype(object).where(target["executor"].notna(), "")
    grouped = target.groupby(["_executor", BRANCH_ID], sort=True, dropna=False).agg(
        members=(SUBSCRIBER_ID, "size"), attempts=("attempts", "sum"), contacted=("contacted", "sum"),
        reached=("reached", "sum"), accepted=("accepted", "sum"), responders=("responded", "sum"),
    ).reset_index()
    grouped = grouped.rename(columns={"_executor": "executor"})
    grouped["executor"] = grouped["executor"].where(grouped["executor"] != "", None)
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
    from workbench.store import SYSTEM_USER
    from workbench.tracking.quality import arpu_did, product_trend, retention_table, unsubscribe_table

    actor = SYSTEM_USER if user is None else user
    spec = store.spec(actor, campaign_id, version)
    t = campaign_terms(spec, **terms)
    cutoff = pd.Timestamp(_day(as_of, "as_of"))
    listed = store.worklist(actor, campaign_id, version=version, include_control=True)
    if listed.empty:
        raise ParameterError(f"campaign {campaign_id} has no members to evaluate")
    number = int(listed["version"].iloc[0])
    contacts = store.contact_results(actor, campaign_id)
    member_cols = [c for c in ("member_id", SUBSCRIBER_ID, BRANCH_ID, "group", "score", "score_band", "channel",
                               "executor", "edition") if c in listed.columns]
    members = listed[member_cols].reset_index(drop=True)
    ids = members[SUBSCRIBER_ID].to_numpy(np.int64)
    notes: list[str] = []

    with _quiet_connection(source) as con:
        products = _catalogue(con)
        family_products = products.loc[products[FAMILY] == t.family, PRODUCT_ID].astype(str).tolist()
        records = _member_orders(con, ids, family_products, orders)
        if arpu is None:
            con.register("_wb_members", pd.DataFrame({SUBSCRIBER_ID: ids}))
            try:
                arpu = con.execute(f"SELECT u.{SUBSCRIBER_ID}, u.{_MONTH}, u.{_ARPU} FROM monthly_usage u "
                                   f"JOIN _wb_members m USING ({SUBSCRIBER_ID})").df()
            finally:
                con.unregister("_wb_members")
    attribution = attribute_responses(members, contacts, records, campaign_start=t.start,
                                      response_window_days=t.response_window_days, stable_months=t.stable_months,
                                      as_of=cutoff, family=t.family, products=products)
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
    if features is None and (wanted or _BRAND not in m.columns):
        from workbench.features import build_features

        with _quiet_connection(source) as con:
            features = build_features(con, t.snapshot)
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
        raise ParameterError(f"campaign {campaign_id} has {'no control' if target.all() else 'no target'} group: "
                             "an effect needs both a contacted and a held-out group")
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
    sim = (orders is not None) if simulated is None else bool(simulated)
    try:
        with _quiet_connection(source) as con:
            trend = product_trend(con, orders if sim else None, campaign_start=t.start, campaign_end=t.end,
                                  family=t.family, end=None if sim else cutoff.strftime("%Y-%m"),
                                  products=products if sim else None)
    except ParameterError:
        trend = None
        notes.append("no_trend")
    return CampaignEvaluation(
        campaign_id=int(campaign_id), version=number, name=str(spec.get("name", "")), terms=t, as_of=cutoff,
        members=m, contacts=contacts, effect=effect, by=by, srm=srm, srm_by_branch=srm_by_branch,
        executors=executors, retention=retention, unsubscribes=unsubscribes, did=did, trend=trend,
        covariates=covs, notes=notes, features=features,
    )


def truth_check(evaluation: CampaignEvaluation, simulation: SimulationRecord) -> dict:
    """Does the evaluation recover the simulator's true incremental effect?

    The simulator knows the expected extra orders its contacts caused
    (:attr:`SimulationRecord.true_incremental`); the evaluation estimates them
    from the target and control groups alone.

    Returns
    -------
    dict
        ``true_rate``, ``estimate``, ``ci_low``, ``ci_high``, ``inside`` (the
        95 % interval of the lift covers the true lift), ``true_incremental``,
        ``incremental``, ``incremental_low``, ``incremental_high``, and the same
        for the CUPED estimate (``cuped_*``) when computed.

    Raises
    ------
    ParameterError
        When the simulation is of another campaign or version.
    """
    if (simulation.campaign_id, simulation.version) != (evaluation.campaign_id, evaluation.version):
        raise ParameterError(
            f"The simulation is of campaign {simulation.campaign_id} version {simulation.version}; the evaluation "
            f"of campaign {evaluation.campaign_id} version {evaluation.version}."
        )
    row = evaluation.effect_row("responded")
    true_rate = float(simulation.true_incremental_rate)
    out = {
        "true_rate": true_rate, "estimate": float(row["abs_lift"]), "ci_low": float(row["abs_ci_low"]),
        "ci_high": float(row["abs_ci_high"]),
        "inside": bool(row["abs_ci_low"] <= true_rate <= row["abs_ci_high"]),
        "true_incremental": float(simulation.true_incremental), "incremental": float(row["incremental"]),
        "incremental_low": float(row["incremental_ci_low"]), "incremental_high": float(row["incremental_ci_high"]),
    }
    if "cuped_lift" in row.index and pd.notna(row["cuped_lift"]):
        out.update({"cuped_estimate": float(row["cuped_lift"]), "cuped_ci_low": float(row["cuped_ci_low"]),
                    "cuped_ci_high": float(row["cuped_ci_high"]),
                    "cuped_inside": bool(row["cuped_ci_low"] <= true_rate <= row["cuped_ci_high"])})
    return out


# ------------------------------------------------------------------ the uplift model
@dataclass
class UpliftResult:
    """An uplift model learned from a campaign and its quality on held-out members.

    Attributes
    ----------
    method : str
        ``"two_model"`` or ``"transformed_outcome"``.
    model : estimator
        Fitted on the training members only (the curves are of the others).
    final_model : estimator
        Fitted on every member (what the next round would use).
    columns : list of str
        Its input columns.
    n_train, n_test : int
    qini, auuc : float
        Normalised Qini coefficient and AUUC on the held-out members (1 = perfect, 0 = random).
    qini_low, qini_high : float
        Percentile bootstrap interval of the Qini coefficient (resampling the held-out members).
    qini_curve, perfect_qini, uplift_curve : pandas.DataFrame
        :mod:`workbench.metrics.uplift` curves on the held-out members.
    by_bin : pandas.DataFrame
        Uplift by decile of the predicted uplift on the held-out members.
    """

    method: str
    model: object
    final_model: object
    columns: list
    n_train: int
    n_test: int
    qini: float
    auuc: float
    qini_low: float
    qini_high: float
    qini_curve: pd.DataFrame
    perfect_qini: pd.DataFrame
    uplift_curve: pd.DataFrame
    by_bin: pd.DataFrame


def _feature_table(features: pd.DataFrame) -> pd.DataFrame:
    return features.set_index(SUBSCRIBER_ID) if SUBSCRIBER_ID in features.columns else features


def _qini_interval(score, treatment, y, *, n_boot: int, alpha: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of the normalised Qini coefficient."""
    from workbench.metrics.uplift import qini_coefficient

    rng = np.random.default_rng(seed)
    n = len(score)
    values = []
    for _ in range(n_boot):
        k = rng.integers(0, n, n)
        t, yy = treatment[k], y[k]
        if t.all() or not t.any() or not yy[t].any() or not yy[~t].any():
            continue
        q = qini_coefficient(score[k], t, yy)
        if np.isfinite(q):
            values.append(q)
    if len(values) < max(10, n_boot // 2):
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def fit_uplift(evaluation: CampaignEvaluation, features: pd.DataFrame | None = None, *, method: str = "two_model",
               feature_columns: Sequence[str] | None = None, outcome: str = "responded", test_size: float = 0.3,
               bins: int = 10, seed: int = 0, refit: bool = True, n_boot: int = 100, alpha: float = 0.05,
               on_error: str = "raise", **params) -> UpliftResult | None:
    """Learn who is persuadable from a campaign: fit on part of the members, measure on the rest.

    Parameters
    ----------
    evaluation : CampaignEvaluation
        The campaign's members, groups and attributed responses.
    features : pandas.DataFrame, optional
        Features at the campaign snapshot (indexed by ``subscriber_id``; default
        the evaluation's); the members' look-alike ``score`` is added as a feature.
    method : {"two_model", "transformed_outcome"}
    feature_columns : sequence of str, optional
        Feature columns used (default all).
    outcome : str, default "responded"
    test_size : float, default 0.3
        Share of members held out (stratified by group and outcome).
    bins : int, default 10
    seed : int, default 0
    refit : bool, default True
        Also fit :attr:`UpliftResult.final_model` on every member (otherwise it
        is the training model).
    n_boot : int, default 100
        Bootstrap resamples of the held-out members for the Qini interval.
    alpha : float, default 0.05
        ``1 - alpha`` is the coverage of the Qini interval.
    on_error : {"raise", "none"}, default "raise"
        With ``"none"`` a campaign too small to learn from (a group without
        responders in the training part, too few rows) gives None instead of
        an error, so a report can say so.
    **params
        Passed to the estimator (e.g. ``n_jobs=1``).

    Returns
    -------
    UpliftResult or None

    Raises
    ------
    ParameterError
        An unknown method or ``on_error``, missing features, or (with
        ``on_error="raise"``) too few members or responders.
    """
    from workbench.metrics.uplift import auuc, perfect_qini_curve, qini_coefficient, qini_curve, uplift_by_bin, \
        uplift_curve
    from workbench.models.uplift import UPLIFT_METHODS, make_uplift_model, uplift_training_data

    if on_error not in ("raise", "none"):
        raise ParameterError.invalid("on_error", "'raise' or 'none'", on_error)
    if method not in UPLIFT_METHODS:
        raise ParameterError.invalid("method", f"one of {list(UPLIFT_METHODS)}", method)
    features = evaluation.features if features is None else features
    if features is None:
        raise ParameterError("fit_uplift needs the features of the campaign snapshot: pass features= or evaluate "
                             "with them (evaluate_campaign(features=...)).")
    data = uplift_training_data(evaluation.members, _feature_table(features), outcome=outcome,
                                feature_columns=feature_columns)
    try:
        train, test = data.split(test_size=test_size, random_state=seed)
        model = make_uplift_model(method, random_state=seed, **params).fit(train.X, train.y, train.treatment)
        final = make_uplift_model(method, random_state=seed, **params).fit(data.X, data.y, data.treatment) \
            if refit else model
        score = model.predict(test.X)
        qini = qini_coefficient(score, test.treatment, test.y)
        curves = (qini_curve(score, test.treatment, test.y), perfect_qini_curve(test.treatment, test.y),
                  uplift_curve(score, test.treatment, test.y))
    except ParameterError:
        if on_error == "none":
            return None
        raise
    lo, hi = _qini_interval(score, test.treatment, test.y, n_boot=n_boot, alpha=alpha, seed=seed)
    return UpliftResult(
        method=method, model=model, final_model=final, columns=list(data.X.columns), n_train=len(train),
        n_test=len(test), qini=qini, auuc=auuc(score, test.treatment, test.y), qini_low=lo, qini_high=hi,
        qini_curve=curves[0], perfect_qini=curves[1], uplift_curve=curves[2],
        by_bin=uplift_by_bin(score, test.treatment, test.y, bins=min(bins, len(test))),
    )


def uplift_figures(uplift: UpliftResult | None, lang: str | None = None) -> list:
    """The Qini curve (with the perfect and random curves) and the uplift by decile; none without a model."""
    if uplift is None:
        return []
    from workbench.i18n import get_language, t
    from workbench.viz.effect import curve_figure, uplift_by_bin_figure

    lang = lang or get_language()
    name = t(f"t06.method.{uplift.method}", lang=lang)
    return [curve_figure({name: _thin(uplift.qini_curve)}, kind="qini", perfect=_thin(uplift.perfect_qini),
                         lang=lang),
            uplift_by_bin_figure(uplift.by_bin, lang=lang)]


def _thin(curve: pd.DataFrame, points: int = 500) -> pd.DataFrame:
    """At most about ``points`` rows of a curve, evenly spread, first and last kept (a figure needs no more)."""
    if len(curve) <= points:
        return curve
    keep = np.unique(np.r_[np.linspace(0, len(curve) - 1, points).round().astype(np.int64), len(curve) - 1])
    return curve.iloc[keep]


def _channel_mix(evaluation: CampaignEvaluation) -> tuple[dict, dict]:
    """The target group's channel shares and the observed reach rate of each channel."""
    target = evaluation.members[evaluation.members["group"] == TARGET]
    share = target["channel"].value_counts(normalize=True).to_dict()
    reach = target.groupby("channel")["reached"].mean().to_dict()
    return share, reach


def next_campaign_comparison(evaluation: CampaignEvaluation, uplift, candidates: pd.DataFrame, truth, *,
                             size: int | None = None, pool_factor: float = 2.0, score_col: str = "score",
                             channel_mix: Mapping[str, float] | None = None, reach: Mapping[str, float] | None = None,
                             per: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Expected incremental orders of a next campaign chosen by propensity vs by uplift, from the truth.

    The next campaign contacts ``size`` people (default: as many as this
    campaign's target group) from a pool: the ``pool_factor x size`` best
    look-alike scores among the candidates (the uplift model was learned on a
    look-alike list, so it re-ranks such a pool rather than the whole base).
    Four lists are compared:

    ``propensity``  the ``size`` best look-alike scores (today's method);
    ``uplift``      the ``size`` highest predicted uplifts of the pool;
    ``random``      ``size`` people of the pool at random (the floor);
    ``oracle``      the ``size`` highest *true* uplifts of the pool (the ceiling).

    Each listed person is contacted through the channel mix of this campaign and
    reached with each channel's observed reach rate, so their expected extra
    orders are ``sum_c share_c x reach_c x (p_order_c - p_order_base)`` from the
    ground truth (channels without a truth column use the outbound call's, as
    the simulator does).

    Parameters
    ----------
    evaluation : CampaignEvaluation
        This campaign (its size, channel mix and reach).
    uplift : UpliftResult or fitted uplift estimator
        The model ranking the ``uplift`` list (an :class:`UpliftResult`'s ``final_model``).
    candidates : pandas.DataFrame
        Who could be targeted, indexed by ``subscriber_id`` (or with that
        column): the model's input columns, including ``score_col``.
    truth : path or pandas.DataFrame
        The ground truth (``p_order_base``, ``p_order_<channel>``).
    size : int, optional
    pool_factor : float, default 2.0
        Pool = the best ``pool_factor x size`` scores (>= 1).
    score_col : str, default "score"
        The look-alike score column of ``candidates``.
    channel_mix, reach : mapping, optional
        Override this campaign's channel shares / reach rates.
    per : int, default 10_000
        Report incremental orders per this many contacts.
    seed : int, default 0
        Seed of the random list.

    Returns
    -------
    pandas.DataFrame
        One row per strategy of :data:`STRATEGIES`, columns :data:`COMPARISON_COLUMNS`.

    Raises
    ------
    ParameterError
        A missing score column, a pool smaller than the list, a bad
        ``pool_factor``, or a truth without the channels' columns.
    """
    model = uplift.final_model if isinstance(uplift, UpliftResult) else uplift
    cand = _feature_table(candidates)
    if score_col not in cand.columns:
        raise ParameterError(f"The candidates must have the look-alike score column {score_col!r}; "
                             f"got columns {list(cand.columns)[:12]} ...")
    if not (isinstance(pool_factor, (int, float)) and pool_factor >= 1):
        raise ParameterError.invalid("pool_factor", "a number >= 1", pool_factor)
    n_list = int((evaluation.members["group"] == TARGET).sum()) if size is None else _int_param(size, "size", 1)
    n_pool = min(len(cand), int(round(pool_factor * n_list)))
    if n_pool < n_list:
        raise ParameterError(f"Only {len(cand)} candidates for a list of {n_list}: pass fewer (size=) or more "
                             "candidates.")
    ids = cand.index.to_numpy(np.int64)
    score = pd.to_numeric(cand[score_col], errors="coerce").fillna(-np.inf).to_numpy(float)
    order = np.lexsort((ids, -score))
    pool = order[:n_pool]
    share, observed_reach = _channel_mix(evaluation)
    share = dict(channel_mix or share)
    reach_rate = {**observed_reach, **dict(reach or {})}
    columns = ["p_order_base", *{f"p_order_{_TRUTH_FALLBACK.get(c, c)}" for c in share}]
    tr = _truth_frame(truth, ids[pool], columns=[SUBSCRIBER_ID, *columns])
    missing = [c for c in columns if c not in tr.columns]
    if missing:
        raise ParameterError(f"The truth lacks the columns {missing} of the campaign's channels {sorted(share)}.")
    tpos = pd.Index(tr[SUBSCRIBER_ID].to_numpy(np.int64)).get_indexer(ids[pool])
    if (tpos < 0).any():
        raise ParameterError(f"The truth has no row for {int((tpos < 0).sum())} candidates; pass the truth of the "
                             "same province.")
    tr = tr.iloc[tpos].reset_index(drop=True)
    base = tr["p_order_base"].to_numpy(float)
    gain = np.zeros(len(pool))
    for ch, w in share.items():
        col = f"p_order_{_TRUTH_FALLBACK.get(ch, ch)}"
        gain += float(w) * float(reach_rate.get(ch, 0.0)) * (tr[col].to_numpy(float) - base)
    predicted = model.predict(cand.iloc[pool])
    rng = np.random.default_rng(seed)
    picks = {
        "propensity": np.arange(n_list),                                   # the pool is in score order
        "uplift": np.lexsort((ids[pool], -predicted))[:n_list],
        "random": np.sort(rng.choice(n_pool, size=n_list, replace=False)),
        "oracle": np.lexsort((ids[pool], -gain))[:n_list],
    }
    rows = []
    for name in STRATEGIES:
        k = picks[name]
        inc = float(gain[k].sum())
        rows.append({
            "strategy": name, "contacts": n_list, "expected_orders": float((base[k] + gain[k]).sum()),
            "expected_incremental": inc, "incremental_per_10k": inc / n_list * per,
            "sleeping_dogs_share": float((gain[k] < 0).mean()), "mean_score": float(score[pool][k].mean()),
        })
    out = pd.DataFrame(rows)
    first = out.loc[out["strategy"] == "propensity", "expected_incremental"].iloc[0]
    out["vs_propensity"] = out["expected_incremental"] / first if first > 0 else np.nan
    out.attrs.update({"pool": n_pool, "per": per, "channel_mix": share, "reach": reach_rate})
    return out[list(COMPARISON_COLUMNS)]


def evaluate_run(run: CampaignRun, data, *, as_of=None, progress: bool = False, **options) -> CampaignEvaluation:
    """Evaluate the campaign of a run folder (template 06): the simulated months when there are any.

    Parameters
    ----------
    run : CampaignRun
        From :func:`open_run`.
    data : path
        The province.
    as_of : date, optional
        Default: the last simulated day when the campaign's execution was
        simulated, else today.
    progress : bool, default False
    **options
        Passed to :func:`evaluate_campaign` (e.g. ``covariates=``, or ``features=`` already built).

    Returns
    -------
    CampaignEvaluation
        With the features of the campaign snapshot (:func:`~workbench.features.build_features`).
    """
    sim = run.simulation
    day = as_of or (sim.followup_end if sim is not None else dt.date.today())
    extra = {"orders": sim.orders, "arpu": sim.arpu} if sim is not None else {}
    return evaluate_campaign(run.store, run.campaign_id, data, as_of=day, version=run.version, progress=progress,
                             **extra, **options)


def next_round_candidates(run_dir, evaluation: CampaignEvaluation, *, score_col: str = "score") -> pd.DataFrame:
    """Who the next campaign could target: template 03's scored users with their snapshot features.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``subscriber_id``: the evaluation's feature columns and ``score_col``.

    Raises
    ------
    FileNotFoundError
        When ``run_dir/scores.parquet`` is missing (run template 03 first).
    ParameterError
        When the evaluation carries no features, or the scores lack ``score_col``.
    """
    from workbench.campaign.planning import read_scores

    if evaluation.features is None:
        raise ParameterError("The evaluation carries no snapshot features; evaluate with evaluate_run() or "
                             "evaluate_campaign(features=...).")
    scores = read_scores(run_dir)
    _require(scores, "scores", (SUBSCRIBER_ID, score_col))
    feats = _feature_table(evaluation.features)
    ids = scores[SUBSCRIBER_ID].to_numpy(np.int64)
    pos = pd.Index(feats.index).get_indexer(ids)
    keep = pos >= 0
    out = feats.iloc[pos[keep]].copy()
    out[score_col] = pd.to_numeric(scores[score_col], errors="coerce").to_numpy(float)[keep]
    out.index = pd.Index(ids[keep], name=SUBSCRIBER_ID)
    return out


def compare_next_round(evaluation: CampaignEvaluation, uplift: UpliftResult | None, run_dir, data, *, truth=None,
                       pool_factor: float = 2.0, seed: int = 0) -> pd.DataFrame | None:
    """:func:`next_campaign_comparison` for a run folder, or None when it cannot be made.

    It needs an uplift model, the ground truth (``truth``, default ``<data>_truth`` when it
    exists: a synthetic province) and template 03's scores in ``run_dir``.
    """
    from workbench.data.synth import TRUTH_FILE, default_truth_folder

    folder = Path(truth) if truth else default_truth_folder(data)
    if uplift is None or not (folder / TRUTH_FILE).is_file() or not (Path(run_dir) / SCORES_FILE).is_file():
        return None
    candidates = next_round_candidates(run_dir, evaluation)
    return next_campaign_comparison(evaluation, uplift, candidates, folder, pool_factor=pool_factor, seed=seed)


def run_truth_check(run: CampaignRun, evaluation: CampaignEvaluation) -> dict | None:
    """:func:`truth_check` of the run's simulated execution, or None for a campaign that was not simulated."""
    return None if run.simulation is None else truth_check(evaluation, run.simulation)


# ------------------------------------------------------------------ the report's numbers
def _label(prefix: str, value, lang: str) -> str:
    from workbench.i18n import catalogue

    key = f"{prefix}.{value}"
    entry = catalogue().get(key)
    return entry[lang] if entry else str(value)


def _branch(value, lang: str) -> str:
    from workbench.data.tables import BRANCHES

    names = {b[0]: (b[1] if lang == "zh" else b[2]) for b in BRANCHES}
    return names.get(value, str(value))


def _dimension_value(dimension: str, value, lang: str) -> str:
    from workbench.i18n import t

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return t("t06.executor.unassigned", lang=lang)
    if dimension == "branch":
        return _branch(value, lang)
    if dimension == "channel":
        return _label("channel", value, lang)
    if dimension == "score_decile":
        return t("t06.value.decile", lang=lang, decile=int(value))
    if dimension == "brand":
        return _label("brand", value, lang)
    return str(value)


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def evaluation_story(evaluation: CampaignEvaluation, section: str, lang: str | None = None, *,
                     simulation: SimulationRecord | None = None, truth: dict | None = None,
                     uplift: UpliftResult | None = None, comparison: pd.DataFrame | None = None) -> tuple[str, dict]:
    """The narrative of template 06 for one section: its catalogue key and values.

    Parameters
    ----------
    evaluation : CampaignEvaluation
    section : str
        One of :data:`STORY_SECTIONS`.
    lang : {"zh", "en"}, optional
        Language of names (channels, branches, ...); the current one when omitted.
    simulation : SimulationRecord, optional
        For section ``data``: the simulated execution (None: recorded by the executors).
    truth : dict, optional
        :func:`truth_check` output (section ``truth``; without it the section
        says the campaign was not simulated).
    uplift : UpliftResult, optional
        For sections ``uplift`` (without it: too little data for a model) and ``recommendation``.
    comparison : pandas.DataFrame, optional
        :func:`next_campaign_comparison` output (sections ``comparison`` and
        ``recommendation``; without it the section says why there is none).

    Returns
    -------
    tuple
        ``(key, values)`` for ``narrate(key, **values)``; the key depends on the
        numbers (e.g. ``t06.effect.significant`` or ``t06.effect.not_significant``).

    Raises
    ------
    ParameterError
        An unknown section, or a section whose input was not given.
    """
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if section not in STORY_SECTIONS:
        raise ParameterError.invalid("section", f"one of {list(STORY_SECTIONS)}", section)
    h = evaluation.headline
    terms = evaluation.terms
    product = t(f"family.{terms.family}", lang=lang)
    if section == "overview":
        return "t06.overview.story", {
            "name": evaluation.name, "product": product, "start": terms.start.isoformat(), "end": terms.end.isoformat(),
            "as_of": evaluation.as_of.date().isoformat(), "members": h["members"], "target": h["target"],
            "control": h["control"], "contacted": h["contacted"], "reached": h["reached"],
            "reach_rate": h["reached"] / h["target"] if h["target"] else float("nan"),
            "window": terms.response_window_days,
        }
    if section == "data":
        if simulation is None:
            return "t06.data.recorded", {"contacts": int(len(evaluation.contacts)), "as_of": evaluation.as_of.date()
                                         .isoformat()}
        return "t06.data.simulated", {"start": simulation.start.isoformat(), "days": simulation.days,
                                      "contacts": int(len(evaluation.contacts)),
                                      "responses": int(evaluation.members["responded"].sum()),
                                      "followup_end": simulation.followup_end.isoformat()}
    if section == "effect":
        values = {
            "rate_target": h["rate_target"], "rate_control": h["rate_control"], "lift": h["lift"],
            "lift_low": h["lift_low"], "lift_high": h["lift_high"], "rel_lift": h["rel_lift"], "p_value": h["p_value"],
            "incremental": h["incremental"], "incremental_low": h["incremental_low"],
            "incremental_high": h["incremental_high"], "cost": h["cost"],
        }
        if h["lift_low"] > 0:
            return "t06.effect.significant", {**values, "incremental_stable": h["incremental_stable"],
                                              "cost_per_incremental": h["cost_per_incremental"]}
        return "t06.effect.not_significant", values
    if section == "adjusted":
        row = evaluation.effect_row("responded")
        if not evaluation.covariates or "cuped_lift" not in row.index or pd.isna(row.get("cuped_lift")):
            return "t06.adjusted.none", {}
        return "t06.adjusted.story", {
            "covariates": ", ".join(evaluation.covariates), "lift": h["lift"], "cuped": float(row["cuped_lift"]),
            "cuped_low": float(row["cuped_ci_low"]), "cuped_high": float(row["cuped_ci_high"]),
            "reg": float(row["reg_lift"]), "reg_low": float(row["reg_ci_low"]), "reg_high": float(row["reg_ci_high"]),
            "variance_reduction": float(row["cuped_variance_reduction"]),
        }
    if section == "srm":
        if evaluation.srm.empty:
            return "t06.srm.none", {}
        first = evaluation.srm.iloc[0]
        control = evaluation.srm[evaluation.srm["arm"] == CONTROL].iloc[0]
        flagged = evaluation.srm_by_branch
        bad = sorted({_branch(b, lang) for b in flagged.loc[flagged["srm"].astype(bool), "segment"]}) \
            if len(flagged) else []
        key = "t06.srm.mismatch" if bool(first["srm"]) else "t06.srm.ok"
        return key, {"planned": float(control["planned_share"]), "observed": float(control["n"]) / h["members"],
                     "p_value": float(first["p_value"]), "branches": ", ".join(bad) or "-"}
    if section == "channels":
        if "channel" not in evaluation.by:
            return "t06.channels.single", {"channel": _label("channel", evaluation.members["channel"].iloc[0], lang),
                                           "lift": h["lift"]}
        rows = evaluation.by["channel"].sort_values("abs_lift", ascending=False)
        best, worst = rows.iloc[0], rows.iloc[-1]
        return "t06.channels.story", {
            "best": _label("channel", best["segment"], lang), "best_lift": float(best["abs_lift"]),
            "best_low": float(best["abs_ci_low"]), "best_high": float(best["abs_ci_high"]),
            "worst": _label("channel", worst["segment"], lang), "worst_lift": float(worst["abs_lift"]),
            "channels": len(rows),
        }
    if section == "executors":
        ex = evaluation.executors[evaluation.executors["members"] >= 20]
        ex = ex if len(ex) else evaluation.executors
        top, bottom = ex.iloc[0], ex.iloc[-1]
        return "t06.executors.story", {
            "executors": int(evaluation.executors["executor"].notna().sum()),
            "reach_rate": h["reached"] / h["target"] if h["target"] else float("nan"),
            "top": str(top["executor"] or t("t06.executor.unassigned", lang=lang)),
            "top_reach": float(top["reach_rate"]),
            "bottom": str(bottom["executor"] or t("t06.executor.unassigned", lang=lang)),
            "bottom_reach": float(bottom["reach_rate"]),
            "acceptance": h["accepted"] / h["reached"] if h["reached"] else float("nan"),
        }
    if section == "quality":
        ret = evaluation.retention.sort_values("months")
        last = ret.iloc[-1]
        unsub = evaluation.unsubscribes.set_index("metric")
        did = evaluation.did
        groups = did[did["comparison"] == "groups"].iloc[0] if did is not None and len(did) else None
        key = "t06.quality.story" if groups is not None else "t06.quality.no_arpu"
        values = {
            "months": int(last["months"]), "retention_target": _nan(last["rate_treated"]),
            "retention_control": _nan(last["rate_control"]), "retention_diff": _nan(last["abs_lift"]),
            "retention_low": _nan(last["abs_ci_low"]), "retention_high": _nan(last["abs_ci_high"]),
            "leavers_target": _nan(unsub.loc["free_month_leaver", "rate_treated"]),
            "leavers_control": _nan(unsub.loc["free_month_leaver", "rate_control"]),
        }
        if groups is not None:
            values.update({"did": _nan(groups["did"]), "did_low": _nan(groups["ci_low"]),
                           "did_high": _nan(groups["ci_high"])})
        return key, values
    if section == "truth":
        if truth is None:
            return "t06.truth.none", {}
        key = "t06.truth.inside" if truth["inside"] else "t06.truth.outside"
        return key, {"true_rate": truth["true_rate"], "estimate": truth["estimate"], "ci_low": truth["ci_low"],
                     "ci_high": truth["ci_high"], "true_incremental": truth["true_incremental"],
                     "incremental": truth["incremental"]}
    if section == "uplift":
        if uplift is None:
            m = evaluation.members
            return "t06.uplift.none", {"responders": int(m.loc[m["group"] == TARGET, "responded"].sum()),
                                       "control_responders": int(m.loc[m["group"] != TARGET, "responded"].sum())}
        values = {"method": t(f"t06.method.{uplift.method}", lang=lang), "n_train": uplift.n_train,
                  "n_test": uplift.n_test, "qini": uplift.qini, "auuc": uplift.auuc}
        if not np.isfinite(uplift.qini_low):
            return "t06.uplift.unmeasured", values
        key = "t06.uplift.useful" if uplift.qini_low > 0 else "t06.uplift.weak"
        return key, {**values, "qini_low": uplift.qini_low, "qini_high": uplift.qini_high}
    if section == "comparison":
        if comparison is None:
            return "t06.comparison.none", {}
        c = comparison.set_index("strategy")
        return "t06.comparison.story", {
            "contacts": int(c.loc["propensity", "contacts"]),
            "propensity": float(c.loc["propensity", "incremental_per_10k"]),
            "uplift": float(c.loc["uplift", "incremental_per_10k"]),
            "random": float(c.loc["random", "incremental_per_10k"]),
            "oracle": float(c.loc["oracle", "incremental_per_10k"]),
            "ratio": float(c.loc["uplift", "vs_propensity"]),
            "dogs_propensity": float(c.loc["propensity", "sleeping_dogs_share"]),
            "dogs_uplift": float(c.loc["uplift", "sleeping_dogs_share"]),
        }
    # recommendation
    items = lessons(evaluation, uplift=uplift, comparison=comparison, lang=lang)
    return "t06.recommendation.story", {"items": "\n".join(
        f"{i}. {t(f't06.lesson.{code}', lang=lang, **values)}" for i, (code, values) in enumerate(items, 1))}


def lessons(evaluation: CampaignEvaluation, *, uplift: UpliftResult | None = None,
            comparison: pd.DataFrame | None = None, lang: str | None = None) -> list[tuple[str, dict]]:
    """The lessons of the campaign and the recommendation for the next round, as catalogue codes.

    Each lesson is ``(code, values)`` for the label ``t06.lesson.<code>``:
    whether the campaign worked, the best channel, the spread of the executors'
    reach, the quality of the acquired subscribers, a sample-ratio mismatch,
    the cost per incremental order, and how to choose the next list.
    """
    from workbench.i18n import get_language

    lang = lang or get_language()
    h = evaluation.headline
    out: list[tuple[str, dict]] = []
    if h["lift_low"] > 0:
        out.append(("worked", {"incremental": h["incremental"], "low": h["incremental_low"],
                               "high": h["incremental_high"]}))
    else:
        out.append(("unproven", {"low": h["lift_low"], "high": h["lift_high"]}))
    if "channel" in evaluation.by:
        rows = evaluation.by["channel"].sort_values("abs_lift", ascending=False)
        best = rows.iloc[0]
        out.append(("channel", {"channel": _label("channel", best["segment"], lang), "lift": float(best["abs_lift"])}))
    ex = evaluation.executors[evaluation.executors["members"] >= 20]
    if len(ex) >= 2 and ex["reach_rate"].max() - ex["reach_rate"].min() >= 0.15:
        out.append(("executors", {"high": float(ex["reach_rate"].max()), "low": float(ex["reach_rate"].min())}))
    ret = evaluation.retention.sort_values("months")
    last = ret.iloc[-1] if len(ret) else None
    if last is not None and pd.notna(last["abs_ci_high"]) and last["abs_ci_high"] < 0:
        out.append(("quality_worse", {"months": int(last["months"]), "diff": float(last["abs_lift"])}))
    elif last is not None and pd.notna(last["rate_treated"]):
        out.append(("quality_ok", {"months": int(last["months"]), "rate": float(last["rate_treated"])}))
    if len(evaluation.srm) and bool(evaluation.srm["srm"].iloc[0]):
        out.append(("srm", {}))
    if np.isfinite(h["cost_per_incremental"]):
        value = evaluation.terms.value_per_order
        key = "cost_ok" if value is None or h["cost_per_incremental"] <= value else "cost_high"
        out.append((key, {"cost": h["cost_per_incremental"], "value": _nan(value)}))
    control = _nan(evaluation.terms.control_share)
    if comparison is not None:
        c = comparison.set_index("strategy")
        ratio = float(c.loc["uplift", "vs_propensity"])
        per = {"propensity": float(c.loc["propensity", "incremental_per_10k"]),
               "uplift": float(c.loc["uplift", "incremental_per_10k"])}
        if uplift is not None and uplift.qini_low > 0 and ratio > 1.05:
            out.append(("target_uplift", {"ratio": ratio, **per}))
        else:
            out.append(("keep_propensity", {"control": control, **per}))
    elif uplift is None:
        out.append(("no_uplift", {"control": control}))
    return out


def evaluation_cards(evaluation: CampaignEvaluation) -> tuple[dict, dict]:
    """Values and formats of the report's KPI tiles (for :func:`workbench.notebook.kpi_cards`)."""
    h = evaluation.headline
    values = {
        "t06.kpi.target": h["target"], "t06.kpi.reached": h["reached"], "t06.kpi.rate_target": h["rate_target"],
        "t06.kpi.rate_control": h["rate_control"], "t06.kpi.lift": h["lift"], "t06.kpi.incremental": h["incremental"],
        "t06.kpi.cost_per_incremental": h["cost_per_incremental"],
    }
    formats = {"t06.kpi.rate_target": "{:.2%}", "t06.kpi.rate_control": "{:.2%}", "t06.kpi.lift": "{:+.2%}",
               "t06.kpi.incremental": "{:,.0f}", "t06.kpi.cost_per_incremental": "{:,.1f}"}
    return values, formats


def _pct(x) -> str:
    return "" if pd.isna(x) else f"{100 * float(x):.2f}%"


def _ci(lo, hi, pct: bool = True) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return ""
    return f"[{_pct(lo)}, {_pct(hi)}]" if pct else f"[{float(lo):,.1f}, {float(hi):,.1f}]"


def effect_summary_table(evaluation: CampaignEvaluation, lang: str | None = None) -> pd.DataFrame:
    """The effect of both outcomes as a readable table (plain, CUPED and regression-adjusted)."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    rows = []
    for _, r in evaluation.effect.iterrows():
        name = t(f"t06.outcome.{r['outcome']}", lang=lang)
        rows.append({
            t("t06.col.outcome", lang=lang): name,
            t("t06.col.rate_target", lang=lang): _pct(r["mean_treated"]),
            t("t06.col.rate_control", lang=lang): _pct(r["mean_control"]),
            t("t06.col.lift", lang=lang): _pct(r["abs_lift"]),
            t("t06.col.ci", lang=lang): _ci(r["abs_ci_low"], r["abs_ci_high"]),
            t("t06.col.p_value", lang=lang): f"{r['p_value']:.3g}",
            t("t06.col.cuped", lang=lang): _pct(r.get("cuped_lift")) + " " + _ci(r.get("cuped_ci_low"),
                                                                                   r.get("cuped_ci_high")),
            t("t06.col.reg", lang=lang): _pct(r.get("reg_lift")) + " " + _ci(r.get("reg_ci_low"), r.get("reg_ci_high")),
            t("t06.col.incremental", lang=lang): f"{r['incremental']:,.1f} "
                                                  f"{_ci(r['incremental_ci_low'], r['incremental_ci_high'], False)}",
            t("t06.col.cost_per_incremental", lang=lang): "" if pd.isna(r.get("cost_per_incremental"))
            else f"{r['cost_per_incremental']:,.1f}",
        })
    return pd.DataFrame(rows)


def dimension_table(evaluation: CampaignEvaluation, dimension: str, lang: str | None = None) -> pd.DataFrame:
    """The effect on responses by one dimension (branch, channel, ...) as a readable table."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if dimension not in evaluation.by:
        raise ParameterError.invalid("dimension", f"one of {sorted(evaluation.by)}", dimension)
    frame = evaluation.by[dimension]
    return pd.DataFrame({
        t(f"t06.dimension.{dimension}", lang=lang): [_dimension_value(dimension, v, lang) for v in frame["segment"]],
        t("t06.col.n_target", lang=lang): frame["n_treated"].to_numpy(),
        t("t06.col.n_control", lang=lang): frame["n_control"].to_numpy(),
        t("t06.col.rate_target", lang=lang): [_pct(v) for v in frame["mean_treated"]],
        t("t06.col.rate_control", lang=lang): [_pct(v) for v in frame["mean_control"]],
        t("t06.col.lift", lang=lang): [_pct(v) for v in frame["abs_lift"]],
        t("t06.col.ci", lang=lang): [_ci(a, b) for a, b in zip(frame["abs_ci_low"], frame["abs_ci_high"])],
        t("t06.col.incremental", lang=lang): [f"{v:,.1f}" for v in frame["incremental"]],
    })


def dimension_effects(evaluation: CampaignEvaluation, dimension: str, lang: str | None = None) -> pd.DataFrame:
    """The effect table of one dimension with readable segment names (for :func:`workbench.viz.forest_plot`)."""
    from workbench.i18n import get_language

    lang = lang or get_language()
    frame = evaluation.by[dimension].copy()
    frame["segment"] = [_dimension_value(dimension, v, lang) for v in frame["segment"]]
    return frame


def breakdown_figures(evaluation: CampaignEvaluation, dimensions: Sequence[str] = ("channel", "branch",
                                                                                   "score_decile", "segment"),
                      lang: str | None = None) -> list:
    """Forest plots of the effect by each dimension the campaign varies (:func:`workbench.viz.forest_plot`)."""
    from workbench.i18n import get_language, t
    from workbench.viz.effect import forest_plot

    lang = lang or get_language()
    figures = []
    for name in dimensions:
        if name in evaluation.by:
            fig = forest_plot(dimension_effects(evaluation, name, lang), "responded", lang=lang)
            fig.update_layout(title=f"{fig.layout.title.text} · {t(f't06.dimension.{name}', lang=lang)}")
            figures.append(fig)
    return figures


def breakdown_table(evaluation: CampaignEvaluation, dimensions: Sequence[str] = ("channel", "branch", "score_decile",
                                                                                 "segment", "brand"),
                    lang: str | None = None) -> pd.DataFrame:
    """:func:`dimension_table` of every dimension present, one block after the other."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    blocks = []
    for name in dimensions:
        if name in evaluation.by:
            block = dimension_table(evaluation, name, lang)
            label = t(f"t06.dimension.{name}", lang=lang)
            block = block.rename(columns={label: t("t06.col.group", lang=lang)})
            block.insert(0, t("t06.col.dimension", lang=lang), label)
            blocks.append(block)
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame()


def quality_figures(evaluation: CampaignEvaluation, lang: str | None = None) -> list:
    """Retention curve, ARPU difference-in-differences and product trend (those that could be computed)."""
    from workbench.viz.quality import arpu_did_figure, product_trend_figure, retention_curve_figure

    figures = [retention_curve_figure(evaluation.retention, lang=lang)]
    if evaluation.did is not None:
        figures.append(arpu_did_figure(evaluation.did, lang=lang))
    if evaluation.trend is not None:
        t = evaluation.terms
        figures.append(product_trend_figure(evaluation.trend, campaign_start=t.start, campaign_end=t.end,
                                            family=t.family, lang=lang))
    return figures


def executor_table(evaluation: CampaignEvaluation, lang: str | None = None, top: int | None = None) -> pd.DataFrame:
    """The executors' results (contacts, reach, acceptance, responses) as a readable table."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    ex = evaluation.executors if top is None else evaluation.executors.head(int(top))
    return pd.DataFrame({
        t("t06.col.executor", lang=lang): [e if isinstance(e, str) else t("t06.executor.unassigned", lang=lang)
                                           for e in ex["executor"]],
        t("t06.dimension.branch", lang=lang): [_branch(b, lang) for b in ex[BRANCH_ID]],
        t("t06.col.members", lang=lang): ex["members"].to_numpy(),
        t("t06.col.attempts", lang=lang): ex["attempts"].to_numpy(),
        t("t06.col.contact_rate", lang=lang): [_pct(v) for v in ex["contact_rate"]],
        t("t06.col.reach_rate", lang=lang): [_pct(v) for v in ex["reach_rate"]],
        t("t06.col.acceptance_rate", lang=lang): [_pct(v) for v in ex["acceptance_rate"]],
        t("t06.col.response_rate", lang=lang): [_pct(v) for v in ex["response_rate"]],
        t("t06.col.lift_vs_control", lang=lang): [_pct(v) for v in ex["lift_vs_control"]],
    })


def comparison_table(comparison: pd.DataFrame | None, lang: str | None = None) -> pd.DataFrame:
    """:func:`next_campaign_comparison` as a readable table (empty for None)."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if comparison is None:
        return pd.DataFrame()
    return pd.DataFrame({
        t("t06.col.strategy", lang=lang): [t(f"t06.strategy.{s}", lang=lang) for s in comparison["strategy"]],
        t("t06.col.contacts", lang=lang): comparison["contacts"].to_numpy(),
        t("t06.col.expected_incremental", lang=lang): [f"{v:,.1f}" for v in comparison["expected_incremental"]],
        t("t06.col.per_10k", lang=lang): [f"{v:,.1f}" for v in comparison["incremental_per_10k"]],
        t("t06.col.vs_propensity", lang=lang): [f"{v:.2f}" if pd.notna(v) else "" for v in comparison["vs_propensity"]],
        t("t06.col.sleeping_dogs", lang=lang): [_pct(v) for v in comparison["sleeping_dogs_share"]],
    })
