"""``workbench <noun> <verb>`` - the command line.

Each noun lives in its own module ``workbench/commands/<noun>.py`` exposing
``register(subparsers)``; heavy imports happen inside the handlers so that
``workbench --help`` stays fast.  Add a command by adding a module and its
name to :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from workbench.errors import WorkbenchError, error_text

__all__ = ["main", "build_parser", "COMMANDS"]

#: Command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "init", "data", "sample", "features", "template", "model", "campaign", "simulate", "evaluate", "app", "serve",
    "users", "demo", "scale", "credit", "trigger", "publish", "feed", "api", "deploy",
)


def build_parser() -> argparse.ArgumentParser:
    from workbench import __version__

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Precision-marketing workbench: data, models, campaigns, apps, evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"workbench.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name == f"workbench.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _workspace_language() -> None:
    """The workspace's ``language`` becomes the default of the messages (``$WORKBENCH_LANG`` and ``--lang`` win)."""
    import os

    from workbench.errors import WorkspaceError
    from workbench.i18n import set_language
    from workbench.workspace import find_workspace

    if os.environ.get("WORKBENCH_LANG"):
        return
    try:
        ws = find_workspace()
    except WorkspaceError:  # a broken config: the commands that use it say so
        return
    if ws is not None and ws.config_file is not None:
        set_language(ws.language)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _workspace_language()
    try:
        rc = args.func(args)
    except (WorkbenchError, FileNotFoundError, FileExistsError) as exc:
        # in the language of the command's messages: its --lang, else the workspace's / $WORKBENCH_LANG (zh default)
        print(error_text(exc, getattr(args, "lang", None)), file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (`workbench ... --json | head`): stop quietly, as Unix tools do
        sys.stdout = None
        return 0
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
