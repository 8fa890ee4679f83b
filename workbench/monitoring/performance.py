"""Decay with labels: AUC, top-decile lift and calibration now against at training; the grade mix and
the bad rate per grade of a graded (credit) model.

What a reference keeps besides the binned inputs (:func:`workbench.monitoring.build_reference`):

* ``performance`` - ``auc``, ``top_decile_lift``, ``rows`` and ``calibration`` at training (best on
  held-out rows: a holdout or an out-of-time sample), from :func:`training_performance`.  The
  calibration is the mean predicted probability and the observed positive rate in each bin of the
  reference's *score* bins (fixed at training), so "now" is measured in the same bins.
* ``grades`` - the grade mix at training (``levels`` best first, ``shares``, the ``other`` and missing
  buckets as for a categorical feature), the bad rate per grade when labels were known, and optionally
  the score ``cuts`` that turn a score into a grade (so monitoring can grade a new table itself),
  from :func:`grade_reference` (attach with :func:`with_grades`).

Compute only: numbers and frames.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.monitoring.drift import (
    ALERT, CATEGORICAL, EPSILON, WATCH, _as_text, bin_shares, check_reference, check_thresholds, psi, status_of,
)

__all__ = ["training_performance", "compare_performance", "grade_reference", "with_grades", "grades_from_score",
           "compare_grades"]


def _labels(y, name: str = "y") -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ParameterError.invalid(name, "0/1 or boolean labels", arr[:5].tolist()) from None
    if not np.isin(out, (0.0, 1.0)).all():
        bad = np.unique(out[~np.isin(out, (0.0, 1.0))])[:5].tolist()
        raise ParameterError.invalid(name, "0/1 or boolean labels", bad)
    return out.astype(np.int8)


def _score(score, n: int, name: str = "score") -> np.ndarray:
    s = np.asarray(score, dtype=np.float64).ravel()
    if len(s) != n:
        raise ParameterError(f"{name} has {len(s)} values; expected one per label ({n}).")
    return s


def _score_bin(reference_score: dict, s: np.ndarray) -> np.ndarray:
    edges = np.asarray(reference_score["edges"], dtype=np.float64)
    return np.searchsorted(edges, s, side="left")


def _calibration(reference_score: dict | None, y: np.ndarray, s: np.ndarray) -> list[dict]:
    """Mean predicted and observed rate per reference score bin (bin 1 = lowest scores)."""
    if not reference_score:
        return []
    idx = _score_bin(reference_score, s)
    k = len(reference_score["edges"]) + 1
    rows = np.bincount(idx, minlength=k)
    pred = np.bincount(idx, weights=s, minlength=k)
    pos = np.bincount(idx, weights=y, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [{"bin": i + 1, "rows": int(rows[i]),
                 "predicted": float(pred[i] / rows[i]) if rows[i] else None,
                 "observed": float(pos[i] / rows[i]) if rows[i] else None} for i in range(k)]


def _headline(y: np.ndarray, s: np.ndarray) -> dict:
    from workbench.metrics.classification import auc, lift_at

    if y.min() == y.max():
        return {"auc": None, "top_decile_lift": None, "rows": int(len(y)), "positive_rate": float(y.mean())}
    return {"auc": auc(y, s), "top_decile_lift": lift_at(y, s, 0.1)["lift"], "rows": int(len(y)),
            "positive_rate": float(y.mean())}


def training_performance(reference: dict, y, score, *, basis: str = "holdout") -> dict:
    """The ``performance`` entry of a reference: AUC, top-decile lift and calibration of ``score``.

    Parameters
    ----------
    reference : dict
        The reference (its ``score`` bins cut the calibration).
    y : array-like of 0/1
        Labels of rows the model did not learn from, at best (holdout, out of time).
    score : array-like
        The model's probabilities on those rows.
    basis : str
        Where the figures come from (stored as given, e.g. ``"holdout"``, ``"out_of_time"``).

    Returns
    -------
    dict
        ``auc``, ``top_decile_lift``, ``rows``, ``positive_rate``, ``calibration`` (list of ``bin``,
        ``rows``, ``predicted``, ``observed``), ``basis``.
    """
    yy = _labels(y)
    if len(yy) == 0:
        raise ParameterError("training performance needs labelled rows; y has none.")
    s = _score(score, len(yy))
    return {**_headline(yy, s), "calibration": _calibration(reference.get("score"), yy, s), "basis": basis}


def compare_performance(reference: dict, y, score) -> dict:
    """AUC, top-decile lift and calibration now (labels ``y``, scores ``score``) against at training.

    Returns
    -------
    dict
        ``training`` and ``now`` (``auc``, ``top_decile_lift``, ``rows``, ``positive_rate``; training
        values are None when the reference has none), ``change`` (now - training of AUC and lift) and
        ``calibration``: DataFrame ``bin``, ``training_predicted``, ``training_observed``, ``rows``,
        ``predicted``, ``observed`` (one row per reference score bin).
    """
    check_reference(reference)
    yy = _labels(y)
    if len(yy) == 0:
        raise ParameterError("no labelled rows to measure performance on.")
    s = _score(score, len(yy))
    train = reference.get("performance") or {}
    now = _headline(yy, s)
    keys = ("auc", "top_decile_lift", "rows", "positive_rate")
    training = {k: train.get(k) for k in keys}
    change = {k: (None if training[k] is None or now[k] is None else now[k] - training[k])
              for k in ("auc", "top_decile_lift")}
    cols = ["bin", "rows", "predicted", "observed"]
    cal_now = pd.DataFrame(_calibration(reference.get("score"), yy, s), columns=cols)
    cal_tr = pd.DataFrame(train.get("calibration") or [], columns=cols)
    cal = cal_now.merge(cal_tr.rename(columns={"rows": "training_rows", "predicted": "training_predicted",
                                               "observed": "training_observed"}), on="bin", how="left")
    cal = cal[["bin", "training_predicted", "training_observed", "rows", "predicted", "observed"]]
    return {"training": training, "now": now, "change": change, "calibration": cal}


# ------------------------------------------------------------------ grades
def grade_reference(grades, bad=None, *, levels=None, cuts=None) -> dict:
    """The grade mix (and bad rate per grade) at training.

    Parameters
    ----------
    grades : array-like
        The grade of every training row (text or codes).
    bad : array-like of 0/1, optional
        1 = the row turned out bad (e.g. unpaid); gives the bad rate per grade.
    levels : sequence, optional
        The grades in order (best first); default the grades seen, sorted.
    cuts : sequence of float, optional
        Score cut points of the grades, increasing: a score ``<= cuts[0]`` gets ``levels[0]``, up to
        ``> cuts[-1]`` getting ``levels[-1]`` (so ``len(levels) == len(cuts) + 1``).  With cuts the
        monitor grades a new table from its scores (:func:`grades_from_score`).

    Returns
    -------
    dict
        ``kind`` (categorical), ``levels``, ``shares`` (levels, other, missing), ``bad_rate`` (per level,
        None without labels or rows), ``rows``, ``cuts`` (or None).
    """
    g = pd.Series(np.asarray(grades, dtype=object).ravel())
    if len(g) == 0:
        raise ParameterError("a grade reference needs graded rows; grades is empty.")
    text = _as_text(g)
    lv = sorted(text.dropna().unique().tolist()) if levels is None else [str(v) for v in levels]
    if not lv:
        raise ParameterError("a grade reference needs at least one grade; every grade is missing.")
    if cuts is not None:
        cuts = [float(c) for c in cuts]
        if len(cuts) != len(lv) - 1 or any(b <= a for a, b in zip(cuts[:-1], cuts[1:])):
            raise ParameterError.invalid("cuts", f"{len(lv) - 1} increasing score cut points (one fewer than "
                                         f"the {len(lv)} levels)", cuts)
    ref = {"kind": CATEGORICAL, "levels": lv, "rows": int(len(g)), "cuts": cuts}
    ref["shares"] = bin_shares(ref, g).tolist()
    ref["bad_rate"] = _bad_rates(lv, text, bad)
    return ref


def _bad_rates(levels: list[str], text: pd.Series, bad) -> list | None:
    if bad is None:
        return None
    b = _labels(bad, "bad")
    if len(b) != len(text):
        raise ParameterError(f"bad has {len(b)} values; expected one per grade ({len(text)}).")
    codes = pd.Index(levels, dtype=object).get_indexer(text.to_numpy())
    keep = codes >= 0
    n = np.bincount(codes[keep], minlength=len(levels))
    k = np.bincount(codes[keep], weights=b[keep], minlength=len(levels))
    return [float(k[i] / n[i]) if n[i] else None for i in range(len(levels))]


def with_grades(reference: dict, grades, bad=None, *, levels=None, cuts=None) -> dict:
    """A copy of ``reference`` with its ``grades`` entry (:func:`grade_reference`)."""
    check_reference(reference)
    return {**reference, "grades": grade_reference(grades, bad, levels=levels, cuts=cuts)}


def grades_from_score(reference: dict, score) -> np.ndarray:
    """Grades of ``score`` by the reference's grade cut points.

    Raises
    ------
    ParameterError
        The reference has no grades or its grades have no cut points.
    """
    g = reference.get("grades") or {}
    if not g.get("cuts"):
        raise ParameterError("the reference has no grade cut points: pass the grades of the new rows instead "
                             "(expected reference['grades']['cuts'], found none).")
    s = np.asarray(score, dtype=np.float64).ravel()
    idx = np.searchsorted(np.asarray(g["cuts"], dtype=np.float64), s, side="left")
    return np.asarray(g["levels"], dtype=object)[idx]


def compare_grades(reference: dict, grades, bad=None, *, watch: float = WATCH, alert: float = ALERT) -> dict:
    """The grade mix now against at training (PSI, status), and the bad rate per grade with labels.

    Returns
    -------
    dict
        ``psi``, ``status``, ``table``: DataFrame ``grade``, ``expected`` (training share),
        ``actual`` (share now), ``training_bad_rate``, ``bad_rate`` (None without labels).

    Raises
    ------
    ParameterError
        The reference has no grades.
    """
    check_reference(reference)
    watch, alert = check_thresholds(watch, alert)
    ref = reference.get("grades")
    if not ref:
        raise ParameterError("the reference has no grade mix: build it with with_grades() at training "
                             "(expected reference['grades'], found none).")
    g = pd.Series(np.asarray(grades, dtype=object).ravel())
    if len(g) == 0:
        raise ParameterError("no graded rows to compare with the training grade mix.")
    actual = bin_shares(ref, g)
    value = psi(ref["shares"], actual, epsilon=float(reference.get("epsilon", EPSILON)))
    lv = list(ref["levels"])
    now_bad = _bad_rates(lv, _as_text(g), bad) if bad is not None else [None] * len(lv)
    train_bad = ref.get("bad_rate") or [None] * len(lv)
    table = pd.DataFrame({"grade": lv, "expected": ref["shares"][:len(lv)], "actual": actual[:len(lv)],
                          "training_bad_rate": train_bad, "bad_rate": now_bad})
    return {"psi": value, "status": status_of(value, watch, alert), "table": table}

