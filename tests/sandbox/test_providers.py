"""Providers: upsert, get, list, delete, and every rule of the reference page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.shapes import MASK
from conductor_integrations.types import builtin

from .conftest import OPENAI, Client, assert_error, stored_configuration


def test_post_creates_and_returns_the_saved_integration(client: Client) -> None:
    reply = client.post("/integrations/provider/openAI-marketing", json=OPENAI)
    assert reply.status_code == 200
    body = reply.json()
    assert body["name"] == "openAI-marketing"
    assert body["type"] == "openai"
    assert body["category"] == "AI_MODEL"
    assert body["description"] == "OpenAI account for the marketing team"
    assert body["enabled"] is True
    assert body["configuration"] == {"api_key": MASK, "endpoint": "https://api.openai.com/v1"}
    assert body["tags"] == []
    assert body["modelsCount"] == 0
    assert body["createdBy"] == body["updatedBy"] == "anonymous"
    assert isinstance(body["createTime"], int)
    assert body["createTime"] == body["updateTime"]
    assert body["createTime"] > 1_600_000_000_000  # epoch milliseconds
    assert client.get("/integrations/provider/openAI-marketing").json() == body


def test_an_update_returns_what_a_read_then_gives_tags_and_models_kept(client: Client) -> None:
    """The reply to a write is not read back from the store: it must still be what a GET
    returns afterwards, the provider's tags and models count included."""
    provider = "/integrations/provider/openAI-marketing"
    client.post(provider, json=OPENAI).raise_for_status()
    client.post(
        f"{provider}/integration/gpt-4o", json={"enabled": True, "configuration": {}}
    ).raise_for_status()
    client.put(f"{provider}/tags", json=[{"key": "team", "value": "ads"}]).raise_for_status()
    update = {"description": "changed", "enabled": False, "configuration": {"api_key": "sk-new", "n": [1, 2]}}
    reply = client.post(provider, json=update)
    assert reply.status_code == 200
    body = reply.json()
    assert body["description"] == "changed"
    assert body["enabled"] is False
    assert body["configuration"] == {"api_key": MASK, "n": [1, 2]}
    assert body["tags"] == [{"key": "team", "value": "ads"}]
    assert body["modelsCount"] == 1
    assert client.get(provider).json() == body


def test_update_keeps_create_audit_and_moves_update_time(client: Client) -> None:
    first = client.post("/integrations/provider/p", json=OPENAI).json()
    second = client.post("/integrations/provider/p", json={**OPENAI, "enabled": False}).json()
    assert second["enabled"] is False
    assert second["createTime"] == first["createTime"]
    assert second["updateTime"] >= first["updateTime"]
    assert second["createdBy"] == first["createdBy"]


