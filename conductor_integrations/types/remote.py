"""The server's own type definitions (``GET /api/integrations/def``, fetched by
``endpoints.definitions``) as a type table, and where they differ from the embedded one. Pure.

How an ``IntegrationDef`` is read (written once, here):

1. ``type`` is the provider type, ``category`` its category, ``name`` its label;
2. each ``configuration`` form field is a key (``fieldName``): required when it is not
   ``optional``; secret when its ``fieldType`` is ``PASSWORD`` or ``FILE`` (and then secret
   for the rest of the process wherever it appears: ``builtin.is_secret_key``);
3. a field that is not optional but ``dependsOn`` a dropdown value (``[{fieldName, value}]``)
   is required only for that value, like the table's ``connectionType`` rules; the dropdown's
   ``valueOptions`` are then its allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conductor_integrations.types import builtin
from conductor_integrations.types.builtin import ProviderType, TypeTable

SECRET_FIELD_TYPES = ("PASSWORD", "FILE")


class ServerTable(builtin.Lookups):
    """The server's types, with the look-ups validation uses (as ``TypeTable`` has them);
    each type's ``secret`` holds the keys the server marks PASSWORD or FILE."""

    __slots__ = ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _depends(field: dict[str, Any]) -> list[tuple[str, str]]:
    found = field.get("dependsOn")
    if not isinstance(found, list):
        return []
    return [
        (d["fieldName"], _text(d.get("value")))
        for d in found
        if isinstance(d, dict) and isinstance(d.get("fieldName"), str) and d.get("value") is not None
    ]


def server_type(definition: Any) -> ProviderType | None:
    """One IntegrationDef as a type (None when it is not one: no ``type``)."""
    if not isinstance(definition, dict):
        return None
    name = definition.get("type")
    if not isinstance(name, str) or not name:
        return None
    raw_fields = definition.get("configuration")
    fields = [
        f
        for f in (raw_fields if isinstance(raw_fields, list) else [])
        if isinstance(f, dict) and _text(f.get("fieldName"))
    ]
    required: list[str] = []
    optional: list[str] = []
    secret: list[str] = []
    conditional: dict[str, dict[str, list[str]]] = {}
    options = {
        f["fieldName"]: [_text(o.get("value")) for o in f.get("valueOptions") or [] if isinstance(o, dict)]
        for f in fields
    }
    for f in fields:
        key = f["fieldName"]
        if _text(f.get("fieldType")).upper() in SECRET_FIELD_TYPES:
            secret.append(key)
            builtin.note_server_secret_keys([key])
        depends = _depends(f)
        if f.get("optional") is True:
            optional.append(key)
        elif depends:
            for dropdown, value in depends:
                choices = conditional.setdefault(dropdown, {v: [] for v in options.get(dropdown, []) if v})
                choices.setdefault(value, []).append(key)
        else:
            required.append(key)
    return ProviderType(
        name=name,
        label=_text(definition.get("name")) or name,
        category=_text(definition.get("category")),
        required=tuple(required),
        optional=tuple(optional),
        conditional={k: {v: tuple(keys) for v, keys in c.items()} for k, c in conditional.items()},
        page_row="server",
        secret=tuple(secret),
    )


def from_definitions(definitions: list[Any]) -> ServerTable:
    """The table of the server's IntegrationDef documents (what is not one is left out)."""
    types: dict[str, ProviderType] = {}
    for definition in definitions:
        found = server_type(definition)
        if found is not None:
            types[found.name] = found
    known = list(builtin.table().known_categories)
    known.extend(c for c in dict.fromkeys(t.category for t in types.values()) if c and c not in known)
    return ServerTable(types, tuple(known))


# -- how the server differs from the embedded table ------------------------------------------


def need(ptype: ProviderType, key: str) -> str:
    """``required``, ``conditional`` (required for one value of a dropdown) or ``optional``."""
    if key in ptype.effective_required:
        return "required"
    if key in ptype.conditional_keys:
        return "conditional"
    return "optional"


@dataclass(frozen=True)
class Difference:
    type: str
    key: str | None  # None: about the type itself
    what: str  # type, category, key, required, secret
    integ: str | None  # the embedded table's side (None: absent)
    server: str | None  # the server's side (None: absent)

    def record(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "key": self.key,
            "what": self.what,
            "integ": self.integ,
            "server": self.server,
        }


def _flags(ptype: ProviderType, key: str) -> str:
    return need(ptype, key) + (", secret" if key in ptype.secret_keys else "")


def compare(embedded: TypeTable, server: ServerTable) -> list[Difference]:
    """Every difference, in the embedded table's order, then types only the server has."""
    out: list[Difference] = []
    for name, mine in embedded.types.items():
        theirs = server.get(name)
        if theirs is None:
            out.append(Difference(name, None, "type", mine.category, None))
            continue
        if mine.category != theirs.category:
            out.append(Difference(name, None, "category", mine.category, theirs.category or None))
        for key in dict.fromkeys([*mine.all_keys, *theirs.all_keys]):
            if key not in theirs.all_keys:
                out.append(Difference(name, key, "key", _flags(mine, key), None))
            elif key not in mine.all_keys:
                out.append(Difference(name, key, "key", None, _flags(theirs, key)))
            else:
                if need(mine, key) != need(theirs, key):
                    out.append(Difference(name, key, "required", need(mine, key), need(theirs, key)))
                if (key in mine.secret_keys) != (key in theirs.secret_keys):
                    yes_no = ("yes", "no") if key in mine.secret_keys else ("no", "yes")
                    out.append(Difference(name, key, "secret", *yes_no))
    for name, theirs in server.types.items():
        if embedded.get(name) is None:
            out.append(Difference(name, None, "type", None, theirs.category or "-"))
    return out
