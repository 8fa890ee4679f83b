"""pandera schemas of the province tables, built from :mod:`workbench.data.tables`.

Nothing here lists a column: every schema is derived from the declarative data
model, so a column added to ``tables.py`` is validated (and documented) at once.

Each column of a schema has

* its type, with ``coerce=True`` so CSV text is accepted and a value that cannot
  be converted is a *wrong type* failure (see :data:`PANDAS_DTYPES`);
* nullability;
* allowed values (``isin``) and inclusive bounds when the model declares them;
* for dates marked ``not_after_snapshot``: no value later than the snapshot date
  ``as_of``.

The table's primary key (single or composite) must be unique, and
``strict=False`` keeps columns the model does not know.

Every check is *named after the failure it reports* (:data:`SCHEMA_CHECKS`), so
:mod:`workbench.data.io` can turn pandera's failure cases into one readable list
of problems.

>>> from workbench.data.schemas import schema_for
>>> schema = schema_for("subscribers", as_of="2024-06-30")
>>> schema.columns["brand"].checks[0].name
'not_allowed'
"""
from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera import dtypes as _pa_dtypes
from pandera.engines import numpy_engine, pandas_engine

from workbench.data.tables import TABLE_ORDER, Column, table
from workbench.errors import ParameterError, Words

__all__ = [
    "PANDAS_DTYPES",
    "SCHEMA_CHECKS",
    "TRUE_TEXT",
    "FALSE_TEXT",
    "pandas_dtype",
    "resolve_as_of",
    "schema_for",
    "schemas",
]

#: pandas dtype of each logical type after validation (a nullable ``int`` is ``Int64``,
#: a nullable ``bool`` ``boolean``).
PANDAS_DTYPES: dict[str, str] = {
    "str": "str",
    "int": "int64",
    "float": "float64",
    "bool": "bool",
    "date": "datetime64[us]",
}
_NULLABLE_PANDAS_DTYPES: dict[str, str] = {**PANDAS_DTYPES, "int": "Int64", "bool": "boolean"}

#: Names of the value checks a schema carries, each named after the failure it reports.
SCHEMA_CHECKS: dict[str, str] = {
    "not_allowed": "value is not one of the allowed values",
    "below_min": "value is below the minimum",
    "above_max": "value is above the maximum",
    "after_snapshot": "date is later than the snapshot date (as_of)",
}

#: Text accepted as ``True`` / ``False`` in a boolean column (case-insensitive).
TRUE_TEXT: tuple[str, ...] = ("true", "t", "yes", "y", "1")
FALSE_TEXT: tuple[str, ...] = ("false", "f", "no", "n", "0")
_TRUE = frozenset(TRUE_TEXT)
_FALSE = frozenset(FALSE_TEXT)


_INT_TEXT = r"^\s*([+-]?\d+)(?:\.0*)?\s*$"


def _is_missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, (float, np.floating)) and np.isnan(value))


def _parse_bool(value):
    """One value as ``True`` / ``False`` / ``pd.NA``; ``TypeError`` when it is not boolean-like."""
    if _is_missing(value):
        return pd.NA
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer, float, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise TypeError(f"{value!r} is not a boolean (expected True/False, {'/'.join(TRUE_TEXT + FALSE_TEXT)})")


def _text_mask(series: pd.Series) -> pd.Series | None:
    """Which values are text (``None`` when the column cannot hold text)."""
    if isinstance(series.dtype, pd.StringDtype):
        return series.notna()
    if series.dtype != object:
        return None
    return series.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False).astype(bool)


def _int_text(series: pd.Series) -> pd.Series:
    """Drop a zero fraction from integer text (``"35.0"`` -> ``"35"``, as spreadsheets export it).

    Only text is touched, so no precision is lost; anything else is left for
    the type conversion to accept or reject.
    """
    is_text = _text_mask(series)
    if is_text is None or not is_text.any():
        return series
    text = series[is_text].astype(str)
    dotted = text[text.str.contains(".", regex=False)]  # vectorised; the regex runs on these only
    if dotted.empty:
        return series
    out = series.astype(object)
    out[dotted.index] = dotted.str.replace(_INT_TEXT, r"\1", regex=True)
    return out


