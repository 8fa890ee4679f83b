"""A released campaign "run" by the simulator, and whether its evaluation recovers the truth.

For the demo and the tests only: the members' behaviour comes from the synthetic province's ground truth.

* :func:`simulate_campaign` - simulate the execution of a released campaign (contacts by the
  executors' channel profiles, orders, unsubscribes, ARPU; :mod:`workbench.demo.simulate`), record the
  contacts and responses in the store through its API and keep the simulated events (the province
  extract ends before the campaign) as a :class:`~workbench.tracking.loop.SimulationRecord`.
* :func:`truth_check` - on a simulated campaign, does the 95 % interval of the evaluation cover the
  simulator's true incremental effect?
* :func:`truth_frame` - the ground truth as a DataFrame (a truth folder is read).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.checks import check_day, check_int, require_columns
from workbench.data.source import connection
from workbench.data.tables import table
from workbench.errors import ParameterError
from workbench.store.models import SUBSCRIBER_ID
from workbench.tracking.attribution import attribute_responses
from workbench.tracking.evaluation import CampaignEvaluation
from workbench.tracking.inputs import read_catalogue
from workbench.tracking.loop import SimulationRecord
from workbench.tracking.terms import campaign_terms

__all__ = ["simulate_campaign", "truth_check", "truth_frame"]

_USAGE = table("monthly_usage")
_MONTH = _USAGE.column("month").name
_ARPU = _USAGE.column("arpu").name


def truth_frame(truth, ids: np.ndarray | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
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
    require_columns(frame, "truth", (SUBSCRIBER_ID, "p_order_base"))
    if ids is not None:
        frame = frame[frame[SUBSCRIBER_ID].isin(ids)]
    return frame.reset_index(drop=True)


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
                      coverage: float = 1.0, executed_share: float = 1.0, user=None, out_dir=None,
                      progress: bool = True) -> SimulationRecord:
    """Simulate the execution of a released campaign and record it in the store.

    The members come from the store (target and control), the plan's period
    and response window from the stored spec.  Executors' contact attempts are
    simulated (:func:`~workbench.demo.simulate.simulate_execution`), the
    members' orders, unsubscribes and ARPU drawn from the ground truth
    (:func:`~workbench.demo.simulate.simulate_outcomes`), and the contacts
    and the attributed responses written through the store's API
    (:func:`~workbench.demo.simulate.write_simulated`; running it again
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
        As :func:`~workbench.demo.simulate.simulate_execution`.
    executed_share : float, default 1.0
        Share of the period's days executed: below 1 the executors work their lists at the pace
        that would finish them on the period's last day (``pace_days``) and the execution stops
        after this share of the days (still cut at yesterday) - the middle of a campaign, each
        executor with part of the list still to work.  1.0: the executors work through their
        lists as fast as their daily capacity allows.
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
    from workbench.demo.simulate import (
        simulate_execution,
        simulate_outcomes,
        write_simulated,
    )
    from workbench.store import SYSTEM_USER

    actor = SYSTEM_USER if user is None else user
    spec = store.spec(actor, campaign_id, version)
    members = store.worklist(actor, campaign_id, version=version, include_control=True)
    number = int(members["version"].iloc[0]) if len(members) else int(version or 1)
    terms = campaign_terms(spec, **({"start": start} if start is not None else {}))
    first = terms.start
    n_days = terms.days if days is None else check_int("days", days, 1)
    today = dt.date.today() if today is None else pd.Timestamp(check_day("today", today)).date()
    passed = (today - first).days
    if passed < 1:
        raise ParameterError(
            f"The campaign period starts on {first}, which is not before today ({today}): the store accepts only "
            "past contacts. Plan the campaign in the past to simulate it (e.g. start 2026-11-02)."
        )
    if isinstance(executed_share, bool) or not isinstance(executed_share, (int, float)) or not (
            0.0 < executed_share <= 1.0):
        raise ParameterError.invalid("executed_share", "a share of the period in (0, 1]", executed_share)
    pace = n_days if executed_share < 1.0 else None
    n_days = min(max(1, int(np.ceil(executed_share * n_days))), passed)
    ids = members[SUBSCRIBER_ID].to_numpy(np.int64)
    truth_rows = truth_frame(truth, ids)
    with connection(source, progress=False) as con:
        products = read_catalogue(con)
        levels = _arpu_levels(con, ids, first)
    contacts = simulate_execution(members, start=first, days=n_days, daily_capacity=daily_capacity,
                                  coverage=coverage, seed=seed, pace_days=pace)
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
