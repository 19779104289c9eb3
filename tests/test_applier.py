"""The apply engine with a stand-in client: order, failures, fail-fast, type changes."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conductor_integrations import applier
from conductor_integrations.errors import AuthError, ExitCode, NotFoundError
from conductor_integrations.payload import Payload


class FakeClient:
    def __init__(self, live: list[dict[str, Any]] | None = None, fail: dict[str, Exception] | None = None):
        self.live = live or []
        self.fail = fail or {}
        self.sent: list[str] = []
        self.lists = 0
        self.lock = threading.Lock()

    def list_providers(self, category: str | None = None, active_only: bool = False) -> list[dict[str, Any]]:
        assert active_only is False
        self.lists += 1
        return self.live

    def put_provider(self, name: str, body: dict[str, Any]) -> Any:
        with self.lock:
            self.sent.append(name)
        if name in self.fail:
            raise self.fail[name]
        return None


def payload(name: str, type_name: str = "grok", secret: str | None = None) -> Payload:
    config = {"api_key": secret} if secret else {}
    body: dict[str, Any] = {"type": type_name, "category": "AI_MODEL", "configuration": config}
    return Payload(name, body, secret_keys={"api_key"} if secret else set())


def no_match(name: str, key: str, value: str) -> bool:
    return False


def test_one_list_call_and_results_in_document_order() -> None:
    client = FakeClient(live=[{"name": "b", "type": "grok", "category": "AI_MODEL", "configuration": {}}])
    payloads = [payload(n) for n in ("a", "b", "c", "d")]
    report = applier.apply(client, payloads, secret_matches=no_match, concurrency=3)
    assert client.lists == 1
    assert [(o.name, o.action) for o in report.outcomes] == [
        ("a", "created"),
        ("b", "unchanged"),
        ("c", "created"),
        ("d", "created"),
    ]
    assert sorted(client.sent) == ["a", "c", "d"]
    assert report.exit_code == 0


def test_a_failure_is_reported_for_that_provider_and_others_are_applied() -> None:
    client = FakeClient(fail={"b": AuthError("no permission", 403)})
    report = applier.apply(client, [payload(n) for n in "abc"], secret_matches=no_match)
    assert [(o.name, o.action) for o in report.outcomes] == [
        ("a", "created"),
        ("b", "failed"),
        ("c", "created"),
    ]
    assert report.outcomes[1].error == "no permission"
    assert report.exit_code == ExitCode.AUTH


def test_exit_code_is_the_first_failed_in_document_order() -> None:
    client = FakeClient(fail={"a": NotFoundError("unknown type", 404), "b": AuthError("denied", 403)})
    report = applier.apply(client, [payload(n) for n in "ab"], secret_matches=no_match, concurrency=1)
    assert report.exit_code == ExitCode.NOT_FOUND


def test_fail_fast_skips_what_was_not_sent() -> None:
    client = FakeClient(fail={"a": AuthError("denied", 403)})
    report = applier.apply(
        client, [payload(n) for n in "abcd"], secret_matches=no_match, concurrency=1, fail_fast=True
    )
    assert [o.action for o in report.outcomes] == ["failed", "skipped", "skipped", "skipped"]
    assert client.sent == ["a"]


def test_type_change_is_refused_without_sending() -> None:
    client = FakeClient(live=[{"name": "a", "type": "openai", "configuration": {}}])
    report = applier.apply(client, [payload("a", "anthropic"), payload("b")], secret_matches=no_match)
    assert report.outcomes[0].action == "failed"
    assert "type cannot be changed from openai to anthropic" in (report.outcomes[0].error or "")
    assert client.sent == ["b"]
    assert report.exit_code == ExitCode.REJECTED


@pytest.mark.parametrize(("matches", "action"), [(True, "unchanged"), (False, "updated")])
def test_secrets_are_unchanged_only_when_the_fingerprint_matches(matches: bool, action: str) -> None:
    live = [{"name": "a", "type": "grok", "category": "AI_MODEL", "configuration": {"api_key": "xxxxxxxxxx"}}]
    sent: list[str] = []
    report = applier.apply(
        FakeClient(live=live),
        [payload("a", secret="sk-123")],
        secret_matches=lambda n, k, v: matches,
        on_sent=lambda p: sent.append(p.name),
    )
    assert report.outcomes[0].action == action
    assert sent == ([] if matches else ["a"])


def test_records_have_the_contract_keys() -> None:
    report = applier.apply(FakeClient(), [payload("a")], secret_matches=no_match)
    assert report.outcomes[0].record() == {"name": "a", "type": "grok", "action": "created", "error": None}


def test_concurrency_help_states_the_default(integ: Any) -> None:
    r = integ("provider", "apply", "--help")
    assert f"(default {applier.DEFAULT_CONCURRENCY})" in " ".join(r.stdout.split())
