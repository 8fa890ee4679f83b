"""Metrics of a binary score (compute only; :mod:`workbench.viz.model` draws them).

Every function takes ``y`` (0/1 or boolean labels, 1 = positive) and ``score``
(higher = more likely positive) of the same length.

Ranking and ties
----------------
Gains, lift, capture and the quantile calibration table cut the population by
score rank (highest score first).  Rows with EQUAL scores cannot be ordered by
the score, so they are never ordered by row position either (a sample built as
"non-subscribers then subscribers" would otherwise flatter the model): when a
group of tied rows straddles a cut, its positives are shared between the two
sides in proportion to the number of rows on each side - the expected count
under a random order of the tied rows.  Sizes are whole rows; positive counts
may therefore be fractional.  Without ties every count is a whole number.

Bins: bin ``i`` (1 = top) holds the rows at rank positions
``[floor((i-1) n / k), floor(i n / k))``, so sizes differ by at most one row.
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from workbench.errors import ParameterError

__all__ = [
    "auc",
    "pr_auc",
    "ks_statistic",
    "roc_points",
    "gains_table",
    "gains_by_percentile",
    "lift_at",
    "calibration_table",
    "brier_score",
    "evaluate_classifier",
]


# ------------------------------------------------------------------ validation
def _check(y, score, *, both_classes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y)
    s_arr = np.asarray(score, dtype=np.float64) if not isinstance(score, pd.Series) else score.to_numpy(
        dtype=np.float64, na_value=np.nan)
    if y_arr.ndim != 1 or s_arr.ndim != 1:
        raise ParameterError(f"y and score must be one-dimensional; got shapes {y_arr.shape} and {s_arr.shape}.")
    if len(y_arr) != len(s_arr):
        raise ParameterError(f"y and score must have the same length; got {len(y_arr)} labels and "
                             f"{len(s_arr)} scores.")
    if len(y_arr) == 0:
        raise ParameterError("y and score are empty; at least one row is needed.")
    if pd.isna(y_arr).any():
        raise ParameterError(f"y contains {int(pd.isna(y_arr).sum())} missing label(s); labels must be 0/1.")
    if np.isnan(s_arr).any():
        raise ParameterError(f"score contains {int(np.isnan(s_arr).sum())} missing value(s) (NaN); "
                             "every row needs a score.")
    values = pd.unique(y_arr)
    bad = [v for v in values if not (v is True or v is False or (isinstance(v, (numbers.Number, np.bool_))
                                                                  and v in (0, 1)))]
    if bad:
        raise ParameterError(f"y must hold 0/1 or boolean labels; found {sorted(map(str, values))[:10]}.")
    y01 = y_arr.astype(np.int8)
    if both_classes and (y01.min() == y01.max()):
        raise ParameterError(f"y holds only one class ({int(y01[0])}); the metric needs both positives and "
                             "negatives.")
    return y01, s_arr


def _list_size(list_size, n: int) -> int:
    """A list size given as a count (int >= 1) or a share (0 < float <= 1) -> rows."""
    if isinstance(list_size, numbers.Integral) and not isinstance(list_size, bool):
        if not 1 <= list_size <= n:
            raise ParameterError.invalid("list_size", f"a count between 1 and {n} rows or a share in (0, 1]",
                                         list_size)
        return int(list_size)
    if isinstance(list_size, numbers.Real) and 0 < list_size <= 1:
        return max(1, int(round(list_size * n)))
    raise ParameterError.invalid("list_size", f"a count between 1 and {n} rows or a share in (0, 1]", list_size)


def _check_bins(n_bins, n: int) -> int:
    if not isinstance(n_bins, numbers.Integral) or isinstance(n_bins, bool) or n_bins < 1:
        raise ParameterError.invalid("n_bins", "an integer >= 1", n_bins)
    if n_bins > n:
        raise ParameterError(f"n_bins ({n_bins}) exceeds the number of rows ({n}); every bin needs a row.")
    return int(n_bins)


# ------------------------------------------------------------- rank machinery
def _ranked(y: np.ndarray, score: np.ndarray):
    """Scores sorted high to low and the expected cumulative positives C(r), r = 0..n."""
    n = len(score)
    order = np.argsort(-score, kind="stable")
    s = score[order]
    yy = y[order].astype(np.float64)
    new_group = np.r_[True, s[1:] != s[:-1]]
    gid = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.r_[starts, n])
    pos = np.add.reduceat(yy, starts)
    before = np.r_[0.0, np.cumsum(pos)[:-1]]
    r = np.arange(1, n + 1)
    g = gid[r - 1]
    cum = np.r_[0.0, before[g] + (r - starts[g]) * pos[g] / sizes[g]]
    # exact values at group ends (no rounding drift)
    cum[starts + sizes] = before + pos
    return s, cum


def _thresholds(y: np.ndarray, score: np.ndarray):
    """Distinct thresholds (high to low) and the positives / negatives scoring at or above each."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    yy = y[order]
    last = np.r_[s[1:] != s[:-1], True]
    tp = np.cumsum(yy)[last].astype(np.float64)
    fp = np.cumsum(1 - yy)[last].astype(np.float64)
    return s[last], tp, fp


