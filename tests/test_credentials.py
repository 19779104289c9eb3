"""The keyring layer: deadlines, absent and disabled keyrings, plain-text backends, the name
index and the token cache."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from conductor_integrations import config, notices
from conductor_integrations.errors import ExitCode, UsageError
from conductor_integrations.secrets import credentials, redact
from conductor_integrations.secrets.credentials import KeyringUnavailable
from tests.conftest import MemoryKeyring


@pytest.fixture(autouse=True)
def fresh_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("INTEG_KEYRING_TIMEOUT", raising=False)
    credentials.reset()
    yield
    credentials.reset()


class CountingKeyring(MemoryKeyring):
    """Counts every call, to show when the keyring is not touched at all."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls += 1
        super().set_password(service, username, password)


class SleepyKeyring(keyring.backend.KeyringBackend):
    """A keyring stuck like a locked Secret Service: every call waits until released."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        self.release.wait(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        self.get_password(service, username)


class RaisingKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error

    def delete_password(self, service: str, username: str) -> None:
        raise self.error


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (not installed here)."""

    file_path = "/home/someone/.local/share/python_keyring/keyring_pass.cfg"


PlaintextKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def sleepy(monkeypatch: pytest.MonkeyPatch) -> Iterator[SleepyKeyring]:
    ring = SleepyKeyring()
    keyring.set_keyring(ring)
    monkeypatch.setenv("INTEG_KEYRING_TIMEOUT", "0.2")
    yield ring
    ring.release.set()


# -- when the keyring is used --------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "disabled"),
    [
        ({}, False),
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),
        ({"CI": "false"}, False),
        ({"CI": "0"}, False),
        ({"CI": ""}, False),
        ({"INTEG_NO_KEYRING": "1"}, True),
        ({"INTEG_NO_KEYRING": "yes"}, True),
        ({"CI": "true", "INTEG_NO_KEYRING": "0"}, False),
        ({"INTEG_NO_KEYRING": "0"}, False),
    ],
)
def test_disabled_reason(env: dict[str, str], disabled: bool) -> None:
    assert (credentials.disabled_reason(env) is not None) is disabled


