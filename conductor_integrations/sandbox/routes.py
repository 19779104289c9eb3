"""The integrations API itself: which path does what, who may do it, and the rules.

``SandboxApp.handle`` takes a parsed ``Request`` and returns a ``Response``; it knows nothing
of sockets (``server`` does the HTTP). Paths are matched on percent-decoded segments, so a
name holding ``/`` sent as ``%2F`` stays one segment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conductor_integrations.sandbox import defs, shapes
from conductor_integrations.sandbox.auth import ANONYMOUS, Authenticator, Principal
from conductor_integrations.sandbox.errors import ApiError, FieldError
from conductor_integrations.sandbox.store import Audit, BulkItem, Missing, ModelRow, ProviderRow, Store
from conductor_integrations.types import builtin

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass
class Request:
    method: str
    segments: list[str]  # percent-decoded path segments, e.g. ["api", "integrations", "provider", "x"]
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    payload: Any = None  # JSON-able; None = empty body
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request, Principal, list[str]], Response]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _update_ms(existing: Any) -> int:
    """The ``updateTime`` of a write: now, and always later than the one before, so that
    every write (a secret-only change too) is seen as one by a client comparing it."""
    now = _now_ms()
    return now if existing is None else max(now, int(existing.audit.update_time) + 1)


class SandboxApp:
    """The endpoints of the integrations API over ``store``, guarded by ``auth``."""

    def __init__(self, store: Store, auth: Authenticator):
        self.store = store
        self.auth = auth

    # -- routing ---------------------------------------------------------------------

    def _route(self, segs: list[str]) -> tuple[dict[str, Handler], list[str]] | None:
        """The handlers by method for a path (after ``/api``), with the path's names."""
        n = len(segs)
        if segs == ["token"]:
            return {"POST": self.token}, []
        if not segs or segs[0] != "integrations":
            return None
        rest = segs[1:]
        if not rest:
            return {"GET": self.all_integrations, "POST": self.save_all}, []
        if rest == ["all"]:
            return {"GET": self.all_names}, []
        if len(rest) == 3 and rest[0] == "llm" and rest[1] and rest[2] == "token":
            return {"GET": self.get_token_limit, "POST": self.set_token_limit}, rest[1:2]
        if rest[0] == "def" and n <= 3:
            return ({"GET": self.definitions} if n == 2 else {"GET": self.definition}), rest[1:]
        if rest[0] != "provider" or any(not s for s in rest[1:]):
            return None
        names = rest[1:]
        if not names:
            return {"GET": self.list_providers}, []
        if len(names) == 1:
            return {
                "GET": self.get_provider,
                "POST": self.save_provider,
                "DELETE": self.delete_provider,
            }, names
        if len(names) == 2 and names[1] == "tags":
            return self._tag_handlers(), names[:1]
        if names[1] != "integration":
            return None
        if len(names) == 2:
            return {"GET": self.list_models}, names[:1]
        model = [names[0], names[2]] if len(names) > 2 else []
        if len(names) == 3:
            # GET .../integration/all is the provider's model names (as on Orkes, a model
            # named "all" can be saved and deleted but not read back by name).
            read = self.available_apis if names[2] == "all" else self.get_model
            return {"GET": read, "POST": self.save_model, "DELETE": self.delete_model}, model
        if len(names) == 4 and names[3] == "tags":
            return self._tag_handlers(), model
        if len(names) == 4 and names[3] == "prompt":
            return {"GET": self.list_prompts}, model
        if len(names) == 5 and names[3] == "prompt":
            return {"POST": self.associate_prompt}, [*model, names[4]]
        return None

    def _tag_handlers(self) -> dict[str, Handler]:
        return {"GET": self.get_tags, "PUT": self.put_tags, "DELETE": self.delete_tags}

    def handle(self, req: Request) -> Response:
        """Answer one request (errors become Conductor error bodies)."""
        try:
            return self._dispatch(req)
        except ApiError as exc:
            return Response(exc.status, exc.body(), dict(exc.headers))
        except Missing as exc:
            return Response(404, ApiError(404, str(exc)).body())

    @staticmethod
    def _segments(req: Request) -> list[str]:
        segs = list(req.segments)
        if segs and segs[-1] == "" and len(segs) > 1:
            segs.pop()  # a trailing slash names the same resource
        return segs

    def admit(self, req: Request) -> Principal:
        """The caller of ``req``, from its headers alone (the HTTP layer asks before it reads
        the body): the 401 ``ApiError`` a request with a missing or bad token gets, else its
        principal (``ANONYMOUS`` for what needs no token: health, ``/api/token``, unknown
        paths outside ``/api``)."""
        segs = self._segments(req)
        if segs[:1] != ["api"] or segs in (["api", "health"], ["api", "token"]):
            return ANONYMOUS
        return self.auth.check(req.headers.get("x-authorization"))

    def _dispatch(self, req: Request) -> Response:
        segs = self._segments(req)
        if segs in (["health"], ["api", "health"]):
            return Response(200, {"healthy": True})
        path = "/" + "/".join(segs)
        if segs[:1] != ["api"]:
            raise ApiError(404, f"No endpoint {req.method} {path}")
        # As on Orkes, the token is checked before anything else (except to get one).
        principal = self.admit(req)
        route = self._route(segs[1:])
        if route is None:
            raise ApiError(404, f"No endpoint {req.method} {path}")
        handlers, names = route
        handler = handlers.get(req.method)
        if handler is None:
            allowed = ", ".join(sorted(handlers))
            raise ApiError(405, f"Method {req.method} is not supported on {path}", headers={"Allow": allowed})
        if principal.read_only and req.method in WRITE_METHODS:
            raise ApiError(403, f"Key {principal.name!r} may only read: {req.method} {path} is not permitted")
        return handler(req, principal, names)

    # -- token -----------------------------------------------------------------------

    def token(self, req: Request, _who: Principal, _names: list[str]) -> Response:
        if not self.auth.enabled:
            raise ApiError(404, "No token endpoint: this server runs without authentication")
        body = shapes.parse_object(req.body, "GenerateTokenRequest {keyId, keySecret}")
        problems = [
            FieldError(k, "must not be blank", body.get(k))
            for k in ("keyId", "keySecret")
            if not isinstance(body.get(k), str) or not body[k]
        ]
        if problems:
            raise ApiError.invalid(problems)
        return Response(200, {"token": self.auth.issue(body["keyId"], body["keySecret"])})

    # -- definitions -----------------------------------------------------------------

    def definitions(self, _req: Request, _who: Principal, _names: list[str]) -> Response:
        return Response(200, defs.integration_defs())

    def definition(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        ptype = builtin.table().get(names[0])
        if ptype is None:
            raise ApiError(404, f"Integration definition {names[0]!r} not found")
        return Response(200, defs.integration_def(ptype))

    # -- providers -------------------------------------------------------------------

    @staticmethod
    def _filters(req: Request, category_param: str = "category") -> tuple[str | None, bool]:
        category = shapes.parse_category(req.query.get(category_param), category_param)
        return category, shapes.parse_bool(req.query.get("activeOnly"), "activeOnly", True)

    def list_providers(self, req: Request, _who: Principal, _names: list[str]) -> Response:
        category, active_only = self._filters(req)
        rows = self.store.list_providers(category, active_only)
        return Response(200, [shapes.integration_json(r) for r in rows])

    def all_integrations(self, req: Request, _who: Principal, _names: list[str]) -> Response:
        category, active_only = self._filters(req)
        rows = self.store.list_providers(category, active_only)
        models: dict[str, list[ModelRow]] = {}
        for m in self.store.list_models(None, active_only):
            models.setdefault(m.provider, []).append(m)
        return Response(200, [shapes.integration_json(r, models.get(r.name, [])) for r in rows])

    def all_names(self, req: Request, _who: Principal, _names: list[str]) -> Response:
        """``provider:model`` for every model, and a bare ``provider`` only for a provider
        with no models listed; ``type`` is the provider type (``openai``), as the SDKs'
        ``getProvidersAndIntegrations(type, activeOnly)`` sends it (JS SDK 4.0.0
        ``dist/index.js``, ``IntegrationResource.getProvidersAndIntegrations``)."""
        category, active_only = self._filters(req)
        wanted_type = req.query.get("type") or None
        names: list[str] = []
        models: dict[str, list[ModelRow]] = {}
        for m in self.store.list_models(None, active_only):
            models.setdefault(m.provider, []).append(m)
        for row in self.store.list_providers(category, active_only):
            if wanted_type is not None and row.type != wanted_type:
                continue
            listed = models.get(row.name, [])
            names.extend([f"{row.name}:{m.api}" for m in listed] if listed else [row.name])
        return Response(200, names)

    def save_all(self, req: Request, who: Principal, _names: list[str]) -> Response:
        """``POST /api/integrations/``: ``Integration[]``, each with its ``apis`` (the
        ``saveAllIntegrations`` body of JS SDK 4.0.0 ``dist/index.js``), saved all or nothing."""
        items = []
        for i, (name, update, apis, tags) in enumerate(shapes.parse_bulk(req.body)):
            self._check_type(update)
            models = [(api, self._model_builder(name, api, u, who)) for api, u in apis]
            items.append(BulkItem(name, self._provider_builder(name, update, who, f"[{i}]."), models, tags))
        self.store.save_all(items)
        return Response(200)

    def get_provider(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        row = self.store.get_provider(names[0])
        if row is None:
            raise Missing("integration provider", names[0])
        return Response(200, shapes.integration_json(row))

    def delete_provider(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        if not self.store.delete_provider(names[0]):
            raise Missing("integration provider", names[0])
        return Response(200)

    def save_provider(self, req: Request, who: Principal, names: list[str]) -> Response:
        name = names[0]
        update = shapes.parse_integration_update(shapes.parse_object(req.body, "IntegrationUpdate"))
        self._check_type(update)
        row, _created = self.store.upsert_provider(name, self._provider_builder(name, update, who))
        return Response(200, shapes.integration_json(row))

    @staticmethod
    def _check_type(update: shapes.Update) -> None:
        """A 404 for a ``type`` this server does not know (as Orkes answers)."""
        table = builtin.table()
        if update.type is not None and table.get(update.type) is None:
            close = table.closest(update.type)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise ApiError(404, f"Integration type {update.type!r} is not supported on this server{hint}")

    @staticmethod
    def _provider_builder(
        name: str, update: shapes.Update, who: Principal, where: str = ""
    ) -> Callable[[ProviderRow | None], ProviderRow]:
        """The builder of ``Store.upsert_provider`` for ``update`` (``where`` prefixes the
        field path of an error, for an item of a bulk body)."""

        def build(existing: ProviderRow | None) -> ProviderRow:
            now = _update_ms(existing)
            if existing is None:
                if update.type is None:
                    raise ApiError.invalid([FieldError(f"{where}type", "is required to create a provider")])
                ptype = builtin.table().types[update.type]
                return ProviderRow(
                    name=name,
                    type=update.type,
                    category=update.category or ptype.category,
                    description=update.description or "",
                    enabled=True if update.enabled is None else update.enabled,
                    configuration=shapes.merge_configuration(update.configuration or {}, None),
                    audit=Audit(now, now, who.name, who.name),
                )
            if update.type is not None and update.type != existing.type:
                raise ApiError(
                    400,
                    f"Integration type cannot be changed after creation: {name!r} is "
                    f"{existing.type!r}, not {update.type!r} (delete it and create it again)",
                )
            return ProviderRow(
                name=name,
                type=existing.type,
                category=update.category or existing.category,
                description=existing.description if update.description is None else update.description,
                enabled=existing.enabled if update.enabled is None else update.enabled,
                configuration=existing.configuration
                if update.configuration is None
                else shapes.merge_configuration(update.configuration, existing.configuration),
                audit=Audit(existing.audit.create_time, now, existing.audit.created_by, who.name),
            )

        return build

    # -- models ----------------------------------------------------------------------

    def list_models(self, req: Request, _who: Principal, names: list[str]) -> Response:
        active_only = shapes.parse_bool(req.query.get("activeOnly"), "activeOnly", True)
        rows = self.store.list_models(names[0], active_only)
        return Response(200, [shapes.integration_api_json(m) for m in rows])

    def get_model(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        return Response(200, shapes.integration_api_json(self.store.get_model(names[0], names[1])))

    def delete_model(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        self.store.delete_model(names[0], names[1])
        return Response(200)

    def save_model(self, req: Request, who: Principal, names: list[str]) -> Response:
        provider, api = names
        update = shapes.parse_api_update(shapes.parse_object(req.body, "IntegrationApiUpdate"))
        row, _created = self.store.upsert_model(
            provider, api, self._model_builder(provider, api, update, who)
        )
        return Response(200, shapes.integration_api_json(row))

    @staticmethod
    def _model_builder(
        provider: str, api: str, update: shapes.Update, who: Principal
    ) -> Callable[[ModelRow | None], ModelRow]:
        """The builder of ``Store.upsert_model`` for ``update``."""

        def build(existing: ModelRow | None) -> ModelRow:
            now = _update_ms(existing)
            if existing is None:
                return ModelRow(
                    provider=provider,
                    api=api,
                    description=update.description or "",
                    enabled=True if update.enabled is None else update.enabled,
                    configuration=shapes.merge_configuration(update.configuration or {}, None),
                    max_tokens=update.max_tokens,
                    audit=Audit(now, now, who.name, who.name),
                )
            return ModelRow(
                provider=provider,
                api=api,
                description=existing.description if update.description is None else update.description,
                enabled=existing.enabled if update.enabled is None else update.enabled,
                configuration=existing.configuration
                if update.configuration is None
                else shapes.merge_configuration(update.configuration, existing.configuration),
                max_tokens=existing.max_tokens if update.max_tokens is None else update.max_tokens,
                audit=Audit(existing.audit.create_time, now, existing.audit.created_by, who.name),
            )

        return build

    def available_apis(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        """``GET .../integration/all``: the names of the provider's models, disabled ones too
        (``getIntegrationAvailableApis`` answers ``string[]``, JS SDK 4.0.0 ``dist/index.js``)."""
        return Response(200, [m.api for m in self.store.list_models(names[0], False)])

    # -- prompts associated with a model -----------------------------------------------

    def associate_prompt(self, _req: Request, who: Principal, names: list[str]) -> Response:
        """``POST .../integration/{model}/prompt/{prompt}``, no body (the sandbox keeps no
        prompt templates, so any prompt name is taken)."""
        provider, api, prompt = names
        self.store.associate_prompt(provider, api, prompt, _now_ms(), who.name)
        return Response(200)

    def list_prompts(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        return Response(200, [shapes.prompt_json(p) for p in self.store.prompts(names[0], names[1])])

    # -- token limits ------------------------------------------------------------------

    def get_token_limit(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        found = self.store.token_limit(names[0])
        if found is None:
            raise ApiError(404, f"No token limit set for integration {names[0]!r}")
        return Response(200, shapes.token_limit_json(*found))

    def set_token_limit(self, req: Request, who: Principal, names: list[str]) -> Response:
        body = shapes.parse_token_limit(shapes.parse_object(req.body, "TokenLimit"))
        self.store.set_token_limit(names[0], body, _now_ms(), who.name)
        return Response(200)

    # -- tags (provider: names = [provider]; model: names = [provider, model]) -------------

    def get_tags(self, _req: Request, _who: Principal, names: list[str]) -> Response:
        tags = self.store.get_tags(names[0], names[1] if len(names) > 1 else "")
        return Response(200, shapes.tags_json(tags))

    def put_tags(self, req: Request, _who: Principal, names: list[str]) -> Response:
        tags = [(k, v) for k, v in shapes.parse_tags(req.body) if v is not None]
        self.store.put_tags(names[0], names[1] if len(names) > 1 else "", tags)
        return Response(200)

    def delete_tags(self, req: Request, _who: Principal, names: list[str]) -> Response:
        tags = shapes.parse_tags(req.body, for_delete=True)
        self.store.delete_tags(names[0], names[1] if len(names) > 1 else "", tags)
        return Response(200)
