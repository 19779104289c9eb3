"""Identity is what was asked for, with the real ``integ`` process against real ``integ
server`` processes: a refused ready token is exit 4 even when a working key is at hand,
and after ``auth login`` to one server another server is used without that login's key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_prompt_pty import FILE_ENV, ROOT

from .conftest import ServerProcess, run_integ

pytestmark = pytest.mark.e2e

KEY, SECRET = "ci", "ci-secret-e2e-7731"


def test_a_refused_token_is_not_replaced_by_one_from_the_key(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server("--quiet", "--auth", f"{KEY}:{SECRET}")
    r = run_integ(
        "provider",
        "list",
        CONDUCTOR_SERVER_URL=server.url,
        CONDUCTOR_AUTH_TOKEN="abc",
        CONDUCTOR_AUTH_KEY=KEY,
        CONDUCTOR_AUTH_SECRET=SECRET,
    )
    assert r.code == 4, r.stderr
    assert "invalid token" in r.stderr
    assert SECRET not in r.stdout + r.stderr
    # the key alone works: the refusal above was the token's, not the server's
    ok = run_integ(
        "provider",
        "list",
        CONDUCTOR_SERVER_URL=server.url,
        CONDUCTOR_AUTH_KEY=KEY,
        CONDUCTOR_AUTH_SECRET=SECRET,
    )
    assert ok.code == 0, ok.stderr


def test_after_login_another_server_is_used_without_the_key(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    with_auth = start_server("--quiet", "--auth", f"{KEY}:{SECRET}", data=tmp_path / "auth.db")
    without = start_server("--quiet", data=tmp_path / "open.db")
    env = {
        "INTEG_NO_KEYRING": "",
        "PYTHON_KEYRING_BACKEND": "tests.test_prompt_pty.FileKeyring",
        "PYTHONPATH": str(ROOT),
        FILE_ENV: str(tmp_path / "keyring.json"),
        "INTEG_KEYRING_TIMEOUT": "30",  # a loaded machine is slow to load the test keyring
    }
    login = run_integ(
        "auth", "login", "--server", with_auth.url, "--key-id", KEY, "--secret-stdin", input=SECRET, **env
    )
    assert login.code == 0, login.stderr
    r = run_integ("provider", "list", "--server", without.url, "--debug", "-o", "json", **env)
    assert r.code == 0, r.stderr
    assert r.json() == []
    assert "/api/token" not in r.stderr
    shown = run_integ("config", "show", "--server", without.url, "-o", "json", **env)
    assert shown.json()["key_id"]["value"] is None
    assert f"its key is for {with_auth.url}" in shown.json()["key_id"]["source"]
    own = run_integ("provider", "list", "-o", "json", **env)  # the profile's own server
    assert own.code == 0, own.stderr
