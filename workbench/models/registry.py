"""Save, load and apply a target model - plain files, no pickle anywhere.

A model folder holds

============== ================================================================
``model.txt``  LightGBM's own text model (``Booster.save_model``), trimmed to
               the rounds used for prediction
``features.json`` the ordered input schema: name, kind (numeric / categorical),
               category levels in code order, training dtype
``label.json`` the label definition (what a positive is, from which data)
``metrics.json`` evaluation figures (holdout metrics, baselines, gains table)
``model.json`` classes, resolved hyper-parameters, training window, id column,
               fingerprint of the training data, package versions, creation time
``rules.json`` (optional) the rule examples
``importance.json`` (optional) global feature importance
``reference.json`` (optional) binned distributions of every feature and of the
               score at training (:mod:`workbench.monitoring`), read by
               ``workbench model monitor``
============== ================================================================

Baselines are not persisted (their holdout figures live in ``metrics.json``).

The fingerprint is the SHA-256 of ``pandas.util.hash_pandas_object`` over the
training frame (rows, without the index) together with its column names and
dtypes, plus the row and column counts: the same data gives the same
fingerprint, so a reader can tell which extract a model was trained on.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.models.estimator import TargetModel
from workbench.models.rules import FeatureLabels, Rule
from workbench.models.schema import FeatureSpec, check_columns

__all__ = ["FORMAT", "REFERENCE_FILE", "save_model", "load_model", "load_card", "score", "scored_schema", "fingerprint",
           "to_jsonable", "save_reference", "load_reference"]

#: Format tag and version written to ``model.json``.
FORMAT = {"name": "workbench.target_model", "version": 1}
_REQUIRED = ("model.txt", "features.json", "label.json", "metrics.json", "model.json")
#: The monitoring reference of a model folder.
REFERENCE_FILE = "reference.json"


def to_jsonable(obj):
    """``obj`` with numpy scalars, arrays, DataFrames and NaN made JSON-safe.

    DataFrames become lists of row dicts, NaN / infinity become ``None``.
    """
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (Rule, FeatureSpec)):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, (Path, _dt.date)):
        return str(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def fingerprint(df: pd.DataFrame) -> dict:
    """Fingerprint of a training frame: ``sha256``, ``rows``, ``columns``.

    Examples
    --------
    >>> fingerprint(pd.DataFrame({"a": [1, 2]}))["rows"]
    2
    """
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return {"sha256": h.hexdigest(), "rows": int(df.shape[0]), "columns": int(df.shape[1])}


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("workbench", "lightgbm", "pandas", "numpy", "scikit-learn"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - source tree without metadata
            out[pkg] = None
    return out


def save_model(model: TargetModel, folder, *, label_definition: dict, training_window: dict | None,
               metrics: dict, training_data: pd.DataFrame, id_col: str | None = None,
               rules: list[Rule] | None = None, importance: pd.DataFrame | None = None,
               reference: dict | None = None) -> Path:
    """Write a fitted model and its card to ``folder`` (created if needed).

    Parameters
    ----------
    model : TargetModel
        Fitted model.
    folder : str or Path
        Destination; existing model files in it are replaced.
    label_definition : dict
        What a positive is (e.g. ``{"target": "subscribed", "positive": "yes"}``).
    training_window : dict or None
        Period of the training data (e.g. ``{"from": "2026-01", "to": "2026-06"}``).
    metrics : dict
        Evaluation figures (DataFrames allowed; stored as lists of rows).
    training_data : DataFrame
        The frame the model was trained on (for the fingerprint only).
    id_col : str, optional
        The id column scoring should use.
    rules : list of Rule, optional
        Rule examples to store.
    importance : DataFrame, optional
        Global importance to store.
    reference : dict, optional
        Monitoring reference (:func:`workbench.monitoring.build_reference`), written as
        ``reference.json``; without it a stale ``reference.json`` is removed.

    Returns
    -------
    Path
        The folder.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "booster_")
    if not isinstance(label_definition, dict):
        raise ParameterError.invalid("label_definition", "a dict", label_definition)
    if training_window is not None and not isinstance(training_window, dict):
        raise ParameterError.invalid("training_window", "a dict or None", training_window)
    if not isinstance(training_data, pd.DataFrame):
        raise ParameterError.invalid("training_data", "a pandas DataFrame", type(training_data).__name__)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.booster_.save_model(str(folder / "model.txt"), num_iteration=model.best_iteration_)
    _write_json(folder / "features.json", {
        "features": [f.to_dict() for f in model.features_],
        "fitted_on": "frame" if hasattr(model, "feature_names_in_") else "array",
    })
    _write_json(folder / "label.json", label_definition)
    _write_json(folder / "metrics.json", metrics)
    _write_json(folder / "model.json", {
        "format": FORMAT,
        "classes": model.classes_.tolist(),
        "best_iteration": model.best_iteration_,
        "params": model.params_,
        "training_window": training_window,
        "id_col": id_col,
        "fingerprint": fingerprint(training_data),
        "versions": _versions(),
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })
    for name, content in (("rules.json", rules), ("importance.json", importance)):
        path = folder / name
        if content is not None:
            _write_json(path, [r.to_dict() for r in content] if name == "rules.json" else content)
        elif path.exists():
            path.unlink()
    if reference is not None:
        save_reference(folder, reference)
    elif (folder / REFERENCE_FILE).exists():
        (folder / REFERENCE_FILE).unlink()
    return folder


