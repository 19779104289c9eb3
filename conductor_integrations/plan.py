"""What ``apply`` would change: desired providers against live ones, field by field.

Pure: no I/O. Secret values cannot be compared with the server (it masks them), so a
secret is judged by ``state.Fingerprints``: the fingerprint of the value this machine last
applied to that server. A secret counts as unchanged only when the server has a value
for it and the fingerprint matches; otherwise it is sent, and the provider is ``updated``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conductor_integrations import provider_types

SECRET = "(secret)"
ABSENT = "(none)"
#: How servers mask secrets on read: Orkes sends ``xxxxxxxxxx``; ``********`` is ours.
_MASKED = re.compile(r"^(x{4,}|\*{4,})$")

#: ``matches(name, key, value) -> bool``: the value is the one last applied from here.
SecretCheck = Callable[[str, str, str], bool]


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and bool(_MASKED.match(value))


def live_secret_keys(live: dict[str, Any] | None) -> set[str]:
    """Configuration keys of a live provider that hold secrets (by name or by mask)."""
    config = (live or {}).get("configuration") or {}
    if not isinstance(config, dict):
        return set()
    return {k for k, v in config.items() if provider_types.is_secret_key(k) or is_masked(v)}


@dataclass
class Change:
    path: str  # "description", "configuration.endpoint"
    old: Any
    new: Any
    secret: bool = False

    def render(self) -> str:
        if self.secret:
            old = SECRET if self.old not in (None, "") else ABSENT
            new = SECRET if self.new not in (None, "") else ABSENT
            note = "set" if old == ABSENT else "will be sent (cannot be compared)"
            if new == ABSENT:
                note = "removed"
            return f"{self.path}: {old} -> {new}  [{note}]"
        return f"{self.path}: {_show(self.old)} -> {_show(self.new)}"

    def record(self) -> dict[str, Any]:
        if self.secret:
            return {
                "path": self.path,
                "old": SECRET if self.old else None,
                "new": SECRET if self.new else None,
            }
        return {"path": self.path, "old": self.old, "new": self.new}


def _show(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if value == "" or value.strip() != value else value
    return str(value)


@dataclass
class ProviderPlan:
    name: str
    type: str | None
    action: str  # create, update, unchanged, type-change
    changes: list[Change] = field(default_factory=list)
    live_type: str | None = None

    @property
    def differs(self) -> bool:
        return self.action != "unchanged"


def compare(
    name: str,
    body: dict[str, Any],
    live: dict[str, Any] | None,
    secret_keys: set[str],
    secret_matches: SecretCheck,
) -> ProviderPlan:
    """The plan for one provider. Only fields the document gives are compared (a field
    left out is left as it is); ``configuration`` is compared key by key, and keys the
    live provider has beyond the document are reported as removed (the POST sends the
    whole configuration)."""
    type_name = body.get("type")
    if live is None:
        created = [
            Change(path, None, value, secret)
            for path, value, secret in _flatten(body, secret_keys)
            if value not in (None, "")
        ]
        return ProviderPlan(name, type_name, "create", created)
    live_type = live.get("type")
    if type_name and live_type and type_name != live_type:
        return ProviderPlan(name, type_name, "type-change", [Change("type", live_type, type_name)], live_type)
    changes: list[Change] = []
    for key in ("type", "category", "description", "enabled"):
        if key in body and body[key] != live.get(key):
            changes.append(Change(key, live.get(key), body[key]))
    if "configuration" in body:
        desired = body.get("configuration") or {}
        current = live.get("configuration") or {}
        secrets = secret_keys | live_secret_keys(live)
        for key, value in desired.items():
            path = f"configuration.{key}"
            if key in secrets:
                has_live = current.get(key) not in (None, "")
                if not has_live or not secret_matches(name, key, value):
                    changes.append(Change(path, current.get(key), value, secret=True))
            elif str(current.get(key)) != value or key not in current:
                changes.append(Change(path, current.get(key), value))
        for key in current:
            if key not in desired:
                changes.append(Change(f"configuration.{key}", current[key], None, key in secrets))
    return ProviderPlan(name, type_name or live_type, "update" if changes else "unchanged", changes)


def _flatten(body: dict[str, Any], secret_keys: set[str]) -> list[tuple[str, Any, bool]]:
    out: list[tuple[str, Any, bool]] = []
    for key in ("type", "category", "description", "enabled"):
        if key in body:
            out.append((key, body[key], False))
    for key, value in (body.get("configuration") or {}).items():
        out.append((f"configuration.{key}", value, key in secret_keys))
    return out
