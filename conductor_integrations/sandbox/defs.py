"""``GET /api/integrations/def``: the IntegrationDef documents, built from the embedded table.

``builtin.json`` is the single source of truth, so the sandbox knows exactly the types
``integ`` validates against, and ``integ types diff --server`` against the sandbox is empty.
Form fields follow the server's shape: ``fieldType`` from ``builtin.field_type``
(PASSWORD, FILE, DROPDOWN, TEXT), ``optional`` false for required keys, ``valueOptions`` for
dropdowns (``connectionType``), and ``dependsOn`` (``[{fieldName, value}]``, the shape the
Conductor UI reads) for keys that are required only for one value of a dropdown.
"""

from __future__ import annotations

import re
from typing import Any

from conductor_integrations.types import builtin

CATEGORY_LABELS = {
    "API": "API",
    "AI_MODEL": "AI / LLM",
    "VECTOR_DB": "Vector Databases",
    "RELATIONAL_DB": "Relational Databases",
    "MESSAGE_BROKER": "Message Brokers",
    "GIT": "Git Repositories",
    "EMAIL": "Email",
    "MCP": "MCP Servers",
    "CLOUD": "Cloud Providers",
    "EVENT_SOURCE": "Event Sources",
}
_ACRONYMS = {"api", "url", "arn", "id", "tls", "aws", "jdbc", "mq"}


def field_label(key: str) -> str:
    """``api_key`` -> ``API key``, ``datasourceURL`` -> ``Datasource URL``."""
    words = re.findall(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|\d+", key) or [key]
    out = [w.upper() if w.lower() in _ACRONYMS else w.lower() for w in words]
    first = out[0]
    out[0] = first if first.isupper() else first.capitalize()
    return " ".join(out)


def _option_label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def form_fields(ptype: builtin.ProviderType) -> list[dict[str, Any]]:
    docs = builtin.table().key_docs
    depends: dict[str, list[dict[str, str]]] = {}
    for dropdown, choices in ptype.conditional.items():
        for value, keys in choices.items():
            for key in keys:
                depends.setdefault(key, []).append({"fieldName": dropdown, "value": value})
    fields = []
    for key in ptype.all_keys:
        entry: dict[str, Any] = {
            "fieldName": key,
            "fieldType": builtin.field_type(ptype, key),
            "label": field_label(key),
            "description": docs.get(key, {}).get("description", ""),
            "defaultValue": None,
            "optional": key not in ptype.effective_required and key not in depends,
        }
        if key in ptype.conditional:
            entry["valueOptions"] = [{"label": _option_label(v), "value": v} for v in ptype.conditional[key]]
        if key in depends:
            entry["dependsOn"] = depends[key]
        fields.append(entry)
    return fields


def integration_def(ptype: builtin.ProviderType) -> dict[str, Any]:
    """One IntegrationDef document."""
    return {
        "name": ptype.label,
        "type": ptype.name,
        "category": ptype.category,
        "categoryLabel": CATEGORY_LABELS.get(ptype.category, ptype.category.title()),
        "description": f"{ptype.label} integration",
        "enabled": True,
        "iconName": ptype.name,
        "tags": [],
        "configuration": form_fields(ptype),
    }


def integration_defs() -> list[dict[str, Any]]:
    """Every IntegrationDef, in the table's order."""
    return [integration_def(t) for t in builtin.table().types.values()]
