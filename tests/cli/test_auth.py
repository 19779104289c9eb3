"""`integ auth login|status|logout` against the sandbox on loopback."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
import yaml

from conductor_integrations import config
from conductor_integrations.sandbox import RunningSandbox, serve_in_background
from conductor_integrations.secrets import credentials
from tests.cli.conftest import KEY, SECRET
from tests.conftest import MemoryKeyring


@pytest.fixture(autouse=True)
def fresh_credentials() -> Iterator[None]:
    credentials.reset()
    yield
    credentials.reset()


@pytest.fixture
def sandbox(auth_sandbox: RunningSandbox) -> RunningSandbox:
    return auth_sandbox


def profiles() -> dict[str, Any]:
    path = config.config_file()
    return config.read_profiles(path) if path.exists() else {}


def login(integ: Any, sandbox: RunningSandbox, *extra: str, secret: str = SECRET) -> Any:
    return integ(
        "auth",
        "login",
        "--server",
        sandbox.url,
        "--key-id",
        KEY,
        "--secret-stdin",
        *extra,
        input=secret + "\n",
    )


def test_login_stores_secret_in_keyring_and_the_rest_in_the_profile(
    integ: Any, sandbox: RunningSandbox, memory_keyring: MemoryKeyring
) -> None:
    r = login(integ, sandbox)
    assert r.exit_code == 0, r.stderr
    assert f"logged in to {sandbox.url} with key {KEY}" in r.stderr
    assert memory_keyring.store == {(credentials.AUTH_SERVICE, f"{sandbox.url}|{KEY}"): SECRET}
    assert profiles() == {"default": {"server": sandbox.url, "key_id": KEY}}
    assert SECRET not in config.config_file().read_text()
    token_file = credentials.token_path()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert credentials.cached_token(sandbox.url, KEY) is not None
    assert SECRET not in r.output


def test_login_json_and_named_profile(integ: Any, sandbox: RunningSandbox) -> None:
    r = login(integ, sandbox, "--profile", "staging", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {
        "server": sandbox.url,
        "profile": "staging",
        "config_file": str(config.config_file()),
        "key_id": KEY,
        "secret": f"keyring ({MemoryKeyring.name})",
        "authentication": True,
    }
    assert profiles() == {"staging": {"server": sandbox.url, "key_id": KEY}}


def test_login_to_a_new_profile_reads_nothing_from_others(integ: Any, sandbox: RunningSandbox) -> None:
    config.write_profile(
        config.config_file(), "default", {"server": "https://elsewhere.example", "key_id": "x"}
    )
    r = integ("auth", "login", "--profile", "new", "--secret-stdin", input=SECRET)
    assert r.exit_code == 2
    assert "no Conductor server configured" in r.stderr
    assert set(profiles()) == {"default"}


def test_login_refused_saves_nothing(
    integ: Any, sandbox: RunningSandbox, memory_keyring: MemoryKeyring
) -> None:
    r = login(integ, sandbox, secret="not-the-secret")
    assert r.exit_code == 4
    assert "nothing was saved" in r.stderr
    assert memory_keyring.store == {}
    assert profiles() == {}
    assert "not-the-secret" not in r.output


def test_login_secret_from_the_environment(
    integ: Any, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    r = integ("auth", "login", "--server", sandbox.url, "--key-id", KEY)
    assert r.exit_code == 0, r.stderr
    assert "using the key secret from CONDUCTOR_AUTH_SECRET" in r.stderr
    assert list(memory_keyring.store.values()) == [SECRET]


def test_login_without_a_secret_or_terminal(integ: Any, sandbox: RunningSandbox) -> None:
    r = integ("auth", "login", "--server", sandbox.url, "--key-id", KEY)
    assert r.exit_code == 2
    assert "--secret-stdin" in r.stderr and "CONDUCTOR_AUTH_SECRET" in r.stderr


def test_login_needs_a_key_id_and_a_server(integ: Any, sandbox: RunningSandbox) -> None:
    r = integ("auth", "login", "--server", sandbox.url, "--secret-stdin", input=SECRET)
    assert r.exit_code == 2
    assert "--key-id" in r.stderr
    r = integ("auth", "login", "--key-id", KEY, "--secret-stdin", input=SECRET)
    assert r.exit_code == 2
    assert "--server" in r.stderr


def test_login_in_ci_is_refused_before_reading_the_secret(
    integ: Any, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    r = login(integ, sandbox)
    assert r.exit_code == 3
    assert "turned off in CI" in r.stderr
    assert "CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET" in r.stderr
    assert profiles() == {}


def test_login_without_a_keyring_saves_nothing(integ: Any, sandbox: RunningSandbox) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    r = login(integ, sandbox)
    assert r.exit_code == 3
    assert "no keyring backend" in r.stderr
    assert profiles() == {}


def test_login_to_a_server_without_auth(
    integ: Any, open_sandbox: RunningSandbox, memory_keyring: MemoryKeyring
) -> None:
    r = login(integ, open_sandbox)
    assert r.exit_code == 0, r.stderr
    assert "has no authentication" in r.stderr
    assert memory_keyring.store == {}
    assert profiles() == {"default": {"server": open_sandbox.url}}


def test_login_local_saves_the_server_only(integ: Any) -> None:
    config.write_profile(config.config_file(), "default", {"server": "https://old.example", "key_id": "old"})
    r = integ("auth", "login", "--server", "local")
    assert r.exit_code == 0, r.stderr
    assert "server saved in profile 'default'" in r.stderr
    assert profiles() == {"default": {"server": "local"}}


# -- status ------------------------------------------------------------------------------


def test_status_after_login(integ: Any, sandbox: RunningSandbox) -> None:
    login(integ, sandbox)
    r = integ("auth", "status", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["server"] == {"value": sandbox.url, "source": "profile default"}
    assert data["key_id"] == {"value": KEY, "source": "profile default"}
    assert data["key_secret"] == {"present": True, "source": f"keyring ({MemoryKeyring.name})"}
    assert data["token_available"] is True
    r = integ("auth", "status")
    assert r.exit_code == 0
    assert any(line.split()[:2] == ["auth", "yes"] for line in r.stdout.splitlines())
    assert SECRET not in r.output


def test_status_sources_from_flags_and_environment(
    integ: Any, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", sandbox.url + "/api")
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    r = integ("auth", "status", "--key-id", KEY, "-o", "yaml")
    assert r.exit_code == 0, r.stderr
    data = yaml.safe_load(r.stdout)
    assert data["server"] == {"value": sandbox.url, "source": "env CONDUCTOR_SERVER_URL"}
    assert data["key_id"]["source"] == "flag --key-id"
    assert data["key_secret"] == {"present": True, "source": "env CONDUCTOR_AUTH_SECRET"}
    assert SECRET not in r.output


def test_status_with_a_ready_token_never_shows_it(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", "eyJ-ready-token-value")
    r = integ("auth", "status", "--server", "https://conductor.example", "-o", "json")
    assert r.exit_code == 0
    assert r.json()["token"] == {"present": True, "source": "env CONDUCTOR_AUTH_TOKEN"}
    assert "eyJ-ready-token-value" not in r.output


def test_status_refused_key(integ: Any, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "wrong-secret-value")
    r = integ("auth", "status", "--server", sandbox.url, "--key-id", KEY)
    assert r.exit_code == 4
    assert any(line.split()[:2] == ["auth", "no"] for line in r.stdout.splitlines())
    assert "wrong-secret-value" not in r.output


def test_status_no_check_and_missing_secret(integ: Any, sandbox: RunningSandbox) -> None:
    r = integ("auth", "status", "--server", sandbox.url, "--key-id", KEY, "-o", "json")
    assert r.exit_code == 3
    assert r.json()["key_secret"] == {
        "present": False,
        "source": "not in the keyring (run `integ auth login`)",
    }
    assert f"integ auth login --key-id {KEY}" in r.stderr


def test_status_without_server(integ: Any) -> None:
    r = integ("auth", "status", "-o", "json")
    assert r.exit_code == 2
    assert r.json()["detail"] == "no server configured"
    assert "integ auth login" in r.stderr


def test_status_unreachable(integ: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with serve_in_background(tmp_path / "gone.db") as running:
        url = running.url  # a loopback port that is closed once the sandbox stops
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    r = integ("auth", "status", "--server", url, "--key-id", KEY, "--retries", "0")
    assert r.exit_code == 7


def test_status_no_check(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    r = integ("auth", "status", "--server", "https://conductor.example", "--key-id", KEY, "--no-check")
    assert r.exit_code == 0
    assert "not checked (--no-check)" in r.stdout


# -- logout --------------------------------------------------------------------------------


def test_logout(integ: Any, sandbox: RunningSandbox, memory_keyring: MemoryKeyring) -> None:
    login(integ, sandbox)
    r = integ("auth", "logout")
    assert r.exit_code == 0, r.stderr
    assert f"logged out of {sandbox.url}" in r.stderr
    assert memory_keyring.store == {}
    assert profiles() == {"default": {"server": sandbox.url}}
    assert credentials.cached_token(sandbox.url, KEY) is None
    r = integ("auth", "logout", "-o", "json")
    assert r.json() == [
        {
            "profile": "default",
            "server": sandbox.url,
            "key_id": None,
            "action": "not logged in",
            "secret_removed": False,
        }
    ]


def test_logout_all(integ: Any, sandbox: RunningSandbox, memory_keyring: MemoryKeyring) -> None:
    login(integ, sandbox)
    login(integ, sandbox, "--profile", "second")
    r = integ("auth", "logout", "--all", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [x["action"] for x in r.json()] == ["logged out", "logged out"]
    assert memory_keyring.store == {}
    assert not credentials.token_path().exists()
    assert profiles() == {"default": {"server": sandbox.url}, "second": {"server": sandbox.url}}


def test_logout_reminds_of_environment_credentials(
    integ: Any, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(integ, sandbox)
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    r = integ("auth", "logout")
    assert "CONDUCTOR_AUTH_SECRET still set" in r.stderr
    assert SECRET not in r.output


# -- the real processes: what login stores is what the client finds ---------------------------


@pytest.mark.e2e
def test_login_then_put_in_real_processes(tmp_path: Path, sandbox: RunningSandbox) -> None:
    import os
    import subprocess
    import sys

    from tests.test_prompt_pty import FILE_ENV, ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "INTEG_")) and k != "CI"}
    env.update(
        INTEG_CONFIG_DIR=str(tmp_path / "e2e-config"),
        INTEG_DATA_DIR=str(tmp_path / "e2e-data"),
        PYTHON_KEYRING_BACKEND="tests.test_prompt_pty.FileKeyring",
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
    )
    env[FILE_ENV] = str(tmp_path / "e2e-keyring.json")
    key_file = tmp_path / "openai.key"
    key_file.write_text("sk-provider-key-e2e\n")

    def integ(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "conductor_integrations", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=str(ROOT),
            timeout=60,
        )

    r = integ(
        "auth", "login", "--server", sandbox.url + "/api", "--key-id", KEY, "--secret-stdin", stdin=SECRET
    )
    assert r.returncode == 0, r.stderr
    r = integ("provider", "put", "openai-prod", "-t", "openai", "-c", f"api_key=@{key_file}")
    assert r.returncode == 0, r.stderr
    assert "created provider openai-prod" in r.stderr
    r = integ("auth", "status", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["token_available"] is True
    assert integ("auth", "logout").returncode == 0
    r = integ("provider", "get", "openai-prod")
    assert r.returncode == 4, r.stderr
    for text in (r.stdout, r.stderr):
        assert SECRET not in text
