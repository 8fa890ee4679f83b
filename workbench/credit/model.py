"""Segmented credit models for any table: train, grade, score, save (JSON, no pickle).

:func:`train_credit` does, for a table with a bad/good label:

1. **Prepare** - :func:`workbench.models.generic.prepare_training_data` (label to 0/1, rows without a
   label dropped, constant / id-like / date columns dropped, leakage flagged).
2. **Validation rows** - ``oot`` (rows of a later cohort) when given; else 5-fold stratified
   cross-validation per segment up to ``cv_max_rows`` rows (small tables lose no rows to a split),
   and a stratified 20 % holdout above.
3. **Segments** - :func:`workbench.credit.segments.plan_segments` (small segments merged, stated).
4. **Per segment, three methods** (:mod:`workbench.credit.methods`): shallow tree, WoE scorecard,
   monotone LightGBM, each trained on the training rows (a segment with more than ``compare_rows``
   training rows: a stratified sample of that many) and measured on the validation rows
   (AUC, the train - validation AUC gap, the PSI of the score between them).  The method kept is
   the best by the *stability-adjusted AUC*
   ``auc_val - 0.5 * max(0, gap - 0.03) - 0.1 * max(0, psi - 0.1)``; a more readable method
   (tree, then scorecard) is preferred when within ``prefer_readable`` (0.005) of the best.
5. **Final model** - out of time or holdout: the model trained on the training rows (compared on
   a sample: the method kept, refit on all training rows; its validation scores are truly held
   out, and the grade cut-offs are chosen on them); by
   cross-validation: the chosen method refit on all the segment's rows.
6. **Grades** - :func:`workbench.credit.grades.choose_cutoffs` on all held-out scores together, so a
   grade means one risk level in every segment.
7. **Monitoring reference** - :func:`workbench.monitoring.build_reference` of the used inputs and
   the score on all rows (at most ``REFERENCE_ROWS``, a random sample), with the grade mix and bad
   rate per grade of the held-out rows (``reference["grades"]``: levels, cuts, shares, bad_rate).

A model folder holds ``credit.json`` (format, label, settings, every segment's encoder and model
as JSON: tree nodes, scorecard bins and points, or the name of a LightGBM text file
``lightgbm_<n>.txt``, the grade cut-offs), ``summary.json`` and ``reference.json``.  It is written to
a temporary sibling folder and renamed into place, so a failure leaves nothing half-written.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.credit.grades import choose_cutoffs, grade_of, grade_table
from workbench.credit.methods import (
    METHODS,
    Encoder,
    LightGBMMethod,
    ScorecardMethod,
    TreeMethod,
    method_from_dict,
)
from workbench.credit.segments import WHOLE, plan_segments, route, segment_keys
from workbench.errors import DataValidationError, ParameterError, Words, column_missing

__all__ = ["FORMAT", "MODEL_FILE", "SUMMARY_FILE", "ROW_COLUMN", "CreditModel", "train_credit", "load_credit_model",
           "is_credit_model", "stability_adjusted_auc"]

#: Format tag and version of ``credit.json``.
FORMAT = {"name": "workbench.credit_model", "version": 1}
MODEL_FILE, SUMMARY_FILE, REFERENCE_FILE = "credit.json", "summary.json", "reference.json"
#: Name of the row-number column of scores of a model trained without an id column (1 = first row).
ROW_COLUMN = "row"
#: Training rows (a stratified sample) of a large segment on which the methods are compared.  Not lower: the
#: tree and the scorecard already learn their structure on 50,000 rows, so below this the refit of the winner
#: (usually LightGBM) costs more than the sample saves (the province benchmark: 16.0 CPU s with 50,000 against
#: 12.9 comparing on all rows).
COMPARE_ROWS = 200_000
#: Training rows (a random sample) on which the training AUC and the score PSI of a method are measured.
TRAIN_SAMPLE = 50_000
#: Rows (a random sample) of the monitoring reference: shares of 10 bins need no more.
REFERENCE_ROWS = 100_000
#: Rows from which :meth:`CreditModel.predict_score` scores the segments side by side (threads).
PARALLEL_SCORE_ROWS = 20_000
#: Readability order of the methods (ties go to the first).
READABLE = ("tree", "scorecard", "lightgbm")


def stability_adjusted_auc(auc_val: float, auc_train: float, psi: float) -> float:
    """``auc_val - 0.5 * max(0, (auc_train - auc_val) - 0.03) - 0.1 * max(0, psi - 0.1)``."""
    gap = max(0.0, (auc_train - auc_val) - 0.03)
    return float(auc_val - 0.5 * gap - 0.1 * max(0.0, psi - 0.1))


def _auc(y, s) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if len(y) == 0 or y.min() == y.max():
        return None
    return float(roc_auc_score(y, s))


def _psi(a, b) -> float:
    from workbench.monitoring import bin_shares, build_reference, psi

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        return 0.0
    ref = build_reference(pd.DataFrame({"s": a}), None)["features"]["s"]
    return psi(ref["shares"], bin_shares(ref, b))


class _Fitted:
    """One method fitted on a segment: the method object and its encoder."""

    def __init__(self, encoder: Encoder, method):
        self.encoder = encoder
        self.method = method

    def predict(self, X: pd.DataFrame, Z: np.ndarray | None = None) -> np.ndarray:
        """P(bad) of the rows of ``X`` (``Z``: their encoded matrix when already computed)."""
        if isinstance(self.method, ScorecardMethod):
            return self.method.predict_frame(X)
        return self.method.predict(self.encoder.transform(X) if Z is None else Z)


def _fit_method(name: str, X: pd.DataFrame, y: np.ndarray, seed: int, rounds: int | None = None,
                enc: Encoder | None = None, Z: np.ndarray | None = None) -> _Fitted:
    """Fit one method; ``enc`` (fitted on these rows) and ``Z`` (its matrix of ``X``) when already computed."""
    enc = enc if enc is not None else Encoder.fit(X, y)
    if not enc.features:
        raise ParameterError("no input varies within the segment.")
    if name == "scorecard":
        return _Fitted(enc, ScorecardMethod().fit(X, y, enc.features, seed=seed))
    Z = enc.transform(X) if Z is None else Z
    if name == "tree":
        return _Fitted(enc, TreeMethod().fit(Z, y, enc.features, seed=seed))
    return _Fitted(enc, LightGBMMethod().fit(Z, y, enc.features, seed=seed, rounds=rounds))


class CreditModel:
    """A trained segmented credit model (see :func:`train_credit`).

    Attributes
    ----------
    spec : dict
        Everything ``credit.json`` holds (label, settings, segments with their models, grades).
    summary : dict
        ``rows``, ``bads``, ``bad_rate``, ``validation``, ``grades`` (labels, cutoffs, held-out
        ``bad_rate``/``share``/``rows`` per grade, requested/kept), ``segments`` (one per original
        segment: ``segment``, ``rows``, ``bads``, ``bad_rate``, ``merged_into`` or None, ``model_segment``),
        ``models`` (one per modelled segment: ``segment``, ``members``, ``rows``, ``bads``,
        ``bad_rate``, ``method``, ``auc_oot`` / ``auc_train`` / ``psi`` / ``adjusted`` per method,
        ``grade_bad_rates``, ``grade_shares``), ``merges``, ``dropped``, ``leakage``, ``notes``.
    reference : dict
        The monitoring reference.
    """

    def __init__(self, spec: dict, fitted: dict, summary: dict, reference: dict | None):
        self.spec = spec
        self._fitted = fitted
        self.summary = summary
        self.reference = reference
        self.row_scores = None  # set by train_credit(score_rows=True)

    # ---------------------------------------------------------------- properties
    @property
    def id_col(self) -> str | None:
        return self.spec["id_col"]

    @property
    def segment_columns(self) -> list[str]:
        return list(self.spec["segment_columns"])

    @property
    def cutoffs(self) -> list[float]:
        return list(self.spec["grades"]["cuts"])

    @property
    def grade_labels(self) -> list[str]:
        return list(self.spec["grades"]["labels"])

    @property
    def inputs(self) -> list[str]:
        """Every column scoring needs: segment columns, then each segment model's inputs."""
        cols = list(self.segment_columns)
        for seg in self.spec["segments"]:
            cols += [f["name"] for f in seg["encoder"]]
        return list(dict.fromkeys(cols))

    # ---------------------------------------------------------------- scoring
    def _check(self, frame, table: str) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError.invalid("frame", "a pandas DataFrame", type(frame).__name__)
        missing = [c for c in self.inputs if c not in frame.columns]
        if missing:
            found = str(list(map(str, frame.columns)))
            exc = DataValidationError.keyed(
                f"{table} lacks column(s) {missing} the credit model uses; expected {self.inputs}, found {found}",
                "errors.credit.lacks_columns", table=table, missing=str(missing), expected=str(list(self.inputs)),
                found=found)
            exc.problems = [{"table": str(table), "column": c, "check": "present", "count": 1, "examples": []}
                            for c in missing]
            raise exc

    def predict_score(self, frame: pd.DataFrame, table: str = "the table") -> tuple[np.ndarray, np.ndarray]:
        """``(segment name, P(bad))`` of every row."""
        self._check(frame, table)
        groups = {s["name"]: {"keys": s["keys"]} for s in self.spec["segments"]}
        seg = route(segment_keys(frame, self.segment_columns), groups, self.segment_columns, table)
        score = np.empty(len(frame), dtype=np.float64)
        parts = [np.flatnonzero(seg == name) for name in pd.unique(seg)]

        def one(rows):
            score[rows] = self._fitted[seg[rows[0]]].predict(frame.iloc[rows])

        # segments side by side on the cores when there is enough to score (LightGBM and the encoders' numpy
        # work release the GIL); each segment's rows are scored by its own model either way
        workers = min(len(parts), os.cpu_count() or 1) if len(frame) >= PARALLEL_SCORE_ROWS else 1
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, parts))
        else:
            for rows in parts:
                one(rows)
        return seg, np.clip(score, 0.0, 1.0)

    def grade(self, score) -> np.ndarray:
        """Grade letters of probabilities of bad (``cuts[i-1] < s <= cuts[i]`` is grade ``i``)."""
        return np.asarray(self.grade_labels, dtype=object)[grade_of(score, self.cutoffs)]

    def score(self, frame: pd.DataFrame, table: str = "the table") -> pd.DataFrame:
        """``<id_col or "row">``, ``segment``, ``score`` (P(bad)), ``grade`` of every row of ``frame``.

        Without an id column, ``row`` numbers the rows from 1 in their order.
        """
        seg, s = self.predict_score(frame, table)
        if self.id_col is not None:
            if self.id_col not in frame.columns:
                raise DataValidationError(
                    f"{table} lacks the id column {self.id_col!r} the credit model was trained with; found "
                    f"{list(map(str, frame.columns))[:40]}",
                    [{"table": table, "column": self.id_col, "check": "present", "count": 1, "examples": []}])
            ids, id_name = frame[self.id_col].to_numpy(), self.id_col
        else:
            ids, id_name = np.arange(1, len(frame) + 1), ROW_COLUMN
        return pd.DataFrame({id_name: ids, "segment": seg, "score": s, "grade": self.grade(s)})

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """``[[P(good), P(bad)], ...]`` (scikit-learn's shape, for monitoring)."""
        _, s = self.predict_score(frame)
        return np.column_stack([1 - s, s])

    def rules(self, language: str | None = None) -> list[dict]:
        """Readable rules per segment (:func:`workbench.credit.rules.model_rules`)."""
        from workbench.credit.rules import model_rules

        return model_rules(self, language)

    # ---------------------------------------------------------------- files
    def save(self, folder) -> Path:
        """Write the model folder (temporary sibling, then renamed into place).

        Raises
        ------
        ParameterError
            ``folder`` exists and is not a credit model folder (nothing is replaced then).
        """
        from workbench.models.registry import to_jsonable

        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or (any(folder.iterdir())
                                                        and not (folder / MODEL_FILE).is_file())):
            raise ParameterError(f"the model folder {str(folder)!r} exists and is not a credit model folder "
                                 f"(no {MODEL_FILE}); expected a new or a credit model folder, found "
                                 f"{sorted(p.name for p in folder.iterdir())[:10] if folder.is_dir() else 'a file'}.")
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
        tmp.mkdir()
        try:
            spec = json.loads(json.dumps(to_jsonable(self.spec)))
            for i, seg in enumerate(spec["segments"]):
                fitted = self._fitted[seg["name"]]
                if isinstance(fitted.method, LightGBMMethod):
                    fname = f"lightgbm_{i}.txt"
                    (tmp / fname).write_text(fitted.method.model_text, encoding="utf-8")
                    seg["model"]["model_file"] = fname
            for name, data in ((MODEL_FILE, spec), (SUMMARY_FILE, self.summary), (REFERENCE_FILE, self.reference)):
                if data is not None:
                    (tmp / name).write_text(json.dumps(to_jsonable(data), ensure_ascii=False, indent=1,
                                                       allow_nan=False) + "\n", encoding="utf-8")
            old = None
            if folder.exists():
                old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
                folder.rename(old)
            tmp.rename(folder)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder


