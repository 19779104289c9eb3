"""Global options before and after the subcommand, with the real ``integ`` process against
the real ``integ server`` process."""

from __future__ import annotations

import pytest

from .conftest import ServerProcess, run_integ

pytestmark = pytest.mark.e2e

#: the environment names a server that is not there: only the flags can reach the sandbox
NOWHERE = {"CONDUCTOR_SERVER_URL": "http://127.0.0.1:9", "OPENAI_KEY": "sk-e2e-global-0001"}


def test_server_and_output_before_or_after_the_subcommand(server: ServerProcess) -> None:
    put = run_integ(
        "--server", server.url, "--retries", "0",
        "provider", "put", "demo", "-t", "openai", "-c", "api_key=${env:OPENAI_KEY}",
        **NOWHERE,
    )  # fmt: skip
    assert put.code == 0, put.stderr
    assert "created" in put.stderr
    before = run_integ("--server", server.url, "-o", "json", "provider", "list", **NOWHERE)
    after = run_integ("provider", "list", "--server", server.url, "-o", "json", **NOWHERE)
    assert before.code == after.code == 0, before.stderr + after.stderr
    assert [p["name"] for p in before.json()] == ["demo"]
    assert before.json() == after.json()
    assert "sk-e2e-global-0001" not in before.stdout + after.stdout


def test_the_flag_after_the_subcommand_wins(server: ServerProcess) -> None:
    r = run_integ(
        "--server", "http://127.0.0.1:9", "--retries", "0", "-o", "yaml",
        "provider", "list", "--server", server.url, "-o", "json",
        **NOWHERE,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert r.json() == []
    unreachable = run_integ(
        "--server", server.url, "provider", "list", "--server", "http://127.0.0.1:9", "--retries", "0"
    )
    assert unreachable.code == 7, unreachable.stderr
