"""Split each branch x channel list across its executors, with balanced workloads.

Within a (branch, channel) list the users are dealt in score order like cards,
in a *snake*: executor 1, 2, ..., k, then k, ..., 2, 1, and so on.  Every
executor gets the same number of users up to one, and the same mix of score
levels - nobody gets all the best prospects - so the results per executor
can be compared fairly.

Score bands (A = best) are quantiles of the score over the whole plan, so a
band means the same on every list.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.checks import check_int, require_columns, require_unique
from workbench.campaign.control import _score_order, score_deciles
from workbench.data.tables import table
from workbench.errors import DataValidationError, ParameterError

__all__ = [
    "EXECUTOR",
    "SCORE_BAND",
    "score_bands",
    "assign_executors",
    "workload",
]

_SUBSCRIBERS = table("subscribers")
SUBSCRIBER_ID: str = _SUBSCRIBERS.column("subscriber_id").name
BRANCH_ID: str = _SUBSCRIBERS.column("branch_id").name
#: Name of the executor column (as the campaign store's).
EXECUTOR: str = "executor"
#: Name of the score band column (as the campaign store's).
SCORE_BAND: str = "score_band"
_BAND_LABELS = "ABCDEFGHIJ"


def score_bands(scores, ids, n_bands: int = 5) -> np.ndarray:
    """Band of each score, ``"A"`` = best, by rank (equal sizes up to one; ties by id).

    Parameters
    ----------
    scores : array-like
    ids : array-like
        Break ties in the score, so bands do not depend on the row order.
    n_bands : int
        1 to 10.

    Returns
    -------
    numpy.ndarray of str

    Examples
    --------
    >>> score_bands([0.9, 0.1, 0.5, 0.7], ids=[1, 2, 3, 4], n_bands=2).tolist()
    ['A', 'B', 'B', 'A']
    """
    n_bands = check_int("n_bands", n_bands, 1, 10)
    return np.asarray(list(_BAND_LABELS[:n_bands]), dtype=object)[score_deciles(scores, ids, n_bands) - 1]


def _executor_table(executors, branch_col: str, channel_col: str) -> pd.DataFrame:
    """Normalise the executors argument to rows (branch, channel or None, executor, position)."""
    rows: list[tuple] = []
    if isinstance(executors, pd.DataFrame):
        if branch_col not in executors.columns or EXECUTOR not in executors.columns:
            raise DataValidationError(
                f"executors: needs columns {[branch_col, EXECUTOR]} (and optionally {channel_col!r}); "
                f"found {list(executors.columns)}")
        chans = executors[channel_col] if channel_col in executors.columns else pd.Series([None] * len(executors))
        for b, c, e in zip(executors[branch_col], chans.tolist(), executors[EXECUTOR]):
            rows.append((b, None if c is None or (isinstance(c, float) and np.isnan(c)) else c, e))
    elif isinstance(executors, Mapping):
        for key, names in executors.items():
            if isinstance(names, str) or not isinstance(names, Sequence):
                raise ParameterError.invalid(f"executors[{key}]", "a list of executor names", names)
            b, c = key if isinstance(key, tuple) else (key, None)
            rows.extend((b, c, e) for e in names)
    else:
        raise ParameterError.invalid(
            "executors", "a DataFrame (branch, [channel,] executor) or a mapping {branch or (branch, channel): "
                         "[names]}", type(executors).__name__)
    table_ = pd.DataFrame(rows, columns=["branch", "channel", EXECUTOR])
    bad = table_[EXECUTOR].isna() | (table_[EXECUTOR].astype(str).str.strip() == "")
    if bad.any():
        raise ParameterError.invalid("executors", "non-empty executor names", table_.loc[bad, EXECUTOR].tolist())
    dup = table_.duplicated(["branch", "channel", EXECUTOR])
    if dup.any():
        raise ParameterError.invalid("executors", "each executor once per list",
                                     table_.loc[dup, EXECUTOR].tolist())
    return table_


def assign_executors(plan: pd.DataFrame, executors, *, id_col: str = SUBSCRIBER_ID, branch_col: str = BRANCH_ID,
                     channel_col: str = "channel", score_col: str = "score", n_bands: int = 5) -> pd.DataFrame:
    """Assign every row of a channel plan to an executor of its branch (and channel).

    Parameters
    ----------
    plan : DataFrame
        One row per contacted user: ``id_col``, ``branch_col``, ``channel_col``, ``score_col``.
    executors : DataFrame or mapping
        Who works which list: a DataFrame with ``branch_col``, ``executor`` and
        optionally ``channel_col`` (no channel = every channel of the branch),
        or a mapping ``{(branch, channel): [names]}`` / ``{branch: [names]}``.
        A list-specific entry wins over a branch-wide one.
    n_bands : int
        Number of score bands.

    Returns
    -------
    DataFrame
        The plan with ``executor`` and ``score_band`` columns, sorted by list
        (branch, channel), executor (in the given order) and score (best first).

    Raises
    ------
    ParameterError
        A (branch, channel) of the plan has no executor (all such lists are named).
    DataValidationError
        Missing columns or repeated users.

    Examples
    --------
    >>> import pandas as pd
    >>> plan = pd.DataFrame({"subscriber_id": range(6), "branch_id": "hami", "channel": "outbound_call",
    ...                      "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]})
    >>> assign_executors(plan, {"hami": ["li", "wang"]}).sort_values("score", ascending=False)["executor"].tolist()
    ['li', 'wang', 'wang', 'li', 'li', 'wang']
    """
    require_columns(plan, "plan", [id_col, branch_col, channel_col, score_col])
    require_unique(plan, "plan", id_col)
    ex = _executor_table(executors, branch_col, channel_col)

    lists = plan[[branch_col, channel_col]].drop_duplicates().reset_index(drop=True)
    lists["_list"] = np.arange(len(lists))
    specific = ex[ex["channel"].notna()]
    general = ex[ex["channel"].isna()].drop(columns="channel")
    staff = lists.merge(specific, left_on=[branch_col, channel_col], right_on=["branch", "channel"], how="inner")
    rest = lists[~lists["_list"].isin(staff["_list"])]
    staff = pd.concat([staff[["_list", EXECUTOR]],
                       rest.merge(general, left_on=branch_col, right_on="branch", how="inner")[["_list", EXECUTOR]]],
                      ignore_index=True)
    missing = lists[~lists["_list"].isin(staff["_list"])]
    if len(missing):
        names = sorted(f"{b}/{c}" for b, c in zip(missing[branch_col], missing[channel_col]))
        raise ParameterError.invalid(
            "executors", "at least one executor for every (branch, channel) of the plan; lists without one", names)
    staff = staff.sort_values("_list", kind="stable")  # keeps the given order of names within a list
    k = np.bincount(staff["_list"], minlength=len(lists))
    offset = np.concatenate([[0], np.cumsum(k)[:-1]])
    names = staff[EXECUTOR].astype(str).to_numpy(dtype=object)

    list_of = plan[[branch_col, channel_col]].merge(lists, how="left")["_list"].to_numpy()
    ids = plan[id_col].to_numpy()
    order = _score_order(plan[score_col].to_numpy(dtype=float), np.argsort(ids, kind="stable"))
    order = order[np.argsort(list_of[order].astype(np.int32), kind="stable")]
    code = list_of[order]
    pos = np.arange(len(order)) - np.searchsorted(code, code, side="left")
    kk = k[code]
    rnd, j = pos // kk, pos % kk
    slot = np.where(rnd % 2 == 0, j, kk - 1 - j)
    # rows by list, executor (in the given order), then score
    regroup = np.argsort((code * int(k.max()) + slot).astype(np.int64), kind="stable")
    order, code, slot = order[regroup], code[regroup], slot[regroup]
    out = plan.iloc[order].reset_index(drop=True)
    out[EXECUTOR] = pd.Series(names[offset[code] + slot], dtype="str")
    out[SCORE_BAND] = pd.Series(score_bands(out[score_col], out[id_col], n_bands), dtype="str")
    return out


def workload(assigned: pd.DataFrame, *, branch_col: str = BRANCH_ID, channel_col: str = "channel") -> pd.DataFrame:
    """Users per executor and score band, for checking balance and drawing it.

    Returns
    -------
    DataFrame
        ``branch_col``, ``channel_col``, ``executor``, one column per score
        band and ``total``.
    """
    need = [branch_col, channel_col, EXECUTOR, SCORE_BAND]
    if not isinstance(assigned, pd.DataFrame) or any(c not in assigned.columns for c in need):
        got = list(assigned.columns) if isinstance(assigned, pd.DataFrame) else type(assigned).__name__
        raise ParameterError.invalid("assigned", f"an assign_executors() result with columns {need}", got)
    counts = pd.crosstab([assigned[branch_col], assigned[channel_col], assigned[EXECUTOR]], assigned[SCORE_BAND])
    counts = counts.reindex(columns=sorted(counts.columns), fill_value=0)
    counts["total"] = counts.sum(axis=1)
    out = counts.reset_index()
    out.columns.name = None
    return out
