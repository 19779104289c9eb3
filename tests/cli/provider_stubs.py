"""Shared stubs for the `integ provider` CLI tests: a stub Conductor server with
``responses`` (every stub must be used; a request that was not stubbed fails), a live
provider as Orkes returns it, and pauses between retries recorded instead of waited for."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from conductor_integrations.client import api

SERVER = "https://conductor.example.com"
API = SERVER + "/api"
TOKEN = "eyJ-test-token-0001"
URL = f"{API}/integrations/provider/openAI-marketing"


def stub_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """Point integ at ``SERVER`` with ``TOKEN`` and yield the stub (for a fixture)."""
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", SERVER)
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", TOKEN)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(api, "sleep", waited.append)
    return waited


def live(name: str = "openAI-marketing", type_name: str = "openai", **extra: Any) -> dict[str, Any]:
    """A provider as ``GET /api/integrations/provider/{name}`` returns it (secrets masked)."""
    return {
        "name": name,
        "type": type_name,
        "category": "AI_MODEL",
        "description": "OpenAI account for the marketing team",
        "enabled": True,
        "configuration": {"api_key": "xxxxxxxxxx"},
        "tags": [],
        "modelsCount": 2,
        "createTime": 1764326634134,
        "updateTime": 1764326700000,
        "createdBy": "john.doe@acme.com",
        "updatedBy": "john.doe@acme.com",
        **extra,
    }


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
