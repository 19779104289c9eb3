"""`integ provider`: one test per exit code, secrets on every output path, and the
built-in sandbox across two commands."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from conductor_integrations.cli import provider as provider_cli
from conductor_integrations.secrets import redact
from tests.cli.provider_stubs import (
    API,
    TOKEN,
    URL,
    closed_port,
    live,
    record_sleeps,
    stub_server,
)


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    yield from stub_server(monkeypatch)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_sleeps(monkeypatch)


# -- one test per exit code ------------------------------------------------------------------------


def test_exit_0_success(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, json=live())
    assert integ("provider", "get", "openAI-marketing").exit_code == 0


def test_exit_2_no_server_configured(integ: Any) -> None:
    r = integ("provider", "list")
    assert r.exit_code == 2
    for way in ("--server URL", "CONDUCTOR_SERVER_URL", "integ auth login", "--server local"):
        assert way in r.stderr


@pytest.mark.parametrize("given", ["=sk-live-Q9f3-secret", "sk-live-Q9f3-secret"])
@pytest.mark.parametrize(
    "command", [["provider", "put", "p1", "-t", "openai", "--dry-run"], ["model", "put", "p1", "gpt-4o"]]
)
def test_exit_2_malformed_config_flag_without_echoing_it(integ: Any, command: list[str], given: str) -> None:
    r = integ(*command, "-c", given, "--server", "http://127.0.0.1:9")
    assert r.exit_code == 2
    assert "KEY=VALUE" in r.stderr or "key before =" in r.stderr
    assert "Q9f3" not in r.output


def test_exit_2_unknown_option(integ: Any) -> None:
    assert integ("provider", "list", "--no-such-option").exit_code == 2


def test_exit_3_invalid_input(integ: Any, mock: responses.RequestsMock, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert integ("provider", "put", "-f", str(bad)).exit_code == 3
    assert not mock.calls


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 6, "Invalid configuration for openai"),
        (403, 4, "User does not have permission to update integrations"),
        (401, 4, "Unauthorized"),
        (404, 5, "openai is not a recognised integration type"),
        (409, 6, "Conflict"),
    ],
)
def test_server_statuses_give_their_exit_codes_with_the_server_message(
    status: int, code: int, message: str, integ: Any, mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    mock.get(URL, status=404)
    mock.post(URL, status=status, json={"status": status, "message": message, "retryable": False})
    r = integ("provider", "put", "openAI-marketing", "-t", "openai", "-c", "api_key=${env:HOME}")
    assert r.exit_code == code
    assert f"error: HTTP {status} from POST {URL}: {message}" in r.stderr
    assert sleeps == []  # never retried
    assert len(mock.calls) == 2


def test_exit_7_after_retries_of_503(integ: Any, mock: responses.RequestsMock, sleeps: list[float]) -> None:
    for _ in range(4):
        mock.get(f"{API}/integrations/provider", status=503)
    r = integ("provider", "list")
    assert r.exit_code == 7
    assert "HTTP 503" in r.stderr and "after 3 retries" in r.stderr
    assert len(sleeps) == 3


def test_503_then_200_succeeds(integ: Any, mock: responses.RequestsMock, sleeps: list[float]) -> None:
    mock.get(f"{API}/integrations/provider", status=503)
    mock.get(f"{API}/integrations/provider", json=[live()])
    r = integ("provider", "list", "-o", "json")
    assert r.exit_code == 0
    assert len(sleeps) == 1


def test_exit_7_html_instead_of_the_api(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, body="<!doctype html><title>Conductor UI</title>", content_type="text/html")
    r = integ("provider", "get", "openAI-marketing")
    assert r.exit_code == 7
    assert "not what the Conductor API returns (an HTML page)" in r.stderr


def test_exit_7_unreachable_server(integ: Any, sleeps: list[float]) -> None:
    port = closed_port()
    r = integ("provider", "list", "--server", f"http://127.0.0.1:{port}")
    assert r.exit_code == 7
    assert f"cannot reach the server at http://127.0.0.1:{port}: connection refused" in r.stderr
    assert len(sleeps) == 3


def test_exit_7_unreachable_server_real_process_without_retries() -> None:
    port = closed_port()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "conductor_integrations",
            "provider",
            "list",
            "--server",
            f"http://127.0.0.1:{port}",
            "--retries",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 7
    assert "connection refused" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_declined_delete_is_no_error(
    integ: Any, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Declining is an answer, not a failure (as kubectl's --interactive): exit 0, nothing sent."""
    monkeypatch.setattr(provider_cli, "stdin_is_terminal", lambda: True)
    r = integ("provider", "delete", "x", input="n\n")
    assert r.exit_code == 0
    assert r.stderr.endswith("nothing deleted\n")
    assert "error" not in r.stderr
    assert not mock.calls


