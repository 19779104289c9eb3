"""Fixtures for the sandbox tests: a sandbox in a background thread over loopback, and a
requests session pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conductor_integrations.sandbox import RunningSandbox, serve_in_background
from conductor_integrations.sandbox.store import Store


class Client:
    """A requests session bound to one sandbox: ``client.post("/integrations/provider/x", json=...)``
    (paths are relative to ``/api``)."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["X-Authorization"] = token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.base}/api{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def token(self, key_id: str, secret: str) -> str:
        reply = self.post("/token", json={"keyId": key_id, "keySecret": secret})
        assert reply.status_code == 200, reply.text
        token = reply.json()["token"]
        assert isinstance(token, str)
        return token

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


@pytest.fixture
def start_sandbox(db_path: Path) -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes (default: on ``db_path``); all are stopped at the end of the test."""
    started: list[RunningSandbox] = []

    def start(**kwargs: Any) -> RunningSandbox:
        kwargs.setdefault("data_path", db_path)
        sandbox = serve_in_background(**kwargs)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return start_sandbox()


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[Client]:
    c = Client(sandbox.url)
    yield c
    c.close()


OPENAI = {
    "type": "openai",
    "category": "AI_MODEL",
    "description": "OpenAI account for the marketing team",
    "configuration": {"api_key": "sk-secret-1", "endpoint": "https://api.openai.com/v1"},
    "enabled": True,
}


ERROR_KEYS = {"status", "message", "instance", "retryable"}


def assert_error(reply: Any, status: int, *words: str) -> dict[str, Any]:
    """The reply is ``status`` with a Conductor error body whose message has ``words``."""
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert set(body) >= ERROR_KEYS, body
    assert body["status"] == status
    assert body["retryable"] is False
    for word in words:
        assert word in body["message"], body["message"]
    return body  # type: ignore[no-any-return]


def stored_configuration(sandbox: RunningSandbox, name: str) -> dict[str, Any]:
    """What the store really holds (reads over HTTP are masked)."""
    store = Store(sandbox.data_path)
    try:
        row = store.get_provider(name)
        assert row is not None
        return row.configuration
    finally:
        store.close()