@pytest.mark.parametrize("var", ["CI", "INTEG_NO_KEYRING"])
def test_disabled_keyring_is_not_touched(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    ring = CountingKeyring()
    ring.set_password(credentials.SERVICE, "p/api_key", "stored-value")
    ring.calls = 0
    keyring.set_keyring(ring)
    monkeypatch.setenv(var, "1")
    assert credentials.get_secret("p", "api_key") is None
    assert credentials.get_key_secret("https://x", "kid") is None
    with pytest.raises(KeyringUnavailable) as err:
        credentials.set_secret("p", "api_key", "new-value")
    assert var in err.value.message
    assert err.value.exit_code == ExitCode.INVALID
    with pytest.raises(KeyringUnavailable):
        credentials.delete_secret("p", "api_key")
    assert ring.calls == 0
    assert credentials.backend_name().startswith("the keyring is turned off")


def test_deadline_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert credentials.deadline() == credentials.DEFAULT_TIMEOUT == 3.0
    assert credentials.deadline(interactive=True) == credentials.INTERACTIVE_TIMEOUT
    monkeypatch.setenv("INTEG_KEYRING_TIMEOUT", "0.5")
    assert credentials.deadline() == credentials.deadline(interactive=True) == 0.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("INTEG_KEYRING_TIMEOUT", bad)
        with pytest.raises(UsageError, match="INTEG_KEYRING_TIMEOUT"):
            credentials.deadline()


# -- reads, writes, deletes ------------------------------------------------------------------


def test_round_trip_and_index(memory_keyring: MemoryKeyring) -> None:
    backend = credentials.set_secret("openai-prod", "api_key", "sk-round-trip-1")
    assert backend.plaintext_file is None
    credentials.set_secret("pg", "password", "pg-secret-22")
    assert memory_keyring.store[(credentials.SERVICE, "openai-prod/api_key")] == "sk-round-trip-1"
    assert credentials.get_secret("openai-prod", "api_key") == "sk-round-trip-1"
    assert credentials.list_secrets() == [("openai-prod", "api_key"), ("pg", "password")]
    assert credentials.list_secrets("pg") == [("pg", "password")]
    index = credentials.index_path()
    assert "sk-round-trip-1" not in index.read_text() and "pg-secret-22" not in index.read_text()
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert credentials.delete_secret("pg", "password") is True
    assert credentials.delete_secret("pg", "password") is False
    assert credentials.list_secrets() == [("openai-prod", "api_key")]
    assert credentials.get_secret("pg", "password") is None


def test_values_read_or_written_are_registered_for_masking(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[(credentials.SERVICE, "a/api_key")] = "read-from-ring-77"
    credentials.get_secret("a", "api_key")
    credentials.set_key_secret("https://x", "kid", "key-secret-88")
    assert redact.scrub("read-from-ring-77 key-secret-88") == f"{redact.MASK} {redact.MASK}"


@pytest.mark.parametrize(("provider", "key"), [("", "api_key"), ("p", ""), ("p", "a/b"), ("p\n", "k")])
def test_bad_names_are_refused(provider: str, key: str) -> None:
    with pytest.raises(UsageError):
        credentials.set_secret(provider, key, "whatever-value")


def test_key_secret_is_per_server_root(memory_keyring: MemoryKeyring) -> None:
    credentials.set_key_secret("https://x.orkes.io/api/", "kid", "s3cret-key")
    assert credentials.get_key_secret("https://x.orkes.io", "kid") == "s3cret-key"
    assert credentials.get_key_secret("https://y.orkes.io", "kid") is None
    assert (credentials.AUTH_SERVICE, "https://x.orkes.io|kid") in memory_keyring.store
    assert credentials.delete_key_secret("https://x.orkes.io/api", "kid") is True
    assert credentials.delete_key_secret("https://x.orkes.io/api", "kid") is False


# -- failing keyrings ----------------------------------------------------------------------


def test_no_backend_gives_the_alternatives() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(KeyringUnavailable) as err:
        credentials.get_secret("openai-prod", "api_key")
    text = err.value.message + " ".join(err.value.hints)
    assert "no keyring backend" in err.value.message
    assert "${env:VAR}" in text and "-c api_key=@file" in text
    with pytest.raises(KeyringUnavailable) as err:
        credentials.get_key_secret("https://x", "kid")
    assert "CONDUCTOR_AUTH_SECRET" in " ".join(err.value.hints)


def test_null_backend_reads_nothing_and_refuses_writes() -> None:
    keyring.set_keyring(keyring.backends.null.Keyring())
    assert credentials.get_secret("p", "api_key") is None
    with pytest.raises(KeyringUnavailable, match="null backend"):
        credentials.set_secret("p", "api_key", "would-be-lost")
    with pytest.raises(KeyringUnavailable, match="null backend"):
        credentials.delete_secret("p", "api_key")
    assert credentials.list_secrets() == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (keyring.errors.KeyringLocked("locked"), "the keyring is locked"),
        (keyring.errors.InitError("no dbus"), "backend failed (InitError: no dbus)"),
        (RuntimeError("dbus went away"), "backend failed (RuntimeError: dbus went away)"),
    ],
)
def test_backend_errors_are_typed(error: Exception, expected: str) -> None:
    keyring.set_keyring(RaisingKeyring(error))
    with pytest.raises(KeyringUnavailable, match=expected.replace("(", r"\(").replace(")", r"\)")):
        credentials.get_secret("p", "api_key")
    with pytest.raises(KeyringUnavailable):
        credentials.set_secret("p", "api_key", "value-1234")


def test_a_stuck_keyring_meets_the_deadline(sleepy: SleepyKeyring) -> None:
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable) as err:
        credentials.get_secret("p", "api_key")
    assert time.monotonic() - started < 10
    assert "did not answer within 0.2 s" in err.value.message
    assert any("INTEG_KEYRING_TIMEOUT" in h for h in err.value.hints)
    # Not asked again in this process: the next call fails at once without a new thread.
    with pytest.raises(KeyringUnavailable, match="did not answer"):
        credentials.set_secret("p", "api_key", "value-1234")
    assert sleepy.calls == 1


