"""``integ server``: the failures it reports before it starts serving (the serving itself
is covered end to end in tests/e2e)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conductor_integrations.sandbox import RunningSandbox


def test_malformed_auth_is_a_usage_error(integ: Any, tmp_path: Path) -> None:
    result = integ("server", "--port", "0", "--data", str(tmp_path / "s.db"), "--auth", "only-an-id")
    assert result.exit_code == 2
    assert "--auth: expected KEY_ID:SECRET or KEY_ID:SECRET:read" in result.stderr


def test_a_port_in_use_exits_7(integ: Any, tmp_path: Path, sandbox: RunningSandbox) -> None:
    result = integ("server", "--port", str(sandbox.port), "--data", str(tmp_path / "other.db"))
    assert result.exit_code == 7
    assert f"port {sandbox.port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port 0" in result.stderr


def test_an_unusable_data_file_exits_3(integ: Any, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("plain text, not SQLite\n" * 50)
    result = integ("server", "--port", "0", "--data", str(bad))
    assert result.exit_code == 3
    assert "cannot use the sandbox data file" in result.stderr
    assert "--data" in result.stderr


def test_port_out_of_range_is_a_usage_error(integ: Any) -> None:
    result = integ("server", "--port", "70000")
    assert result.exit_code == 2
    assert "between 0 and 65535" in result.stderr


def test_help_names_the_options(integ: Any) -> None:
    result = integ("server", "--help")
    assert result.exit_code == 0
    for option in ("--host", "--port", "--data", "--auth", "KEY_ID:SECRET[:read]", "--quiet"):
        assert option in result.stdout
