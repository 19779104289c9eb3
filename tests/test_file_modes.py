"""integ's folders are 0700 and its files 0600 whatever the umask; an existing sandbox data
file (and its -wal/-shm) is brought to 0600, or refused when it cannot be."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations import config
from conductor_integrations.sandbox import SandboxError, serve_in_background
from conductor_integrations.secrets import private_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_every_file_and_folder_is_private_under_umask_000(
    integ: Any, tmp_path: Path, open_umask: None
) -> None:
    doc = tmp_path / "p.yaml"
    doc.write_text("name: p\ntype: openai\nconfiguration:\n  api_key: sk-modes-1\n", "utf-8")
    r = integ("provider", "apply", "-f", str(doc), "--server", "local")
    assert r.exit_code == 0, r.output
    r = integ("secret", "set", "p", "api_key", input="sk-modes-2\n")
    assert r.exit_code == 0, r.output
    private_files.store_token("http://conductor.example", "key", "tok-modes-3")
    config.write_profile(config.config_file(), "default", {"server": "http://conductor.example"})

    folders = [config.data_dir(), config.config_dir()]
    names = {p.name for folder in folders for p in folder.iterdir()}
    assert {
        "sandbox.db",
        "applied-secrets.json",
        "known-providers",
        "secret-names.json",
        "tokens.json",
    } <= names
    assert "config.yaml" in names
    for folder in folders:
        assert mode(folder) == 0o700, folder
        for path in folder.rglob("*"):
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_an_existing_data_file_is_brought_to_0600(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    keep = sqlite3.connect(db)  # holds -wal and -shm open
    try:
        keep.execute("PRAGMA journal_mode = WAL")
        keep.execute("CREATE TABLE t (x)")
        keep.execute("INSERT INTO t VALUES (1)")
        keep.commit()
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        for path in files:
            assert path.exists(), path
            path.chmod(0o644)
        with serve_in_background(db):
            for path in files:
                assert mode(path) == 0o600, path
    finally:
        keep.close()


def test_a_data_file_that_cannot_be_made_private_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "sandbox.db"
    db.touch()
    db.chmod(0o666)

    def refuse(*args: Any) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchmod", refuse)
    monkeypatch.setattr(os, "chmod", refuse)
    with pytest.raises(SandboxError, match="readable by others") as caught:
        serve_in_background(db)
    assert "0666" in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_data_file_of_another_user_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    db.touch(mode=0o600)
    os.chown(db, 65534, 65534)
    with pytest.raises(SandboxError, match="another user"):
        serve_in_background(db)


def test_data_in_a_missing_folder_is_an_error(integ: Any, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "x.db"
    with pytest.raises(SandboxError, match="no such folder"):
        serve_in_background(missing)
    r = integ("server", "--port", "0", "--data", str(missing))
    assert r.exit_code == 3, r.output
    assert "no such folder" in r.stderr
    assert not missing.parent.exists()
