"""Scores of a province model: the scored base (:func:`score_base`) and a saved model re-scored on a later month.

* :func:`score_base` - every user of a frame: score, rank, decile, top-3 reasons in words and as
  codes (TreeSHAP of the best ``reason_rows``), best edition and runner-up (:data:`SCORE_COLUMNS`);
  what :meth:`workbench.models.province.ProvincePipeline.score` writes to ``scores.parquet``;
* :func:`load_province_model` / :func:`score_province` - the model folder written by
  :meth:`~workbench.models.province.ProvincePipeline.save` (``province.json`` beside the registry's
  files, no pickle) and the potential customers of a later snapshot scored with it, their inputs
  rebuilt exactly as at training.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.features import build_features, subscriber_status
from workbench.features._db import check_positive_int, parse_month
from workbench.models.preference import PreferenceModel, counts_from_features, match_editions
from workbench.models.province_inputs import align_to_horizon, feature_labels, model_frame, value_labels
from workbench.models.sample import last_data_month

__all__ = ["SCORE_COLUMNS", "PROVINCE_FILE", "DEFAULT_REASON_ROWS", "score_base", "load_province_model",
           "score_province"]

_ID = "subscriber_id"
#: Columns of ``scores.parquet``.
SCORE_COLUMNS: tuple[str, ...] = ("subscriber_id", "score", "rank", "decile", "reason_1", "reason_2", "reason_3",
                                  "edition", "edition_2", "reason_1_code", "reason_2_code", "reason_3_code")
#: The province model's own file in the registry folder.
PROVINCE_FILE = "province.json"
#: Users (best first) whose top-3 reasons are written; below them reasons are left missing.
DEFAULT_REASON_ROWS = 100_000


def score_base(model, frame: pd.DataFrame, preferences: pd.DataFrame, editions: pd.DataFrame, *, reasons: int = 3,
               reason_rows: int = DEFAULT_REASON_ROWS, lang: str | None = None,
               progress: bool = False, observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score a base: :data:`SCORE_COLUMNS`, best first.

    Parameters
    ----------
    model : TargetModel
        Fitted or loaded.
    frame : DataFrame
        The model's inputs indexed by ``subscriber_id`` (aligned to the horizon when the model expects it).
    preferences : DataFrame
        Content preferences of (at least) the same users.
    editions : DataFrame
        The family's editions (``edition``, ``content_category``).
    reasons : int
        Reasons per user (0 = none).
    reason_rows : int
        Reasons are computed for the ``reason_rows`` best-scored users only (TreeSHAP
        costs far more than a score: on a million users it takes many minutes); the
        value of a reason is still described by its position among ALL scored users.
    lang : {"zh", "en"}, optional
    progress : bool
    observed : DataFrame, optional
        The same users as they are observed, when ``frame`` is aligned to the horizon: the reasons
        say these values (a caller tells the real tenure, not the aligned one).

    Returns
    -------
    DataFrame
        ``subscriber_id, score, rank, decile, reason_1..3, edition, edition_2, reason_1..3_code`` (the
        reasons in words, and as codes: :class:`workbench.models.reason_words.Reason`).
    """
    from workbench.models.explain import contributions, reason_codes
    from workbench.models.registry import rank_scores
    from workbench.models.schema import take_rows

    reason_rows = check_positive_int(reason_rows, "reason_rows")
    if frame.index.has_duplicates or frame.index.hasnans:
        raise DataValidationError(f"the scored frame's {_ID} index must be unique and complete")
    # encoded once: the scores, the SHAP values of the best users and the reasons' positions all read it
    encoded = model.encode(frame)
    p = model._booster_predict(encoded) if len(frame) else np.empty(0)
    ranked, order = rank_scores(frame.index.to_numpy(), p, _ID)
    scored = ranked.iloc[order].reset_index(drop=True)
    ids = scored[_ID].to_numpy()
    if reasons:
        top = np.sort(order[:reason_rows])                  # positions of the best users, in frame order
        shap = contributions(model, frame.iloc[top], progress=progress, encoded=take_rows(encoded, top))
        codes = reason_codes(model, frame, top=reasons, feature_labels=feature_labels(lang),
                             value_labels=value_labels(lang), lang=lang, scope="province", shap=shap,
                             encoded=encoded, rows=top, values=None if observed is frame else observed)
        for i in range(1, reasons + 1):
            for col in (f"reason_{i}", f"reason_{i}_code"):
                scored[col] = codes[col].to_numpy()[order]
    for i in range(1, 4):
        for col in (f"reason_{i}", f"reason_{i}_code"):
            if col not in scored.columns:
                scored[col] = pd.array([None] * len(scored), dtype="str")
    matches = match_editions(preferences.loc[ids], editions)
    scored["edition"] = matches["edition"].to_numpy()
    scored["edition_2"] = matches["edition_2"].to_numpy()
    return scored[list(SCORE_COLUMNS)]


