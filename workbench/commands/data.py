"""``workbench data`` - validate an extract, describe the data model.

``workbench data validate DIR [--as-of DATE] [--tables T ...] [--json]``
    Check every table of a folder (``<table>.parquet`` / ``<table>/`` /
    ``<table>.csv``) or a DuckDB file against the data model and print all
    problems; exit status 1 when anything failed, 2 when the source or an
    argument is unusable, 0 when the extract is valid.

``workbench data describe [TABLE ...]``
    Print the data model (the text of ``docs/data-model.md``).
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def _tables_arg(values: list[str] | None) -> list[str] | None:
    """``--tables a b`` and ``--tables a,b`` both select tables a and b."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _validate(args: argparse.Namespace) -> int:
    import json

    from workbench.data.io import validate
    from workbench.errors import ParameterError, WorkspaceError, error_text
    from workbench.workspace import data_arg, path_arg

    if args.lang:
        from workbench.i18n import set_language

        set_language(args.lang)
    try:
        args.source = path_arg(args.source) if args.source else data_arg(None, option="SOURCE")
        report = validate(args.source, args.as_of, tables=_tables_arg(args.tables),
                          progress=not args.json and sys.stderr.isatty())
    except (ParameterError, WorkspaceError, FileNotFoundError) as exc:
        print(error_text(exc, args.lang), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.format())
    return 0 if report.ok else 1


def _describe(args: argparse.Namespace) -> int:
    from workbench.data.docs import render_data_model
    from workbench.errors import ParameterError, error_text

    try:
        print(render_data_model(tables=args.tables or None, intro=not args.tables), end="")
    except ParameterError as exc:
        print(error_text(exc, getattr(args, "lang", None)), file=sys.stderr)
        return 2
    return 0


def register(subparsers) -> None:
    """Add ``workbench data`` and its verbs to the command line."""
    parser = subparsers.add_parser(
        "data", help="validate a province extract; describe the data model",
        description="Validate a province extract against the data model, or print the data model.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    validate = verbs.add_parser(
        "validate", help="check every table of an extract and list all problems",
        description=(
            "Check an extract (a folder of <table>.parquet, <table>/ Parquet parts or <table>.csv files, "
            "or a DuckDB file) against the data model: missing tables and columns, types, missing values, "
            "duplicate keys, allowed values, bounds, dates after the snapshot date and unknown references "
            "between tables. Exit status: 0 valid, 1 problems found, 2 unusable source or arguments."
        ),
    )
    validate.add_argument("source", metavar="SOURCE", nargs="?", default=None,
                          help="folder of Parquet/CSV files or a DuckDB file (default: the workspace's data; "
                               "relative paths are the workspace folder's)")
    validate.add_argument("--as-of", metavar="YYYY-MM-DD", default=None,
                          help="snapshot date: no date in the extract may be later (default: today)")
    validate.add_argument("--tables", nargs="+", metavar="TABLE", default=None,
                          help="check only these tables (space- or comma-separated; default: the seven required ones "
                               "and the optional ones present)")
    validate.add_argument("--json", action="store_true", help="print the report as JSON")
    validate.add_argument("--lang", choices=("zh", "en"), default=None,
                          help="language of the report (default: WORKBENCH_LANG or zh)")
    validate.set_defaults(func=_validate)

    describe = verbs.add_parser(
        "describe", help="print the data model (tables, keys, columns)",
        description="Print the data model as Markdown: every table, its keys and its columns.",
    )
    describe.add_argument("tables", nargs="*", metavar="TABLE", help="only these tables (default: all)")
    describe.set_defaults(func=_describe)
