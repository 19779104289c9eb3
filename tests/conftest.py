"""Shared fixtures: every test runs with its own config and data folders, an in-memory
keyring, no colour, a fixed width, and none of the user's Conductor settings."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest

from conductor_integrations import output
from conductor_integrations.secrets import credentials, redact

# The repository's tooling is importable in tests: scripts/docgen renders the man pages and
# is not part of the installed package.
SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

ENV_TO_CLEAR = (
    "CONDUCTOR_SERVER_URL",
    "CONDUCTOR_AUTH_TOKEN",
    "CONDUCTOR_AUTH_KEY",
    "CONDUCTOR_AUTH_SECRET",
    "INTEG_PROFILE",
    "INTEG_OUTPUT",
    "INTEG_TIMEOUT",
    "INTEG_RETRIES",
    "INTEG_DEBUG",
    "INTEG_NO_KEYRING",
    "GITHUB_ACTIONS",
    "INTEG_ANNOTATIONS",
    "INTEG_KEYRING_TIMEOUT",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "CI",
    "FORCE_COLOR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "TTY_COMPATIBLE",
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, for tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.store[(service, username)]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTEG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("INTEG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    redact.forget_all()
    output.reset()
    credentials.reset()
    yield ring
    keyring.set_keyring(previous)
    redact.forget_all()
    credentials.reset()


@pytest.fixture
def memory_keyring(isolated: MemoryKeyring) -> MemoryKeyring:
    return isolated


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


@pytest.fixture
def integ(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``integ`` in-process: ``integ("types", "list", input="...")`` -> Result."""
    from conductor_integrations.cli import run

    def invoke(*args: str, input: str | None = None) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(input or ""))
        code = run(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


FIXTURES = Path(__file__).parent / "fixtures"
