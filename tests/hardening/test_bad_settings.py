"""Connection settings that cannot work end in a usage error (exit 2) naming the setting,
before anything is sent; each of these was an "unexpected internal error" (exit 1).
And credentials about to cross the network in clear are warned about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.hardening.fault_server import FaultServer, Reply


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://exa mple.com",
        "http://€.com",
        "http://host:99999",
        "http://host:-1",
        "http://%zz",
        "http://" + "a" * 300 + ".com",
    ],
)
def test_a_server_url_that_cannot_be_used(integ: Any, url: str) -> None:
    r = integ("provider", "list", "--server", url, "--retries", "0", "--timeout", "2")
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith("error: server URL ")
    assert "is not a valid URL" in r.stderr.splitlines()[0]
    assert "unexpected internal error" not in r.stderr


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--timeout", "nan", "timeout must be a number of seconds above 0"),
        ("--timeout", "inf", "timeout must be a number of seconds above 0"),
        ("--timeout", "1e308", "timeout must be a number of seconds above 0"),
        ("--retries", "1000000", "retries must be from 0 to 100"),
    ],
)
def test_a_timeout_or_retries_that_cannot_be_used(
    integ: Any, serve: Callable[..., FaultServer], flag: str, value: str, said: str
) -> None:
    server = serve(Reply(200, []))
    r = integ("provider", "list", "--server", server.url, flag, value)
    assert r.exit_code == 2, r.stderr
    assert r.stderr.splitlines()[0].startswith(f"error: flag {flag}: {said}")
    assert server.requests == []


def test_the_same_from_the_environment(
    integ: Any, serve: Callable[..., FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(Reply(200, []))
    monkeypatch.setenv("INTEG_TIMEOUT", "nan")
    r = integ("provider", "list", "--server", server.url)
    assert r.exit_code == 2
    assert r.stderr.startswith("error: env INTEG_TIMEOUT: timeout must be")


@pytest.mark.parametrize("token", ["tok€-non-latin-1", "tok\nline-break", " tok-leading-space", "tok\x00nul"])
def test_a_token_that_cannot_be_sent_in_a_header(
    integ: Any, serve: Callable[..., FaultServer], token: str
) -> None:
    server = serve(Reply(200, []))
    r = integ("provider", "list", "--server", server.url, "--token", token)
    assert r.exit_code == 2, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert errors[0].startswith("error: the token holds characters that cannot be sent in a header")
    assert server.requests == []
    assert token.strip() not in r.stderr


def test_a_minted_token_that_cannot_be_sent_is_not_what_the_api_returns(
    integ: Any, serve: Callable[..., FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(Reply(200, {"token": "minted\r\nInjected: header"}))
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "key-secret-0001")
    r = integ("provider", "list", "--server", server.url, "--key-id", "kid")
    assert r.exit_code == 7
    assert "is not what the Conductor API returns (a token that cannot be sent in a header)" in r.stderr
    assert server.paths() == ["POST /api/token"]  # and nothing sent with it


@pytest.mark.parametrize(
    ("server", "credential", "warned"),
    [
        ("http://conductor.example.com", {"CONDUCTOR_AUTH_TOKEN": "tok-0001"}, True),
        ("http://10.1.2.3:8080", {"CONDUCTOR_AUTH_KEY": "kid", "CONDUCTOR_AUTH_SECRET": "s-0001"}, True),
        ("https://conductor.example.com", {"CONDUCTOR_AUTH_TOKEN": "tok-0001"}, False),
        ("http://127.0.0.1:9", {"CONDUCTOR_AUTH_TOKEN": "tok-0001"}, False),
        ("http://localhost:9", {"CONDUCTOR_AUTH_TOKEN": "tok-0001"}, False),
        ("http://[::1]:9", {"CONDUCTOR_AUTH_TOKEN": "tok-0001"}, False),
        ("http://conductor.example.com", {}, False),
    ],
)
def test_credentials_over_plain_http_are_warned_about(
    integ: Any, monkeypatch: pytest.MonkeyPatch, server: str, credential: dict[str, str], warned: bool
) -> None:
    for name, value in credential.items():
        monkeypatch.setenv(name, value)
    import requests

    from conductor_integrations.client import api

    def refuse(*_: Any, **__: Any) -> Any:  # no real network: every request fails at once
        raise requests.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(api.requests.Session, "send", refuse)
    r = integ("provider", "list", "--server", server, "--retries", "0")
    assert r.exit_code == 7
    said = "is plain http://" in r.stderr and "unencrypted" in r.stderr
    assert said is warned, r.stderr


def test_a_token_on_the_command_line_is_warned_about(
    integ: Any, serve: Callable[..., FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(Reply(200, []), Reply(200, []))
    r = integ("provider", "list", "--server", server.url, "--token", "tok-on-argv-0001")
    assert r.exit_code == 0
    assert "warning: --token: a token on the command line is kept in shell history" in r.stderr
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", "tok-in-env-0001")
    r = integ("provider", "list", "--server", server.url)
    assert r.exit_code == 0
    assert "warning" not in r.stderr
