"""The real ``integ`` process against the real ``integ server`` process (contract sections
2-4): put/get/list/delete, type change, token auth, read-only keys, restart persistence and
many concurrent writers."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import DEADLINE, INTEG, Run, ServerProcess, base_env, run_integ

pytestmark = pytest.mark.e2e

KEY = {"OPENAI_KEY": "sk-e2e-secret-value"}
PUT = ["provider", "put", "openai-prod", "-t", "openai", "-c", "api_key=${env:OPENAI_KEY}"]


def token_for(server: ServerProcess, key_id: str, secret: str) -> str:
    body = json.dumps({"keyId": key_id, "keySecret": secret}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        token = json.loads(reply.read())["token"]
    assert isinstance(token, str)
    return token


def test_put_get_list_delete(integ: Callable[..., Run]) -> None:
    created = integ(*PUT, "-d", "first", **KEY)
    assert created.code == 0, created.stderr
    assert "created" in created.stderr
    updated = integ(*PUT, "-d", "second", "--disabled", **KEY)
    assert updated.code == 0, updated.stderr
    assert "updated" in updated.stderr

    got = integ("provider", "get", "openai-prod", "-o", "json")
    assert got.code == 0, got.stderr
    provider = got.json()
    assert (provider["name"], provider["type"], provider["category"]) == ("openai-prod", "openai", "AI_MODEL")
    assert (provider["description"], provider["enabled"]) == ("second", False)
    assert "sk-e2e-secret-value" not in got.stdout + got.stderr

    listed = integ("provider", "list", "-o", "json")
    assert listed.code == 0, listed.stderr
    assert [p["name"] for p in listed.json()] == ["openai-prod"]  # disabled ones included
    active = integ("provider", "list", "--active-only", "-o", "json")
    assert active.code == 0, active.stderr
    assert active.json() == []

    deleted = integ("provider", "delete", "openai-prod", "--yes")
    assert deleted.code == 0, deleted.stderr
    missing = integ("provider", "get", "openai-prod")
    assert missing.code == 5
    assert "openai-prod" in missing.stderr


def test_type_change_is_refused(integ: Callable[..., Run]) -> None:
    assert integ(*PUT, **KEY).code == 0
    changed = integ("provider", "put", "openai-prod", "-t", "anthropic", "-c", "api_key=${env:K}",
                    "-c", "endpoint=https://api.anthropic.com/v1", K="k")  # fmt: skip
    assert changed.code == 6
    assert "type" in changed.stderr
    assert integ("provider", "get", "openai-prod", "-o", "json").json()["type"] == "openai"


def test_unknown_provider_and_unreachable_server(integ: Callable[..., Run]) -> None:
    assert integ("provider", "delete", "nope", "--yes").code == 5
    down = run_integ("provider", "list", CONDUCTOR_SERVER_URL="http://127.0.0.1:9", INTEG_RETRIES="0")
    assert down.code == 7


def test_token_auth(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--quiet", "--auth", "ci:s3cret")
    url = {"CONDUCTOR_SERVER_URL": server.url}
    with_key = {**url, "CONDUCTOR_AUTH_KEY": "ci", "CONDUCTOR_AUTH_SECRET": "s3cret"}
    put = run_integ(*PUT, **with_key, **KEY)
    assert put.code == 0, put.stderr
    got = run_integ("provider", "get", "openai-prod", "-o", "json", **with_key)
    assert got.code == 0, got.stderr
    assert got.json()["createdBy"] == "ci"
    assert "s3cret" not in got.stdout + got.stderr

    token = token_for(server, "ci", "s3cret")
    assert run_integ("provider", "list", **url, CONDUCTOR_AUTH_TOKEN=token).code == 0

    anonymous = run_integ("provider", "list", **url)
    assert anonymous.code == 4
    wrong = run_integ("provider", "list", **url, CONDUCTOR_AUTH_KEY="ci", CONDUCTOR_AUTH_SECRET="wrong")
    assert wrong.code == 4
    assert "wrong" not in wrong.stderr


def test_expired_tokens_are_refused(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--quiet", "--auth", "ci:s3cret", "--token-ttl", "0")
    env = {"CONDUCTOR_SERVER_URL": server.url, "CONDUCTOR_AUTH_KEY": "ci", "CONDUCTOR_AUTH_SECRET": "s3cret"}
    result = run_integ("provider", "list", **env)
    assert result.code == 4
    assert "expired" in result.stderr.lower()


def test_read_only_key_gets_403_on_writes(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--quiet", "--auth", "ci:s3cret", "--auth", "viewer:v1ew:read")
    url = {"CONDUCTOR_SERVER_URL": server.url}
    writer = {**url, "CONDUCTOR_AUTH_KEY": "ci", "CONDUCTOR_AUTH_SECRET": "s3cret"}
    reader = {**url, "CONDUCTOR_AUTH_KEY": "viewer", "CONDUCTOR_AUTH_SECRET": "v1ew"}
    assert run_integ(*PUT, **writer, **KEY).code == 0
    refused = run_integ(*PUT, "--disabled", **reader, **KEY)
    assert refused.code == 4
    assert "may only read" in refused.stderr
    assert run_integ("provider", "delete", "openai-prod", "--yes", **reader).code == 4
    listed = run_integ("provider", "list", "-o", "json", **reader)
    assert listed.code == 0, listed.stderr
    assert [(p["name"], p["enabled"]) for p in listed.json()] == [("openai-prod", True)]


def test_apply_with_a_read_only_key_says_each_403_once(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start_server("--quiet", "--auth", "ci:s3cret", "--auth", "viewer:v1ew:read")
    viewer = {"CONDUCTOR_AUTH_KEY": "viewer", "CONDUCTOR_AUTH_SECRET": "v1ew"}
    reader = {**viewer, "CONDUCTOR_SERVER_URL": server.url}
    f = tmp_path / "fleet.yaml"
    f.write_text(
        "- {name: openai-prod, type: openai, configuration: {api_key: '${env:OPENAI_KEY}'}}\n"
        "- {name: openai-dev, type: openai, configuration: {api_key: '${env:OPENAI_KEY}'}}\n"
    )
    summary = "0 created, 0 updated, 0 unchanged, 2 failed\n"
    table = run_integ("provider", "apply", str(f), **reader, **KEY)
    assert (table.code, table.stderr) == (4, summary)
    assert table.stdout.count("may only read") == 2  # one line below the table per provider
    for name in ("openai-prod", "openai-dev"):
        assert f"\n{name}: HTTP 403 from POST" in table.stdout
    machine = run_integ("provider", "apply", str(f), "-o", "json", **reader, **KEY)
    assert (machine.code, machine.stderr) == (4, summary)
    assert [("may only read" in x["error"]) for x in machine.json()] == [True, True]
    assert machine.stdout.count("may only read") == 2


def test_state_survives_a_server_restart(start_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    first = start_server("--quiet")
    assert run_integ(*PUT, "-d", "kept", CONDUCTOR_SERVER_URL=first.url, **KEY).code == 0
    assert first.stop() == 0
    second = start_server("--quiet")
    got = run_integ("provider", "get", "openai-prod", "-o", "json", CONDUCTOR_SERVER_URL=second.url)
    assert got.code == 0, got.stderr
    assert got.json()["description"] == "kept"


def test_many_concurrent_integ_processes_lose_nothing(server: ServerProcess, tmp_path: Path) -> None:
    writers = 10
    env = base_env(CONDUCTOR_SERVER_URL=server.url, **KEY)
    procs = [
        subprocess.Popen(
            [*INTEG, *PUT[:2], f"p{i:02}", *PUT[3:], "-d", f"writer {i}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(writers)
    ]
    results = [(p.wait(timeout=DEADLINE), p.communicate()[1]) for p in procs]
    assert [code for code, _ in results] == [0] * writers, results
    listed = run_integ("provider", "list", "-o", "json", CONDUCTOR_SERVER_URL=server.url)
    assert sorted((p["name"], p["description"]) for p in listed.json()) == [
        (f"p{i:02}", f"writer {i}") for i in range(writers)
    ]


def test_concurrent_applies_lose_nothing(server: ServerProcess, tmp_path: Path) -> None:
    folders = []
    for f in range(4):
        folder = tmp_path / f"team{f}"
        folder.mkdir()
        for i in range(10):
            (folder / f"p{i}.yaml").write_text(
                f"name: team{f}-p{i}\ntype: openai\nconfiguration:\n  api_key: ${{env:OPENAI_KEY}}\n"
            )
        folders.append(folder)
    env = base_env(CONDUCTOR_SERVER_URL=server.url, **KEY)
    procs = [
        subprocess.Popen(
            [*INTEG, "provider", "apply", "-f", str(folder), "--concurrency", "4"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for folder in folders
    ]
    results = [(p.wait(timeout=DEADLINE), p.communicate()[1]) for p in procs]
    assert [code for code, _ in results] == [0] * len(folders), results
    listed = run_integ("provider", "list", "-o", "json", CONDUCTOR_SERVER_URL=server.url)
    assert len(listed.json()) == 40


def test_server_local_keeps_state_between_commands() -> None:
    put = run_integ(*PUT, "--server", "local", **KEY)
    assert put.code == 0, put.stderr
    got = run_integ("provider", "get", "openai-prod", "--server", "local", "-o", "json")
    assert got.code == 0, got.stderr
    assert got.json()["type"] == "openai"
    listed = run_integ("provider", "list", "-o", "json", CONDUCTOR_SERVER_URL="local")
    assert [p["name"] for p in listed.json()] == ["openai-prod"]
