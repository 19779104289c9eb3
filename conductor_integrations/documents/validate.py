"""Checks a resolved provider body against the embedded type table, or against the
server's own definitions (``--server-types``: any ``TypeSource``).

Pure: returns every problem found (path, message, hint, severity); never prints or exits.
Rules beyond the table: the AWS ``connectionType`` rules and ``pineconedb``'s server-resolved
``projectName``. Unknown keys are warnings (``--strict`` makes them errors). A document's
``models:`` and ``tags:`` are checked too (``model_docs``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol

from conductor_integrations.documents.payload import Payload
from conductor_integrations.errors import Problem, about
from conductor_integrations.types import builtin

ProblemSink = Callable[[tuple[str, ...], str, str, str], None]


class TypeSource(Protocol):
    """Where types come from: the embedded ``TypeTable`` or ``remote.ServerTable``."""

    @property
    def known_categories(self) -> tuple[str, ...]: ...

    def get(self, name: str) -> builtin.ProviderType | None: ...

    def closest(self, name: str, n: int = 3) -> list[str]: ...


def check(payload: Payload, *, strict: bool = False, types: TypeSource | None = None) -> list[Problem]:
    """Problems of ``payload`` against the table (or ``types``), added to those found while
    building it. With ``strict`` every warning becomes an error."""
    doc = payload.document
    found: list[Problem] = []

    def add(path: tuple[str, ...], message: str, hint: str = "", severity: str = "error") -> None:
        source = doc.label if doc else ""
        line = doc.line_of(path) if doc else None
        found.append(Problem(".".join(path), message, hint, severity, source, line))

    check_body(payload.body, add, payload.name, types, unknown=payload.unresolved)
    problems = payload.problems + found
    if strict:
        problems = [p.as_error() for p in problems]
    return about(problems, payload.name)


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

    for key in ptype.effective_required:
        if not has(key):
            add(
                ("configuration", key),
                f"{ptype.name} requires {key!r}",
                _supply_hint(key, name, ptype),
                "error",
            )
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
            if not has(needed):
                add(
                    ("configuration", needed),
                    f"{key} {value} requires {needed!r}",
                    _supply_hint(needed, name, ptype),
                    "error",
                )

    known = ptype.all_keys
    for key in config:
        if key in known:
            continue
        near = builtin.closest_key(key, known)
        hint = f"did you mean {near!r}?" if near else f"{ptype.name} keys: {', '.join(known)}"
        add(("configuration", key), f"unknown key {key!r} for {ptype.name}", hint, "warning")


def _supply_hint(key: str, name: str, ptype: builtin.ProviderType) -> str:
    if key in ptype.secret_keys or builtin.is_secret_key(key):
        who = name or "NAME"
        return (
            f"store it with `integ secret set {who} {key}`, reference an environment variable "
            f"with `{key}: ${{env:VAR}}` (or -c '{key}=${{env:VAR}}'), or read it from a file "
            f"with -c {key}=@file"
        )
    return f"-c {key}=VALUE or `{key}:` under configuration"


def prepare(
    docs: list[Any],
    resolver: Any,
    *,
    strict: bool = False,
    skip_table: bool = False,
    types: TypeSource | None = None,
) -> tuple[list[Payload], list[Problem]]:
    """Build and check every provider document (as ``validate`` and ``apply`` do), against
    the embedded table or, given ``types``, the server's definitions.

    Returns the payloads and every problem of every document, duplicates included.
    Category is filled in from the table where it was not given. ``models:`` and ``tags:``
    are checked and normalised (``model_docs.check``)."""
    from conductor_integrations.documents import model_docs
    from conductor_integrations.documents.payload import build, fill_category

    payloads: list[Payload] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for doc in docs:
        payload = build(None, doc, None, resolver)
        if types is not None:
            use_server_type(payload, types)
        found = list(payload.problems) if skip_table else check(payload, strict=strict, types=types)
        found.extend(model_docs.check(payload, resolver))
        if strict:
            found = [p.as_error() for p in found]
        if payload.name:
            if payload.name in seen:
                found.append(
                    Problem(
                        "name",
                        f"provider {payload.name!r} is defined twice",
                        f"first at {seen[payload.name]}",
                        "error",
                        doc.label,
                        doc.line_of(("name",)),
                    )
                )
            else:
                seen[payload.name] = doc.where(("name",))
        fill_category(payload.body)
        found = about(found, payload.name)  # every line names its provider
        payload.problems = found
        payloads.append(payload)
        problems.extend(found)
    return payloads, problems


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