def is_credit_model(folder) -> bool:
    """Whether ``folder`` is a credit model folder (holds ``credit.json``)."""
    return (Path(folder) / MODEL_FILE).is_file()


def load_credit_model(folder) -> CreditModel:
    """Rebuild a saved :class:`CreditModel` (no pickle).

    Raises
    ------
    ParameterError
        The folder is missing, is not a credit model folder, or holds an unsupported format.
    """
    folder = Path(folder)
    if not folder.is_dir() or not (folder / MODEL_FILE).is_file():
        found = str(sorted(p.name for p in folder.iterdir())[:10]) if folder.is_dir() \
            else Words("errors.credit.no_such_folder")
        raise ParameterError.keyed(f"{str(folder)!r} is not a credit model folder: expected {MODEL_FILE} written "
                                   f"by `workbench credit train`, found {found}.", "errors.credit.not_a_model",
                                   folder=repr(str(folder)), file=MODEL_FILE, found=found)
    spec = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    fmt = spec.get("format", {})
    if fmt.get("name") != FORMAT["name"] or fmt.get("version", 0) > FORMAT["version"]:
        raise ParameterError(f"{str(folder / MODEL_FILE)!r} holds format {fmt!r}; this workbench reads "
                             f"{FORMAT['name']!r} up to version {FORMAT['version']}.")
    fitted = {}
    for seg in spec["segments"]:
        text = None
        if seg["model"]["method"] == "lightgbm":
            text = (folder / seg["model"]["model_file"]).read_text(encoding="utf-8")
        fitted[seg["name"]] = _Fitted(Encoder(seg["encoder"]), method_from_dict(seg["model"], text))
    summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8")) \
        if (folder / SUMMARY_FILE).is_file() else {}
    ref_path = folder / REFERENCE_FILE
    reference = json.loads(ref_path.read_text(encoding="utf-8")) if ref_path.is_file() else None
    for seg in spec["segments"]:
        seg["values"] = tuple(seg["values"])
        seg.setdefault("keys", [list(seg["values"])])  # folders written before segments listed their combinations
    return CreditModel(spec, fitted, summary, reference)


