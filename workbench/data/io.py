"""Load, validate and save a province extract.

:func:`load` reads every table of a source (a folder of Parquet / CSV files, a
DuckDB file or a dict of DataFrames, see :mod:`workbench.data.source`),
validates it against the schemas of :mod:`workbench.data.schemas` with
``lazy=True`` *and* across tables (foreign keys, missing tables), and returns a
:class:`Province` of validated DataFrames - or raises ONE
:class:`~workbench.errors.DataValidationError` listing every problem.  Nothing is
returned, cached or written when validation fails.

:func:`validate` runs the same checks and returns a :class:`Report` instead of
raising (the ``workbench data validate`` command prints it).  :func:`save`
writes frames as Parquet, atomically.

Types after loading (pandas 3):

==========  =========================================================
logical     pandas dtype
==========  =========================================================
``str``     ``str``
``int``     ``int64``; a *nullable* int column (e.g. ``age``) is ``Int64``
``float``   ``float64``
``bool``    ``bool``
``date``    ``datetime64[us]`` (as DuckDB and pandas 3 give; far-future sentinels such as 2999-12-31 fit)
==========  =========================================================

Columns come in data-model order, followed by any extra columns (kept as
read, with an :class:`ExtraColumnWarning`); the index is a fresh RangeIndex.
"""
from __future__ import annotations

import difflib
import math
import shutil
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import duckdb
import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pyarrow as pa

from workbench.data.presence import PRESENCE_CHECKS, presence_problems
from workbench.data.schemas import pandas_dtype, resolve_as_of, schema_for
from workbench.data.source import SourceLike, as_source, connect
from workbench.data.tables import TABLE_ORDER, TABLES, table
from workbench.errors import DataValidationError, ParameterError, Words

__all__ = [
    "CHECKS",
    "ExtraColumnWarning",
    "Problem",
    "Province",
    "Report",
    "load",
    "save",
    "validate",
]

#: Every kind of problem the validator reports, in report order, with what it means.
CHECKS: dict[str, str] = {
    "missing_table": "a required table is not in the source",
    "unreadable": "the table could not be read (corrupt file, bad CSV, duplicate column names)",
    "missing_column": "a column of the data model is not in the table",
    "wrong_type": "a value cannot be converted to the column's type",
    "missing_value": "a value is missing in a column that does not allow it",
    "duplicate_key": "several rows share one primary key",
    "not_allowed": "a value is not one of the column's allowed values",
    "below_min": "a value is below the column's minimum",
    "above_max": "a value is above the column's maximum",
    "after_snapshot": "a date is later than the snapshot date (as_of)",
    "orphan_key": "a foreign key refers to a row that does not exist in the referenced table",
    **PRESENCE_CHECKS,
    "check_error": "a check could not be evaluated",
}
_CHECK_RANK = {name: i for i, name in enumerate(CHECKS)}
_EXAMPLES = 5


class ExtraColumnWarning(UserWarning):
    """A table holds columns the data model does not know; they are kept as read."""


