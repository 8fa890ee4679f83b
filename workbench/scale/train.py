"""Train the target model on a Dask cluster with ``lightgbm.dask``, keeping the registry format.

:func:`fit_target_model` returns an ordinary fitted
:class:`~workbench.models.TargetModel` (its booster trained by LightGBM's
distributed data-parallel learner), so :func:`workbench.models.save_model`,
:func:`workbench.models.load_model`, scoring, reasons and rules work unchanged.

What is the same as in-process
------------------------------
* the input schema: numeric features as numbers, text features as categories
  whose levels are ordered by frequency over **all** partitions (the rule of
  :func:`workbench.models.schema.infer_features`), encoded per partition by
  :func:`workbench.models.schema.encode_frame`;
* the hyper-parameters: :func:`workbench.models.estimator.lightgbm_params` on the
  training rows and minority count - the one mapping :class:`TargetModel` itself
  uses (a test compares the boosters' parameter blocks);
* the number of rounds: early stopping on the binary log-loss of a held-out
  validation set with the same patience.

What differs
------------
* LightGBM's Dask interface cannot early-stop (each worker would see only its
  own share of the validation rows and stop at a different round, and the
  training hangs).  Here the validation rows - a ``validation_fraction`` of
  the rows chosen by a hash of the id, at most ``max_validation_rows`` - are
  broadcast to every worker, and a callback on each worker adds the newest
  tree's output to running validation scores and computes the same loss from
  the same numbers, so all workers stop at the same round.
* Validation is always a held-out split (no cross-validation), by id hash
  rather than stratified; its share is ``min(validation_fraction,
  max_validation_rows / rows in the parts)``.
* Histogram bins are found from each worker's share of the data, so the model
  is not bit-identical to an in-process fit; its quality is (tests check
  the holdout AUC).

Network
-------
LightGBM opens one listening port per worker for the duration of training.
Ports are chosen free on each worker at run time (or given with ``ports=``
for a firewall) and passed as ``machines=``, so Dask's port-probing (which
binds all interfaces) is never used.  LightGBM's own listener binds all
interfaces of the worker's host (its C++ ``bind`` uses ``INADDR_ANY``):
on a shared machine run the local cluster in a network namespace
(``unshare -n``, as the tests do); on a cluster, open these ports between
workers only (see ``docs/scale-out.md``).
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.models import TargetModel
from workbench.models.estimator import lightgbm_params
from workbench.models.schema import CATEGORICAL, FeatureSpec, as_text, encode_frame, infer_features
from workbench.scale.cluster import get_client
from workbench.scale.features import ID, part_files, read_parts

__all__ = [
    "lgb_params", "GlobalEarlyStopping", "fit_target_model", "fingerprint", "save_model",
    "DEFAULT_MAX_VALIDATION_ROWS",
]

#: Most validation rows broadcast to every worker for early stopping.
DEFAULT_MAX_VALIDATION_ROWS = 250_000
_EPS = 1e-15


def lgb_params(model: TargetModel, n_rows: int, n_minority: int, seed: int) -> tuple[dict, dict]:
    """The resolved hyper-parameters and the LightGBM parameters of ``model`` for this training size.

    :func:`workbench.models.estimator.lightgbm_params` - the mapping :meth:`TargetModel.fit`
    uses - without ``num_threads`` (each Dask worker uses its own threads).
    """
    return lightgbm_params(model, n_rows, n_minority, seed)


def _logloss(y: np.ndarray, raw: np.ndarray) -> float:
    p = np.clip(1.0 / (1.0 + np.exp(-raw)), _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class GlobalEarlyStopping:
    """Early stopping that every LightGBM worker decides identically.

    Each worker holds the same validation matrix; after each round the newest
    tree's raw output is added to running scores and the binary log-loss is
    computed.  When it has not improved for ``patience`` rounds the callback
    raises :class:`lightgbm.callback.EarlyStopException` with the best round -
    on every worker at the same round, since they hold the same trees.

    Parameters
    ----------
    X : ndarray of shape (n, k)
        Encoded validation features (the booster's input).
    y : ndarray of shape (n,)
        0/1 labels.
    patience : int
        Rounds without improvement before stopping.
    """

    order = 30  # where LightGBM's own early stopping runs

    def __init__(self, X: np.ndarray, y: np.ndarray, patience: int):
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.patience = int(patience)
        self.raw = np.zeros(len(self.y))
        self.best = math.inf
        self.best_round = 0
        self.losses: list[float] = []

    def __call__(self, env) -> None:
        i = env.iteration - env.begin_iteration
        self.raw += env.model.predict(self.X, start_iteration=i, num_iteration=1, raw_score=True)
        loss = _logloss(self.y, self.raw)
        self.losses.append(loss)
        if loss < self.best:
            self.best, self.best_round = loss, i
        elif i - self.best_round >= self.patience:
            import lightgbm as lgb

            raise lgb.callback.EarlyStopException(
                self.best_round, [("valid", "binary_logloss", self.best, False)])


def _free_port(dask_worker=None) -> int:
    """A free TCP port on the worker's own address (run through ``client.run``)."""
    import socket

    host = getattr(dask_worker, "ip", None) or "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _machines(client, workers: list[str], ports) -> str:
    """``host:port`` of each of ``workers``, in order (LightGBM's ``machines``)."""
    from urllib.parse import urlparse

    if ports is None:
        found = client.run(_free_port, workers=workers)
        chosen = [found[w] for w in workers]
    else:
        chosen = list(ports)
        if len(chosen) < len(workers) or len(set(chosen)) != len(chosen):
            raise ParameterError.invalid("ports", f"{len(workers)} distinct port numbers (one per worker)", ports)
    return ",".join(f"{urlparse(w).hostname}:{int(p)}" for w, p in zip(workers, chosen))


LABEL = "__label__"


def _uniform(ids: np.ndarray, seed: int) -> np.ndarray:
    """The validation draw of each id (fixed by the seed, independent of partitioning)."""
    from workbench.campaign.control import hash_uniform

    return hash_uniform(ids, seed, salt="workbench.scale.validation")


def _read(path: str, needed: list[str], query: str | None) -> pd.DataFrame:
    """The rows (``query``) and columns (``needed``) of one part; the query may read any column."""
    df = pd.read_parquet(path, columns=None if query else needed)
    return df.query(query)[needed] if query else df


def _counts(s: pd.Series, text: bool) -> pd.Series:
    """Value counts (as text, missing dropped, for a categorical feature; as is, missing kept, for the label)."""
    return (as_text(s) if text else s.astype(object)).value_counts(dropna=text)


def _summary_part(path: str, needed: list[str], query: str | None, target: str, cats: list[str], id_col: str,
                  seed: int, share: float) -> dict:
    """One pass over a part: label counts, category counts and the validation rows."""
    df = _read(path, needed, query)
    return {
        "target": _counts(df[target], False),
        "levels": {c: _counts(df[c], True) for c in cats},
        "valid": df[_uniform(df[id_col].to_numpy(), seed) < share],
    }


def _train_part(path: str, needed: list[str], query: str | None, id_col: str, seed: int, share: float,
                specs: list[FeatureSpec], target: str, classes: np.ndarray) -> pd.DataFrame:
    """The encoded training rows of a part (draw >= ``share``): ``f0 .. f{k-1}`` and the 0/1 label."""
    df = _read(path, needed, query)
    df = df[_uniform(df[id_col].to_numpy(), seed) >= share]
    out = pd.DataFrame(encode_frame(df, specs, table="a training part"),
                       columns=[f"f{j}" for j in range(len(specs))])
    out[LABEL] = np.searchsorted(classes, df[target].to_numpy()).astype(np.float64)
    return out


def _add(series: list[pd.Series]) -> pd.Series:
    """Counts summed over parts (missing values kept as their own key)."""
    series = [x for x in series if len(x)]
    if not series:
        return pd.Series(dtype="int64")
    both = pd.concat(series)
    return both.groupby(both.index, dropna=False, sort=False).sum()


def _schema(specs: list[FeatureSpec], totals: dict[str, pd.Series], max_levels: int) -> list[FeatureSpec]:
    """``specs`` with the levels of each categorical feature ordered as ``infer_features`` orders them."""
    out = []
    for f in specs:
        if f.kind == CATEGORICAL:
            order = sorted(totals[f.name].items(), key=lambda kv: (-kv[1], kv[0]))[:max_levels]
            f = FeatureSpec(f.name, CATEGORICAL, tuple(str(k) for k, _ in order), f.dtype)
        out.append(f)
    return out


def _check_data(columns: list[str], target: str, id_col: str, features, exclude) -> list[str]:
    for name, col in (("target", target), ("id_col", id_col)):
        if col not in columns:
            raise ParameterError(f"The {name!r} column {col!r} is not in the training parts; columns: {columns}.")
    drop = {target, id_col, *exclude}
    if features is None:
        features = [c for c in columns if c not in drop]
    missing = [c for c in features if c not in columns]
    if missing:
        raise ParameterError(f"features {missing} are not in the training parts; columns: {columns}.")
    if not features:
        raise ParameterError("no feature column is left to train on (all columns are the id, the target or "
                             "excluded).")
    return list(features)


def fit_target_model(data, target: str, *, id_col: str = ID, features=None, exclude=(), query: str | None = None,
                     model: TargetModel | None = None, scheduler=None,
                     max_validation_rows: int = DEFAULT_MAX_VALIDATION_ROWS, ports=None) -> TargetModel:
    """Fit a :class:`~workbench.models.TargetModel` on a folder of Parquet parts, in-process or on Dask.

    Parameters
    ----------
    data : path
        Folder of Parquet parts (e.g. :func:`workbench.scale.build_features` with
        ``family=``) holding ``id_col``, ``target`` and the features.
    target : str
        Label column with two classes; the larger label is the positive class.
    id_col : str
        Column identifying a row (used for the validation split; never a feature).
    features : list of str, optional
        Feature columns (default: every column but ``id_col``, ``target`` and ``exclude``).
    exclude : sequence of str
        Columns never used as features.
    query : str, optional
        A :meth:`pandas.DataFrame.query` selecting the training rows, e.g.
        ``"group != 'recent'"`` for the model sample.
    model : TargetModel, optional
        Unfitted template whose hyper-parameters are used (default ``TargetModel()``).
    scheduler : str, Client or None
        Where to train (:func:`workbench.scale.cluster.get_client`); in-process
        this is ``model.fit`` on the table read into memory.
    max_validation_rows : int
        Cap on the rows held out for early stopping on a cluster (they are
        copied to every worker).
    ports : sequence of int, optional
        LightGBM's listening port on each worker (default: free ports found at run time).

    Returns
    -------
    TargetModel
        Fitted; ``params_`` records ``engine`` (``"dask"`` or ``"in-process"``),
        ``n_workers`` and the validation used.

    Raises
    ------
    ParameterError
        A column is missing or a parameter is malformed.
    DataValidationError
        On a cluster: the label does not have exactly two classes, or has missing
        values (in-process, :meth:`TargetModel.fit` raises its ``ValueError``).
    """
    template = TargetModel() if model is None else model
    if not isinstance(template, TargetModel):
        raise ParameterError.invalid("model", "a TargetModel (unfitted template) or None", type(template).__name__)
    if isinstance(max_validation_rows, bool) or not isinstance(max_validation_rows, numbers.Integral) \
            or max_validation_rows < 2:
        raise ParameterError.invalid("max_validation_rows", "an integer >= 2", max_validation_rows)
    files = part_files(data)
    import pyarrow.parquet as pq

    columns = pq.read_schema(files[0]).names
    features = _check_data(columns, target, id_col, features, tuple(exclude))
    client = get_client(scheduler)
    if client is None:
        cols = None if query else list(dict.fromkeys([id_col, target, *features]))
        if ID in columns:  # a feature table: the catalogue's dtypes, as the in-process builder gives them
            df = read_parts(data, columns=cols).reset_index()
        else:
            df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
        if query:
            df = df.query(query)
        fitted = template.__class__(**template.get_params()).fit(df[features], df[target])
        fitted.params_ = {**fitted.params_, "engine": "in-process", "n_workers": 1}
        return fitted
    return _fit_dask(client, files, target, id_col, features, query, template, int(max_validation_rows), ports)


def _fit_dask(client, files, target, id_col, features, query, template, max_validation_rows, ports) -> TargetModel:
    import dask.dataframe as dd
    import pyarrow.parquet as pq
    from lightgbm.dask import DaskLGBMClassifier

    template._check_params()
    seed = int(template.random_state) if isinstance(template.random_state, numbers.Integral) else 0
    needed = list(dict.fromkeys([id_col, target, *features]))
    paths = [str(f) for f in files]
    specs = infer_features(pd.read_parquet(paths[0], columns=features).head(0), max_levels=template.max_levels)
    cats = [f.name for f in specs if f.kind == CATEGORICAL]

    # One pass: label counts, category levels and the validation rows.  The held-out share is fixed from
    # the files' row count (before any query), so the client never holds more than ~max_validation_rows rows.
    stored = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    share = min(float(template.validation_fraction), max_validation_rows / max(stored, 1))
    results = client.gather(client.map(_summary_part, paths, needed=needed, query=query, target=target, cats=cats,
                                       id_col=id_col, seed=seed, share=share, pure=False))
    counts = _add([r["target"] for r in results])
    if counts.index.isna().any():
        raise DataValidationError(f"the target column {target!r} has {int(counts[counts.index.isna()].sum())} "
                                  "missing value(s): every training row needs a label.")
    if len(counts) != 2:
        raise DataValidationError(f"the target column {target!r} must have exactly two classes; found "
                                  f"{sorted(map(str, counts.index))}.")
    classes = np.sort(pd.Index(list(counts.index)).to_numpy())
    n_rows, n_min = int(counts.sum()), int(counts.min())
    specs = _schema(specs, {c: _add([r["levels"][c] for r in results]) for c in cats}, template.max_levels)
    valid = pd.concat([r["valid"] for r in results], ignore_index=True)
    del results
    y_val = np.searchsorted(classes, valid[target].to_numpy()).astype(np.float64)
    X_val = encode_frame(valid, specs, table="the validation rows")
    n_val_min = int(min(y_val.sum(), len(y_val) - y_val.sum()))
    validation = "holdout" if n_val_min >= 2 else "none"
    if validation == "none":  # too few minority rows to stop on: train on every row, fixed rounds
        share = 0.0
    n_train = n_rows - (len(valid) if validation == "holdout" else 0)
    resolved, params = lgb_params(template, n_train, n_min, seed)

    # The training parts are pinned round-robin to the workers (as many as there are parts), so the workers
    # LightGBM trains on - those holding data - are known, and 'machines' lists exactly them.
    workers = sorted(client.scheduler_info()["workers"])[:len(paths)]
    parts = [client.submit(_train_part, path, needed, query, id_col, seed, share, specs, target, classes,
                           workers=[workers[k % len(workers)]], allow_other_workers=False, pure=False)
             for k, path in enumerate(paths)]
    meta = pd.DataFrame({**{f"f{j}": pd.Series(dtype="float64") for j in range(len(specs))},
                         LABEL: pd.Series(dtype="float64")})
    frame = dd.from_delayed(parts, meta=meta, verify_meta=False)
    callbacks = []
    if validation == "holdout":
        stopper = GlobalEarlyStopping(X_val, y_val, int(resolved["early_stopping_rounds"]))
        callbacks = [client.scatter(stopper, broadcast=True)]
    rounds_cap = int(template.max_rounds) if validation == "holdout" else int(template.fallback_rounds)
    cat_idx = [j for j, s in enumerate(specs) if s.kind == CATEGORICAL]
    est = DaskLGBMClassifier(client=client, n_estimators=rounds_cap, machines=_machines(client, workers, ports),
                             **params)
    try:
        with warnings.catch_warnings(), client.as_current():  # lightgbm.dask looks up the current client
            warnings.filterwarnings("ignore", message=".*(will be ignored|categorical_feature|Large object).*")
            warnings.filterwarnings("ignore", category=UserWarning, module="lightgbm")
            est.fit(frame[[f"f{j}" for j in range(len(specs))]], frame[LABEL], categorical_feature=cat_idx,
                    feature_name=[f"f{j}" for j in range(len(specs))], callbacks=callbacks)
    finally:
        client.cancel(parts + callbacks)
    booster = est.booster_
    rounds = int(booster.best_iteration) or booster.current_iteration()
    loss = None
    if validation == "holdout":
        loss = _logloss(y_val, booster.predict(X_val, num_iteration=rounds, raw_score=True))
    fitted = template.__class__(**template.get_params())
    fitted._set_fitted(booster=booster, features=specs, classes=classes, best_iteration=rounds, params={
        "objective": "binary",
        **resolved,
        "validation": validation,
        "n_folds": None,
        "validation_fraction": share if validation == "holdout" else None,
        "n_rows": n_rows,
        "n_train_rows": int(n_train),
        "n_minority": n_min,
        "best_iteration": rounds,
        "validation_loss": loss,
        "seed": seed,
        "lgb_params": dict(template.lgb_params or {}),
        "engine": "dask",
        "n_workers": len(workers),
        "validation_split": "id hash" if validation == "holdout" else None,
    })
    return fitted


def fingerprint(data, columns: list[str] | None = None, *, query: str | None = None, scheduler=None) -> dict:
    """:func:`workbench.models.fingerprint` of the table in a folder of parts, without loading it whole.

    Each part's row hashes are computed where the part is read (on the workers
    with a scheduler) and fed to SHA-256 in part order, so the result equals
    ``workbench.models.fingerprint`` of the concatenated parts as read from
    Parquet (rows selected by ``query``, then ``columns`` in that order).
    """
    files = part_files(data)
    client = get_client(scheduler)

    def one(path):
        df = pd.read_parquet(path, columns=None if query else columns)
        if query:
            df = df.query(query)
            df = df if columns is None else df[columns]
        return ([[str(c), str(t)] for c, t in df.dtypes.items()], df.shape,
                pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())

    if client is None:
        results = (one(f) for f in files)
    else:
        futures = client.map(one, [str(f) for f in files], pure=False)
        results = (f.result() for f in futures)
    h = hashlib.sha256()
    rows = ncols = 0
    for k, (dtypes, shape, hashes) in enumerate(results):
        if k == 0:
            h.update(json.dumps(dtypes).encode("utf-8"))
            ncols = shape[1]
        h.update(hashes)
        rows += shape[0]
    return {"sha256": h.hexdigest(), "rows": int(rows), "columns": int(ncols)}


def save_model(model: TargetModel, folder, *, training_data, label_definition: dict, training_window: dict | None,
               metrics: dict, id_col: str | None = ID, query: str | None = None, scheduler=None, **kwargs) -> Path:
    """:func:`workbench.models.save_model` for a model trained on a folder of parts.

    ``training_data`` is the folder (and ``query`` the training rows, as given
    to :func:`fit_target_model`); its fingerprint is computed part by part
    (:func:`fingerprint` over the model's feature columns) instead of from an
    in-memory frame.  Everything else is written by the registry itself, so the
    folder is an ordinary registry model.
    """
    from workbench.models import save_model as registry_save

    names = [f.name for f in model.features_]
    first = pd.read_parquet(part_files(training_data)[0], columns=names).head(0)
    out = registry_save(model, folder, label_definition=label_definition, training_window=training_window,
                        metrics=metrics, training_data=first, id_col=id_col, **kwargs)
    meta_path = Path(out) / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["fingerprint"] = fingerprint(training_data, names, query=query, scheduler=scheduler)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return Path(out)
