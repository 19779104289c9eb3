"""The examples in ``--help`` are never wrapped in the middle of a command: at 80 columns
every example line is printed as written, and fits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command

from conductor_integrations.cli import app

WIDTH = 80


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(get_command(app)))


def _example_lines(help_text: str) -> list[str]:
    """The lines of the help text that are (or go on) a command line: indented ones that
    start with ``integ`` or hold ``| integ``, and those of a ``\\b`` block."""
    found, verbatim = [], False
    for line in help_text.splitlines():
        if line.strip() == "\b":
            verbatim = True
        elif not line.strip():
            verbatim = False
        elif verbatim or (line.startswith(" ") and ("integ " in line)):
            found.append(line.strip())
    return found


def test_some_commands_have_examples() -> None:
    assert sum(1 for _, c in COMMANDS if _example_lines(c.help or "")) >= 6


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "integ" for p, _ in COMMANDS])
def test_help_examples_are_whole_lines_that_fit_80_columns(
    integ: Any, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...], command: Any
) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    r = integ(*path, "--help")
    assert r.exit_code == 0, r.stderr
    shown = r.stdout.splitlines()
    for example in _example_lines(command.help or ""):
        assert any(line.strip() == example for line in shown), f"{example!r} is wrapped:\n{r.stdout}"
    for line in shown:
        if line.lstrip().startswith("integ "):
            assert len(line) <= WIDTH, line