def _date_text(series: pd.Series) -> pd.Series:
    """Parse ISO 8601 date text (``2024-05-01``, ``2024-05-01 00:00:00``, mixed) into timestamps.

    Text that is not an ISO date is left as is, so the type conversion rejects it.
    """
    is_text = _text_mask(series)
    if is_text is None or not is_text.any():
        return series
    parsed = pd.to_datetime(series.where(is_text), format="ISO8601", errors="coerce")
    if parsed.notna().sum() == series.notna().sum():
        return parsed
    out = series.astype(object)
    ok = parsed.notna()
    out[ok] = parsed[ok]
    return out


def _arrow_cast(series: pd.Series, arrow_type: str | None, allow_null: bool) -> pd.Series | None:
    """Fast text -> number conversion with pyarrow; ``None`` when it does not apply or fails."""
    if arrow_type is None or not isinstance(series.dtype, pd.StringDtype) or series.dtype.storage != "pyarrow":
        return None
    if not allow_null and series.isna().any():
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pc.cast(pa.array(series.array), pa.type_for_alias(arrow_type))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # the element-wise path converts what it can and names what it cannot
    return pd.Series(values.to_numpy(zero_copy_only=False), index=series.index, name=series.name)


class _TextAware:
    """Mixin for pandera types that accept the text a CSV file holds.

    ``_normalise`` rewrites a column and ``_normalise_value`` one value before
    the parent type converts them; ``check`` accepts the pandas dtypes named in
    ``_accepts``; ``_arrow_type`` enables a fast pyarrow conversion of clean
    text.  (Normalising inside the type, not in a pandera ``Parser``, keeps it
    ahead of the table-level primary-key check.)
    """

    _accepts: tuple[str, ...] = ()
    _arrow_type: str | None = None
    _arrow_allows_null = False

    def _normalise(self, series):
        return series

    def _normalise_value(self, value):
        return value

    def coerce(self, data_container):
        fast = _arrow_cast(data_container, self._arrow_type, self._arrow_allows_null)
        if fast is not None:
            return fast
        return super().coerce(self._normalise(data_container))

    def coerce_value(self, value):
        return super().coerce_value(self._normalise_value(value))

    def check(self, pandera_dtype, data_container=None) -> bool:
        try:
            return str(pandas_engine.Engine.dtype(pandera_dtype)) in self._accepts
        except TypeError:
            return False


@_pa_dtypes.immutable
class _Int64(_TextAware, numpy_engine.Int64):
    """numpy ``int64`` that also accepts ``"35"`` and ``"35.0"`` text."""

    _accepts = ("int64",)
    _arrow_type = "int64"

    def _normalise(self, series):
        return _int_text(series)

    def _normalise_value(self, value):
        return re.sub(_INT_TEXT, r"\1", value) if isinstance(value, str) else value


@_pa_dtypes.immutable
class _NullableInt64(_TextAware, pandas_engine.INT64):
    """pandas ``Int64`` (nullable) that also accepts ``"35"`` and ``"35.0"`` text."""

    _accepts = ("Int64",)

    def _normalise(self, series):
        return _int_text(series)

    def _normalise_value(self, value):
        return re.sub(_INT_TEXT, r"\1", value) if isinstance(value, str) else value


@_pa_dtypes.immutable
class _Float64(_TextAware, numpy_engine.Float64):
    """numpy ``float64`` with a fast conversion of number text."""

    _accepts = ("float64",)
    _arrow_type = "float64"
    _arrow_allows_null = True


