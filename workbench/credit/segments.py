"""Segments: the combinations of the values of the segment columns, merged when too small.

A segment is named by its values, ``"rejoined=1 & urumqi=0"``; the whole table is :data:`WHOLE`.
A segment that cannot carry its own model - fewer than ``min_rows`` training rows, fewer than
``min_bads`` bad or good training rows, or (with held-out rows) fewer than ``min_holdout_bads`` bad
or good held-out rows - is merged with its smallest sibling (a segment with the same values but for
the LAST segment column; with two values per column, THE sibling, giving the segment of the first
``k - 1`` values); a segment that already holds all its siblings is merged one level up; repeated,
weakest first, until every segment can be modelled or only the whole table is left.  Each merge is
recorded (``{"segment", "into", "rows", "bads", "reason"}``, ``into`` being the segment it ends in) so
the summary can say so.  A merged segment is named by the values it shares (``"joiner=rejoined"``,
:data:`WHOLE`) or, when it holds some of its siblings only, by the values joined with ``+``
(``"region=hami+ili"``).

A row is routed to the segment holding its combination of values; a combination unseen at training
goes to the segment that holds every training combination under its longest known prefix (e.g. a new
region of re-joiners to the merged ``"joiner=rejoined"``); when there is none, scoring stops with a
:class:`~workbench.errors.DataValidationError` naming the values.
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
    from workbench.credit.methods import level_codes

    if not columns or len(frame) == 0:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    # one small integer per combination of values; the text key is made once per combination
    combo = np.zeros(len(frame), dtype=np.int64)
    parts = []
    for c in columns:
        codes, texts = level_codes(frame[c])
        parts.append((codes, texts))
        combo = np.unique(combo * len(texts) + codes, return_inverse=True)[1].astype(np.int64)
    _, first = np.unique(combo, return_index=True)
    keys = np.array([_SEP.join(str(texts[codes[i]]) for codes, texts in parts) for i in first], dtype=object)
    return pd.Series(keys[combo], index=frame.index, dtype=object)


def _values(key: str, depth: int) -> tuple:
    return tuple(key.split(_SEP))[:depth] if depth else ()


def segment_name(columns: list[str], values: tuple) -> str:
    """``"col=value & col=value"`` (or :data:`WHOLE`)."""
    if not values:
        return WHOLE
    return " & ".join(f"{c}={v}" for c, v in zip(columns, values))


def _covers(group: set, prefix: tuple, all_keys) -> bool:
    """Whether ``group`` holds every training combination that starts with ``prefix``."""
    under = {k for k in all_keys if k[:len(prefix)] == prefix}
    return bool(under) and under <= group


def _common_prefix(keys) -> tuple:
    keys = list(keys)
    out = []
    for parts in zip(*keys):
        if len(set(parts)) > 1:
            break
        out.append(parts[0])
    return tuple(out)


def group_name(columns: list[str], group, all_keys) -> str:
    """Name of a set of combinations: its prefix when it covers it (``"joiner=rejoined"``, :data:`WHOLE`), else
    the prefix and the values of the next column joined by ``+`` (``"region=hami+ili"``), else its members."""
    group = set(group)
    prefix = _common_prefix(sorted(group))
    if _covers(group, prefix, all_keys):
        return segment_name(columns, prefix)
    d = len(prefix)
    if all(len(k) == d + 1 for k in group) or len({k[d + 1:] for k in group}) == 1:
        values = "+".join(sorted({k[d] for k in group}))
        head = segment_name(columns, prefix)
        tail = f"{columns[d]}={values}" + "".join(f" & {c}={v}" for c, v in zip(columns[d + 1:],
                                                                                 next(iter(group))[d + 1:]))
        return tail if head == WHOLE else f"{head} & {tail}"
    return " | ".join(segment_name(columns, k) for k in sorted(group))


def plan_segments(keys: pd.Series, y: np.ndarray, holdout: np.ndarray | None, columns: list[str], *,
                  min_rows: int, min_bads: int, min_holdout_bads: int = 5) -> dict:
    """Which segment each original combination is modelled in.

    A weak segment is merged with its smallest sibling (a segment under the same values of all but the
    last column); when it already holds all its siblings, with the smallest segment one level up; and so
    on up to the whole table.

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
        ``groups``: ``{name: {"values": common prefix, "members": [original names], "keys": [value
        tuples], "rows": training rows}}``; ``assign``: original key -> group name; ``merges``: list of
        merge records; ``originals``: original name -> ``{"rows", "bads"}``; ``viable``: whether the
        final groups all meet the minimums.
    """
    depth = len(columns)
    ho = np.zeros(len(y), dtype=bool) if holdout is None else np.asarray(holdout, dtype=bool)
    stats = pd.DataFrame({"k": keys.to_numpy(), "tr": ~ho, "ho": ho,
                          "bad_tr": np.asarray(y) * ~ho, "bad_ho": np.asarray(y) * ho})
    agg = stats.groupby("k", sort=True).agg(rows=("tr", "sum"), bads=("bad_tr", "sum"), ho=("ho", "sum"),
                                             ho_bads=("bad_ho", "sum"))
    tup = {k: _values(k, depth) for k in agg.index}
    counts = {tup[k]: agg.loc[k, ["rows", "bads", "ho", "ho_bads"]].to_numpy(dtype=np.float64) for k in agg.index}
    all_keys = set(counts)
    groups = [{t} for t in sorted(all_keys)]
    merges = []

    def total(g):
        return sum(counts[k] for k in g)

    def short(a) -> str | None:
        rows, bads, ho_rows, ho_bads = a
        if rows < min_rows:
            return "rows"
        if min(bads, rows - bads) < min_bads:
            return "bads"
        if holdout is not None and min(ho_bads, ho_rows - ho_bads) < min_holdout_bads:
            return "holdout"
        return None

    while len(groups) > 1:
        weak = sorted(((total(g)[0], sorted(g), i) for i, g in enumerate(groups) if short(total(g))))
        if not weak:
            break
        _, _, i = weak[0]
        g = groups[i]
        prefix = _common_prefix(sorted(g))
        if _covers(g, prefix, all_keys):
            prefix = prefix[:-1]                      # its siblings are under its parent
        partner = None
        for d in range(len(prefix), -1, -1):
            cands = [j for j, h in enumerate(groups) if j != i and all(k[:d] == prefix[:d] for k in h)]
            if cands:
                partner = min(cands, key=lambda j: (total(groups[j])[0], sorted(groups[j])))
                break
        a = total(g)
        before = group_name(columns, g, all_keys)
        merged = g | groups[partner]
        groups = [h for j, h in enumerate(groups) if j not in (i, partner)] + [merged]
        merges.append({"segment": before, "into": group_name(columns, merged, all_keys), "rows": int(a[0]),
                       "bads": int(a[1]), "reason": short(a), "_keys": g})
    out_groups, assign = {}, {}
    for g in groups:
        name = group_name(columns, g, all_keys)
        members = sorted(g)
        out_groups[name] = {"values": _common_prefix(members), "members": [segment_name(columns, k) for k in members],
                            "keys": [list(k) for k in members], "rows": int(total(g)[0])}
        for k in g:
            assign[_SEP.join(k)] = name
    for m in merges:  # a segment merged again later: name the segment it ends in
        k = next(iter(m.pop("_keys")))
        m["into"] = assign[_SEP.join(k)]
    return {
        "groups": out_groups,
        "assign": assign,
        "merges": merges,
        "originals": {segment_name(columns, tup[k]): {"rows": int(agg.loc[k, "rows"] + agg.loc[k, "ho"]),
                                                      "bads": int(agg.loc[k, "bads"] + agg.loc[k, "ho_bads"])}
                      for k in agg.index},
        "viable": all(short(total(g)) is None for g in groups),
    }


def route(keys: pd.Series, groups: dict, columns: list[str], table: str = "the table") -> np.ndarray:
    """The segment name of every row: the group holding its combination of values; for a combination unseen
    at training, the group that holds every training combination under its longest known prefix.

    Raises
    ------
    DataValidationError
        A row's values match no segment (a value unseen at training with no merged segment above it).
    """
    exact = {tuple(k): name for name, g in groups.items() for k in g["keys"]}
    all_keys = set(exact)
    uniq = pd.unique(keys.to_numpy())
    mapping, bad = {}, []
    for k in uniq:
        vals = tuple(k.split(_SEP)) if columns else ()
        name = exact.get(vals)
        d = len(vals) - 1
        while name is None and d >= 0:
            owners = {exact[t] for t in all_keys if t[:d] == vals[:d]}
            if len(owners) == 1:
                name = owners.pop()
            d -= 1
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
