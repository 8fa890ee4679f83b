"""The score history of a workspace: the distribution of every scoring run, one record each.

A record (:func:`score_summary`) holds ``time`` (UTC), ``kind`` (``target``, ``generic``, ``credit``
...), ``rows``, ``mean``, ``deciles`` (the 10th ... 90th percentiles), ``bins`` (``edges`` and
``shares``: the model's training score bins when its folder has a reference, else ten equal-width
bins over [0, 1]), ``psi`` and ``status`` against training (with a reference), the ``model``
version (folder, fingerprint and creation time of its card), the data ``snapshot`` and ``source``.
The file (``score_history.jsonl`` in the runs root) is written and read only by :mod:`workbench.runs`
(:func:`~workbench.runs.append_score_history`, :func:`~workbench.runs.read_score_history`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.monitoring.drift import ALERT, NUMERIC, WATCH, bin_shares, psi, status_of

__all__ = ["score_summary", "record_scores", "record_run_scores", "score_history"]

_UNIFORM = {"kind": NUMERIC, "edges": [i / 10 for i in range(1, 10)]}


def _model_version(folder) -> dict | None:
    if folder is None:
        return None
    from workbench.models.registry import load_card

    try:
        card = load_card(folder)
    except (ParameterError, FileNotFoundError, OSError):
        return {"folder": str(folder)}
    model = card.get("model", {})
    return {"folder": str(folder), "fingerprint": model.get("fingerprint"), "created_at": model.get("created_at")}


def _reference(folder) -> dict | None:
    if folder is None:
        return None
    from workbench.models.registry import load_reference

    try:
        return load_reference(folder)
    except (ParameterError, FileNotFoundError, OSError):
        return None


def score_summary(score, *, kind: str = "target", model=None, reference: dict | None = None,
                  snapshot: str | None = None, source: str | None = None, watch: float = WATCH,
                  alert: float = ALERT, time: str | None = None) -> dict:
    """One scoring run's distribution (see the module docstring).

    Parameters
    ----------
    score : array-like
        The scores of the run (missing values are left out).
    kind : str
        What was scored (``target``, ``generic``, ``credit`` ...).
    model : path, optional
        The model folder (its card gives the version; its ``reference.json`` the bins).
    reference : dict, optional
        The training reference (default: the model folder's, when it has one).
    snapshot, source : str, optional
        The data's month and where it came from.
    time : str, optional
        ISO time of the run (default now, UTC).
    """
    s = np.asarray(score, dtype=np.float64).ravel()
    s = s[~np.isnan(s)]
    if len(s) == 0:
        raise ParameterError("a scoring run to record needs scores; every score is missing or there are none.")
    ref = reference if reference is not None else _reference(model)
    bins = (ref or {}).get("score") or _UNIFORM
    shares = bin_shares(bins, s)
    out = {
        "time": time or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "kind": str(kind), "rows": int(len(s)), "mean": float(s.mean()),
        "deciles": np.quantile(s, np.arange(1, 10) / 10).tolist(),
        "bins": {"edges": list(bins["edges"]), "shares": shares.tolist(),
                 "basis": "training" if bins is not _UNIFORM else "uniform"},
        "psi": None, "status": None, "model": _model_version(model),
        "snapshot": snapshot, "source": None if source is None else str(source),
    }
    if bins is not _UNIFORM:
        value = psi(bins["shares"], shares, epsilon=float(ref.get("epsilon", 1e-4)))
        out["psi"], out["status"] = value, status_of(value, watch, alert)
    return out


def record_scores(root, score, **kwargs) -> Path:
    """Append :func:`score_summary` of ``score`` to the score history in ``root`` (a runs root)."""
    from workbench.runs import append_score_history

    return append_score_history(root, score_summary(score, **kwargs))


def record_run_scores(run_folder, scores: pd.DataFrame) -> Path:
    """Record the scores a run folder wrote (template 03's ``scores.parquet``) in its workspace's history."""
    import json

    from workbench.runs import MODEL_DIR

    folder = Path(run_folder.path) / MODEL_DIR
    snapshot = None
    spec = folder / "province.json"
    if spec.is_file():
        snapshot = json.loads(spec.read_text(encoding="utf-8")).get("snapshot")
    return record_scores(run_folder.history_root(), scores["score"], kind="target",
                         model=folder if folder.is_dir() else None, snapshot=snapshot, source=str(run_folder.path))


def score_history(root) -> pd.DataFrame:
    """The score history of a runs root as a table: one row per run, oldest first.

    Columns ``time``, ``kind``, ``rows``, ``mean``, ``psi``, ``status``, ``snapshot``, ``source``,
    ``model`` (fingerprint), ``deciles`` and ``shares`` (lists).
    """
    from workbench.runs import read_score_history

    rows = [{"time": r.get("time"), "kind": r.get("kind"), "rows": r.get("rows"), "mean": r.get("mean"),
             "psi": r.get("psi"), "status": r.get("status"), "snapshot": r.get("snapshot"),
             "source": r.get("source"), "model": (r.get("model") or {}).get("fingerprint"),
             "deciles": r.get("deciles"), "shares": (r.get("bins") or {}).get("shares")}
            for r in read_score_history(root)]
    return pd.DataFrame(rows, columns=["time", "kind", "rows", "mean", "psi", "status", "snapshot", "source",
                                       "model", "deciles", "shares"])