# ====================================================================== training
def _check_inputs(frame, target, id_col, segments, grades, oot, min_segment_rows, min_segment_bads,
                  cv_max_rows, compare_rows, table):
    from workbench.checks import check_int

    if not isinstance(frame, pd.DataFrame):
        raise ParameterError.invalid("frame", "a pandas DataFrame", type(frame).__name__)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise ParameterError(f"{table} is empty ({len(frame)} rows, {frame.shape[1]} columns); expected a header "
                             "and rows with a label.")
    cols = list(map(str, frame.columns))
    for role, col in (("target", target), ("id", id_col)):
        if col is not None and col not in frame.columns:
            raise column_missing(role, col, table, str(cols[:40]))
    segments = list(segments or [])
    unknown = [c for c in segments if c not in frame.columns]
    if unknown:
        raise column_missing("segment", unknown, table, str(cols[:40]))
    clash = [c for c in segments if c in (target, id_col)]
    if clash:
        raise ParameterError(f"segment column(s) {clash} are the target or the id column; a segment column must be "
                             "another column.")
    if len(set(segments)) != len(segments):
        raise ParameterError.invalid("segments", "distinct column names", segments)
    grades = check_int("grades", grades, 2, 26)
    check_int("min_segment_rows", min_segment_rows, 20, None)
    check_int("min_segment_bads", min_segment_bads, 5, None)
    check_int("cv_max_rows", cv_max_rows, 0, None)
    check_int("compare_rows", compare_rows, 0, None)
    if oot is not None:
        o = pd.Series(oot)
        if len(o) != len(frame):
            raise ParameterError(f"oot has {len(o)} values; expected one per row of {table} ({len(frame)}).")
        if o.isna().any() or not (pd.api.types.is_bool_dtype(o.dtype)
                                  or set(pd.unique(o)) <= {0, 1}):
            raise ParameterError.invalid("oot", "true/false per row (true = held out of time)",
                                         sorted(map(str, pd.unique(o)))[:5])
        oot = o.to_numpy(dtype=bool)
        if oot.all() or not oot.any():
            raise ParameterError(f"oot marks {int(oot.sum())} of {len(oot)} rows as out of time; expected both "
                                 "training (earlier) rows and out-of-time (later) rows.")
    return segments, grades, oot


