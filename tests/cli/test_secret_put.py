"""`integ provider put` with secrets from the keyring: sent, never shown; and the clear
failure (exit 3, every way to supply the key) when there is no keyring and no terminal."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import pytest
import responses

from conductor_integrations.secrets import credentials
from tests.conftest import MemoryKeyring

SERVER = "https://conductor.example.com"
URL = f"{SERVER}/api/integrations/provider/openai-prod"
STORED = "sk-stored-in-the-keyring-4821"


@pytest.fixture(autouse=True)
def fresh_credentials() -> Iterator[None]:
    credentials.reset()
    yield
    credentials.reset()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", SERVER)
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", "eyJ-token-for-tests")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def stored(memory_keyring: MemoryKeyring) -> MemoryKeyring:
    memory_keyring.store[(credentials.SERVICE, "openai-prod/api_key")] = STORED
    return memory_keyring


def saved(body: dict[str, Any]) -> dict[str, Any]:
    return {"name": "openai-prod", **body, "configuration": {"api_key": "xxxxxxxxxx"}}


@pytest.mark.parametrize("fmt", [(), ("-o", "json"), ("-o", "yaml"), ("--debug",)])
def test_put_sends_the_stored_key_and_never_shows_it(
    integ: Any, server: responses.RequestsMock, stored: MemoryKeyring, fmt: tuple[str, ...]
) -> None:
    server.get(URL, status=404, json={"status": 404, "message": "Integration openai-prod not found"})
    sent: list[dict[str, Any]] = []

    def accept(request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        sent.append(body)
        return 200, {}, json.dumps(saved(body))

    server.add_callback(responses.POST, URL, callback=accept, content_type="application/json")
    r = integ("provider", "put", "openai-prod", "-t", "openai", *fmt)
    assert r.exit_code == 0, r.stderr
    assert sent == [{"type": "openai", "category": "AI_MODEL", "configuration": {"api_key": STORED}}]
    assert STORED not in r.output
    if fmt == ("--debug",):
        assert "POST https://conductor.example.com/api/integrations/provider/openai-prod" in r.stderr
        assert '"api_key": "********"' in r.stderr


def test_put_dry_run_masks_the_stored_key(integ: Any, stored: MemoryKeyring) -> None:
    r = integ("provider", "put", "openai-prod", "-t", "openai", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert STORED not in r.output
    assert "********" in r.stdout


def test_put_masks_the_key_when_the_server_echoes_it(
    integ: Any, server: responses.RequestsMock, stored: MemoryKeyring
) -> None:
    server.get(URL, status=404, json={"status": 404, "message": "not found"})
    server.post(URL, status=400, json={"status": 400, "message": f"invalid api_key {STORED}"})
    r = integ("provider", "put", "openai-prod", "-t", "openai")
    assert r.exit_code == 6
    assert "invalid api_key ********" in r.stderr
    assert STORED not in r.output


def test_put_without_keyring_or_terminal_fails_with_every_way(
    integ: Any, server: responses.RequestsMock
) -> None:
    server.get(URL, status=404)  # a create: the secret is needed
    keyring.set_keyring(keyring.backends.fail.Keyring())
    started = time.monotonic()
    r = integ("provider", "put", "openai-prod", "-t", "openai")  # stdin is not a terminal
    assert time.monotonic() - started < 10
    assert r.exit_code == 3
    assert r.stderr.count("no keyring backend") == 1
    assert "integ secret set" not in r.stderr  # it would need the keyring that is not there
    assert "${env:VAR}" in r.stderr and "stdin" in r.stderr
    assert "-c api_key=@file" in r.stderr


class StuckKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(60)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(60)


def test_put_with_a_stuck_keyring_ends_within_seconds(
    integ: Any, server: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.get(URL, status=404)
    monkeypatch.setenv("INTEG_KEYRING_TIMEOUT", "1")
    ring = StuckKeyring()
    keyring.set_keyring(ring)
    started = time.monotonic()
    try:
        r = integ("provider", "put", "openai-prod", "-t", "openai")
    finally:
        ring.release.set()
    assert time.monotonic() - started < 10
    assert r.exit_code == 3
    assert "did not answer within 1 s" in r.stderr
    assert "unlock the keyring" in r.stderr and "-c api_key=@file" in r.stderr


def test_put_in_ci_does_not_touch_the_keyring(
    integ: Any, server: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, stored: MemoryKeyring
) -> None:
    server.get(URL, status=404)
    monkeypatch.setenv("CI", "true")
    r = integ("provider", "put", "openai-prod", "-t", "openai")
    assert r.exit_code == 3
    assert "openai requires 'api_key'" in r.stderr


def test_put_on_a_provider_holding_the_secret_asks_for_nothing(
    integ: Any, server: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # neither keyring nor terminal
    server.get(URL, json=saved({"type": "openai", "category": "AI_MODEL", "enabled": True}))
    server.post(URL)
    r = integ("provider", "put", "openai-prod", "-t", "openai", "-d", "for the team")
    assert r.exit_code == 0, r.stderr
    assert json.loads(server.calls[1].request.body)["configuration"] == {"api_key": "xxxxxxxxxx"}


def test_literal_secret_on_the_command_line_is_warned_about(integ: Any) -> None:
    r = integ(
        "provider", "put", "openai-prod", "-t", "openai", "-c", "api_key=sk-literal-on-argv", "--dry-run"
    )
    assert r.exit_code == 0, r.stderr
    assert "-c api_key: a secret given on the command line" in r.stderr
    assert "sk-literal-on-argv" not in r.output
