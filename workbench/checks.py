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

from workbench.errors import DataValidationError, ParameterError, Words

#: Largest seed accepted (seeds are hashed as 64-bit integers).
MAX_SEED = 2**63 - 1

__all__ = [
    "MAX_SEED", "range_text", "check_int", "check_num", "check_seed", "check_choice", "require_columns",
    "require_unique", "require_complete", "jsonable", "check_date", "check_probabilities",
    "require_integers", "require_within", "check_day",
]


#: Catalogue keys of the kinds of value :func:`range_text` names.
_KINDS = {"an integer": "errors.allowed.integer", "a finite number": "errors.allowed.number"}


def range_text(kind: str, lo=None, hi=None, lo_open: bool = False) -> str:
    """``"an integer in [0, 5]"``, ``"a finite number > 0"`` ... (:class:`~workbench.errors.Words`: the
    command line words it in the user's language)."""
    kind = Words(_KINDS[kind]) if kind in _KINDS else kind
    if lo is not None and hi is not None:
        return Words("errors.allowed.in_open" if lo_open else "errors.allowed.in", kind=kind, lo=lo, hi=hi)
    if lo is not None:
        return Words("errors.allowed.above" if lo_open else "errors.allowed.at_least", kind=kind, lo=lo)
    if hi is not None:
        return Words("errors.allowed.at_most", kind=kind, hi=hi)
    return kind


def _data_error(key: str, problems: list[dict], **values) -> DataValidationError:
    """A :class:`DataValidationError` worded by the catalogue's ``key`` (English as raised, see
    :meth:`~workbench.errors.WorkbenchError.from_words`)."""
    exc = DataValidationError.from_words(key, **values)
    exc.problems = problems
    return exc


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
        raise _data_error(
            "errors.data.missing_columns",
            [{"table": name, "column": c, "check": "present", "count": 1, "examples": []} for c in missing],
            table=name, missing=missing, expected=list(columns), found=list(frame.columns))


def require_unique(frame: pd.DataFrame, name: str, column: str) -> None:
    """``frame[column]`` has no repeated value."""
    dup = frame[column].duplicated()
    if dup.any():
        examples = frame.loc[dup, column].head(5).tolist()
        raise _data_error(
            "errors.data.not_unique",
            [{"table": name, "column": column, "check": "unique", "count": int(dup.sum()), "examples": examples}],
            table=name, column=repr(column), count=int(dup.sum()), examples=examples)


def require_complete(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    """``columns`` of ``frame`` have no missing value."""
    problems = [{"table": name, "column": c, "check": "not null", "count": int(frame[c].isna().sum()),
                 "examples": []} for c in columns if frame[c].isna().any()]
    if problems:
        columns = tuple(Words("errors.data.missing_in_column", column=repr(p["column"]), count=p["count"])
                        for p in problems)
        raise _data_error("errors.data.missing_values", problems, table=name, columns=columns)


def check_choice(name: str, value, allowed: Sequence):
    """``value`` is one of ``allowed`` (the message lists them)."""
    if value not in allowed:
        raise ParameterError.invalid(name, Words("errors.allowed.one_of", choices=list(allowed)), value)
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


def check_date(name: str, value) -> pd.Timestamp:
    """A calendar day (``datetime.date``, ``Timestamp`` or ``'YYYY-MM-DD'``) as a midnight ``Timestamp``."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if value is None or pd.isna(ts):
        raise ParameterError.invalid(name, Words("errors.allowed.date"), value)
    return ts.normalize()


def check_probabilities(name: str, values) -> np.ndarray:
    """A 1-d array of probabilities: finite numbers in ``[0, 1]`` (the message shows up to five bad values)."""
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or not np.all(np.isfinite(a)) or (a.size and (a.min() < 0 or a.max() > 1)):
        bad = a[~np.isfinite(a) | (a < 0) | (a > 1)][:5].tolist() if a.ndim == 1 else a.shape
        raise ParameterError.invalid(name, Words("errors.allowed.probabilities"), bad)
    return a


def require_integers(frame: pd.DataFrame, name: str, column: str, what: str = "values") -> None:
    """``frame[column]`` holds whole numbers (an integer dtype, or numbers without a fraction); ``what``
    names them in the message (e.g. ``"subscriber ids"``)."""
    values = frame[column]
    if pd.api.types.is_integer_dtype(values.dtype):
        return
    as_num = pd.to_numeric(values, errors="coerce")
    bad = as_num.isna() | (as_num != np.round(as_num))
    if bad.any():
        examples = values[bad].head(5).tolist()
        raise DataValidationError(
            f"{name}: column {column!r} must hold integer {what}; found {examples}",
            [{"table": name, "column": column, "check": "integer", "count": int(bad.sum()), "examples": examples}],
        )


def require_within(frame: pd.DataFrame, name: str, column: str, lo: float, hi: float,
                   what: str = "numbers") -> pd.Series:
    """``frame[column]`` holds numbers in ``[lo, hi]`` (``what`` names them, e.g. ``"probabilities"``);
    returns the column as floats."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < lo) | (values > hi)
    if bad.any():
        examples = frame.loc[bad, column].head(5).tolist()
        raise DataValidationError(
            f"{name}: column {column!r} must hold {what} in [{lo}, {hi}]; {int(bad.sum())} value(s) are not, "
            f"e.g. {examples}",
            [{"table": name, "column": column, "check": f"in [{lo}, {hi}]", "count": int(bad.sum()),
              "examples": examples}],
        )
    return values.astype(float)


def check_day(name: str, value) -> np.datetime64:
    """A calendar day (see :func:`check_date`) as ``datetime64[D]``; a time of day is dropped and a time
    zone ignored (the day as written)."""
    ts = check_date(name, value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return np.datetime64(ts.date(), "D")
