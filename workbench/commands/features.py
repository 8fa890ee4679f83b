"""``workbench features`` - build per-subscriber features, or print the feature catalogue.

``workbench features build --data DIR --snapshot YYYY-MM [--window 6] --out FILE.parquet``
``workbench features doc``
"""
from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``features`` to the ``workbench`` parser."""
    p = subparsers.add_parser("features", help="build per-subscriber features for a snapshot month",
                              description="Per-subscriber features for a snapshot month (DuckDB, out of core).")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    b = verbs.add_parser("build", help="write one row per subscriber to a Parquet file",
                         description="Build the features of every subscriber at a snapshot month from a folder of "
                                     "Parquet/CSV files or a DuckDB file, straight to Parquet (never the whole "
                                     "usage table in memory). Only data up to the snapshot month's end is used.",
                         epilog="example: workbench features build --data sample_data/province --snapshot 2026-10 "
                                "--out runs/features.parquet")
    b.add_argument("--data", metavar="SOURCE", help="folder of tables or a DuckDB file (default: the workspace's "
                                                    "data; relative paths are the workspace folder's)")
    b.add_argument("--snapshot", required=True, metavar="YYYY-MM", help="snapshot month")
    b.add_argument("--window", type=int, default=6, metavar="M", help="look-back window in months (default 6)")
    b.add_argument("--out", required=True, metavar="FILE", help="Parquet file to write")
    b.add_argument("--memory-limit", metavar="SIZE", help="DuckDB memory limit, e.g. 4GB (spills beyond it)")
    b.add_argument("--temp-directory", metavar="DIR", help="where DuckDB may spill")
    b.set_defaults(func=_build)
    d = verbs.add_parser("doc", help="print the feature catalogue (Markdown)",
                         description="Print the catalogue of feature names, families and meanings (docs/features.md).")
    d.set_defaults(func=_doc)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _build(args: argparse.Namespace) -> int:
    from workbench.features import build_features
    from workbench.workspace import cli_workspace, data_arg, path_arg

    ws = cli_workspace()
    args.data, args.out = data_arg(args.data, ws), path_arg(args.out, ws)
    args.temp_directory = path_arg(args.temp_directory, ws)
    path = build_features(args.data, snapshot=args.snapshot, window=args.window, out=args.out,
                          memory_limit=args.memory_limit, temp_directory=args.temp_directory, progress=True)
    print(path)
    return 0


def _doc(args: argparse.Namespace) -> int:
    from workbench.features import render_feature_doc

    print(render_feature_doc())
    return 0
