"""Shared plumbing of the feature and status SQL: connections, months, column checks.

Every function of :mod:`workbench.features` and :mod:`workbench.status` accepts a
*source* (folder, DuckDB file, ``{table: DataFrame}``; see
:func:`workbench.data.source.connect`) **or** an open DuckDB connection that
already has one view per table, so a notebook can connect once and reuse it.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd

from workbench.data.source import connect
from workbench.data.tables import PRODUCT_FAMILIES, table
from workbench.errors import DataValidationError, ParameterError

__all__ = [
    "connection", "require", "declare_columns", "parse_month", "parse_date", "month_end",
    "add_months", "sql_date", "check_family", "check_positive_int", "fetch_frame",
]


_ISO = re.compile(r"^\d{4}-\d{2}(-\d{2}([ T].*)?)?$")


def declare_columns(uses: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Check at import time that every column a module's SQL uses is in the data model.

    A renamed column in :mod:`workbench.data.tables` then fails loudly here
    instead of deep inside a SQL statement.
    """
    for name, cols in uses.items():
        spec = table(name)
        for c in cols:
            spec.column(c)
    return dict(uses)


@contextmanager
def connection(source, *, memory_limit: str | None = None, threads: int | None = None,
               temp_directory: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a DuckDB connection over ``source``; an open connection is used as is (not closed)."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    con = connect(source, memory_limit=memory_limit, threads=threads, temp_directory=temp_directory)
    try:
        yield con
    finally:
        con.close()


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, *, categorical=()) -> pd.DataFrame:
    """The result of ``sql`` as a DataFrame holding each column in its own block, through Arrow.

    ``.df()`` stacks the columns of one dtype into a 2-D block: on a million rows and 135
    columns that stacking copy alone takes ~1.3 s, and every later frame assembled from the
    columns stacks them again.  Arrow's ``to_pandas(split_blocks=True)`` hands the columns
    over one by one (numbers without missing values without a copy).  Text columns named in
    ``categorical`` are dictionary-encoded by Arrow and arrive as pandas categoricals
    (categories = the values present; missing stays missing), so no per-row pass in
    Python makes them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    result = con.sql(sql).to_arrow_table()
    for name in categorical:
        i = result.schema.get_field_index(name)
        if i >= 0 and (pa.types.is_string(result.schema.field(i).type)
                       or pa.types.is_large_string(result.schema.field(i).type)):
            result = result.set_column(i, name, pc.dictionary_encode(result.column(i)))
    return result.to_pandas(split_blocks=True, self_destruct=True)


def require(con: duckdb.DuckDBPyConnection, uses: Mapping[str, tuple[str, ...]], what: str) -> None:
    """Raise :class:`DataValidationError` listing every table / column ``what`` needs but the source lacks."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    problems = []
    for name, cols in uses.items():
        if name not in present:
            problems.append({"table": name, "column": None, "check": "table present", "count": 1,
                             "examples": []})
            continue
        have = {r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()}
        missing = [c for c in cols if c not in have]
        if missing:
            problems.append({"table": name, "column": ", ".join(missing), "check": "column present",
                             "count": len(missing), "examples": sorted(have)[:20]})
    if problems:
        lines = [
            f"table {p['table']!r} is missing" if p["column"] is None
            else f"table {p['table']!r} lacks column(s) {p['column']} (has {p['examples']})"
            for p in problems
        ]
        raise DataValidationError(f"{what} needs data the source does not hold: " + "; ".join(lines), problems)


def parse_month(value, name: str = "snapshot") -> pd.Timestamp:
    """The first day of the month ``value`` names ("2026-10", a date, a Timestamp, a Period)."""
    try:
        if isinstance(value, pd.Period):
            ts = value.to_timestamp()
        elif isinstance(value, str):
            if not _ISO.match(value.strip()):
                raise ValueError
            ts = pd.Timestamp(value.strip())
        elif isinstance(value, (_dt.date, pd.Timestamp)):
            ts = pd.Timestamp(value)
        else:
            raise TypeError
        if pd.isna(ts):
            raise ValueError
    except (TypeError, ValueError):
        raise ParameterError.invalid(name, "a month such as '2026-10' (or a date)", value) from None
    return pd.Timestamp(ts.year, ts.month, 1)


def parse_date(value, name: str = "at") -> pd.Timestamp:
    """A calendar day; a month given as ``"YYYY-MM"`` (or a Period) means its last day."""
    if isinstance(value, pd.Period) or (isinstance(value, str) and len(value.strip()) == 7):
        return month_end(parse_month(value, name))
    try:
        if isinstance(value, str) and not _ISO.match(value.strip()):
            raise ValueError
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise ValueError
    except (TypeError, ValueError):
        raise ParameterError.invalid(name, "a date such as '2026-10-31' or a month such as '2026-10'",
                                     value) from None
    return ts.normalize()


def month_end(month_start: pd.Timestamp) -> pd.Timestamp:
    """The last day of the month starting at ``month_start``."""
    return month_start + pd.offsets.MonthEnd(0)


def add_months(month_start: pd.Timestamp, n: int) -> pd.Timestamp:
    """``month_start`` moved by ``n`` calendar months (stays a first day of month)."""
    return month_start + pd.DateOffset(months=n)


def sql_date(ts: pd.Timestamp) -> str:
    """A DuckDB ``DATE`` literal."""
    return f"DATE '{ts:%Y-%m-%d}'"


def check_family(family, name: str = "family", allow_none: bool = False) -> str | None:
    """``family`` if it is a product family of the data model, else :class:`ParameterError`."""
    if family is None and allow_none:
        return None
    if family not in PRODUCT_FAMILIES:
        raise ParameterError.invalid(name, f"one of {list(PRODUCT_FAMILIES)}", family)
    return family


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int if it is an integer >= ``minimum``, else :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError.invalid(name, f"an integer >= {minimum}", value)
    return int(value)
