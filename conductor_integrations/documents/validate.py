"""Checks a resolved provider body against the embedded type table, or against the
server's own definitions (``--server-types``: any ``TypeSource``); one step of
``pipeline``, which builds the payloads.

Pure: returns every problem found (path, message, hint, severity); never prints or exits.
Rules beyond the table: the AWS ``connectionType`` rules and ``pineconedb``'s server-resolved
``projectName``. Unknown keys are warnings (``--strict``, in ``pipeline``, makes them errors).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol

from conductor_integrations.documents.payload import Payload, secret_hint
from conductor_integrations.errors import Problem, about
from conductor_integrations.types import builtin

ProblemSink = Callable[[tuple[str, ...], str, str, str], None]


class TypeSource(Protocol):
    """Where types come from: the embedded ``TypeTable`` or ``remote.ServerTable``."""

    @property
    def known_categories(self) -> tuple[str, ...]: ...

    def get(self, name: str) -> builtin.ProviderType | None: ...

    def closest(self, name: str, n: int = 3) -> list[str]: ...


def check(payload: Payload, *, types: TypeSource | None = None) -> list[Problem]:
    """Problems of ``payload`` against the table (or ``types``), after those found while
    building it (``pipeline.complete`` applies ``--strict`` to them)."""
    doc = payload.document
    found: list[Problem] = []

    def add(path: tuple[str, ...], message: str, hint: str = "", severity: str = "error") -> None:
        source = doc.label if doc else ""
        line = doc.line_of(path) if doc else None
        found.append(Problem(".".join(path), message, hint, severity, source, line))

    check_body(payload.body, add, payload.name, types, unknown=payload.unresolved)
    return about(payload.problems + found, payload.name)


def check_body(
    body: dict[str, Any],
    add: ProblemSink,
    name: str = "",
    types: TypeSource | None = None,
    unknown: Collection[str] = (),
) -> None:
    """Check one body; report through ``add(path, message, hint, severity)``. ``unknown``:
    configuration keys whose value is not known (a failed or offline reference, a
    placeholder): present, but their value is not checked."""
    tbl: TypeSource = types if types is not None else builtin.table()
    type_name = body.get("type")
    if not type_name:
        add(
            ("type",),
            "the provider has no type",
            "give -t TYPE or a `type:` field; `integ types list` shows them",
            "error",
        )
        return
    ptype = tbl.get(str(type_name))
    if ptype is None:
        close = tbl.closest(str(type_name))
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        shows = "`integ types list --server URL`" if types is not None else "`integ types list`"
        hint = (hint + " " if hint else "") + f"{shows} shows every type; --no-validate skips this check"
        add(
            ("type",),
            f"unknown type {type_name!r}" + (" on the server" if types is not None else ""),
            hint,
            "error",
        )
        return

    category = body.get("category")
    if category is not None and category != ptype.category:
        if category not in tbl.known_categories:
            add(
                ("category",),
                f"unknown category {category!r}",
                f"{ptype.name} is {ptype.category}",
                "warning",
            )
        else:
            add(
                ("category",),
                f"category {category!r} does not match type {ptype.name}",
                f"{ptype.name} is {ptype.category}",
                "warning",
            )

    raw_config = body.get("configuration")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}

    def has(key: str) -> bool:
        if key in unknown:
            return True
        value = config.get(key)
        return isinstance(value, str) and value.strip() != ""

    def require(key: str, message: str) -> None:
        if not has(key):
            add(("configuration", key), message, _supply_hint(key, name, ptype), "error")

    for key in ptype.effective_required:
        require(key, f"{ptype.name} requires {key!r}")
    for key, choices in ptype.conditional.items():
        value = config.get(key)
        if not has(key) or key in unknown:
            continue  # already reported as a missing required key, or not known here
        if value not in choices:
            near = builtin.closest_key(str(value), tuple(choices))
            hint = f"did you mean {near!r}? " if near else ""
            add(
                ("configuration", key),
                f"{key} must be one of {', '.join(choices)}, not {value!r}",
                hint.strip(),
                "error",
            )
            continue
        for needed in choices[str(value)]:
            require(needed, f"{key} {value} requires {needed!r}")

    known = ptype.all_keys
    for key in config:
        if key in known:
            continue
        near = builtin.closest_key(key, known)
        hint = f"did you mean {near!r}?" if near else f"{ptype.name} keys: {', '.join(known)}"
        add(("configuration", key), f"unknown key {key!r} for {ptype.name}", hint, "warning")


def _supply_hint(key: str, name: str, ptype: builtin.ProviderType) -> str:
    if key in ptype.secret_keys or builtin.is_secret_key(key):
        return secret_hint(key, name)
    return f"-c {key}=VALUE or `{key}:` under configuration"


def use_server_type(payload: Payload, types: TypeSource) -> None:
    """What the server's definition of the payload's type adds before it is checked: the
    keys it calls secret are masked and fingerprinted like the table's own secret keys,
    and its category fills in a category that was not given."""
    ptype = types.get(payload.type) if payload.type else None
    if ptype is None:
        return
    for key, value in payload.configuration.items():
        if key in ptype.secret_keys:
            payload.secret_keys.add(key)
            if isinstance(value, str) and value:
                payload.secret_values.add(value)
    if "category" not in payload.body and ptype.category:
        payload.body["category"] = ptype.category