# ---------------------------------------------------------------- the metrics
def auc(y, score) -> float:
    """Area under the ROC curve (ties count one half), as ``sklearn.metrics.roc_auc_score``.

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from scipy.stats import rankdata

    y, s = _check(y, score)
    ranks = rankdata(s)  # average ranks for ties
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pr_auc(y, score) -> float:
    """Average precision: ``sum_k (R_k - R_{k-1}) P_k`` over distinct thresholds (sklearn's definition)."""
    y, s = _check(y, score)
    _, tp, fp = _thresholds(y, s)
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_points(y, score) -> pd.DataFrame:
    """The ROC curve: one row per distinct threshold, from (0, 0) to (1, 1).

    Returns
    -------
    DataFrame
        ``threshold`` (a row is flagged when ``score >= threshold``; the first row
        has ``inf``), ``fpr``, ``tpr``.
    """
    y, s = _check(y, score)
    thr, tp, fp = _thresholds(y, s)
    return pd.DataFrame({
        "threshold": np.r_[np.inf, thr],
        "fpr": np.r_[0.0, fp / fp[-1]],
        "tpr": np.r_[0.0, tp / tp[-1]],
    })


def ks_statistic(y, score) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic ``max(TPR - FPR)`` and the threshold where it is reached.

    Returns
    -------
    ks : float
    threshold : float
        Flag rows with ``score >= threshold`` to reach the KS point (the highest
        such threshold when several reach it).
    """
    roc = roc_points(y, score)
    gap = (roc["tpr"] - roc["fpr"]).to_numpy()
    i = int(np.argmax(gap))
    return float(gap[i]), float(roc["threshold"].iloc[i])


def brier_score(y, score) -> float:
    """Mean squared difference between the probability ``score`` and the 0/1 label."""
    y, s = _check(y, score, both_classes=False)
    return float(np.mean((s - y) ** 2))


def gains_table(y, score, n_bins: int = 10) -> pd.DataFrame:
    """Gains / lift table by score rank (deciles by default).

    Parameters
    ----------
    y : array-like of 0/1
    score : array-like of float
    n_bins : int
        Number of equal-size bins (10 = deciles, 100 = percentiles).

    Returns
    -------
    DataFrame, one row per bin (bin 1 = highest scores)
        ``bin``, ``size``, ``positives``, ``rate`` (positives / size), ``lift``
        (rate / base rate), ``cum_size``, ``cum_share`` (of all rows),
        ``cum_positives``, ``cum_capture`` (of all positives), ``cum_rate``,
        ``cum_lift``, ``min_score``, ``max_score``.  Ties: see the module docstring.

    Examples
    --------
    >>> g = gains_table([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], n_bins=2)
    >>> g[["size", "positives", "cum_capture"]].to_numpy().tolist()
    [[2.0, 1.0, 0.5], [2.0, 1.0, 1.0]]
    """
    y, s = _check(y, score)
    n = len(y)
    k = _check_bins(n_bins, n)
    sorted_scores, cum = _ranked(y, s)
    edges = (np.arange(k + 1) * n) // k
    size = np.diff(edges)
    positives = np.diff(cum[edges])
    total = cum[-1]
    base = total / n
    cum_size = edges[1:].astype(np.int64)
    cum_pos = cum[edges[1:]]
    return pd.DataFrame({
        "bin": np.arange(1, k + 1),
        "size": size,
        "positives": positives,
        "rate": positives / size,
        "lift": positives / size / base,
        "cum_size": cum_size,
        "cum_share": cum_size / n,
        "cum_positives": cum_pos,
        "cum_capture": cum_pos / total,
        "cum_rate": cum_pos / cum_size,
        "cum_lift": cum_pos / cum_size / base,
        "min_score": sorted_scores[edges[1:] - 1],
        "max_score": sorted_scores[edges[:-1]],
    })


def gains_by_percentile(y, score) -> pd.DataFrame:
    """:func:`gains_table` with 100 bins (needs at least 100 rows)."""
    return gains_table(y, score, n_bins=100)


def lift_at(y, score, list_size=0.1) -> dict:
    """Lift and capture of the top ``list_size`` rows by score.

    Parameters
    ----------
    list_size : int or float
        A count of rows (``int >= 1``) or a share of all rows (``0 < float <= 1``).

    Returns
    -------
    dict
        ``list_size`` (rows), ``share`` (of all rows), ``positives`` (expected
        count, ties shared), ``rate``, ``base_rate``, ``lift``, ``capture``.
    """
    y, s = _check(y, score)
    n = len(y)
    k = _list_size(list_size, n)
    _, cum = _ranked(y, s)
    base = cum[-1] / n
    rate = cum[k] / k
    return {
        "list_size": k,
        "share": k / n,
        "positives": float(cum[k]),
        "rate": float(rate),
        "base_rate": float(base),
        "lift": float(rate / base),
        "capture": float(cum[k] / cum[-1]),
    }


def calibration_table(y, score, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Mean predicted probability against the observed positive rate, by bin.

    Parameters
    ----------
    n_bins : int
        Number of bins.
    strategy : {"quantile", "uniform"}
        ``quantile``: equal-size bins by score rank (bin 1 = highest scores; ties
        shared as in :func:`gains_table`); ``uniform``: equal-width score
        intervals over ``[0, 1]`` (bin 1 = ``[0, 1/n_bins)``; empty bins dropped).

    Returns
    -------
    DataFrame
        ``bin``, ``size``, ``mean_score``, ``observed_rate``, ``lower``, ``upper``
        (score range of the bin).
    """
    if strategy not in ("quantile", "uniform"):
        raise ParameterError.invalid("strategy", "one of {'quantile', 'uniform'}", strategy)
    y, s = _check(y, score, both_classes=False)
    n = len(y)
    k = _check_bins(n_bins, n) if strategy == "quantile" else n_bins
    if strategy == "quantile":
        sorted_scores, cum = _ranked(y, s)
        edges = (np.arange(k + 1) * n) // k
        size = np.diff(edges)
        csum = np.r_[0.0, np.cumsum(sorted_scores)]
        return pd.DataFrame({
            "bin": np.arange(1, k + 1),
            "size": size,
            "mean_score": np.diff(csum[edges]) / size,
            "observed_rate": np.diff(cum[edges]) / size,
            "lower": sorted_scores[edges[1:] - 1],
            "upper": sorted_scores[edges[:-1]],
        })
    if not isinstance(k, numbers.Integral) or k < 1:
        raise ParameterError.invalid("n_bins", "an integer >= 1", n_bins)
    if s.min() < 0 or s.max() > 1:
        raise ParameterError(f"strategy='uniform' needs probabilities in [0, 1]; score ranges "
                             f"from {s.min():g} to {s.max():g}.")
    idx = np.minimum((s * k).astype(int), k - 1)
    size = np.bincount(idx, minlength=k)
    sums = np.bincount(idx, weights=s, minlength=k)
    pos = np.bincount(idx, weights=y, minlength=k)
    keep = size > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "bin": np.arange(1, k + 1),
            "size": size,
            "mean_score": sums / size,
            "observed_rate": pos / size,
            "lower": np.arange(k) / k,
            "upper": np.arange(1, k + 1) / k,
        })
    return table[keep].reset_index(drop=True)


