"""How ``provider apply`` and ``diff`` look on a terminal: the result table fits the width
with names and types whole and each error printed once below it; ``+``, ``~`` and ``-``
lines and the actions in colour, but never under NO_COLOR, --no-color, -o json or off a
terminal. The terminal is forced the way rich allows it (``TTY_COMPATIBLE=1``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from conductor_integrations.sandbox import serve_in_background
from conductor_integrations.types import builtin

#: The longest type name of the table (aws_bedrock_anthropic, today).
LONGEST_TYPE = max(builtin.table().names(), key=len)
SGR = re.compile("\x1b\\[[0-9;]*m")


def _document(name: str, type_: str) -> str:
    """A valid document of ``type_``, whatever its required keys."""
    ptype = builtin.table().get(type_)
    assert ptype is not None
    config = {key: "some-value" for key in ptype.effective_required if key != "connectionType"}
    if "connectionType" in ptype.all_keys:
        config["connectionType"] = "CONDUCTOR_ROLE"
    return json.dumps({"name": name, "type": type_, "configuration": config})


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A sandbox where the key in the environment may only read: every write is a 403."""
    with serve_in_background(tmp_path / "sandbox.db", auth=["ci:s3cret", "viewer:v1ew:read"]) as running:
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", running.url)
        monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "viewer")
        monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "v1ew")
        yield running.url


def _fleet(tmp_path: Path, names_types: list[tuple[str, str]]) -> Path:
    f = tmp_path / "fleet.yaml"
    f.write_text("\n---\n".join(_document(n, t) for n, t in names_types) + "\n")
    return f


def _terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", str(columns))


def _squeezed(text: str) -> str:
    """``text`` without its whitespace: a wrapped message is found whatever the width."""
    return "".join(SGR.sub("", text).split())


FLEET = [
    ("bedrock-anthropic-embeddings-prod", LONGEST_TYPE),
    ("openai-prod", "openai"),
    ("azure-service-bus-orders-eu-west", "azure_service_bus"),
]


