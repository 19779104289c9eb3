"""`integ model put|get|list|delete` against a real sandbox on loopback, and against exact
replies where the request itself is what is checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from conductor_integrations.cli import model as model_cli
from conductor_integrations.sandbox import serve_in_background
from conductor_integrations.sandbox.store import Store
from tests.cli.provider_stubs import API, live, stub_server

SECRET = "sk-model-secret-7781"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    with serve_in_background(tmp_path / "x.db") as running:
        yield running.url


@pytest.fixture
def provider(integ: Any, sandbox: str) -> str:
    r = integ(
        "provider", "put", "openai", "-t", "openai", "-c", "api_key=sk-provider-0001", "--server", sandbox
    )
    assert r.exit_code == 0, r.stderr
    return "openai"


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    yield from stub_server(monkeypatch)


def test_put_creates_then_updates_and_keeps_what_is_not_given(
    integ: Any, sandbox: str, provider: str
) -> None:
    first = integ("model", "put", provider, "gpt-4o", "-d", "GPT-4o", "--server", sandbox, "-o", "json")
    assert first.exit_code == 0, first.stderr
    assert first.json() == {"integrationName": "openai", "api": "gpt-4o", "action": "created"}
    again = integ("model", "put", provider, "gpt-4o", "--disabled", "--server", sandbox)
    assert again.exit_code == 0, again.stderr
    assert "updated model gpt-4o of provider openai" in again.stderr
    got = integ("model", "get", provider, "gpt-4o", "--server", sandbox, "-o", "json").json()
    assert (got["api"], got["description"], got["enabled"], got["configuration"]) == (
        "gpt-4o",
        "GPT-4o",
        False,
        {},
    )


def test_a_new_model_is_enabled_with_an_empty_description(integ: Any, sandbox: str, provider: str) -> None:
    assert integ("model", "put", provider, "gpt-4o", "--server", sandbox).exit_code == 0
    got = integ("model", "get", provider, "gpt-4o", "--server", sandbox, "-o", "json").json()
    assert (got["description"], got["enabled"]) == ("", True)


def test_get_machine_output_has_stable_keys_and_masks_secrets(
    integ: Any, sandbox: str, provider: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(SECRET + "\n")
    put = integ(
        "model", "put", provider, "meta/llama-3", "-c", f"api_key=@{key_file}", "-c", "region=eu",
        "--server", sandbox,
    )  # fmt: skip
    assert put.exit_code == 0, put.stderr
    r = integ("model", "get", provider, "meta/llama-3", "--server", sandbox, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert list(r.json()) == list(model_cli_keys())
    assert r.json()["api"] == "meta/llama-3"
    assert r.json()["configuration"] == {"api_key": "********", "region": "eu"}
    table = integ("model", "get", provider, "meta/llama-3", "--server", sandbox)
    assert "model:        meta/llama-3" in table.stdout
    assert "  api_key: ********" in table.stdout
    for result in (put, r, table):
        assert SECRET not in result.output


def model_cli_keys() -> tuple[str, ...]:
    from conductor_integrations.cli.model_render import MODEL_KEYS

    return MODEL_KEYS


def test_config_flags_merge_key_by_key_and_literal_secrets_warn(
    integ: Any, sandbox: str, provider: str, tmp_path: Path
) -> None:
    integ("model", "put", provider, "m", "-c", "a=1", "-c", "b=2", "--server", sandbox)
    r = integ("model", "put", provider, "m", "-c", f"api_key={SECRET}", "-c", "b=3", "--server", sandbox)
    assert r.exit_code == 0, r.stderr
    assert "warning: -c api_key: a secret given on the command line" in r.stderr
    assert SECRET not in r.output
    assert stored_model(tmp_path, provider, "m").configuration == {"a": "1", "b": "3", "api_key": SECRET}
    kept = integ("model", "put", provider, "m", "-d", "only the description", "--server", sandbox)
    assert kept.exit_code == 0
    row = stored_model(tmp_path, provider, "m")
    assert (row.description, row.configuration) == (
        "only the description",
        {"a": "1", "b": "3", "api_key": SECRET},
    )


def stored_model(tmp_path: Path, provider: str, model: str) -> Any:
    """The model as the sandbox's store keeps it (secrets unmasked)."""
    store = Store(tmp_path / "x.db")
    try:
        return store.get_model(provider, model)
    finally:
        store.close()


@pytest.mark.parametrize("mask", ["********", "***", "xxxxxxxxxx"])
def test_a_mask_in_a_secret_key_keeps_the_stored_secret(
    integ: Any, sandbox: str, provider: str, tmp_path: Path, mask: str
) -> None:
    first = integ("model", "put", provider, "m", "-c", f"api_key={SECRET}", "-c", "a=1", "--server", sandbox)
    assert first.exit_code == 0, first.stderr
    r = integ("model", "put", provider, "m", "-c", f"api_key={mask}", "-c", "a=2", "--server", sandbox)
    assert r.exit_code == 0, r.stderr
    assert stored_model(tmp_path, provider, "m").configuration == {"api_key": SECRET, "a": "2"}