def evaluate_classifier(y, score, *, list_size=0.1, n_bins: int = 10) -> dict:
    """All the headline metrics of a score in one dict.

    Parameters
    ----------
    y : array-like of 0/1
    score : array-like of float
        Probabilities for the Brier score and calibration to be meaningful.
    list_size : int or float
        Campaign list size for ``lift_at`` (count or share of rows).
    n_bins : int
        Bins of the gains and calibration tables.

    Returns
    -------
    dict
        ``n``, ``positives``, ``base_rate``, ``auc``, ``pr_auc``, ``ks``,
        ``ks_threshold``, ``brier``, ``at_list`` (the dict of :func:`lift_at`),
        ``gains`` (DataFrame, :func:`gains_table`), ``calibration`` (DataFrame,
        :func:`calibration_table`).
    """
    y01, s = _check(y, score)
    ks, thr = ks_statistic(y01, s)
    return {
        "n": int(len(y01)),
        "positives": int(y01.sum()),
        "base_rate": float(y01.mean()),
        "auc": auc(y01, s),
        "pr_auc": pr_auc(y01, s),
        "ks": ks,
        "ks_threshold": thr,
        "brier": brier_score(y01, s),
        "at_list": lift_at(y01, s, list_size),
        "gains": gains_table(y01, s, n_bins),
        "calibration": calibration_table(y01, s, min(n_bins, len(y01))),
    }