# ------------------------------------------------------------------ results
def _plain(value):
    """A JSON-friendly Python value (numpy scalars, timestamps, NaN)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _show(value, quote: bool = False) -> str:
    """An example as text: ``-5.0``, ``abc`` (``'abc'`` with ``quote``), ``(1, 2024-04-01)`` for a key."""
    value = _plain(value)
    if isinstance(value, list):
        return "(" + ", ".join(_show(v, quote) for v in value) + ")"
    return repr(value) if quote and isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Problem:
    """One validation failure.

    Parameters
    ----------
    table : str
        Table name.
    column : str or None
        Column (``"a, b"`` for a composite key; ``None`` for a table-level problem).
    check : str
        Kind of problem, a key of :data:`CHECKS`.
    count : int or None
        Number of failing rows (``None`` when rows do not apply, e.g. a missing table).
    examples : tuple
        A few failing values (keys for duplicates and orphans).
    rows : tuple of int
        0-based positions of a few failing rows (CSV line = row + 2).
    expected : str
        What was expected, in English words (JSON, exception messages); a :class:`~workbench.errors.Words`
        of the catalogue (``data.expected.*``) is worded again in the report's language.
    """

    table: str
    column: str | None
    check: str
    count: int | None
    examples: tuple = ()
    rows: tuple[int, ...] = ()
    expected: str = ""

    def as_dict(self) -> dict:
        """The problem as a plain dict (JSON-ready)."""
        return {
            "table": self.table,
            "column": self.column,
            "check": self.check,
            "count": self.count,
            "examples": [_plain(v) for v in self.examples],
            "rows": list(self.rows),
            "expected": str(self.expected),
        }

    def describe(self) -> str:
        """One line in English: where, what, how many, examples."""
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        text = f"{where}: {self.check}"
        if self.count is not None:
            text += f", {self.count} row{'s' if self.count != 1 else ''}"
        if self.expected:
            text += f" ({self.expected})"
        if self.examples:
            text += f"; e.g. {', '.join(_show(v, quote=True) for v in self.examples)}"
        return text


@dataclass(frozen=True)
class Report:
    """Result of :func:`validate`: every problem found, row counts, extra columns.

    Attributes
    ----------
    source : str
        The validated source.
    as_of : pandas.Timestamp
        Snapshot date used by ``after_snapshot``.
    tables : tuple of str
        Tables that were required.
    row_counts : Mapping of str to int
        Rows of each table that could be read.
    problems : tuple of Problem
        Every failure, ordered by table, then kind.
    extra_columns : Mapping of str to tuple of str
        Columns not in the data model, per table (kept, not a failure).
    """

    source: str
    as_of: pd.Timestamp
    tables: tuple[str, ...]
    row_counts: Mapping[str, int]
    problems: tuple[Problem, ...]
    extra_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def as_dict(self) -> dict:
        """The report as a plain dict (JSON-ready)."""
        return {
            "source": self.source,
            "as_of": self.as_of.date().isoformat(),
            "ok": self.ok,
            "tables": list(self.tables),
            "row_counts": dict(self.row_counts),
            "extra_columns": {k: list(v) for k, v in self.extra_columns.items()},
            "problems": [p.as_dict() for p in self.problems],
        }

    def message(self) -> str:
        """All problems as one English message (the text of the raised error)."""
        head = (f"The extract {self.source} failed validation (as of {self.as_of.date().isoformat()}): "
                f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}")
        return "\n  - ".join([head + ":", *(p.describe() for p in self.problems)])

    def error(self) -> DataValidationError:
        """The :class:`~workbench.errors.DataValidationError` this report stands for."""
        return DataValidationError(self.message(), [p.as_dict() for p in self.problems], report=self)

    def format(self, lang: str | None = None) -> str:
        """A readable report (labels in ``lang``, default the current language)."""
        from workbench.i18n import t

        lines = [t("data.validate.title", lang, source=self.source, as_of=self.as_of.date().isoformat())]
        if self.problems:
            header = [t(f"data.validate.col.{k}", lang) for k in ("table", "column", "check", "count", "examples")]
            body = [
                [p.table, p.column or "-", t(f"data.check.{p.check}", lang),
                 "-" if p.count is None else str(p.count), _detail(p, lang)]
                for p in self.problems
            ]
            lines += _table_lines(header, body)
            lines.append(t("data.validate.failed", lang, n=len(self.problems)))
        else:
            counts = ", ".join(f"{name} {self.row_counts.get(name, 0):,}" for name in self.tables)
            lines.append(t("data.validate.ok", lang, n=len(self.tables), counts=counts))
        for name, cols in self.extra_columns.items():
            lines.append(t("data.validate.extra_columns", lang, table=name, columns=", ".join(cols)))
        return "\n".join(lines)


def _expect(key: str, **values) -> Words:
    """What a :class:`Problem` expected: the catalogue's ``data.expected.<key>`` (English as raised)."""
    return Words(f"data.expected.{key}", **values)


