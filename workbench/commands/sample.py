"""``workbench sample`` - generate a synthetic province and its ground truth.

``workbench sample --subscribers N --months M --seed S --out DIR [--truth-out DIR2]
[--end-month YYYY-MM] [--chunk-size K] [--no-progress]``

Writes one ``<table>.parquet`` per table of the data model into ``DIR`` and
the ground truth (``subscriber_truth.parquet``, ``meta.json``) into ``DIR2``
(default: the sibling ``DIR_truth``); prints the summary as JSON.  The same
arguments always give the same files.  See ``docs/synthetic-province.md``.
"""
from __future__ import annotations

import argparse

__all__ = ["register", "DEFAULTS"]

#: The command's defaults; equal to those of :func:`workbench.data.synth.generate_province`
#: (a test keeps them in step; they are repeated here so ``--help`` needs no heavy import).
DEFAULTS: dict[str, object] = {
    "n_subscribers": 20_000, "months": 6, "seed": 20261126, "end_month": "2026-10", "chunk_size": 200_000,
}
DEFAULT_SUBSCRIBERS, DEFAULT_MONTHS, DEFAULT_SEED, DEFAULT_END_MONTH, DEFAULT_CHUNK_SIZE = DEFAULTS.values()


def register(subparsers) -> None:
    """Add ``sample`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "sample", help="generate a synthetic province (all tables) and its ground truth",
        description="Generate a deterministic synthetic province: every table of the data model as Parquet, "
                    "plus the ground truth (true preferences, uptake probabilities, campaign response, "
                    "realised next-period outcomes) in a separate folder.",
        epilog="example: workbench sample --subscribers 20000 --months 6 --seed 20261126 --out sample_data/province",
    )
    p.add_argument("--subscribers", type=int, default=DEFAULT_SUBSCRIBERS, metavar="N",
                   help=f"number of subscribers (default {DEFAULT_SUBSCRIBERS})")
    p.add_argument("--months", type=int, default=DEFAULT_MONTHS, metavar="M",
                   help=f"observed months ending with --end-month (default {DEFAULT_MONTHS})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S", help=f"seed (default {DEFAULT_SEED})")
    p.add_argument("--out", required=True, metavar="DIR", help="folder of the province tables")
    p.add_argument("--truth-out", metavar="DIR2", help="folder of the ground truth (default: DIR_truth)")
    p.add_argument("--end-month", default=DEFAULT_END_MONTH, metavar="YYYY-MM",
                   help=f"last observed month (default {DEFAULT_END_MONTH})")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="K",
                   help=f"subscribers generated at a time; the files depend on it (default {DEFAULT_CHUNK_SIZE})")
    p.add_argument("--drift", default=None, metavar="KIND[,KIND]",
                   help="later months drift: usage (data traffic x4), mix (an M-Zone recruitment wave), concept "
                        "(newspaper uptake follows other drivers); see docs/synthetic-province.md")
    p.add_argument("--drift-from", default=None, metavar="YYYY-MM",
                   help="first drifted month (default: the middle month of the window)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.set_defaults(func=_sample)


def _sample(args: argparse.Namespace) -> int:
    import json

    from workbench.data.synth import generate_province

    summary = generate_province(
        args.subscribers, args.months, args.seed, args.out, truth_out=args.truth_out,
        end_month=args.end_month, chunk_size=args.chunk_size, progress=not args.no_progress,
        drift=args.drift, drift_from=args.drift_from,
    )
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0
