"""``/api/integrations/def``: the IntegrationDef documents come from the embedded table."""

from __future__ import annotations

from typing import Any

import pytest

from conductor_integrations.sandbox.defs import field_label
from conductor_integrations.types import builtin

from .conftest import Client, assert_error

TABLE = builtin.table()
FIELD_TYPES = {"PASSWORD", "TEXT", "FILE", "DROPDOWN"}


@pytest.fixture
def defs(client: Client) -> dict[str, dict[str, Any]]:
    reply = client.get("/integrations/def")
    assert reply.status_code == 200
    return {d["type"]: d for d in reply.json()}


def test_every_table_type_has_a_definition(defs: dict[str, dict[str, Any]]) -> None:
    assert list(defs) == list(TABLE.types)


@pytest.mark.parametrize("name", list(TABLE.types))
def test_definition_matches_the_table(defs: dict[str, dict[str, Any]], name: str) -> None:
    ptype = TABLE.types[name]
    found = defs[name]
    assert set(found) >= {
        "name",
        "type",
        "category",
        "categoryLabel",
        "description",
        "enabled",
        "iconName",
        "tags",
    }
    assert (found["name"], found["category"], found["enabled"], found["tags"]) == (
        ptype.label,
        ptype.category,
        True,
        [],
    )
    fields = {f["fieldName"]: f for f in found["configuration"]}
    assert list(fields) == list(ptype.all_keys)
    for key, field in fields.items():
        assert field["fieldType"] == builtin.field_type(ptype, key)
        assert field["fieldType"] in FIELD_TYPES
        assert (field["fieldType"] in ("PASSWORD", "FILE")) == builtin.is_secret_key(key)
        assert set(field) >= {"fieldName", "fieldType", "label", "description", "defaultValue", "optional"}
        required = key in ptype.effective_required or key in ptype.conditional_keys
        assert field["optional"] is not required


def test_connection_type_is_a_dropdown_with_its_choices(defs: dict[str, dict[str, Any]]) -> None:
    fields = {f["fieldName"]: f for f in defs["aws_bedrock_anthropic"]["configuration"]}
    assert fields["connectionType"]["fieldType"] == "DROPDOWN"
    assert [o["value"] for o in fields["connectionType"]["valueOptions"]] == [
        "ACCESS_KEY",
        "EXTERNAL_ROLE",
        "CONDUCTOR_ROLE",
    ]
    assert fields["roleArn"]["dependsOn"] == [{"fieldName": "connectionType", "value": "EXTERNAL_ROLE"}]
    assert fields["api_key"]["fieldType"] == "PASSWORD"
    assert fields["awsAccountId"]["optional"] is True
    assert "dependsOn" not in fields["region"]


def test_server_resolved_keys_are_optional(defs: dict[str, dict[str, Any]]) -> None:
    fields = {f["fieldName"]: f for f in defs["pineconedb"]["configuration"]}
    assert fields["projectName"]["optional"] is True
    assert fields["api_key"]["optional"] is False


def test_file_keys(defs: dict[str, dict[str, Any]]) -> None:
    fields = {f["fieldName"]: f for f in defs["gcp_pubsub"]["configuration"]}
    assert fields["file"]["fieldType"] == "FILE"


def test_one_definition(client: Client, defs: dict[str, dict[str, Any]]) -> None:
    assert client.get("/integrations/def/openai").json() == defs["openai"]
    assert_error(client.get("/integrations/def/nope"), 404, "'nope'")


@pytest.mark.parametrize(
    ("key", "label"),
    [("api_key", "API key"), ("datasourceURL", "Datasource URL"), ("roleArn", "Role ARN"), ("tls", "TLS")],
)
def test_field_label(key: str, label: str) -> None:
    assert field_label(key) == label
