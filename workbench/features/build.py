"""Build the feature table of a snapshot month: one DuckDB statement over the source.

The statement joins, on ``subscriber_id``, the base rows of
:mod:`~workbench.features.attributes` with the aggregates of
:mod:`~workbench.features.usage`, :mod:`~workbench.features.vas` and
:mod:`~workbench.features.handset`.  Each part reads only rows dated on or
before the snapshot month's last day, so nothing after the snapshot can leak
into the features.  The usage table is aggregated by DuckDB straight from the
source (it is never loaded into pandas); with ``out=`` the result goes to
Parquet through ``COPY`` and pandas is not involved at all.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.features import attributes, handset, usage, vas
from workbench.features._db import check_positive_int, connection, fetch_frame, parse_month, require
from workbench.features._feature import DTYPES, Frame
from workbench.features.catalogue import FEATURE_INDEX, FEATURES
from workbench.errors import DataValidationError, ParameterError

__all__ = ["build_features", "feature_sql", "read_features", "apply_feature_dtypes", "REQUIRED_COLUMNS"]

#: Every table and column the feature builder reads.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {}
for _m in (attributes, usage, vas, handset):
    for _t, _cols in _m.USES.items():
        REQUIRED_COLUMNS[_t] = tuple(dict.fromkeys((*REQUIRED_COLUMNS.get(_t, ()), *_cols)))


def _frame(snapshot, window) -> Frame:
    return Frame(parse_month(snapshot, "snapshot"), check_positive_int(window, "window"))


def feature_sql(snapshot="2026-10", window: int = 6, *, order: bool = True) -> str:
    """The DuckDB SELECT that computes the feature table (columns: ``subscriber_id`` then the catalogue).

    It expects one view per table named as in :mod:`workbench.data.tables`, as
    :func:`workbench.data.source.connect` creates.
    """
    frame = _frame(snapshot, window)
    parts = {"u": usage, "v": vas, "h": handset}
    owner = {f.name: alias for alias, mod in parts.items() for f in mod.FEATURES}
    cols = ["b.subscriber_id"]
    for f in FEATURES:
        ref = f"{owner.get(f.name, 'b')}.{f.name}"
        cols.append(f"coalesce({ref}, {f.fill}) AS {f.name}" if f.fill is not None else f"{ref} AS {f.name}")
    body = ",\n       ".join(cols)
    joins = "\n".join(f"LEFT JOIN ({mod.sql(frame)}\n) {alias} ON {alias}.subscriber_id = b.subscriber_id"
                      for alias, mod in parts.items())
    return (f"SELECT {body}\nFROM ({attributes.sql(frame)}\n) b\n{joins}"
            + ("\nORDER BY b.subscriber_id" if order else ""))


def _categories(name: str, observed) -> list[str]:
    known = list(FEATURE_INDEX[name].categories or ())
    extra = sorted({str(v) for v in observed if v is not None and not pd.isna(v)} - set(known))
    return known + extra


def apply_feature_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Give the catalogue's pandas dtypes to the feature columns of ``df`` (in place and returned)."""
    for f in FEATURES:
        if f.name not in df.columns:
            continue
        if f.dtype == "category":
            if isinstance(df[f.name].dtype, pd.CategoricalDtype) and (
                    df[f.name].cat.categories.inferred_type in ("string", "empty")):
                # already categorical (fetch_frame): put the catalogue's levels first, a recode of codes
                col = df[f.name]
                df[f.name] = col.cat.set_categories(_categories(f.name, col.cat.categories))
                continue
            col = df[f.name].astype("str").where(df[f.name].notna())
            df[f.name] = pd.Categorical(col, categories=_categories(f.name, col.unique()))
        elif f.dtype == "bool":
            if df[f.name].isna().any():
                raise DataValidationError(f"feature {f.name!r} is boolean but has "
                                          f"{int(df[f.name].isna().sum())} missing values")
            df[f.name] = df[f.name].astype("bool")
        else:
            df[f.name] = df[f.name].astype(DTYPES[f.dtype])
    return df


def _sql_str(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def build_features(source, snapshot="2026-10", window: int = 6, *, out: str | Path | None = None,
                   memory_limit: str | None = None, threads: int | None = None,
                   temp_directory: str | Path | None = None, progress: bool = False,
                   order: bool = True):
    """Per-subscriber features at a snapshot month, computed by DuckDB from the source.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Folder of Parquet/CSV, DuckDB file, ``{table: DataFrame}`` or an open
        connection from :func:`workbench.data.source.connect`.  Needs the tables
        and columns of :data:`REQUIRED_COLUMNS`.
    snapshot : "YYYY-MM" or date
        The snapshot month; only data dated on or before its last day is read.
    window : int
        Months (ending with the snapshot month) that usage and VAS history span.
    out : path, optional
        Write the features to this Parquet file through DuckDB ``COPY`` (no
        pandas copy) and return its path; categories are plain strings there
        (:func:`read_features` restores the dtypes).
    memory_limit, threads, temp_directory
        DuckDB settings for a new connection (e.g. ``memory_limit="4GB"`` and a
        ``temp_directory`` to spill to for a 10M-subscriber province); ignored
        when ``source`` is an open connection.
    progress : bool
        Show DuckDB's progress bar while the statement runs.
    order : bool
        Sort rows by ``subscriber_id`` (deterministic output; costs a sort).

    Returns
    -------
    pandas.DataFrame or pathlib.Path
        Without ``out``: one row per subscriber, indexed by ``subscriber_id``,
        columns in the order of :data:`workbench.features.FEATURES` with the
        dtypes documented in ``docs/features.md``.  With ``out``: the path written.

    Raises
    ------
    ParameterError
        For a malformed ``snapshot`` or ``window``.
    DataValidationError
        When a table or column the features need is missing from the source.

    Examples
    --------
    >>> feats = build_features("sample_data/province", "2026-10", window=6)  # doctest: +SKIP
    >>> feats.loc[1001, "arpu_mean"]  # doctest: +SKIP
    """
    sql = feature_sql(snapshot, window, order=order)
    target = None if out is None else Path(out)
    if target is not None and target.is_dir():
        raise ParameterError.invalid("out", "a Parquet file path (not a folder)", str(target))
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
    with connection(source, memory_limit=memory_limit, threads=threads,
                    temp_directory=None if temp_directory is None else str(temp_directory)) as con:
        require(con, REQUIRED_COLUMNS, "build_features")
        if progress:
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = true")
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not order:
                con.execute("SET preserve_insertion_order = false")
            con.execute(f"COPY ({sql}) TO {_sql_str(target)} (FORMAT parquet, COMPRESSION zstd)")
            return target
        df = fetch_frame(con, sql, categorical=[f.name for f in FEATURES if f.dtype == "category"])
    return apply_feature_dtypes(df).set_index("subscriber_id")


def read_features(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a feature file written by ``build_features(out=...)`` with the catalogue's dtypes.

    Parameters
    ----------
    path : path
        The Parquet file.
    columns : list of str, optional
        Features to read (default: all).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``subscriber_id``.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"feature file {str(p)!r} does not exist; write it with build_features(out=...)")
    if columns is not None:
        unknown = [c for c in columns if c not in FEATURE_INDEX]
        if unknown:
            raise ParameterError.invalid("columns", "names of the feature catalogue", unknown)
        columns = ["subscriber_id", *columns]
    df = pd.read_parquet(p, columns=columns)
    return apply_feature_dtypes(df).set_index("subscriber_id")
