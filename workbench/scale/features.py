"""Features per partition of the subscribers: DuckDB inside each Dask worker.

Every feature of :mod:`workbench.features` is an aggregate over one
subscriber's rows, so the province splits cleanly by subscriber: partition
``k`` holds the subscribers with ``lo_k <= subscriber_id < hi_k`` (ranges cut
at quantiles of the ids, so partitions are of equal size).  For each partition
a worker opens DuckDB over the same source with the subscriber-keyed tables
(``subscribers``, ``monthly_usage``, ``vas_orders``, ``handset_events``)
replaced by views filtered to the range - the filter is pushed into
``read_parquet``, which skips the row groups (and files of a partitioned
``<table>/`` folder) whose statistics lie outside it - and runs the very same
statement as :func:`workbench.features.build_features`.  Each partition is
written by DuckDB's ``COPY`` straight to ``part-NNNNN.parquet`` in the output
folder: no shuffle, nothing collected on the client, and a worker holds one
partition at a time.

With a product family the partitions also carry the subscriber's group at the
snapshot (``group``: ``potential`` / ``stable`` / ``recent``, as in
:mod:`workbench.models.sample`) and ``target`` (1 = stable subscriber), so the
model sample is ``group != 'recent'`` and the scoring base ``group == 'potential'``.

Without a scheduler (:mod:`workbench.scale.cluster`) the same statement runs
once, in-process, over the whole source and writes one part.
"""
from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import pandas as pd

from workbench import extras
from workbench.data.source import as_source, connect
from workbench.data.tables import TABLES
from workbench.errors import ParameterError
from workbench.features import REQUIRED_COLUMNS, apply_feature_dtypes, feature_sql, subscriber_status
from workbench.features._db import check_family, check_positive_int, parse_month, require
from workbench.scale.cluster import get_client

__all__ = [
    "ID", "SUBSCRIBER_TABLES", "PART_PATTERN", "GROUP", "TARGET",
    "subscriber_ranges", "partition_connection", "build_features", "part_files", "read_parts", "read_dask",
]

#: The subscriber key of the data model.
ID: str = TABLES["subscribers"].column("subscriber_id").name
#: Tables with one or more rows per subscriber: filtered to a partition's id range.
SUBSCRIBER_TABLES: tuple[str, ...] = tuple(
    name for name, t in TABLES.items() if ID in t.column_names)
#: File names of the parts in an output folder.
PART_PATTERN = "part-{:05d}.parquet"
#: Added columns with ``family=``: the subscriber's group at the snapshot and the 0/1 target.
GROUP, TARGET = "group", "target"
#: Default subscribers per partition.
DEFAULT_PARTITION_SIZE = 250_000


