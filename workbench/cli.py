"""``workbench <noun> <verb>`` - the command line.

Each noun lives in its own module ``workbench/commands/<noun>.py`` exposing
``register(subparsers)``; heavy imports happen inside the handlers so that
``workbench --help`` stays fast.  Add a command by adding a module and its
name to :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import contextvars
import importlib
import re
import sys

from workbench.errors import WorkbenchError, error_text

__all__ = ["main", "build_parser", "argparse_text", "COMMANDS"]

#: Command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "init", "data", "sample", "features", "template", "model", "campaign", "simulate", "evaluate", "app", "serve",
    "users", "demo", "scale", "credit", "trigger", "publish", "feed", "api", "deploy",
)


#: The language argparse's own complaints are worded in while :func:`main` parses (None: the default).
_PARSE_LANGUAGE: contextvars.ContextVar[str | None] = contextvars.ContextVar("workbench_parse_language",
                                                                             default=None)
#: argparse's messages (Python 3.11) -> catalogue key ``errors.argparse.<key>`` and the groups it names.
_ARGPARSE_MESSAGES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"unrecognized arguments: (?P<args>.*)"), "unrecognized"),
    (re.compile(r"the following arguments are required: (?P<args>.*)"), "required"),
    (re.compile(r"one of the arguments (?P<args>.*) is required"), "one_required"),
    (re.compile(r"argument (?P<name>\S+): invalid choice: (?P<got>.*) \(choose from (?P<choices>.*)\)"),
     "invalid_choice"),
    (re.compile(r"argument (?P<name>\S+): expected one argument"), "expected_one"),
    (re.compile(r"argument (?P<name>\S+): invalid (?P<kind>\w+) value: (?P<got>.*)"), "invalid_value"),
)


def argparse_text(message: str, lang: str | None = None) -> str:
    """argparse's complaint ``message`` worded by the catalogue in ``lang`` (option names and values as
    typed), with the errors' prefix; a message the catalogue does not know is shown as argparse wrote it."""
    from workbench.i18n import labels_for, t

    for pattern, key in _ARGPARSE_MESSAGES:
        m = pattern.fullmatch(message)
        if m:
            values = m.groupdict()
            if "kind" in values:    # int, float: said in words; a type of a command's own is named as it is
                values["kind"] = labels_for("errors.argparse.kind", lang).get(values["kind"], values["kind"])
            message = t(f"errors.argparse.{key}", lang=lang, **values)
            break
    return t("errors.prefix", lang=lang, message=message)


class _Parser(argparse.ArgumentParser):
    """argparse that words its own complaints (unknown option, missing argument, bad choice or value) in the
    user's language (:func:`argparse_text`); the usage line stays as argparse prints it."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, argparse_text(message, _PARSE_LANGUAGE.get()) + "\n")


def _argv_language(argv: list[str]) -> str | None:
    """The ``--lang`` of a command line that may not parse (``--lang zh`` or ``--lang=zh``)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def build_parser() -> argparse.ArgumentParser:
    from workbench import __version__

    parser = _Parser(
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
    from workbench.i18n import LANGUAGES

    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    _workspace_language()
    lang = _argv_language(argv)
    token = _PARSE_LANGUAGE.set(lang if lang in LANGUAGES else None)
    try:
        args = parser.parse_args(argv)
    finally:
        _PARSE_LANGUAGE.reset(token)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
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
