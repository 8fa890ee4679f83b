"""``workbench simulate`` - simulate the execution of a released campaign and record it in the store.

``workbench simulate --run-dir DIR [--data DIR] [--truth DIR] [--seed S] [--no-progress]``
simulates the campaign template 04 released in ``DIR`` (its ``campaign.json``) and saves the record to
``DIR/simulation/`` for template 06;
``workbench simulate --campaign ID --store URL --data DIR [--truth DIR] [--out DIR2]`` does the same for
any released campaign of a store.

Executors' contacts (by channel profile and daily capacity) are recorded through the store's API; the
members' orders, unsubscribes and bills are drawn from the synthetic province's ground truth (for the
demo and tests only: a real campaign's contacts are recorded by its executors).  The campaign period
must have started before today; it is cut at yesterday.  Prints the summary as JSON.
"""
from __future__ import annotations

import argparse

from workbench.commands import STORE_HELP

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``simulate`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "simulate", help="simulate a released campaign's execution from the synthetic truth and record it",
        description="Simulate the executors' contacts of a released campaign and the members' orders, "
                    "unsubscribes and bills (drawn from the synthetic province's ground truth); record the "
                    "contacts and responses in the campaign store through its API.",
        epilog="examples: workbench simulate --run-dir runs/demo   |   "
               "workbench simulate --campaign 3 --store sqlite:///runs/store.sqlite --data sample_data/province",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--run-dir", metavar="DIR", help="run folder holding template 04's campaign.json")
    which.add_argument("--campaign", type=int, metavar="ID", help="id of a released campaign in --store")
    p.add_argument("--store", metavar="URL", help=f"with --campaign: {STORE_HELP}")
    p.add_argument("--data", metavar="DIR",
                   help="folder (or DuckDB file) of the province tables (default: the workspace's data; relative "
                        "paths are the workspace folder's)")
    p.add_argument("--truth", metavar="DIR", help="ground-truth folder (default: DATA_truth)")
    p.add_argument("--out", metavar="DIR2", help="with --campaign: save the simulated events here")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the simulation (default 0)")
    p.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    p.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    import json

    from workbench.data.synth import default_truth_folder
    from workbench.demo.campaign import simulate_campaign
    from workbench.errors import ParameterError
    from workbench.workspace import cli_workspace, data_arg, path_arg, store_arg

    ws = cli_workspace()
    args.data = str(data_arg(args.data, ws))
    args.run_dir, args.out = path_arg(args.run_dir, ws), path_arg(args.out, ws)
    truth = path_arg(args.truth, ws) if args.truth else default_truth_folder(args.data)
    if not (truth / "subscriber_truth.parquet").is_file():
        raise ParameterError.from_words("errors.cli.no_truth", path=repr(str(truth)))
    progress = not args.no_progress
    if args.run_dir:  # the run folder's step: its campaign, saved to simulation/, recorded in run.json
        from workbench.demo.steps import run_simulation_step

        try:
            record = run_simulation_step(args.data, args.run_dir, seed=args.seed, truth=truth, progress=progress)
        except FileNotFoundError as exc:
            raise ParameterError(str(exc)) from None
    else:
        from workbench.store import Store

        store = Store(store_arg(args.store, ws), progress=progress)
        try:
            record = simulate_campaign(store, args.campaign, args.data, truth, seed=args.seed, out_dir=args.out,
                                       progress=progress)
        finally:
            store.close()
    summary = record.summary()
    summary["folder"] = None if record.folder is None else str(record.folder)
    print(json.dumps(summary, indent=2))
    return 0