def test_every_write_moves_update_time_even_within_one_millisecond(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client tells "written since I read it" by ``updateTime``: two writes in the same
    millisecond (a secret-only change right after another write) must not share one."""
    from conductor_integrations.sandbox import routes

    monkeypatch.setattr(routes, "_now_ms", lambda: 1_800_000_000_000)
    path = "/integrations/provider/p"
    times = [client.post(path, json=OPENAI).json()["updateTime"]]
    secret_only = {**OPENAI, "configuration": {**OPENAI["configuration"], "api_key": "sk-secret-2"}}
    times.append(client.post(path, json=secret_only).json()["updateTime"])
    times.append(client.post(path, json=OPENAI).json()["updateTime"])
    assert times[0] < times[1] < times[2]
    assert client.get(path).json()["updateTime"] == times[2]
    model = f"{path}/integration/m"
    stamps = [
        client.post(model, json={"configuration": {"api_key": str(i)}}).json()["updateTime"] for i in range(3)
    ]
    assert stamps[0] < stamps[1] < stamps[2]


def test_fields_left_out_of_an_update_are_kept(client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    body = client.post("/integrations/provider/p", json={"enabled": False}).json()
    assert body["type"] == "openai"
    assert body["description"] == OPENAI["description"]
    assert body["configuration"] == {"api_key": MASK, "endpoint": "https://api.openai.com/v1"}
    assert body["enabled"] is False


def test_configuration_is_replaced_as_a_whole(sandbox: RunningSandbox, client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    body = client.post("/integrations/provider/p", json={"configuration": {"api_key": "sk-new"}}).json()
    assert body["configuration"] == {"api_key": MASK}
    assert stored_configuration(sandbox, "p") == {"api_key": "sk-new"}


def test_secrets_are_stored_but_read_back_masked(sandbox: RunningSandbox, client: Client) -> None:
    config = {
        "connectionType": "ACCESS_KEY",
        "region": "us-east-1",
        "user": "AKIA123",
        "api_key": "aws-secret",
        "awsAccountId": "123456789012",
        "organizationId": "",
    }
    body = {"type": "aws_bedrock_titan", "configuration": config}
    reply = client.post("/integrations/provider/bedrock", json=body)
    assert reply.status_code == 200
    for read in (reply.json(), client.get("/integrations/provider/bedrock").json()):
        assert read["configuration"] == {**config, "api_key": MASK, "awsAccountId": MASK}
        assert "aws-secret" not in json.dumps(read)
    listed = client.get("/integrations/provider").json()
    assert "aws-secret" not in json.dumps(listed)
    assert stored_configuration(sandbox, "bedrock") == config


@pytest.mark.parametrize("key", sorted(builtin.table().secret_keys))
def test_every_secret_key_is_masked(client: Client, key: str) -> None:
    body = {"type": "openai", "configuration": {key: "value-of-" + key, "endpoint": "e"}}
    read = client.post("/integrations/provider/p", json=body).json()
    assert read["configuration"] == {key: MASK, "endpoint": "e"}


def test_sending_the_mask_back_keeps_the_stored_secret(sandbox: RunningSandbox, client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    read = client.get("/integrations/provider/p").json()
    echoed = {k: read[k] for k in ("type", "category", "description", "configuration")}
    echoed["description"] = "changed"
    assert client.post("/integrations/provider/p", json=echoed).status_code == 200
    assert stored_configuration(sandbox, "p")["api_key"] == "sk-secret-1"
    assert client.get("/integrations/provider/p").json()["description"] == "changed"


def test_the_mask_for_a_key_never_stored_is_kept_as_sent(sandbox: RunningSandbox, client: Client) -> None:
    body = {"type": "openai", "configuration": {"api_key": MASK}}
    assert client.post("/integrations/provider/p", json=body).status_code == 200
    assert stored_configuration(sandbox, "p") == {"api_key": MASK}


def test_category_is_filled_from_the_type_table(client: Client) -> None:
    for name, ptype in (("k", "kafka"), ("a", "aws"), ("s", "sendgrid")):
        body = client.post(f"/integrations/provider/{name}", json={"type": ptype}).json()
        assert body["category"] == builtin.table().types[ptype].category


def test_a_category_given_is_kept(client: Client) -> None:
    body = client.post("/integrations/provider/a", json={"type": "aws", "category": "api"}).json()
    assert body["category"] == "API"


def test_new_provider_defaults(client: Client) -> None:
    body = client.post("/integrations/provider/p", json={"type": "openai"}).json()
    assert body["enabled"] is True
    assert body["description"] == ""
    assert body["configuration"] == {}


def test_type_change_is_a_400(client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    reply = client.post("/integrations/provider/p", json={**OPENAI, "type": "anthropic"})
    assert_error(reply, 400, "type cannot be changed after creation", "openai", "anthropic")
    assert client.get("/integrations/provider/p").json()["type"] == "openai"


def test_unknown_type_is_a_404_with_the_closest_names(client: Client) -> None:
    reply = client.post("/integrations/provider/p", json={**OPENAI, "type": "opena"})
    assert_error(reply, 404, "'opena'", "openai")
    assert client.get("/integrations/provider/p").status_code == 404


def test_creating_without_type_is_a_400_naming_the_field(client: Client) -> None:
    body = assert_error(client.post("/integrations/provider/p", json={"description": "x"}), 400)
    assert [e["path"] for e in body["validationErrors"]] == ["type"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("{not json", ["Malformed JSON"]),
        ("", ["body is missing"]),
        ("[1, 2]", ["expected a JSON object"]),
        (b"\xff\xfe", ["Malformed JSON"]),
    ],
)
def test_malformed_bodies_are_400(client: Client, data: Any, words: list[str]) -> None:
    headers = {"Content-Type": "application/json"}
    assert_error(client.post("/integrations/provider/p", data=data, headers=headers), 400, *words)


def test_a_chunked_body_is_read(client: Client) -> None:
    chunks = iter([b'{"type": "open', b'ai", "description": "chunked"}'])
    reply = client.post("/integrations/provider/p", data=chunks, headers={"Content-Type": "application/json"})
    assert reply.request.headers["Transfer-Encoding"] == "chunked"
    assert reply.status_code == 200, reply.text
    assert reply.json()["description"] == "chunked"


def test_wrong_field_types_are_all_reported(client: Client) -> None:
    body = {"type": 5, "enabled": "maybe", "configuration": "k=v", "category": "NOPE"}
    found = assert_error(client.post("/integrations/provider/p", json=body), 400)
    assert {e["path"] for e in found["validationErrors"]} == {"type", "enabled", "configuration", "category"}


def test_get_and_delete_of_a_missing_provider_are_404(client: Client) -> None:
    assert_error(client.get("/integrations/provider/nope"), 404, "'nope'")
    assert_error(client.delete("/integrations/provider/nope"), 404, "'nope'")


def test_delete_removes_the_provider(client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    reply = client.delete("/integrations/provider/p")
    assert reply.status_code == 200
    assert reply.content == b""
    assert client.get("/integrations/provider/p").status_code == 404


def test_names_are_percent_decoded(client: Client) -> None:
    reply = client.post("/integrations/provider/team%2Fopen%20ai", json=OPENAI)
    assert reply.json()["name"] == "team/open ai"
    assert client.get("/integrations/provider/team%2Fopen%20ai").json()["name"] == "team/open ai"
    assert [p["name"] for p in client.get("/integrations/provider").json()] == ["team/open ai"]


def test_list_hides_disabled_providers_unless_active_only_is_false(client: Client) -> None:
    client.post("/integrations/provider/on", json=OPENAI).raise_for_status()
    client.post("/integrations/provider/off", json={**OPENAI, "enabled": False}).raise_for_status()
    assert [p["name"] for p in client.get("/integrations/provider").json()] == ["on"]
    assert [p["name"] for p in client.get("/integrations/provider?activeOnly=true").json()] == ["on"]
    everything = client.get("/integrations/provider", params={"activeOnly": "false"}).json()
    assert [p["name"] for p in everything] == ["off", "on"]


def test_list_filters_by_category(client: Client) -> None:
    client.post("/integrations/provider/llm", json=OPENAI).raise_for_status()
    client.post("/integrations/provider/vec", json={"type": "pineconedb"}).raise_for_status()
    found = client.get("/integrations/provider", params={"category": "VECTOR_DB"}).json()
    assert [p["name"] for p in found] == ["vec"]
    assert client.get("/integrations/provider", params={"category": "EMAIL"}).json() == []
    assert_error(client.get("/integrations/provider", params={"category": "BOGUS"}), 400)
    assert_error(client.get("/integrations/provider", params={"activeOnly": "maybe"}), 400)


def test_list_items_carry_the_full_shape(client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    (item,) = client.get("/integrations/provider").json()
    assert set(item) == {
        "name", "type", "category", "description", "enabled", "configuration", "tags",
        "modelsCount", "createTime", "updateTime", "createdBy", "updatedBy",
    }  # fmt: skip


def test_unknown_paths_and_methods(client: Client) -> None:
    assert_error(client.get("/integrations/nothing/here"), 404, "No endpoint")
    assert_error(client.get("/../elsewhere"), 404)
    reply = client.request("PATCH", "/integrations/provider/p", json={})
    assert_error(reply, 405, "PATCH")
    assert reply.headers["Allow"] == "DELETE, GET, POST"
    assert_error(client.request("OPTIONS", "/integrations/provider"), 501, "OPTIONS")
    head = client.request("HEAD", "/integrations/provider/nope")
    assert (head.status_code, head.content) == (404, b"")


def test_a_trailing_slash_names_the_same_resource(client: Client) -> None:
    client.post("/integrations/provider/p/", json=OPENAI).raise_for_status()
    assert client.get("/integrations/provider/p/").json()["name"] == "p"
    assert [p["name"] for p in client.get("/integrations/provider/").json()] == ["p"]


def test_keep_alive_serves_many_requests_on_one_connection(client: Client) -> None:
    for i in range(20):
        client.post(f"/integrations/provider/p{i}", json=OPENAI).raise_for_status()
    replies = [client.get(f"/integrations/provider/p{i}") for i in range(20)]
    assert all(r.status_code == 200 for r in replies)
    assert all(r.headers.get("Connection", "").lower() != "close" for r in replies)
