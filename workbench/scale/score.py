"""Score a folder of feature parts with a registry model, partition by partition.

The model (a :class:`~workbench.models.TargetModel` or a folder written by
:func:`workbench.models.save_model`) is applied to each partition with
``dask.dataframe.map_partitions``; each scored partition is written by its
worker to ``part-NNNNN.parquet`` in the output folder.  A row's score depends
only on that row (the same :meth:`TargetModel.predict_proba` as
:func:`workbench.models.score`), so the scores equal the in-process ones
exactly, whatever the partitioning.

What is *not* done per partition: ranks, deciles and reason codes, which
depend on the whole scored population (reason codes compare a user with the
percentiles of everyone scored).  Compute them on the selected list in-process
(``workbench.models.score`` on the top of the ranking), where the list is small.

Without a scheduler the same function runs over the parts one after another in
this process, so memory stays that of one part.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.scale.cluster import get_client
from workbench.scale.features import ID, PART_PATTERN, _prepare_out, _wait, part_files

__all__ = ["SCORE", "score", "read_scores"]

#: Name of the score column (probability of the positive class), as in :func:`workbench.models.score`.
SCORE = "score"


@functools.lru_cache(maxsize=4)
def _load(folder: str, stamp: float):
    """A registry model, loaded once per process (``stamp`` = mtime of model.txt, so a new model reloads)."""
    from workbench.models import load_model

    return load_model(folder)


def _model_of(model):
    if isinstance(model, (str, Path)):
        folder = Path(model)
        return _load(str(folder), (folder / "model.txt").stat().st_mtime)
    return model


def _score_frame(df: pd.DataFrame, model, id_col: str, keep: tuple[str, ...], query: str | None) -> pd.DataFrame:
    """Scores of one partition: ``id_col``, ``score`` and the ``keep`` columns."""
    m = _model_of(model)
    if query:
        df = df.query(query)
    ids = df[id_col]
    if ids.isna().any() or ids.duplicated().any():
        raise DataValidationError(
            f"id column {id_col!r} must be unique and complete within a partition; found "
            f"{int(ids.isna().sum())} missing and {int(ids.duplicated().sum())} duplicate value(s)")
    p = m.predict_proba(df)[:, 1] if len(df) else np.empty(0)
    out = pd.DataFrame({id_col: ids.to_numpy(), SCORE: p})
    for c in keep:
        out[c] = df[c].to_numpy()
    return out


def _write_part(df: pd.DataFrame, path: str) -> dict:
    t0 = time.perf_counter()
    df.to_parquet(path, index=False, compression="zstd")
    return {"path": path, "rows": int(len(df)), "seconds": time.perf_counter() - t0}


def _columns(files: list[Path], model, id_col: str, keep: tuple[str, ...], query: str | None):
    """Columns to read: all with a query (it may use any), else the id, the model's features and ``keep``."""
    import pyarrow.parquet as pq

    available = pq.read_schema(files[0]).names
    wanted = [id_col, *(f.name for f in _model_of(model).features_), *keep, *(available if query else ())]
    wanted = list(dict.fromkeys(wanted))
    missing = [c for c in wanted if c not in available]
    if missing:
        from workbench.errors import SchemaMismatchError

        raise SchemaMismatchError(f"the parts in {str(files[0].parent)!r} lack column(s) {missing} that the model, "
                                  f"the id, keep= or query= need; columns found: {available}")
    return wanted


def score(model, data, *, out, id_col: str = ID, scheduler=None, keep=(), query: str | None = None,
          progress: bool = True) -> Path:
    """Scores of every row of a folder of Parquet parts, written as Parquet parts.

    Parameters
    ----------
    model : TargetModel or path
        A fitted model, or a registry folder (on a cluster: a path every worker
        can read; each worker loads it once).
    data : path
        Folder of Parquet parts holding ``id_col`` and the model's features
        (e.g. from :func:`workbench.scale.build_features`).
    out : path
        Output folder (created; parts already there are replaced).
    id_col : str
        Column identifying a user; unique within each part.
    scheduler : str, Client or None
        Where to run (:func:`workbench.scale.cluster.get_client`).
    keep : sequence of str
        Columns copied from the input to the output (e.g. ``branch_id``).
    query : str, optional
        A :meth:`pandas.DataFrame.query` expression selecting the rows to score,
        e.g. ``"group == 'potential'"``.
    progress : bool
        Show a tqdm bar over finished partitions.

    Returns
    -------
    pathlib.Path
        The output folder: ``id_col``, ``score`` and the ``keep`` columns per part
        (:func:`read_scores` reads it).

    Raises
    ------
    ParameterError
        ``data`` is not a folder of Parquet parts.
    SchemaMismatchError
        The parts lack a column the model, ``id_col``, ``keep`` or ``query`` needs.
    """
    files = part_files(data)
    if isinstance(model, (str, Path)):
        model = str(Path(model).resolve())
        _model_of(model)  # fail here, not on a worker, when the folder is not a model
    keep = tuple(keep)
    if query is not None and not isinstance(query, str):
        raise ParameterError.invalid("query", "a pandas query expression (str) or None", query)
    columns = _columns(files, model, id_col, keep, query)
    client = get_client(scheduler)
    target = _prepare_out(out)
    if client is None:
        from tqdm.auto import tqdm

        for k, f in enumerate(tqdm(files, desc="score", unit="part", disable=not progress, leave=False)):
            part = pd.read_parquet(f, columns=columns)
            _write_part(_score_frame(part, model, id_col, keep, query), str(target / PART_PATTERN.format(k)))
        return target
    import dask
    import dask.dataframe as dd

    ddf = dd.read_parquet([str(f) for f in files], columns=columns)
    meta = pd.DataFrame({id_col: pd.Series(dtype=ddf[id_col].dtype), SCORE: pd.Series(dtype="float64"),
                         **{c: pd.Series(dtype=ddf[c].dtype) for c in keep}})
    scored = ddf.map_partitions(_score_frame, model, id_col, keep, query, meta=meta)
    writes = [dask.delayed(_write_part)(part, str(target / PART_PATTERN.format(k)))
              for k, part in enumerate(scored.to_delayed())]
    _wait(client, client.compute(writes), "score", progress)
    return target


def read_scores(folder, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a folder of score parts into pandas (rows in part order)."""
    files = part_files(folder)
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
