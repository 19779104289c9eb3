"""``--server local`` without a socket: the requests adapter that hands requests to a
handler in this process, the sandbox's answers through it (the same as over loopback),
and the CLI against the in-process sandbox with no port ever bound."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conductor_integrations import config
from conductor_integrations.client.inprocess import InProcessAdapter
from conductor_integrations.sandbox import LocalSandbox, RunningSandbox, open_in_process, serve_in_background
from conductor_integrations.sandbox import exchange as rules

OPENAI = {"type": "openai", "category": "AI_MODEL", "configuration": {"api_key": "sk-inprocess-0001"}}
#: Headers the socket server adds on its own (the stdlib's), not the sandbox's reply.
TRANSPORT_HEADERS = {"date", "server"}


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalSandbox]:
    with open_in_process(tmp_path / "local.db") as sandbox:
        yield sandbox


@pytest.fixture
def over_loopback(tmp_path: Path) -> Iterator[RunningSandbox]:
    with serve_in_background(tmp_path / "socket.db") as running:
        yield running


def session_for(sandbox: LocalSandbox) -> requests.Session:
    session = requests.Session()
    session.mount(sandbox.url + "/", InProcessAdapter(sandbox.handle))
    return session


# -- the adapter ------------------------------------------------------------------------------


class Recorder:
    def __init__(self, reply: tuple[int, Any, bytes]):
        self.reply = reply
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, Any, bytes]:
        self.calls.append((method, target, dict(headers), body))
        return self.reply


def test_the_handler_gets_what_would_go_over_the_wire_and_its_reply_comes_back() -> None:
    handler = Recorder((201, [("Content-Type", "application/json"), ("X-Seen", "yes")], b'{"ok": true}'))
    session = requests.Session()
    session.mount("http://here.invalid/", InProcessAdapter(handler))
    reply = session.post(
        "http://here.invalid/api/integrations/provider/a%2Fb", params={"q": "x y"}, json={"k": "v"}
    )
    [(method, target, headers, body)] = handler.calls
    assert (method, target) == ("POST", "/api/integrations/provider/a%2Fb?q=x+y")
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))
    assert json.loads(body) == {"k": "v"}
    assert reply.status_code == 201
    assert reply.reason == "Created"
    assert reply.headers["x-seen"] == "yes"
    assert reply.json() == {"ok": True}


def test_a_handler_that_raises_is_a_broken_connection() -> None:
    def broken(*args: Any) -> tuple[int, Any, bytes]:
        raise RuntimeError("store closed")

    session = requests.Session()
    session.mount("http://here.invalid/", InProcessAdapter(broken))
    with pytest.raises(requests.exceptions.ConnectionError, match="store closed"):
        session.get("http://here.invalid/api/health")


# -- the sandbox through it: the same replies as over a socket --------------------------------

ROUTES = [
    ("GET", "/api/integrations/provider?activeOnly=false", None),
    ("GET", "/api/integrations/provider/missing", None),  # an error: 404 with the Conductor body
    ("POST", "/api/integrations/provider/bad", {"type": "no-such-type", "configuration": {}}),
    ("POST", "/api/integrations/provider/bad", {"type": 5}),
    ("DELETE", "/api/integrations/provider/missing", None),
    ("GET", "/api/integrations/def", None),
    ("GET", "/api/nowhere", None),
    ("GET", "/health", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_replies_are_the_socket_servers(
    local: LocalSandbox, over_loopback: RunningSandbox, method: str, path: str, body: Any
) -> None:
    via_socket = requests.request(method, over_loopback.url + path, json=body, timeout=30)
    in_process = session_for(local).request(method, local.url + path, json=body)
    assert in_process.status_code == via_socket.status_code
    assert in_process.content == via_socket.content
    socket_headers = {
        k.lower(): v for k, v in via_socket.headers.items() if k.lower() not in TRANSPORT_HEADERS
    }
    assert {k.lower(): v for k, v in in_process.headers.items()} == socket_headers


def test_a_write_then_a_read_in_process(local: LocalSandbox) -> None:
    session = session_for(local)
    saved = session.post(local.url + "/api/integrations/provider/p", json=OPENAI)
    assert saved.status_code == 200, saved.text
    got = session.get(local.url + "/api/integrations/provider/p")
    assert got.json()["configuration"]["api_key"] != "sk-inprocess-0001"  # masked on read
    assert got.json()["type"] == "openai"


# -- the socket server's framing rules, applied in process -------------------------------------

BODY = json.dumps(OPENAI).encode()


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Content-Length": "+17"}, BODY, 400),
        ({"Content-Length": str(len(BODY) + 5)}, BODY, 400),  # shorter than its length
        ({"Content-Length": "3"}, BODY, 400),  # longer than its length
        ({"Content-Length": str(len(BODY)), "Transfer-Encoding": "chunked"}, BODY, 400),
        ({"Transfer-Encoding": "gzip"}, BODY, 501),
        ({"Content-Length": "9" * 40}, BODY, 413),
    ],
)
def test_framing_is_held_to_the_same_rules(
    local: LocalSandbox, headers: dict[str, str], body: bytes, status: int
) -> None:
    got, reply_headers, data = local.handle("POST", "/api/integrations/provider/p", headers, body)
    assert got == status
    assert json.loads(data)["status"] == status
    assert ("Connection", "close") in reply_headers
    missing, _, _ = local.handle("GET", "/api/integrations/provider/p", {}, b"")
    assert missing == 404  # nothing was saved


def test_a_body_over_the_limit_is_413(local: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "MAX_BODY", 100)
    status, _, data = local.handle(
        "POST", "/api/integrations/provider/p", {"Transfer-Encoding": "chunked"}, b"x" * 101
    )
    assert status == 413
    assert "larger than 100 bytes" in json.loads(data)["message"]


def test_with_auth_the_token_is_checked_before_the_body(tmp_path: Path) -> None:
    with open_in_process(tmp_path / "auth.db", auth=["app:s3cret-key"]) as sandbox:
        headers = {"Content-Length": str(len(BODY))}
        status, _, data = sandbox.handle("POST", "/api/integrations/provider/p", headers, BODY)
        assert status == 401
        assert json.loads(data)["status"] == 401
        token_body = json.dumps({"keyId": "app", "keySecret": "s3cret-key"}).encode()
        status, _, data = sandbox.handle(
            "POST", "/api/token", {"Content-Length": str(len(token_body))}, token_body
        )
        assert status == 200
        token = json.loads(data)["token"]
        headers["X-Authorization"] = token
        status, _, _ = sandbox.handle("POST", "/api/integrations/provider/p", headers, BODY)
        assert status == 200


def test_head_is_get_without_the_body(local: LocalSandbox) -> None:
    status, headers, data = local.handle("HEAD", "/api/integrations/def", {}, b"")
    _, _, full = local.handle("GET", "/api/integrations/def", {}, b"")
    assert status == 200
    assert data == b""
    assert ("Content-Length", str(len(full))) in headers


# -- the CLI: no port, state kept between commands ----------------------------------------------


@pytest.fixture
def no_listening(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every bind or listen on a socket in this process is recorded and refused."""
    calls: list[str] = []

    def refuse(name: str) -> Any:
        def call(self: socket.socket, *args: Any) -> None:
            calls.append(name)
            raise OSError(f"{name} refused by the test")

        return call

    monkeypatch.setattr(socket.socket, "bind", refuse("bind"))
    monkeypatch.setattr(socket.socket, "listen", refuse("listen"))
    return calls


def test_server_local_opens_no_listening_socket(integ: Any, no_listening: list[str]) -> None:
    put = integ("provider", "put", "p", "-t", "grok", "-c", "api_key=sk-noport-1", "--server", "local")
    assert put.exit_code == 0, put.stderr
    listed = integ("provider", "list", "--server", "local", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert [p["name"] for p in listed.json()] == ["p"]
    missing = integ("provider", "get", "nope", "--server", "local")
    assert missing.exit_code == 5
    assert no_listening == []
    assert (config.data_dir() / "sandbox.db").is_file()  # the state is in the data folder
    assert "sk-noport-1" not in put.output + listed.output + missing.output
