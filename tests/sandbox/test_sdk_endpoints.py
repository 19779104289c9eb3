"""The endpoints and semantics the official SDKs call beyond provider and model CRUD: several
values of one tag key, the flat name list, available models, prompt association, bulk save
and token limits."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.shapes import MASK

from .conftest import OPENAI, Client, assert_error, stored_configuration

GPT = {"description": "GPT-4o", "enabled": True, "configuration": {}}
P = "/integrations/provider/openai"


@pytest.fixture
def provider(client: Client) -> str:
    client.post(P, json=OPENAI).raise_for_status()
    return P


# -- tags: every (key, value) pair as sent -------------------------------------------------


def test_one_key_keeps_every_value_sent(client: Client, provider: str) -> None:
    tags = [{"key": "team", "value": "docs"}, {"key": "team", "value": "marketing"}]
    client.put(f"{provider}/tags", json=tags).raise_for_status()
    assert client.get(f"{provider}/tags").json() == tags
    assert client.get(provider).json()["tags"] == tags
    client.put(f"{provider}/tags", json=[tags[0], {"key": "env", "value": "prod"}]).raise_for_status()
    assert client.get(f"{provider}/tags").json() == [*tags, {"key": "env", "value": "prod"}]
    client.delete(f"{provider}/tags", json=[tags[0]]).raise_for_status()
    assert client.get(f"{provider}/tags").json() == [tags[1], {"key": "env", "value": "prod"}]


def test_model_tags_keep_every_value_too(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    tags = [{"key": "tier", "value": "gold"}, {"key": "tier", "value": "silver"}]
    client.put(f"{provider}/integration/gpt-4o/tags", json=tags).raise_for_status()
    assert client.get(f"{provider}/integration/gpt-4o/tags").json() == tags


def test_a_version_1_data_file_keeps_its_tags_and_takes_several_values(
    db_path: Path, start_sandbox: Callable[..., RunningSandbox]
) -> None:
    conn = sqlite3.connect(db_path)
    conn.executescript(
        """
        CREATE TABLE provider (name TEXT PRIMARY KEY, type TEXT NOT NULL, category TEXT NOT NULL,
            description TEXT NOT NULL, enabled INTEGER NOT NULL, configuration TEXT NOT NULL,
            create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, created_by TEXT NOT NULL,
            updated_by TEXT NOT NULL);
        CREATE TABLE model (provider TEXT NOT NULL, api TEXT NOT NULL, description TEXT NOT NULL,
            enabled INTEGER NOT NULL, configuration TEXT NOT NULL, max_tokens INTEGER,
            create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, created_by TEXT NOT NULL,
            updated_by TEXT NOT NULL, PRIMARY KEY (provider, api));
        CREATE TABLE tag (provider TEXT NOT NULL, api TEXT NOT NULL, key TEXT NOT NULL,
            value TEXT NOT NULL, PRIMARY KEY (provider, api, key));
        INSERT INTO provider VALUES ('old', 'openai', 'AI_MODEL', '', 1, '{"api_key": "sk-old-1"}',
            1, 2, 'a', 'a');
        INSERT INTO tag VALUES ('old', '', 'team', 'docs');
        INSERT INTO tag VALUES ('old', '', 'env', 'prod');
        PRAGMA user_version = 1;
        """
    )
    conn.close()
    c = Client(start_sandbox().url)
    path = "/integrations/provider/old/tags"
    assert c.get(path).json() == [{"key": "team", "value": "docs"}, {"key": "env", "value": "prod"}]
    c.put(path, json=[{"key": "team", "value": "marketing"}]).raise_for_status()
    assert [t["value"] for t in c.get(path).json()] == ["docs", "prod", "marketing"]
    assert c.get("/integrations/provider/old").json()["configuration"] == {"api_key": MASK}


# -- GET /api/integrations/all ---------------------------------------------------------------


def test_all_names_list_a_bare_name_only_for_providers_without_models(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    client.post(f"{provider}/integration/old", json={**GPT, "enabled": False}).raise_for_status()
    client.post("/integrations/provider/vec", json={"type": "pineconedb"}).raise_for_status()
    assert client.get("/integrations/all").json() == ["openai:gpt-4o", "vec"]
    every = client.get("/integrations/all", params={"activeOnly": "false"}).json()
    assert every == ["openai:gpt-4o", "openai:old", "vec"]


def test_all_names_filter_by_provider_type(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    client.post("/integrations/provider/vec", json={"type": "pineconedb"}).raise_for_status()
    assert client.get("/integrations/all", params={"type": "openai"}).json() == ["openai:gpt-4o"]
    assert client.get("/integrations/all", params={"type": "pineconedb"}).json() == ["vec"]
    assert client.get("/integrations/all", params={"type": "mistral"}).json() == []


# -- GET .../integration/all: the provider's model names ---------------------------------------


def test_available_apis_are_the_model_names(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    client.post(f"{provider}/integration/meta%2Fllama", json={**GPT, "enabled": False}).raise_for_status()
    assert client.get(f"{provider}/integration/all").json() == ["gpt-4o", "meta/llama"]
    assert_error(client.get("/integrations/provider/nope/integration/all"), 404, "nope")


# -- prompt association ----------------------------------------------------------------------


def test_associate_a_prompt_and_list_it(client: Client, provider: str) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    base = "/integrations/provider/openai/integration/gpt-4o/prompt"
    assert client.get(base).json() == []
    reply = client.post(f"{base}/summarize")
    assert (reply.status_code, reply.content) == (200, b"")
    client.post(f"{base}/summarize").raise_for_status()  # twice: still one association
    client.post(f"{base}/translate").raise_for_status()
    prompts = client.get(base).json()
    assert [p["name"] for p in prompts] == ["summarize", "translate"]
    assert prompts[0]["integrations"] == ["openai:gpt-4o"]
    assert {"createTime", "updateTime", "createdBy", "updatedBy"} <= set(prompts[0])
    client.delete(f"{provider}/integration/gpt-4o").raise_for_status()
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    assert client.get(base).json() == []  # deleting the model drops its associations


def test_prompt_of_a_missing_provider_or_model_is_404(client: Client, provider: str) -> None:
    assert_error(client.post("/integrations/provider/nope/integration/m/prompt/p"), 404, "nope")
    assert_error(client.post(f"{provider}/integration/nope/prompt/p"), 404, "nope")
    assert_error(client.get(f"{provider}/integration/nope/prompt"), 404, "nope")


# -- bulk save POST /api/integrations/ --------------------------------------------------------


def test_bulk_save_creates_and_updates_providers_with_their_models(
    sandbox: RunningSandbox, client: Client, provider: str
) -> None:
    client.post(f"{provider}/integration/gpt-4o", json=GPT).raise_for_status()
    body = [
        {
            "name": "openai",
            "type": "openai",
            "description": "updated in bulk",
            "configuration": {"api_key": MASK, "endpoint": "https://api.openai.com/v1"},
            "apis": [{"integrationName": "openai", "api": "gpt-4o-mini", "description": "mini"}],
        },
        {
            "name": "vec",
            "type": "pineconedb",
            "enabled": False,
            "configuration": {"api_key": "pc-bulk-1"},
            "tags": [{"key": "team", "value": "search"}],
            "apis": [{"api": "docs-index", "enabled": True}],
        },
    ]
    reply = client.post("/integrations/", json=body)
    assert reply.status_code == 200, reply.text
    got = client.get("/integrations/", params={"activeOnly": "false"}).json()
    assert [(p["name"], [a["api"] for a in p["apis"]]) for p in got] == [
        ("openai", ["gpt-4o", "gpt-4o-mini"]),
        ("vec", ["docs-index"]),
    ]
    assert got[0]["description"] == "updated in bulk"
    assert stored_configuration(sandbox, "openai")["api_key"] == "sk-secret-1"
    assert got[1]["enabled"] is False
    assert got[1]["configuration"] == {"api_key": MASK}
    assert got[1]["tags"] == [{"key": "team", "value": "search"}]


def test_bulk_save_is_all_or_nothing(client: Client, provider: str) -> None:
    body = [
        {"name": "fresh", "type": "openai", "configuration": {}},
        {"name": "openai", "type": "mistral", "configuration": {}},  # a type change: 400
    ]
    assert_error(client.post("/integrations/", json=body), 400, "type cannot be changed")
    assert client.get("/integrations/provider/fresh").status_code == 404


def test_bulk_save_wants_an_array(client: Client) -> None:
    assert_error(client.post("/integrations/", json={"name": "x", "type": "openai"}), 400, "JSON array")


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ([{"type": "openai"}], ["[0].name"]),
        ([{"name": "x", "type": "openai", "apis": [{"description": "no api"}]}], ["[0].apis[0].api"]),
        (
            [{"name": "x", "type": "openai", "apis": [{"integrationName": "y", "api": "m"}]}],
            ["[0].apis[0].integrationName"],
        ),
        ([{"name": "x", "type": "openai", "apis": {"api": "m"}}], ["[0].apis"]),
        (
            [{"name": "x", "enabled": "maybe", "apis": [{"api": "m", "maxTokens": "lots"}]}],
            ["[0].enabled", "[0].apis[0].maxTokens"],
        ),
        ([{"name": "x", "type": "openai", "tags": [{"key": "k"}]}], ["[0].tags[0].value"]),
    ],
)
def test_bulk_save_bodies_are_checked(client: Client, body: object, paths: list[str]) -> None:
    error = assert_error(client.post("/integrations/", json=body), 400)
    assert [e["path"] for e in error["validationErrors"]] == paths
    assert client.get("/integrations/provider/x").status_code == 404


# -- token limits ----------------------------------------------------------------------------


def test_token_limit_set_and_get(client: Client, provider: str) -> None:
    path = "/integrations/llm/openai/token"
    assert_error(client.get(path), 404, "token limit")
    limit = {"integrationName": "openai", "api": "gpt-4o", "maxTokens": 100000, "tokenLimitPeriod": "DAY"}
    reply = client.post(path, json=limit)
    assert (reply.status_code, reply.content) == (200, b"")
    got = client.get(path).json()
    assert {k: got[k] for k in limit} == limit
    assert {"createTime", "updateTime", "createdBy", "updatedBy"} <= set(got)
    for bad in ({"tokenLimitPeriod": "YEAR"}, {"maxTokens": "many"}):
        error = assert_error(client.post(path, json={**limit, **bad}), 400)
        assert [e["path"] for e in error["validationErrors"]] == list(bad)
    assert_error(client.post("/integrations/llm/nope/token", json=limit), 404, "nope")


# -- hardening holds for the new routes --------------------------------------------------------


def test_new_routes_want_a_token_and_refuse_read_only_writes(
    start_sandbox: Callable[..., RunningSandbox],
) -> None:
    secured = start_sandbox(auth=["ci:s3cret", "viewer:v1ew:read"])
    anonymous = Client(secured.url)
    for method, path in [
        ("POST", "/integrations/"),
        ("GET", "/integrations/provider/p/integration/all"),
        ("POST", "/integrations/provider/p/integration/m/prompt/x"),
        ("GET", "/integrations/provider/p/integration/m/prompt"),
        ("POST", "/integrations/llm/p/token"),
    ]:
        assert_error(anonymous.request(method, path, json=[]), 401)
    reader = Client(secured.url, anonymous.token("viewer", "v1ew"))
    assert_error(reader.post("/integrations/", json=[]), 403, "may only read")
    assert_error(reader.post("/integrations/provider/p/integration/m/prompt/x"), 403, "may only read")
    assert_error(reader.post("/integrations/llm/p/token", json={}), 403, "may only read")