def _detail(problem: Problem, lang: str | None = None) -> str:
    """Examples of a row-level problem; what was expected (and found) for a table- or column-level one."""
    from workbench.i18n import t

    examples = ", ".join(_show(v) for v in problem.examples)
    if problem.count is not None and examples:
        return examples
    expected = problem.expected.text(lang) if isinstance(problem.expected, Words) else problem.expected
    found = examples and t("data.expected.found", lang, examples=examples)
    return t("data.expected.separator", lang).join(part for part in (expected, found) if part)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table_lines(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(row):
        return "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in body)]


# ----------------------------------------------------------------- province
@dataclass(frozen=True)
class Province(Mapping):
    """Validated DataFrames of a province, by table name.

    A read-only mapping (``province["subscribers"]``) that also offers the
    tables as attributes (``province.subscribers``).  It exists only when every
    table passed validation.

    Attributes
    ----------
    frames : Mapping of str to pandas.DataFrame
        The tables, in load order.
    as_of : pandas.Timestamp
        Snapshot date the extract was validated against.
    source : str
        Where it was loaded from.
    """

    frames: Mapping[str, pd.DataFrame]
    as_of: pd.Timestamp
    source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "frames", MappingProxyType(dict(self.frames)))

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.frames[name]
        except KeyError:
            raise KeyError(f"table {name!r} is not loaded; this province has {list(self.frames)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_") or name in ("frames", "as_of", "source"):
            raise AttributeError(name)
        try:
            return self.frames[name]
        except KeyError:
            raise AttributeError(f"province has no table {name!r}; it has {list(self.frames)}") from None

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(frame) for name, frame in self.frames.items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.row_counts.items())
        return f"Province(as_of={self.as_of.date().isoformat()}, {counts})"


# ------------------------------------------------------------------ reading
def _wanted_tables(tables, present=()) -> tuple[str, ...]:
    if tables is None:  # every required table, and the optional ones the source holds
        return tuple(n for n in TABLE_ORDER if not TABLES[n].optional or n in present)
    if isinstance(tables, str):
        tables = [tables]
    names = [str(n) for n in tables]
    unknown = [n for n in names if n not in TABLES]
    if unknown or not names:
        raise ParameterError.invalid("tables", Words("errors.allowed.selection", choices=list(TABLE_ORDER)), names)
    return tuple(n for n in TABLE_ORDER if n in names)


def _describe_source(location) -> str:
    if isinstance(location, Mapping):
        return f"<{len(location)} DataFrames>"
    return str(location)


def _where_expected(kind: str, name: str) -> Words:
    return _expect({"folder": "table_file", "duckdb": "table_duckdb"}.get(kind, "table_frame"), table=name)


def _sql_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _arrow_types_mapper():
    text = pd.StringDtype(storage="pyarrow", na_value=np.nan)  # pandas 3's "str"
    return {pa.string(): text, pa.large_string(): text, pa.int64(): pd.Int64Dtype()}.get


class _Reader:
    """Reads raw tables of a source (CSV as text, so the schema decides the types)."""

    def __init__(self, src):
        self.src = src
        self.kind = src.kind
        self._con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._con is not None:
            self._con.close()

    def _connection(self):
        if self._con is None:
            self._con = connect(self.src) if self.kind == "duckdb" else duckdb.connect()
        return self._con

    def read(self, name: str) -> pd.DataFrame:
        if self.kind == "frames":
            frame = self.src.location[name]
            if not isinstance(frame, pd.DataFrame):
                raise ParameterError.invalid(f"source[{name!r}]", "a pandas DataFrame", type(frame).__name__)
            return frame.reset_index(drop=True)
        if self.kind == "duckdb":
            sql = f'SELECT * FROM "{name}"'
        else:
            fmt, path = self.src.files()[name]
            if fmt == "csv":
                sql = f"SELECT * FROM read_csv({_sql_literal(path)}, header=true, all_varchar=true)"
            else:
                sql = f"SELECT * FROM {self.src.scan_sql(name)}"
        # via Arrow: 4x faster than .df() for text, and int64 keeps its nulls exactly (Int64)
        arrow = self._connection().sql(sql).to_arrow_table()
        return arrow.to_pandas(types_mapper=_arrow_types_mapper(), date_as_object=False)


