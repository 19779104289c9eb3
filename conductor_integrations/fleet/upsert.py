"""Create or update one provider, knowing which it was.

The POST is an upsert and does not say whether it created the provider, so the live
provider is read first: a 404 means ``created``. The same read catches a type change
before anything is sent (the server would refuse it with a 400).

An update sends a complete body (``merged_body``): a server may replace the whole object
on POST, so what the user did not give is sent back as the live provider has it, secrets
as the server's own mask (which the server takes as "keep the stored secret").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from conductor_integrations.documents import payload as payload_mod
from conductor_integrations.errors import InputError, NotFoundError, RejectedError


class ProviderAPI(Protocol):
    base_url: str

    def get_provider(self, name: str) -> dict[str, Any] | None: ...

    def put_provider(self, name: str, body: dict[str, Any]) -> dict[str, Any] | None: ...


@dataclass
class PutResult:
    name: str
    type: str | None
    action: str  # "created" or "updated"
    saved: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "action": self.action}


def type_change_error(name: str, live_type: Any, new_type: Any) -> RejectedError:
    """The refusal of a type change, before sending (what the server answers with a 400)."""
    return RejectedError(
        f"provider {name!r} is of type {live_type} and its type cannot be changed "
        f"to {new_type}; nothing was sent",
        400,
        hints=[
            f"keep -t {live_type}, or delete it first with `integ provider delete {name}`, "
            "or create the new provider under another name"
        ],
    )


def check_type(name: str, live: dict[str, Any] | None, body: dict[str, Any]) -> None:
    """Raise ``RejectedError`` when ``body`` would change the live provider's type."""
    if live is None:
        return
    live_type, new_type = live.get("type"), body.get("type")
    if live_type and new_type and live_type != new_type:
        raise type_change_error(name, live_type, new_type)


def type_from_live(name: str, live: dict[str, Any] | None, body: dict[str, Any], server: str) -> None:
    """Fill ``type`` (and ``category``) of a body that has none from the live provider,
    so that an update of the description or ``enabled`` alone needs no ``-t``."""
    if live is None:
        raise NotFoundError(
            f"no provider {name!r} on {server}, and no type to create it with",
            404,
            hints=[f"give its type to create it: `integ provider put {name} -t TYPE ...`"],
        )
    live_type = live.get("type")
    if not isinstance(live_type, str) or not live_type:
        raise RejectedError(f"the live provider {name!r} has no type; give one with -t TYPE", 400, hints=[])
    body["type"] = live_type
    if "category" not in body and isinstance(live.get("category"), str):
        body["category"] = live["category"]
    payload_mod.fill_category(body)


#: The fields of a provider that an update sends back as they are when not given.
_FIELDS = ("type", "category", "description", "enabled")


def merged_body(
    name: str,
    live: dict[str, Any] | None,
    body: dict[str, Any],
    *,
    kept: Iterable[str] = (),
    unset: Iterable[str] = (),
    replace: bool = False,
    what: str = "provider",
) -> dict[str, Any]:
    """The complete body to send for ``name`` (a provider, or with ``what="model"`` a
    model named ``PROVIDER/MODEL``, whose live fields are only description and enabled).

    1. A create (``live`` is None), or ``replace``: ``body`` as given.
    2. An update: the live provider's ``type``, ``category``, ``description``, ``enabled``
       and every configuration key, with ``body``'s fields and keys put over them key by key.

    Then each key of ``unset`` is removed, and each secret key of ``kept`` (given as a mask:
    keep the server's value) gets the live provider's own value, the server's mask, back.
    A mask with no stored secret behind it is an ``InputError`` (exit 3) naming the key."""
    base: dict[str, Any] = {}
    config: dict[str, Any] = {}
    merging = live is not None and not replace
    if live is not None and merging:
        base = {k: live[k] for k in _FIELDS if live.get(k) is not None}
        live_config = live.get("configuration")
        config = dict(live_config) if isinstance(live_config, dict) else {}
    out = {**base, **{k: v for k, v in body.items() if k != "configuration"}}
    given = body.get("configuration")
    config.update(given if isinstance(given, dict) else {})
    stored = (live or {}).get("configuration")
    stored = stored if isinstance(stored, dict) else {}
    for key in sorted(kept):
        if stored.get(key) in (None, ""):
            where = "does not exist yet" if live is None else "has no value for it"
            raise InputError(
                f"configuration.{key}: a mask (such as ******** or xxxxxxxxxx) stands for the "
                f"server's stored secret, and {what} {name!r} {where}; nothing was sent",
                hints=[
                    f"give the secret itself: -c {key}=@FILE, -c '{key}=${{env:VAR}}'"
                    + (f", or store it with `integ secret set {name} {key}`" if what == "provider" else "")
                ],
            )
        config[key] = stored[key]
    for key in unset:
        config.pop(key, None)
    if config or "configuration" in body or (merging and isinstance((live or {}).get("configuration"), dict)):
        out["configuration"] = config
    return payload_mod.order_body(out)


def put(client: ProviderAPI, name: str, body: dict[str, Any], live: dict[str, Any] | None) -> PutResult:
    """Send ``body`` for ``name`` (``endpoints.put_provider``, whose refusals say what they
    mean); ``live`` is the provider as read just before (or None)."""
    check_type(name, live, body)
    saved = client.put_provider(name, body)
    return PutResult(name, body.get("type"), "created" if live is None else "updated", saved)