def test_plaintext_backend_is_named_on_writes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warned: list[str] = []
    monkeypatch.setattr(notices, "_sink", None)
    notices.warn_with(warned.append)
    keyring.set_keyring(PlaintextKeyring())
    backend = credentials.set_secret("p", "api_key", "plain-stored-1")
    assert backend.plaintext_file == PlaintextKeyring.file_path
    assert len(warned) == 1
    assert "plain-text file" in warned[0] and PlaintextKeyring.file_path in warned[0]
    assert "plain-stored-1" not in warned[0]
    assert credentials.get_secret("p", "api_key") == "plain-stored-1"
    assert len(warned) == 1  # reads are not warned about
    assert capsys.readouterr().err == ""  # nothing printed here: the sink has it


def test_the_plaintext_warning_is_printed_by_the_command(integ: Any) -> None:
    keyring.set_keyring(PlaintextKeyring())
    r = integ("secret", "set", "p", "api_key", input="plain-stored-2")
    assert r.exit_code == 0, r.stderr
    assert "warning: the active keyring backend" in r.stderr and PlaintextKeyring.file_path in r.stderr
    assert "plain-stored-2" not in r.stderr + r.stdout


def test_backend_name(memory_keyring: MemoryKeyring) -> None:
    assert credentials.backend_name() == MemoryKeyring.name
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert "no keyring backend" in credentials.backend_name()


# -- the token cache ---------------------------------------------------------------------------


def _jwt(claims: dict[str, object]) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


def test_token_cache_round_trip() -> None:
    now = 1_000_000.0
    credentials.store_token("https://x/api", "kid", "opaque-token-1", now=now)
    path = credentials.token_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.cached_token("https://x", "kid", now=now + 60) == "opaque-token-1"
    assert credentials.cached_token("https://x", "other", now=now) is None
    assert credentials.cached_token("https://y", "kid", now=now) is None
    # Without an exp claim the token lives TOKEN_TTL, and is not used in its last minute.
    late = now + credentials.TOKEN_TTL - credentials.TOKEN_MARGIN
    assert credentials.cached_token("https://x", "kid", now=late) is None


def test_token_cache_uses_the_jwt_expiry() -> None:
    now = 2_000_000.0
    token = _jwt({"sub": "app", "exp": now + 600})
    credentials.store_token("https://x", "kid", token, now=now)
    assert credentials.cached_token("https://x", "kid", now=now + 500) == token
    assert credentials.cached_token("https://x", "kid", now=now + 560) is None
    expired = _jwt({"exp": now - 1})
    credentials.store_token("https://x", "k2", expired, now=now)
    assert credentials.cached_token("https://x", "k2", now=now) is None


def test_cached_tokens_are_registered_for_masking() -> None:
    credentials.store_token("https://x", "kid", "token-value-xyz", now=time.time())
    redact.forget_all()
    assert credentials.cached_token("https://x", "kid") == "token-value-xyz"
    assert redact.scrub("sent token-value-xyz") == f"sent {redact.MASK}"


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_token_file_readable_by_others_is_ignored() -> None:
    credentials.store_token("https://x", "kid", "token-value-xyz", now=time.time())
    path = credentials.token_path()
    path.chmod(0o644)
    assert credentials.cached_token("https://x", "kid") is None


def test_forget_tokens() -> None:
    now = time.time()
    for server, kid in [("https://x", "a"), ("https://x", "b"), ("https://y", "a")]:
        credentials.store_token(server, kid, f"tok-{server}-{kid}", now=now)
    assert credentials.forget_tokens("https://x/api", "a") == 1
    assert credentials.cached_token("https://x", "a") is None
    assert credentials.cached_token("https://x", "b") == "tok-https://x-b"
    assert credentials.forget_tokens("https://x") == 1
    assert credentials.cached_token("https://y", "a") == "tok-https://y-a"
    assert credentials.forget_tokens() == 1
    assert not credentials.token_path().exists()


def test_files_live_in_the_data_folder(tmp_path: Path) -> None:
    assert credentials.index_path().parent == config.data_dir() == tmp_path / "data"
    assert credentials.token_path().parent == config.data_dir()
