"""Fixtures of the hardening tests: the loopback fault server, and the pauses between
retries recorded instead of waited for (where the wait itself is not what is tested)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conductor_integrations.client import api
from tests.hardening.fault_server import Action, FaultServer, Request, Script, sequence


@pytest.fixture
def serve() -> Iterator[Callable[..., FaultServer]]:
    """``serve(script)`` or ``serve(action, ...)``: a running fault server, stopped at the
    end of the test. Given actions, the requests get them in order, then 200 ``[]``."""
    started: list[FaultServer] = []

    def start(*how: Script | Action, then: Action | None = None) -> FaultServer:
        if len(how) == 1 and callable(how[0]) and then is None:
            script: Script = how[0]
        else:
            script = sequence([a for a in how if not callable(a)], then)
        server = FaultServer(script).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(api, "sleep", waited.append)
    return waited


def by_route(routes: dict[str, Action], default: Action) -> Callable[[Request], Action]:
    """A script answering ``"METHOD /path"`` from ``routes`` (exact match), else ``default``."""

    def script(request: Request) -> Action:
        return routes.get(f"{request.method} {request.path}", default)

    return script
