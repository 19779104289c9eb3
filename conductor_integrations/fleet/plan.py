"""What ``apply`` would change: desired providers against live ones, field by field,
their models and tags included.

Pure: no I/O. Secret values cannot be compared with the server (it masks them), so a
secret is judged by ``fingerprints.Fingerprints``: the fingerprint of the value this machine last
applied to that server. A secret counts as unchanged only when the server has a value
for it and the fingerprint matches; otherwise it is sent, and the provider is ``updated``.
Fingerprints are stale (every secret counts as changed) when the provider was written
since this machine applied it (``compare(..., stale=WHY)``).

A mask is never a value: a secret key whose document value ``redact.is_masked`` (what ``get``
prints) means "keep the server's value". The body then carries the server's own masked
value for that key (a server keeps the stored secret when it receives its own mask), the
key is planned as unchanged, and a provider or model that is not on the server (nothing to
keep) is ``invalid``: apply refuses it (exit 3) without sending it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from conductor_integrations.client import endpoints
from conductor_integrations.secrets import redact
from conductor_integrations.types import builtin

SECRET = "(secret)"
ABSENT = "(none)"

#: ``matches(name, key, value) -> bool``: the value is the one last applied from here.
SecretCheck = Callable[[str, str, str], bool]


def live_secret_keys(live: dict[str, Any] | None) -> set[str]:
    """Configuration keys of a live provider that hold secrets (by name, by mask, or a
    nested value with a secret key inside)."""
    config = (live or {}).get("configuration") or {}
    if not isinstance(config, dict):
        return set()
    return {
        k
        for k, v in config.items()
        if builtin.is_secret_key(k) or redact.is_masked(v) or redact.holds_secret(v)
    }


@dataclass
class Change:
    path: str  # "description", "configuration.endpoint"
    old: Any
    new: Any
    secret: bool = False
    #: why a secret the server has is sent again (default: it cannot be compared)
    note: str = ""

    @property
    def unverifiable(self) -> bool:
        """A secret the server has and the document gives: whether it differs cannot be
        seen (the server masks it), only assumed."""
        return self.secret and self.old not in (None, "") and self.new not in (None, "")

    def render(self, ignore_secrets: bool = False) -> str:
        if self.secret:
            old = SECRET if self.old not in (None, "") else ABSENT
            new = SECRET if self.new not in (None, "") else ABSENT
            note = "set" if old == ABSENT else (self.note or "will be sent (cannot be compared)")
            if new == ABSENT:
                note = "removed"
            if ignore_secrets and self.unverifiable:
                note += "; unverifiable, not counted (--ignore-secrets)"
            return f"{self.path}: {old} -> {new}  [{note}]"
        return f"{self.path}: {_show(self.old)} -> {_show(self.new)}"

    def record(self) -> dict[str, Any]:
        if self.secret:
            return {
                "path": self.path,
                "old": SECRET if self.old else None,
                "new": SECRET if self.new else None,
                "unverifiable": self.unverifiable,
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
    action: str  # create, update, unchanged, invalid, delete (--prune)
    changes: list[Change] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)
    #: why an ``invalid`` model cannot be applied
    error: str | None = None

    @property
    def differs(self) -> bool:
        return self.action != "unchanged"


@dataclass
class TagPlan:
    """The provider's tags: pairs to add (``PUT``) and pairs to remove (``DELETE``)."""

    put: list[endpoints.Tag] = field(default_factory=list)
    delete: list[endpoints.Tag] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.put or self.delete)


@dataclass
class ProviderPlan:
    name: str
    type: str | None
    action: str  # create, update, unchanged, type-change, invalid
    changes: list[Change] = field(default_factory=list)
    live_type: str | None = None
    #: the action for the provider's own fields (``action`` also counts models and tags)
    own_action: str = ""
    models: list[ModelPlan] = field(default_factory=list)
    tags: TagPlan | None = None
    #: why an ``invalid`` provider cannot be applied (a mask with no server value to keep)
    error: str | None = None
    #: the body to send when it is not the document's: masks replaced by the server's own
    body: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.own_action = self.own_action or self.action

    @property
    def differs(self) -> bool:
        return self.action != "unchanged"


def masked_keys(config: Any, secret_keys: set[str]) -> list[str]:
    """The secret keys of ``config`` whose values are masks."""
    if not isinstance(config, dict):
        return []
    return [k for k, v in config.items() if k in secret_keys and redact.is_masked(v)]


def mask_error(keys: list[str], what: str, prefix: str = "") -> str:
    """Why masks cannot be applied where the server has no value to keep."""
    paths = ", ".join(f"{prefix}configuration.{k}" for k in keys)
    return (
        f"{paths}: a mask (such as ********) is not a value, and {what} has no stored value to "
        "keep; give the real value (for example ${keyring} or ${env:NAME}); not sent"
    )


