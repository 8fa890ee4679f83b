"""The province model against the synthetic province's ground truth (the oracle benchmark).

On a province made by :func:`workbench.data.synth.generate_province`, the truth
folder (``<data>_truth``) records for every subscriber the probability of being a
stable subscriber next period (``p_stable_next_<family>``) and whether they were
(``next_stable_<family>``).  :func:`truth_benchmark` compares the model's scores
with that oracle - AUC and top-decile lift of both on the realised next-period
labels of the same potential customers; :func:`benchmark_against_truth` does it
for a scored :class:`~workbench.models.ProvincePipeline` when a truth exists.

Real data has no truth: this lives in :mod:`workbench.demo`, which compute
and evaluation code never imports.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.features._db import check_family

if TYPE_CHECKING:
    from workbench.models.province import ProvincePipeline

__all__ = ["truth_benchmark", "benchmark_against_truth"]

_ID = "subscriber_id"


def truth_benchmark(scores: pd.DataFrame, truth, product: str = "mobile_newspaper", *,
                    list_size=0.1) -> pd.DataFrame:
    """The model against the oracle on the synthetic province's realised next-period labels.

    Parameters
    ----------
    scores : DataFrame
        ``subscriber_id`` and ``score`` of the potential customers at the last
        month of the window (:meth:`~workbench.models.ProvincePipeline.score`).
    truth : DataFrame or path
        The ground truth (:func:`workbench.data.synth.load_truth`) or its folder.
    product : str
        Product family.
    list_size : float or int
        List for the lift (default the top decile).

    Returns
    -------
    DataFrame
        One row per contender (``model``, ``oracle``): ``users``, ``positives``,
        ``auc``, ``lift`` (at ``list_size``), ``capture``, and ``auc_ratio`` /
        ``lift_ratio`` (model over oracle; 1 for the oracle).

    Raises
    ------
    DataValidationError
        The truth lacks the family's columns or a scored user.
    """
    from workbench.metrics.classification import auc, lift_at

    fam = check_family(product, "product")
    if not isinstance(truth, pd.DataFrame):
        from workbench.data.synth import load_truth

        truth, _ = load_truth(truth, columns=["subscriber_id", f"next_stable_{fam}", f"p_stable_next_{fam}"])
    if _ID in truth.columns:
        truth = truth.set_index(_ID)
    need = [f"next_stable_{fam}", f"p_stable_next_{fam}"]
    missing = [c for c in need if c not in truth.columns]
    if missing:
        raise DataValidationError(f"the truth lacks {missing}; expected the columns of subscriber_truth.parquet")
    ids = scores[_ID].to_numpy()
    absent = ~np.isin(ids, truth.index.to_numpy())
    if absent.any():
        raise DataValidationError(f"{int(absent.sum())} scored subscriber(s) are not in the truth, e.g. "
                                  f"{ids[absent][:5].tolist()}: the truth belongs to another province")
    t_ = truth.loc[ids]
    y = t_[need[0]].to_numpy(dtype=np.int8)
    rows = []
    for name, s in (("model", scores["score"].to_numpy(dtype=np.float64)),
                    ("oracle", t_[need[1]].to_numpy(dtype=np.float64))):
        at = lift_at(y, s, list_size)
        rows.append({"contender": name, "users": int(len(y)), "positives": int(y.sum()), "auc": auc(y, s),
                     "lift": at["lift"], "capture": at["capture"]})
    out = pd.DataFrame(rows)
    out["auc_ratio"] = out["auc"] / out["auc"].iloc[1]
    out["lift_ratio"] = out["lift"] / out["lift"].iloc[1]
    out["contender"] = out["contender"].astype("str")
    return out


def benchmark_against_truth(pipe: ProvincePipeline, truth_folder=None, source=None) -> pd.DataFrame | None:
    """:func:`truth_benchmark` of the pipeline's scores when a ground truth exists, else ``None``.

    Parameters
    ----------
    pipe : ProvincePipeline
        With :meth:`~ProvincePipeline.score` done.
    truth_folder : path, optional
        The truth folder; default the sibling ``<data>_truth`` of ``source``.
    source : path, optional
        The province folder (to find the default truth folder).
    """
    from workbench.data.synth import default_truth_folder
    from workbench.data.synth.generate import TRUTH_FILE

    if pipe.scores is None:
        raise ParameterError("run score() before comparing with the truth")
    folder = Path(truth_folder) if truth_folder is not None else (
        default_truth_folder(source) if isinstance(source, (str, Path)) else None)
    if folder is None or not (folder / TRUTH_FILE).is_file():
        return None
    return truth_benchmark(pipe.scores, folder, pipe.product)
