"""`integ provider get|list|delete` through the CLI, against exact server replies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from responses import matchers

from conductor_integrations.cli import provider as provider_cli
from tests.cli.provider_stubs import API, SERVER, URL, live, stub_server


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    yield from stub_server(monkeypatch)


# -- get and list -------------------------------------------------------------------------------


def test_get_table_masks_secrets(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, json=live(configuration={"api_key": "sk-not-masked-by-server", "endpoint": "https://e"}))
    r = integ("provider", "get", "openAI-marketing")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "name:         openAI-marketing",
        "type:         openai",
        "category:     AI_MODEL",
        "description:  OpenAI account for the marketing team",
        "enabled:      yes",
        "models:       2",
        "tags:         -",
        "created:      2025-11-28 10:43 UTC by john.doe@acme.com",
        "updated:      2025-11-28 10:45 UTC by john.doe@acme.com",
        "configuration:",
        "  api_key:  ********",
        "  endpoint: https://e",
    ]
    assert "sk-not-masked-by-server" not in r.output


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_get_machine_output_has_stable_keys(fmt: str, integ: Any, mock: responses.RequestsMock) -> None:
    import yaml

    mock.get(
        URL,
        json={
            "name": "openAI-marketing",
            "type": "openai",
            "ownerApp": "x",
            "configuration": {"api_key": "xxxxxxxxxx"},
            "createdOn": 1,
            "updatedOn": 2,
        },
    )
    r = integ("provider", "get", "openAI-marketing", "-o", fmt)
    assert r.exit_code == 0, r.stderr
    data = yaml.safe_load(r.stdout)
    assert list(data) == [
        "name",
        "type",
        "category",
        "description",
        "enabled",
        "configuration",
        "modelsCount",
        "tags",
        "createTime",
        "createdBy",
        "updateTime",
        "updatedBy",
    ]
    assert data["configuration"] == {"api_key": "********"}
    assert (data["createTime"], data["updateTime"]) == (1, 2)


def test_get_missing_exits_5(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, status=404, json={"status": 404, "message": "Integration openAI-marketing not found"})
    r = integ("provider", "get", "openAI-marketing")
    assert r.exit_code == 5
    assert r.stderr.startswith(f"error: no provider 'openAI-marketing' on {SERVER}")
    assert r.stdout == ""


def test_list_table_includes_disabled_providers(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider",
        match=[matchers.query_param_matcher({"activeOnly": "false"})],
        json=[
            live("zeta", enabled=False, modelsCount=0, updateTime=None, updatedOn=None),
            {
                "name": "alpha",
                "type": "pineconedb",
                "category": "VECTOR_DB",
                "enabled": True,
                "modelsCount": 1,
                "updatedOn": 1700000000000,
            },
        ],
    )
    r = integ("provider", "list")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "NAME    TYPE         CATEGORY    ENABLED   MODELS   UPDATED",
        "alpha   pineconedb   VECTOR_DB   yes       1        2023-11-14 22:13 UTC",
        "zeta    openai       AI_MODEL    no        0        2025-11-28 10:43 UTC",
    ]


def test_list_active_only_and_category_go_to_the_server(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider",
        match=[matchers.query_param_matcher({"activeOnly": "true", "category": "AI_MODEL"})],
        json=[live()],
    )
    r = integ("provider", "list", "--active-only", "--category", "ai_model", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [p["name"] for p in r.json()] == ["openAI-marketing"]
    assert r.json()[0]["configuration"] == {"api_key": "********"}


def test_list_empty(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider", json=[])
    mock.get(f"{API}/integrations/provider", json=[])
    r = integ("provider", "list")
    assert (r.exit_code, r.stdout) == (0, "")
    assert "no providers" in r.stderr
    assert integ("provider", "list", "-o", "json").json() == []


def test_list_and_put_remember_names_for_completion(
    integ: Any, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    remember = provider_cli.complete_values
    monkeypatch.setattr(remember, "remember_providers", lambda names, server: seen.append(list(names)))
    mock.get(f"{API}/integrations/provider", json=[live("a"), live("b")])
    assert integ("provider", "list").exit_code == 0
    assert seen == [["a", "b"]]


# -- delete ---------------------------------------------------------------------------------------


def test_delete_with_yes(integ: Any, mock: responses.RequestsMock) -> None:
    mock.delete(URL)
    r = integ("provider", "delete", "openAI-marketing", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "deleted provider openAI-marketing" in r.stderr


def test_delete_drops_the_name_from_completion(integ: Any, mock: responses.RequestsMock) -> None:
    from conductor_integrations.cli import complete_values

    complete_values.remember_providers(["openAI-marketing", "other"], server=SERVER)
    mock.delete(URL)
    assert integ("provider", "delete", "openAI-marketing", "--yes").exit_code == 0
    assert complete_values.known_providers(SERVER) == ["other"]


def test_delete_without_terminal_needs_yes(integ: Any, mock: responses.RequestsMock) -> None:
    r = integ("provider", "delete", "openAI-marketing")
    assert r.exit_code == 2
    assert "pass --yes" in r.stderr
    assert not mock.calls


@pytest.mark.parametrize(("answer", "code", "sent"), [("y\n", 0, True), ("n\n", 0, False)])
def test_delete_asks_on_a_terminal(
    answer: str,
    code: int,
    sent: bool,
    integ: Any,
    mock: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider_cli, "stdin_is_terminal", lambda: True)
    if sent:
        mock.delete(URL)
    r = integ("provider", "delete", "openAI-marketing", input=answer)
    assert r.exit_code == code
    assert f"Delete 1 provider from {SERVER}: openAI-marketing?" in r.stderr
    assert len(mock.calls) == int(sent)


def test_delete_missing_exits_5_unless_missing_ok(integ: Any, mock: responses.RequestsMock) -> None:
    mock.delete(URL, status=404, json={"message": "Integration openAI-marketing not found"})
    mock.delete(URL, status=404, json={"message": "Integration openAI-marketing not found"})
    r = integ("provider", "delete", "openAI-marketing", "--yes")
    assert r.exit_code == 5
    assert "no provider 'openAI-marketing'" in r.stderr
    assert "Integration openAI-marketing not found" in r.stderr
    ok = integ("provider", "delete", "openAI-marketing", "--yes", "--missing-ok", "-o", "json")
    assert ok.exit_code == 0
    assert ok.json() == [{"name": "openAI-marketing", "action": "missing", "error": None}]


def test_delete_several_reports_each_and_exits_with_the_first_failure(
    integ: Any, mock: responses.RequestsMock
) -> None:
    mock.delete(f"{API}/integrations/provider/a")
    mock.delete(f"{API}/integrations/provider/b", status=404)
    mock.delete(f"{API}/integrations/provider/c", status=409, json={"message": "in use"})
    r = integ("provider", "delete", "a", "b", "c", "--yes")
    assert r.exit_code == 5
    assert "deleted provider a" in r.stderr
    assert "no provider 'b'" in r.stderr
    assert "in use" in r.stderr
    assert r.stderr.rstrip().endswith("error: 2 of 3 providers not deleted")
