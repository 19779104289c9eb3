"""A JSON Schema (draft 2020-12) for provider documents, for editors (yaml-language-server)
and other checkers: ``integ types schema``.

Built from the embedded type table or, with ``--server-types``, from a server's own
definitions (any table with ``types`` and ``known_categories``). It accepts one document
or a list of them and says what ``integ validate --offline --strict`` says: the per-type
required keys, the connectionType rules, the keys each type accepts, the shape of
``models:`` and ``tags:`` and the read-only fields ``provider get`` prints (allowed,
ignored). Like ``--offline``, it does not require a secret the document leaves out (the
keyring may hold it), and a placeholder left from ``types show --example`` is invalid.
"""

from __future__ import annotations

from typing import Any, Protocol

from conductor_integrations.documents.payload import PLACEHOLDER, READ_ONLY_FIELDS
from conductor_integrations.types import builtin

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: A reference (``${env:NAME}``, ``${file:PATH}``, ``${keyring}``): its value is not known here.
REFERENCE = r"\$\{(env|file|keyring)[:}]"


class Table(Protocol):
    @property
    def types(self) -> Any: ...

    @property
    def known_categories(self) -> tuple[str, ...]: ...


def _scalar(description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"$ref": "#/$defs/value"}
    if description:
        out["description"] = description
    return out


def _defs() -> dict[str, Any]:
    return {
        "value": {
            "description": "a single value: text (references ${env:NAME}, ${file:PATH} and "
            "${keyring} allowed), a number or true/false",
            "type": ["string", "number", "boolean", "null"],
            "not": {"type": "string", "pattern": PLACEHOLDER.pattern},
        },
        "given": {
            "description": "a value that is given (not empty)",
            "anyOf": [{"type": "string", "pattern": r"\S"}, {"type": ["number", "boolean"]}],
        },
        "model": {
            "type": "object",
            "description": "a model of the provider (created or updated by apply)",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": ["string", "number"], "description": "the model's name"},
                "description": _scalar('the model\'s description (a new model gets "")'),
                "enabled": {"type": "boolean", "description": "a new model is enabled"},
                "configuration": {
                    "type": "object",
                    "description": "given, it replaces the model's configuration",
                    "additionalProperties": _scalar(),
                },
            },
        },
        "tags": {
            "description": "the provider's tags, all of them (others are removed): a mapping "
            "KEY: VALUE, or the list `provider get` prints",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "value"],
                        "additionalProperties": False,
                        "properties": {
                            "key": {"type": ["string", "number", "boolean"], "minLength": 1},
                            "value": {"type": ["string", "number", "boolean"]},
                            "type": {"description": "ignored"},
                        },
                    },
                },
            ],
        },
    }


def _key_schema(
    key: str, docs: dict[str, dict[str, str]], secret: bool, choices: Any = None
) -> dict[str, Any]:
    description = docs.get(key, {}).get("description", "")
    if secret:
        description = (description + "; " if description else "") + (
            "secret: reference it (${env:NAME}, ${file:PATH}, ${keyring}) rather than writing it"
        )
    out = _scalar(description)
    if choices:
        out = {
            "description": description,
            "anyOf": [{"enum": list(choices)}, {"type": "string", "pattern": REFERENCE}],
        }
    return out


def _type_rule(ptype: Any, docs: dict[str, dict[str, str]]) -> dict[str, Any]:
    secret = set(ptype.secret_keys)
    properties = {
        key: _key_schema(key, docs, key in secret, ptype.conditional.get(key)) for key in ptype.all_keys
    }
    required = [k for k in ptype.effective_required if k not in secret]
    config: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        config["required"] = required
    given = {k: {"$ref": "#/$defs/given"} for k in required}
    rules: list[dict[str, Any]] = []
    if given:
        rules.append({"properties": given})
    for key, values in ptype.conditional.items():
        for value, needed in values.items():
            keys = [k for k in needed if k not in secret]
            if not keys:
                continue
            rules.append(
                {
                    "if": {"properties": {key: {"const": value}}, "required": [key]},
                    "then": {"required": keys, "properties": {k: {"$ref": "#/$defs/given"} for k in keys}},
                }
            )
    if rules:
        config["allOf"] = rules
    then: dict[str, Any] = {"properties": {"configuration": config}}
    if required:
        then["required"] = ["configuration"]
    return {
        "if": {"properties": {"type": {"const": ptype.name}}, "required": ["type"]},
        "then": then,
    }


def build(table: Table) -> dict[str, Any]:
    """The schema for documents of the types in ``table``."""
    docs = builtin.table().key_docs
    types = table.types
    names = list(types)
    provider: dict[str, Any] = {
        "type": "object",
        "description": "an integration provider (integ provider apply -f FILE)",
        "required": ["name", "type"],
        "additionalProperties": False,
        "properties": {
            "kind": {"const": "Provider", "description": "optional: marks an integ provider document"},
            "name": {"type": ["string", "number"], "minLength": 1, "description": "the provider's name"},
            "type": {
                "enum": names,
                "description": "the provider type (`integ types list`)",
            },
            "category": {
                "enum": list(table.known_categories),
                "description": "filled in from the type when not given",
            },
            "description": _scalar("what the provider is for"),
            "enabled": {"type": "boolean", "description": "a new provider is enabled"},
            "configuration": {
                "type": ["object", "null"],
                "description": "the type's keys (`integ types show TYPE`)",
                "additionalProperties": _scalar(),
            },
            "models": {
                "type": "array",
                "description": "models to create or update (others are left alone)",
                "items": {"$ref": "#/$defs/model"},
            },
            "tags": {"$ref": "#/$defs/tags"},
            **{
                name: {"description": "set by the server (`provider get` prints it); ignored"}
                for name in READ_ONLY_FIELDS
            },
        },
        "allOf": [_type_rule(types[n], docs) for n in names],
    }
    defs = _defs()
    defs["provider"] = provider
    return {
        "$schema": DRAFT,
        "title": "integ provider documents",
        "description": "one provider document, or a list of them (integ types schema)",
        "anyOf": [
            {"$ref": "#/$defs/provider"},
            {"type": "array", "items": {"$ref": "#/$defs/provider"}},
        ],
        "$defs": defs,
    }