def save_reference(folder, reference: dict) -> Path:
    """Write a monitoring reference (:func:`workbench.monitoring.build_reference`) into a model folder.

    Any saved model can carry one: build it from the model's training features and score, e.g.
    ``build_reference(X, model.predict_proba(X)[:, 1], kinds={f.name: f.kind for f in model.features_})``.
    """
    from workbench.monitoring import check_reference

    folder = _check_folder(folder)
    check_reference(reference, "reference")
    path = folder / REFERENCE_FILE
    _write_json(path, reference)
    return path


def load_reference(folder) -> dict:
    """The monitoring reference of a model folder.

    Raises
    ------
    ParameterError
        The folder has no ``reference.json`` (the message says how to create one) or it is not a
        monitoring reference.
    """
    from workbench.monitoring import check_reference

    folder = _check_folder(folder)
    path = folder / REFERENCE_FILE
    if not path.is_file():
        raise ParameterError(
            f"model folder {str(folder)!r} has no {REFERENCE_FILE}: expected the training reference that "
            "`workbench model train` writes; found only "
            f"{sorted(p.name for p in folder.iterdir())}. Retrain with `workbench model train`, or write one "
            "with workbench.monitoring.build_reference and workbench.models.registry.save_reference.")
    return check_reference(_read_json(path), f"{str(path)!r}")


#: The file that marks a credit model folder (:mod:`workbench.credit.model`): it holds its own files.
CREDIT_FILE = "credit.json"


def _check_folder(folder) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError.keyed(f"model folder {str(folder)!r} does not exist or is not a folder.",
                                   "errors.model.no_folder", folder=repr(str(folder)))
    if (folder / CREDIT_FILE).is_file():
        return folder
    missing = [name for name in _REQUIRED if not (folder / name).is_file()]
    if missing:
        raise ParameterError.keyed(f"model folder {str(folder)!r} lacks {missing}; expected the files "
                                   f"{list(_REQUIRED)} written by save_model.", "errors.model.folder_lacks",
                                   folder=repr(str(folder)), missing=str(missing), files=str(list(_REQUIRED)))
    return folder


def load_card(folder) -> dict:
    """Everything but the booster: ``model`` (model.json), ``label``, ``metrics``,
    ``features``, ``rules`` and ``importance`` (None when absent).  Of a credit model folder: its
    label, its summary as ``metrics`` and the inputs of its segment models."""
    folder = _check_folder(folder)
    if (folder / CREDIT_FILE).is_file():  # a credit model: its label, summary and inputs
        spec = _read_json(folder / CREDIT_FILE)
        summary = folder / "summary.json"
        return {"model": {"format": spec.get("format"), "id_col": spec.get("id_col")}, "label": spec.get("label", {}),
                "metrics": _read_json(summary) if summary.is_file() else {},
                "features": {"features": [f for seg in spec.get("segments", []) for f in seg.get("encoder", [])]},
                "rules": None, "importance": None}
    card = {
        "model": _read_json(folder / "model.json"),
        "label": _read_json(folder / "label.json"),
        "metrics": _read_json(folder / "metrics.json"),
        "features": _read_json(folder / "features.json"),
    }
    for name in ("rules", "importance"):
        path = folder / f"{name}.json"
        card[name] = _read_json(path) if path.is_file() else None
    return card


def load_model(folder) -> TargetModel:
    """Rebuild the :class:`TargetModel` saved in ``folder`` (no pickle).

    Raises
    ------
    ParameterError
        The folder or one of its files is missing, or the format is not a
        workbench target model of a supported version.
    """
    import lightgbm as lgb

    folder = _check_folder(folder)
    if (folder / CREDIT_FILE).is_file():
        raise ParameterError(f"model folder {str(folder)!r} holds a credit model ({CREDIT_FILE}); score it with "
                             "`workbench credit score` (workbench.credit.model.load_credit_model).")
    meta = _read_json(folder / "model.json")
    fmt = meta.get("format", {})
    if fmt.get("name") != FORMAT["name"] or fmt.get("version", 0) > FORMAT["version"]:
        raise ParameterError(f"model folder {str(folder)!r} holds format {fmt!r}; this workbench reads "
                             f"{FORMAT['name']!r} up to version {FORMAT['version']}.")
    feats = _read_json(folder / "features.json")
    features = [FeatureSpec.from_dict(d) for d in feats["features"]]
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    params = meta.get("params", {})
    kwargs = {}
    if params.get("seed") is not None:
        kwargs["random_state"] = int(params["seed"])
    model = TargetModel(**kwargs)
    return model._set_fitted(booster=booster, features=features, classes=meta["classes"],
                             best_iteration=meta["best_iteration"], params=params,
                             named=feats.get("fitted_on", "frame") == "frame")


