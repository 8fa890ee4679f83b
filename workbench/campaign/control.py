"""Control groups: a stratified random hold-out per campaign, and the universal control.

Randomness comes from a hash, not from a random generator's stream: each user
gets ``u = hash(seed, salt, subscriber_id)`` uniform in [0, 1).  So the split
depends only on the recorded seed and the set of users - never on the row
order, the number of threads or the library version - and a campaign can be
re-split years later from its spec.

:func:`assign_control`
    Strata are branch x score decile.  Within each stratum exactly
    ``round(share x size)`` users - those with the smallest ``u`` - are held
    out, so the control mirrors the target list branch by branch and score
    level by score level.
:func:`universal_control`
    A province-wide hold-out: every subscriber with ``u < share`` for the
    period's key.  The same subscriber is in or out for every campaign of the
    period, whatever list it appears on, so the long-run effect of *all*
    marketing can be measured against users no campaign touched.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from workbench.checks import check_int, check_num, check_seed, require_columns, require_complete, \
    require_unique
from workbench.data.tables import table
from workbench.errors import ParameterError

__all__ = [
    "GROUP_TARGET",
    "GROUP_CONTROL",
    "hash_uniform",
    "score_deciles",
    "assign_control",
    "control_balance",
    "universal_control",
]

_SUBSCRIBERS = table("subscribers")
SUBSCRIBER_ID: str = _SUBSCRIBERS.column("subscriber_id").name
BRANCH_ID: str = _SUBSCRIBERS.column("branch_id").name
#: Group labels (as the campaign store's ``group`` column).
GROUP_TARGET: str = "target"
GROUP_CONTROL: str = "control"


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective, well-mixing map of uint64."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hash_uniform(ids, seed: int, salt: str = "") -> np.ndarray:
    """A uniform number in [0, 1) per id, fixed by ``(seed, salt, id)``.

    Parameters
    ----------
    ids : array-like
        Integer ids (hashed as 64-bit integers) or text ids (hashed with
        :func:`pandas.util.hash_array`, stable across runs).
    seed : int
        The recorded seed.
    salt : str
        Separates independent uses of the same seed (e.g. a period key).

    Returns
    -------
    numpy.ndarray of float64

    Examples
    --------
    >>> u = hash_uniform([1, 2, 3], seed=7)
    >>> bool(((u >= 0) & (u < 1)).all()), bool((hash_uniform([3, 2, 1], seed=7) == u[::-1]).all())
    (True, True)
    """
    seed = check_seed(seed)
    values = np.asarray(ids)
    if values.dtype.kind in "iub":
        keys = values.astype(np.int64).view(np.uint64)
    else:
        if pd.isna(pd.Series(values, dtype=object)).any():
            raise ParameterError.invalid("ids", "ids without missing values", "missing value(s)")
        keys = pd.util.hash_array(values.astype(str).astype(object), categorize=False)
    salt_key = int.from_bytes(hashlib.sha256(str(salt).encode("utf-8")).digest()[:8], "little")
    key = _mix(np.array([seed], dtype=np.uint64) ^ np.uint64(salt_key))
    h = _mix(_mix(keys) ^ key)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def score_deciles(scores, tie_break, n_bins: int = 10) -> np.ndarray:
    """Score bin of each user, 1 = best scores, by rank (equal sizes up to one).

    Ties in the score are broken by ``tie_break`` (e.g. :func:`hash_uniform`),
    so the bins do not depend on the row order.
    """
    n_bins = check_int("n_bins", n_bins, 1)
    return _bins(np.asarray(scores, dtype=float), np.argsort(np.asarray(tie_break), kind="stable"), n_bins)


def _score_order(scores: np.ndarray, by_tie: np.ndarray) -> np.ndarray:
    """Indices best score first; equal scores in the order ``by_tie`` (two stable sorts, faster than lexsort)."""
    return by_tie[np.argsort(-scores[by_tie], kind="stable")]


def _bins(scores: np.ndarray, by_tie: np.ndarray, n_bins: int) -> np.ndarray:
    n = len(scores)
    rank = np.empty(n, dtype=np.int64)
    rank[_score_order(scores, by_tie)] = np.arange(n)
    return rank * n_bins // max(n, 1) + 1


def assign_control(candidates: pd.DataFrame, *, share: float, seed: int, id_col: str = SUBSCRIBER_ID,
                   branch_col: str = BRANCH_ID, score_col: str = "score", n_deciles: int = 10,
                   group_col: str = "group", decile_col: str = "score_decile") -> pd.DataFrame:
    """Split candidates into target and control, stratified by branch x score decile.

    Parameters
    ----------
    candidates : DataFrame
        ``id_col`` (unique), ``branch_col`` and ``score_col``.
    share : float
        Control share in [0, 0.9]; each stratum holds out ``round(share x size)``
        users (halves round up).
    seed : int
        The campaign's recorded seed.
    n_deciles : int
        Number of score bins (10 = deciles), over the whole list.
    group_col, decile_col : str
        Names of the added columns.

    Returns
    -------
    DataFrame
        The candidates (same row order) with ``decile_col`` (1 = best scores)
        and ``group_col`` (:data:`GROUP_TARGET` or :data:`GROUP_CONTROL`).

    Raises
    ------
    DataValidationError
        Missing columns, repeated ids, missing scores or branches.
    ParameterError
        ``share`` or ``seed`` out of range.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"subscriber_id": range(100), "branch_id": ["hami"] * 100,
    ...                   "score": [i / 100 for i in range(100)]})
    >>> out = assign_control(c, share=0.2, seed=1)
    >>> out.groupby("score_decile")["group"].apply(lambda g: (g == "control").sum()).unique().tolist()
    [2]
    """
    require_columns(candidates, "candidates", [id_col, branch_col, score_col])
    share = check_num("share", share, 0, 0.9)
    seed = check_seed(seed)
    n_deciles = check_int("n_deciles", n_deciles, 1)
    require_unique(candidates, "candidates", id_col)
    require_complete(candidates, "candidates", [branch_col, score_col])
    ids = candidates[id_col]
    u = hash_uniform(ids.to_numpy(), seed, salt="control")
    by_u = np.argsort(u, kind="stable")
    decile = _bins(candidates[score_col].to_numpy(dtype=float), by_u, n_deciles)
    branch_code = pd.factorize(candidates[branch_col], sort=True)[0]
    stratum = branch_code.astype(np.int64) * (n_deciles + 1) + decile
    # users by stratum, and by u within a stratum (a stable radix sort of u's order)
    order = by_u[np.argsort(stratum[by_u].astype(np.int32), kind="stable")]
    s_sorted = stratum[order]
    first = np.searchsorted(s_sorted, s_sorted, side="left")
    pos = np.arange(len(order)) - first
    size = np.searchsorted(s_sorted, s_sorted, side="right") - first
    n_control = np.floor(share * size + 0.5).astype(np.int64)
    control = np.empty(len(order), dtype=bool)
    control[order] = pos < n_control
    out = candidates.copy()
    out[decile_col] = decile
    labels = np.array([GROUP_TARGET, GROUP_CONTROL], dtype=object)
    out[group_col] = pd.Series(labels[control.astype(np.int8)], index=out.index, dtype="str")
    return out


def control_balance(assigned: pd.DataFrame, *, branch_col: str = BRANCH_ID, group_col: str = "group",
                    decile_col: str = "score_decile", score_col: str | None = "score") -> pd.DataFrame:
    """Target and control per stratum, to check the split (and draw it).

    Returns
    -------
    DataFrame
        ``branch_col``, ``decile_col``, ``target``, ``control``,
        ``control_share`` and, when ``score_col`` is present, the mean score of
        each group (``score_target``, ``score_control``).
    """
    require_columns(assigned, "assigned", [branch_col, group_col, decile_col])
    keys = [branch_col, decile_col]
    counts = pd.crosstab([assigned[branch_col], assigned[decile_col]], assigned[group_col])
    for g in (GROUP_TARGET, GROUP_CONTROL):
        if g not in counts.columns:
            counts[g] = 0
    out = counts[[GROUP_TARGET, GROUP_CONTROL]].reset_index()
    out.columns.name = None
    total = out[GROUP_TARGET] + out[GROUP_CONTROL]
    out["control_share"] = out[GROUP_CONTROL] / total.where(total > 0)
    if score_col and score_col in assigned.columns:
        means = assigned.groupby(keys + [group_col], observed=True)[score_col].mean().unstack(group_col)
        for g in (GROUP_TARGET, GROUP_CONTROL):
            col = means[g] if g in means.columns else pd.Series(np.nan, index=means.index)
            out[f"{score_col}_{g}"] = out.set_index(keys).index.map(col).to_numpy(dtype=float)
    return out


def universal_control(subscriber_ids, share: float, period_key: str, seed: int = 0) -> np.ndarray:
    """Membership of the province-wide universal control group for one period.

    Parameters
    ----------
    subscriber_ids : array-like
        Any subscribers (all of them, or just a campaign's list: membership of
        a subscriber does not depend on who else is passed).
    share : float
        Share held out, in [0, 0.2]; the realised share is ``share`` up to
        sampling noise (each subscriber is an independent draw).
    period_key : str
        The period, e.g. ``"2026H2"``; a new key draws a new group.
    seed : int
        The province's seed for the universal control (not a campaign seed).

    Returns
    -------
    numpy.ndarray of bool
        True for members of the universal control group.
    """
    share = check_num("share", share, 0, 0.2)
    if not isinstance(period_key, str) or not period_key.strip():
        raise ParameterError.invalid("period_key", "a non-empty string such as '2026H2'", period_key)
    return hash_uniform(subscriber_ids, seed, salt=f"universal:{period_key}") < share
