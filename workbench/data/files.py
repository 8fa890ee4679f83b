"""Reading and writing the single tables users bring: one CSV or Parquet file, chosen by suffix.

The province's data model is read by :mod:`workbench.data.io`; this module serves
the generic paths (``workbench model``, ``workbench evaluate``, score files) that
take any table.  Every error names the parameter that gave the file, what is
accepted and what was found.

CSV files come as people export them, so reading them settles, from the file itself:

* the **delimiter** - ``,`` ``;`` tab or ``|`` (sniffed from the first lines;
  ``.tsv`` is always tab): the UCI bank-marketing files use ``;``;
* the **encoding** - UTF-8 (with or without Excel's byte-order mark), else
  GB18030 (a superset of GBK, what Chinese Excel writes); anything else is an
  error naming the file and the byte that could not be read;
* spaces after a delimiter are skipped (``39, State-gov``) and ``?`` is a
  missing value besides pandas' usual ``""``, ``NA``, ``null`` ... - so a
  numeric column with blanks (``" "``) is read as numbers, not text.

CSV is written as UTF-8 with a byte-order mark, so Excel shows Chinese text as
it is (and :func:`read_table` reads it back unchanged).
"""
from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import zipfile
from pathlib import Path

from workbench.errors import ParameterError

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "CSV_DELIMITERS", "CSV_ENCODINGS", "CSV_MISSING", "file_format",
           "csv_encoding", "csv_options", "table_columns", "read_table", "write_table"]

#: Suffixes read as CSV (``.tsv`` is tab-separated; compressed CSV is read by pandas).
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".txt", ".tsv")
#: Suffixes read as Parquet.
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
#: Delimiters a CSV file may use (sniffed; the first is the fallback).
CSV_DELIMITERS = ",;\t|"
#: Encodings tried, in order: UTF-8 (a byte-order mark is dropped), then GB18030 (GBK's superset).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")
#: Cells read as missing besides pandas' defaults ("", "NA", "null", "NaN", ...).
CSV_MISSING: tuple[str, ...] = ("?",)
#: Bytes looked at to settle the delimiter and the encoding.
_SAMPLE_BYTES = 1 << 20


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
        raise ParameterError.keyed(f"The {parameter!r} file {str(path)!r} does not exist.", "errors.file.missing",
                                   parameter=repr(parameter), path=repr(str(path)))
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return path, "parquet"
    if name.endswith(CSV_SUFFIXES):
        return path, "csv"
    raise ParameterError.invalid(parameter, f"a CSV ({', '.join(CSV_SUFFIXES)}) or Parquet "
                                            f"({', '.join(PARQUET_SUFFIXES)}) file", str(path))


def _sample(path: Path) -> bytes:
    """The first bytes of a CSV file, decompressed (``.gz``, ``.bz2``, ``.zip``)."""
    name = path.name.lower()
    if name.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read(_SAMPLE_BYTES)
    if name.endswith(".bz2"):
        with bz2.open(path, "rb") as f:
            return f.read(_SAMPLE_BYTES)
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise ParameterError.keyed(f"{path.name} must hold exactly one CSV file; it holds {members[:10]}.",
                                           "errors.file.zip_members", name=path.name, members=str(members[:10]))
            with z.open(members[0]) as f:
                return f.read(_SAMPLE_BYTES)
    with open(path, "rb") as f:
        return f.read(_SAMPLE_BYTES)


def _encoding(sample: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:  # an incremental decoder accepts a character cut at the sample's end
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    return CSV_ENCODINGS[0]  # the full read names the byte that cannot be decoded


def csv_encoding(path) -> str:
    """The encoding a CSV file is read with: ``"utf-8-sig"`` (UTF-8, a byte-order mark or not) or ``"gb18030"``.

    Judged from the first megabyte; a later byte that does not fit is found by the full read.
    """
    return _encoding(_sample(Path(path)))


def _delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    if len(lines) > 2 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end inside a line
    header = lines[0] if lines else ""
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=CSV_DELIMITERS).delimiter
        if sniffed in header:
            return sniffed
    except csv.Error:  # one column, or nothing to tell
        pass
    counts = {d: header.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else CSV_DELIMITERS[0]


def csv_options(path) -> dict:
    """The ``pandas.read_csv`` options of a CSV file: delimiter, encoding, missing values (see the module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bank.csv"
    >>> _ = p.write_text('"age";"job";"y"\\n58;"management";"no"\\n', encoding="utf-8")
    >>> {k: csv_options(p)[k] for k in ("sep", "encoding")}
    {'sep': ';', 'encoding': 'utf-8-sig'}
    """
    path = Path(path)
    sample = _sample(path)
    encoding = _encoding(sample)
    if path.name.lower().endswith(".tsv"):
        sep = "\t"
    else:
        sep = _delimiter(codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False))
    return {"sep": sep, "encoding": encoding, "skipinitialspace": True, "na_values": list(CSV_MISSING)}