def _sql_str(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _location(source) -> object:
    """A picklable location of ``source`` (absolute for folders and files)."""
    src = as_source(source)
    if isinstance(src.location, (str, Path)):
        return str(Path(src.location).resolve())
    return src.location


def subscriber_ranges(source, *, partitions: int | None = None,
                      partition_size: int = DEFAULT_PARTITION_SIZE) -> list[tuple[int, int]]:
    """Half-open ``(lo, hi)`` subscriber-id ranges of equal size covering every subscriber.

    Parameters
    ----------
    source : path, mapping or Source
        Where the ``subscribers`` table is.
    partitions : int, optional
        Number of ranges; default ``ceil(subscribers / partition_size)``.
    partition_size : int
        Subscribers per range when ``partitions`` is not given.

    Returns
    -------
    list of (int, int)
        Sorted, contiguous ranges ``lo <= subscriber_id < hi``; fewer than asked
        when ids repeat at the cut points.

    Raises
    ------
    ParameterError
        ``partitions`` or ``partition_size`` is not a positive integer.
    DataValidationError
        The source has no ``subscribers`` table with ``subscriber_id``.

    Examples
    --------
    >>> subscriber_ranges("sample_data/province", partitions=2)   # doctest: +SKIP
    [(1, 10001), (10001, 20001)]
    """
    size = check_positive_int(partition_size, "partition_size")
    if partitions is not None:
        partitions = check_positive_int(partitions, "partitions")
    con = connect(source)
    try:
        require(con, {"subscribers": (ID,)}, "subscriber_ranges")
        n, lo, hi = con.execute(f"SELECT count(*), min({ID}), max({ID}) FROM subscribers").fetchall()[0]
        if n == 0:
            return []
        k = partitions or max(1, -(-int(n) // size))
        cuts: list[int] = []
        if k > 1:  # the ids at positions n*i/k of the sorted ids start the ranges
            positions = ", ".join(str(int(n) * i // k) for i in range(1, k))
            cuts = [r[0] for r in con.execute(
                f"SELECT {ID} FROM (SELECT {ID}, row_number() OVER (ORDER BY {ID}) - 1 AS pos FROM subscribers) "
                f"WHERE pos IN ({positions})").fetchall()]
    finally:
        con.close()
    bounds = sorted({int(lo), *(int(c) for c in cuts if lo < c <= hi), int(hi) + 1})
    return list(zip(bounds[:-1], bounds[1:]))


def partition_connection(source, lo: int | None = None, hi: int | None = None, *, memory_limit: str | None = None,
                         threads: int | None = None, temp_directory: str | None = None):
    """A DuckDB connection over ``source`` that sees only subscribers with ``lo <= subscriber_id < hi``.

    The catalogue tables (branches, products, handset models) are whole; every
    table of :data:`SUBSCRIBER_TABLES` is a view filtered to the range.  With
    ``lo = hi = None`` it is :func:`workbench.data.source.connect` unchanged.

    Returns
    -------
    duckdb.DuckDBPyConnection
    """
    src = as_source(source)
    con = connect(src, memory_limit=memory_limit, threads=threads, temp_directory=temp_directory)
    if lo is None and hi is None:
        return con
    conds = []
    if lo is not None:
        conds.append(f"{ID} >= {int(lo)}")
    if hi is not None:
        conds.append(f"{ID} < {int(hi)}")
    where = " AND ".join(conds)
    present = set(src.tables())
    for name in SUBSCRIBER_TABLES:
        if name not in present:
            continue
        if src.kind == "frames":
            con.unregister(name)
            con.register(f"__whole_{name}", src.location[name])
            base = f'"__whole_{name}"'
        else:
            base = src.scan_sql(name)
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM {base} WHERE {where}')
    return con


def _worker_settings(memory_fraction: float, part: int) -> dict:
    """DuckDB limits for a task: a share of the Dask worker's memory, its threads, its spill folder."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return {}
    settings: dict = {"threads": int(worker.state.nthreads)}
    limit = getattr(worker.memory_manager, "memory_limit", None)
    if limit:
        settings["memory_limit"] = f"{max(int(limit * memory_fraction) // 2 ** 20, 64)}MiB"
    settings["temp_directory"] = str(Path(worker.local_directory) / f"duckdb-{part:05d}")
    return settings


def _status_sql(con, family: str, snapshot, stable_months: int, gap_days: int) -> str:
    status = subscriber_status(con, family, snapshot, stable_months, gap_days=gap_days).reset_index()
    con.register("__status", status)
    return "__status"


def _features_part(location, part: int, lo, hi, snapshot, window: int, path: str, family, stable_months: int,
                   gap_days: int, memory_fraction: float) -> dict:
    """Build one partition's features into ``path`` (runs on a worker, or in-process)."""
    t0 = time.perf_counter()
    settings = _worker_settings(memory_fraction, part)
    con = partition_connection(location, lo, hi, **settings)
    try:
        sql = feature_sql(snapshot, window, order=True)
        if family is not None:
            status = _status_sql(con, family, snapshot, stable_months, gap_days)
            sql = f"""
                SELECT f.*,
                       CASE WHEN s.stable THEN 'stable' WHEN s.active THEN 'recent' ELSE 'potential' END AS "{GROUP}",
                       CAST(coalesce(s.stable, false) AS TINYINT) AS "{TARGET}"
                FROM ({sql}) f LEFT JOIN {status} s USING ({ID})
                ORDER BY f.{ID}"""
        con.execute(f"COPY ({sql}) TO {_sql_str(path)} (FORMAT parquet, COMPRESSION zstd)")
        rows = con.execute(f"SELECT count(*) FROM read_parquet({_sql_str(path)})").fetchall()[0][0]
    finally:
        con.close()
        spill = settings.get("temp_directory")
        if spill:
            shutil.rmtree(spill, ignore_errors=True)
    return {"part": part, "lo": lo, "hi": hi, "rows": int(rows), "seconds": time.perf_counter() - t0}


def _prepare_out(out) -> Path:
    target = Path(out)
    if target.is_file():
        raise ParameterError.invalid("out", "a folder for the Parquet parts (not a file)", str(target))
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("part-*.parquet"):
        old.unlink()
    return target.resolve()


def build_features(source, snapshot="2026-10", window: int = 6, *, out, scheduler=None,
                   family: str | None = None, stable_months: int = 3, gap_days: int = 0,
                   partitions: int | None = None, partition_size: int = DEFAULT_PARTITION_SIZE,
                   memory_fraction: float = 0.5, progress: bool = True) -> Path:
    """The features of a snapshot month as a folder of Parquet parts, in-process or on a Dask cluster.

    Parameters
    ----------
    source : path or Source
        Folder of Parquet/CSV (plain or partitioned ``<table>/`` folders) or a
        DuckDB file - on a cluster, a path every worker can read (shared storage).
        In-process, ``{table: DataFrame}`` is accepted too.
    snapshot : "YYYY-MM" or date
        Snapshot month; only data dated on or before its last day is read.
    window : int
        Months of usage and VAS history (as :func:`workbench.features.build_features`).
    out : path
        Folder of the parts (created; parts already there are replaced).
    scheduler : str, Client or None
        Where to run (:func:`workbench.scale.cluster.get_client`); in-process
        when neither this nor ``$WORKBENCH_SCHEDULER`` is set.
    family : str, optional
        Also write ``group`` and ``target`` of this product family (see the module docstring).
    stable_months, gap_days : int
        Definition of a stable subscriber (with ``family``).
    partitions : int, optional
        Number of subscriber ranges on a cluster (default from ``partition_size``).
    partition_size : int
        Subscribers per partition on a cluster.
    memory_fraction : float
        Share of a Dask worker's ``memory_limit`` given to DuckDB (it spills to
        the worker's local directory beyond it).
    progress : bool
        Show a tqdm bar over finished partitions.

    Returns
    -------
    pathlib.Path
        The output folder; read it with :func:`read_parts` or :func:`read_dask`.

    Raises
    ------
    ParameterError
        A malformed parameter, or in-memory tables on a cluster.
    DataValidationError
        A table or column the features need is missing from the source.

    Examples
    --------
    >>> build_features("sample_data/province", "2026-10", 6, out="runs/feats", scheduler="local")  # doctest: +SKIP
    PosixPath('.../runs/feats')
    """
    parse_month(snapshot)
    window = check_positive_int(window, "window")
    if family is not None:
        family = check_family(family)
        stable_months = check_positive_int(stable_months, "stable_months")
        gap_days = check_positive_int(gap_days, "gap_days", minimum=0)
    if not (isinstance(memory_fraction, (int, float)) and 0 < memory_fraction <= 0.9):
        raise ParameterError.invalid("memory_fraction", "a number in (0, 0.9]", memory_fraction)
    src = as_source(source)
    con = connect(src)
    try:
        require(con, REQUIRED_COLUMNS, "build_features")
    finally:
        con.close()
    client = get_client(scheduler)
    location = _location(src)
    if client is not None and src.kind == "frames":
        raise ParameterError.invalid("source", "a folder or DuckDB file every Dask worker can read (shared "
                                     "storage)", "in-memory DataFrames")
    target = _prepare_out(out)
    args = (snapshot, window)
    extra = (family, stable_months, gap_days, memory_fraction)
    if client is None:
        _features_part(location, 0, None, None, *args, str(target / PART_PATTERN.format(0)), *extra)
        return target
    ranges = subscriber_ranges(src, partitions=partitions, partition_size=partition_size)
    run = uuid.uuid4().hex[:8]
    futures = [
        client.submit(_features_part, location, k, lo, hi, *args, str(target / PART_PATTERN.format(k)), *extra,
                      key=f"workbench-features-{run}-{k:05d}")
        for k, (lo, hi) in enumerate(ranges)
    ]
    _wait(client, futures, "features", progress)
    return target


def _wait(client, futures, desc: str, progress: bool) -> list:
    """Results of ``futures`` in submission order, with a tqdm bar as they finish."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    with tqdm(total=len(futures), desc=desc, unit="part", disable=not progress, leave=False) as bar:
        for fut in as_completed(futures, loop=client.loop):
            fut.result()  # raise the first error here
            bar.update(1)
    return [f.result() for f in futures]


def part_files(folder) -> list[Path]:
    """The Parquet parts of an output folder, in order.

    Raises
    ------
    ParameterError
        The folder does not exist or holds no Parquet file.
    """
    p = Path(folder)
    files = sorted(p.glob("*.parquet")) if p.is_dir() else []
    if not files:
        raise ParameterError.invalid("folder", "a folder of Parquet parts (written by workbench.scale)", str(p))
    return files


def read_parts(folder, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a folder of feature parts into pandas, with the catalogue's dtypes, indexed by ``subscriber_id``.

    Rows are sorted by ``subscriber_id``; categories of the whole folder are
    used, so the result equals :func:`workbench.features.build_features` on the
    same source (plus ``group`` / ``target`` when they were written).
    """
    files = part_files(folder)
    cols = None if columns is None else [ID, *[c for c in columns if c != ID]]
    df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    return apply_feature_dtypes(df).set_index(ID).sort_index().copy()


def read_dask(folder, columns: list[str] | None = None):
    """A ``dask.dataframe`` over a folder of parts (one partition per part; text columns stay text)."""
    dd = extras.require("dask.dataframe", "a Dask dataframe over feature parts")

    files = part_files(folder)
    return dd.read_parquet([str(f) for f in files], columns=columns)
