"""``workbench app publish | list`` - the apps served by ``workbench serve``."""
from __future__ import annotations

import argparse

from workbench.commands import STORE_HELP
from workbench.i18n import LANGUAGES

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``app`` and its verbs to the ``workbench`` parser."""
    parser = subparsers.add_parser(
        "app", help="publish and list the campaign apps",
        description="Campaign apps: a finished app notebook published as one campaign's app in the folder "
                    "`workbench serve` serves.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: _usage(parser))

    p = verbs.add_parser(
        "publish", help="make an app notebook a campaign's app",
        description="Check that the campaign is released in the store, then write the app notebook (outputs "
                    "cleared, campaign recorded) as <apps>/campaign_<ID>_<APP>.ipynb.",
        epilog="example: workbench app publish --campaign 3 --app executor --apps runs/apps",
    )
    p.add_argument("--campaign", type=int, required=True, metavar="ID", help="the campaign's id in the store")
    p.add_argument("--app", default="executor", metavar="APP",
                   help="app notebook name in notebooks/apps or a notebook path (default executor)")
    p.add_argument("--apps", default="runs/apps", metavar="DIR",
                   help="served folder (default runs/apps; relative paths are the workspace folder's)")
    p.add_argument("--store", metavar="URL", help=f"campaign {STORE_HELP}")
    p.add_argument("--port", type=int, default=8866, metavar="N", help="port of the server, for the printed address")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the messages")
    p.set_defaults(func=_publish)

    p = verbs.add_parser("list", help="list the apps in the served folder",
                         description="List the apps of the served folder with their campaign and publishing time.")
    p.add_argument("--apps", default="runs/apps", metavar="DIR",
                   help="served folder (default runs/apps; relative paths are the workspace folder's)")
    p.add_argument("--lang", choices=LANGUAGES, help="language of the headings")
    p.set_defaults(func=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _publish(args) -> int:
    from workbench.apps.publish import app_url, publish_app
    from workbench.i18n import t
    from workbench.workspace import cli_workspace, path_arg, store_arg

    ws = cli_workspace()
    app = path_arg(args.app, ws) if args.app.endswith(".ipynb") else args.app  # a notebook path, else an app name
    info = publish_app(args.campaign, app=app, apps_dir=path_arg(args.apps, ws), store_url=store_arg(args.store, ws))
    print(t("apps.cli.published", lang=args.lang, campaign_id=args.campaign, path=info.path))
    print(t("apps.cli.url", lang=args.lang, url=app_url(f"http://127.0.0.1:{args.port}/", info)))
    return 0


def _list(args) -> int:
    from workbench.apps.publish import list_apps
    from workbench.i18n import t
    from workbench.workspace import path_arg

    args.apps = path_arg(args.apps)
    infos = list_apps(args.apps)
    if not infos:
        print(t("apps.cli.none", lang=args.lang, folder=args.apps))
        return 0
    head = [t(f"apps.cli.{k}", lang=args.lang) for k in ("app", "kind", "campaign", "published_at")]
    rows = [[i.name, i.app, "" if i.campaign_id is None else str(i.campaign_id), i.published_at] for i in infos]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    return 0