def test_a_mask_on_a_new_model_is_exit_3_and_nothing_created(integ: Any, sandbox: str, provider: str) -> None:
    r = integ("model", "put", provider, "new", "-c", "api_key=********", "--server", sandbox)
    assert r.exit_code == 3, r.stderr
    assert "configuration.api_key" in r.stderr and "nothing was sent" in r.stderr
    assert integ("model", "get", provider, "new", "--server", sandbox).exit_code == 5


def test_update_against_a_replacing_server_sends_the_whole_model(
    integ: Any, mock: responses.RequestsMock
) -> None:
    base = f"{API}/integrations/provider/p"
    mock.get(base, json=live("p"))
    model = {
        "api": "m",
        "description": "kept",
        "enabled": False,
        "configuration": {"api_key": "xxxxxxxxxx", "region": "eu", "other": "o"},
    }
    mock.get(f"{base}/integration/m", json=model)
    mock.post(f"{base}/integration/m", body="")
    r = integ("model", "put", "p", "m", "-c", "region=us", "-c", "api_key=********", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(mock.calls[-1].request.body) == {
        "description": "kept",
        "enabled": False,
        "configuration": {"api_key": "xxxxxxxxxx", "region": "us", "other": "o"},
    }


def test_bad_config_reference_is_exit_3_and_nothing_sent(integ: Any, sandbox: str, provider: str) -> None:
    r = integ("model", "put", provider, "m", "-c", "k=${env:INTEG_TEST_UNSET_VAR}", "--server", sandbox)
    assert r.exit_code == 3
    assert "INTEG_TEST_UNSET_VAR is not set" in r.stderr
    assert integ("model", "get", provider, "m", "--server", sandbox).exit_code == 5


def test_malformed_config_flag_is_usage(integ: Any, sandbox: str, provider: str) -> None:
    assert integ("model", "put", provider, "m", "-c", "novalue", "--server", sandbox).exit_code == 2


def test_model_of_a_missing_provider_is_exit_5_and_says_so(integ: Any, sandbox: str) -> None:
    for args in (("put", "nope", "gpt-4o", "-d", "x"), ("get", "nope", "gpt-4o"), ("list", "nope")):
        r = integ("model", *args, "--server", sandbox)
        assert r.exit_code == 5, (args, r.stderr)
        assert r.stderr.startswith("error: no provider 'nope' on ")
        assert "integ provider put nope -t TYPE" in r.stderr


def test_missing_model_of_an_existing_provider(integ: Any, sandbox: str, provider: str) -> None:
    r = integ("model", "get", provider, "nope", "--server", sandbox)
    assert r.exit_code == 5
    assert "provider 'openai' has no model 'nope'" in r.stderr
    assert "integ model list openai" in r.stderr


def test_list_shows_disabled_models_unless_active_only(integ: Any, sandbox: str, provider: str) -> None:
    integ("model", "put", provider, "b-on", "-d", "on", "--server", sandbox)
    integ("model", "put", provider, "a-off", "-d", "off", "--disabled", "--server", sandbox)
    everything = integ("model", "list", provider, "--server", sandbox, "-o", "json")
    assert [m["api"] for m in everything.json()] == ["a-off", "b-on"]
    active = integ("model", "list", provider, "--active-only", "--server", sandbox, "-o", "json")
    assert [m["api"] for m in active.json()] == ["b-on"]
    table = integ("model", "list", provider, "--server", sandbox)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "ENABLED", "DESCRIPTION", "UPDATED"]
    assert lines[1].split()[:3] == ["a-off", "no", "off"]
    assert integ("provider", "get", provider, "--server", sandbox, "-o", "json").json()["modelsCount"] == 2


def test_list_of_a_provider_without_models(integ: Any, sandbox: str, provider: str) -> None:
    r = integ("model", "list", provider, "--server", sandbox)
    assert (r.exit_code, r.stdout) == (0, "")
    assert "provider openai has no models" in r.stderr
    assert integ("model", "list", provider, "--server", sandbox, "-o", "json").json() == []


def test_list_sends_active_only_false(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider/p/integration",
        json=[],
        match=[matchers.query_param_matcher({"activeOnly": "false"})],
    )
    assert integ("model", "list", "p").exit_code == 0