def compare(
    name: str,
    body: dict[str, Any],
    live: dict[str, Any] | None,
    secret_keys: set[str],
    secret_matches: SecretCheck,
    *,
    stale: str | None = None,
) -> ProviderPlan:
    """The plan for one provider. Only fields the document gives are compared (a field
    left out is left as it is); ``configuration`` is compared key by key, and keys the
    live provider has beyond the document are reported as removed (the POST sends the
    whole configuration). ``stale``: the fingerprints are not to be trusted (why), so every
    secret the document gives is sent. A masked secret keeps the server's value."""
    type_name = body.get("type")
    if live is None:
        masks = masked_keys(body.get("configuration"), secret_keys)
        if masks:
            return ProviderPlan(name, type_name, "invalid", error=mask_error(masks, "a new provider"))
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
    sent: dict[str, Any] | None = None
    if "configuration" in body:
        desired = body.get("configuration") or {}
        current = live.get("configuration") or {}
        secrets = secret_keys | live_secret_keys(live)
        masks = masked_keys(desired, secrets)
        lacking = [k for k in masks if current.get(k) in (None, "")]
        if lacking:
            return ProviderPlan(name, type_name, "invalid", error=mask_error(lacking, "the server"))
        if masks:
            sent = {**body, "configuration": {k: current[k] if k in masks else v for k, v in desired.items()}}
        for key, value in desired.items():
            path = f"configuration.{key}"
            if key in masks:
                continue  # the server keeps its value
            if key in secrets:
                has_live = current.get(key) not in (None, "")
                if not has_live or stale is not None or not secret_matches(name, key, value):
                    changes.append(Change(path, current.get(key), value, secret=True, note=stale or ""))
            elif str(current.get(key)) != value or key not in current:
                changes.append(Change(path, current.get(key), value))
        for key in current:
            if key not in desired:
                changes.append(Change(f"configuration.{key}", current[key], None, key in secrets))
    action = "update" if changes else "unchanged"
    return ProviderPlan(name, type_name or live_type, action, changes, body=sent)


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
    *,
    stale: str | None = None,
) -> ModelPlan:
    """The plan for one model. As for providers, only the fields the document gives are
    compared; a new model gets an empty description and is enabled unless the document says
    otherwise (``endpoints.model_body``). Masked secrets keep the model's stored values."""
    body = endpoints.model_body(
        live, given.get("description"), given.get("enabled"), given.get("configuration")
    )
    if live is None:
        masks = masked_keys(given.get("configuration"), secret_keys)
        if masks:
            error = mask_error(masks, f"model {name!r} (not on the server)", f"models[{name}].")
            return ModelPlan(name, "invalid", body=body, error=error)
        created = [
            Change(path, None, value, secret)
            for path, value, secret in _flatten(body, secret_keys)
            if value not in (None, "")
        ]
        return ModelPlan(name, "create", created, body)
    own = compare(model_key(provider, name), given, live, secret_keys, secret_matches, stale=stale)
    if own.action == "invalid":
        error = (own.error or "").replace("configuration.", f"models[{name}].configuration.", 1)
        return ModelPlan(name, "invalid", body=body, error=error)
    if own.body is not None:
        body["configuration"] = own.body["configuration"]
    return ModelPlan(name, "update" if own.changes else "unchanged", own.changes, body)


def compare_tags(desired: dict[str, str], live: list[endpoints.Tag]) -> TagPlan:
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
    fields are unchanged but whose models or tags differ is an ``update``; one with an
    ``invalid`` model is ``invalid`` (nothing of it is sent)."""
    if pl.action in ("type-change", "invalid"):
        return replace(pl, own_action=pl.action, models=model_plans, tags=tag_plan)
    invalid = [mp.error or mp.name for mp in model_plans if mp.action == "invalid"]
    if invalid:
        return replace(pl, action="invalid", models=model_plans, tags=tag_plan, error="; ".join(invalid))
    changes = list(pl.changes)
    for mp in model_plans:
        if mp.action == "delete":  # --prune: a live model the document does not list
            changes.append(Change(f"models[{mp.name}]", "(model)", None))
        changes.extend(replace(c, path=f"models[{mp.name}].{c.path}") for c in mp.changes)
    if tag_plan is not None:
        changes.extend(tag_plan.changes)
    differs = any(mp.differs for mp in model_plans) or (tag_plan is not None and tag_plan.differs)
    action = "update" if pl.action == "unchanged" and differs else pl.action
    return replace(
        pl, action=action, changes=changes, own_action=pl.action, models=model_plans, tags=tag_plan
    )
