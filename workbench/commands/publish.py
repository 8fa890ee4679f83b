"""``workbench publish`` - results for operations: publish a run folder, list, roll back, back-fill.

::

    workbench publish RUN_DIR [--kind target|credit|trigger ...] [--valid-from DATE] [--valid-to DATE]
                              [--data DIR] [--store URL]
    workbench publish list [--kind KIND] [--store URL] [--json]
    workbench publish rollback KIND [--store URL]
    workbench publish backfill --to URL [--schema S] [--kind KIND ...] [--store URL]

The command line acts as the system user (an admin); see :mod:`workbench.ops.publish`
and :mod:`workbench.ops.backfill`.  Heavy imports happen inside the handlers.
"""
from __future__ import annotations

import json
import sys

__all__ = ["register", "VERBS"]

#: Verbs of ``workbench publish`` besides publishing a run folder.
VERBS: tuple[str, ...] = ("list", "rollback", "backfill")
_KINDS = ("target", "preference", "credit", "trigger")


def register(subparsers) -> None:
    """Add ``publish`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "publish", help="publish a run folder's results for operations; list, roll back, back-fill them",
        description="workbench publish RUN_DIR writes the run's scores (template 03), credit grades (07) and "
                    "trigger list (08) as new versions of the published results and makes them current in one "
                    "transaction. Verbs: list, rollback KIND, backfill --to URL.",
        epilog="examples: workbench publish runs/demo-1 | workbench publish list | workbench publish rollback "
               "target | workbench publish backfill --to postgresql://ops@db/shared --schema wb")
    p.add_argument("target", metavar="RUN_DIR|VERB", help="a run folder, or one of: " + ", ".join(VERBS))
    p.add_argument("rest", nargs="?", default=None, metavar="KIND", help="the kind to roll back (rollback)")
    p.add_argument("--kind", action="append", choices=_KINDS, default=None,
                   help="kind(s) to publish / list / back-fill (default: all the folder or store holds)")
    p.add_argument("--valid-from", default=None, metavar="DATE", help="first day the version is valid (today)")
    p.add_argument("--valid-to", default=None, metavar="DATE", help="last day the version is valid (open)")
    p.add_argument("--data", default=None, metavar="DIR", help="province data (default: the run's)")
    p.add_argument("--store", default=None, metavar="URL", help="store URL (default: the workspace's store)")
    p.add_argument("--to", default=None, metavar="URL", help="backfill: the operational database URL")
    p.add_argument("--schema", default=None, help="backfill: schema in the target database")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)


def _store(args):
    from workbench.store import Store
    from workbench.workspace import cli_workspace, store_arg

    return Store(store_arg(args.store, cli_workspace(hint=False)), progress=not args.no_progress)


def _print(done: list[dict], args) -> None:
    from workbench.i18n import t

    if args.json:
        print(json.dumps(done, ensure_ascii=False, default=str))
        return
    for d in done:
        retired = t("ops.publish.retired", version_id=d["retired"]) if d.get("retired") else ""
        print(t("ops.publish.done", kind=d["kind"], version_id=d["version_id"], rows=f"{d['rows']:,}",
                retired=retired))


def _run(args) -> int:
    from workbench.errors import ParameterError
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER

    verb = args.target
    if verb == "list":
        with _store(args) as store:
            frames = store.published_versions(SYSTEM_USER, (args.kind or [None])[0])
        if args.json:
            print(frames.to_json(orient="records", date_format="iso", force_ascii=False))
        elif frames.empty:
            print(t("ops.publish.none"))
        else:
            print(frames.drop(columns=["run_dir", "source_sha256"]).to_string(index=False))
        return 0
    if verb == "rollback":
        if args.rest not in _KINDS:
            raise ParameterError.invalid("KIND", f"one of {list(_KINDS)}", args.rest)
        with _store(args) as store:
            done = store.rollback_published(SYSTEM_USER, args.rest)
        print(json.dumps(done) if args.json else t("ops.publish.rolled_back", **done))
        return 0
    if verb == "backfill":
        from workbench.ops.backfill import backfill

        if not args.to:
            raise ParameterError.from_words("errors.cli.backfill_needs_to")
        with _store(args) as store:
            done = backfill(store, SYSTEM_USER, args.to, schema=args.schema, kinds=args.kind)
        if args.json:
            print(json.dumps(done, ensure_ascii=False))
        elif not done:
            print(t("ops.backfill.nothing"))
        for d in [] if args.json else done:
            print(t("ops.backfill.done", kind=d["kind"], version_id=d["version_id"], rows=f"{d['rows']:,}",
                    target=d["target"]))
        return 0
    if args.rest is not None:
        print(t("errors.prefix", message=t("errors.cli.publish_extra", argument=repr(args.rest))), file=sys.stderr)
        return 2
    from workbench.ops.publish import publish_run
    from workbench.workspace import cli_workspace, path_arg

    ws = cli_workspace(hint=False)
    with _store(args) as store:
        done = publish_run(store, SYSTEM_USER, path_arg(verb, ws), kinds=args.kind, data=path_arg(args.data, ws),
                           valid_from=args.valid_from, valid_to=args.valid_to)
    _print(done, args)
    return 0
