"""`integ provider put` on an existing provider changes only what is given: the real
``integ`` process against the real ``integ server`` process, the stored provider read from
the server's SQLite store (secrets unmasked there), not from integ's output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conductor_integrations.sandbox.store import Store
from tests.put_merge_cases import AMQP_PASSWORD, ANTHROPIC_KEY, CASES, SEEDS, Case

from .conftest import Run, ServerProcess

pytestmark = pytest.mark.e2e


def stored(server: ServerProcess, name: str) -> dict[str, Any] | None:
    store = Store(server.data)
    try:
        row = store.get_provider(name)
    finally:
        store.close()
    if row is None:
        return None
    return {
        "type": row.type,
        "category": row.category,
        "description": row.description,
        "enabled": row.enabled,
        "configuration": row.configuration,
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_put_changes_only_what_is_given(case: Case, server: ServerProcess, integ: Callable[..., Run]) -> None:
    name = f"p-{case.seed}"
    server.post_provider(name, SEEDS[case.seed])
    assert stored(server, name) == SEEDS[case.seed]
    r = integ("provider", "put", name, *case.args)
    assert r.code == 0, r.stderr
    assert f"updated provider {name}" in r.stderr
    after = stored(server, name)
    expected = case.expected()
    if case.replace:  # the sandbox keeps fields a body leaves out; the configuration is replaced
        assert after is not None
        assert after["configuration"] == expected["configuration"]
    else:
        assert after == expected
    for secret in (ANTHROPIC_KEY, AMQP_PASSWORD):
        assert secret not in r.stdout + r.stderr


def test_a_mask_on_a_create_is_exit_3(server: ServerProcess, integ: Callable[..., Run]) -> None:
    r = integ(
        "provider",
        "put",
        "new-claude",
        "-t",
        "anthropic",
        "-c",
        "api_key=********",
        "-c",
        "endpoint=https://e",
    )
    assert r.code == 3, r.stderr
    assert "api_key" in r.stderr
    assert stored(server, "new-claude") is None
