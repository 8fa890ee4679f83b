"""``workbench scale features | train | score`` - the province pipeline on a Dask cluster.

::

    workbench scale features --data DIR --out DIR [--snapshot YYYY-MM] [--window N] [--family F]
                             [--partition-size N] [--scheduler ADDRESS]
    workbench scale train    --data DIR --out MODEL_DIR [--family F --source DIR] [--target COL]
                             [--query EXPR] [--scheduler ADDRESS]
    workbench scale score    --model MODEL_DIR --data DIR --out DIR [--query EXPR] [--keep COL ...]
                             [--scheduler ADDRESS]

``--scheduler`` is ``local`` (a cluster on this machine bound to 127.0.0.1,
``--workers`` processes of ``--memory-limit`` each), a scheduler address
(``tcp://host:8786``) or ``in-process``; without it ``$WORKBENCH_SCHEDULER``
decides, and without that everything runs in this process.  Each command
prints a JSON summary.  See :mod:`workbench.scale` and ``docs/scale-out.md``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["register"]


def _cluster_args(p) -> None:
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="'local', 'tcp://host:8786' or 'in-process' (default: $WORKBENCH_SCHEDULER, else in-process)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of a 'local' cluster (default 2)")
    p.add_argument("--memory-limit", default="4GiB", help="memory of each local worker (default 4GiB)")
    p.add_argument("--no-progress", action="store_true", help="do not show progress bars")


def register(subparsers) -> None:
    """Add ``scale`` and its verbs to the ``workbench`` parser."""
    p = subparsers.add_parser("scale", help="features, training and scoring on a Dask cluster (or in-process)",
                              description=__doc__.split("\n\n")[0])
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    fe = verbs.add_parser("features", help="features of a snapshot month as Parquet parts")
    fe.add_argument("--data", required=True, type=Path, help="province folder (Parquet/CSV) or DuckDB file")
    fe.add_argument("--out", required=True, type=Path, help="output folder of the parts")
    fe.add_argument("--snapshot", default="2026-10", help="snapshot month YYYY-MM (default 2026-10)")
    fe.add_argument("--window", type=int, default=6, help="months of history (default 6)")
    fe.add_argument("--family", default=None, help="also write group/target of this product family")
    fe.add_argument("--stable-months", type=int, default=3, help="month ends that make a stable subscriber")
    fe.add_argument("--partition-size", type=int, default=250_000, help="subscribers per partition")
    _cluster_args(fe)
    fe.set_defaults(func=_features)

    tr = verbs.add_parser("train", help="train the target model on Parquet parts and save it to the registry")
    tr.add_argument("--data", required=True, type=Path, help="folder of parts (from 'scale features --family')")
    tr.add_argument("--out", required=True, type=Path, help="model folder to write")
    tr.add_argument("--target", default="target", help="label column (default 'target')")
    tr.add_argument("--id", dest="id_col", default="subscriber_id", help="id column (default subscriber_id)")
    tr.add_argument("--family", default=None,
                    help="product family: train on its model sample without the features recording it")
    tr.add_argument("--source", type=Path, default=None, help="province folder (the family's content categories)")
    tr.add_argument("--query", default=None, help="pandas query selecting the training rows "
                                                  "(default with --family: \"group != 'recent'\")")
    tr.add_argument("--exclude", nargs="*", default=[], metavar="COL", help="columns never used as features")
    tr.add_argument("--seed", type=int, default=0)
    _cluster_args(tr)
    tr.set_defaults(func=_train)

    sc = verbs.add_parser("score", help="score Parquet parts with a registry model")
    sc.add_argument("--model", required=True, type=Path, help="model folder")
    sc.add_argument("--data", required=True, type=Path, help="folder of feature parts")
    sc.add_argument("--out", required=True, type=Path, help="output folder of the score parts")
    sc.add_argument("--id", dest="id_col", default="subscriber_id", help="id column (default subscriber_id)")
    sc.add_argument("--query", default=None, help="pandas query selecting the rows to score, "
                                                  "e.g. \"group == 'potential'\"")
    sc.add_argument("--keep", nargs="*", default=[], metavar="COL", help="columns copied to the output")
    _cluster_args(sc)
    sc.set_defaults(func=_score)


def _client(args):
    from workbench.scale import get_client

    return get_client(args.scheduler, n_workers=args.workers, memory_limit=args.memory_limit)


def _print(summary: dict) -> None:
    print(json.dumps(summary, indent=2, sort_keys=True, default=str))


def _features(args) -> int:
    from workbench.scale import build_features, part_files

    t0 = time.perf_counter()
    client = _client(args)
    out = build_features(args.data, args.snapshot, args.window, out=args.out, scheduler=client or "in-process",
                         family=args.family, stable_months=args.stable_months, partition_size=args.partition_size,
                         progress=not args.no_progress)
    _print({"out": out, "parts": len(part_files(out)), "engine": "dask" if client else "in-process",
            "seconds": round(time.perf_counter() - t0, 2)})
    return 0


def _train(args) -> int:
    from workbench.errors import ParameterError
    from workbench.models import TargetModel
    from workbench.models.sample import family_categories, model_columns
    from workbench.scale import fit_target_model, save_model

    t0 = time.perf_counter()
    features, query = None, args.query
    if args.family is not None:
        if args.source is None:
            raise ParameterError.from_words("errors.cli.family_needs_source")
        features = [c for c in model_columns(args.family, family_categories(args.source, args.family))
                    if c not in args.exclude]
        query = query or "group != 'recent'"
    client = _client(args)
    model = fit_target_model(args.data, args.target, id_col=args.id_col, features=features,
                             exclude=args.exclude, query=query, model=TargetModel(random_state=args.seed),
                             scheduler=client or "in-process")
    save_model(model, args.out, training_data=args.data, query=query, scheduler=client or "in-process",
               label_definition={"target": args.target, "positive": model.classes_[1], "family": args.family,
                                 "rows": query, "source": str(args.data)},
               training_window=None, metrics={"validation_loss": model.params_.get("validation_loss")},
               id_col=args.id_col)
    _print({"out": args.out, "engine": model.params_["engine"], "rows": model.params_["n_rows"],
            "best_iteration": model.best_iteration_, "validation_loss": model.params_.get("validation_loss"),
            "seconds": round(time.perf_counter() - t0, 2)})
    return 0


def _score(args) -> int:
    from workbench.scale import part_files, score

    t0 = time.perf_counter()
    client = _client(args)
    out = score(args.model, args.data, out=args.out, id_col=args.id_col, scheduler=client or "in-process",
                keep=args.keep, query=args.query, progress=not args.no_progress)
    _print({"out": out, "parts": len(part_files(out)), "engine": "dask" if client else "in-process",
            "seconds": round(time.perf_counter() - t0, 2)})
    return 0
