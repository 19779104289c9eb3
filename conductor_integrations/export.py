"""Live providers as documents that ``apply`` accepts. Pure: no I/O.

Secret values are never written (the server masks them anyway): each secret key becomes
``${keyring}`` (supplied by ``integ secret set NAME KEY``) or, with ``--secrets env``,
``${env:NAME_KEY}`` with the name upper-cased and non-alphanumerics turned into ``_``.
"""

from __future__ import annotations

import re
from typing import Any

from conductor_integrations import plan

SECRET_MODES = ("keyring", "env")


def env_var(name: str, key: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", f"{name}_{key}".upper()).strip("_")


def escape(value: str) -> str:
    """A literal value as a document value: ``${`` is written ``$${``."""
    return value.replace("${", "$${")


def document(live: dict[str, Any], secrets: str = "keyring") -> dict[str, Any]:
    """One live provider as an ``apply`` document (fields in a stable order)."""
    name = str(live.get("name", ""))
    doc: dict[str, Any] = {"name": name, "type": live.get("type")}
    for key in ("category", "description", "enabled"):
        if live.get(key) is not None:
            value = live[key]
            doc[key] = escape(value) if isinstance(value, str) else value
    config = live.get("configuration")
    if isinstance(config, dict):
        secret_keys = plan.live_secret_keys(live)
        out: dict[str, Any] = {}
        for key, value in config.items():
            if key in secret_keys:
                out[key] = "${keyring}" if secrets == "keyring" else "${env:" + env_var(name, key) + "}"
            elif value is None:
                continue
            else:
                out[key] = escape(value) if isinstance(value, str) else str(value)
        doc["configuration"] = out
    return doc
