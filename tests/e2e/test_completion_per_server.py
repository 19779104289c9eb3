"""Completion offers the provider names of the server the command line points at, not of
every server integ ever talked to: two real servers, the real ``integ`` for the commands and
for ``integ __complete``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conductor_integrations import config
from conductor_integrations.cli.completion import LINE_VAR

from .conftest import Run, ServerProcess, run_integ

pytestmark = pytest.mark.e2e

KEY = {"OPENAI_KEY": "sk-e2e-completion-1"}


def put(name: str, *where: str, **env: str) -> None:
    made = run_integ(
        "provider", "put", name, "-t", "openai", "-c", "api_key=${env:OPENAI_KEY}", *where, **KEY, **env
    )
    assert made.code == 0, made.stderr


def offered(line: str, **env: str) -> list[str]:
    done: Run = run_integ("__complete", "bash", **{LINE_VAR: line}, **env)
    assert done.code == 0, done.stderr
    return done.stdout.splitlines()[1:]  # after the directive line


def test_names_are_offered_for_the_server_the_line_points_at(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    a = start_server("--quiet", data=tmp_path / "a.db")
    b = start_server("--quiet", data=tmp_path / "b.db")
    put("alpha-one", CONDUCTOR_SERVER_URL=a.url)
    put("shared", CONDUCTOR_SERVER_URL=a.url)
    put("beta-one", "--server", f"{b.url}/api/")  # the same server as b.url
    put("shared", "--server", b.url)
    listed = run_integ("provider", "list", CONDUCTOR_SERVER_URL=b.url)  # list remembers too
    assert listed.code == 0, listed.stderr

    get = "integ provider get "
    assert offered(get, CONDUCTOR_SERVER_URL=a.url) == ["alpha-one", "shared"]
    assert offered(get, CONDUCTOR_SERVER_URL=f"{b.url.upper()}/") == ["beta-one", "shared"]
    # the flag wins over the environment, as it does when the command runs
    assert offered(f"{get}--server {b.url} ", CONDUCTOR_SERVER_URL=a.url) == ["beta-one", "shared"]
    # no server on the line or in the environment: the profile's
    config.write_profile(config.config_file(), "default", {"server": b.url})
    config.write_profile(config.config_file(), "staging", {"server": f"{a.url}/api"})
    assert offered(get) == ["beta-one", "shared"]
    assert offered(f"{get}--profile staging ") == ["alpha-one", "shared"]
    assert offered("integ model list ", INTEG_PROFILE="staging") == ["alpha-one", "shared"]

    # a delete forgets the name on its own server only
    gone = run_integ("provider", "delete", "shared", "--yes", "--server", b.url)
    assert gone.code == 0, gone.stderr
    assert offered(get, CONDUCTOR_SERVER_URL=b.url) == ["beta-one"]
    assert offered(get, CONDUCTOR_SERVER_URL=a.url) == ["alpha-one", "shared"]
    # a server never used: nothing
    assert offered(get, CONDUCTOR_SERVER_URL="http://127.0.0.1:9") == []