@_pa_dtypes.immutable(init=True)
class _Date(_TextAware, pandas_engine.DateTime):
    """``datetime64[us]`` (pandas 3's and DuckDB's resolution) that also accepts ISO 8601 text.

    pandera's own date type is fixed to nanoseconds, whose range ends in 2262:
    a sentinel such as ``2999-12-31`` would be a *wrong type*.  In
    microseconds it loads, and the snapshot check reports it as a date after
    ``as_of``.  Time zones are dropped (local wall time is kept).
    """

    _accepts = ("datetime64[us]", "datetime64[ns]")  # pandera reports every naive unit as [ns]

    def __post_init__(self):
        object.__setattr__(self, "type", np.dtype("datetime64[us]"))

    def coerce(self, data_container):
        values = _date_text(data_container)
        if not pd.api.types.is_datetime64_any_dtype(values.dtype):
            values = pd.to_datetime(values, format="ISO8601")
        if getattr(values.dtype, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[us]")

    def coerce_value(self, value):
        if _is_missing(value):
            return pd.NaT
        stamp = pd.to_datetime(value, format="ISO8601") if isinstance(value, str) else pd.Timestamp(value)
        return stamp.as_unit("us")

    def __str__(self) -> str:
        return "datetime64[us]"


@_pa_dtypes.immutable
class _Bool(_TextAware, numpy_engine.Bool):
    """numpy ``bool`` that converts strictly.

    pandera's own ``bool`` conversion is ``astype(bool)``, which turns the text
    ``"false"`` into ``True``.  This type accepts booleans, 0/1 and the words in
    :data:`TRUE_TEXT` / :data:`FALSE_TEXT`; anything else fails.  Missing
    values are kept (as pandas ``boolean``) so that the ``nullable`` check, not
    the type check, reports them.
    """

    _accepts = ("bool", "boolean")

    def coerce(self, data_container):
        if data_container.dtype == bool:
            return data_container
        parsed = data_container.map(_parse_bool).astype("boolean")
        return parsed if parsed.isna().any() else parsed.astype(bool)

    def coerce_value(self, value):
        return _parse_bool(value)

    def __str__(self) -> str:
        return "bool"


@_pa_dtypes.immutable
class _NullableBool(_Bool):
    """pandas ``boolean`` (nullable) that converts as strictly as :class:`_Bool`."""

    def coerce(self, data_container):
        return data_container.map(_parse_bool).astype("boolean")

    def __str__(self) -> str:
        return "boolean"


def pandas_dtype(column: Column) -> str:
    """The pandas dtype a validated ``column`` has (e.g. ``"int64"``, ``"Int64"`` when nullable).

    Parameters
    ----------
    column : Column
        A column of the data model.

    Returns
    -------
    str
    """
    mapping = _NULLABLE_PANDAS_DTYPES if column.nullable else PANDAS_DTYPES
    try:
        return mapping[column.dtype]
    except KeyError:
        raise ParameterError.invalid(
            f"dtype of column {column.name}", f"one of {sorted(PANDAS_DTYPES)}", column.dtype
        ) from None


def _pandera_dtype(column: Column):
    dtype = pandas_dtype(column)
    if column.dtype == "bool":
        return _NullableBool() if column.nullable else _Bool()
    if column.dtype == "date":
        return _Date()
    if column.dtype == "int":
        return _NullableInt64() if column.nullable else _Int64()
    if column.dtype == "float":
        return _Float64()
    return dtype


def resolve_as_of(as_of=None) -> pd.Timestamp:
    """The snapshot date as a midnight ``pd.Timestamp``; ``None`` means today.

    Parameters
    ----------
    as_of : str, datetime.date, datetime.datetime, pandas.Timestamp or None
        ``"YYYY-MM-DD"`` or a date; a time of day is dropped.

    Returns
    -------
    pandas.Timestamp

    Raises
    ------
    ParameterError
        When ``as_of`` is not a date.
    """
    if as_of is None:
        return pd.Timestamp(_dt.date.today())
    stamp = None
    if isinstance(as_of, str):
        try:
            stamp = pd.Timestamp(_dt.datetime.fromisoformat(as_of.strip()))
        except ValueError:
            stamp = None
    elif isinstance(as_of, (_dt.date, np.datetime64)):
        stamp = pd.Timestamp(as_of)
    if stamp is None or pd.isna(stamp):
        raise ParameterError.invalid("as_of", Words("errors.allowed.as_of"), as_of)
    return (stamp.tz_localize(None) if stamp.tzinfo else stamp).normalize()


def _after_snapshot_check(as_of: pd.Timestamp) -> pa.Check:
    # a date is "on" the snapshot day until the next midnight
    limit = as_of + pd.Timedelta(days=1)
    return pa.Check(
        lambda s: s < limit,
        name="after_snapshot",
        error=f"must not be after the snapshot date {as_of.date().isoformat()}",
    )


def _column_checks(column: Column, as_of: pd.Timestamp) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.allowed is not None:
        checks.append(pa.Check.isin(list(column.allowed), name="not_allowed",
                                    error=f"must be one of {list(column.allowed)}"))
    if column.min is not None:
        checks.append(pa.Check.ge(column.min, name="below_min", error=f"must be >= {column.min:g}"))
    if column.max is not None:
        checks.append(pa.Check.le(column.max, name="above_max", error=f"must be <= {column.max:g}"))
    if column.not_after_snapshot:
        checks.append(_after_snapshot_check(as_of))
    return checks


def schema_for(table_name: str, as_of=None) -> pa.DataFrameSchema:
    """The pandera schema of one table of the data model.

    Parameters
    ----------
    table_name : str
        A table of :data:`workbench.data.tables.TABLES`.
    as_of : str, date or None
        Snapshot date: dates marked ``not_after_snapshot`` must not be later.
        ``None`` means today.

    Returns
    -------
    pandera.DataFrameSchema
        Coercing (``coerce=True``), non-strict (extra columns are kept) schema
        whose primary key must be unique.  Validate with ``lazy=True`` to see
        every failure at once.

    Raises
    ------
    KeyError
        When ``table_name`` is not a table of the data model.
    ParameterError
        When ``as_of`` is not a date.

    Examples
    --------
    >>> import pandas as pd
    >>> schema = schema_for("branches")
    >>> frame = pd.DataFrame({"branch_id": ["urumqi"], "name_zh": ["乌鲁木齐"],
    ...                       "name_en": ["Urumqi"], "is_capital": ["true"]})
    >>> schema.validate(frame)["is_capital"].tolist()
    [True]
    """
    spec = table(table_name)
    stamp = resolve_as_of(as_of)
    single_key = len(spec.primary_key) == 1
    columns = {
        c.name: pa.Column(
            _pandera_dtype(c),
            checks=_column_checks(c, stamp),
            nullable=c.nullable,
            unique=single_key and c.name in spec.primary_key,
            report_duplicates="all",
            coerce=True,
            required=True,
            title=c.meaning_zh or None,
            description=c.meaning,
            metadata={"unit": c.unit, "personal": c.personal},
        )
        for c in spec.columns
    }
    return pa.DataFrameSchema(
        columns,
        strict=False,
        ordered=False,
        unique=None if single_key else list(spec.primary_key),
        report_duplicates="all",
        name=spec.name,
        title=spec.meaning_zh,
        description=spec.meaning,
        metadata={"primary_key": list(spec.primary_key), "as_of": stamp.date().isoformat()},
    )


def schemas(as_of=None, tables=None) -> dict[str, pa.DataFrameSchema]:
    """Schemas of several tables, in load order.

    Parameters
    ----------
    as_of : str, date or None
        Snapshot date (``None``: today).
    tables : iterable of str, optional
        Which tables; default all of :data:`workbench.data.tables.TABLE_ORDER`.

    Returns
    -------
    dict of str to pandera.DataFrameSchema
    """
    wanted = list(TABLE_ORDER) if tables is None else list(tables)
    stamp = resolve_as_of(as_of)
    return {name: schema_for(name, stamp) for name in wanted}
