"""The ``models:`` and ``tags:`` of a provider document: shape checked, references resolved,
and turned into what ``apply`` and ``diff`` work with.

A provider document may carry::

    models:                      # models to create or update (others are left alone)
    - name: gpt-4o
      description: GPT-4o        # optional; a new model gets ""
      enabled: true              # optional; a new model is enabled
      configuration: {}          # optional; given, it replaces the model's configuration
    tags:                        # the provider's tags, all of them (others are removed)
      team: ml

``tags`` may also be the list ``provider get`` prints (``[{key, value}]``, a ``type`` beside
them ignored), so that ``get`` output is an apply document; a key listed twice there is an
error (a document holds one value per key).

References (``${env:...}``, ``${file:...}``, ``${keyring}``) work in a model's description
and configuration values as in the provider's own; a model's ``${keyring}`` is the secret
stored as ``integ secret set PROVIDER/MODEL KEY``. Tag keys and values are taken as written.
"""

from __future__ import annotations

from typing import Any

from conductor_integrations.client.endpoints import name_problem
from conductor_integrations.documents.payload import Flags, Payload, Resolver, build, scalar_text
from conductor_integrations.documents.reader import Document, KeyPath
from conductor_integrations.errors import Problem
from conductor_integrations.types import builtin

MODEL_FIELDS = ("name", "description", "enabled", "configuration")


class ModelSpec:
    """One model of a document: its name and the fields the document gives."""

    __slots__ = ("given", "name", "secret_keys")

    def __init__(
        self, name: str, given: dict[str, Any] | None = None, secret_keys: set[str] | None = None
    ) -> None:
        self.name = name
        #: ``description``, ``enabled``, ``configuration``: only those the document gives
        self.given: dict[str, Any] = {} if given is None else given
        self.secret_keys: set[str] = set() if secret_keys is None else secret_keys

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelSpec):
            return NotImplemented
        return (self.name, self.given, self.secret_keys) == (other.name, other.given, other.secret_keys)

    __hash__ = None  # type: ignore[assignment]  # changed after it is made: not a key

    def __repr__(self) -> str:
        # the keys only: the values may be secrets
        return f"ModelSpec({self.name!r}, given={sorted(self.given)!r})"

    @property
    def configuration(self) -> dict[str, Any] | None:
        config = self.given.get("configuration")
        return config if isinstance(config, dict) else None


