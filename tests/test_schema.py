"""``integ types schema``: a JSON Schema (draft 2020-12) for provider documents, checked
with the ``jsonschema`` library against every ``types show --example`` document (valid
once the placeholders are filled, invalid before) and against invalid documents."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from conductor_integrations.types import builtin

TYPES = builtin.table().names()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from conductor_integrations.documents import schema as schema_mod

    found = schema_mod.build(builtin.table())
    Draft202012Validator.check_schema(found)
    return found


def valid(schema: dict[str, Any], doc: Any) -> bool:
    return Draft202012Validator(schema).is_valid(doc)


def example(name: str, filled: bool = True) -> Any:
    from conductor_integrations.cli.types import example_document

    text = example_document(builtin.table().types[name])
    if filled:
        text = re.sub(r"<[A-Z][A-Z0-9-]*>", "filled", text)
    return yaml.safe_load(text)


@pytest.mark.parametrize("name", TYPES)
def test_every_example_is_valid_once_filled(schema: dict[str, Any], name: str) -> None:
    doc = example(name)
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("name", [n for n in TYPES if "<" in json.dumps(example(n, filled=False))])
def test_an_example_with_its_placeholders_is_invalid(schema: dict[str, Any], name: str) -> None:
    assert not valid(schema, example(name, filled=False))


def test_a_list_of_documents_is_accepted(schema: dict[str, Any]) -> None:
    assert valid(schema, [example("openai"), example("kafka")])
    assert not valid(schema, [example("openai"), {"name": "x"}])


def kafka(**config: Any) -> dict[str, Any]:
    base = {"endpoint": "b:9092", "connectionType": "SASL", "protocol": "TLS"}
    base.update(config)
    return {"name": "k", "type": "kafka", "configuration": {k: v for k, v in base.items() if v is not None}}


INVALID = {
    "no name": {"type": "openai", "configuration": {"api_key": "k"}},
    "no type": {"name": "p"},
    "unknown type": {"name": "p", "type": "openia"},
    "unknown field": {**kafka(), "configuraton": {}},
    "required key missing": kafka(protocol=None),
    "required key empty": kafka(protocol=""),
    "unknown key": kafka(grupId="g"),
    "structured value": kafka(protocol={"a": 1}),
    "enabled not boolean": {**kafka(), "enabled": "yes"},
    "unknown category": {**kafka(), "category": "AI_MODELS"},
    "aws bad connectionType": {
        "name": "a",
        "type": "aws",
        "configuration": {"connectionType": "PASSWORD", "region": "r"},
    },
    "aws EXTERNAL_ROLE without roleArn": {
        "name": "a",
        "type": "aws",
        "configuration": {"connectionType": "EXTERNAL_ROLE", "region": "r", "externalId": "e"},
    },
    "model without name": {**kafka(), "models": [{"description": "d"}]},
    "model unknown field": {**kafka(), "models": [{"name": "m", "enabld": True}]},
    "tags not a mapping or list": {**kafka(), "tags": "team=ml"},
    "tag list item without key": {**kafka(), "tags": [{"value": "ml"}]},
    "tag without value": {**kafka(), "tags": {"team": None}},
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_documents_are_invalid(schema: dict[str, Any], name: str) -> None:
    assert not valid(schema, INVALID[name])


VALID = {
    "references": kafka(endpoint="${env:KAFKA}", connectionType="${env:KAFKA_CT}"),
    "numbers and booleans as values": {
        "name": "m",
        "type": "amqp",
        "configuration": {
            "protocol": "amqp",
            "user": "u",
            "password": "${env:P}",
            "endpoint": "h",
            "port": 5672,
            "namespace": "/",
        },
    },
    "a secret not in the document (the keyring holds it)": {"name": "o", "type": "openai"},
    "aws CONDUCTOR_ROLE": {
        "name": "a",
        "type": "aws",
        "configuration": {"connectionType": "CONDUCTOR_ROLE", "region": "r"},
    },
    "models and tags mapping": {
        **kafka(),
        "models": [{"name": "m", "enabled": False}],
        "tags": {"team": "ml"},
    },
    "tags as get prints them": {**kafka(), "tags": [{"key": "team", "value": "ml", "type": "METADATA"}]},
    "read-only fields of get": {
        **kafka(),
        "modelsCount": 0,
        "createTime": 1,
        "updatedBy": "me",
        "ownerApp": "x",
    },
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_documents_are_valid(schema: dict[str, Any], name: str) -> None:
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(VALID[name])]
    assert errors == []


def test_descriptions_and_enums_are_there(schema: dict[str, Any]) -> None:
    text = json.dumps(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "service-account JSON file content" in text
    provider = schema["$defs"]["provider"]
    assert set(TYPES) <= set(provider["properties"]["type"]["enum"])
    assert "AI_MODEL" in provider["properties"]["category"]["enum"]
