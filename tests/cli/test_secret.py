"""`integ secret set|list|delete`, and `integ validate` when the keyring is absent or stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from conductor_integrations.secrets import credentials
from tests.conftest import MemoryKeyring

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_credentials() -> Iterator[None]:
    credentials.reset()
    yield
    credentials.reset()


def test_set_from_stdin(integ: Any, memory_keyring: MemoryKeyring) -> None:
    r = integ("secret", "set", "openai-prod", "api_key", input="sk-piped-value\n")
    assert r.exit_code == 0, r.stderr
    assert memory_keyring.store[(credentials.SERVICE, "openai-prod/api_key")] == "sk-piped-value"
    assert "stored openai-prod/api_key in the keyring" in r.stderr
    assert "sk-piped-value" not in r.output


def test_set_json(integ: Any) -> None:
    r = integ("secret", "set", "pg", "password", "-o", "json", input="pw-value-123")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {
        "provider": "pg",
        "key": "password",
        "action": "stored",
        "backend": MemoryKeyring.name,
    }


def test_set_refuses_an_empty_value(integ: Any, memory_keyring: MemoryKeyring) -> None:
    r = integ("secret", "set", "p", "api_key", input="\n")
    assert r.exit_code == 3
    assert "empty" in r.stderr
    assert memory_keyring.store == {}


def test_set_never_takes_the_value_from_argv(integ: Any, memory_keyring: MemoryKeyring) -> None:
    r = integ("secret", "set", "p", "api_key", "sk-on-the-command-line", input="x")
    assert r.exit_code == 2
    assert "takes no value on the command line" in r.stderr
    assert "sk-on-the-command-line" not in r.output
    assert memory_keyring.store == {}


def test_set_warns_about_keys_that_are_not_secret(integ: Any) -> None:
    r = integ("secret", "set", "p", "apiKey", input="value-1234")
    assert r.exit_code == 0
    assert "did you mean 'api_key'?" in r.stderr
    r = integ("secret", "set", "p", "endpoint", input="value-1234")
    assert "not a secret key of any provider type" in r.stderr
    r = integ("secret", "set", "p", "api_key", input="value-1234")
    assert "warning" not in r.stderr


def test_set_in_ci_fails_before_reading(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    r = integ("secret", "set", "p", "api_key", input="value-1234")
    assert r.exit_code == 3
    assert "turned off in CI" in r.stderr
    assert "${env:VAR}" in r.stderr and "-c api_key=@file" in r.stderr


def test_list_names_only(integ: Any) -> None:
    assert integ("secret", "list").stderr.startswith("no secrets stored")
    for provider, key, value in [("b", "password", "pw-1-value"), ("a", "api_key", "ak-1-value")]:
        assert integ("secret", "set", provider, key, input=value).exit_code == 0
    r = integ("secret", "list")
    assert r.stdout.splitlines() == ["PROVIDER   KEY", "a          api_key", "b          password"]
    r = integ("secret", "list", "b", "-o", "json")
    assert r.json() == [{"provider": "b", "key": "password"}]
    r = integ("secret", "list", "-o", "yaml")
    assert "provider: a" in r.stdout
    assert "pw-1-value" not in r.output and "ak-1-value" not in r.output


def test_list_works_without_touching_the_keyring(integ: Any) -> None:
    integ("secret", "set", "a", "api_key", input="ak-1-value")
    keyring.set_keyring(keyring.backends.fail.Keyring())
    r = integ("secret", "list", "-o", "json")
    assert r.exit_code == 0
    assert r.json() == [{"provider": "a", "key": "api_key"}]


def test_delete(integ: Any, memory_keyring: MemoryKeyring) -> None:
    integ("secret", "set", "a", "api_key", input="ak-1-value")
    r = integ("secret", "delete", "a", "api_key")
    assert r.exit_code == 0
    assert "deleted a/api_key" in r.stderr
    assert memory_keyring.store == {}
    assert integ("secret", "list", "-o", "json").json() == []
    r = integ("secret", "delete", "a", "api_key")
    assert r.exit_code == 5
    assert "no secret stored for a/api_key" in r.stderr
    r = integ("secret", "delete", "a", "api_key", "--missing-ok", "-o", "json")
    assert r.exit_code == 0
    assert r.json() == {"provider": "a", "key": "api_key", "action": "absent"}


# -- validate: the look-up of a missing secret ------------------------------------------------

DOC = "name: openai-prod\ntype: openai\n"


@pytest.fixture
def doc(tmp_path: Path) -> str:
    path = tmp_path / "openai.yaml"
    path.write_text(DOC)
    return str(path)


def test_validate_finds_the_stored_secret(integ: Any, doc: str) -> None:
    integ("secret", "set", "openai-prod", "api_key", input="sk-stored-1")
    r = integ("validate", doc)
    assert r.exit_code == 0, r.stderr


def test_validate_without_keyring_or_terminal_names_every_way(integ: Any, doc: str) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    r = integ("validate", doc)
    assert r.exit_code == 3
    assert r.stderr.count("no keyring backend") == 1
    assert "openai requires 'api_key'" in r.stderr
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


def test_validate_with_a_stuck_keyring_ends_with_the_message(
    integ: Any, doc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = StuckKeyring()
    keyring.set_keyring(ring)
    monkeypatch.setenv("INTEG_KEYRING_TIMEOUT", "0.5")
    started = time.monotonic()
    try:
        r = integ("validate", doc)
    finally:
        ring.release.set()
    assert time.monotonic() - started < 10
    assert r.exit_code == 3
    assert "did not answer within 0.5 s" in r.stderr
    assert "unlock the keyring" in r.stderr and "-c api_key=@file" in r.stderr


def test_secret_set_with_a_stuck_keyring(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = StuckKeyring()
    keyring.set_keyring(ring)
    monkeypatch.setenv("INTEG_KEYRING_TIMEOUT", "0.5")
    try:
        r = integ("secret", "set", "p", "api_key", input="value-1234")
    finally:
        ring.release.set()
    assert r.exit_code == 3
    assert "did not answer within 0.5 s" in r.stderr
    assert "INTEG_KEYRING_TIMEOUT" in r.stderr


# -- the real process: PYTHON_KEYRING_BACKEND is honoured -----------------------------------------


def run_integ(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "INTEG_")) and k != "CI"}
    clean.update(
        INTEG_CONFIG_DIR=str(tmp_path / "config"),
        INTEG_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "conductor_integrations", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean,
        cwd=str(ROOT),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("keyring.backends.null.Keyring", "null backend"),
        ("keyring.backends.fail.Keyring", "no keyring backend"),
    ],
)
def test_python_keyring_backend_is_honoured(tmp_path: Path, backend: str, message: str) -> None:
    r = run_integ(
        ["secret", "set", "p", "api_key"], tmp_path, stdin="value-1234\n", PYTHON_KEYRING_BACKEND=backend
    )
    assert r.returncode == 3
    assert message in r.stderr
    assert "value-1234" not in r.stdout + r.stderr
