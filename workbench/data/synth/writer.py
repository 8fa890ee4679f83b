"""Deterministic Parquet output: Arrow schemas from the data model and a streaming writer.

The Arrow schema of every table is derived from :mod:`workbench.data.tables`
(``int`` -> int64, ``float`` -> float64, ``bool`` -> bool, ``str`` -> string,
``date`` -> date32), so the files follow the data model by construction.  Files
are written with fixed options (zstd level 3, no time stamps, no pandas
metadata), so the same input gives byte-identical files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.data.tables import TABLES

__all__ = [
    "ARROW_TYPES",
    "arrow_schema",
    "TableWriters",
    "string_column",
    "digits_column",
    "date_column",
]

#: Logical type of the data model -> Arrow type of the files.
ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "str": pa.string(),
    "date": pa.date32(),
}

_PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, version="2.6", write_statistics=True)


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of data-model table ``name`` (nullability as in the model)."""
    t = TABLES[name]
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.dtype], nullable=c.nullable) for c in t.columns])


def string_column(vocab, codes: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Text column from a vocabulary and integer codes (``null_mask`` marks missing values)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=null_mask)
    return pc.take(pa.array(list(vocab), type=pa.string()), indices)


def digits_column(number: np.ndarray, width: int, prefix: np.ndarray | None = None,
                  prefix_width: int = 0) -> pa.Array:
    """Fixed-width digit strings (zero padded) built without Python loops.

    Parameters
    ----------
    number : ndarray of int64
        Non-negative numbers, each below ``10**width``.
    width : int
        Digits written for ``number``.
    prefix : ndarray of int64, optional
        Numbers written before ``number`` on ``prefix_width`` digits.
    """
    n = len(number)
    total = width + prefix_width
    buf = np.empty((n, total), dtype=np.uint8)
    x = np.asarray(number, dtype=np.int64).copy()
    for pos in range(total - 1, prefix_width - 1, -1):
        buf[:, pos] = 48 + (x % 10)
        x //= 10
    if prefix_width:
        p = np.asarray(prefix, dtype=np.int64).copy()
        for pos in range(prefix_width - 1, -1, -1):
            buf[:, pos] = 48 + (p % 10)
            p //= 10
    offsets = np.arange(0, total * (n + 1), total, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes()))


def date_column(days: np.ndarray) -> pa.Array:
    """A date32 column from days since 1970-01-01."""
    return pa.array(np.asarray(days, dtype=np.int64).astype("datetime64[D]"), type=pa.date32())


class TableWriters:
    """One streaming :class:`pyarrow.parquet.ParquetWriter` per table of a folder.

    Parameters
    ----------
    folder : path
        Output folder (created).
    schemas : dict
        ``{file stem: pyarrow.Schema}``.
    """

    def __init__(self, folder: str | Path, schemas: dict[str, pa.Schema]):
        self.folder = Path(folder)
        self.schemas = dict(schemas)
        self._writers: dict[str, pq.ParquetWriter] = {}

    def __enter__(self) -> "TableWriters":
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, schema in self.schemas.items():
            self._writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", schema, **_PARQUET_OPTIONS)
        return self

    def write(self, name: str, columns: dict[str, pa.Array | np.ndarray]) -> int:
        """Append one chunk of table ``name``; returns the number of rows written."""
        schema = self.schemas[name]
        missing = set(schema.names) - set(columns)
        extra = set(columns) - set(schema.names)
        if missing or extra:
            raise ValueError(f"chunk of table {name!r}: missing columns {sorted(missing)}, "
                             f"unexpected columns {sorted(extra)}")
        arrays = [pa.array(columns[f.name], type=f.type) if not isinstance(columns[f.name], pa.Array)
                  else columns[f.name].cast(f.type) for f in schema]
        tbl = pa.Table.from_arrays(arrays, schema=schema)
        self._writers[name].write_table(tbl, row_group_size=max(tbl.num_rows, 1))
        return tbl.num_rows

    def write_table(self, name: str, tbl: pa.Table) -> int:
        """Append an Arrow table that already has the schema of ``name``."""
        self._writers[name].write_table(tbl.cast(self.schemas[name]), row_group_size=max(tbl.num_rows, 1))
        return tbl.num_rows

    def __exit__(self, *exc) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()