def _error_summary(exc: BaseException) -> str:
    """One line for a read error: its first line, plus DuckDB's reason when the first only says where."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    reason = next((ln for ln in lines[1:] if not ln.startswith(("Original Line", "Possible Solution", "*", "LINE"))),
                  None)
    return f"{lines[0]} - {reason}" if reason and "CSV Error" in lines[0] else lines[0]


# --------------------------------------------------------------- validation
def _failure_frame(schema_error) -> pd.DataFrame:
    cases = schema_error.failure_cases
    if isinstance(cases, pd.DataFrame) and "failure_case" in cases:
        return cases
    return pd.DataFrame({"index": [None], "failure_case": [cases]})


def _row_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """Failure cases that point at a row and a present value."""
    if "index" not in cases:
        return cases.iloc[0:0]
    keep = cases["index"].notna() & cases["failure_case"].notna()
    return cases.loc[keep]


def _unique_examples(values: Iterable) -> tuple:
    out: list = []
    for value in values:
        value = _plain(value)
        value = tuple(value) if isinstance(value, list) else value
        if value not in out:
            out.append(value)
        if len(out) == _EXAMPLES:
            break
    return tuple(out)


def _rows(index_values: Iterable) -> tuple[int, ...]:
    return tuple(sorted({int(i) for i in index_values})[:_EXAMPLES])


def _schema_problems(name: str, errors, data: pd.DataFrame, raw_columns: list[str]) -> list[Problem]:
    """pandera's lazily collected errors of one table as :class:`Problem`s."""
    spec = table(name)
    wrong_type: dict[str, list[pd.DataFrame]] = {}
    problems: list[Problem] = []
    check_errors: list[Problem] = []
    missing_values: set[str] = set()
    for err in errors.schema_errors:
        reason = getattr(err.reason_code, "name", str(err.reason_code))
        cases = _failure_frame(err)
        column = err.column_name
        if reason == "COLUMN_NOT_IN_DATAFRAME":
            missing = str(cases["failure_case"].iloc[0]) if column is None else column
            similar = difflib.get_close_matches(missing, [c for c in raw_columns if c not in spec.column_names], n=3)
            typed = missing in spec.column_names
            expected = _expect(("column_typed" if typed else "column") + ("_similar" if similar else ""),
                               column=missing, **({"dtype": spec.column(missing).dtype} if typed else {}),
                               **({"similar": ", ".join(similar)} if similar else {}))
            problems.append(Problem(name, missing, "missing_column", None, (), (), expected))
        elif reason in ("DATATYPE_COERCION", "WRONG_DATATYPE"):
            column = column or getattr(err.schema, "name", None)
            wrong_type.setdefault(column, []).append(_row_cases(cases))
        elif reason == "SERIES_CONTAINS_NULLS":
            missing_values.add(column)
            rows = cases["index"].dropna() if "index" in cases else []
            problems.append(Problem(name, column, "missing_value", int(pd.Series(rows).nunique()), (),
                                    _rows(rows), _expect("every_row")))
        elif reason in ("SERIES_CONTAINS_DUPLICATES", "DUPLICATES"):
            key = list(spec.primary_key)
            if any(k not in data.columns for k in key):
                continue  # part of the key is missing (reported); uniqueness of the rest means nothing
            rows = sorted({int(i) for i in cases["index"].dropna()})
            keys = data.loc[rows, key]
            examples = _unique_examples(keys[key[0]] if len(key) == 1 else keys.itertuples(index=False, name=None))
            n_keys = len(keys.drop_duplicates())
            problems.append(Problem(name, ", ".join(key), "duplicate_key", len(rows), examples, tuple(rows[:_EXAMPLES]),
                                    _expect("unique_key", n=n_keys)))
        elif reason == "DATAFRAME_CHECK" and getattr(err.check, "name", None) in CHECKS:
            rows_cases = _row_cases(cases)
            problems.append(Problem(name, column, err.check.name, int(rows_cases["index"].nunique()),
                                    _unique_examples(rows_cases["failure_case"]), _rows(rows_cases["index"]),
                                    err.check.error or ""))
        else:
            check_errors.append(Problem(name, column, "check_error", None,
                                        _unique_examples(cases["failure_case"].dropna()), (), str(err.check)))
    for column, frames in wrong_type.items():
        cases = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["index", "failure_case"])
        if cases.empty and column in missing_values:
            continue  # the type failed only because of missing values, reported as missing_value
        expected = _expect("dtype", dtype=spec.column(column).dtype, pandas=pandas_dtype(spec.column(column))) \
            if column in spec.column_names else _expect("column_dtype")
        problems.append(Problem(name, column, "wrong_type", int(cases["index"].nunique()) if not cases.empty else None,
                                _unique_examples(cases["failure_case"]), _rows(cases["index"]), expected))
    # a check evaluated on a column that could not be converted fails for that reason only
    problems += [p for p in check_errors if p.column not in wrong_type]
    return problems


