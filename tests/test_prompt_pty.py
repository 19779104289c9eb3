"""The hidden prompt through a real pseudo-terminal: the typed secret is never echoed.

The child runs ``python -m conductor_integrations`` with the pty as its controlling
terminal and stdin/stdout/stderr, and a keyring backend (below) that keeps its entries in a
JSON file, chosen with ``PYTHON_KEYRING_BACKEND`` as a user would.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import keyring.backend
import keyring.errors
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ROOT = Path(__file__).resolve().parents[1]
FILE_ENV = "INTEG_TEST_KEYRING_FILE"


class FileKeyring(keyring.backend.KeyringBackend):
    """A keyring in a JSON file named by ``INTEG_TEST_KEYRING_FILE`` (for child processes)."""

    priority = 1  # type: ignore[assignment]

    def _load(self) -> dict[str, str]:
        path = Path(os.environ[FILE_ENV])
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, data: dict[str, str]) -> None:
        Path(os.environ[FILE_ENV]).write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\t{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\t{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\t{username}", None) is None:
            raise keyring.errors.PasswordDeleteError("not found")
        self._save(data)


def _controlling_terminal() -> None:  # runs in the child before exec
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """``integ`` running on a pseudo-terminal; everything it shows is kept in ``screen``."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "conductor_integrations", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=str(ROOT),
            preexec_fn=_controlling_terminal,
        )
        os.close(slave)
        self.screen = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.screen += chunk.decode("utf-8", "replace")
        return True

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} never appeared; screen: {self.screen!r}"
            assert self._read(0.2), f"the command ended before {text!r}; screen: {self.screen!r}"

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self._read(0.2):
            assert time.monotonic() < deadline, f"still running; screen: {self.screen!r}"
        code = self.proc.wait(timeout=timeout)
        os.close(self.master)
        return code


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "INTEG_")) and k != "CI"}
    env.update(
        INTEG_CONFIG_DIR=str(tmp_path / "config"),
        INTEG_DATA_DIR=str(tmp_path / "data"),
        PYTHON_KEYRING_BACKEND=f"{__name__}.FileKeyring",
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
        TERM="dumb",
    )
    env[FILE_ENV] = str(tmp_path / "keyring.json")
    return env


def stored(env: dict[str, str]) -> dict[str, str]:
    path = Path(env[FILE_ENV])
    return json.loads(path.read_text()) if path.exists() else {}


def test_secret_set_prompts_without_echo(child_env: dict[str, str]) -> None:
    secret = "sk-typed-on-a-terminal-Q7"
    term = Terminal(["secret", "set", "demo", "api_key"], child_env)
    term.expect("api_key for demo (input hidden): ")
    term.type(secret + "\n")
    assert term.finish() == 0, term.screen
    assert "stored demo/api_key in the keyring" in term.screen
    assert secret not in term.screen
    assert stored(child_env) == {"conductor-integrations\tdemo/api_key": secret}


def test_put_asks_for_a_missing_secret_and_offers_to_store_it(child_env: dict[str, str]) -> None:
    secret = "sk-asked-for-by-put-K2"
    term = Terminal(["provider", "put", "openai-prod", "-t", "openai", "--dry-run"], child_env)
    term.expect("api_key for openai-prod (input hidden, Enter to skip): ")
    term.type(secret + "\n")
    term.expect("Store it in the keyring as openai-prod/api_key for next time? [Y/n] ")
    term.type("y\n")
    assert term.finish() == 0, term.screen
    assert '"api_key": "********"' in term.screen
    assert secret not in term.screen
    assert stored(child_env) == {"conductor-integrations\topenai-prod/api_key": secret}


def test_auth_login_asks_for_everything_and_hides_the_secret(
    child_env: dict[str, str], tmp_path: Path
) -> None:
    from conductor_integrations.sandbox import serve_in_background

    secret = "app-key-secret-typed-W3"
    with serve_in_background(tmp_path / "pty.db", auth=[f"app:{secret}"]) as sandbox:
        term = Terminal(["auth", "login"], child_env)
        term.expect("Conductor server URL: ")
        term.type(sandbox.url + "\n")
        term.expect("Application key id: ")
        term.type("app\n")
        term.expect("Secret of application key app (input hidden): ")
        term.type(secret + "\n")
        assert term.finish() == 0, term.screen
    assert f"logged in to {sandbox.url} with key app" in term.screen
    assert secret not in term.screen
    assert stored(child_env) == {f"conductor-integrations:auth\t{sandbox.url}|app": secret}