def _read_csv(path: Path, parameter: str, **kwargs):
    import pandas as pd

    if path.stat().st_size == 0:
        raise ParameterError.from_key("errors.file.empty", path=str(path), parameter=repr(parameter))
    options = csv_options(path)
    while True:
        try:
            return pd.read_csv(path, **options, **kwargs)
        except pd.errors.EmptyDataError:    # only blank lines, or a compressed file of nothing
            raise ParameterError.from_key("errors.file.empty", path=str(path), parameter=repr(parameter)) from None
        except UnicodeDecodeError as exc:
            if options["encoding"] == CSV_ENCODINGS[-1]:
                raise ParameterError(
                    f"The {parameter!r} file {path.name} is neither UTF-8 nor GB18030/GBK text: byte "
                    f"{exc.object[exc.start:exc.start + 1]!r} at position {exc.start} of a block cannot be read. "
                    "Save it as UTF-8 CSV.") from None
            options["encoding"] = CSV_ENCODINGS[-1]  # UTF-8 at the start but not further on


def table_columns(path, *, parameter: str = "--data") -> list[str]:
    """The column names of a CSV or Parquet file (reads only the header / schema)."""
    path, kind = file_format(path, parameter=parameter)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return list(_read_csv(path, parameter, nrows=0).columns)


def read_table(path, columns: list[str] | None = None, *, parameter: str = "--data", allow_empty: bool = False):
    """Read a CSV or Parquet file (all columns, or ``columns`` in that order).

    Parameters
    ----------
    allow_empty : bool
        Accept a file with a header and no rows (e.g. an empty do-not-disturb list); by default it is
        refused, as a table to train or score on must have rows.

    Raises
    ------
    ParameterError
        The file does not exist, has an unknown suffix, is empty (0 bytes, or only a header unless
        ``allow_empty``), or lacks one of ``columns`` (the message lists the available ones).  The
        empty-file messages are in the current language (``errors.file.*``).
    """
    import pandas as pd

    path, kind = file_format(path, parameter=parameter)
    if kind == "parquet" and path.stat().st_size == 0:
        raise ParameterError.from_key("errors.file.empty", path=str(path), parameter=repr(parameter))
    if columns is None:
        frame = pd.read_parquet(path) if kind == "parquet" else _read_csv(path, parameter, low_memory=False)
    else:
        available = table_columns(path, parameter=parameter)
        wanted = list(dict.fromkeys(columns))
        missing = [c for c in wanted if c not in available]
        if missing:
            raise ParameterError.keyed(f"Column {missing[0]!r} is not in {path.name}; available columns are "
                                       f"{available}.", "errors.file.column_missing", column=repr(missing[0]),
                                       name=path.name, columns=str(available))
        frame = pd.read_parquet(path, columns=wanted)[wanted] if kind == "parquet" else \
            _read_csv(path, parameter, usecols=wanted, low_memory=False)[wanted]
    if not len(frame) and not allow_empty:
        raise ParameterError.from_key("errors.file.header_only", path=str(path), parameter=repr(parameter),
                                      columns=", ".join(map(str, frame.columns)))
    return frame


def write_table(df, path, *, parameter: str = "--out") -> Path:
    """Write a DataFrame to CSV (UTF-8 with a byte-order mark; tab-separated for ``.tsv``) or Parquet, by
    suffix; creates the parent folder."""
    path, kind = file_format(path, parameter=parameter, must_exist=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        df.to_csv(path, index=False, sep="\t" if path.name.lower().endswith(".tsv") else ",", encoding="utf-8-sig")
    else:
        df.to_parquet(path, index=False)
    return path
