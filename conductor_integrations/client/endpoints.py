"""Every endpoint of the Conductor API integ uses, over any client with
``request(method, path, json=, params=)`` (``api.Client``, or a stand-in in tests):
providers, models (the server's "integration APIs"), provider tags, the listing with
models embedded, the server's own type definitions, and application-key tokens.

Paths are built here, once (``provider_path`` on ``segment``), every name percent-encoded
(``quote(name, safe="")``, so a model called ``meta/llama-3`` stays one path segment); a
name that would not stay one (``.``, ``..``: the HTTP client removes dot segments, so
``/provider/P/integration/..`` would be sent as ``/provider/P/``) raises ``UnsafeName``
before anything is sent. Listings always send ``activeOnly`` (the server's default is true,
which hides disabled models). A reply that is not the shape the API returns is exit 7, like
any other reply that is not the API's. What a refusal of a write means (a type change, an
unknown type) is added to its hints here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from conductor_integrations.errors import (
    AuthError,
    NotFoundError,
    RejectedError,
    ServerUnavailable,
    UnsafeName,
    UsageError,
)
from conductor_integrations.secrets import redact

if TYPE_CHECKING:
    from conductor_integrations.client.api import Client

#: A tag as ``(key, value)``.
Tag = tuple[str, str]


class Requester(Protocol):
    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any: ...


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a provider's or a model's name in a request path, or None.
    Percent-encoding keeps every other name one path segment; ``.`` and ``..`` are left
    as they are by it and then removed by the HTTP client (RFC 3986 dot segments)."""
    if name == "":
        return "a name cannot be empty"
    if name in (".", ".."):
        return f"{name!r} cannot be a name: in a URL path it means the current or the parent folder"
    return None


def segment(name: str, what: str = "name") -> str:
    """``name`` as one percent-encoded path segment; ``UnsafeName`` (exit 2) when it would
    change the path instead (the last line of defence: names are checked where they are
    read, the command line and documents, already)."""
    problem = name_problem(name)
    if problem:
        raise UnsafeName(f"{what}: {problem}; nothing was sent", hints=["give the real name"])
    return quote(name, safe="")


#: Every provider (``GET``); one provider is ``provider_path``.
PROVIDERS = "/integrations/provider"
#: Every provider with its models embedded (``GET``).
WITH_MODELS = "/integrations/"
#: The server's IntegrationDef documents (``GET``).
DEFINITIONS = "/integrations/def"
#: A token for an application key (``POST``).
TOKEN = "/token"


def provider_path(name: str) -> str:
    """The path of one provider: every path about a provider starts with it."""
    return PROVIDERS + "/" + segment(name, "provider")


def models_path(provider: str) -> str:
    return provider_path(provider) + "/integration"


def model_path(provider: str, model: str) -> str:
    return models_path(provider) + "/" + segment(model, "model")


def tags_path(provider: str) -> str:
    return provider_path(provider) + "/tags"


def not_the_api(client: object, method: str, path: str, what: str) -> ServerUnavailable:
    """A reply that is not what the API returns (exit 7), naming the server's ``api_url``
    (a stand-in client without one: ``/api``)."""
    api_url = getattr(client, "api_url", "/api")
    return ServerUnavailable(
        f"the reply to {method} {api_url}{path} is not what the Conductor API returns ({what})",
        200,
        hints=["check that --server is the Conductor server's URL (`integ config show`)"],
    )


def _list_of_objects(client: object, found: Any, method: str, path: str, what: str) -> list[dict[str, Any]]:
    if found is None:
        return []
    if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
        raise not_the_api(client, method, path, f"expected a list of {what}")
    return found


# -- providers -------------------------------------------------------------------------------


def get_provider(client: Requester, name: str) -> dict[str, Any] | None:
    """The provider called ``name``, or None when the server answers 404."""
    return _object_or_none(client, provider_path(name), "a provider object")