def _segment_folds(y: np.ndarray, seed: int, n_folds: int = 5):
    from sklearn.model_selection import StratifiedKFold

    k = int(min(n_folds, np.bincount(y, minlength=2).min()))
    k = max(k, 2)
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _evaluate_group(X, y, ho, mode, seed, methods, progress_bar, compare_rows=0, train_scores=False):
    """Fit every method on a segment; held-out scores and figures per method; the fitted models.

    ``train_scores``: out of time / holdout, with the methods compared on all training rows, also keep each
    method's scores of every training row (``"train_scores"``; the chosen one's are then the final scores).
    """
    out = {}
    if mode == "cv":
        folds = _segment_folds(y, seed)
        for name in methods:
            oof = np.empty(len(y))
            train_aucs, rounds = [], []
            for tr, va in folds:
                f = _fit_method(name, X.iloc[tr], y[tr], seed)
                oof[va] = f.predict(X.iloc[va])
                train_aucs.append(_auc(y[tr], f.predict(X.iloc[tr])))
                if isinstance(f.method, LightGBMMethod):
                    rounds.append(f.method.rounds)
            fold_auc = [_auc(y[va], oof[va]) for _, va in folds]
            out[name] = {"held": oof, "auc_val": float(np.mean([a for a in fold_auc if a is not None])),
                         "auc_train": float(np.mean(train_aucs)), "psi": 0.0,
                         "rounds": int(np.median(rounds)) if rounds else None}
            progress_bar.update(1)
        return out
    tr, va = np.flatnonzero(~ho), np.flatnonzero(ho)
    # a large segment is compared on a stratified sample of compare_rows training rows (AUC differences
    # between methods show as well on a large sample as on all); the winner is then refit on all of them
    # (_final_fit).  The training AUC and the score's PSI are measured on the rows a method learnt from.
    sub = _stratified_sample(tr, y[tr], compare_rows, seed) if compare_rows and len(tr) > compare_rows else tr
    # ... on at most TRAIN_SAMPLE of them (as exact as a gap and a PSI need; a prediction of all costs more)
    rng = np.random.default_rng(seed)
    few = np.sort(rng.choice(len(sub), TRAIN_SAMPLE, replace=False)) if len(sub) > TRAIN_SAMPLE else slice(None)
    Xs, Xf, Xv = X.iloc[sub], X.iloc[sub[few]], X.iloc[va]
    # one encoder and one encoded matrix per segment, shared by the methods
    enc = Encoder.fit(Xs, y[sub])
    Z = enc.transform(X) if enc.features and len(set(methods) - {"scorecard"}) else None
    zs = (lambda r: Z[r]) if Z is not None else (lambda r: None)
    keep_all = train_scores and len(sub) == len(tr)
    for name in methods:
        f = _fit_method(name, Xs, y[sub], seed, enc=enc, Z=zs(sub))
        s_all = f.predict(Xs, zs(sub)) if keep_all else None
        s_tr, s_va = s_all[few] if keep_all else f.predict(Xf, zs(sub[few])), f.predict(Xv, zs(va))
        out[name] = {"held": s_va, "auc_val": _auc(y[va], s_va), "auc_train": _auc(y[sub[few]], s_tr),
                     "psi": _psi(s_tr, s_va), "fitted": f, "compared_on": int(len(sub)),
                     "sampled": len(sub) < len(tr), "train_scores": s_all}
        progress_bar.update(1)
    return out


