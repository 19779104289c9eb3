"""What ``apply`` would change: desired providers against live ones, field by field,
their models and tags included.

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

from conductor_integrations import models, provider_types, redact

SECRET = "(secret)"
ABSENT = "(none)"
#: How servers mask secrets on read: Orkes sends ``xxxxxxxxxx``; ``********`` is ours.
_MASKED = re.compile(r"^(x{4,}|\*{4,})$")

#: ``matches(name, key, value) -> bool``: the value is the one last applied from here.
SecretCheck = Callable[[str, str, str], bool]


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and bool(_MASKED.match(value))


def live_secret_keys(live: dict[str, Any] | None) -> set[str]:
    """Configuration keys of a live provider that hold secrets (by name, by mask, or a
    nested value with a secret key inside)."""
    config = (live or {}).get("configuration") or {}
    if not isinstance(config, dict):
        return set()
    return {
        k
        for k, v in config.items()
        if provider_types.is_secret_key(k) or is_masked(v) or redact.holds_secret(v)
    }


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
class ModelPlan:
    """One model of a provider document: what changes and the body to send."""

    name: str
    action: str  # create, update, unchanged
    changes: list[Change] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def differs(self) -> bool:
        return self.action != "unchanged"


@dataclass
class TagPlan:
    """The provider's tags: pairs to add (``PUT``) and pairs to remove (``DELETE``)."""

    put: list[models.Tag] = field(default_factory=list)
    delete: list[models.Tag] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.put or self.delete)


@dataclass
class ProviderPlan:
    name: str
    type: str | None
    action: str  # create, update, unchanged, type-change
    changes: list[Change] = field(default_factory=list)
    live_type: str | None = None
    #: the action for the provider's own fields (``action`` also counts models and tags)
    own_action: str = ""
    models: list[ModelPlan] = field(default_factory=list)
    tags: TagPlan | None = None

    def __post_init__(self) -> None:
        self.own_action = self.own_action or self.action

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


# -- models and tags -------------------------------------------------------------------------


def model_key(provider: str, model: str) -> str:
    """The name a model's secret fingerprints are kept under (never a provider's name)."""
    return f"{provider}\nmodels/{model}"


def compare_model(
    provider: str,
    name: str,
    given: dict[str, Any],
    live: dict[str, Any] | None,
    secret_keys: set[str],
    secret_matches: SecretCheck,
) -> ModelPlan:
    """The plan for one model. As for providers, only the fields the document gives are
    compared; a new model gets an empty description and is enabled unless the document says
    otherwise (``models.model_body``)."""
    body = models.model_body(live, given.get("description"), given.get("enabled"), given.get("configuration"))
    if live is None:
        created = [
            Change(path, None, value, secret)
            for path, value, secret in _flatten(body, secret_keys)
            if value not in (None, "")
        ]
        return ModelPlan(name, "create", created, body)
    own = compare(model_key(provider, name), given, live, secret_keys, secret_matches)
    return ModelPlan(name, "update" if own.changes else "unchanged", own.changes, body)


def compare_tags(desired: dict[str, str], live: list[models.Tag]) -> TagPlan:
    """The document's tags are all of the provider's tags: pairs it lacks are added, and
    live pairs it does not list (other keys, or other values of its keys) are removed.
    Removing the stale pairs after adding works whether the server replaces a key's value
    or keeps several values per key."""
    live_pairs = list(dict.fromkeys(live))
    put = [(k, v) for k, v in desired.items() if (k, v) not in live_pairs]
    delete = [(k, v) for k, v in live_pairs if desired.get(k) != v]
    changes: list[Change] = []
    touched = {k for k, _ in put} | {k for k, _ in delete}
    for key in dict.fromkeys([*desired, *(k for k, _ in live_pairs)]):
        if key not in touched:
            continue
        old = ", ".join(v for k, v in live_pairs if k == key) or None
        changes.append(Change(f"tags.{key}", old, desired.get(key)))
    return TagPlan(put, delete, changes)


def with_children(pl: ProviderPlan, model_plans: list[ModelPlan], tag_plan: TagPlan | None) -> ProviderPlan:
    """``pl`` (the provider's own fields) with its models and tags: a provider whose own
    fields are unchanged but whose models or tags differ is an ``update``."""
    if pl.action == "type-change":
        return ProviderPlan(
            pl.name, pl.type, pl.action, pl.changes, pl.live_type, pl.action, model_plans, tag_plan
        )
    changes = list(pl.changes)
    for mp in model_plans:
        changes.extend(Change(f"models[{mp.name}].{c.path}", c.old, c.new, c.secret) for c in mp.changes)
    if tag_plan is not None:
        changes.extend(tag_plan.changes)
    differs = any(mp.differs for mp in model_plans) or (tag_plan is not None and tag_plan.differs)
    action = "update" if pl.action == "unchanged" and differs else pl.action
    return ProviderPlan(pl.name, pl.type, action, changes, pl.live_type, pl.action, model_plans, tag_plan)
