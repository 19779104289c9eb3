"""Models (integration APIs), tags, and the listings that include them."""

from __future__ import annotations

import pytest

from conductor_integrations.sandbox.shapes import MASK

from .conftest import OPENAI, Client, assert_error

GPT = {"description": "GPT-4o", "enabled": True, "configuration": {}}


@pytest.fixture
def provider(client: Client) -> str:
    client.post("/integrations/provider/openai", json=OPENAI).raise_for_status()
    return "/integrations/provider/openai"


def test_model_upsert_and_shape(client: Client, provider: str) -> None:
    reply = client.post(f"{provider}/integration/gpt-4o", json={**GPT, "maxTokens": 128})
    assert reply.status_code == 200
    saved = reply.json()
    assert {k: saved[k] for k in ("integrationName", "api", "description", "enabled", "configuration")} == {
        "integrationName": "openai",
        "api": "gpt-4o",
        "description": "GPT-4o",
        "enabled": True,
        "configuration": {},
    }
    assert saved["tags"] == []
    assert saved["maxTokens"] == 128
    assert saved["createdBy"] == saved["updatedBy"] == "anonymous"
    assert saved["createTime"] == saved["updateTime"]
    assert client.get(f"{provider}/integration/gpt-4o").json() == saved
    updated = client.post(f"{provider}/integration/gpt-4o", json={"enabled": False}).json()
    assert (updated["description"], updated["enabled"], updated["createTime"]) == (
        "GPT-4o",
        False,
        saved["createTime"],
    )


def test_model_of_a_missing_provider_is_404(client: Client) -> None:
    missing = "/integrations/provider/nope/integration/gpt-4o"
    assert_error(client.post(missing, json=GPT), 404, "'nope'")
    assert_error(client.get(missing), 404, "'nope'")
    assert_error(client.delete(missing), 404, "'nope'")
    assert_error(client.get("/integrations/provider/nope/integration"), 404, "'nope'")


def test_missing_model_is_404(client: Client, provider: str) -> None:
    assert_error(client.get(f"{provider}/integration/nope"), 404, "openai/nope")
    assert_error(client.delete(f"{provider}/integration/nope"), 404, "openai/nope")


def test_model_bodies_are_checked(client: Client, provider: str) -> None:
    assert_error(
        client.post(f"{provider}/integration/m", data="{", headers={"Content-Type": "application/json"}), 400
    )
    body = assert_error(
        client.post(f"{provider}/integration/m", json={"enabled": "x", "maxTokens": "many"}), 400
    )
    assert {e["path"] for e in body["validationErrors"]} == {"enabled", "maxTokens"}


def test_model_secrets_are_masked(client: Client, provider: str) -> None:
    saved = client.post(
        f"{provider}/integration/m", json={**GPT, "configuration": {"api_key": "k", "x": "1"}}
    )
    assert saved.json()["configuration"] == {"api_key": MASK, "x": "1"}


