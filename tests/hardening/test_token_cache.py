"""The token of an application key is cached between commands (``tokens.json``, 0600) and
dropped when the server says it expired or is invalid; a new one is minted once, never in a
loop. Against a loopback server that mints numbered tokens and accepts only the ones it
has not expired."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from typing import Any

import pytest

from conductor_integrations.secrets import credentials
from tests.hardening.fault_server import FaultServer, Reply, Request

SECRET = "key-secret-for-the-cache-0001"


class AuthServer:
    """Mints ``tok-1``, ``tok-2`` ...; ``expire(token)`` makes the server refuse it."""

    def __init__(self, refusal: dict[str, Any] | None = None, every_token_refused: bool = False):
        self.minted = 0
        self.expired: set[str] = set()
        self.refusal = refusal if refusal is not None else {"status": 401, "error": "EXPIRED_TOKEN"}
        self.every_token_refused = every_token_refused
        self.lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        if req.path == "/api/token":
            if req.json().get("keySecret") != SECRET:
                return Reply(401, {"status": 401, "message": "bad key"})
            with self.lock:
                self.minted += 1
                return Reply(200, {"token": f"tok-{self.minted}"})
        token = req.headers.get("x-authorization", "")
        if not token.startswith("tok-") or token in self.expired or self.every_token_refused:
            return Reply(401, {**self.refusal, "message": "token refused"})
        return Reply(200, [])

    def expire(self, token: str) -> None:
        self.expired.add(token)


@pytest.fixture
def auth(
    serve: Callable[..., FaultServer], monkeypatch: pytest.MonkeyPatch
) -> tuple[AuthServer, FaultServer]:
    logic = AuthServer()
    server = serve(logic)
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", server.url)
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "kid")
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    return logic, server


def token_posts(server: FaultServer) -> int:
    return server.paths().count("POST /api/token")


def test_the_second_command_uses_the_cached_token(integ: Any, auth: tuple[AuthServer, FaultServer]) -> None:
    _logic, server = auth
    assert integ("provider", "list").exit_code == 0
    assert integ("provider", "list").exit_code == 0
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 1
    assert credentials.cached_token(server.url, "kid") == "tok-1"
    path = credentials.token_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r.headers["x-authorization"] for r in server.requests[1:]] == ["tok-1"] * 3


@pytest.mark.parametrize("error", ["EXPIRED_TOKEN", "INVALID_TOKEN"])
def test_an_expired_cached_token_is_dropped_and_minted_again_once(
    error: str, integ: Any, auth: tuple[AuthServer, FaultServer]
) -> None:
    logic, server = auth
    logic.refusal = {"status": 401, "error": error}
    assert integ("provider", "list").exit_code == 0
    logic.expire("tok-1")
    r = integ("provider", "list", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert token_posts(server) == 2
    assert credentials.cached_token(server.url, "kid") == "tok-2"
    assert server.paths()[-3:] == [
        "GET /api/integrations/provider?activeOnly=false",
        "POST /api/token",
        "GET /api/integrations/provider?activeOnly=false",
    ]


def test_a_cached_token_refused_with_a_bare_401_is_replaced(
    integ: Any, auth: tuple[AuthServer, FaultServer]
) -> None:
    """A server restarted with new signing keys may refuse an old token without saying why."""
    logic, server = auth
    logic.refusal = {"status": 401}
    assert integ("provider", "list").exit_code == 0
    logic.expire("tok-1")
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 2


def test_a_fresh_token_refused_too_ends_in_exit_4_without_a_loop(
    integ: Any, auth: tuple[AuthServer, FaultServer]
) -> None:
    logic, server = auth
    logic.every_token_refused = True
    r = integ("provider", "list")
    assert r.exit_code == 4
    assert "a fresh token was refused too" in r.stderr
    # mint, refused, mint once more, refused: the contract's "mint once and retry once"
    assert server.paths() == ["POST /api/token", "GET /api/integrations/provider?activeOnly=false"] * 2
    r = integ("provider", "list")
    assert r.exit_code == 4
    assert len(server.requests) == 4 + 3  # the cached token, a new one, and no more


def test_a_token_file_readable_by_others_is_ignored(integ: Any, auth: tuple[AuthServer, FaultServer]) -> None:
    _logic, server = auth
    assert integ("provider", "list").exit_code == 0
    os.chmod(credentials.token_path(), 0o644)
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 2
    assert stat.S_IMODE(credentials.token_path().stat().st_mode) == 0o600  # rewritten private


def test_a_ready_token_is_neither_cached_nor_replaced(
    integ: Any, auth: tuple[AuthServer, FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _logic, server = auth
    monkeypatch.delenv("CONDUCTOR_AUTH_KEY")
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", "tok-ready")
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 0
    assert not credentials.token_path().exists()


def test_logout_all_drops_the_cache(integ: Any, auth: tuple[AuthServer, FaultServer]) -> None:
    _logic, server = auth
    assert integ("provider", "list").exit_code == 0
    assert credentials.token_path().exists()
    assert integ("auth", "logout", "--all").exit_code == 0
    assert not credentials.token_path().exists()
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 2


def test_an_unwritable_data_folder_does_not_fail_the_command(
    integ: Any, auth: tuple[AuthServer, FaultServer], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("INTEG_DATA_DIR", str(blocker / "data"))
    r = integ("provider", "list", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_the_cached_token_is_never_shown(integ: Any, auth: tuple[AuthServer, FaultServer]) -> None:
    assert integ("provider", "list").exit_code == 0
    from conductor_integrations.secrets import redact

    redact.forget_all()  # a new process: only the cache knows the token
    r = integ("provider", "list", "--debug")
    assert r.exit_code == 0
    assert "using the token cached for key kid" in r.stderr
    assert "tok-1" not in r.stdout + r.stderr


def test_a_wrong_secret_is_not_covered_up_by_the_cache(
    integ: Any, auth: tuple[AuthServer, FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _logic, server = auth
    assert integ("provider", "list").exit_code == 0
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "not-the-secret")
    r = integ("provider", "list")
    assert r.exit_code == 4
    assert "refused application key kid" in r.stderr
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 2  # the right secret again: the cached token still serves


def test_a_token_cached_without_its_secret_is_minted_again(
    integ: Any, auth: tuple[AuthServer, FaultServer]
) -> None:
    """An entry cached without its secret (as `auth login` writes them) is not trusted."""
    _logic, server = auth
    credentials.store_token(server.url, "kid", "tok-99")
    assert integ("provider", "list").exit_code == 0
    assert token_posts(server) == 1
    assert credentials.cached_token(server.url, "kid", secret=SECRET) == "tok-1"
