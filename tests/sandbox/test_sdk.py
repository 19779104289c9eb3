"""Wire compatibility with the official Python SDK (``conductor-python``): its integration
client saves and reads providers, models and tags against the sandbox.

SDK quirks met here (and written down in the README):
- its URL ends in ``/api`` (``Configuration(server_api_url=URL + "/api")``);
- ``get_integration_api``, ``delete_integration_api`` and the model-tag calls take the
  *provider* first, whatever their parameter names say;
- it maps ``createdOn``/``updatedOn``, which servers do not send (they send ``createTime``/
  ``updateTime``), so those stay None;
- it refuses, client-side, categories other than API, AI_MODEL, VECTOR_DB, RELATIONAL_DB;
- its model setters emit DeprecationWarning while it deserialises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.shapes import MASK

from .conftest import OPENAI, Client

pytest.importorskip("conductor.client.orkes.orkes_integration_client")

from conductor.client.configuration.configuration import Configuration
from conductor.client.configuration.settings.authentication_settings import AuthenticationSettings
from conductor.client.http.models.integration_api_update import IntegrationApiUpdate
from conductor.client.http.models.integration_update import IntegrationUpdate
from conductor.client.http.models.tag_object import TagObject
from conductor.client.orkes.orkes_integration_client import OrkesIntegrationClient

pytestmark = [pytest.mark.sdk, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def sdk_client(sandbox: RunningSandbox, key: tuple[str, str] | None = None) -> Any:
    auth = AuthenticationSettings(key_id=key[0], key_secret=key[1]) if key else None
    config = Configuration(server_api_url=f"{sandbox.url}/api", authentication_settings=auth)
    return OrkesIntegrationClient(config)


@pytest.fixture
def secured(start_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return start_sandbox(auth=["ci:s3cret"])


def test_sdk_saves_and_reads_a_provider_with_token_auth(secured: RunningSandbox) -> None:
    sdk = sdk_client(secured, ("ci", "s3cret"))
    update = IntegrationUpdate(
        type="openai",
        category="AI_MODEL",
        description="from the SDK",
        enabled=False,
        configuration={"api_key": "sk-sdk", "endpoint": "https://api.openai.com/v1"},
    )
    sdk.save_integration("openai-sdk", update)
    got = sdk.get_integration("openai-sdk")
    assert (got.name, got.type, got.category, got.description, got.enabled) == (
        "openai-sdk",
        "openai",
        "AI_MODEL",
        "from the SDK",
        False,
    )
    assert got.configuration == {"api_key": MASK, "endpoint": "https://api.openai.com/v1"}
    assert (got.created_by, got.updated_by, got.models_count, got.tags) == ("ci", "ci", 0, [])
    assert got.created_on is None  # the SDK's name; the server sends createTime
    token = Client(secured.url).token("ci", "s3cret")
    raw = Client(secured.url, token).get("/integrations/provider/openai-sdk").json()
    assert isinstance(raw["createTime"], int)


def test_sdk_lists_gets_none_for_missing_and_deletes(sandbox: RunningSandbox) -> None:
    sdk = sdk_client(sandbox)  # no auth: /api/token answers 404 and the SDK goes on without
    sdk.save_integration("vec", IntegrationUpdate(type="pineconedb", category="VECTOR_DB", enabled=True))
    sdk.save_integration(
        "db", IntegrationUpdate(type="relational_db", category="RELATIONAL_DB", enabled=True)
    )
    assert sorted(p.name for p in sdk.get_integrations()) == ["db", "vec"]
    assert sdk.get_integration("missing") is None
    sdk.delete_integration("vec")
    assert sdk.get_integration("vec") is None


def test_sdk_models_and_tags(sandbox: RunningSandbox) -> None:
    sdk = sdk_client(sandbox)
    sdk.save_integration("openai", IntegrationUpdate(type="openai", category="AI_MODEL", enabled=True))
    sdk.save_integration_api("openai", "gpt-4o", IntegrationApiUpdate(description="GPT-4o", enabled=True))
    sdk.save_integration_api("openai", "meta/llama", IntegrationApiUpdate(description="slash", enabled=True))
    model = sdk.get_integration_api("openai", "gpt-4o")  # provider first, despite the names
    assert (model.integration_name, model.api, model.description, model.enabled) == (
        "openai",
        "gpt-4o",
        "GPT-4o",
        True,
    )
    assert sorted(m.api for m in sdk.get_integration_apis("openai")) == ["gpt-4o", "meta/llama"]
    assert sdk.get_integration("openai").models_count == 2
    sdk.put_tag_for_integration_provider([TagObject(key="team", value="ml")], "openai")
    assert [(t.key, t.value) for t in sdk.get_tags_for_integration_provider("openai")] == [("team", "ml")]
    sdk.put_tag_for_integration([TagObject(key="tier", value="gold")], "openai", "gpt-4o")
    assert [(t.key, t.value) for t in sdk.get_tags_for_integration("openai", "gpt-4o")] == [("tier", "gold")]
    sdk.delete_tag_for_integration([TagObject(key="tier", value="gold")], "openai", "gpt-4o")
    assert sdk.get_tags_for_integration("openai", "gpt-4o") == []
    sdk.delete_integration_api("openai", "meta/llama")
    assert sdk.get_integration_api("openai", "meta/llama") is None
    assert sdk.get_providers_and_integrations() == ["openai:gpt-4o"]


def test_sdk_reads_what_plain_http_wrote(client: Client, sandbox: RunningSandbox) -> None:
    client.post("/integrations/provider/openai", json=OPENAI).raise_for_status()
    for name in ("gpt-4o", "gpt-4o-mini"):
        client.post(
            f"/integrations/provider/openai/integration/{name}", json={"description": name}
        ).raise_for_status()
    client.put("/integrations/provider/openai/tags", json=[{"key": "team", "value": "ml"}]).raise_for_status()
    sdk = sdk_client(sandbox)
    provider = sdk.get_integration("openai")
    assert (provider.description, provider.models_count) == (OPENAI["description"], 2)
    assert [(t.key, t.value) for t in provider.tags] == [("team", "ml")]
    assert [m.api for m in sdk.get_integration_apis("openai")] == ["gpt-4o", "gpt-4o-mini"]
