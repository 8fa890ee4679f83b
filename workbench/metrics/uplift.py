"""Uplift-model metrics: uplift and Qini curves, AUUC, Qini coefficient, uplift by decile.

Compute only; :mod:`workbench.viz.effect` draws the curves.  Every function takes
``(score, treatment, outcome)``: the model's uplift score (higher = target
first), the treatment indicator (bool or 0/1) and the observed outcome (0/1 or,
for the curves, any number such as spend).

Definitions follow scikit-uplift (``sklift.metrics``).  Units are ranked by
descending score; at each distinct score (ties are never split) with ``n`` units
targeted, ``N_T, N_C`` of them treated / control and ``Y_T, Y_C`` their summed
outcomes:

* uplift curve ``(Y_T / N_T - Y_C / N_C) * n`` (a ratio with an empty group counts as 0);
* Qini curve ``Y_T - Y_C * N_T / N_C``;
* the **random** curve is the straight line from ``(0, 0)`` to the curve's end
  point (what targeting in random order gives in expectation);
* the **perfect** uplift curve ranks treated responders first and control
  responders last; the perfect Qini curve likewise (``negative_effect=True``) or,
  when no unit can be harmed (``negative_effect=False``), jumps to the total
  increment at once and stays flat;
* :func:`auuc` and :func:`qini_coefficient` are the area between the model curve
  and the random line, divided (``normalize=True``) by the same area of the
  perfect curve: 1 for a perfect ranking, 0 for a ranking no better than random,
  negative when worse.  Unnormalised, the area uses the targeted *share* (0..1)
  on the x axis, so it is in outcome units (e.g. incremental subscribers).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ParameterError

__all__ = [
    "CURVE_COLUMNS",
    "BIN_COLUMNS",
    "uplift_curve",
    "qini_curve",
    "perfect_uplift_curve",
    "perfect_qini_curve",
    "auuc",
    "qini_coefficient",
    "uplift_by_bin",
]

#: Columns of the frames returned by the curve functions.
CURVE_COLUMNS: tuple[str, ...] = (
    "n", "share", "n_treated", "n_control", "outcome_treated", "outcome_control", "value",
)
#: Columns of :func:`uplift_by_bin`.
BIN_COLUMNS: tuple[str, ...] = (
    "bin", "n", "n_treated", "n_control", "rate_treated", "rate_control", "uplift", "score_min", "score_max",
)


# ------------------------------------------------------------------ validation
def _vector(name: str, values, *, numeric: bool = True) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ParameterError.invalid(name, "a one-dimensional array", f"shape {arr.shape}")
    if numeric:
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise ParameterError.invalid(name, "numbers", arr[:5].tolist()) from None
        if not np.isfinite(arr).all():
            raise ParameterError(
                f"The {name!r} parameter must not contain missing or infinite values; "
                f"found {int((~np.isfinite(arr)).sum())}."
            )
    return arr


def _inputs(score, treatment, outcome) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = _vector("score", score)
    y = _vector("outcome", outcome)
    t_raw = np.asarray(treatment)
    if t_raw.ndim != 1:
        raise ParameterError.invalid("treatment", "a one-dimensional array", f"shape {t_raw.shape}")
    if t_raw.dtype == bool:
        t = t_raw
    else:
        vals = pd.unique(pd.Series(t_raw))
        if not set(vals.tolist()) <= {0, 1}:
            raise ParameterError.invalid("treatment", "booleans or 0/1", sorted(map(str, vals))[:5])
        t = t_raw.astype(float) == 1
    if not (s.size == t.size == y.size):
        raise ParameterError(
            f"'score', 'treatment' and 'outcome' must have the same length. Got {s.size}, {t.size} and {y.size}."
        )
    if not t.any() or t.all():
        raise ParameterError(
            f"The 'treatment' parameter must contain both treated and control units. "
            f"Got {int(t.sum())} treated and {int((~t).sum())} control."
        )
    return s, t, y


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0.0, 1.0)).all())


# ------------------------------------------------------------------ curves
def _cumulative(s: np.ndarray, t: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    order = np.argsort(-s, kind="stable")
    s, t, y = s[order], t[order], y[order]
    # last position of each run of equal scores: ties are targeted together
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    n = last + 1
    nt = np.cumsum(t)[last]
    yt = np.cumsum(np.where(t, y, 0.0))[last]
    yc = np.cumsum(np.where(t, 0.0, y))[last]
    frame = pd.DataFrame({
        "n": np.r_[0, n], "n_treated": np.r_[0, nt], "n_control": np.r_[0, n - nt],
        "outcome_treated": np.r_[0.0, yt], "outcome_control": np.r_[0.0, yc],
    })
    frame.insert(1, "share", frame["n"] / s.size)
    return frame


def _safe_div(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _uplift_values(c: pd.DataFrame) -> np.ndarray:
    return (_safe_div(c["outcome_treated"], c["n_treated"]) - _safe_div(c["outcome_control"], c["n_control"])) * c["n"]


def _qini_values(c: pd.DataFrame) -> np.ndarray:
    return c["outcome_treated"].to_numpy(float) - c["outcome_control"].to_numpy(float) * _safe_div(
        c["n_treated"], c["n_control"]
    )


def uplift_curve(score, treatment, outcome) -> pd.DataFrame:
    """Uplift curve: ``(Y_T / N_T - Y_C / N_C) * n`` for the top-``n`` units by score.

    Parameters
    ----------
    score : array-like of float
        Predicted uplift; higher is targeted first.
    treatment : array-like of bool or 0/1
        Treatment indicator.
    outcome : array-like of float
        Observed outcome (0/1, or a number such as spend).

    Returns
    -------
    pandas.DataFrame
        One row per distinct score threshold, starting at ``n = 0``, with the
        columns of :data:`CURVE_COLUMNS` (``value`` is the curve).

    Raises
    ------
    ParameterError
        Lengths that differ, missing values, a non-binary treatment or a
        treatment without both groups.

    Examples
    --------
    >>> c = uplift_curve([0.9, 0.8, 0.2, 0.1], [1, 0, 1, 0], [1, 0, 0, 0])
    >>> c["value"].tolist()
    [0.0, 1.0, 2.0, 1.5, 2.0]
    """
    c = _cumulative(*_inputs(score, treatment, outcome))
    c["value"] = _uplift_values(c)
    return c


def qini_curve(score, treatment, outcome) -> pd.DataFrame:
    """Qini curve: ``Y_T - Y_C * N_T / N_C`` for the top-``n`` units by score.

    Parameters
    ----------
    score : array-like of float
        Predicted uplift; higher is targeted first.
    treatment : array-like of bool or 0/1
        Treatment indicator.
    outcome : array-like of float
        Observed outcome.

    Returns
    -------
    pandas.DataFrame
        One row per distinct score threshold, starting at ``n = 0``, with the
        columns of :data:`CURVE_COLUMNS` (``value`` is the curve: incremental
        outcomes among the treated targeted so far).

    Raises
    ------
    ParameterError
        As :func:`uplift_curve`.

    Examples
    --------
    >>> c = qini_curve([0.9, 0.8, 0.2, 0.1], [1, 0, 1, 0], [1, 0, 0, 0])
    >>> c["value"].tolist()
    [0.0, 1.0, 1.0, 1.0, 1.0]
    """
    c = _cumulative(*_inputs(score, treatment, outcome))
    c["value"] = _qini_values(c)
    return c


def perfect_uplift_curve(treatment, outcome) -> pd.DataFrame:
    """Uplift curve of the best possible ranking of a binary outcome.

    Treated responders first, then the non-responders, control responders last
    (scikit-uplift's construction).

    Parameters
    ----------
    treatment : array-like of bool or 0/1
        Treatment indicator.
    outcome : array-like of 0/1
        Observed binary outcome.

    Returns
    -------
    pandas.DataFrame
        As :func:`uplift_curve`.

    Raises
    ------
    ParameterError
        A non-binary outcome, or as :func:`uplift_curve`.
    """
    y = _vector("outcome", outcome)
    _, t, y = _inputs(np.zeros(y.size), treatment, y)
    if not _is_binary(y):
        raise ParameterError.invalid("outcome", "0/1 values for the perfect uplift curve", np.unique(y)[:5].tolist())
    control_responders = int(((y == 1) & ~t).sum())
    treated_responders = int(((y == 1) & t).sum())
    summand = y if control_responders > treated_responders else t.astype(float)
    perfect = 2.0 * (y == t.astype(float)) + summand
    return uplift_curve(perfect, t, y)


def perfect_qini_curve(treatment, outcome, *, negative_effect: bool = True) -> pd.DataFrame:
    """Qini curve of the best possible ranking.

    Parameters
    ----------
    treatment : array-like of bool or 0/1
        Treatment indicator.
    outcome : array-like of float
        Observed outcome.
    negative_effect : bool, default True
        If True, the treatment may harm some units: the perfect ranking puts
        treated responders first and control responders last.  If False, the
        curve rises straight to the total increment and stays flat.

    Returns
    -------
    pandas.DataFrame
        As :func:`qini_curve` (with ``negative_effect=False`` only ``n``,
        ``share`` and ``value`` are filled, at three points).

    Raises
    ------
    ParameterError
        As :func:`qini_curve`, or a non-bool ``negative_effect``.
    """
    if not isinstance(negative_effect, (bool, np.bool_)):
        raise ParameterError.invalid("negative_effect", "True or False", negative_effect)
    y = _vector("outcome", outcome)
    _, t, y = _inputs(np.zeros(y.size), treatment, y)
    if negative_effect:
        return qini_curve(np.where(t, y, -y), t, y)
    total = y[t].sum() - y[~t].sum() * t.sum() / (~t).sum()
    n = y.size
    xs = np.array([0.0, max(total, 0.0), n]) if _is_binary(y) else np.array([0.0, 0.0, n])
    return pd.DataFrame({
        "n": xs, "share": xs / n, "n_treated": np.nan, "n_control": np.nan,
        "outcome_treated": np.nan, "outcome_control": np.nan, "value": [0.0, total, total],
    })


# ------------------------------------------------------------------ areas
def _area_over_random(curve: pd.DataFrame) -> float:
    x = curve["share"].to_numpy(float)
    v = curve["value"].to_numpy(float)
    area = float(np.trapezoid(v, x))
    random = 0.5 * x[-1] * v[-1]
    return area - random


def _score(curve: pd.DataFrame, perfect: pd.DataFrame | None) -> float:
    model = _area_over_random(curve)
    if perfect is None:
        return float(model)
    best = _area_over_random(perfect)
    if best == 0:
        return float("nan")
    return float(model / best)


def auuc(score, treatment, outcome, *, normalize: bool = True) -> float:
    """Area under the uplift curve above the random line (AUUC).

    Parameters
    ----------
    score, treatment, outcome : array-like
        As :func:`uplift_curve`.
    normalize : bool, default True
        Divide by the same area of :func:`perfect_uplift_curve` (needs a binary
        outcome): 1 = perfect ranking, 0 = random.  If False, the area with the
        targeted share on the x axis, in outcome units.

    Returns
    -------
    float
        NaN when normalising and the perfect curve has no area above random.

    Raises
    ------
    ParameterError
        As :func:`uplift_curve`; a non-binary outcome when ``normalize``.
    """
    s, t, y = _inputs(score, treatment, outcome)
    perfect = perfect_uplift_curve(t, y) if normalize else None
    return _score(uplift_curve(s, t, y), perfect)


def qini_coefficient(score, treatment, outcome, *, normalize: bool = True, negative_effect: bool = True) -> float:
    """Area between the Qini curve and the random line (Qini coefficient).

    Parameters
    ----------
    score, treatment, outcome : array-like
        As :func:`qini_curve`.
    normalize : bool, default True
        Divide by the same area of :func:`perfect_qini_curve`: 1 = perfect
        ranking, 0 = random.  If False, the area with the targeted share on the
        x axis, in outcome units.
    negative_effect : bool, default True
        Passed to :func:`perfect_qini_curve`.

    Returns
    -------
    float
        NaN when normalising and the perfect curve has no area above random.

    Raises
    ------
    ParameterError
        As :func:`qini_curve`.

    Examples
    --------
    >>> qini_coefficient([4, 3, 2, 1], [1, 0, 1, 0], [1, 0, 0, 1])
    1.0
    """
    s, t, y = _inputs(score, treatment, outcome)
    perfect = perfect_qini_curve(t, y, negative_effect=negative_effect) if normalize else None
    return _score(qini_curve(s, t, y), perfect)


# ------------------------------------------------------------------ by decile
def uplift_by_bin(score, treatment, outcome, *, bins: int = 10) -> pd.DataFrame:
    """Treated rate, control rate and uplift in equal-sized score bins (deciles by default).

    Units are ranked by descending score (stable order for ties) and cut into
    ``bins`` groups of (almost) equal size by position; bin 1 holds the highest
    scores.

    Parameters
    ----------
    score, treatment, outcome : array-like
        As :func:`uplift_curve`.
    bins : int, default 10
        Number of bins, between 1 and the number of units.

    Returns
    -------
    pandas.DataFrame
        One row per bin with the columns of :data:`BIN_COLUMNS`;
        ``rate_*`` are mean outcomes (NaN where a bin has no unit of that
        group) and ``uplift = rate_treated - rate_control``.

    Raises
    ------
    ParameterError
        ``bins`` not an integer in ``[1, n]``, or as :func:`uplift_curve`.

    Examples
    --------
    >>> uplift_by_bin([4, 3, 2, 1], [1, 0, 1, 0], [1, 0, 0, 1], bins=2)["uplift"].tolist()
    [1.0, -1.0]
    """
    s, t, y = _inputs(score, treatment, outcome)
    n = s.size
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 1 <= bins <= n:
        raise ParameterError.invalid("bins", f"an integer between 1 and the number of units ({n})", bins)
    order = np.argsort(-s, kind="stable")
    b = np.empty(n, dtype=np.int64)
    b[order] = np.arange(n) * bins // n
    nt = np.bincount(b, weights=t, minlength=bins)
    nall = np.bincount(b, minlength=bins).astype(float)
    yt = np.bincount(b, weights=np.where(t, y, 0.0), minlength=bins)
    yc = np.bincount(b, weights=np.where(t, 0.0, y), minlength=bins)
    nc = nall - nt
    with np.errstate(all="ignore"):
        rt = np.where(nt > 0, yt / nt, np.nan)
        rc = np.where(nc > 0, yc / nc, np.nan)
    smin = pd.Series(s).groupby(b).min().reindex(range(bins)).to_numpy()
    smax = pd.Series(s).groupby(b).max().reindex(range(bins)).to_numpy()
    return pd.DataFrame({
        "bin": np.arange(1, bins + 1), "n": nall.astype(np.int64), "n_treated": nt.astype(np.int64),
        "n_control": nc.astype(np.int64), "rate_treated": rt, "rate_control": rc, "uplift": rt - rc,
        "score_min": smin, "score_max": smax,
    })
