"""`integ provider put` on an existing provider changes only what is given, against a
server that replaces the whole object on POST (it keeps exactly the last body POSTed and
returns it with secrets masked): the stored body is read, not integ's output."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import responses

from conductor_integrations.types import builtin
from tests.cli.provider_stubs import API, SERVER, TOKEN
from tests.put_merge_cases import AMQP_PASSWORD, CASES, SEEDS, Case

MASK = "xxxxxxxxxx"
PATH = re.compile(re.escape(API) + r"/integrations/provider/([^/?]+)$")


class WholeObjectServer:
    """Keeps exactly the last body POSTed for each name (``posted``); GET returns it with
    every secret value masked as Orkes does. A secret POSTed as the mask keeps the value
    stored before (what integ assumes of Orkes): ``secrets`` holds what the server keeps."""

    def __init__(self, rsps: responses.RequestsMock):
        self.posted: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        rsps.add_callback("GET", PATH, callback=self._get)
        rsps.add_callback("POST", PATH, callback=self._post)

    def seed(self, name: str, body: dict[str, Any]) -> None:
        self._store(name, copy.deepcopy(body))

    def _name(self, request: Any) -> str:
        found = PATH.match(request.url.split("?")[0])
        assert found
        return unquote(found.group(1))

    def _get(self, request: Any) -> tuple[int, dict[str, str], str]:
        name = self._name(request)
        if name not in self.posted:
            return 404, {}, json.dumps({"status": 404, "message": f"Integration {name} not found"})
        body = copy.deepcopy(self.posted[name])
        config = body.get("configuration") or {}
        for key in config:
            if builtin.is_secret_key(key) and config[key]:
                config[key] = MASK
        return 200, {}, json.dumps({"name": name, **body, "tags": [], "modelsCount": 0})

    def _post(self, request: Any) -> tuple[int, dict[str, str], str]:
        name = self._name(request)
        self._store(name, json.loads(request.body))
        return 200, {}, ""

    def _store(self, name: str, body: dict[str, Any]) -> None:
        old = self.secrets.get(name, {})
        kept = {}
        for key, value in (body.get("configuration") or {}).items():
            if builtin.is_secret_key(key):
                kept[key] = old[key] if value == MASK and key in old else value
        self.posted[name] = body
        self.secrets[name] = kept


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WholeObjectServer, responses.RequestsMock]]:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", SERVER)
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", TOKEN)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield WholeObjectServer(rsps), rsps


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_put_changes_only_what_is_given(
    case: Case, integ: Any, server: tuple[WholeObjectServer, responses.RequestsMock]
) -> None:
    stub, rsps = server
    name = f"p-{case.seed}"
    stub.seed(name, SEEDS[case.seed])
    r = integ("provider", "put", name, *case.args)
    assert r.exit_code == 0, r.stderr
    assert f"updated provider {name}" in r.stderr
    assert [c.request.method for c in rsps.calls] == ["GET", "POST"]

    expected = case.expected()
    posted = stub.posted[name]
    if case.replace:
        assert posted["configuration"] == expected["configuration"]
        assert posted["type"] == expected["type"]
    else:
        # the body is complete: the whole provider, secrets kept sent back as the mask
        sent = copy.deepcopy(expected)
        for key in case.kept_secrets:
            sent["configuration"][key] = MASK
        assert posted == sent
    secrets = {k: v for k, v in expected["configuration"].items() if builtin.is_secret_key(k)}
    assert stub.secrets[name] == secrets
    for secret in secrets.values():
        assert secret not in r.stdout + r.stderr


@pytest.mark.parametrize("mask", ["********", MASK, "*", "xxxx"])
def test_a_mask_on_a_create_is_exit_3(
    mask: str, integ: Any, server: tuple[WholeObjectServer, responses.RequestsMock]
) -> None:
    stub, rsps = server
    r = integ(
        "provider",
        "put",
        "new-claude",
        "-t",
        "anthropic",
        "-c",
        f"api_key={mask}",
        "-c",
        "endpoint=https://e",
    )
    assert r.exit_code == 3, r.stderr
    assert "api_key" in r.stderr
    assert "nothing was sent" in r.stderr
    assert [c.request.method for c in rsps.calls] == ["GET"]
    assert stub.posted == {}


def test_unset_and_set_of_one_key_is_a_usage_error(
    integ: Any, server: tuple[WholeObjectServer, responses.RequestsMock]
) -> None:
    _stub, rsps = server
    r = integ("provider", "put", "p", "-c", "version=1", "--unset", "version")
    assert r.exit_code == 2
    assert "--unset version" in r.stderr
    assert not rsps.calls


def test_unset_of_a_required_key_fails_validation(
    integ: Any, server: tuple[WholeObjectServer, responses.RequestsMock]
) -> None:
    stub, rsps = server
    stub.seed("p", SEEDS["anthropic"])
    r = integ("provider", "put", "p", "--unset", "endpoint")
    assert r.exit_code == 3
    assert "anthropic requires 'endpoint'" in r.stderr
    assert [c.request.method for c in rsps.calls] == ["GET"]


def test_update_without_type_is_validated_on_the_merged_body(
    integ: Any, server: tuple[WholeObjectServer, responses.RequestsMock]
) -> None:
    stub, rsps = server
    stub.seed("p", SEEDS["amqp"])
    r = integ("provider", "put", "p", "-t", "amqp", "-c", "port=")
    assert r.exit_code == 3
    assert "amqp requires 'port'" in r.stderr
    assert "requires 'password'" not in r.stderr  # the live provider holds it (masked)
    assert [c.request.method for c in rsps.calls] == ["GET"]


def test_dry_run_with_a_server_prints_the_merged_body(
    integ: Any, server: tuple[WholeObjectServer, responses.RequestsMock]
) -> None:
    stub, rsps = server
    stub.seed("p", SEEDS["amqp"])
    r = integ("provider", "put", "p", "-c", "port=5673", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    body = r.json()["body"]
    assert body["configuration"] == {**SEEDS["amqp"]["configuration"], "port": "5673", "password": "********"}
    assert body["description"] == "orders broker"
    assert r.json()["merged"] is True
    assert [c.request.method for c in rsps.calls] == ["GET"]
    assert AMQP_PASSWORD not in r.output


def test_dry_run_without_a_server_says_the_merge_is_not_shown(integ: Any) -> None:
    r = integ(
        "provider", "put", "p", "-t", "amqp", "-c", "port=5673", "--dry-run", "--no-validate", "-o", "json"
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["merged"] is False
    assert "not merged with the live provider" in r.stderr
