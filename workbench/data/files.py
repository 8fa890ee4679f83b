"""Reading and writing the single tables users bring: one CSV or Parquet file, chosen by suffix.

The province's data model is read by :mod:`workbench.data.io`; this module serves
the generic paths (``workbench model``, ``workbench evaluate``) that take any
table.  Every error names the parameter that gave the file, what is accepted and
what was found.
"""
from __future__ import annotations

from pathlib import Path

from workbench.errors import ParameterError

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "file_format", "table_columns", "read_table", "write_table"]

#: Suffixes read as CSV (``.tsv`` is tab-separated; compressed CSV is read by pandas).
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".txt", ".tsv")
#: Suffixes read as Parquet.
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")


def file_format(path, *, parameter: str = "--data", must_exist: bool = True) -> tuple[Path, str]:
    """``(path, "csv" | "parquet")`` by the file's suffix.

    Raises
    ------
    ParameterError
        The file does not exist (``must_exist``) or its suffix is neither CSV nor Parquet.

    Examples
    --------
    >>> file_format("scores.parquet", must_exist=False)
    (PosixPath('scores.parquet'), 'parquet')
    """
    path = Path(path)
    if must_exist and not path.is_file():
        raise ParameterError(f"The {parameter!r} file {str(path)!r} does not exist.")
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return path, "parquet"
    if name.endswith(CSV_SUFFIXES):
        return path, "csv"
    raise ParameterError.invalid(parameter, f"a CSV ({', '.join(CSV_SUFFIXES)}) or Parquet "
                                            f"({', '.join(PARQUET_SUFFIXES)}) file", str(path))


def _sep(path: Path) -> str:
    return "\t" if path.name.lower().endswith(".tsv") else ","


def table_columns(path, *, parameter: str = "--data") -> list[str]:
    """The column names of a CSV or Parquet file (reads only the header / schema)."""
    import pandas as pd

    path, kind = file_format(path, parameter=parameter)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return list(pd.read_csv(path, nrows=0, sep=_sep(path)).columns)


def read_table(path, columns: list[str] | None = None, *, parameter: str = "--data"):
    """Read a CSV or Parquet file (all columns, or ``columns`` in that order).

    Raises
    ------
    ParameterError
        The file does not exist, has an unknown suffix, or lacks one of ``columns``
        (the message lists the available ones).
    """
    import pandas as pd

    path, kind = file_format(path, parameter=parameter)
    if columns is None:
        return pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path, sep=_sep(path), low_memory=False)
    available = table_columns(path, parameter=parameter)
    wanted = list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ParameterError(f"Column {missing[0]!r} is not in {path.name}; available columns are {available}.")
    if kind == "parquet":
        return pd.read_parquet(path, columns=wanted)[wanted]
    return pd.read_csv(path, usecols=wanted, sep=_sep(path), low_memory=False)[wanted]


def write_table(df, path, *, parameter: str = "--out") -> Path:
    """Write a DataFrame to CSV (tab-separated for ``.tsv``) or Parquet, by suffix; creates the parent folder."""
    path, kind = file_format(path, parameter=parameter, must_exist=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        df.to_csv(path, index=False, sep=_sep(path))
    else:
        df.to_parquet(path, index=False)
    return path
