"""``integ server``: the failures it reports before it starts serving (the serving itself
is covered end to end in tests/e2e)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.store import Store, StoreError


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


def plant_link(tmp_path: Path, suffix: str) -> tuple[Path, Path]:
    """A file of someone else's, open to others, and ``lnk.db`` (or its ``-wal``/``-shm``)
    as a symbolic link to it."""
    victim = tmp_path / "victim.txt"
    victim.write_text("someone else's notes\n")
    victim.chmod(0o644)
    data = tmp_path / "lnk.db"
    Path(f"{data}{suffix}").symlink_to(victim)
    return data, victim


def assert_untouched(victim: Path) -> None:
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert victim.read_text() == "someone else's notes\n"


@pytest.mark.skipif(os.name != "posix", reason="file modes and symlinks are POSIX")
@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"], ids=["data", "wal", "shm"])
def test_a_symlinked_data_file_is_refused_and_its_target_untouched(tmp_path: Path, suffix: str) -> None:
    data, victim = plant_link(tmp_path, suffix)
    with pytest.raises(StoreError, match="symbolic link"):
        Store(data)
    assert_untouched(victim)


@pytest.mark.skipif(os.name != "posix", reason="symlinks are POSIX")
def test_integ_server_on_a_symlink_exits_3(integ: Any, tmp_path: Path) -> None:
    data, victim = plant_link(tmp_path, "")
    result = integ("server", "--port", "0", "--data", str(data))
    assert result.exit_code == 3
    assert "is a symbolic link" in result.stderr
    assert "--data" in result.stderr
    assert_untouched(victim)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_data_file_open_to_others_is_still_made_private(tmp_path: Path) -> None:
    data = tmp_path / "s.db"
    Store(data).close()
    data.chmod(0o644)
    Store(data).close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o600
