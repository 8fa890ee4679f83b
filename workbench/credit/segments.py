"""Segments: the combinations of the values of the segment columns, merged when too small.

A segment is named by its values, ``"rejoined=1 & urumqi=0"``; the whole table is :data:`WHOLE`.
A segment that cannot carry its own model - fewer than ``min_rows`` training rows, fewer than
``min_bads`` bad or good training rows, or (with held-out rows) fewer than ``min_holdout_bads`` bad
or good held-out rows - is merged with its siblings (the segments with the same values but for the
LAST segment column), i.e. it becomes the segment of its first ``k - 1`` values; repeated until every
segment can be modelled or only the whole table is left.  Each merge is recorded
(``{"segment", "into", "rows", "bads", "reason"}``) so the summary can say so.

A row is routed to the segment whose values are the longest prefix of its own values, so a value
unseen at training still finds a merged (or the whole) segment; when none matches, scoring stops
with a :class:`~workbench.errors.DataValidationError` naming the value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError

__all__ = ["WHOLE", "segment_keys", "segment_name", "plan_segments", "route"]

#: Name of the segment that is the whole table.
WHOLE = "*"
_SEP = "\x1f"


def segment_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Each row's segment values as one text key (values joined by an invisible separator)."""
    from workbench.credit.methods import level_text

    if not columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    parts = [level_text(frame[c]).to_numpy(dtype=object) for c in columns]
    out = parts[0].astype(str)
    for p in parts[1:]:
        out = np.char.add(np.char.add(out, _SEP), p.astype(str))
    return pd.Series(out.astype(object), index=frame.index)


def _values(key: str, depth: int) -> tuple:
    return tuple(key.split(_SEP))[:depth] if depth else ()


def segment_name(columns: list[str], values: tuple) -> str:
    """``"col=value & col=value"`` (or :data:`WHOLE`)."""
    if not values:
        return WHOLE
    return " & ".join(f"{c}={v}" for c, v in zip(columns, values))


def plan_segments(keys: pd.Series, y: np.ndarray, holdout: np.ndarray | None, columns: list[str], *,
                  min_rows: int, min_bads: int, min_holdout_bads: int = 5) -> dict:
    """Which segment each original combination is modelled in.

    Parameters
    ----------
    keys : Series
        :func:`segment_keys` of every row.
    y : ndarray of 0/1
    holdout : ndarray of bool, optional
        Rows held out for the choice (out of time); training rows are the others.
    columns : list of str
        Segment columns.
    min_rows, min_bads, min_holdout_bads : int
        What a segment needs for a model of its own (see the module docstring).

    Returns
    -------
    dict
        ``groups``: ``{name: {"values": tuple, "members": [original names]}}``; ``assign``: original
        key -> group name; ``merges``: list of merge records; ``originals``: original name ->
        ``{"rows", "bads"}``; ``viable``: whether the final groups all meet the minimums.
    """
    depth_all = len(columns)
    ho = np.zeros(len(y), dtype=bool) if holdout is None else np.asarray(holdout, dtype=bool)
    stats = pd.DataFrame({"k": keys.to_numpy(), "y": y, "tr": ~ho, "ho": ho})
    stats["ybad_tr"] = stats["y"] * stats["tr"]
    stats["ybad_ho"] = stats["y"] * stats["ho"]
    agg = stats.groupby("k", sort=True).agg(rows=("tr", "sum"), bads=("ybad_tr", "sum"), ho=("ho", "sum"),
                                             ho_bads=("ybad_ho", "sum"))
    originals = {k: _values(k, depth_all) for k in agg.index}
    current = {k: v for k, v in originals.items()}  # original key -> current group values
    merges = []

    def group_stats():
        g = {}
        for k, vals in current.items():
            a = g.setdefault(vals, np.zeros(4))
            a += agg.loc[k, ["rows", "bads", "ho", "ho_bads"]].to_numpy(dtype=np.float64)
        return g

    def short(a) -> str | None:
        rows, bads, ho_rows, ho_bads = a
        if rows < min_rows:
            return "rows"
        if min(bads, rows - bads) < min_bads:
            return "bads"
        if holdout is not None and min(ho_bads, ho_rows - ho_bads) < min_holdout_bads:
            return "holdout"
        return None

    while True:
        g = group_stats()
        weak = sorted(((a[0], vals, short(a)) for vals, a in g.items() if vals and short(a)),
                      key=lambda r: (r[0], r[1]))
        if not weak:
            break
        _, vals, reason = weak[0]
        parent = vals[:-1]
        a = g[vals]
        merges.append({"segment": segment_name(columns, vals), "into": segment_name(columns, parent),
                       "rows": int(a[0]), "bads": int(a[1]), "reason": reason})
        for k, v in current.items():
            if v[:len(parent)] == parent:
                current[k] = parent
    g = group_stats()
    groups = {}
    for k, vals in current.items():
        name = segment_name(columns, vals)
        groups.setdefault(name, {"values": vals, "members": []})["members"].append(
            segment_name(columns, originals[k]))
    return {
        "groups": groups,
        "assign": {k: segment_name(columns, v) for k, v in current.items()},
        "merges": merges,
        "originals": {segment_name(columns, originals[k]): {"rows": int(agg.loc[k, "rows"] + agg.loc[k, "ho"]),
                                                             "bads": int(agg.loc[k, "bads"] + agg.loc[k, "ho_bads"])}
                      for k in agg.index},
        "viable": all(short(a) is None for a in g.values()),
    }


def route(keys: pd.Series, groups: dict, columns: list[str], table: str = "the table") -> np.ndarray:
    """The segment name of every row: the group whose values are the longest prefix of the row's values.

    Raises
    ------
    DataValidationError
        A row's values match no segment (a value unseen at training with no merged segment above it).
    """
    by_values = {tuple(g["values"]): name for name, g in groups.items()}
    uniq = pd.unique(keys.to_numpy())
    mapping = {}
    bad = []
    for k in uniq:
        vals = tuple(k.split(_SEP)) if columns else ()
        name = None
        for d in range(len(vals), -1, -1):
            name = by_values.get(vals[:d])
            if name is not None:
                break
        if name is None:
            bad.append(dict(zip(columns, vals)))
        mapping[k] = name
    if bad:
        raise DataValidationError(
            f"{table} holds segment values unseen at training and no merged segment covers them: {bad[:5]}; "
            f"expected one of the trained segments {sorted(groups)}",
            [{"table": table, "column": ", ".join(columns), "check": "segment", "count": len(bad),
              "examples": bad[:5]}])
    return keys.map(mapping).to_numpy(dtype=object)
