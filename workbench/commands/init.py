"""``workbench init DIR --data PATH [--store URL] [--language zh|en]`` - create an analyst's workspace.

Writes ``DIR/workbench.toml`` naming the province data, the campaign store, the runs root and the
language (see :mod:`workbench.workspace`).  Every command, template and app run inside ``DIR`` (or
with ``$WORKBENCH_WORKSPACE=DIR``) then uses these values and resolves relative paths against ``DIR``.
An existing config is never overwritten; a missing data folder or an unusable store is an error and
nothing is written.
"""
from __future__ import annotations

from workbench.i18n import LANGUAGES

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``init`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "init", help="create a workspace (workbench.toml) for your own analysis",
        description="Create a workspace: DIR/workbench.toml naming the province data, the campaign store, the "
                    "runs root and the language. Commands, templates and apps run anywhere inside DIR find it "
                    "and resolve relative paths and SQLite URLs against DIR. An existing config is never "
                    "overwritten; a missing data folder or an unreachable store is an error and nothing is written.",
        epilog="example: workbench init ~/analysis --data /data/extract_2026_10 --language en",
    )
    p.add_argument("dir", metavar="DIR", help="the workspace folder (created when missing)")
    p.add_argument("--data", required=True, metavar="PATH",
                   help="folder (or DuckDB file) of the province tables; a relative path is the current folder's")
    p.add_argument("--store", metavar="URL", help="campaign store URL (default sqlite:///runs/store.sqlite, a file "
                                                  "in the workspace; relative SQLite paths are DIR's)")
    p.add_argument("--language", choices=LANGUAGES, default="zh", help="default language (default zh); also the "
                   "language of this command's messages")
    p.set_defaults(func=_init)


def _init(args) -> int:
    from workbench.i18n import t
    from workbench.workspace import init_workspace, load_workspace

    path = init_workspace(args.dir, args.data, store=args.store, language=args.language)
    ws = load_workspace(path.parent)
    lang = args.language
    print(t("workspace.init.created", lang=lang, path=path))
    print(t("workspace.init.data", lang=lang, path=ws.data))
    print(t("workspace.init.store", lang=lang, url=ws.store_url))
    print(t("workspace.init.runs", lang=lang, runs=ws.runs, run=ws.run_path()))
    print(t("workspace.init.next", lang=lang, root=ws.root))
    return 0
