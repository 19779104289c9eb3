"""Fixtures for the sandbox tests: a sandbox in a background thread over loopback, and a
requests session pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conductor_integrations.sandbox import RunningSandbox, serve_in_background


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