@pytest.mark.parametrize("columns", [80, 200])
def test_apply_table_fits_the_width_names_whole_each_error_once(
    integ: Any, read_only: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    f = _fleet(tmp_path, FLEET)
    errors = [x["error"] for x in integ("provider", "apply", str(f), "-o", "json").json()]
    assert all(len(e) > columns // 2 and "may only read" in e for e in errors), errors
    _terminal(monkeypatch, columns)
    r = integ("provider", "apply", str(f))
    assert r.exit_code == 4
    assert r.stderr.endswith("0 created, 0 updated, 0 unchanged, 3 failed\n")  # after the progress bar
    assert "may only read" not in r.stderr
    lines = SGR.sub("", r.stdout).splitlines()
    assert all(cell_len(line) <= columns for line in lines), "\n".join(lines)
    for name, type_ in FLEET:
        assert any(re.match(rf"{re.escape(name)} +{type_} +failed$", line.rstrip()) for line in lines), lines
    out = _squeezed(r.stdout)
    for name, error in zip((n for n, _ in FLEET), errors, strict=True):
        assert out.count(_squeezed(error)) == 1
        assert out.count(_squeezed(f"{name}: {error}")) == 1  # below the table, by name


def test_a_name_too_long_for_the_width_is_never_broken(
    integ: Any, read_only: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_name = "a-provider-name-that-is-longer-than-the-terminal-is-wide"
    f = _fleet(tmp_path, [(long_name, LONGEST_TYPE)])
    _terminal(monkeypatch, 40)
    r = integ("provider", "apply", str(f))
    assert r.exit_code == 4
    lines = SGR.sub("", r.stdout).splitlines()
    assert any(re.match(rf"{long_name} +{LONGEST_TYPE} +failed$", line) for line in lines), lines
    assert "may only read" in r.stdout


def test_off_a_terminal_each_error_is_one_line_below_the_table(
    integ: Any, read_only: str, tmp_path: Path
) -> None:
    f = _fleet(tmp_path, FLEET)
    r = integ("provider", "apply", str(f))
    assert r.exit_code == 4
    table, blank, below = r.stdout.partition("\n\n")
    assert blank and table.splitlines()[0].split() == ["NAME", "TYPE", "ACTION"]
    assert [line.split(": ", 1)[0] for line in below.splitlines()] == [n for n, _ in FLEET]
    assert all("may only read" in line for line in below.splitlines())
    assert "may only read" not in r.stderr


# -- colour ---------------------------------------------------------------------------------

DOCS = """\
- name: new-one
  type: openai
  tags: {team: x}
  configuration: {api_key: "${env:COLOUR_KEY}"}
- name: changed-one
  type: openai
  description: after
  tags: {team: x}
  configuration: {api_key: "${env:COLOUR_KEY}"}
"""
KEY_FLAG = "api_key=${env:COLOUR_KEY}"
GREEN, YELLOW, RED = "\x1b[32m", "\x1b[33m", "\x1b[31m"


@pytest.fixture
def drifted(integ: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sandbox with ``changed-one`` (to be updated) and ``gone-one`` (to be pruned)."""
    monkeypatch.setenv("COLOUR_KEY", "sk-colour-0001")
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", "local")
    for name in ("changed-one", "gone-one"):
        made = integ("provider", "put", name, "-t", "openai", "-d", "before", "-c", KEY_FLAG)
        assert made.exit_code == 0, made.stderr
        assert integ("provider", "tag", "set", name, "team=x").exit_code == 0
    f = tmp_path / "docs.yaml"
    f.write_text(DOCS)
    return f


def _coloured_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    _terminal(monkeypatch, 200)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


DIFF = ("provider", "diff", "--prune", "-l", "team=x")


def test_diff_lines_are_coloured_on_a_terminal(
    integ: Any, drifted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _coloured_terminal(monkeypatch)
    r = integ(*DIFF, str(drifted))
    assert r.exit_code == 1, r.stderr
    assert f"{GREEN}+ new-one (openai): will be created" in r.stdout
    assert f"{YELLOW}~ changed-one (openai): will be updated" in r.stdout
    assert f"{RED}- gone-one (openai): will be deleted" in r.stdout
    assert "description: before -> after" in SGR.sub("", r.stdout)


def test_apply_actions_are_coloured_on_a_terminal(
    integ: Any, drifted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _coloured_terminal(monkeypatch)
    r = integ("provider", "apply", str(drifted), "--prune", "-l", "team=x")
    assert r.exit_code == 0, r.stderr
    for colour, word in ((GREEN, "created"), (YELLOW, "updated"), (RED, "deleted")):
        assert f"{colour}{word}" in r.stdout, r.stdout


@pytest.mark.parametrize(
    "how",
    ["NO_COLOR", "--no-color", "-o json", "not a terminal"],
)
def test_no_colour_where_it_is_not_wanted(
    integ: Any, drifted: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _coloured_terminal(monkeypatch)
    extra: list[str] = []
    if how == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    elif how == "not a terminal":
        monkeypatch.delenv("TTY_COMPATIBLE")
    else:
        extra = how.split()
    diff = integ(*DIFF, str(drifted), *extra)
    assert diff.exit_code == 1, diff.stderr
    applied = integ("provider", "apply", str(drifted), "--prune", "-l", "team=x", *extra)
    assert applied.exit_code == 0, applied.stderr
    for r in (diff, applied):
        assert not re.search("\x1b\\[[0-9;]*3[0-7]", r.stdout), repr(r.stdout)
        assert "changed-one" in r.stdout


@pytest.mark.parametrize("columns", [80, 200])
def test_list_table_keeps_names_and_types_whole(
    integ: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """Every table names its rows in its first column: `provider list` on a terminal never
    breaks a name or a type (where they and the other columns cannot fit, the plain table
    is printed, its lines whole)."""
    with serve_in_background(tmp_path / "sandbox.db") as running:
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", running.url)
        assert integ("provider", "apply", str(_fleet(tmp_path, FLEET))).exit_code == 0
        _terminal(monkeypatch, columns)
        r = integ("provider", "list")
    assert r.exit_code == 0, r.stderr
    lines = SGR.sub("", r.stdout).splitlines()
    if columns == 200:
        assert all(cell_len(line) <= columns for line in lines), lines
    for name, type_ in FLEET:
        assert any(name in line and type_ in line for line in lines), (name, lines)
