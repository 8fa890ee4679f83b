"""The run-level steps of the feedback loop: a released campaign as the later steps find it in a run folder.

Each step reads the run folder template 04 (``campaign.json``), template 03 (``scores.parquet``) and
the demo's simulated execution (``simulation/``) left, and calls the package:

* :func:`open_run` - the store and the simulated execution of the campaign released in a run folder
  (:class:`CampaignRun`); :class:`SimulationRecord` and :func:`read_simulation` keep a simulated
  execution in ``run_dir/simulation/``.
* :func:`evaluate_run` - :func:`~workbench.tracking.evaluation.evaluate_campaign` of the run's campaign.
* :func:`next_round_candidates` - who the next campaign could target (template 03's scores).

The demo's steps that call the simulator or read the ground truth (``simulate``, the next-round
comparison, the truth check) live in :mod:`workbench.demo.steps`: evaluation code never sees the truth.

The computation lives elsewhere: :mod:`workbench.tracking.evaluation` (the evaluation),
:mod:`workbench.tracking.uplift_fit` (the uplift model), :mod:`workbench.demo` (the simulator and
everything reading the ground truth) and :mod:`workbench.report.t06` (what template 06 says and shows).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.checks import jsonable
from workbench.checks import require_columns as _require
from workbench.errors import ParameterError
from workbench.runs import (  # the run folder's file names live in workbench.runs
    CAMPAIGN_FILE, SCORES_FILE, SIMULATION_DIR, SIMULATION_FILE, RunFolder,
)
from workbench.store.models import SUBSCRIBER_ID
from workbench.tracking.evaluation import CampaignEvaluation, evaluate_campaign
from workbench.tracking.uplift_fit import feature_table as _feature_table

__all__ = [
    "CAMPAIGN_FILE",
    "SIMULATION_DIR",
    "SIMULATION_FILE",
    "CampaignRun",
    "SCORES_FILE",
    "open_run",
    "evaluate_run",
    "next_round_candidates",
    "SimulationRecord",
    "read_simulation",
]



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

    @property
    def folder(self) -> RunFolder:
        """The run folder (:class:`workbench.runs.RunFolder`)."""
        return RunFolder(self.run_dir)

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def open_run(run_dir, *, progress: bool = False) -> CampaignRun:
    """Open the store of the campaign released in ``run_dir`` and read its simulation, if any.

    Parameters
    ----------
    run_dir : path or workbench.runs.RunFolder
        The run folder (its reads are recorded in the manifest).

    Raises
    ------
    FileNotFoundError
        (:class:`workbench.runs.RunFileMissing`) When ``run_dir/campaign.json`` is missing (run template 04 first).
    """
    from workbench.store import Store

    folder = RunFolder.of(run_dir)
    info = folder.read_campaign()
    missing = [k for k in ("campaign_id", "store_url") if k not in info]
    if missing:
        raise ParameterError(f"{folder.file('campaign')} lacks {missing}; run template 04_campaign_design "
                             "again to rewrite it.")
    store = Store(info["store_url"], progress=progress)
    simulation = read_simulation(folder.file("simulation"))
    if simulation is not None:
        folder.record_input("simulation")
    if simulation is not None and (simulation.campaign_id, simulation.version) != (
            int(info["campaign_id"]), int(info.get("version") or simulation.version)):
        simulation = None   # a simulation of an earlier campaign of this folder
    version = info.get("version")
    return CampaignRun(store, int(info["campaign_id"]), None if version is None else int(version), folder.path,
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
        (see :class:`~workbench.demo.simulate.SimulatedOutcomes`).
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
        (folder / SIMULATION_FILE).write_text(json.dumps(jsonable(self.summary()), indent=2) + "\n",
                                              encoding="utf-8")
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
    if evaluation.features is None:
        raise ParameterError("The evaluation carries no snapshot features; evaluate with evaluate_run() or "
                             "evaluate_campaign(features=...).")
    scores = RunFolder.of(run_dir).read_scores()
    _require(scores, "scores", (SUBSCRIBER_ID, score_col))
    feats = _feature_table(evaluation.features)
    ids = scores[SUBSCRIBER_ID].to_numpy(np.int64)
    pos = pd.Index(feats.index).get_indexer(ids)
    keep = pos >= 0
    out = feats.iloc[pos[keep]].copy()
    out[score_col] = pd.to_numeric(scores[score_col], errors="coerce").to_numpy(float)[keep]
    out.index = pd.Index(ids[keep], name=SUBSCRIBER_ID)
    return out
