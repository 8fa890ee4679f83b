"""Checks across rows of the handset-presence tables (``imei_presence``, ``imei_days``).

A schema checks one value at a time; these checks read several rows together:

* ``presence_span``  - ``imei_presence`` claims more days seen than the days from
  ``first_seen`` to ``last_seen`` (or ``last_seen`` is before ``first_seen``);
* ``presence_gap``   - ``imei_presence`` claims the IMEI was used every day from
  ``first_seen`` to ``last_seen`` (``active_days`` equals that span), yet
  ``imei_days`` misses some of those days inside the days it covers;
* ``presence_outside`` - a row of ``imei_days`` outside its IMEI's ``first_seen`` ..
  ``last_seen`` (or for an IMEI ``imei_presence`` does not list);
* ``imei_shared``    - one IMEI on two subscribers on the same day (``imei_days``),
  or with overlapping seen ranges (``imei_presence``).

Duplicated days (the same subscriber, IMEI and day twice) are ``duplicate_key``
failures of ``imei_days``'s primary key, found by the schema.

Each problem is returned as a dict of :class:`workbench.data.io.Problem`'s fields.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["PRESENCE_CHECKS", "presence_problems"]

#: The cross-row checks of the presence tables, with what each means.
PRESENCE_CHECKS: dict[str, str] = {
    "presence_span": "more days seen than the days from first to last seen",
    "presence_gap": "a day missing where every day from first to last seen is claimed",
    "presence_outside": "a day seen outside the IMEI's first and last seen day",
    "imei_shared": "one IMEI on two subscribers on the same day",
}
_EXAMPLES = 5
_NEEDED = {
    "imei_presence": ("subscriber_id", "imei", "first_seen", "last_seen", "active_days"),
    "imei_days": ("subscriber_id", "imei", "day"),
}


def _usable(frames: Mapping[str, pd.DataFrame], name: str, bad: Mapping[str, set]) -> pd.DataFrame | None:
    frame = frames.get(name)
    if frame is None or any(c not in frame.columns or c in bad.get(name, ()) for c in _NEEDED[name]):
        return None
    frame = frame[list(_NEEDED[name])]
    if frame.isna().any().any():
        return None  # missing values are reported by the schema; comparing them would mislead
    return frame


def _problem(table: str, column: str, check: str, mask: np.ndarray, examples, expected: str) -> dict:
    rows = np.flatnonzero(mask)
    return {"table": table, "column": column, "check": check, "count": int(rows.size),
            "examples": tuple(examples[:_EXAMPLES]), "rows": tuple(int(r) for r in rows[:_EXAMPLES]),
            "expected": expected}


def _keys(frame: pd.DataFrame, mask: np.ndarray, columns: list[str]) -> list[tuple]:
    out = []
    for row in frame.loc[mask, columns].head(_EXAMPLES * 4).itertuples(index=False, name=None):
        row = tuple(v.date().isoformat() if isinstance(v, pd.Timestamp) else v for v in row)
        if row not in out:
            out.append(row)
    return out


def presence_problems(frames: Mapping[str, pd.DataFrame], bad_columns: Mapping[str, set] | None = None) -> list[dict]:
    """Cross-row problems of the presence tables among validated ``frames``.

    Parameters
    ----------
    frames : mapping of str to pandas.DataFrame
        Tables after the schema (dates as ``datetime64``); absent tables are skipped.
    bad_columns : mapping of str to set, optional
        Columns whose type already failed (they are not compared).

    Returns
    -------
    list of dict
        One dict per failing check (``table``, ``column``, ``check``, ``count``,
        ``examples``, ``rows``, ``expected``).

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.DataFrame({"subscriber_id": [1, 2], "imei": ["A", "A"],
    ...                      "day": pd.to_datetime(["2026-10-01", "2026-10-01"])})
    >>> [p["check"] for p in presence_problems({"imei_days": days})]
    ['imei_shared']
    """
    bad = bad_columns or {}
    out: list[dict] = []
    pres = _usable(frames, "imei_presence", bad)
    days = _usable(frames, "imei_days", bad)
    if pres is not None and len(pres):
        span = (pres["last_seen"] - pres["first_seen"]).dt.days.to_numpy() + 1
        wrong = (pres["active_days"].to_numpy() > span) | (span < 1)
        if wrong.any():
            out.append(_problem("imei_presence", "active_days", "presence_span", wrong,
                                _keys(pres, wrong, ["subscriber_id", "imei"]),
                                "active_days <= days from first_seen to last_seen"))
        srt = pres.sort_values(["imei", "first_seen"], kind="stable")
        same = srt["imei"].to_numpy()[1:] == srt["imei"].to_numpy()[:-1]
        other = srt["subscriber_id"].to_numpy()[1:] != srt["subscriber_id"].to_numpy()[:-1]
        overlap = srt["first_seen"].to_numpy()[1:] <= srt["last_seen"].to_numpy()[:-1]
        hit = np.r_[False, same & other & overlap]
        if hit.any():
            mask = np.zeros(len(pres), bool)
            mask[srt.index.to_numpy()[hit]] = True
            out.append(_problem("imei_presence", "imei", "imei_shared", mask,
                                _keys(pres, mask, ["imei", "subscriber_id"]),
                                "each IMEI on one subscriber at a time (seen ranges must not overlap)"))
    if days is not None and len(days):
        n_subs = days.groupby(["imei", "day"], sort=False)["subscriber_id"].transform("nunique").to_numpy()
        shared = n_subs > 1
        if shared.any():
            out.append(_problem("imei_days", "imei", "imei_shared", shared,
                                _keys(days, shared, ["imei", "day", "subscriber_id"]),
                                "each IMEI on one subscriber per day"))
    if pres is not None and days is not None and len(days):
        merged = days.merge(pres, on=["subscriber_id", "imei"], how="left", validate="many_to_one"
                            ) if not pres.duplicated(["subscriber_id", "imei"]).any() else None
        if merged is not None:
            outside = (merged["first_seen"].isna() | (merged["day"] < merged["first_seen"])
                       | (merged["day"] > merged["last_seen"])).to_numpy()
            if outside.any():
                out.append(_problem("imei_days", "day", "presence_outside", outside,
                                    _keys(days, outside, ["subscriber_id", "imei", "day"]),
                                    "a day from the IMEI's first_seen to last_seen in imei_presence"))
            lo, hi = days["day"].min(), days["day"].max()
            span = (pres["last_seen"] - pres["first_seen"]).dt.days + 1
            claimed = pres.loc[span.to_numpy() == pres["active_days"].to_numpy()]
            counts = days.drop_duplicates().groupby(["subscriber_id", "imei"]).size().rename("n_days").reset_index()
            c = claimed.merge(counts, on=["subscriber_id", "imei"], how="inner")
            start = c["first_seen"].where(c["first_seen"] > lo, lo)
            end = c["last_seen"].where(c["last_seen"] < hi, hi)
            expected_days = ((end - start).dt.days + 1).clip(lower=0)
            gap = (c["n_days"] < expected_days).to_numpy()
            if gap.any():
                gap_keys = set(c.loc[gap, ["subscriber_id", "imei"]].itertuples(index=False, name=None))
                mask = np.fromiter((k in gap_keys for k in pres[["subscriber_id", "imei"]].itertuples(
                    index=False, name=None)), bool, len(pres))
                out.append(_problem("imei_presence", "active_days", "presence_gap", mask,
                                    _keys(pres, mask, ["subscriber_id", "imei"]),
                                    "every day from first_seen to last_seen in imei_days, as active_days "
                                    "equal to that span claims"))
    return out
