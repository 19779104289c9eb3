"""``integ provider get -o yaml|json`` piped into ``integ provider apply -f -`` against a
server that replaces the whole object on every POST: it keeps exactly the last body it was
sent (no mask handling at all) and masks secrets on GET. What it stores is read from the
stub, never from integ's output."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses

API = "http://whole-object.test/api"
MASK = "xxxxxxxxxx"
SECRET = "pg-whole-object-secret-0721"


class WholeObjectServer:
    """Providers by name; a POST replaces the stored object with exactly its body."""

    def __init__(self, rsps: responses.RequestsMock):
        self.stored: dict[str, dict[str, Any]] = {
            "pg1": {
                "type": "relational_db",
                "category": "RELATIONAL_DB",
                "description": "orders database",
                "enabled": True,
                "configuration": {
                    "jdbcDriver": "org.postgresql.Driver",
                    "datasourceURL": "jdbc:postgresql://db:5432/orders",
                    "user": "orders_app",
                    "password": SECRET,
                    "extraKey": "kept",
                },
            }
        }
        self.tags = {"pg1": [{"key": "env", "value": "prod", "type": "METADATA"}]}
        self.calls: list[tuple[str, str]] = []
        one = re.compile(rf"{re.escape(API)}/integrations/provider/([^/?]+)$")
        rsps.add_callback("GET", f"{API}/integrations/provider", self.listing)
        rsps.add_callback("GET", one, self.get_one)
        rsps.add_callback("POST", one, self.post)
        rsps.add_callback(
            "GET", re.compile(rf"{re.escape(API)}/integrations/provider/([^/?]+)/tags$"), self.get_tags
        )

    def shown(self, name: str) -> dict[str, Any]:
        out = copy.deepcopy(self.stored[name])
        out["configuration"] = {k: MASK if k == "password" else v for k, v in out["configuration"].items()}
        return {
            "name": name,
            **out,
            "tags": self.tags.get(name, []),
            "modelsCount": 0,
            "createTime": 1764326634134,
            "updateTime": 1764326700000,
            "createdBy": "someone@example.com",
            "updatedBy": "someone@example.com",
            "ownerApp": "app-1",
        }

    def listing(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", request.path_url))
        return 200, {}, json.dumps([self.shown(n) for n in self.stored])

    def get_one(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", request.path_url))
        name = request.path_url.rsplit("/", 1)[-1]
        if name not in self.stored:
            return 404, {}, json.dumps({"status": 404, "message": "not found"})
        return 200, {}, json.dumps(self.shown(name))

    def get_tags(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", request.path_url))
        return 200, {}, json.dumps(self.tags.get(request.path_url.split("/")[-2], []))

    def post(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("POST", request.path_url))
        name = request.path_url.rsplit("/", 1)[-1]
        self.stored[name] = json.loads(request.body)
        return 200, {}, json.dumps(self.shown(name))


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WholeObjectServer]:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", API)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield WholeObjectServer(rsps)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_get_then_apply_unedited_leaves_everything_as_stored(
    integ: Any, server: WholeObjectServer, fmt: str
) -> None:
    before = copy.deepcopy(server.stored)
    got = integ("provider", "get", "pg1", "-o", fmt)
    assert got.exit_code == 0, got.stderr
    assert SECRET not in got.output
    r = integ("provider", "apply", "-f", "-", "-o", "json", input=got.stdout)
    assert r.exit_code == 0, r.stderr
    assert r.json()[0]["action"] == "unchanged"
    assert server.stored == before
    assert [c for c in server.calls if c[0] != "GET"] == []


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_get_then_apply_with_an_edit_sends_every_key_and_the_server_s_own_mask(
    integ: Any, server: WholeObjectServer, fmt: str
) -> None:
    got = integ("provider", "get", "pg1", "-o", fmt)
    edited = got.stdout.replace("orders database", "orders (primary)")
    r = integ("provider", "apply", "-f", "-", "-o", "json", input=edited)
    assert r.exit_code == 0, r.stderr
    assert r.json()[0]["action"] == "updated"
    body = server.stored["pg1"]
    assert body["description"] == "orders (primary)"
    assert body["configuration"] == {
        "jdbcDriver": "org.postgresql.Driver",
        "datasourceURL": "jdbc:postgresql://db:5432/orders",
        "user": "orders_app",
        "password": MASK,  # the server's own mask: an Orkes server keeps the stored secret
        "extraKey": "kept",
    }
    assert set(body) == {"type", "category", "description", "enabled", "configuration"}
    assert "********" not in json.dumps(body)
