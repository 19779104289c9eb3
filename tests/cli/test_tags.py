"""`integ provider tag set|list|remove` against a real sandbox on loopback, and the exact
requests against stubbed replies (the DELETE carries a JSON body)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from conductor_integrations.sandbox import serve_in_background
from tests.cli.provider_stubs import API, stub_server


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    with serve_in_background(tmp_path / "x.db") as running:
        yield running.url


@pytest.fixture
def provider(integ: Any, sandbox: str) -> str:
    r = integ("provider", "put", "openai", "-t", "openai", "-c", "api_key=sk-tags-0001", "--server", sandbox)
    assert r.exit_code == 0, r.stderr
    return "openai"


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    yield from stub_server(monkeypatch)


def tags_on(integ: Any, sandbox: str, name: str) -> list[tuple[str, str]]:
    r = integ("provider", "tag", "list", name, "--server", sandbox, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return [(t["key"], t["value"]) for t in r.json()]


def test_set_list_remove(integ: Any, sandbox: str, provider: str) -> None:
    r = integ("provider", "tag", "set", provider, "team=ml", "env=prod", "--server", sandbox)
    assert r.exit_code == 0, r.stderr
    assert "set 2 tags on provider openai: team=ml, env=prod" in r.stderr
    assert tags_on(integ, sandbox, provider) == [("team", "ml"), ("env", "prod")]
    table = integ("provider", "tag", "list", provider, "--server", sandbox)
    assert table.stdout.splitlines() == ["KEY    VALUE", "team   ml", "env    prod"]
    removed = integ("provider", "tag", "remove", provider, "env=prod", "--server", sandbox, "-o", "json")
    assert removed.exit_code == 0, removed.stderr
    assert removed.json() == {
        "name": "openai",
        "action": "removed",
        "tags": [{"key": "env", "value": "prod"}],
    }
    assert tags_on(integ, sandbox, provider) == [("team", "ml")]


def test_set_gives_a_key_a_new_value_and_shows_on_provider_get(
    integ: Any, sandbox: str, provider: str
) -> None:
    integ("provider", "tag", "set", provider, "team=ml", "--server", sandbox)
    integ("provider", "tag", "set", provider, "team=platform", "--server", sandbox)
    assert tags_on(integ, sandbox, provider) == [("team", "platform")]
    got = integ("provider", "get", provider, "--server", sandbox)
    assert "tags:         team=platform" in got.stdout


def test_a_value_may_hold_equals_signs_and_be_empty(integ: Any, sandbox: str, provider: str) -> None:
    assert integ("provider", "tag", "set", provider, "q=a=b", "empty=", "--server", sandbox).exit_code == 0
    assert tags_on(integ, sandbox, provider) == [("q", "a=b"), ("empty", "")]


@pytest.mark.parametrize("bad", ["team", "=ml", " =x"])
def test_malformed_pair_is_usage_and_nothing_sent(integ: Any, sandbox: str, provider: str, bad: str) -> None:
    r = integ("provider", "tag", "set", provider, "ok=1", bad, "--server", sandbox)
    assert r.exit_code == 2
    assert "expected KEY=VALUE" in r.stderr
    assert tags_on(integ, sandbox, provider) == []


def test_no_pairs_is_usage(integ: Any, sandbox: str, provider: str) -> None:
    assert integ("provider", "tag", "set", provider, "--server", sandbox).exit_code == 2


def test_missing_provider_is_exit_5(integ: Any, sandbox: str) -> None:
    for args in (("set", "nope", "a=b"), ("list", "nope"), ("remove", "nope", "a=b")):
        r = integ("provider", "tag", *args, "--server", sandbox)
        assert r.exit_code == 5, args
        assert "no provider 'nope'" in r.stderr


def test_remove_sends_a_json_body_with_delete(integ: Any, mock: responses.RequestsMock) -> None:
    url = f"{API}/integrations/provider/my%2Fp/tags"
    mock.delete(url, body="")
    r = integ("provider", "tag", "remove", "my/p", "env=prod", "team=ml")
    assert r.exit_code == 0, r.stderr
    request = mock.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == [{"key": "env", "value": "prod"}, {"key": "team", "value": "ml"}]


def test_set_sends_each_pair_once(integ: Any, mock: responses.RequestsMock) -> None:
    mock.put(f"{API}/integrations/provider/p/tags", body="")
    mock.get(
        f"{API}/integrations/provider/p/tags", json=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    )
    assert integ("provider", "tag", "set", "p", "a=1", "a=1", "b=2").exit_code == 0
    assert json.loads(mock.calls[0].request.body) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    assert [c.request.method for c in mock.calls] == ["PUT", "GET"]  # nothing stale: no DELETE


def test_set_removes_the_other_values_of_its_keys_only(integ: Any, mock: responses.RequestsMock) -> None:
    url = f"{API}/integrations/provider/p/tags"
    mock.put(url, body="")
    live = [("team", "docs"), ("team", "marketing"), ("env", "prod"), ("team", "ml")]
    mock.get(url, json=[{"key": k, "value": v} for k, v in live])
    mock.delete(url, body="")
    assert integ("provider", "tag", "set", "p", "team=ml").exit_code == 0
    assert json.loads(mock.calls[2].request.body) == [
        {"key": "team", "value": "docs"},
        {"key": "team", "value": "marketing"},
    ]


def test_set_keeps_a_second_value_given_for_one_key(integ: Any, sandbox: str, provider: str) -> None:
    integ("provider", "tag", "set", provider, "team=ml", "env=prod", "--server", sandbox)
    r = integ("provider", "tag", "set", provider, "team=docs", "team=marketing", "--server", sandbox)
    assert r.exit_code == 0, r.stderr
    assert tags_on(integ, sandbox, provider) == [("env", "prod"), ("team", "docs"), ("team", "marketing")]


def test_list_tolerates_values_that_are_not_text(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider/p/tags",
        json=[{"key": "n", "value": 5}, {"key": "x", "type": "METADATA"}],
    )
    r = integ("provider", "tag", "list", "p", "-o", "json")
    assert r.json() == [{"key": "n", "value": "5"}, {"key": "x", "value": ""}]


def test_a_reply_that_is_not_a_list_is_exit_7(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/p/tags", json={"oops": True})
    r = integ("provider", "tag", "list", "p")
    assert r.exit_code == 7
    assert "not what the Conductor API returns" in r.stderr


@pytest.mark.parametrize(
    ("verb", "example"),
    [
        ("set", "integ provider tag set openai-prod team=ml env=prod"),
        ("remove", "integ provider tag remove openai-prod env=prod"),
    ],
)
def test_a_malformed_pair_hints_at_the_verb_that_was_used(
    integ: Any, sandbox: str, provider: str, verb: str, example: str
) -> None:
    r = integ("provider", "tag", verb, provider, "env", "--server", sandbox)
    assert r.exit_code == 2
    assert f"hint: for example: {example}" in r.stderr
    assert "tag set" not in r.stderr or verb == "set"
