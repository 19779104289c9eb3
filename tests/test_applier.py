"""The apply engine with a stand-in client: order, failures, fail-fast, type changes."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conductor_integrations.documents.model_docs import ModelSpec
from conductor_integrations.documents.payload import Payload
from conductor_integrations.errors import AuthError, ExitCode, NotFoundError, RejectedError
from conductor_integrations.fleet import engine, planning


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

    def get_provider(self, name: str) -> dict[str, Any] | None:
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
    report = engine.apply(client, payloads, secret_matches=no_match, concurrency=3)
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
    report = engine.apply(client, [payload(n) for n in "abc"], secret_matches=no_match)
    assert [(o.name, o.action) for o in report.outcomes] == [
        ("a", "created"),
        ("b", "failed"),
        ("c", "created"),
    ]
    assert report.outcomes[1].error == "no permission"
    assert report.exit_code == ExitCode.AUTH


def test_exit_code_is_the_first_failed_in_document_order() -> None:
    client = FakeClient(fail={"a": NotFoundError("unknown type", 404), "b": AuthError("denied", 403)})
    report = engine.apply(client, [payload(n) for n in "ab"], secret_matches=no_match, concurrency=1)
    assert report.exit_code == ExitCode.NOT_FOUND


def test_fail_fast_skips_what_was_not_sent() -> None:
    client = FakeClient(fail={"a": AuthError("denied", 403)})
    report = engine.apply(
        client, [payload(n) for n in "abcd"], secret_matches=no_match, concurrency=1, fail_fast=True
    )
    assert [o.action for o in report.outcomes] == ["failed", "skipped", "skipped", "skipped"]
    assert client.sent == ["a"]


def test_type_change_is_refused_without_sending() -> None:
    client = FakeClient(live=[{"name": "a", "type": "openai", "configuration": {}}])
    report = engine.apply(client, [payload("a", "anthropic"), payload("b")], secret_matches=no_match)
    assert report.outcomes[0].action == "failed"
    assert "type cannot be changed from openai to anthropic" in (report.outcomes[0].error or "")
    assert client.sent == ["b"]
    assert report.exit_code == ExitCode.REJECTED


@pytest.mark.parametrize(("matches", "action"), [(True, "unchanged"), (False, "updated")])
def test_secrets_are_unchanged_only_when_the_fingerprint_matches(matches: bool, action: str) -> None:
    live = [{"name": "a", "type": "grok", "category": "AI_MODEL", "configuration": {"api_key": "xxxxxxxxxx"}}]
    sent: list[str] = []
    report = engine.apply(
        FakeClient(live=live),
        [payload("a", secret="sk-123")],
        secret_matches=lambda n, k, v: matches,
        on_sent=lambda p, stamp: sent.append(p.name),
    )
    assert report.outcomes[0].action == action
    assert sent == ([] if matches else ["a"])


def test_records_have_the_contract_keys() -> None:
    report = engine.apply(FakeClient(), [payload("a")], secret_matches=no_match)
    assert report.outcomes[0].record() == {"name": "a", "type": "grok", "action": "created", "error": None}


def test_concurrency_help_states_the_default(integ: Any) -> None:
    r = integ("provider", "apply", "--help")
    assert f"(default {engine.DEFAULT_CONCURRENCY})" in " ".join(r.stdout.split())


# -- models and tags ----------------------------------------------------------------------------


class ModelServer(FakeClient):
    """A stand-in that also answers the model and tag calls, recording each request."""

    def __init__(
        self,
        live: list[dict[str, Any]] | None = None,
        fail: dict[str, Exception] | None = None,
        bulk: bool = True,
        tags: dict[str, list[dict[str, str]]] | None = None,
    ):
        super().__init__(live, fail)
        self.bulk = bulk
        self.tags = tags or {}
        self.calls: list[tuple[str, str, Any]] = []

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        with self.lock:
            self.calls.append((method, path, json))
        if path in self.fail:
            raise self.fail[path]
        if path == "/integrations/":
            if not self.bulk:
                raise NotFoundError("no such endpoint", 404)
            assert params == {"activeOnly": "false"}
            return self.live
        if method == "GET" and path.endswith("/integration"):
            name = path.split("/")[3]
            return next((p.get("apis", []) for p in self.live if p["name"] == name), [])
        if method == "GET" and path.endswith("/tags"):
            return self.tags.get(path.split("/")[3], [])
        return None

    def writes(self) -> list[tuple[str, str, Any]]:
        return [c for c in self.calls if c[0] != "GET"]


def with_children(
    name: str, models: list[ModelSpec] | None = None, tags: dict[str, str] | None = None
) -> Payload:
    p = payload(name)
    p.models, p.tags = models, tags
    return p


GPT = ModelSpec("gpt-4o", {"description": "GPT-4o"})
MINI = ModelSpec("mini", {"enabled": False})


def test_models_and_tags_are_sent_after_a_new_provider() -> None:
    client = ModelServer()
    report = engine.apply(client, [with_children("a", [GPT, MINI], {"team": "ml"})], secret_matches=no_match)
    assert report.outcomes[0].record() == {
        "name": "a",
        "type": "grok",
        "action": "created",
        "error": None,
        "models": [
            {"name": "gpt-4o", "action": "created", "error": None},
            {"name": "mini", "action": "created", "error": None},
        ],
        "tags": "updated",
    }
    assert client.sent == ["a"]
    assert client.writes() == [
        (
            "POST",
            "/integrations/provider/a/integration/gpt-4o",
            {"description": "GPT-4o", "enabled": True, "configuration": {}},
        ),
        (
            "POST",
            "/integrations/provider/a/integration/mini",
            {"description": "", "enabled": False, "configuration": {}},
        ),
        ("PUT", "/integrations/provider/a/tags", [{"key": "team", "value": "ml"}]),
    ]


def test_one_bulk_listing_and_tags_only_for_documents_with_tags() -> None:
    live = [
        {"name": "a", "type": "grok", "category": "AI_MODEL", "configuration": {}, "modelsCount": 1,
         "apis": [{"api": "gpt-4o", "description": "GPT-4o", "enabled": True}]},
        {"name": "b", "type": "grok", "category": "AI_MODEL", "configuration": {}},
    ]  # fmt: skip
    client = ModelServer(live, tags={"b": [{"key": "team", "value": "ml"}]})
    report = engine.apply(
        client, [with_children("a", [GPT]), with_children("b", tags={"team": "ml"})], secret_matches=no_match
    )
    assert [o.action for o in report.outcomes] == ["unchanged", "unchanged"]
    assert client.lists == 0
    assert [(m, p) for m, p, _ in client.calls] == [
        ("GET", "/integrations/"),
        ("GET", "/integrations/provider/b/tags"),
    ]


def test_without_the_bulk_endpoint_models_are_listed_per_provider() -> None:
    live = [{"name": "a", "type": "grok", "category": "AI_MODEL", "configuration": {},
             "apis": [{"api": "gpt-4o", "description": "old", "enabled": True}]}]  # fmt: skip
    client = ModelServer(live, bulk=False)
    report = engine.apply(client, [with_children("a", [GPT]), payload("new")], secret_matches=no_match)
    assert client.lists == 1
    assert ("GET", "/integrations/provider/a/integration", None) in client.calls
    assert not any("/new/" in path for _, path, _ in client.calls)  # not listed: nothing to read
    assert report.outcomes[0].action == "updated"
    assert report.outcomes[0].models == [engine.ModelOutcome(name="gpt-4o", action=engine.Action.UPDATED)]
    assert client.sent == ["new"]  # the provider itself was unchanged: not sent


def test_documents_without_models_or_tags_keep_the_plain_listing_and_records() -> None:
    client = ModelServer()
    report = engine.apply(client, [payload("a")], secret_matches=no_match)
    assert client.lists == 1
    assert client.calls == []
    assert list(report.outcomes[0].record()) == ["name", "type", "action", "error"]


def test_a_failed_provider_sends_no_models_or_tags() -> None:
    client = ModelServer(fail={"a": AuthError("denied", 403)})
    report = engine.apply(client, [with_children("a", [GPT], {"t": "1"})], secret_matches=no_match)
    record = report.outcomes[0].record()
    assert (record["action"], record["error"], record["tags"]) == ("failed", "denied", "skipped")
    assert record["models"] == [
        {"name": "gpt-4o", "action": "skipped", "error": "not sent: the provider failed"}
    ]
    assert client.writes() == []
    assert report.exit_code == ExitCode.AUTH


def test_a_failed_model_fails_the_provider_and_the_others_are_still_sent() -> None:
    path = "/integrations/provider/a/integration/gpt-4o"
    client = ModelServer(fail={path: RejectedError("bad model", 400)})
    sent_models: list[str] = []
    report = engine.apply(
        client,
        [with_children("a", [GPT, MINI], {"t": "1"}), payload("b")],
        secret_matches=no_match,
        concurrency=1,
        on_model_sent=lambda p, m, stamp: sent_models.append(m.name),
    )
    first = report.outcomes[0]
    assert first.action == "failed"
    assert first.error == "provider created; model 'gpt-4o': bad model"
    assert [(m.name, m.action) for m in first.models or []] == [("gpt-4o", "failed"), ("mini", "created")]
    assert first.tags == "updated"
    assert report.outcomes[1].action == "created"
    assert sent_models == ["mini"]
    assert report.exit_code == ExitCode.REJECTED


def test_fail_fast_stops_at_the_first_failed_model() -> None:
    path = "/integrations/provider/a/integration/gpt-4o"
    client = ModelServer(fail={path: RejectedError("bad model", 400)})
    report = engine.apply(
        client,
        [with_children("a", [GPT, MINI], {"t": "1"}), payload("b")],
        secret_matches=no_match,
        concurrency=1,
        fail_fast=True,
    )
    first = report.outcomes[0]
    assert [(m.name, m.action) for m in first.models or []] == [("gpt-4o", "failed"), ("mini", "skipped")]
    assert first.tags == "skipped"
    assert report.outcomes[1].action == "skipped"


def test_stale_tags_are_removed_after_the_new_ones_are_added() -> None:
    live = [{"name": "a", "type": "grok", "category": "AI_MODEL", "configuration": {}}]
    client = ModelServer(live, tags={"a": [{"key": "team", "value": "ops"}, {"key": "old", "value": "x"}]})
    report = engine.apply(client, [with_children("a", tags={"team": "ml"})], secret_matches=no_match)
    assert report.outcomes[0].action == "updated"
    assert client.writes() == [
        ("PUT", "/integrations/provider/a/tags", [{"key": "team", "value": "ml"}]),
        (
            "DELETE",
            "/integrations/provider/a/tags",
            [{"key": "team", "value": "ops"}, {"key": "old", "value": "x"}],
        ),
    ]


def test_type_change_skips_the_models() -> None:
    live = [{"name": "a", "type": "openai", "configuration": {}, "apis": []}]
    report = engine.apply(ModelServer(live), [with_children("a", [GPT])], secret_matches=no_match)
    assert report.outcomes[0].action == "failed"
    assert report.outcomes[0].models == [
        engine.ModelOutcome(
            name="gpt-4o", action=engine.Action.SKIPPED, error="not sent: the provider failed"
        )
    ]


class StampingClient(FakeClient):
    """Replies to a POST with ``reply``; a GET of the provider gives ``updateTime`` 42."""

    def __init__(self, reply: Any):
        super().__init__()
        self.reply = reply
        self.reads: list[str] = []

    def put_provider(self, name: str, body: dict[str, Any]) -> Any:
        super().put_provider(name, body)
        return self.reply

    def get_provider(self, name: str) -> dict[str, Any] | None:
        self.reads.append(name)
        return {"name": name, "updateTime": 42}


@pytest.mark.parametrize(
    ("reply", "stamp", "reads"), [({"updateTime": 7}, 7, []), ({}, 42, ["a"]), (None, 42, ["a"])]
)
def test_the_update_time_of_a_write_with_secrets_is_handed_on(
    reply: Any, stamp: int, reads: list[str]
) -> None:
    client = StampingClient(reply)
    seen: list[tuple[str, Any]] = []
    payloads = [payload("a", secret="sk-1"), payload("b")]
    engine.apply(client, payloads, secret_matches=no_match, on_sent=lambda p, t: seen.append((p.name, t)))
    assert sorted(seen, key=str) == [("a", stamp), ("b", None)]
    assert client.reads == reads  # no read for a provider without secrets


def test_stale_fingerprints_and_resend_send_secrets_that_match() -> None:
    config = {"api_key": "xxxxxxxxxx"}
    live = [{"name": "a", "type": "grok", "category": "AI_MODEL", "configuration": config, "updateTime": 5}]

    def run(fresh: bool, resend: bool) -> str:
        report = engine.apply(
            FakeClient(live=live),
            [payload("a", secret="sk-1")],
            secret_matches=lambda *a: True,
            secret_fresh=lambda n, t: fresh and t == 5,
            resend_secrets=resend,
        )
        return report.outcomes[0].action

    assert run(fresh=True, resend=False) == "unchanged"
    assert run(fresh=False, resend=False) == "updated"
    assert run(fresh=True, resend=True) == "updated"


# -- --prune -l KEY=VALUE ------------------------------------------------------------------


class PruneClient(FakeClient):
    """A server with tags per provider (``GET .../tags``) that records deletions;
    ``delete_fail`` raises on deleting that provider."""

    def __init__(self, tags: dict[str, dict[str, str]], fail: dict[str, Exception] | None = None):
        live = [{"name": n, "type": "grok", "category": "AI_MODEL", "configuration": {}} for n in tags]
        super().__init__(live=live, fail=fail)
        self.tag_map = tags
        self.deleted: list[str] = []
        self.delete_fail: dict[str, BaseException] = {}

    def request(self, method: str, path: str, **_: Any) -> Any:
        assert path.endswith("/tags"), (method, path)
        name = path.split("/")[-2]
        if method != "GET":
            return None
        return [{"key": k, "value": v} for k, v in self.tag_map.get(name, {}).items()]

    def delete_provider(self, name: str) -> None:
        if name in self.delete_fail:
            raise self.delete_fail[name]
        self.deleted.append(name)


def tagged(name: str, **tags: str) -> Payload:
    p = payload(name)
    p.tags = dict(tags)
    return p


def test_prune_deletes_selected_providers_no_document_declares_after_the_writes() -> None:
    client = PruneClient({"keep": {"team": "x"}, "old": {"team": "x"}, "other": {"team": "y"}, "bare": {}})
    client.tag_map["keep"] = {"team": "x"}
    report = engine.apply(
        client,
        [tagged("keep", team="x"), tagged("new", team="x")],
        secret_matches=no_match,
        selectors={"team": "x"},
    )
    assert [(o.name, o.action) for o in report.outcomes] == [
        ("keep", "unchanged"),
        ("new", "created"),
        ("old", "deleted"),
    ]
    assert client.deleted == ["old"]
    assert report.exit_code == 0


def test_prune_needs_every_selector_to_match() -> None:
    client = PruneClient({"a": {"team": "x", "env": "prod"}, "b": {"team": "x"}, "c": {"env": "prod"}})
    report = engine.apply(client, [], secret_matches=no_match, selectors={"team": "x", "env": "prod"})
    assert client.deleted == ["a"]
    assert [(o.name, o.action) for o in report.outcomes] == [("a", "deleted")]


def test_no_deletion_when_a_write_failed() -> None:
    client = PruneClient({"old": {"team": "x"}}, fail={"new": AuthError("denied", 403)})
    report = engine.apply(client, [tagged("new", team="x")], secret_matches=no_match, selectors={"team": "x"})
    assert client.deleted == []
    assert [(o.name, o.action) for o in report.outcomes] == [("new", "failed"), ("old", "skipped")]
    assert report.exit_code == ExitCode.AUTH


def test_a_dead_server_stops_the_deletions() -> None:
    from conductor_integrations.errors import NotSent

    client = PruneClient({"a": {"team": "x"}, "b": {"team": "x"}, "c": {"team": "x"}})
    client.delete_fail["b"] = NotSent("not sent: the server stopped answering", 0)
    report = engine.apply(client, [], secret_matches=no_match, selectors={"team": "x"})
    assert client.deleted == ["a"]
    assert [(o.name, o.action) for o in report.outcomes] == [
        ("a", "deleted"),
        ("b", "not sent"),
        ("c", "not sent"),
    ]


def test_ctrl_c_stops_the_deletions() -> None:
    client = PruneClient({"a": {"team": "x"}, "b": {"team": "x"}, "c": {"team": "x"}})
    client.delete_fail["b"] = KeyboardInterrupt()
    report = engine.apply(client, [], secret_matches=no_match, selectors={"team": "x"})
    assert client.deleted == ["a"]
    assert [o.action for o in report.outcomes] == ["deleted", "interrupted", "interrupted"]
    assert report.exit_code == ExitCode.INTERRUPTED


def test_dry_run_lists_the_deletions() -> None:
    client = PruneClient({"old": {"team": "x"}, "other": {"team": "y"}})
    payloads = [tagged("new", team="x")]
    live = planning.read_live(client, payloads, 2)
    doomed = planning.doomed(client, payloads, live, {"team": "x"}, 2)
    plans = planning.plan_all(payloads, live, no_match, prune=True)
    report = planning.dry_run(payloads, plans, doomed)
    assert [(o.name, o.action) for o in report.outcomes] == [("new", "created"), ("old", "deleted")]
    assert client.deleted == []


def test_results_are_handed_over_each_once_as_they_finish() -> None:
    # Futures finished before the wait, finished by other threads at different times, and
    # in a different order than given: each comes out once, the quick ones first.
    from concurrent.futures import Future

    futures: list[Future[Any]] = [Future() for _ in range(6)]
    futures[4].set_result(4)
    futures[1].set_result(1)
    threads = [
        threading.Timer(0.1 * (i + 1), futures[k].set_result, args=(k,)) for i, k in enumerate([5, 0, 3, 2])
    ]
    for t in threads:
        t.start()
    seen = [f.result() for f in engine._finished(futures)]
    for t in threads:
        t.join()
    assert sorted(seen[:2]) == [1, 4]
    assert seen[2:] == [5, 0, 3, 2]


def test_no_pause_after_the_last_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import Future

    pauses: list[float] = []
    monkeypatch.setattr(engine.time, "sleep", pauses.append)
    done: Future[Any] = Future()
    done.set_result("x")
    assert [f.result() for f in engine._finished([done])] == ["x"]
    assert pauses == []
    assert list(engine._finished([])) == []