def _orphan_problems(frames: Mapping[str, pd.DataFrame], bad_columns: Mapping[str, set]) -> list[Problem]:
    """Foreign keys whose value is not in the referenced table (within the loaded tables)."""
    problems = []
    for name, frame in frames.items():
        for column, (ref_table, ref_column) in table(name).foreign_keys.items():
            ref = frames.get(ref_table)
            if ref is None or column not in frame.columns or ref_column not in ref.columns:
                continue
            if column in bad_columns.get(name, ()) or ref_column in bad_columns.get(ref_table, ()):
                continue  # the column's type is already reported; comparing would mislead
            values = frame[column]
            orphan = values.notna() & ~values.isin(ref[ref_column].dropna().unique())
            if orphan.any():
                problems.append(Problem(
                    name, column, "orphan_key", int(orphan.sum()), _unique_examples(values[orphan]),
                    _rows(np.flatnonzero(orphan.to_numpy())), _expect("reference", ref=f"{ref_table}.{ref_column}"),
                ))
    return problems


def _progress(iterable, total: int, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc="validate", unit="table", disable=not progress, leave=False)


def _run(source: SourceLike, as_of, tables, progress: bool) -> tuple[Report, dict[str, pd.DataFrame]]:
    stamp = resolve_as_of(as_of)
    _wanted_tables(tables)  # a bad selection is a ParameterError before the source is touched
    src = as_source(source)
    kind = src.kind  # raises FileNotFoundError for a path that is neither folder nor DuckDB file
    present = set(src.tables())
    wanted = _wanted_tables(tables, present)
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    row_counts: dict[str, int] = {}
    extra: dict[str, tuple[str, ...]] = {}
    bad_columns: dict[str, set] = {}
    with _Reader(src) as reader:
        for name in _progress(wanted, len(wanted), progress):
            if name not in present:
                problems.append(Problem(name, None, "missing_table", None, (), (), _where_expected(kind, name)))
                continue
            try:
                raw = reader.read(name)
            except (duckdb.Error, pa.ArrowException, OSError) as exc:  # corrupt file, malformed CSV
                problems.append(Problem(name, None, "unreadable", None, (), (), _error_summary(exc)))
                continue
            raw.columns = [str(c) for c in raw.columns]
            duplicated = sorted(set(raw.columns[raw.columns.duplicated()]))
            if duplicated:
                problems.append(Problem(name, None, "unreadable", None, tuple(duplicated), (),
                                        _expect("unique_columns")))
                continue
            model_columns = table(name).column_names
            if not set(model_columns) & set(raw.columns):
                problems.append(Problem(
                    name, None, "unreadable", None, tuple(raw.columns[:_EXAMPLES]), (), _expect("model_columns"),
                ))
                continue
            row_counts[name] = len(raw)
            extras = tuple(c for c in raw.columns if c not in model_columns)
            if extras:
                extra[name] = extras
            try:
                checked = schema_for(name, stamp).validate(raw, lazy=True)
            except pa_errors.SchemaErrors as exc:
                found = _schema_problems(name, exc, exc.data, list(raw.columns))
                problems += found
                bad_columns[name] = {p.column for p in found if p.check in ("wrong_type", "unreadable")}
                checked = exc.data
            order = [c for c in model_columns if c in checked.columns] + list(extras)
            frames[name] = checked[order].reset_index(drop=True)
    problems += _orphan_problems(frames, bad_columns)
    problems += [Problem(**p) for p in presence_problems(frames, bad_columns)]
    problems.sort(key=lambda p: (TABLE_ORDER.index(p.table), _CHECK_RANK.get(p.check, len(CHECKS)),
                                 _column_rank(p)))
    report = Report(
        source=_describe_source(src.location), as_of=stamp, tables=wanted,
        row_counts=MappingProxyType(row_counts), problems=tuple(problems), extra_columns=MappingProxyType(extra),
    )
    return report, frames


def _column_rank(problem: Problem) -> int:
    names = table(problem.table).column_names
    first = (problem.column or "").split(", ")[0]
    return names.index(first) if first in names else len(names)


def validate(source: SourceLike, as_of=None, *, tables=None, progress: bool = False) -> Report:
    """Check an extract and report every problem, without raising on bad data.

    Parameters
    ----------
    source : path, mapping or Source
        Folder of ``<table>.parquet`` / ``<table>/`` / ``<table>.csv``, a DuckDB
        file, or ``{table: DataFrame}``.
    as_of : str, date or None
        Snapshot date; no date may be later.  ``None`` means today.
    tables : iterable of str, optional
        Tables to require (default: the seven required ones and the optional tables the
        source holds); foreign keys are checked
        within this set only.
    progress : bool
        Show a progress bar over the tables.

    Returns
    -------
    Report
        ``report.ok`` is True when nothing failed; ``report.problems`` lists
        every failure (table, column, check, count, examples).

    Raises
    ------
    FileNotFoundError
        When ``source`` is a path that is neither a folder nor a DuckDB file.
    ParameterError
        When ``as_of`` is not a date or ``tables`` names an unknown table.
    """
    return _run(source, as_of, tables, progress)[0]