def test_put_body_and_paths_are_encoded(integ: Any, mock: responses.RequestsMock) -> None:
    base = f"{API}/integrations/provider/a%2Fb"
    mock.get(base, json=live("a/b"))
    mock.get(f"{base}/integration/meta%2Fllama", status=404, json={"status": 404, "message": "no"})
    mock.post(f"{base}/integration/meta%2Fllama", body="")
    r = integ("model", "put", "a/b", "meta/llama", "-d", "Llama", "-o", "json")
    assert r.exit_code == 0, r.stderr
    sent = json.loads(mock.calls[-1].request.body)
    assert sent == {"description": "Llama", "enabled": True, "configuration": {}}


def test_update_sends_the_live_description_enabled_and_configuration(
    integ: Any, mock: responses.RequestsMock
) -> None:
    base = f"{API}/integrations/provider/p"
    mock.get(base, json=live("p"))
    model = {"api": "m", "description": "kept", "enabled": False, "configuration": {"api_key": "xxxxxxxxxx"}}
    mock.get(f"{base}/integration/m", json=model)
    mock.post(f"{base}/integration/m", body="")
    assert integ("model", "put", "p", "m", "-o", "json").json()["action"] == "updated"
    assert json.loads(mock.calls[-1].request.body) == {
        "description": "kept",
        "enabled": False,
        "configuration": {"api_key": "xxxxxxxxxx"},  # the server's mask: it keeps its secret
    }


def test_delete_needs_yes_without_a_terminal(integ: Any, sandbox: str, provider: str) -> None:
    integ("model", "put", provider, "m", "--server", sandbox)
    r = integ("model", "delete", provider, "m", "--server", sandbox)
    assert r.exit_code == 2
    assert "--yes" in r.stderr
    assert integ("model", "get", provider, "m", "--server", sandbox).exit_code == 0


def test_delete_asks_on_a_terminal(
    integ: Any, sandbox: str, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    integ("model", "put", provider, "m", "--server", sandbox)
    monkeypatch.setattr(model_cli, "stdin_is_terminal", lambda: True)
    refused = integ("model", "delete", provider, "m", "--server", sandbox, input="n\n")
    assert refused.exit_code == 0
    assert refused.stderr.endswith("nothing deleted\n")
    assert integ("model", "get", provider, "m", "--server", sandbox).exit_code == 0
    agreed = integ("model", "delete", provider, "m", "--server", sandbox, input="y\n")
    assert agreed.exit_code == 0, agreed.stderr
    assert integ("model", "get", provider, "m", "--server", sandbox).exit_code == 5


def test_delete_several_with_missing_ones(integ: Any, sandbox: str, provider: str) -> None:
    integ("model", "put", provider, "m1", "--server", sandbox)
    r = integ("model", "delete", provider, "m1", "nope", "--yes", "--server", sandbox, "-o", "json")
    assert r.exit_code == 5
    assert [(x["api"], x["action"]) for x in r.json()] == [("m1", "deleted"), ("nope", "failed")]
    assert "provider 'openai' has no model 'nope'" in r.stderr
    assert "--missing-ok" in r.stderr
    ok = integ(
        "model", "delete", provider, "nope", "--yes", "--missing-ok", "--server", sandbox, "-o", "json"
    )
    assert ok.exit_code == 0
    assert ok.json() == [{"integrationName": "openai", "api": "nope", "action": "missing", "error": None}]


def test_delete_of_a_model_of_a_missing_provider(integ: Any, sandbox: str) -> None:
    r = integ("model", "delete", "nope", "m", "--yes", "--server", sandbox)
    assert r.exit_code == 5
    assert "no provider 'nope'" in r.stderr


def test_a_403_is_exit_4(integ: Any, mock: responses.RequestsMock) -> None:
    base = f"{API}/integrations/provider/p"
    mock.get(base, json=live("p"))
    mock.get(f"{base}/integration/m", status=404, json={"message": "no"})
    mock.post(f"{base}/integration/m", status=403, json={"status": 403, "message": "no UPDATE on p"})
    r = integ("model", "put", "p", "m")
    assert r.exit_code == 4
    assert "no UPDATE on p" in r.stderr


def test_no_server_is_usage(integ: Any) -> None:
    r = integ("model", "list", "p")
    assert r.exit_code == 2
    assert "--server" in r.stderr


@pytest.mark.parametrize(
    ("value", "shown"), [("${keyrng}", "${keyrng}"), ("${ENV:MYK}", "${ENV:"), ("${env:HOME", "${env:")]
)
def test_a_mistyped_reference_is_exit_3_naming_it_and_nothing_sent(
    integ: Any, sandbox: str, provider: str, value: str, shown: str
) -> None:
    r = integ("model", "put", provider, "m", "-c", f"api_key={value}", "--server", sandbox)
    assert r.exit_code == 3, r.stderr
    assert f"configuration.api_key: {shown}" in r.stderr and "write $${ for a literal ${" in r.stderr
    assert integ("model", "get", provider, "m", "--server", sandbox).exit_code == 5
