"""Parameter and frame checks shared by every package (one toolkit, not a validator per module).

Every failure names the parameter (or table and column), what is allowed and
what was given: :class:`~workbench.errors.ParameterError` for a parameter,
:class:`~workbench.errors.DataValidationError` (with a ``problems`` list) for
a table.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError

#: Largest seed accepted (seeds are hashed as 64-bit integers).
MAX_SEED = 2**63 - 1

__all__ = [
    "MAX_SEED", "range_text", "check_int", "check_num", "check_seed", "check_choice", "require_columns",
    "require_unique", "require_complete", "jsonable",
]


def range_text(kind: str, lo=None, hi=None, lo_open: bool = False) -> str:
    """``"an integer in [0, 5]"``, ``"a finite number > 0"`` ..."""
    if lo is not None and hi is not None:
        return f"{kind} in {'(' if lo_open else '['}{lo}, {hi}]"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{kind} <= {hi}"
    return kind


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (an integral float is accepted) within ``[lo, hi]``."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParameterError.invalid(name, range_text("an integer", lo, hi), value)
    return int(value)


def check_num(name: str, value, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> float:
    """A finite number within ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating)) \
        and math.isfinite(value)
    if ok and lo is not None and (value < lo or (lo_open and value == lo)):
        ok = False
    if ok and hi is not None and value > hi:
        ok = False
    if not ok:
        raise ParameterError.invalid(name, range_text("a finite number", lo, hi, lo_open), value)
    return float(value)


def check_seed(seed) -> int:
    """A seed: an integer in ``[0, MAX_SEED]``."""
    return check_int("seed", seed, 0, MAX_SEED)


def require_columns(frame, name: str, columns: Sequence[str]) -> None:
    """``frame`` is a DataFrame holding ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError.invalid(name, "a pandas DataFrame", type(frame).__name__)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{name}: missing column(s) {missing}; expected {list(columns)}, found {list(frame.columns)}",
            [{"table": name, "column": c, "check": "present", "count": 1, "examples": []} for c in missing],
        )


def require_unique(frame: pd.DataFrame, name: str, column: str) -> None:
    """``frame[column]`` has no repeated value."""
    dup = frame[column].duplicated()
    if dup.any():
        examples = frame.loc[dup, column].head(5).tolist()
        raise DataValidationError(
            f"{name}: column {column!r} must be unique; {int(dup.sum())} repeated value(s), e.g. {examples}",
            [{"table": name, "column": column, "check": "unique", "count": int(dup.sum()), "examples": examples}],
        )


def require_complete(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    """``columns`` of ``frame`` have no missing value."""
    problems = [{"table": name, "column": c, "check": "not null", "count": int(frame[c].isna().sum()),
                 "examples": []} for c in columns if frame[c].isna().any()]
    if problems:
        text = "; ".join(f"column {p['column']!r} has {p['count']} missing value(s)" for p in problems)
        raise DataValidationError(f"{name}: {text}", problems)


def check_choice(name: str, value, allowed: Sequence):
    """``value`` is one of ``allowed`` (the message lists them)."""
    if value not in allowed:
        raise ParameterError.invalid(name, f"one of {list(allowed)}", value)
    return value


def jsonable(obj):
    """``obj`` as plain JSON values: numpy scalars to Python, non-finite floats to ``None``,
    dates to ISO text, tuples to lists, mapping keys to text; DataFrames are dropped.

    The one converter for everything the workbench writes as JSON (run folders, audit details,
    model folders).
    """
    import datetime as dt
    from collections.abc import Mapping

    if isinstance(obj, pd.DataFrame):
        return None
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items() if not isinstance(v, pd.DataFrame)}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (pd.Timestamp, dt.date, dt.datetime)):
        return obj.isoformat()
    if obj is None or isinstance(obj, (str, int)):
        return obj
    return str(obj)


def check_day(name: str, value) -> np.datetime64:
    """A calendar day (a date, a timestamp or text such as ``'2026-11-01'``) as ``datetime64[D]``.

    A time of day is dropped and a time zone ignored (the day as written).
    """
    try:
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise ValueError
    except (TypeError, ValueError):
        raise ParameterError.invalid(name, "a date such as '2026-11-01'", value) from None
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return np.datetime64(ts.normalize().date(), "D")