# ------------------------------------------------------------------ re-scoring a saved model
def load_province_model(folder):
    """The saved model of ``folder`` and its province spec (``province.json``; no pickle).

    ``folder`` is the model folder or a run folder (path or :class:`workbench.runs.RunFolder`) holding ``model/``.

    Returns
    -------
    (TargetModel, dict)

    Raises
    ------
    ParameterError
        The folder holds no province model.
    """
    from workbench.models.registry import load_model
    from workbench.runs import MODEL_DIR, RunFolder

    if isinstance(folder, RunFolder) or (not (Path(folder) / PROVINCE_FILE).is_file()
                                         and (Path(folder) / MODEL_DIR).is_dir()):
        folder = RunFolder.of(folder).model_dir()   # a run folder: its model/ (recorded as an input)
    folder = Path(folder)
    path = folder / PROVINCE_FILE
    if not path.is_file():
        raise ParameterError(f"{str(folder)!r} holds no {PROVINCE_FILE}: it was not saved by ProvincePipeline.save()")
    spec = json.loads(path.read_text(encoding="utf-8"))
    if spec.get("format", {}).get("name") != "workbench.province_model":
        raise ParameterError(f"{str(path)!r} is not a province model spec (format {spec.get('format')!r})")
    return load_model(folder), spec


def score_province(source, folder, snapshot=None, *, reasons: int = 3, reason_rows: int = DEFAULT_REASON_ROWS,
                   lang: str | None = None, progress: bool = False) -> pd.DataFrame:
    """Score the potential customers of ``snapshot`` with a saved province model.

    The inputs are rebuilt exactly as at training: the catalogue features of
    ``snapshot`` and the preference columns from the saved preference model
    (its prior mix and strength, not refitted).

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    folder : path or workbench.runs.RunFolder
        ``<run_dir>/model`` written by :meth:`ProvincePipeline.save`, or the run folder itself.
    snapshot : "YYYY-MM", optional
        Default: the last month of the data.
    reasons, reason_rows : int
        Reason codes per user, and for how many of the best-scored users (:func:`score_base`).
    lang : {"zh", "en"}, optional
    progress : bool

    Returns
    -------
    DataFrame
        :data:`SCORE_COLUMNS`, best first.
    """
    from workbench.features._db import connection

    model, spec = load_province_model(folder)
    with connection(source) as con:
        snap = last_data_month(con) if snapshot is None else f"{parse_month(snapshot):%Y-%m}"
        feats = build_features(con, snap, int(spec["window"]))
        status = subscriber_status(con, spec["product"], snap, int(spec["stable_months"]), base=feats.index)
    pm = PreferenceModel.from_dict(spec["preference_model"])
    prefs = pm.transform(counts_from_features(feats, pm.categories_))
    editions = pd.DataFrame(spec["editions"]).astype("str")
    columns = list(spec["columns"])
    frame = model_frame(feats, columns, prefs, editions)
    pot = status.index[~status["active"].to_numpy(dtype=bool)]
    observed = frame.loc[pot]
    months = int(spec.get("align_months", 0))
    aligned = align_to_horizon(observed, months) if months else observed
    return score_base(model, aligned, prefs, editions, reasons=reasons, reason_rows=reason_rows, lang=lang,
                      progress=progress, observed=observed)