def scored_schema(id_col: str, reasons: int = 3):
    """The pandera schema of a :func:`score` result (columns in this order, nothing else).

    ``<id_col>`` unique and complete; ``score`` in [0, 1]; ``rank`` 1..n unique;
    ``decile`` 1..10; ``reason_1 .. reason_<reasons>`` text or missing.
    """
    import pandera.pandas as pa

    columns = {
        id_col: pa.Column(nullable=False, unique=True),
        "score": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "rank": pa.Column(np.int64, pa.Check.ge(1), unique=True),
        "decile": pa.Column(np.int64, pa.Check.in_range(1, 10)),
        **{f"reason_{i}": pa.Column(nullable=True) for i in range(1, reasons + 1)},
    }
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name="scored list")


def rank_scores(ids: np.ndarray, p: np.ndarray, id_col: str) -> tuple[pd.DataFrame, np.ndarray]:
    """``<id_col>, score, rank, decile`` of scores ``p`` (rows in the input order) and the positions best first.

    Rank 1 is the highest score; ties are broken by id.
    """
    n = len(p)
    order = pd.DataFrame({"s": -p, "id": ids}).sort_values(["s", "id"], kind="stable").index.to_numpy()
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    out = pd.DataFrame({id_col: ids, "score": p, "rank": rank, "decile": (rank - 1) * 10 // max(n, 1) + 1})
    return out, order


def score(model: TargetModel, df: pd.DataFrame, id_col: str, *, reasons: int = 3, reasons_top=None,
          strict: bool = False, lang: str | None = None, feature_labels: FeatureLabels = None, value_labels=None,
          scope: str = "scored", progress: bool = False) -> pd.DataFrame:
    """Score a table: one row per user, best first.

    Parameters
    ----------
    model : TargetModel
        Fitted (or loaded) model.
    df : DataFrame
        Table with the id column and every feature column (extra columns ignored).
    id_col : str
        Column identifying a user; must be unique.
    reasons : int
        Reason codes per user (0 = none).
    reasons_top : int or float, optional
        Give reasons only to the best ``reasons_top`` users (a count, or a share
        of the rows in (0, 1]); the others get missing reasons.  Computing reasons
        (TreeSHAP) costs far more than scoring: on a province of a million users,
        explain the campaign list, not everyone.  Default: everyone.
    strict : bool
        Reject category levels unseen at training instead of treating them as missing.
    lang, feature_labels, value_labels, scope
        Passed to :func:`workbench.models.explain.reason_codes`.
    progress : bool
        Progress bar while computing reasons.

    Returns
    -------
    DataFrame
        ``<id_col>``, ``score`` (probability of the positive class), ``rank``
        (1 = best; ties broken by id), ``decile`` (1 = top 10 %), ``reason_1`` ..
        ``reason_<reasons>``; sorted by rank.

    Raises
    ------
    ParameterError
        ``id_col`` is not a column of ``df``.
    DataValidationError
        ``id_col`` has duplicate or missing values.
    SchemaMismatchError
        Feature columns are missing, of another type, or (``strict``) hold unseen levels.
    """
    from workbench.models.explain import reason_codes

    if id_col not in df.columns:
        raise ParameterError(f"id column {id_col!r} is not in the scored table; columns: {list(df.columns)}.")
    ids = df[id_col]
    if ids.isna().any() or ids.duplicated().any():
        dup = ids[ids.duplicated(keep=False)].dropna().unique()[:10].tolist()
        raise DataValidationError(
            f"id column {id_col!r} must be unique and complete; found {int(ids.isna().sum())} missing and "
            f"{int(ids.duplicated().sum())} duplicate value(s), e.g. {dup}.",
            [{"table": "scored", "column": id_col, "check": "unique", "count": int(ids.duplicated().sum()),
              "examples": dup}],
        )
    check_columns(df, model.features_, strict=strict)
    encoded = model.encode(df, strict=strict)
    p = model._booster_predict(encoded) if len(df) else np.empty(0)
    n = len(df)
    out, order = rank_scores(ids.to_numpy(), p, id_col)
    out.index = df.index
    if reasons:
        rows = None
        if reasons_top is not None:
            from workbench.metrics.classification import _list_size

            rows = order[:_list_size(reasons_top, n)] if n else order
        codes = reason_codes(model, df, top=reasons, feature_labels=feature_labels, value_labels=value_labels,
                             lang=lang, scope=scope, progress=progress, encoded=encoded, rows=rows)
        for i in range(1, reasons + 1):
            out[f"reason_{i}"] = codes[f"reason_{i}"]
    out = out.sort_values("rank", kind="stable").reset_index(drop=True)
    return scored_schema(id_col, reasons).validate(out, lazy=True)

