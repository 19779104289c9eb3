"""The serving thread answers whole requests itself and gives a connection to a thread of
its own when a request is not all there or a reply is not taken at once: over raw sockets,
every way a connection can move between the two is answered as the handler answers it,
in order, and nothing read is lost or read twice."""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox import server as http_layer
from tests.sandbox.conftest import OPENAI, Client
from tests.sandbox.test_framing import read_to_close
from tests.sandbox.test_hostile import BODY, Log, connect


class Replies:
    """The replies on one connection, one at a time, keeping what came of the next."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.data = b""

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full reply: {self.data[:200]!r}")
        self.data += chunk

    def next(self, head: bool = False) -> tuple[int, dict[str, str], Any]:
        while b"\r\n\r\n" not in self.data:
            self._more()
        top, _, self.data = self.data.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(self.data) < length:
            self._more()
        body, self.data = self.data[:length], self.data[length:]
        return int(lines[0].split()[1]), headers, json.loads(body) if length else None


def read_reply(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    """The one reply expected on ``sock`` (nothing after it is read)."""
    return Replies(sock).next()


def post(name: str, body: bytes = BODY, *headers: str) -> bytes:
    lines = [
        f"POST /api/integrations/provider/{name} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path: str, *headers: str, version: str = "HTTP/1.1") -> bytes:
    lines = [f"GET /api{path} {version}", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def names(client: Client) -> list[str]:
    found = client.get("/integrations/provider", params={"activeOnly": "false"}).json()
    return sorted(p["name"] for p in found)


@pytest.fixture
def logged(start_sandbox: Callable[..., RunningSandbox]) -> Iterator[tuple[RunningSandbox, Log]]:
    log = Log()
    yield start_sandbox(log=log), log


def test_requests_sent_together_are_answered_in_order_on_one_connection(
    sandbox: RunningSandbox, client: Client
) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(post("a") + post("b") + get("/integrations/provider/a") + post("c"))
        reader = Replies(sock)
        replies = [reader.next() for _ in range(4)]
    assert [status for status, _, _ in replies] == [200, 200, 200, 200]
    assert [body["name"] for _, _, body in replies] == ["a", "b", "a", "c"]
    assert names(client) == ["a", "b", "c"]


@pytest.mark.parametrize("cut", [5, 40, len(post("p")) - len(BODY), len(post("p")) - 3])
def test_a_request_that_arrives_in_two_parts_is_served_and_the_connection_kept(
    sandbox: RunningSandbox, client: Client, cut: int
) -> None:
    # The first part waits in the serving thread; the connection then goes to a thread of
    # its own, which reads the rest and keeps serving it.
    raw = post("p")
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw[:cut])
        time.sleep(0.2)
        sock.sendall(raw[cut:])
        reader = Replies(sock)
        status, _, body = reader.next()
        assert status == 200 and body["name"] == "p"
        sock.sendall(post("q") + get("/integrations/provider/p"))
        assert reader.next()[2]["name"] == "q"
        assert reader.next()[2]["name"] == "p"
    assert names(client) == ["p", "q"]


def test_a_whole_request_then_part_of_the_next_are_both_served(
    sandbox: RunningSandbox, client: Client
) -> None:
    second = post("second")
    with closing(connect(sandbox)) as sock:
        sock.sendall(post("first") + second[:30])
        reader = Replies(sock)
        assert reader.next()[2]["name"] == "first"
        time.sleep(0.2)
        sock.sendall(second[30:])
        assert reader.next()[2]["name"] == "second"
    assert names(client) == ["first", "second"]


def test_a_reply_the_client_does_not_take_at_once_arrives_whole(
    sandbox: RunningSandbox, client: Client
) -> None:
    # A list larger than the socket's buffers (a send buffer holds at most a few MB): the
    # serving thread cannot send it in one go.
    long_description = "d" * 10_000
    for i in range(900):
        body = dict(OPENAI, description=f"{i} {long_description}")
        assert client.post(f"/integrations/provider/big{i:03d}", json=body).status_code == 200
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    with closing(sock):
        sock.connect((sandbox.host, sandbox.port))
        sock.sendall(get("/integrations/provider?activeOnly=false") + get("/integrations/provider/big007"))
        time.sleep(0.3)  # the reply waits on the server while nothing is read
        reader = Replies(sock)
        status, headers, listed = reader.next()
        assert status == 200 and int(headers["content-length"]) > 9_000_000
        assert len(listed) == 900 and {p["name"] for p in listed} == {f"big{i:03d}" for i in range(900)}
        # The request sent behind it is answered after it, on the same connection.
        assert reader.next()[2]["description"].startswith("7 ")


def test_connection_close_and_http_10_close_after_the_reply(sandbox: RunningSandbox) -> None:
    for raw in (get("/health", "Connection: close"), get("/health", version="HTTP/1.0")):
        with closing(connect(sandbox)) as sock:
            sock.sendall(raw + get("/health"))
            reader = Replies(sock)
            status, headers, _ = reader.next()
            assert status == 200 and headers.get("connection") == "close"
            assert reader.data + read_to_close(sock) == b"", "a second reply came after Connection: close"


def test_http_10_with_keep_alive_stays_open(sandbox: RunningSandbox) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(get("/health", "Connection: keep-alive", version="HTTP/1.0"))
        status, headers, _ = read_reply(sock)
        assert status == 200 and "connection" not in headers
        sock.sendall(get("/health"))
        assert read_reply(sock)[0] == 200


def test_head_is_answered_without_a_body_then_the_next_request(
    sandbox: RunningSandbox, client: Client
) -> None:
    assert client.post("/integrations/provider/h", json=OPENAI).status_code == 200
    head = b"HEAD /api/integrations/provider/h HTTP/1.1\r\nHost: x\r\n\r\n"
    with closing(connect(sandbox)) as sock:
        sock.sendall(head + get("/integrations/provider/h"))
        reader = Replies(sock)
        status, headers, body = reader.next(head=True)
        assert status == 200 and int(headers["content-length"]) > 0 and body is None
        assert reader.data.startswith(b"HTTP/1.1 200") or reader.data == b""
        assert reader.next()[2]["name"] == "h"


def test_a_refused_request_with_a_body_closes_the_connection(
    start_sandbox: Callable[..., RunningSandbox],
) -> None:
    sandbox = start_sandbox(auth=["key1:secret1"])
    with closing(connect(sandbox)) as sock:
        sock.sendall(post("p") + get("/health"))
        reader = Replies(sock)
        status, headers, _ = reader.next()
        assert status == 401 and headers.get("connection") == "close"
        assert reader.data + read_to_close(sock) == b""


def test_both_ways_of_serving_log_the_same_line(logged: tuple[RunningSandbox, Log]) -> None:
    sandbox, log = logged
    raw = post("p")
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw)  # whole: the serving thread answers it
        read_reply(sock)
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw[:20])  # in parts: a thread of its own answers it
        time.sleep(0.2)
        sock.sendall(raw[20:])
        read_reply(sock)
    entries = [line for line in log.getvalue().splitlines() if "POST" in line]
    assert entries == ['127.0.0.1 - "POST /api/integrations/provider/p HTTP/1.1" 200 -'] * 2


def test_an_idle_connection_is_closed(monkeypatch: pytest.MonkeyPatch, sandbox: RunningSandbox) -> None:
    monkeypatch.setattr(http_layer, "IDLE_TIMEOUT", 0.5)
    monkeypatch.setattr(http_layer, "_SWEEP", 0.1)
    with closing(connect(sandbox)) as sock:
        sock.sendall(get("/health"))
        assert read_reply(sock)[0] == 200
        started = time.monotonic()
        assert read_to_close(sock) == b""
        assert time.monotonic() - started < 10


def test_stopping_closes_the_connections_it_watches(start_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = start_sandbox()
    with closing(connect(sandbox)) as sock:
        sock.sendall(get("/health"))
        assert read_reply(sock)[0] == 200
        sandbox.stop()
        assert read_to_close(sock) == b""


def test_a_request_line_ending_in_an_extra_cr_is_logged_as_the_handler_logs_it(
    logged: tuple[RunningSandbox, Log],
) -> None:
    sandbox, log = logged
    with closing(connect(sandbox)) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\r\nHost: x\r\n\r\n")
        assert read_reply(sock)[0] == 200
    assert '127.0.0.1 - "GET /api/health HTTP/1.1" 200 -' in log.getvalue().splitlines()


def test_a_write_the_store_cannot_take_now_is_a_503_at_once_and_reads_go_on(
    sandbox: RunningSandbox, client: Client
) -> None:
    # Another process holds the write lock (an `integ --server local` command on the same
    # file): the serving thread does not sit in SQLite's busy wait while others wait on it.
    other = sqlite3.connect(sandbox.data_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with closing(connect(sandbox)) as sock:
            sock.sendall(post("p"))
            status, headers, body = read_reply(sock)
        assert status == 503 and headers.get("retry-after") == "1", body
        assert time.monotonic() - started < http_layer.db.BUSY_TIMEOUT_MS / 1000 / 2
        with closing(connect(sandbox)) as sock:
            sock.sendall(get("/integrations/provider?activeOnly=false"))
            assert read_reply(sock)[0] == 200
    finally:
        other.execute("ROLLBACK")
        other.close()
    with closing(connect(sandbox)) as sock:
        sock.sendall(post("p"))
        assert read_reply(sock)[0] == 200
    assert names(client) == ["p"]


def test_a_long_pipeline_does_not_hold_the_others_back(
    logged: tuple[RunningSandbox, Log], client: Client
) -> None:
    sandbox, log = logged
    for i in range(300):  # each HEAD of the list below costs a query of all of them
        assert client.post(f"/integrations/provider/n{i:03d}", json=OPENAI).status_code == 200
    head = b"HEAD /api/integrations/provider?activeOnly=false HTTP/1.1\r\nHost: x\r\n\r\n"
    many = 60_000 // len(head)
    with closing(connect(sandbox)) as attacker, closing(connect(sandbox)) as victim:

        def drain() -> None:  # it reads its replies, so they never fill its socket
            with contextlib.suppress(OSError):
                read_to_close(attacker)

        threading.Thread(target=drain, daemon=True).start()
        attacker.sendall(head * many)
        time.sleep(0.05)
        victim.sendall(get("/integrations/provider/n001"))
        assert read_reply(victim)[2]["name"] == "n001"
        lines = log.getvalue().splitlines()
        victim_at = lines.index('127.0.0.1 - "GET /api/integrations/provider/n001 HTTP/1.1" 200 -')
        heads_before = sum("HEAD /api/integrations/provider" in line for line in lines[:victim_at])
        assert heads_before < many, "the whole pipeline was answered before the other client"


@pytest.mark.parametrize("whole", [True, False], ids=["serving-thread", "own-thread"])
def test_a_target_that_is_not_a_url_is_a_400(sandbox: RunningSandbox, whole: bool) -> None:
    raw = b"GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\n"
    with closing(connect(sandbox)) as sock:
        if whole:
            sock.sendall(raw)
        else:
            sock.sendall(raw[:5])
            time.sleep(0.2)
            sock.sendall(raw[5:])
        status, headers, body = read_reply(sock)
        assert status == 400 and body["status"] == 400 and "request target" in body["message"]
        assert headers.get("connection") == "close"
