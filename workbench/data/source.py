"""Where the province tables come from: one DuckDB connection over any source.

A *source* is one of

* a folder holding ``<table>.parquet`` files, ``<table>/`` folders of Parquet
  parts (partitioned), or ``<table>.csv`` files (UTF-8, or GB18030/GBK read
  through a UTF-8 copy beside them, see :func:`utf8_csv`);
* a DuckDB database file (``*.duckdb`` / ``*.db``) with one table per name;
* a mapping ``{table name: pandas.DataFrame}``.

:func:`connect` returns a DuckDB connection with one view per table present,
named after the table, so the same SQL runs on every kind of source and the
data never has to be in pandas memory; :func:`connection` is the one context
manager every reader uses (it also takes a connection already open).  Only this module and
:mod:`workbench.data.io` open files.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import duckdb
import pandas as pd

from workbench.data.tables import TABLE_ORDER

__all__ = ["Source", "SourceLike", "as_source", "connect", "connection", "require_tables", "utf8_csv", "UTF8_FOLDER"]

SourceLike = Union[str, Path, Mapping[str, pd.DataFrame], "Source"]
_DUCKDB_SUFFIXES = {".duckdb", ".db", ".ddb"}


#: Folder beside GB18030/GBK CSV tables holding their UTF-8 copies (DuckDB reads only UTF-8).
UTF8_FOLDER = ".workbench-utf8"


def utf8_csv(path: Path, table: str | None = None) -> Path:
    """A UTF-8 version of a CSV table file: ``path`` itself, or a converted copy beside it.

    Province extracts from Chinese systems and Excel are often GB18030/GBK;
    DuckDB reads UTF-8 only.  Such a file is converted once into
    ``<folder>/.workbench-utf8/<name>`` (next to the original, so the personal data
    it holds stays where the owner put it) and reconverted when the original
    changes (size or modification time).

    A file in neither encoding is returned as it is: DuckDB's read then fails
    and the validator reports the table as unreadable with DuckDB's reason.

    Raises
    ------
    ParameterError
        The copy cannot be written (read-only folder), or a GB18030 file holds a
        byte further on that is not GB18030 - the message names the table, the
        file and the byte.
    """
    import codecs
    import json
    import os
    import shutil

    from workbench.data.files import CSV_ENCODINGS, csv_encoding
    from workbench.errors import ParameterError

    path = Path(path)
    table = table or path.stem
    if csv_encoding(path) == CSV_ENCODINGS[0]:
        return path
    folder = path.parent / UTF8_FOLDER
    copy, stamp_file = folder / path.name, folder / (path.name + ".source.json")
    stat = path.stat()
    stamp = {"source": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "encoding": "gb18030"}
    try:
        if copy.is_file() and json.loads(stamp_file.read_text(encoding="utf-8")) == stamp:
            return copy
    except (OSError, ValueError):
        pass
    partial = folder / (path.name + ".partial")
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        with open(path, "rb") as raw, open(partial, "w", encoding="utf-8", newline="") as out:
            shutil.copyfileobj(codecs.getreader("gb18030")(raw), out, 1 << 20)
        os.replace(partial, copy)
        stamp_file.write_text(json.dumps(stamp), encoding="utf-8")
    except UnicodeDecodeError as exc:
        _remove(partial)
        raise ParameterError(
            f"Table {table!r} ({path.name}) is neither UTF-8 nor GB18030/GBK text: byte "
            f"{exc.object[exc.start:exc.start + 1]!r} cannot be read. Save it as UTF-8 CSV.") from None
    except OSError as exc:
        _remove(partial)
        raise ParameterError(
            f"Table {table!r} ({path.name}) is GB18030/GBK text and its UTF-8 copy cannot be written to "
            f"{str(folder)!r} ({exc.strerror or exc}). Convert it yourself, e.g. "
            f"`iconv -f GB18030 -t UTF-8 {path.name} > utf8/{path.name}`, or make the folder writable.") from None
    return copy


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _sql_str(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass(frozen=True)
class Source:
    """A located set of province tables.

    Parameters
    ----------
    location : path or mapping
        Folder, DuckDB file, or ``{table: DataFrame}``.
    """

    location: object

    @property
    def kind(self) -> str:
        if isinstance(self.location, Mapping):
            return "frames"
        p = Path(self.location)
        if p.is_file() and p.suffix.lower() in _DUCKDB_SUFFIXES:
            return "duckdb"
        if p.is_dir():
            return "folder"
        raise FileNotFoundError(
            f"data source {str(p)!r} is neither a folder of Parquet/CSV files nor a DuckDB file "
            f"({', '.join(sorted(_DUCKDB_SUFFIXES))})"
        )

    def files(self) -> dict[str, tuple[str, Path]]:
        """For a folder source: table -> (format, path) of each table present."""
        if self.kind != "folder":
            return {}
        root = Path(self.location)
        found: dict[str, tuple[str, Path]] = {}
        for name in TABLE_ORDER:
            if (root / f"{name}.parquet").is_file():
                found[name] = ("parquet", root / f"{name}.parquet")
            elif (root / name).is_dir() and any((root / name).rglob("*.parquet")):
                found[name] = ("parquet", root / name)
            elif (root / f"{name}.csv").is_file():
                found[name] = ("csv", utf8_csv(root / f"{name}.csv", name))
        return found

    def scan_sql(self, name: str) -> str:
        """A DuckDB table expression reading table ``name`` straight from the source."""
        kind = self.kind
        if kind == "folder":
            files = self.files()
            if name not in files:
                raise FileNotFoundError(
                    f"table {name!r} not found in {self.location}: expected {name}.parquet, {name}/ or {name}.csv"
                )
            fmt, path = files[name]
            if fmt == "parquet":
                target = path / "**" / "*.parquet" if path.is_dir() else path
                return f"read_parquet({_sql_str(target)})"
            return f"read_csv({_sql_str(path)}, header=true)"
        if kind == "duckdb":
            return f'src."{name}"'
        return f'"{name}"'

    def tables(self) -> list[str]:
        """Names of the data-model tables this source holds."""
        kind = self.kind
        if kind == "frames":
            return [n for n in TABLE_ORDER if n in self.location]
        if kind == "folder":
            return list(self.files())
        con = duckdb.connect(str(self.location), read_only=True)
        try:
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        finally:
            con.close()
        return [n for n in TABLE_ORDER if n in present]


def as_source(source: SourceLike) -> Source:
    """Wrap a path or mapping as a :class:`Source` (a Source is returned as is)."""
    return source if isinstance(source, Source) else Source(source)


def connect(source: SourceLike, *, memory_limit: str | None = None, threads: int | None = None,
            temp_directory: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table of ``source``.

    Parameters
    ----------
    source : path, mapping or Source
        Where the tables are.
    memory_limit : str, optional
        DuckDB memory limit, e.g. ``"4GB"``; DuckDB spills to ``temp_directory`` beyond it.
    threads : int, optional
        DuckDB worker threads.
    temp_directory : str, optional
        Where DuckDB may spill.
    """
    src = as_source(source)
    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if temp_directory:
        con.execute(f"SET temp_directory = {_sql_str(Path(temp_directory))}")
    kind = src.kind
    if kind == "frames":
        for name in src.tables():
            con.register(name, src.location[name])
        return con
    if kind == "duckdb":
        con.execute(f"ATTACH {_sql_str(Path(src.location))} AS src (READ_ONLY)")
    for name in src.tables():
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {src.scan_sql(name)}')
    return con