def _stratified_sample(rows: np.ndarray, y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """``size`` of ``rows`` (sorted) keeping the bad rate of ``y`` (one value per row)."""
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(rows, train_size=int(size), stratify=y, random_state=seed)
    return np.sort(keep)


def _final_fit(name: str, X: pd.DataFrame, y: np.ndarray, ho: np.ndarray, result: dict, seed: int) -> _Fitted:
    """The chosen method of a segment compared on a sample, refit on all its training rows; its held-out
    scores (``result["held"]``) replaced by the refit model's."""
    tr, va = np.flatnonzero(~ho), np.flatnonzero(ho)
    fitted = _fit_method(name, X.iloc[tr], y[tr], seed)
    result["held"], result["train_scores"] = fitted.predict(X.iloc[va]), None
    result["auc_final"] = _auc(y[va], result["held"])
    return fitted


def _choose(results: dict, prefer_readable: float) -> str:
    adj = {m: stability_adjusted_auc(r["auc_val"], r["auc_train"], r["psi"]) for m, r in results.items()
           if r["auc_val"] is not None}
    best = max(adj.values())
    for m in READABLE:
        if m in adj and adj[m] >= best - prefer_readable:
            return m
    return max(adj, key=adj.get)


def train_credit(frame: pd.DataFrame, *, target: str, positive, id_col: str | None = None,
                 segments: list[str] | None = None, grades: int = 5, oot=None, exclude=(),
                 min_segment_rows: int = 500,
                 min_segment_bads: int = 50, cv_max_rows: int = 20_000, holdout: float = 0.2,
                 methods=METHODS, prefer_readable: float = 0.005, compare_rows: int = COMPARE_ROWS, seed: int = 0,
                 n_jobs: int | None = None, progress: bool = True, table: str = "the table",
                 score_rows: bool = False) -> CreditModel:
    """Train segmented credit models and grade cut-offs (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        One row per applicant / subscriber: inputs and the label.
    target : str
        Label column.
    positive : object
        Its value meaning BAD (matched as text, as ``workbench model train``).
    id_col : str, optional
        Id column (never an input; kept in scores).
    segments : list of str, optional
        Segment columns (each combination of their values gets its own model when large enough).
    grades : int
        Grades wanted (A = lowest risk).
    oot : array-like of bool, optional
        True for the rows of the later cohort (out of time), used to choose and grade.
    exclude : iterable of str
        Columns never used as inputs (e.g. the cohort column that defines ``oot``).
    min_segment_rows, min_segment_bads : int
        Training rows, and bad (and good) training rows, a segment needs for its own model.
    cv_max_rows : int
        Without ``oot``, rows up to which the choice is cross-validated (above: a holdout).
    holdout : float
        Without ``oot`` and above ``cv_max_rows``: the stratified share held out.
    methods : sequence of str
        Methods compared (default all three).
    prefer_readable : float
        AUC margin within which the more readable method is kept.
    compare_rows : int
        With ``oot`` or a holdout: a segment with more training rows compares the methods on a
        stratified sample of this many, then refits the one kept on all its training rows
        (0 = compare on all rows).
    seed : int
        Seed of splits and models.
    n_jobs : int, optional
        Segments fitted at the same time (threads; default: one per core).  The result does not
        depend on it.
    progress : bool
        Show a progress bar.
    table : str
        Name of the table, for messages.
    score_rows : bool
        Also keep the final model's score of every labelled row (``model.row_scores``), so a caller
        that grades the same rows need not score them again.

    Returns
    -------
    CreditModel
        With ``row_scores`` None, or (``score_rows``) a DataFrame of the labelled rows in their
        order: ``segment`` (the modelled segment) and ``score`` (P(bad) of the final model: its
        out-of-time / holdout score on held-out rows, which is the same model's).

    Raises
    ------
    ParameterError
        Empty table, unknown target / id / segment column, a label with one class, bad ``oot``,
        or too few rows (or bads) to model even the whole table.
    """
    from tqdm.auto import tqdm

    from workbench.models.generic import prepare_training_data

    segments, grades, oot = _check_inputs(frame, target, id_col, segments, grades, oot, min_segment_rows,
                                          min_segment_bads, cv_max_rows, compare_rows, table)
    methods = tuple(methods)
    if not methods or any(m not in METHODS for m in methods):
        raise ParameterError.invalid("methods", f"a non-empty subset of {METHODS}", methods)
    keep = frame[target].notna().to_numpy()
    exclude = [c for c in dict.fromkeys(exclude or ()) if c not in segments]
    prepared = prepare_training_data(frame, target=target, positive=positive, id_col=id_col, exclude=exclude,
                                     table=table)
    X, y = prepared.X, prepared.y.astype(np.int64)
    kept = frame.loc[keep].reset_index(drop=True)
    keys = segment_keys(kept, segments)
    n = len(y)
    if oot is not None:
        ho, mode = oot[keep], "oot"
        held_bads = int(y[ho].sum())
        if held_bads == 0 or held_bads == int(ho.sum()):
            raise ParameterError(f"the out-of-time rows of {table} ({int(ho.sum())} labelled) are all "
                                 f"{'good' if held_bads == 0 else 'bad'}; expected bad and good rows to compare "
                                 "the methods and choose the grades on.")
    elif n <= cv_max_rows:
        ho, mode = None, "cv"
    else:
        from sklearn.model_selection import train_test_split

        strat = keys.astype(str) + "|" + pd.Series(y).astype(str)
        counts = strat.map(strat.value_counts())
        strat = strat.where(counts >= 2, "rare")
        _, va = train_test_split(np.arange(n), test_size=holdout, stratify=strat, random_state=seed)
        ho = np.zeros(n, dtype=bool)
        ho[va] = True
        mode = "holdout"
    plan = plan_segments(keys, y, ho, segments, min_rows=min_segment_rows, min_bads=min_segment_bads)
    notes = list(prepared.notes)
    minority = int(min(y.sum(), n - y.sum()))
    if not plan["viable"]:
        tr_rows = int(n - (ho.sum() if ho is not None else 0))
        if tr_rows < 50 or minority < 10:
            raise ParameterError(f"{table} has too few rows to model: {n} labelled rows with {int(y.sum())} bad; "
                                 "a credit model needs at least 50 training rows and 10 bad and 10 good rows.")
        notes.append({"key": "credit_model.note.small", "rows": n, "bads": int(y.sum()),
                      "min_rows": min_segment_rows, "min_bads": min_segment_bads})
    names = sorted(plan["groups"])
    assign = keys.map(plan["assign"]).to_numpy(dtype=object)
    bar = tqdm(total=len(names) * len(methods), desc="credit models", disable=not progress)
    spec_segments, fitted_all, models_summary = [], {}, []
    held_score = np.full(n, np.nan)
    final_score = np.full(n, np.nan)

    # the monitoring reference describes at most REFERENCE_ROWS rows (a random sample), scored here
    ref = np.sort(np.random.default_rng(seed).choice(n, REFERENCE_ROWS, replace=False)) if n > REFERENCE_ROWS \
        else np.arange(n)
    in_ref = np.zeros(n, dtype=bool)
    in_ref[ref] = True
    wanted = np.ones(n, dtype=bool) if score_rows else in_ref  # rows whose final score is needed

    def fit_segment(i: int, name: str):
        rows = np.flatnonzero(assign == name)
        Xs, ys = X.iloc[rows].reset_index(drop=True), y[rows]
        hos = ho[rows] if ho is not None else None
        results = _evaluate_group(Xs, ys, hos, mode, seed + i, methods, bar, compare_rows, score_rows)
        chosen = _choose(results, prefer_readable)
        r = results[chosen]
        if mode == "cv":
            fitted = _fit_method(chosen, Xs, ys, seed + i, rounds=r["rounds"])
            held_rows = rows
        else:
            fitted = _final_fit(chosen, Xs, ys, hos, r, seed + i) if r["sampled"] else r["fitted"]
            held_rows = rows[hos]
        # final scores of the wanted rows; out of time / holdout, a held-out row has its score already (the
        # final model was trained without it), and so may a training row (the final model's from the comparison)
        final, known = np.empty(len(rows)), np.zeros(len(rows), dtype=bool)
        if mode != "cv":
            final[hos], known[hos] = r["held"], True
            if r.get("train_scores") is not None:
                final[~hos], known[~hos] = r["train_scores"], True
        mine = np.flatnonzero(wanted[rows])
        todo = mine[~known[mine]]
        final[todo] = fitted.predict(Xs.iloc[todo])
        return rows, ys, chosen, results, fitted, held_rows, r["held"], rows[mine], final[mine]

    # segments are independent (own rows, own seed): fitted side by side on the cores, each method on
    # one thread for segments below THREADS_FROM_ROWS rows; results are put together in segment order
    workers = max(1, min(len(names), n_jobs or os.cpu_count() or 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                done = list(pool.map(fit_segment, range(len(names)), names))
        else:
            done = [fit_segment(i, name) for i, name in enumerate(names)]
    for name, (rows, ys, chosen, results, fitted, held_rows, held, ref_rows, final) in zip(names, done):
        held_score[held_rows] = held
        final_score[ref_rows] = final
        fitted_all[name] = fitted
        group = plan["groups"][name]
        spec_segments.append({"name": name, "values": list(group["values"]), "members": group["members"],
                              "keys": group["keys"],
                              "method": chosen, "encoder": fitted.encoder.to_dict(),
                              "model": fitted.method.to_dict()})
        models_summary.append({
            "segment": name, "members": group["members"], "rows": int(len(rows)), "bads": int(ys.sum()),
            "bad_rate": float(ys.mean()), "method": chosen,
            "auc_oot": {m: v["auc_val"] for m, v in results.items()},
            "auc_train": {m: v["auc_train"] for m, v in results.items()},
            "psi": {m: v["psi"] for m, v in results.items()},
            "compared_on": results[chosen].get("compared_on", int(len(rows))),
            "adjusted": {m: (stability_adjusted_auc(v["auc_val"], v["auc_train"], v["psi"])
                             if v["auc_val"] is not None else None) for m, v in results.items()},
        })
    bar.close()
    held = ~np.isnan(held_score)
    g = choose_cutoffs(held_score[held], y[held], grades)
    if g["kept"] < grades:
        notes.append({"key": "credit_model.note.fewer_grades", "requested": grades, "kept": g["kept"]})
    for ms in models_summary:
        rows = np.flatnonzero((assign == ms["segment"]) & held)
        tab = grade_table(held_score[rows], y[rows], g["cuts"])
        ms["grade_bad_rates"], ms["grade_shares"], ms["grade_rows"] = tab["bad_rate"], tab["share"], tab["rows"]
        ms["auc_held"] = _auc(y[rows], held_score[rows])
    spec = {
        "format": dict(FORMAT),
        "label": {"target": target, **prepared.label_definition},
        "id_col": id_col, "segment_columns": segments, "excluded": exclude,
        "settings": {"validation": mode, "grades": grades, "min_segment_rows": min_segment_rows,
                     "min_segment_bads": min_segment_bads, "cv_max_rows": cv_max_rows, "holdout": holdout,
                     "methods": list(methods), "prefer_readable": prefer_readable, "compare_rows": compare_rows,
                     "seed": seed},
        "grades": {"labels": g["labels"], "cuts": g["cuts"]},
        "segments": spec_segments,
    }
    seg_of = {m: ms["segment"] for ms in models_summary for m in ms["members"]}
    summary = {
        "rows": n, "bads": int(y.sum()), "bad_rate": float(y.mean()), "validation": mode,
        "grades": {"labels": g["labels"], "cutoffs": g["cuts"], "requested": grades, "kept": g["kept"],
                   "bad_rate": g["table"]["bad_rate"], "share": g["table"]["share"], "rows": g["table"]["rows"],
                   "basis": mode},
        "auc_held": _auc(y[held], held_score[held]),
        "segments": [{"segment": s, "rows": v["rows"], "bads": v["bads"],
                      "bad_rate": v["bads"] / v["rows"] if v["rows"] else None,
                      "model_segment": seg_of[s], "merged_into": None if seg_of[s] == s else seg_of[s]}
                     for s, v in plan["originals"].items()],
        "models": models_summary, "merges": plan["merges"], "dropped": prepared.dropped,
        "leakage": prepared.leakage, "notes": notes,
    }
    for seg in spec_segments:
        seg["values"] = tuple(seg["values"])
    model = CreditModel(spec, fitted_all, summary, None)
    Xr = X.iloc[ref].assign(**{c: kept[c].to_numpy()[ref] for c in segments})
    model.reference = _reference(model, Xr, final_score[ref], held_score[held], y[held], g)
    if score_rows:
        model.row_scores = pd.DataFrame({"segment": assign, "score": np.clip(final_score, 0.0, 1.0)})
    return model


def _reference(model: CreditModel, X: pd.DataFrame, score: np.ndarray, held_score, held_y, g: dict) -> dict:
    """The monitoring reference: inputs and score on all rows, grade mix and bad rate per grade held out."""
    from workbench.metrics.classification import auc, lift_at
    from workbench.monitoring import CATEGORICAL, build_reference

    cols = model.inputs
    kinds = {c: "categorical" for c in model.segment_columns}
    for seg in model.spec["segments"]:
        for f in seg["encoder"]:
            kinds.setdefault(f["name"], f["kind"])
    ref = build_reference(X[cols], score, kinds=kinds,
                          performance={"auc": auc(held_y, held_score), "top_decile_lift":
                                       lift_at(held_y, held_score, 0.1)["lift"], "rows": int(len(held_y)),
                                       "basis": model.spec["settings"]["validation"]})
    tab = g["table"]
    ref["grades"] = {"kind": CATEGORICAL, "levels": list(g["labels"]), "rows": int(sum(tab["rows"])),
                     "cuts": list(g["cuts"]), "shares": [*tab["share"], 0.0, 0.0], "bad_rate": tab["bad_rate"]}
    return ref


__all__ += ["WHOLE"]
