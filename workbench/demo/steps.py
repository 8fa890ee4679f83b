"""The demo's run-level steps that call the simulator or read the synthetic ground truth.

They work on a run folder as :mod:`workbench.tracking.loop`'s steps do, but live here so that
nothing under :mod:`workbench.tracking` (evaluation) can see the truth:

* :func:`run_simulation_step` / :func:`demo_simulate` - the demo's ``simulate`` step;
* :func:`compare_next_round` - the simulated next round (look-alike vs uplift vs random) on the truth;
* :func:`run_truth_check` - the evaluation's estimate against the simulated true effect.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd

from workbench.runs import RunFolder
from workbench.tracking.evaluation import CampaignEvaluation
from workbench.tracking.loop import (
    CampaignRun,
    SimulationRecord,
    next_round_candidates,
    open_run,
)
from workbench.tracking.uplift_fit import UpliftResult

__all__ = ["DEMO_EXECUTED_SHARE", "run_simulation_step", "demo_simulate", "compare_next_round", "run_truth_check"]

#: Share of the campaign period the demo's execution covers: the demo stops in the middle of the
#: campaign, so each executor finds part of the list still to work (``workbench demo --executed``).
DEMO_EXECUTED_SHARE = 0.5

def run_simulation_step(data, run_dir, *, seed: int = 0, truth=None, executed_share: float = 1.0,
                        progress: bool = True) -> SimulationRecord:
    """The demo's ``simulate`` step: simulate the campaign template 04 released in ``run_dir``.

    ``executed_share`` < 1 stops the execution after that share of the period (see
    :func:`~workbench.demo.campaign.simulate_campaign`).

    The truth is ``truth`` (default: the province's truth folder ``<data>_truth``); the
    record is saved to ``run_dir/simulation/``.  The step records itself in the
    run folder's manifest (step ``"simulate"``: inputs ``campaign.json`` and the
    data, output ``simulation/``).

    Raises
    ------
    FileNotFoundError
        When ``run_dir/campaign.json`` or the truth folder is missing.
    """
    from workbench.data.synth import default_truth_folder
    from workbench.demo.campaign import simulate_campaign

    truth = Path(truth) if truth else default_truth_folder(data)
    if not (Path(truth) / "subscriber_truth.parquet").is_file():
        raise FileNotFoundError(f"no ground truth in {str(truth)!r}: the simulated execution needs the truth that "
                                "`workbench sample` writes next to the province")
    folder = RunFolder.of(run_dir)
    if folder.active_step != "simulate":
        folder.require("campaign")
        folder.step("simulate", parameters={"data": os.fspath(data), "seed": seed, "executed_share": executed_share})
    run = open_run(folder, progress=progress)
    try:
        record = simulate_campaign(run.store, run.campaign_id, data, truth, version=run.version, seed=seed,
                                   executed_share=executed_share, progress=progress)
    finally:
        run.close()
    record = dataclasses.replace(record, folder=folder.save_simulation(record))
    folder.finish("simulate")
    return record


def demo_simulate(data, run_dir, *, executed_share: float = DEMO_EXECUTED_SHARE, progress: bool = False) -> str:
    """The demo's ``simulate`` step (:func:`run_simulation_step`), stopped after ``executed_share`` of the
    campaign period (default :data:`DEMO_EXECUTED_SHARE`); returns the line the demo prints."""
    from workbench.i18n import t

    record = run_simulation_step(data, run_dir, executed_share=executed_share, progress=progress)
    return t("t06.demo.simulated", contacts=record.contacts_written, responses=record.responses_written,
             start=record.start.isoformat(), days=record.days, path=str(record.folder))


def compare_next_round(evaluation: CampaignEvaluation, uplift: UpliftResult | None, run_dir, data, *, truth=None,
                       pool_factor: float = 2.0, seed: int = 0) -> pd.DataFrame | None:
    """:func:`next_campaign_comparison` for a run folder, or None when it cannot be made.

    It needs an uplift model, the ground truth (``truth``, default ``<data>_truth`` when it
    exists: a synthetic province) and template 03's scores in ``run_dir``.
    """
    from workbench.data.synth import TRUTH_FILE, default_truth_folder
    from workbench.demo.next_round import next_campaign_comparison

    folder = Path(truth) if truth else default_truth_folder(data)
    if uplift is None or not (folder / TRUTH_FILE).is_file() or not RunFolder.of(run_dir).exists("scores"):
        return None
    candidates = next_round_candidates(run_dir, evaluation)
    return next_campaign_comparison(evaluation, uplift, candidates, folder, pool_factor=pool_factor, seed=seed)


def run_truth_check(run: CampaignRun, evaluation: CampaignEvaluation) -> dict | None:
    """:func:`truth_check` of the run's simulated execution, or None for a campaign that was not simulated."""
    from workbench.demo.campaign import truth_check

    return None if run.simulation is None else truth_check(evaluation, run.simulation)
