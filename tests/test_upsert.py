"""``upsert.merged_body``: the complete body an update sends, as a table."""

from __future__ import annotations

from typing import Any

import pytest

from conductor_integrations.errors import InputError
from conductor_integrations.fleet import upsert

LIVE: dict[str, Any] = {
    "name": "claude",
    "type": "anthropic",
    "category": "AI_MODEL",
    "description": "support",
    "enabled": False,
    "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://a", "version": "1"},
    "tags": [{"key": "team", "value": "support"}],
    "modelsCount": 3,
    "updateTime": 1764326700000,
}


@pytest.mark.parametrize(
    ("live", "body", "options", "expected"),
    [
        pytest.param(
            LIVE,
            {"configuration": {"endpoint": "https://b"}},
            {},
            {
                "type": "anthropic",
                "category": "AI_MODEL",
                "description": "support",
                "enabled": False,
                "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://b", "version": "1"},
            },
            id="one-key",
        ),
        pytest.param(
            LIVE,
            {"enabled": True},
            {"unset": ["version", "absent"]},
            {
                "type": "anthropic",
                "category": "AI_MODEL",
                "description": "support",
                "enabled": True,
                "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://a"},
            },
            id="unset",
        ),
        pytest.param(
            LIVE,
            {"type": "anthropic", "configuration": {"api_key": "********", "endpoint": "https://c"}},
            {"kept": {"api_key"}, "replace": True},
            {"type": "anthropic", "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://c"}},
            id="replace-keeps-a-masked-secret",
        ),
        pytest.param(
            {**LIVE, "description": None, "configuration": None},
            {"description": "new"},
            {},
            {"type": "anthropic", "category": "AI_MODEL", "description": "new", "enabled": False},
            id="live-nulls-left-out",
        ),
        pytest.param(
            None,
            {"type": "grok", "configuration": {"api_key": "k"}},
            {"unset": ["other"]},
            {"type": "grok", "configuration": {"api_key": "k"}},
            id="create",
        ),
    ],
)
def test_merged_body(
    live: dict[str, Any] | None, body: dict[str, Any], options: dict[str, Any], expected: dict[str, Any]
) -> None:
    got = upsert.merged_body("claude", live, body, **options)
    assert got == expected
    assert list(got) == [
        k for k in ("type", "category", "description", "enabled", "configuration") if k in got
    ]


@pytest.mark.parametrize(
    ("live", "why"),
    [(None, "does not exist yet"), ({**LIVE, "configuration": {"endpoint": "e"}}, "has no value for it")],
)
def test_a_mask_with_nothing_behind_it_is_invalid_input(live: dict[str, Any] | None, why: str) -> None:
    with pytest.raises(InputError) as caught:
        upsert.merged_body("claude", live, {"configuration": {"api_key": "********"}}, kept={"api_key"})
    assert "configuration.api_key" in caught.value.message
    assert why in caught.value.message
    assert caught.value.exit_code == 3


class _Refusing:
    """A server that answers every POST with a 400 whose message is ``message``, behind the
    client's provider endpoint (as ``api.Client.put_provider`` is)."""

    def __init__(self, message: str):
        self.message = message

    def request(self, method: str, path: str, **_: Any) -> Any:
        from conductor_integrations.errors import RejectedError

        raise RejectedError(f"HTTP 400 from {method} /api{path}: {self.message}", 400)

    def put_provider(self, name: str, body: dict[str, Any]) -> Any:
        from conductor_integrations.client import endpoints

        return endpoints.put_provider(self, name, body)

    def get_provider(self, name: str) -> Any:
        return None


@pytest.mark.parametrize(
    ("live", "message", "hinted"),
    [
        (None, "invalid configuration for type openai", False),
        (LIVE, "Required request body is missing", False),
        (LIVE, "Integration type cannot be changed after creation: 'claude' is anthropic", True),
    ],
)
def test_the_type_change_hint_only_for_a_type_change(live: Any, message: str, hinted: bool) -> None:
    from conductor_integrations.errors import RejectedError

    body = {"type": "anthropic", "configuration": {"api_key": "sk-abcd"}}
    with pytest.raises(RejectedError) as info:
        upsert.put(_Refusing(message), "claude", body, live)
    assert any("cannot be changed after creation" in h for h in info.value.hints) == hinted