def test_models_list_hides_disabled_ones_by_default_and_counts_all(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/b-on", json=GPT).raise_for_status()
    client.post(f"{provider}/integration/a-off", json={**GPT, "enabled": False}).raise_for_status()
    assert [m["api"] for m in client.get(f"{provider}/integration").json()] == ["b-on"]
    everything = client.get(f"{provider}/integration", params={"activeOnly": "false"}).json()
    assert [m["api"] for m in everything] == ["a-off", "b-on"]
    assert client.get(provider).json()["modelsCount"] == 2
    client.delete(f"{provider}/integration/a-off").raise_for_status()
    assert client.get(provider).json()["modelsCount"] == 1


def test_model_names_with_a_slash(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/meta%2Fllama-3", json=GPT).raise_for_status()
    assert client.get(f"{provider}/integration/meta%2Fllama-3").json()["api"] == "meta/llama-3"


def test_provider_tags_put_get_delete(client: Client, provider: str) -> None:
    tags = [{"key": "team", "value": "ml"}, {"key": "env", "value": "prod"}]
    reply = client.put(f"{provider}/tags", json=tags)
    assert (reply.status_code, reply.content) == (200, b"")
    assert client.get(f"{provider}/tags").json() == tags
    assert client.get(provider).json()["tags"] == tags
    client.put(f"{provider}/tags", json=[{"key": "team", "value": "platform"}]).raise_for_status()
    platform = {"key": "team", "value": "platform"}
    assert client.get(f"{provider}/tags").json() == [*tags, platform]  # a key keeps every value
    client.delete(f"{provider}/tags", json=[{"key": "env", "value": "other"}]).raise_for_status()
    assert len(client.get(f"{provider}/tags").json()) == 3  # value must match
    client.delete(f"{provider}/tags", json=[{"key": "env", "value": "prod"}, tags[0]]).raise_for_status()
    assert client.get(f"{provider}/tags").json() == [platform]


def test_tag_bodies_are_checked(client: Client, provider: str) -> None:
    assert_error(client.put(f"{provider}/tags", json={"key": "k", "value": "v"}), 400, "JSON array")
    body = assert_error(client.put(f"{provider}/tags", json=[{"value": "v"}, {"key": "k"}]), 400)
    assert [e["path"] for e in body["validationErrors"]] == ["[0].key", "[1].value"]


def test_tags_of_a_missing_provider_or_model_are_404(client: Client, provider: str) -> None:
    assert_error(client.get("/integrations/provider/nope/tags"), 404)
    assert_error(client.put("/integrations/provider/nope/tags", json=[{"key": "k", "value": "v"}]), 404)
    assert_error(client.get(f"{provider}/integration/nope/tags"), 404)


def test_model_tags(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    tags = [{"key": "tier", "value": "gold"}]
    client.put(f"{provider}/integration/gpt-4o/tags", json=tags).raise_for_status()
    assert client.get(f"{provider}/integration/gpt-4o/tags").json() == tags
    assert client.get(f"{provider}/integration/gpt-4o").json()["tags"] == tags
    assert client.get(f"{provider}/tags").json() == []  # the provider's own tags are separate
    client.delete(f"{provider}/integration/gpt-4o/tags", json=tags).raise_for_status()
    assert client.get(f"{provider}/integration/gpt-4o/tags").json() == []


def test_deleting_a_provider_deletes_its_models_and_tags(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    client.put(f"{provider}/tags", json=[{"key": "team", "value": "ml"}]).raise_for_status()
    client.put(f"{provider}/integration/gpt-4o/tags", json=[{"key": "t", "value": "g"}]).raise_for_status()
    client.delete(provider).raise_for_status()
    recreated = client.post(provider, json=OPENAI).json()
    assert (recreated["modelsCount"], recreated["tags"]) == (0, [])
    assert client.get(f"{provider}/integration", params={"activeOnly": "false"}).json() == []
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    assert client.get(f"{provider}/integration/gpt-4o/tags").json() == []


def test_all_integrations_embed_their_models(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    client.post(f"{provider}/integration/old", json={**GPT, "enabled": False}).raise_for_status()
    client.post(
        "/integrations/provider/vec", json={"type": "pineconedb", "enabled": False}
    ).raise_for_status()
    for path in ("/integrations/", "/integrations"):
        (only,) = client.get(path).json()
        assert only["name"] == "openai"
        assert [a["api"] for a in only["apis"]] == ["gpt-4o"]
    everything = client.get("/integrations/", params={"activeOnly": "false"}).json()
    assert [(p["name"], [a["api"] for a in p["apis"]]) for p in everything] == [
        ("openai", ["gpt-4o", "old"]),
        ("vec", []),
    ]


def test_all_names(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    client.post("/integrations/provider/vec", json={"type": "pineconedb"}).raise_for_status()
    assert client.get("/integrations/all").json() == ["openai:gpt-4o", "vec"]
    assert client.get("/integrations/all", params={"category": "VECTOR_DB"}).json() == ["vec"]
