"""Identity is what was asked for: a given token is used as given (a refusal is exit 4,
never a silent mint from a key), and a profile's key id is used only against that
profile's own server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from conductor_integrations import config
from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.secrets import credentials
from tests.cli.conftest import KEY, SECRET
from tests.cli.provider_stubs import API, SERVER

REFUSED = {"status": 401, "error": "INVALID_TOKEN", "message": "invalid token"}


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_refused_token_is_exit_4_and_never_replaced_by_a_minted_one(
    how: str, integ: Any, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a key that could mint a token is at hand, from the environment
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", KEY)
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    mock.get(f"{API}/integrations/provider", status=401, json=REFUSED)
    token = ["--token", "abc"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", "abc")
    r = integ("provider", "list", "--server", SERVER, *token)
    assert r.exit_code == 4, r.stderr
    assert [c.request.url.split("?")[0] for c in mock.calls] == [f"{API}/integrations/provider"]
    assert mock.calls[0].request.headers["X-Authorization"] == "abc"
    assert "fresh token" not in r.stderr  # no mint was tried
    assert SECRET not in r.output


def test_a_refused_token_with_a_logged_in_profile_is_exit_4(
    integ: Any, mock: responses.RequestsMock, memory_keyring: Any
) -> None:
    config.write_profile(config.config_file(), "default", {"server": SERVER, "key_id": KEY})
    credentials.set_key_secret(SERVER, KEY, SECRET)
    mock.get(f"{API}/integrations/provider", status=401, json=REFUSED)
    r = integ("provider", "list", "--token", "abc")
    assert r.exit_code == 4, r.stderr
    assert len(mock.calls) == 1


def test_a_profile_key_id_is_not_used_against_another_server(
    integ: Any, mock: responses.RequestsMock
) -> None:
    config.write_profile(
        config.config_file(), "default", {"server": "https://other.example.com", "key_id": KEY}
    )
    mock.get(f"{API}/integrations/provider", json=[])
    r = integ("provider", "list", "--server", SERVER, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == []
    assert len(mock.calls) == 1
    assert "X-Authorization" not in mock.calls[0].request.headers


def test_a_key_id_from_the_environment_applies_to_any_server(
    integ: Any, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_profile(
        config.config_file(), "default", {"server": "https://other.example.com", "key_id": "p"}
    )
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", KEY)
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", SECRET)
    mock.post(f"{API}/token", json={"token": "minted-token-1"})
    mock.get(f"{API}/integrations/provider", json=[])
    r = integ("provider", "list", "--server", SERVER)
    assert r.exit_code == 0, r.stderr
    assert mock.calls[1].request.headers["X-Authorization"] == "minted-token-1"


def test_config_show_says_the_profile_key_does_not_apply(integ: Any) -> None:
    config.write_profile(
        config.config_file(), "default", {"server": "https://other.example.com", "key_id": KEY}
    )
    r = integ("config", "show", "--server", SERVER, "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["key_id"]["value"] is None
    assert "not used" in data["key_id"]["source"]
    assert "https://other.example.com" in data["key_id"]["source"]
    same = integ("config", "show", "--server", "https://other.example.com/api/", "-o", "json")
    assert same.json()["key_id"] == {"value": KEY, "source": "profile default"}


# -- against the sandbox: `auth login` to one server, then a command against another -------


def test_after_login_another_server_is_used_without_the_key(
    integ: Any, auth_sandbox: RunningSandbox, open_sandbox: RunningSandbox
) -> None:
    login = integ(
        "auth", "login", "--server", auth_sandbox.url, "--key-id", KEY, "--secret-stdin", input=SECRET
    )
    assert login.exit_code == 0, login.stderr
    r = integ("provider", "list", "--server", open_sandbox.url, "--debug", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == []
    assert "/api/token" not in r.stderr
    assert "X-Authorization" not in r.stderr
    # and the profile's own server still gets the key
    own = integ("provider", "list", "-o", "json")
    assert own.exit_code == 0, own.stderr