@contextmanager
def connection(source, *, progress: bool | None = None, memory_limit: str | None = None,
               threads: int | None = None, temp_directory: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a DuckDB connection over ``source``, closed on exit when this call opened it.

    Parameters
    ----------
    source : path, mapping, Source or duckdb.DuckDBPyConnection
        Anything :func:`connect` takes; an open connection is used as it is
        (its settings untouched, not closed), so a reader called inside
        another reader shares the caller's connection.
    progress : bool, optional
        ``False`` turns DuckDB's progress bar off (in a notebook it would leave a
        widget in the report), ``True`` on; ``None`` leaves DuckDB's default.
    memory_limit, threads, temp_directory
        As :func:`connect`.

    Examples
    --------
    >>> import pandas as pd
    >>> with connection({"subscribers": pd.DataFrame({"subscriber_id": [1, 2]})}, progress=False) as con:
    ...     con.execute("SELECT count(*) FROM subscribers").fetchall()
    [(2,)]
    """
    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    con = connect(source, memory_limit=memory_limit, threads=threads, temp_directory=temp_directory)
    try:
        if progress is not None:
            con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}")
        yield con
    finally:
        con.close()


def require_tables(con: duckdb.DuckDBPyConnection, names: Sequence[str], what: str) -> None:
    """Raise :class:`~workbench.errors.DataValidationError` naming every table of ``names`` the connection lacks.

    ``what`` names who needs them (e.g. ``"plan_campaign"``): ``"plan_campaign needs the tables [...];
    the source lacks ['handset_events']"``.
    """
    from workbench.errors import DataValidationError

    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [n for n in names if n not in present]
    if missing:
        raise DataValidationError(
            f"{what} needs the tables {list(names)}; the source lacks {missing}",
            [{"table": n, "column": None, "check": "table present", "count": 1, "examples": []} for n in missing])