def load(source: SourceLike, *, as_of=None, tables=None, progress: bool = False) -> Province:
    """Load and validate an extract: all tables valid, or one error naming every problem.

    Parameters
    ----------
    source : path, mapping or Source
        Folder of ``<table>.parquet`` / ``<table>/`` / ``<table>.csv``, a DuckDB
        file, or ``{table: DataFrame}``.
    as_of : str, date or None
        Snapshot date; no date may be later.  ``None`` means today.
    tables : iterable of str, optional
        Tables to load (default: the seven required ones and the optional tables the
        source holds); foreign keys are checked within
        this set only.
    progress : bool
        Show a progress bar over the tables.

    Returns
    -------
    Province
        The validated tables (types as in the module docstring).

    Raises
    ------
    DataValidationError
        When anything failed: missing table or column, wrong type, missing
        value, duplicate key, value not allowed or out of bounds, date after
        ``as_of``, orphan foreign key.  The message lists every problem;
        ``.problems`` holds them as dicts.  Nothing is returned.
    FileNotFoundError
        When ``source`` is a path that is neither a folder nor a DuckDB file.
    ParameterError
        When ``as_of`` is not a date or ``tables`` names an unknown table.

    Warns
    -----
    ExtraColumnWarning
        For each table holding columns the data model does not know (kept).

    Examples
    --------
    >>> province = load("sample_data/province", as_of="2024-06-30")  # doctest: +SKIP
    >>> province.subscribers.dtypes["age"]  # doctest: +SKIP
    Int64Dtype()
    """
    report, frames = _run(source, as_of, tables, progress)
    if not report.ok:
        raise report.error()
    for name, cols in report.extra_columns.items():
        warnings.warn(
            f"table {name!r} has columns that are not in the data model, kept as read: {list(cols)}",
            ExtraColumnWarning, stacklevel=2,
        )
    return Province(frames, report.as_of, report.source)


# ------------------------------------------------------------------- saving
def _is_table_entry(path: Path) -> bool:
    if path.is_dir():
        return path.name in TABLES
    return path.suffix in (".parquet", ".csv") and path.stem in TABLES


def save(province_or_frames: Mapping[str, pd.DataFrame], folder, *, overwrite: bool = False) -> Path:
    """Write tables as ``<folder>/<table>.parquet``, atomically.

    The files are written to a temporary folder next to ``folder`` which is
    then renamed into place, so a reader never sees a half-written extract.

    Parameters
    ----------
    province_or_frames : Province or mapping of str to pandas.DataFrame
        Tables to write; names must be tables of the data model.  Frames are
        written as they are (use :func:`load` to validate).
    folder : str or Path
        Destination folder.
    overwrite : bool
        Replace an existing non-empty ``folder``.  Only a folder holding
        nothing but data-model tables is replaced.

    Returns
    -------
    Path
        ``folder``.

    Raises
    ------
    ParameterError
        For an unknown table name, a value that is not a DataFrame, or an
        existing folder holding other files.
    FileExistsError
        When ``folder`` exists, is not empty and ``overwrite`` is False.
    """
    frames = dict(province_or_frames.items())
    unknown = [n for n in frames if n not in TABLES]
    if unknown:
        raise ParameterError.invalid("table names", f"tables of the data model {list(TABLE_ORDER)}", unknown)
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError.invalid(f"frames[{name!r}]", "a pandas DataFrame", type(frame).__name__)
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise FileExistsError(f"cannot save into {str(folder)!r}: it exists and is not a folder")
        entries = list(folder.iterdir())
        if entries and not overwrite:
            raise FileExistsError(f"folder {str(folder)!r} is not empty; pass overwrite=True to replace it")
        foreign = sorted(p.name for p in entries if not _is_table_entry(p))
        if foreign:
            raise ParameterError.invalid(
                "folder", "a folder holding only data-model tables (so replacing it loses nothing)",
                f"{folder} containing {foreign}",
            )
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        for name in (n for n in TABLE_ORDER if n in frames):
            frames[name].to_parquet(tmp / f"{name}.parquet", index=False)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            old.rmdir()
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
