"""Grades A (lowest risk) .. E from the probability of bad, with bad rates increasing strictly.

Cut-offs are chosen on held-out scores (out of time, out of fold or a holdout; see
:func:`workbench.credit.model.train_credit`) by optbinning's ``OptimalBinning`` on the score with an
ascending event-rate constraint, exactly ``n`` bins of at least ``min_share`` of the rows and a least
difference of bad rate between neighbours (``min_gap``, 10 % of the overall bad rate, relative).
When the data cannot carry ``n`` such grades, the least bin share is halved (down to 1 %) and then
fewer grades are kept - the model's summary says so.

A score ``s`` gets grade ``i`` (0 = A) when ``cuts[i-1] < s <= cuts[i]``: the same rule as
:func:`workbench.monitoring` applies to a reference's grade cut points.  Cut points lie half-way
between two neighbouring training scores, so no training score sits on one.
"""
from __future__ import annotations

import string
import warnings

import numpy as np

from workbench.errors import ParameterError

__all__ = ["grade_labels", "choose_cutoffs", "grade_of", "grade_table"]


def grade_labels(n: int) -> list[str]:
    """``["A", "B", ...]`` (``n`` letters)."""
    if not 2 <= n <= 26:
        raise ParameterError.invalid("grades", "a whole number from 2 to 26", n)
    return list(string.ascii_uppercase[:n])


def _monotone(rates) -> bool:
    r = np.asarray(rates, dtype=np.float64)
    return bool(len(r) >= 1 and np.all(np.diff(r) > 0))


def _cuts_from_splits(score: np.ndarray, splits) -> list[float]:
    """optbinning's splits (``s < split`` is below) as cut points half-way between neighbouring scores."""
    u = np.unique(score)
    cuts = []
    for sp in splits:
        below, above = u[u < sp], u[u >= sp]
        if len(below) and len(above):
            cuts.append(float((below[-1] + above[0]) / 2))
    return sorted(set(cuts))


def grade_of(score, cuts) -> np.ndarray:
    """Grade index (0 = A) of each score: ``cuts[i-1] < s <= cuts[i]``."""
    return np.searchsorted(np.asarray(cuts, dtype=np.float64), np.asarray(score, dtype=np.float64), side="left")


def grade_table(score, y, cuts) -> dict:
    """``rows``, ``bads``, ``bad_rate`` and ``share`` per grade (lists, grade order)."""
    g = grade_of(score, cuts)
    k = len(cuts) + 1
    rows = np.bincount(g, minlength=k)
    bads = np.bincount(g, weights=np.asarray(y, dtype=np.float64), minlength=k)
    rate = [float(b / r) if r else None for b, r in zip(bads, rows)]
    return {"rows": rows.astype(int).tolist(), "bads": bads.round().astype(int).tolist(), "bad_rate": rate,
            "share": (rows / max(rows.sum(), 1)).tolist()}


def choose_cutoffs(score, y, n: int = 5, *, min_share: float = 0.05, min_gap: float = 0.1) -> dict:
    """Score cut points giving ``n`` grades whose bad rate increases strictly.

    Parameters
    ----------
    score : array-like
        Held-out probabilities of bad.
    y : array-like of 0/1
        1 = bad.
    n : int
        Grades wanted.
    min_share : float
        Least share of rows in a grade.
    min_gap : float
        Least difference of bad rate between neighbouring grades, relative to the overall bad rate.

    Returns
    -------
    dict
        ``cuts`` (``n_kept - 1`` increasing floats), ``labels``, ``requested``, ``kept``, ``min_share``
        and the held-out ``table`` (:func:`grade_table`).
    """
    from optbinning import OptimalBinning

    labels_all = grade_labels(n)
    s = np.asarray(score, dtype=np.float64)
    yy = np.asarray(y).astype(int)
    if len(s) == 0 or yy.min() == yy.max():
        raise ParameterError("grade cut-offs need held-out rows with bad and good outcomes; found "
                             f"{len(s)} row(s) with {int(yy.sum()) if len(s) else 0} bad.")
    base = float(yy.mean())
    u = np.unique(s)
    for k in range(n, 1, -1):
        share = min_share
        while share >= 0.01:
            ob = OptimalBinning(dtype="numerical", monotonic_trend="ascending", min_n_bins=k, max_n_bins=k,
                                min_bin_size=share, prebinning_method="quantile",
                                max_n_prebins=max(20, 4 * k), min_event_rate_diff=min_gap * base)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ob.fit(s, yy)
                except Exception:  # optbinning rejects a problem it cannot solve (too few distinct scores)
                    ob = None
            if ob is not None and ob.status in ("OPTIMAL", "FEASIBLE"):
                cuts = _cuts_from_splits(s, ob.splits)
                if len(cuts) == k - 1:
                    table = grade_table(s, yy, cuts)
                    if _monotone(table["bad_rate"]) and all(r is not None for r in table["bad_rate"]):
                        return {"cuts": cuts, "labels": labels_all[:k], "requested": n, "kept": k,
                                "min_share": share, "table": table}
            share /= 2
    # no monotone split into two grades: one cut at the median score if it separates, else none
    cut = float(np.median(u)) if len(u) > 1 else None
    if cut is not None:
        table = grade_table(s, yy, [cut])
        if _monotone(table["bad_rate"]) and all(r is not None for r in table["bad_rate"]):
            return {"cuts": [cut], "labels": labels_all[:2], "requested": n, "kept": 2, "min_share": None,
                    "table": table}
    raise ParameterError(f"the scores do not rank bad above good on the held-out rows (AUC too close to 0.5): "
                         f"no {n} grades - not even 2 - with strictly increasing bad rate exist; "
                         "check the label and the inputs.")
