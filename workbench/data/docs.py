"""Render ``docs/data-model.md`` from :mod:`workbench.data.tables`.

The document is generated, never edited by hand, so it cannot drift from the
data model (a test compares the committed file with :func:`render_data_model`)::

    python -m workbench.data.docs            # rewrite docs/data-model.md
    python -m workbench.data.docs --check    # exit 1 when the file is stale
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.data.io import CHECKS
from workbench.data.schemas import FALSE_TEXT, TRUE_TEXT, pandas_dtype
from workbench.data.tables import TABLE_ORDER, TABLES, Column, Table
from workbench.errors import ParameterError

__all__ = ["DEFAULT_PATH", "render_data_model", "write_data_model", "main"]

#: Where the generated document lives in the source tree.
DEFAULT_PATH: Path = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"

_HEADER = """\
# The province data model (数据模型)

<!-- Generated from workbench/data/tables.py by `python -m workbench.data.docs`. Do not edit by hand. -->

Seven tables describe one province: the branches, the handset and VAS product
catalogues, the subscribers, their monthly usage, their VAS orders and
unsubscribes, and the handsets they were seen with. Optional tables add the
daily handset presence the handset-change triggers need (`imei_presence`,
`imei_days`; see "Daily handset presence" below) and the accounts of recent
joiners credit grading needs (payment type, ID-document key, join channel,
credit limit, OCS; monthly charges and balance, postpaid bills, payments and
top-ups, stops for arrears, a re-joiner's earlier subscription). Everything in the workbench
(schemas, loader, features, synthetic province, this page) reads the same
declaration in `workbench/data/tables.py`.
"""

_INTRO = """\
## Bringing your own extract

Put one file (or folder) per table in a folder, named after the table:
`subscribers.parquet`, or a folder `subscribers/` of Parquet parts, or
`subscribers.csv`. A DuckDB file holding one table per name works too, and in
Python so does a `dict` of DataFrames. The first seven tables are required and the
optional ones (presence, credit) are checked when present (`--tables` checks a subset,
and requires what it names). Column names are as below, in any order;
columns the model does not know are kept and reported as a note.

* **Parquet** is preferred for large extracts: types travel with the data and
  DuckDB reads it without loading it into memory.
* **CSV** needs a header row (the delimiter is detected). UTF-8 (with or without a byte-order
  mark) is read directly; GB18030/GBK (what Chinese Excel and many billing systems export) is
  converted once into a UTF-8 copy in `.workbench-utf8/` beside the file - it holds the same
  personal data as the original, so it stays in the same folder - and converted again when the
  original changes. Other encodings (e.g. Excel's "Unicode text", UTF-16) are reported as
  unreadable. It is read as text and converted by the schemas: integers as `35` (or `35.0`),
  decimals with a point, booleans as {bool_words} (any case), dates in ISO 8601 (`2024-05-01`,
  `2024-05-01 00:00:00`). An empty field is a missing value. Text columns are
  kept as text, so codes keep their leading zeros.
* A month is stored as its first day (`2024-05-01`).

Check an extract before using it:

```
workbench data validate path/to/extract --as-of 2024-06-30
```

`--as-of` is the snapshot date of the extract (default: today). The validator
reads every table and lists **all** problems at once - table, column, kind,
number of failing rows and a few failing values - and exits with status 1 when
there is any (`--json` prints the same report as JSON). In Python,
`workbench.data.io.load(path, as_of=...)` returns the validated tables or raises
one `DataValidationError` naming every problem. The kinds of problem are:

{checks}

### Daily handset presence (optional)

"A new IMEI used continuously for 7-10 days" needs the days each IMEI was seen.
One row per subscriber, IMEI and day for a million subscribers over months would be
tens of millions of rows, so the extract keeps two tables:

* `imei_presence` - one row per subscriber and IMEI over the observed window:
  first and last day seen and the days seen (`active_days`; equal to the span when
  the handset was used every day, which the row then claims);
* `imei_days` - one row per subscriber, IMEI and day seen, for the last weeks of
  the window (the synthetic province keeps 42 days) and **only for subscribers who
  used more than one IMEI in those days** - the days around a change. A subscriber
  with one handset through those weeks has no daily rows.

`handset_events` keeps the adopted handsets; an IMEI tried for a few days and given
back appears only in the presence tables. Across rows the validator also checks
`presence_span` (more days seen than the span), `presence_gap` (a day missing in
`imei_days` where `imei_presence` claims use every day), `presence_outside` (a day
outside the IMEI's first and last seen day) and `imei_shared` (one IMEI on two
subscribers on the same day, or with overlapping seen ranges); a duplicated day is
a `duplicate_key` of `imei_days`.

After loading, columns have these pandas types:

| logical type | pandas dtype | nullable column |
|---|---|---|
{dtypes}
"""


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    return f"{value:g}"


def _rule(column: Column) -> str:
    """Allowed values, bounds and the snapshot rule of a column, in words."""
    parts = []
    if column.allowed is not None:
        parts.append("one of " + ", ".join(f"`{v}`" for v in column.allowed))
    if column.min is not None and column.max is not None:
        parts.append(f"{_number(column.min)} to {_number(column.max)}")
    elif column.min is not None:
        parts.append(f">= {_number(column.min)}")
    elif column.max is not None:
        parts.append(f"<= {_number(column.max)}")
    if column.not_after_snapshot:
        parts.append("not after `as_of`")
    return "; ".join(parts)


def _table_section(spec: Table) -> str:
    referenced_by = sorted(
        f"`{other.name}.{col}`"
        for other in TABLES.values()
        for col, (ref_table, _) in other.foreign_keys.items()
        if ref_table == spec.name
    )
    lines = [
        f'<a id="{spec.name}"></a>',
        "",
        f"## `{spec.name}` - {_md(spec.meaning)} ({_md(spec.meaning_zh)})",
        "",
        f"* Primary key: {', '.join(f'`{k}`' for k in spec.primary_key)} (unique"
        f"{' together' if len(spec.primary_key) > 1 else ''})",
    ]
    if spec.optional:
        lines.append("* Optional: checked when the extract holds it (the credit pipeline needs it)")
    if spec.foreign_keys:
        refs = ", ".join(f"`{col}` -> `{t}.{c}`" for col, (t, c) in spec.foreign_keys.items())
        lines.append(f"* Foreign keys: {refs}")
    if referenced_by:
        lines.append(f"* Referenced by: {', '.join(referenced_by)}")
    lines += [
        "",
        "| column | type | unit | nullable | allowed values / bounds | meaning | 含义 | personal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in spec.columns:
        lines.append(
            f"| `{c.name}` | {c.dtype} (`{pandas_dtype(c)}`) | {_md(c.unit)} | {'yes' if c.nullable else 'no'} "
            f"| {_md(_rule(c))} | {_md(c.meaning)} | {_md(c.meaning_zh)} | {'yes' if c.personal else ''} |"
        )
    return "\n".join(lines) + "\n"


def _intro() -> str:
    checks = "\n".join(f"* `{name}` - {text}" for name, text in CHECKS.items())
    dtypes = "\n".join(
        f"| {logical} | `{pandas_dtype(Column('x', logical, ''))}` "
        f"| `{pandas_dtype(Column('x', logical, '', nullable=True))}` |"
        for logical in ("str", "int", "float", "bool", "date")
    )
    words = "/".join(f"`{t}`" for pair in zip(TRUE_TEXT, FALSE_TEXT) for t in pair)
    return _INTRO.format(bool_words=words, checks=checks, dtypes=dtypes)


def render_data_model(tables=None, *, intro: bool = True) -> str:
    """The data-model document as Markdown.

    Parameters
    ----------
    tables : iterable of str, optional
        Tables to describe (default: all, in load order).
    intro : bool
        Include the header and the "bringing your own extract" section.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        When ``tables`` names a table that is not in the data model.
    """
    names = list(TABLE_ORDER) if tables is None else list(tables)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise ParameterError.invalid("tables", f"tables of the data model {list(TABLE_ORDER)}", unknown)
    parts = [_HEADER, _intro()] if intro else []
    if intro:
        overview = ["## Tables", "", "| table | meaning | 含义 | primary key |", "|---|---|---|---|"]
        overview += [
            f"| [`{n}`](#{n}) | {_md(TABLES[n].meaning)} | {_md(TABLES[n].meaning_zh)} "
            f"| {', '.join(f'`{k}`' for k in TABLES[n].primary_key)} |"
            for n in names
        ]
        parts.append("\n".join(overview) + "\n")
    parts += [_table_section(TABLES[n]) for n in names]
    return "\n".join(parts)


def write_data_model(path=None) -> Path:
    """Write :func:`render_data_model` to ``path`` (default :data:`DEFAULT_PATH`).

    Parameters
    ----------
    path : str or Path, optional
        Destination file.

    Returns
    -------
    Path
        The file written.
    """
    target = Path(path) if path is not None else DEFAULT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_data_model(), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.data.docs [--out FILE] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m workbench.data.docs",
                                     description="Render docs/data-model.md from workbench/data/tables.py.")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH, help=f"file to write (default: {DEFAULT_PATH})")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != render_data_model():
            print(f"{args.out} is out of date; run `python -m workbench.data.docs`", file=sys.stderr)
            return 1
        return 0
    print(write_data_model(args.out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
