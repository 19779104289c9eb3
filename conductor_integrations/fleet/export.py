"""Live providers as documents that ``apply`` accepts. Pure: no I/O.

Secret values are never written (the server masks them anyway): each secret key
(``builtin.is_secret_key``, or a value the server masked, or a nested value with a
secret key inside) becomes
``${keyring}`` (supplied by ``integ secret set NAME KEY``) or, with ``--secrets env``,
``${env:NAME_KEY}`` with the name upper-cased and non-alphanumerics turned into ``_``.
A model's secret key becomes ``${keyring}`` too (``integ secret set NAME/MODEL KEY``) or
``${env:NAME_MODEL_KEY}``.

Models are written with every field (``name``, ``description``, ``enabled``,
``configuration``) and tags as a mapping, so that applying the export to another server
and diffing gives no differences; a provider without models or tags gets no ``models:``
or ``tags:`` (applying it then leaves that server's models and tags alone).
"""

from __future__ import annotations

import json
import re
from typing import Any

from conductor_integrations.client import endpoints as models_mod
from conductor_integrations.errors import shown_name
from conductor_integrations.fleet import plan

SECRET_MODES = ("keyring", "env")


def env_var(name: str, key: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", f"{name}_{key}".upper()).strip("_")


def env_clashes(docs: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """The ``${env:...}`` variables of exported documents that two secrets would share
    (``a-b`` and ``a_b`` both give ``A_B_API_KEY``), each with the secrets sharing it
    (``provider a-b key api_key``)."""
    users: dict[str, list[str]] = {}

    def walk(owner: str, config: Any) -> None:
        if not isinstance(config, dict):
            return
        for key, value in config.items():
            if isinstance(value, str) and value.startswith("${env:") and value.endswith("}"):
                users.setdefault(value[6:-1], []).append(f"{owner} key {shown_name(str(key))}")

    for doc in docs:
        name = str(doc.get("name"))
        walk(f"provider {shown_name(name)}", doc.get("configuration"))
        for model in doc.get("models") or ():
            walk(f"model {shown_name(name + '/' + str(model.get('name')))}", model.get("configuration"))
    return [(var, who) for var, who in users.items() if len(who) > 1]


def escape(value: str) -> str:
    """A literal value as a document value: ``${`` is written ``$${``."""
    return value.replace("${", "$${")


def _configuration(owner: str, live: dict[str, Any], secrets: str) -> dict[str, Any]:
    config = live.get("configuration")
    if not isinstance(config, dict):
        return {}
    secret_keys = plan.live_secret_keys(live)
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in secret_keys:
            out[key] = "${keyring}" if secrets == "keyring" else "${env:" + env_var(owner, key) + "}"
        elif value is None:
            continue
        else:
            # a number, boolean, list or mapping (written by another client) as its JSON text:
            # documents carry text values, so it applies back as text
            out[key] = escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return out


def model_document(provider: str, live: dict[str, Any], secrets: str = "keyring") -> dict[str, Any]:
    """One live model as an item of a document's ``models:``."""
    name = models_mod.model_name(live)
    description = live.get("description")
    enabled = live.get("enabled")
    return {
        "name": name,
        "description": escape(description) if isinstance(description, str) else "",
        "enabled": enabled if isinstance(enabled, bool) else True,
        "configuration": _configuration(f"{provider}/{name}", live, secrets),
    }


def document(
    live: dict[str, Any],
    secrets: str = "keyring",
    models: list[dict[str, Any]] | None = None,
    tags: list[models_mod.Tag] | None = None,
) -> dict[str, Any]:
    """One live provider as an ``apply`` document (fields in a stable order), with its
    ``models`` and ``tags`` when it has any."""
    name = str(live.get("name", ""))
    doc: dict[str, Any] = {"name": name, "type": live.get("type")}
    for key in ("category", "description", "enabled"):
        if live.get(key) is not None:
            value = live[key]
            doc[key] = escape(value) if isinstance(value, str) else value
    if isinstance(live.get("configuration"), dict):
        doc["configuration"] = _configuration(name, live, secrets)
    if models:
        ordered = sorted(models, key=models_mod.model_name)
        doc["models"] = [model_document(name, m, secrets) for m in ordered]
    if tags:
        doc["tags"] = dict(tags)
    return doc
