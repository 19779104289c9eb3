"""The bulk transport against the real sandbox: kept-alive connections, one per worker,
and the client's own behaviour (errors, masking) kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conductor_integrations.client import api, bulk
from conductor_integrations.errors import NotFoundError
from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.shapes import MASK

from .conftest import OPENAI


def test_writes_reuse_one_connection_per_worker(sandbox: RunningSandbox) -> None:
    client = api.Client(sandbox.url, retries=0)
    transport = bulk.Transport(workers=4)
    client.transport = transport
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            saved = list(pool.map(lambda i: client.put_provider(f"bulk-{i:02}", OPENAI), range(40)))
        assert all(s is None or s.get("name", "").startswith("bulk-") for s in saved)
        (only,) = transport._pools.values()
        # 40 writes from 4 threads: at most one connection per worker was ever opened.
        assert 1 <= only.num_connections <= 4
        names = {p["name"] for p in client.list_providers()}
        assert {f"bulk-{i:02}" for i in range(40)} <= names
        # Replies are the client's as before: a 404 is NotFoundError, a body is parsed.
        with pytest.raises(NotFoundError):
            client.delete_provider("no-such-provider")
        found = client.get_provider("bulk-07")
        assert found is not None and found["configuration"]["api_key"] == MASK
    finally:
        client.transport = None
        transport.close()


def test_a_session_with_another_adapter_is_used_as_it_is(sandbox: RunningSandbox) -> None:
    """A caller's own session (here plain requests adapters) is never bypassed."""
    import requests

    client = api.Client(sandbox.url, session=requests.Session(), retries=0)
    transport = bulk.Transport(workers=2)
    client.transport = transport
    try:
        client.put_provider("own-session", OPENAI)
        assert transport._pools == {}
        assert client.get_provider("own-session") is not None
    finally:
        transport.close()