def _object_or_none(client: Requester, path: str, what: str) -> dict[str, Any] | None:
    """``GET path``: an object, or None when the server answers 404."""
    try:
        found = client.request("GET", path)
    except NotFoundError:
        return None
    if not isinstance(found, dict):
        raise not_the_api(client, "GET", path, f"expected {what}")
    return found


def list_providers(
    client: Requester, category: str | None = None, active_only: bool = False
) -> list[dict[str, Any]]:
    """Every provider (``activeOnly`` is always sent: the server's default is true)."""
    params: dict[str, str] = {"activeOnly": "true" if active_only else "false"}
    if category:
        params["category"] = category
    found = client.request("GET", PROVIDERS, params=params)
    return _list_of_objects(client, found, "GET", PROVIDERS, "providers")


def put_provider(client: Requester, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """Create or update (the server upserts); the saved provider when the server sends it.
    A refusal says what it means: a 400 about the type is a type change (which no server
    allows), a 404 is a type the server does not know."""
    try:
        saved = client.request("POST", provider_path(name), json=body)
    except RejectedError as exc:
        said = exc.message.lower()
        if exc.status == 400 and "type" in said and "chang" in said:
            exc.hints.append(
                "a provider's type cannot be changed after creation: keep its type, "
                f"or delete it first with `integ provider delete {name}`"
            )
        raise
    except NotFoundError as exc:
        exc.hints.append(
            f"the server does not know type {body.get('type')!r}; "
            "`integ types list --server` shows the types it knows"
        )
        raise
    return saved if isinstance(saved, dict) else None


def delete_provider(client: Requester, name: str) -> None:
    """Delete ``name``; ``NotFoundError`` when there is no such provider."""
    client.request("DELETE", provider_path(name))


# -- models ----------------------------------------------------------------------------------


def list_models(client: Requester, provider: str, active_only: bool = False) -> list[dict[str, Any]]:
    """The models of ``provider``, disabled ones included unless ``active_only``.
    ``NotFoundError`` when there is no such provider."""
    path = models_path(provider)
    params = {"activeOnly": "true" if active_only else "false"}
    return _list_of_objects(client, client.request("GET", path, params=params), "GET", path, "models")


def get_model(client: Requester, provider: str, model: str) -> dict[str, Any] | None:
    """One model, or None when the server answers 404 (no such model, or no such provider)."""
    return _object_or_none(client, model_path(provider, model), "a model object")


def put_model(client: Requester, provider: str, model: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """Create or update one model (the server upserts); the saved model when the server
    sends it back."""
    saved = client.request("POST", model_path(provider, model), json=body)
    return saved if isinstance(saved, dict) else None


def delete_model(client: Requester, provider: str, model: str) -> None:
    """Delete one model; ``NotFoundError`` when it (or its provider) does not exist."""
    client.request("DELETE", model_path(provider, model))


def model_body(
    live: dict[str, Any] | None,
    description: str | None,
    enabled: bool | None,
    configuration: dict[str, Any] | None,
) -> dict[str, Any]:
    """The body of ``POST .../integration/{model}``.

    The reference page marks ``description`` and ``enabled`` as required, so both are always
    sent: what was given, else the live model's value, else ``""`` and ``true`` for a new
    model. ``configuration`` is sent when given, as ``{}`` for a new model, and left out
    otherwise. ``integ model put`` then merges the result onto the live model
    (``upsert.merged_body``), so that what it sends is complete.
    """
    live = live or {}
    if description is None:
        old = live.get("description")
        description = old if isinstance(old, str) else ""
    if enabled is None:
        old = live.get("enabled")
        enabled = old if isinstance(old, bool) else True
    body: dict[str, Any] = {"description": description, "enabled": enabled}
    if configuration is not None:
        body["configuration"] = configuration
    elif not live:
        body["configuration"] = {}
    return body


def model_name(model: dict[str, Any]) -> str:
    """The model's name as the server gives it (``api``)."""
    return str(model.get("api") or model.get("name") or "")


# -- tags ------------------------------------------------------------------------------------


def parse_tag(text: str, example: str = "integ provider tag set openai-prod team=ml env=prod") -> Tag:
    """``KEY=VALUE`` from the command line; anything else is a usage error (exit 2) whose
    hint is ``example`` (the command that was typed, rightly)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{text!r}: expected KEY=VALUE", hints=[f"for example: {example}"])
    return key.strip(), value


def tag_value(value: Any) -> str:
    """A tag value as text (servers may type it as any JSON value)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)


def tag_pairs(tags: Any) -> list[Tag]:
    """``[{key, value}]`` (as the server sends it) as ``(key, value)`` pairs."""
    if not isinstance(tags, list):
        return []
    return [
        (str(t["key"]), tag_value(t.get("value")))
        for t in tags
        if isinstance(t, dict) and isinstance(t.get("key"), str)
    ]


def tag_objects(tags: list[Tag]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags]


def get_tags(client: Requester, provider: str) -> list[Tag]:
    """The tags of ``provider``; ``NotFoundError`` when there is no such provider."""
    path = tags_path(provider)
    return tag_pairs(_list_of_objects(client, client.request("GET", path), "GET", path, "tags"))


def put_tags(client: Requester, provider: str, tags: list[Tag]) -> None:
    """Add tags: the server adds every pair (``set_tags`` replaces a key's values)."""
    client.request("PUT", tags_path(provider), json=tag_objects(tags))


def set_tags(client: Requester, provider: str, tags: list[Tag]) -> None:
    """Give each key of ``tags`` the values given and no other: add the pairs, then remove
    the key's other values (a Conductor server keeps every (key, value) pair it is sent,
    several values of one key too, so adding alone would leave the old value beside)."""
    put_tags(client, provider, tags)
    keys = {k for k, _ in tags}
    stale = [(k, v) for k, v in get_tags(client, provider) if k in keys and (k, v) not in tags]
    if stale:
        delete_tags(client, provider, stale)


def delete_tags(client: Requester, provider: str, tags: list[Tag]) -> None:
    """Remove tags; the server takes them as a JSON body of the DELETE."""
    client.request("DELETE", tags_path(provider), json=tag_objects(tags))


# -- listings and definitions ----------------------------------------------------------------


def list_with_models(client: Requester) -> list[dict[str, Any]] | None:
    """Every provider with its models embedded (``apis``) in one call,
    ``GET /api/integrations/?activeOnly=false``; None when the server does not have that
    endpoint (404 or 405), so the caller can fall back to one listing per provider."""
    path = WITH_MODELS
    try:
        found = client.request("GET", path, params={"activeOnly": "false"})
    except NotFoundError:
        return None
    except RejectedError as exc:
        if exc.status == 405:
            return None
        raise
    return _list_of_objects(client, found, "GET", path, "providers")


def definitions(client: Requester) -> list[dict[str, Any]]:
    """The server's IntegrationDef documents (``GET /api/integrations/def``)."""
    path = DEFINITIONS
    return _list_of_objects(client, client.request("GET", path), "GET", path, "integration definitions")


# -- tokens ----------------------------------------------------------------------------------


def mint_token(client: Client, key_id: str, key_secret: str) -> str | None:
    """A token for the application key (``POST /api/token``, sent without a token:
    ``auth=False``, which only ``api.Client.request`` has), or None when the server has no
    auth (404). A refusal (401/403) names the key and how to store its secret again."""
    redact.register(key_secret)
    body = {"keyId": key_id, "keySecret": key_secret}
    try:
        found = client.request("POST", TOKEN, json=body, auth=False)
    except NotFoundError:
        return None
    except AuthError as error:
        error.hints = [
            f"the server refused application key {key_id}: check the key id and its secret",
            f"store the secret again with `integ auth login --key-id {key_id}`, or set CONDUCTOR_AUTH_SECRET",
        ]
        raise
    token = found.get("token") if isinstance(found, dict) else None
    if not isinstance(token, str) or not token:
        raise not_the_api(client, "POST", TOKEN, 'expected {"token": ...}')
    redact.register(token)
    return token