def dotted(path: KeyPath) -> str:
    """``("models", 0, "name")`` as ``models[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class _Checker:
    def __init__(self, payload: Payload):
        self.payload = payload
        self.doc = payload.document
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, message: str, hint: str = "", severity: str = "error") -> None:
        source = self.doc.label if self.doc else ""
        line = self.doc.line_of(path) if self.doc else None
        self.problems.append(Problem(dotted(path), message, hint, severity, source, line))

    def raw(self, path: KeyPath) -> str | None:
        return self.doc.raw_text(path) if self.doc else None

    def where(self, path: KeyPath) -> str:
        return self.doc.where(path) if self.doc else dotted(path)

    def sub_document(self, path: KeyPath, data: dict[str, Any]) -> Document:
        doc = self.doc
        if doc is None:
            return Document(data=data, source="")
        return doc.part(data, doc.prefix + path)


def check(payload: Payload, resolver: Resolver) -> list[Problem]:
    """Check the document's ``models:`` and ``tags:``; every problem is returned with its
    file, line and key path. When they have no error, ``payload.models`` becomes a list of
    ``ModelSpec`` and ``payload.tags`` a ``{key: value}`` dict (None stays None: not managed);
    the secret values met are added to ``payload.secret_values``."""
    c = _Checker(payload)
    models = _models(c, payload.models, resolver)
    tags = _tags(c, payload.tags)
    if not any(p.severity == "error" for p in c.problems):
        payload.models = models
        payload.tags = tags
    return c.problems


def _single(c: _Checker, path: KeyPath, value: Any, what: str) -> str | None:
    if isinstance(value, (dict, list)):
        c.add(path, f"{what} must be a single value")
        return None
    return scalar_text(value, c.raw(path))


def _models(c: _Checker, raw: Any, resolver: Resolver) -> list[ModelSpec] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        c.add(
            ("models",),
            "models must be a list of models",
            "each item: {name, description, enabled, configuration}",
        )
        return None
    specs: list[ModelSpec] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        at: KeyPath = ("models", i)
        if not isinstance(item, dict):
            c.add(at, "a model must be a mapping", "for example: {name: gpt-4o, description: GPT-4o}")
            continue
        for key in item:
            if key not in MODEL_FIELDS:
                near = builtin.closest_key(key, MODEL_FIELDS)
                hint = f"did you mean {near!r}?" if near else "model fields: " + ", ".join(MODEL_FIELDS)
                c.add((*at, key), f"unknown model field {key!r}", hint, "warning")
        name = _single(c, (*at, "name"), item.get("name"), "a model's name")
        if not name:
            if "name" not in item or item.get("name") in (None, ""):
                c.add((*at, "name"), "the model has no name", "give it `name: MODEL`")
            continue
        unsafe = name_problem(name)
        if unsafe:
            c.add((*at, "name"), unsafe, "give the model its real name")
            continue
        if name in seen:
            c.add((*at, "name"), f"model {name!r} is listed twice", f"first at {seen[name]}")
            continue
        seen[name] = c.where((*at, "name"))
        spec = _model(c, at, name, item, resolver)
        if spec is not None:
            specs.append(spec)
    return specs


def _model(c: _Checker, at: KeyPath, name: str, item: dict[str, Any], resolver: Resolver) -> ModelSpec | None:
    spec = ModelSpec(name)
    data: dict[str, Any] = {}
    enabled = item.get("enabled")
    if enabled is not None:
        if isinstance(enabled, bool):
            spec.given["enabled"] = enabled
        else:
            c.add((*at, "enabled"), "enabled must be true or false")
    description = item.get("description")
    if description is not None:
        if isinstance(description, (dict, list)):
            c.add((*at, "description"), "description must be a single value")
        else:
            data["description"] = description
    config = item.get("configuration")
    if config is not None:
        if isinstance(config, dict):
            data["configuration"] = config
        else:
            c.add((*at, "configuration"), "configuration must be a mapping of KEY: value")
    if not data:
        return spec
    owner = f"{c.payload.name or 'PROVIDER'}/{name}"
    built = build(owner, c.sub_document(at, data), Flags(), resolver, resolve_missing_secrets=False)
    for p in built.problems:
        c.problems.append(Problem(f"{dotted(at)}.{p.path}", p.message, p.hint, p.severity, p.source, p.line))
    if "description" in built.body:
        spec.given["description"] = built.body["description"]
    if "configuration" in data:
        spec.given["configuration"] = built.configuration
    spec.secret_keys = set(built.secret_keys)
    c.payload.secret_values.update(built.secret_values)
    return spec


def _tag_list(c: _Checker, raw: list[Any]) -> list[tuple[Any, Any, KeyPath]]:
    """The ``[{key, value}]`` list ``get`` prints as ``(key, value, path)``."""
    pairs: list[tuple[Any, Any, KeyPath]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at: KeyPath = ("tags", i)
        if not isinstance(item, dict) or item.get("key") in (None, ""):
            c.add((*at, "key"), "a tag in a list must be {key: KEY, value: VALUE}")
            continue
        if isinstance(item["key"], (dict, list)):
            c.add((*at, "key"), "a tag key must be a single value")
            continue
        key = str(item["key"])
        if key in seen:
            c.add((*at, "key"), f"tag {key!r} is listed twice", "a document holds one value per key")
            continue
        seen.add(key)
        pairs.append((key, item.get("value"), (*at, "value")))
    return pairs


def _tags(c: _Checker, raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if isinstance(raw, list):
        pairs = _tag_list(c, raw)
    elif isinstance(raw, dict):
        pairs = [(key, value, ("tags", key)) for key, value in raw.items()]
    else:
        c.add(
            ("tags",),
            "tags must be a mapping of KEY: VALUE (or the [{key, value}] list `get` prints)",
            "for example: tags: {team: ml, env: prod}",
        )
        return None
    tags: dict[str, str] = {}
    for key, value, path in pairs:
        if not str(key).strip():
            c.add(path, "a tag key must not be empty")
            continue
        if value is None:
            c.add(path, f"tag {key!r} has no value", f'write {key}: "" for an empty value')
            continue
        text = _single(c, path, value, "a tag value")
        if text is not None:
            tags[str(key)] = text
    return tags