# -- secrets never reach stdout or stderr ----------------------------------------------------------

SECRET = "sk-TOPSECRET-9f8e7d"
KEY_SECRET = "app-key-secret-5c4b"


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
@pytest.mark.parametrize("debug", [False, True], ids=["quiet", "debug"])
def test_no_secret_reaches_any_output(
    fmt: str,
    debug: bool,
    integ: Any,
    mock: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
) -> None:
    monkeypatch.delenv("CONDUCTOR_AUTH_TOKEN")
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "key-1")
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", KEY_SECRET)
    monkeypatch.setenv("OPENAI_KEY", SECRET)
    extra = ["-o", fmt] + (["--debug"] if debug else [])
    echoed = {"name": "openAI-marketing", "type": "openai", "configuration": {"api_key": SECRET}}
    mock.post(f"{API}/token", json={"token": TOKEN})
    mock.get(URL, status=404)
    mock.post(URL, json=echoed)  # a server that echoes the secret back
    mock.get(URL, status=404)  # the dry run reads the live provider
    mock.get(URL, json=echoed)
    mock.get(f"{API}/integrations/provider", json=[echoed])
    mock.get(URL, status=404)
    mock.post(
        URL,
        status=400,
        json={
            "message": f"bad api_key {SECRET}",
            "validationErrors": [
                {"path": "configuration.api_key", "message": f"{SECRET} is invalid", "invalidValue": SECRET}
            ],
        },
    )
    put = ("provider", "put", "openAI-marketing", "-t", "openai")
    commands = [
        (*put, "-c", "api_key=${env:OPENAI_KEY}"),
        (*put, "-c", f"api_key={SECRET}", "--dry-run"),
        ("provider", "get", "openAI-marketing"),
        ("provider", "list"),
        (*put, "-c", f"api_key={SECRET}"),
    ]
    runs = []
    for command in commands:
        redact.forget_all()  # each command is a new process: it knows only the secrets it meets
        runs.append(integ(*command, *extra))
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 6]
    for r in runs:
        for secret in (SECRET, KEY_SECRET, TOKEN):
            assert secret not in r.output
    assert "********" in runs[1].stdout
    if debug:
        assert "X-Authorization: ********" in runs[0].stderr
        assert '"keySecret": "********"' in runs[0].stderr


# -- the built-in sandbox ------------------------------------------------------------------------


def test_put_then_get_on_the_local_sandbox_in_two_commands(
    integ: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-0001")
    put = integ(
        "provider",
        "put",
        "openAI-marketing",
        "-t",
        "openai",
        "-d",
        "OpenAI account for the marketing team",
        "-c",
        "api_key=${env:OPENAI_API_KEY}",
        "--server",
        "local",
        "-o",
        "json",
    )
    assert put.exit_code == 0, put.stderr
    assert put.json() == {"name": "openAI-marketing", "type": "openai", "action": "created"}
    got = integ("provider", "get", "openAI-marketing", "--server", "local", "-o", "json")
    assert got.exit_code == 0, got.stderr
    data = got.json()
    assert (data["name"], data["type"], data["category"]) == ("openAI-marketing", "openai", "AI_MODEL")
    assert data["description"] == "OpenAI account for the marketing team"
    assert data["configuration"] == {"api_key": "********"}
    again = integ("provider", "put", "openAI-marketing", "--disabled", "--server", "local", "-o", "json")
    assert again.json()["action"] == "updated"
    listed = integ("provider", "list", "--server", "local", "-o", "json")
    assert [(p["name"], p["enabled"]) for p in listed.json()] == [("openAI-marketing", False)]
    assert "sk-local-0001" not in put.output + got.output + listed.output


@pytest.mark.e2e
def test_local_sandbox_real_process(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "INTEG_DATA_DIR": str(tmp_path / "data"), "INTEG_CONFIG_DIR": str(tmp_path / "c")}
    env.pop("CONDUCTOR_SERVER_URL", None)
    cmd = [sys.executable, "-m", "conductor_integrations", "provider"]
    put = subprocess.run(
        [*cmd, "put", "g", "-t", "grok", "-c", "api_key=@/dev/stdin", "--server", "local"],
        input="xai-e2e-secret\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert put.returncode == 0, put.stderr
    got = subprocess.run(
        [*cmd, "get", "g", "--server", "local", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["type"] == "grok"
    assert "xai-e2e-secret" not in put.stdout + put.stderr + got.stdout + got.stderr
