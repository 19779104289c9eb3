"""No command lets a server write to the terminal: every command, in every output format and
failing in every way, against a server that puts escape sequences, C0/C1 controls and bidi
overrides into every string it returns (names, descriptions, configurations, tags, error
messages, ``validationErrors``, HTML and plain-text error pages).

stdout and stderr hold no raw control character but newline; the hostile text is shown
escaped (``\\x1b``), and JSON/YAML carry it exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from conductor_integrations.secrets import credentials
from conductor_integrations.types import builtin
from tests.hardening import test_leak_everywhere as everywhere
from tests.hardening.fault_server import Action, FaultServer, Reply, Request
from tests.test_output import HOSTILE, MARKUP, RAW

#: The hostile text's first escape sequence as shown in a table or message, JSON, YAML.
ESCAPED = re.compile(r"(\\x1b|\\u001b|\\e)\]8;;https://evil.example/(\\x07|\\u0007|\\a)click")
#: Commands that print what the server returned.
SHOWS_STRINGS = ("provider get", "provider list", "provider tag list", "model get", "model list")


def poisoned(value: Any) -> Any:
    """``value`` with HOSTILE added to every string in it (mapping keys aside, and values
    under secret keys: those are masked wherever they appear, so a secret ending in HOSTILE
    would mask the hostile text everywhere instead of showing it escaped)."""
    if isinstance(value, str):
        return f"{value}{HOSTILE} {MARKUP}"
    if isinstance(value, dict):
        return {k: v if builtin.is_secret_key(str(k)) else poisoned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [poisoned(v) for v in value]
    return value


class HostileServer(everywhere.EchoServer):
    """The echo server of the leak tests, with HOSTILE in every string it answers."""

    def __call__(self, req: Request) -> Action:
        reply = super().__call__(req)
        if isinstance(reply, Reply) and urlsplit(req.path).path != "/api/token":
            if isinstance(reply.body, bytes):
                reply.body = poisoned(reply.body.decode()) if reply.body else b""
            else:
                reply.body = poisoned(reply.body)
        return reply


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve: Callable[..., FaultServer], sleeps: list[float]
) -> Iterator[everywhere.World]:
    monkeypatch.setattr(everywhere, "EchoServer", HostileServer)
    yield everywhere.World(tmp_path / "w", monkeypatch, serve, everywhere.NASTY, "token")
    credentials.reset()


def test_no_command_lets_the_server_write_to_the_terminal(integ: Any, world: everywhere.World) -> None:
    everywhere.run_everything(integ, world)
    assert isinstance(world.echo, HostileServer)
    for args, _, text in world.outputs:
        found = RAW.search(text)
        assert found is None, f"integ {' '.join(args)} printed {found.group()!r} raw:\n{text!r}"
        line = " ".join(args)
        # what shows the server's strings shows them escaped, its markup as text
        if line.startswith(SHOWS_STRINGS) or ("(server: ok)" not in line and args[0] != "auth"):
            assert ESCAPED.search(text) and MARKUP in text, f"integ {line}:\n{text}"
    everywhere.assert_no_leak(world)


def test_json_and_yaml_keep_the_servers_strings_exactly(integ: Any, world: everywhere.World) -> None:
    for fmt, load in (("json", json.loads), ("yaml", yaml.safe_load)):
        r = integ("provider", "get", "p1", "-o", fmt)
        assert r.exit_code == 0, r.output
        assert RAW.search(r.stdout) is None, r.stdout
        shown = load(r.stdout)
        assert shown["type"] == f"openai{HOSTILE} {MARKUP}"
        assert shown["description"].endswith(f"{HOSTILE} {MARKUP}")
        assert shown["tags"][0]["value"].endswith(f"{HOSTILE} {MARKUP}")
