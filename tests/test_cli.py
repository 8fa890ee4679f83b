import argparse
import subprocess
import sys

import pytest

from workbench.cli import build_parser, main


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "workbench" in out


def _command_paths(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _command_paths(sub, (*prefix, name))


def test_every_subcommand_and_verb_has_help(capsys):
    paths = list(_command_paths(build_parser()))
    assert paths, "no subcommands registered"
    for path in paths:
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0, path
        assert "usage:" in capsys.readouterr().out, path


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "workbench", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("workbench ")


class _ClosedPipe:
    """A stdout whose reader has gone away (``workbench ... --json | head``)."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_the_command_quietly(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["data", "describe"]) == 0          # no traceback, exit 0 as Unix tools do
    assert "Traceback" not in capsys.readouterr().err
