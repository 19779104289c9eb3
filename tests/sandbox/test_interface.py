"""``serve_in_background``: the interface ``--server local`` is built on."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conductor_integrations.sandbox import SandboxError, default_data_path, serve_in_background

from .conftest import OPENAI, Client


def test_url_has_no_api_suffix_and_the_server_answers(tmp_path: Path) -> None:
    with serve_in_background(tmp_path / "s.db") as sandbox:
        assert sandbox.url == f"http://127.0.0.1:{sandbox.port}"
        assert sandbox.port > 0
        reply = requests.get(f"{sandbox.url}/api/integrations/provider", timeout=10)
        assert reply.status_code == 200
        assert reply.json() == []


def test_stop_closes_the_port_and_is_idempotent(tmp_path: Path) -> None:
    sandbox = serve_in_background(tmp_path / "s.db")
    session = requests.Session()  # keeps an idle keep-alive connection open
    assert session.get(f"{sandbox.url}/api/integrations/def", timeout=10).status_code == 200
    sandbox.stop()
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.url}/api/integrations/provider", timeout=10)
    session.close()


def test_default_data_path_is_in_the_data_folder(tmp_path: Path) -> None:
    # conftest's autouse fixture points INTEG_DATA_DIR at tmp_path / "data"
    assert default_data_path() == tmp_path / "data" / "sandbox.db"
    with serve_in_background() as sandbox:
        assert sandbox.data_path == default_data_path()
        Client(sandbox.url).post("/integrations/provider/p", json=OPENAI).raise_for_status()
    assert default_data_path().is_file()
    with serve_in_background() as again:
        assert Client(again.url).get("/integrations/provider/p").status_code == 200


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_new_data_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "s.db"
    path.parent.mkdir()  # --data never creates folders
    with serve_in_background(path) as sandbox:
        Client(sandbox.url).post("/integrations/provider/p", json=OPENAI).raise_for_status()
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    assert modes["s.db"] == 0o600
    assert {"s.db-wal", "s.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}  # the -wal and -shm files too, while open


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with serve_in_background(tmp_path / "s.db") as sandbox:
        taken = sandbox.port
        with pytest.raises(SandboxError, match=f"port {taken} .* already in use"):
            serve_in_background(tmp_path / "other.db", port=taken)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not sqlite " * 100)
    with pytest.raises(SandboxError, match="cannot use the sandbox data file"):
        serve_in_background(bad)


def test_malformed_auth_entry_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="KEY_ID:SECRET"):
        serve_in_background(tmp_path / "s.db", auth=["no-secret"])


def test_importing_the_sandbox_is_cheap() -> None:
    code = (
        "import sys, conductor_integrations.sandbox as s\n"
        "heavy = [m for m in ('requests', 'keyring', 'rich', 'http.server', 'sqlite3') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
