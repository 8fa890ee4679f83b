"""Monitoring the province target model (and its preference model) month by month.

* :func:`save_province_reference` - the one call :meth:`workbench.models.province.ProvincePipeline.save`
  makes: ``reference.json`` in the model folder, built from the training frame and the final model's
  score, with the out-of-time validation's AUC and top-decile lift as the training performance and,
  under ``parts.preference``, the reference of the content-preference model's output (the preference
  for every content category and the top category).
* :func:`province_inputs` - the model's inputs at a snapshot month, built exactly as at training
  (:func:`workbench.features.build_features` over the saved window, the *saved* preference model's
  transform, :func:`workbench.models.province_inputs.model_frame`), for the population the model
  learned from: the model sample (potential customers + stable subscribers) for a look-alike, the
  potential customers for a conversion model.
* :func:`province_drift` - PSI of every input, the score and the preference part at a month.
* :func:`province_decay` - where the outcome is known: the potential customers of ``month - horizon``
  scored as at training (aligned to the horizon), labelled by whether they are stable subscribers at
  ``month``; AUC, top-decile lift and calibration against the validation at training.

Compute only: reads the province through :mod:`workbench.data` / :mod:`workbench.features` and the model
folder through the registry; returns dicts and frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.monitoring.drift import ALERT, CATEGORICAL, NUMERIC, WATCH, build_reference, compare
from workbench.monitoring.performance import compare_performance

__all__ = ["PREFERENCE_PART", "preference_reference", "province_reference", "save_province_reference",
           "ProvinceInputs", "province_inputs", "province_drift", "province_decay", "is_province_model"]

#: Name of the preference model's part of a province reference.
PREFERENCE_PART = "preference"
_TOP = "top_category"


def preference_reference(preferences: pd.DataFrame, **kwargs) -> dict:
    """Reference of the preference model's output: each category's preference and the top category."""
    return build_reference(_preference_table(preferences), **kwargs)


def _preference_table(preferences: pd.DataFrame) -> pd.DataFrame:
    p = preferences.astype(np.float64)
    top = pd.Series(np.asarray(p.columns, dtype=object)[np.argmax(p.to_numpy(), axis=1)], index=p.index)
    return p.rename(columns=lambda c: f"pref_{c}").assign(**{_TOP: top.astype(object)})


def _kinds(model, X: pd.DataFrame) -> dict:
    specs = getattr(model, "features_", None) or []
    kinds = {f.name: f.kind for f in specs if getattr(f, "kind", None) in (NUMERIC, CATEGORICAL)}
    return {c: kinds[c] for c in X.columns if c in kinds}


def province_reference(model, X: pd.DataFrame, *, validation=None, preferences: pd.DataFrame | None = None) -> dict:
    """The reference of a province model trained on ``X``.

    Parameters
    ----------
    model : TargetModel
        The fitted final model.
    X : DataFrame
        Its training frame.
    validation : workbench.models.province.Validation, optional
        The out-of-time validation; its model AUC and top-decile lift are the training performance.
    preferences : DataFrame, optional
        The preference model's output at the snapshot (one column per content category).
    """
    ref = build_reference(X, model.predict_proba(X)[:, 1], kinds=_kinds(model, X))
    if validation is not None and "model" in validation.results:
        r = validation.results["model"]
        gains = r.get("gains")
        lift = float(gains["lift"].iloc[0]) if gains is not None and len(gains) else None
        ref["performance"] = {"auc": float(r["auc"]), "top_decile_lift": lift, "rows": int(r["n"]),
                              "positive_rate": float(r["base_rate"]), "calibration": [],
                              "basis": "out_of_time"}
    if preferences is not None and len(preferences):
        ref["parts"] = {PREFERENCE_PART: preference_reference(preferences)}
    return ref


def save_province_reference(folder, model, X: pd.DataFrame, *, validation=None,
                            preferences: pd.DataFrame | None = None) -> Path:
    """Write ``reference.json`` (:func:`province_reference`) into a province model folder."""
    from workbench.models.registry import save_reference

    return save_reference(folder, province_reference(model, X, validation=validation, preferences=preferences))


def is_province_model(folder) -> bool:
    """Whether ``folder`` (a model folder) holds a province model (``province.json``)."""
    from workbench.models.province import PROVINCE_FILE

    return (Path(folder) / PROVINCE_FILE).is_file()


@dataclass
class ProvinceInputs:
    """A province model's inputs at one month.

    Attributes
    ----------
    snapshot : str
    frame : DataFrame
        The model's inputs of the monitored population (indexed by ``subscriber_id``).
    preferences : DataFrame
        The saved preference model's output for every subscriber.
    status : DataFrame
        :func:`workbench.features.subscriber_status` at the snapshot.
    """

    snapshot: str
    frame: pd.DataFrame
    preferences: pd.DataFrame
    status: pd.DataFrame


def province_inputs(source, folder, snapshot=None, *, model=None, spec=None) -> ProvinceInputs:
    """The inputs of a saved province model at ``snapshot`` (default the last month of the data).

    The population is the one the model learned from: the model sample (potential customers and stable
    subscribers) of a look-alike, the potential customers of a conversion model.
    """
    from workbench.features import build_features, subscriber_status
    from workbench.features._db import connection, parse_month
    from workbench.models.preference import PreferenceModel, counts_from_features
    from workbench.models.province import load_province_model
    from workbench.models.province_inputs import model_frame
    from workbench.models.sample import last_data_month

    if spec is None:
        model, spec = load_province_model(folder)
    with connection(source) as con:
        last = last_data_month(con)
        snap = last if snapshot is None else f"{parse_month(snapshot):%Y-%m}"
        if snap > last:
            raise ParameterError.invalid("snapshot", f"a month with data (the last is {last})", snapshot)
        feats = build_features(con, snap, int(spec["window"]))
        status = subscriber_status(con, spec["product"], snap, int(spec["stable_months"]))
    pm = PreferenceModel.from_dict(spec["preference_model"])
    prefs = pm.transform(counts_from_features(feats, pm.categories_))
    editions = pd.DataFrame(spec["editions"]).astype("str")
    frame = model_frame(feats, list(spec["columns"]), prefs, editions)
    active = status["active"].reindex(frame.index, fill_value=False).to_numpy(dtype=bool)
    stable = status["stable"].reindex(frame.index, fill_value=False).to_numpy(dtype=bool)
    keep = ~active | stable if spec.get("method", "lookalike") == "lookalike" else ~active
    return ProvinceInputs(snapshot=snap, frame=frame.loc[keep], preferences=prefs, status=status)


def province_drift(source, folder, snapshot=None, *, watch: float = WATCH, alert: float = ALERT,
                   reference: dict | None = None, inputs: ProvinceInputs | None = None) -> dict:
    """PSI of every input and of the score of a saved province model at ``snapshot``.

    Returns
    -------
    dict
        :func:`workbench.monitoring.compare`'s result plus ``snapshot``, ``score_values`` (the scores
        of the monitored rows) and ``parts`` (``{"preference": compare result}`` when the reference
        has the preference part).
    """
    from workbench.models.province import load_province_model
    from workbench.models.registry import load_reference

    model, spec = load_province_model(folder)
    folder = _model_folder(folder)
    reference = load_reference(folder) if reference is None else reference
    inputs = province_inputs(source, folder, snapshot, model=model, spec=spec) if inputs is None else inputs
    table = f"the province's inputs at {inputs.snapshot}"
    s = model.predict_proba(inputs.frame)[:, 1]
    out = compare(reference, inputs.frame, s, watch=watch, alert=alert, table=table)
    out["snapshot"] = inputs.snapshot
    out["score_values"] = s
    part = (reference.get("parts") or {}).get(PREFERENCE_PART)
    if part:
        prefs = _preference_table(inputs.preferences.loc[inputs.frame.index])
        out["parts"] = {PREFERENCE_PART: compare(part, prefs, watch=watch, alert=alert,
                                                 table=f"the preferences at {inputs.snapshot}")}
    return out


def province_decay(source, folder, snapshot=None, *, reference: dict | None = None,
                   horizon: int | None = None) -> dict | None:
    """AUC, top-decile lift and calibration where the outcome of ``snapshot - horizon`` is known at ``snapshot``.

    The potential customers of ``snapshot - horizon`` are scored as the model scores a base (inputs of
    that month aligned to the horizon) and labelled 1 when they are stable subscribers at ``snapshot``
    (the design of the out-of-time validation at training).

    Returns
    -------
    dict or None
        :func:`workbench.monitoring.compare_performance`'s result plus ``scored_at``, ``outcome_at``;
        None when ``snapshot - horizon`` is before the data start or no one (or everyone) converted.
    """
    from workbench.features._db import connection, parse_month
    from workbench.models.province import load_province_model
    from workbench.models.province_inputs import align_to_horizon
    from workbench.models.registry import load_reference
    from workbench.models.sample import OutOfTimePlan, last_data_month, out_of_time_labels

    model, spec = load_province_model(folder)
    folder = _model_folder(folder)
    reference = load_reference(folder) if reference is None else reference
    k = int(horizon if horizon is not None else spec.get("out_of_time_plan", {}).get("horizon")
            or spec["stable_months"])
    with connection(source) as con:
        last = last_data_month(con)
        first = con.execute("SELECT min(CAST(month AS DATE)) FROM monthly_usage").fetchall()[0][0]
        snap = parse_month(last if snapshot is None else snapshot)
        before = f"{snap - pd.DateOffset(months=k):%Y-%m}"
        if before < f"{pd.Timestamp(first):%Y-%m}":
            return None
        inputs = province_inputs(con, folder, before, model=model, spec=spec)
        plan = OutOfTimePlan(train_snapshot=before, eval_snapshot=f"{snap:%Y-%m}", horizon=k)
        labels = out_of_time_labels(con, plan, spec["product"], int(spec["stable_months"]),
                                    train_status=inputs.status)
    y = labels["target"].to_numpy()
    if y.sum() == 0 or y.sum() == len(y):
        return None
    frame = align_to_horizon(inputs.frame.loc[labels.index], int(spec.get("align_months", 0)))
    s = model.predict_proba(frame)[:, 1]
    out = compare_performance(reference, y, s)
    return {**out, "scored_at": before, "outcome_at": f"{snap:%Y-%m}"}


def _model_folder(folder) -> Path:
    from workbench.models.province import PROVINCE_FILE
    from workbench.runs import MODEL_DIR, RunFolder

    if isinstance(folder, RunFolder):
        return Path(folder.path) / MODEL_DIR
    p = Path(folder)
    return p if (p / PROVINCE_FILE).is_file() or not (p / MODEL_DIR).is_dir() else p / MODEL_DIR
