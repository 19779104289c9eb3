"""Models and tags end to end: the real ``integ`` process writes them to the real
``integ server`` process, and the official SDK reads what integ wrote."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest

from .conftest import Run, ServerProcess, run_integ

pytestmark = pytest.mark.e2e

KEY = {"OPENAI_KEY": "sk-e2e-secret-value"}


@pytest.fixture
def provider(integ: Callable[..., Run]) -> str:
    put = integ("provider", "put", "openai", "-t", "openai", "-c", "api_key=${env:OPENAI_KEY}", **KEY)
    assert put.code == 0, put.stderr
    return "openai"


def test_model_put_get_list_delete(integ: Callable[..., Run], provider: str) -> None:
    put = integ("model", "put", provider, "gpt-4o", "-d", "GPT-4o")
    assert put.code == 0, put.stderr
    off = integ("model", "put", provider, "gpt-3.5", "-d", "old", "--disabled")
    assert off.code == 0, off.stderr
    got = integ("model", "get", provider, "gpt-4o", "-o", "json")
    assert got.code == 0, got.stderr
    assert (got.json()["api"], got.json()["description"], got.json()["enabled"]) == ("gpt-4o", "GPT-4o", True)
    listed = integ("model", "list", provider, "-o", "json")
    assert sorted(m["api"] for m in listed.json()) == ["gpt-3.5", "gpt-4o"]  # disabled ones too
    active = integ("model", "list", provider, "--active-only", "-o", "json")
    assert [m["api"] for m in active.json()] == ["gpt-4o"]
    assert integ("provider", "get", provider, "-o", "json").json()["modelsCount"] == 2
    assert integ("model", "delete", provider, "gpt-3.5", "--yes").code == 0
    assert integ("model", "get", provider, "gpt-3.5").code == 5


def test_model_of_a_missing_provider_exits_5(integ: Callable[..., Run]) -> None:
    result = integ("model", "put", "nope", "gpt-4o", "-d", "x")
    assert result.code == 5
    assert "nope" in result.stderr


def test_provider_tags(integ: Callable[..., Run], provider: str) -> None:
    assert integ("provider", "tag", "set", provider, "team=ml", "env=prod").code == 0
    listed = integ("provider", "tag", "list", provider, "-o", "json")
    assert listed.code == 0, listed.stderr
    assert sorted((t["key"], t["value"]) for t in listed.json()) == [("env", "prod"), ("team", "ml")]
    assert integ("provider", "tag", "remove", provider, "env=prod").code == 0
    after = integ("provider", "tag", "list", provider, "-o", "json").json()
    assert [(t["key"], t["value"]) for t in after] == [("team", "ml")]


def test_read_only_key_cannot_write_models(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--quiet", "--auth", "ci:s3cret", "--auth", "viewer:v1ew:read")
    writer = {
        "CONDUCTOR_SERVER_URL": server.url,
        "CONDUCTOR_AUTH_KEY": "ci",
        "CONDUCTOR_AUTH_SECRET": "s3cret",
    }
    reader = {**writer, "CONDUCTOR_AUTH_KEY": "viewer", "CONDUCTOR_AUTH_SECRET": "v1ew"}
    put = run_integ(
        "provider", "put", "openai", "-t", "openai", "-c", "api_key=${env:OPENAI_KEY}", **writer, **KEY
    )
    assert put.code == 0, put.stderr
    assert run_integ("model", "put", "openai", "gpt-4o", "-d", "x", **reader).code == 4
    assert run_integ("provider", "tag", "set", "openai", "team=ml", **reader).code == 4
    assert run_integ("model", "list", "openai", **reader).code == 0


def test_the_sdk_reads_the_models_integ_wrote(
    integ: Callable[..., Run], provider: str, server: ServerProcess
) -> None:
    pytest.importorskip("conductor.client.orkes.orkes_integration_client")
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.orkes.orkes_integration_client import OrkesIntegrationClient

    for name in ("gpt-4o", "gpt-4o-mini"):
        assert integ("model", "put", provider, name, "-d", name).code == 0
    sdk = OrkesIntegrationClient(Configuration(server_api_url=f"{server.url}/api"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's own model setters
        models = sdk.get_integration_apis(provider)
        one = sdk.get_integration_api(provider, "gpt-4o")  # provider first, whatever the names say
    assert sorted(m.api for m in models) == ["gpt-4o", "gpt-4o-mini"]
    assert (one.integration_name, one.description) == (provider, "gpt-4o")
