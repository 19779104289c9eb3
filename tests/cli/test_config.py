"""`integ config show`: effective settings, where each came from, secrets masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from conductor_integrations import config


def write_profiles(profiles: dict[str, Any]) -> Path:
    path = config.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"profiles": profiles}))
    return path


def test_precedence_flag_env_profile_default(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profiles({"default": {"server": "https://profile.example.com/api", "timeout": 5, "retries": 1}})
    monkeypatch.setenv("INTEG_TIMEOUT", "7")
    monkeypatch.setenv("INTEG_RETRIES", "2")
    r = integ("config", "show", "--retries", "4", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["server"] == {"value": "https://profile.example.com", "source": "profile default"}
    assert data["timeout"] == {"value": 7.0, "source": "env INTEG_TIMEOUT"}
    assert data["retries"] == {"value": 4, "source": "flag --retries"}
    assert data["output"] == {"value": "json", "source": "flag --output"}
    assert data["insecure"] == {"value": False, "source": "default"}
    assert data["profile"] == {"value": "default", "source": "default"}
    assert data["config_file"]["value"] == str(config.config_file())


def test_stable_keys(integ: Any) -> None:
    r = integ("config", "show", "-o", "json")
    assert list(r.json()) == [
        "config_file",
        "profile",
        "server",
        "token",
        "key_id",
        "key_secret",
        "output",
        "timeout",
        "retries",
        "ca_bundle",
        "insecure",
        "no_color",
        "debug",
    ]


def test_selected_profile(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profiles(
        {"default": {"server": "https://a.example.com"}, "prod": {"server": "https://b.example.com"}}
    )
    monkeypatch.setenv("INTEG_PROFILE", "prod")
    data = integ("config", "show", "-o", "json").json()
    assert data["profile"] == {"value": "prod", "source": "env INTEG_PROFILE"}
    assert data["server"] == {"value": "https://b.example.com", "source": "profile prod"}
    flagged = integ("config", "show", "--profile", "default", "-o", "json").json()
    assert flagged["profile"] == {"value": "default", "source": "flag --profile"}


def test_unknown_profile_is_usage_error(integ: Any) -> None:
    r = integ("config", "show", "--profile", "nope")
    assert r.exit_code == 2
    assert "no profile 'nope'" in r.stderr


def test_token_and_key_secret_are_masked(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", "tok-secret-value-1")
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "key-1")
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "key-secret-value-2")
    for fmt in ("table", "json", "yaml"):
        r = integ("config", "show", "--server", "https://x.example.com", "-o", fmt)
        assert r.exit_code == 0, r.stderr
        assert "tok-secret-value-1" not in r.output
        assert "key-secret-value-2" not in r.output
        assert "********" in r.stdout
    data = integ("config", "show", "-o", "json").json()
    assert data["token"] == {"value": "********", "source": "env CONDUCTOR_AUTH_TOKEN"}
    assert data["key_secret"] == {"value": "********", "source": "env CONDUCTOR_AUTH_SECRET"}
    assert data["key_id"] == {"value": "key-1", "source": "env CONDUCTOR_AUTH_KEY"}


def test_key_secret_from_the_keyring_is_masked(integ: Any, memory_keyring: Any) -> None:
    from conductor_integrations.secrets import credentials

    credentials.set_key_secret("https://x.example.com", "key-1", "ring-secret-value-3")
    r = integ("config", "show", "--server", "https://x.example.com/api", "--key-id", "key-1", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["key_secret"] == {"value": "********", "source": "keyring"}
    assert "ring-secret-value-3" not in r.output


def test_no_server_is_fine_for_config_show(integ: Any) -> None:
    r = integ("config", "show")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["SETTING", "VALUE", "SOURCE"]
    server = next(line for line in lines if line.startswith("server "))
    assert server.split() == ["server", "-", "default"]


def test_local_server_is_shown_as_given(integ: Any) -> None:
    data = integ("config", "show", "--server", "local", "-o", "json").json()
    assert data["server"] == {"value": "local", "source": "flag --server"}
    assert data["key_secret"]["value"] is None


def test_config_dir_source(integ: Any) -> None:
    data = integ("config", "show", "-o", "json").json()
    assert data["config_file"]["source"] == "env INTEG_CONFIG_DIR"
    assert data["config_file"]["value"].startswith(os.environ["INTEG_CONFIG_DIR"])


def test_unusable_keyring_does_not_stop_config_show(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from conductor_integrations.secrets import credentials

    def refuse(*args: Any, **kwargs: Any) -> str | None:
        raise credentials.KeyringUnavailable("read the secret", "the keyring did not answer within 5 s")

    monkeypatch.setattr(credentials, "get_key_secret", refuse)
    r = integ("config", "show", "--server", "https://x.example.com", "--key-id", "k", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["key_secret"]["value"] is None
    assert r.json()["key_secret"]["source"].startswith("keyring unavailable")
