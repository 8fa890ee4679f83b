"""``workbench feed list | run NAME | schedule`` - predefined feeds of published results.

::

    workbench feed list [--json]
    workbench feed run NAME [--store URL] [--data DIR]
    workbench feed schedule [--store URL] [--data DIR] [--timezone TZ]

Feed definitions are the YAML files of the workspace's ``feeds/`` folder (see
:mod:`workbench.ops.feeds`); ``schedule`` runs APScheduler's ``BlockingScheduler``
with a ``CronTrigger`` per feed until stopped (or use cron / a systemd timer to call
``workbench feed run NAME``: docs/operations.md).  Heavy imports happen inside the handlers.
"""
from __future__ import annotations

import json

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``feed`` and its verbs to the ``workbench`` parser."""
    p = subparsers.add_parser("feed", help="predefined feeds: list, deliver one, run them on their cycles")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    ls = verbs.add_parser("list", help="list the workspace's feed definitions")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=_list)

    run = verbs.add_parser("run", help="deliver one feed now (file + manifest, or database rows)",
                           epilog="example: workbench feed run grades_to_ocs")
    run.add_argument("name", metavar="NAME", help="the feed's name (workbench feed list)")
    _common(run)
    run.add_argument("--json", action="store_true", help="print the manifest as JSON")
    run.set_defaults(func=_run)

    sch = verbs.add_parser("schedule", help="run every feed on its cycle (APScheduler; Ctrl+C stops)")
    _common(sch)
    sch.add_argument("--timezone", default="UTC", help="time zone of the cycles (default UTC)")
    sch.set_defaults(func=_schedule)


def _common(p) -> None:
    p.add_argument("--store", default=None, metavar="URL", help="store URL (default: the workspace's store)")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="province data, for unmasked numbers (default: the published run's)")


def _settings():
    from workbench.ops.feeds import feed_settings

    return feed_settings()


def _list(args) -> int:
    from workbench.i18n import t
    from workbench.ops.feeds import list_feeds

    settings = _settings()
    feeds = list_feeds(settings)
    rows = [{"name": f.name, "kind": f.kind, "cycle": f.cycle, "format": f.format, "numbers": f.numbers,
             "destination": f.destination, "columns": list(f.columns), "filter": f.filter} for f in feeds]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print(t("ops.feed.none", folder=settings.folder))
    else:
        import pandas as pd

        print(pd.DataFrame(rows).drop(columns=["columns"]).to_string(index=False))
    return 0


def _deliver(name: str, args, settings) -> dict:
    from workbench.ops.feeds import find_feed, run_feed
    from workbench.store import SYSTEM_USER, Store
    from workbench.workspace import cli_workspace, path_arg, store_arg

    feed = find_feed(name, settings)
    ws = cli_workspace(hint=False)
    with Store(store_arg(args.store, ws), progress=False) as store:
        return run_feed(feed, store, SYSTEM_USER, settings=settings, data=path_arg(args.data, ws))


def _run(args) -> int:
    from workbench.i18n import t

    done = _deliver(args.name, args, _settings())
    if args.json:
        print(json.dumps(done, ensure_ascii=False))
    else:
        print(t("ops.feed.delivered", feed=done["feed"], rows=f"{done['rows']:,}", path=done["path"],
                manifest=done["manifest"]))
    return 0


def _schedule(args) -> int:
    import logging

    from workbench.i18n import t
    from workbench.ops.feeds import build_scheduler, list_feeds

    settings = _settings()
    feeds = list_feeds(settings)
    if not feeds:
        print(t("ops.feed.none", folder=settings.folder))
        return 1
    log = logging.getLogger("workbench.feed")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def job(name: str) -> None:
        try:
            done = _deliver(name, args, settings)
            log.info(t("ops.feed.delivered", feed=name, rows=done["rows"], path=done["path"],
                       manifest=done["manifest"]))
        except Exception:  # noqa: BLE001 - one failed delivery must not stop the others' cycles
            log.exception("feed %s failed; nothing was delivered", name)

    scheduler = build_scheduler(feeds, job, timezone=args.timezone)
    print(t("ops.feed.scheduled", count=len(feeds), feeds=", ".join(f"{f.name} ({f.cycle})" for f in feeds)))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0
