"""What is on the server, read as cheaply as ``apply``, ``diff`` and ``export`` can:

1. one listing of every provider, disabled ones included; when models are wanted it is
   ``GET /api/integrations/?activeOnly=false``, which embeds each provider's models
   (``apis``), instead of ``GET /api/integrations/provider``;
2. the models of a wanted provider the bulk listing did not embed (a server without that
   endpoint, or one that leaves ``apis`` out): one ``GET .../integration`` per provider;
3. the tags of each wanted provider: one ``GET .../tags`` per provider (whether listings
   embed tags is not documented, so they are not relied on).

Steps 2 and 3 run with bounded concurrency, and only for providers that exist and whose
documents carry ``models:`` or ``tags:`` (``-l KEY=VALUE`` selectors need the tags of every
provider: ``selected``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from conductor_integrations.client import endpoints
from conductor_integrations.client.endpoints import Tag
from conductor_integrations.errors import NotFoundError

T = TypeVar("T")


class LiveClient(endpoints.Requester, Protocol):
    def list_providers(
        self, category: str | None = None, active_only: bool = False
    ) -> list[dict[str, Any]]: ...


@dataclass
class Live:
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: provider -> model name -> model (only providers whose models were asked for)
    models: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: provider -> tags (only providers whose tags were asked for)
    tags: dict[str, list[Tag]] = field(default_factory=dict)


def _by_name(found: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {endpoints.model_name(m): m for m in found if isinstance(m, dict)}


def _embedded(provider: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    apis = provider.get("apis")
    if not isinstance(apis, list) or not all(isinstance(a, dict) and a.get("api") for a in apis):
        return None
    if provider.get("modelsCount") not in (None, len(apis)):
        return None  # the listing did not embed them all
    return _by_name(apis)


def in_parallel(work: dict[str, Callable[[], T]], concurrency: int) -> dict[str, T]:
    """Run each callable (bounded concurrency); results by key. The first error is raised."""
    if not work:
        return {}
    if len(work) == 1 or concurrency <= 1:
        return {key: call() for key, call in work.items()}
    with ThreadPoolExecutor(max_workers=min(concurrency, len(work)), thread_name_prefix="read") as pool:
        futures = {key: pool.submit(call) for key, call in work.items()}
        return {key: fut.result() for key, fut in futures.items()}


def listing(client: LiveClient, with_models: bool) -> Live:
    """Step 1: every provider, with the models the bulk listing embeds when ``with_models``."""
    live = Live()
    bulk = endpoints.list_with_models(client) if with_models else None
    listed = client.list_providers(active_only=False) if bulk is None else bulk
    live.providers = {str(p.get("name")): p for p in listed if isinstance(p, dict)}
    if bulk is not None:
        for name, provider in live.providers.items():
            embedded = _embedded(provider)
            if embedded is not None:
                live.models[name] = embedded
    return live


def fill(
    client: LiveClient,
    live: Live,
    want_models: Iterable[str] = (),
    want_tags: Iterable[str] = (),
    *,
    concurrency: int = 8,
) -> None:
    """Steps 2 and 3: the models and tags of the wanted providers that exist (models only
    where step 1 did not already bring them)."""
    want_models, want_tags = set(want_models), set(want_tags)
    live.models = {k: v for k, v in live.models.items() if k in want_models}

    def models_of(name: str) -> Callable[[], dict[str, dict[str, Any]]]:
        def call() -> dict[str, dict[str, Any]]:
            try:
                return _by_name(endpoints.list_models(client, name))
            except NotFoundError:  # deleted since the listing
                return {}

        return call

    def tags_of(name: str) -> Callable[[], list[Tag]]:
        def call() -> list[Tag]:
            try:
                return endpoints.get_tags(client, name)
            except NotFoundError:
                return []

        return call

    work: dict[str, Callable[[], Any]] = {}
    for name in sorted(want_models & live.providers.keys() - live.models.keys()):
        work["models\0" + name] = models_of(name)
    for name in sorted(want_tags & live.providers.keys()):
        work["tags\0" + name] = tags_of(name)
    for key, value in in_parallel(work, concurrency).items():
        kind, name = key.split("\0", 1)
        if kind == "models":
            live.models[name] = value
        else:
            live.tags[name] = value


def read(
    client: LiveClient,
    want_models: Iterable[str] = (),
    want_tags: Iterable[str] = (),
    *,
    concurrency: int = 8,
) -> Live:
    """The live providers, and the models and tags of the wanted ones that exist."""
    want_models = set(want_models)
    live = listing(client, with_models=bool(want_models))
    fill(client, live, want_models, want_tags, concurrency=concurrency)
    return live


#: ``-l KEY=VALUE`` selectors: a provider matches when it has every pair among its tags.
Selectors = dict[str, str]


def matches(tags: Iterable[Tag], selectors: Selectors) -> bool:
    """Whether ``tags`` hold every ``KEY=VALUE`` of ``selectors``."""
    pairs = set(tags)
    return all((k, v) in pairs for k, v in selectors.items())


def selected(client: LiveClient, live: Live, selectors: Selectors, *, concurrency: int = 8) -> list[str]:
    """The providers of ``live`` whose tags match ``selectors`` (their tags are read, with
    bounded concurrency, where ``live`` does not have them yet), in listing order."""
    missing = [n for n in live.providers if n not in live.tags]
    found = Live(providers={n: live.providers[n] for n in missing})
    fill(client, found, (), missing, concurrency=concurrency)
    live.tags.update(found.tags)
    return [n for n in live.providers if matches(live.tags.get(n, []), selectors)]
