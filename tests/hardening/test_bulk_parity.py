"""The bulk transport (``provider apply``) writes its requests and reads its replies
itself: these tests hold it to what the session does. The same request is sent once
through the session and once through ``bulk.Transport``, each to its own loopback server
misbehaving the same way, and everything is compared: the bytes sent, the result or the
error (type, exit code, message, hints), the requests the server saw, and the ``--debug``
log (masked the same way, the secret in none of it)."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conductor_integrations.client import api, bulk
from conductor_integrations.errors import IntegError
from tests.hardening.fault_server import (
    Action,
    Close,
    FaultServer,
    Hang,
    Raw,
    Reply,
    Reset,
    self_signed,
    sequence,
)

SECRET = "sk-parity-Zq81x0secret"
BODY = {
    "type": "openai",
    "category": "AI_MODEL",
    "description": "parity",
    "enabled": True,
    "configuration": {"api_key": SECRET, "endpoint": "https://api.openai.com/v1"},
}
SAVED = {"name": "p1", **BODY, "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://x"}}
TOKEN = "tok-parity-9f8e7d"


def _raw_reply(head: list[str], body: bytes) -> Raw:
    return Raw(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def _chunked(data: bytes, size: int = 7) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


_SAVED_BYTES = json.dumps(SAVED).encode()

#: name -> the actions the server answers with (in order, then 200 [])
FAULTS: dict[str, list[Action]] = {
    "ok": [Reply(200, SAVED)],
    "empty": [Reply(200, b"")],
    "404": [Reply(404, {"status": 404, "message": "Integration not found"})],
    "400 with validation errors": [
        Reply(400, {"message": "bad", "validationErrors": [{"path": "type", "message": "unknown type"}]})
    ],
    "401": [Reply(401, {"message": "no"})],
    "503 then ok": [Reply(503, retry_after="0"), Reply(200, SAVED)],
    "502 twice": [Reply(502, "<html>bad gateway</html>", content_type="text/html"), Reply(502)],
    "429 for too long": [Reply(429, retry_after="120")],
    "500": [Reply(500, {"message": "boom"})],
    "reset": [Reset(), Reset()],
    "reset mid-reply": [Reset(Reply(200, SAVED), after=60), Reply(200, SAVED)],
    "closed before its length": [Close(Reply(200, SAVED), after=70), Close(Reply(200, SAVED), after=70)],
    "not http": [Raw(b"SSH-2.0-OpenSSH_9.6\r\n"), Raw(b"\x00\x01garbage\r\n\r\n")],
    "hang": [Hang(5), Hang(5)],
    "drip body": [Reply(200, SAVED, drip=0.25, chunk=8), Reply(200, SAVED, drip=0.25, chunk=8)],
    "drip head": [Reply(200, SAVED, drip_head=0.25, chunk=8), Reply(200, SAVED, drip_head=0.25, chunk=8)],
    "slow but in time": [Reply(200, SAVED, drip=0.05, chunk=200)],
    "html page": [Reply(200, "<!doctype html><html>login</html>", content_type="text/html")],
    "truncated json": [Reply(200, b'{"name": "p1", "con')],
    "redirect": [Reply(302, b"", headers={"Location": "https://elsewhere.example/api"})],
    "chunked": [
        _raw_reply(
            ["HTTP/1.1 200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked"],
            _chunked(_SAVED_BYTES),
        )
    ],
    "gzip": [
        _raw_reply(
            [
                "HTTP/1.1 200 OK",
                "Content-Type: application/json",
                "Content-Encoding: gzip",
                f"Content-Length: {len(gzip.compress(_SAVED_BYTES))}",
            ],
            gzip.compress(_SAVED_BYTES),
        )
    ],
    "read to the end": [_raw_reply(["HTTP/1.0 200 OK", "Content-Type: application/json"], _SAVED_BYTES)],
    "100 continue first": [
        _raw_reply(
            ["HTTP/1.1 100 Continue", "", "HTTP/1.1 200 OK", f"Content-Length: {len(_SAVED_BYTES)}"],
            _SAVED_BYTES,
        )
    ],
    "repeated and folded headers": [
        _raw_reply(
            [
                "HTTP/1.1 503 Service Unavailable",
                "X-Note: one",
                "x-note: two",
                "Retry-After: 0",
                "Content-Length: 0",
                "Connection: close",  # as it does: Raw closes the connection after it
            ],
            b"",
        ),
        Reply(200, SAVED),
    ],
    "bare line ends": [Raw(b"HTTP/1.1 200 OK\nContent-Length: 2\nConnection: close\n\n[]")],
    "cut chunk": [
        _raw_reply(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], b"10\r\nshort"),
        Reply(200, SAVED),
    ],
}


def _outcome(
    url: str, through_bulk: bool, call: Callable[[api.Client], Any], stopped: bool = False
) -> tuple[Any, list[str]]:
    log: list[str] = []
    client = api.Client(url, token=TOKEN, retries=1, timeout=1.0, debug_log=log.append)
    transport = bulk.Transport(workers=2) if through_bulk else None
    client.transport = transport
    if stopped:
        client.stop_retrying()
    try:
        try:
            found: Any = ("ok", call(client))
        except IntegError as exc:
            found = (type(exc).__name__, exc.exit_code, str(exc), list(getattr(exc, "hints", []) or []))
    finally:
        if transport is not None:
            transport.close()
    return found, log


def _same(text: Any, url: str) -> Any:
    """``text`` with what differs between two runs made alike: the server's address and
    the time a reply took."""
    if isinstance(text, str):
        text = text.replace(url, "URL").replace(url.split("//")[1], "HOST")
        return re.sub(r" in \d+\.\d s$", " in N s", re.sub(r"\(\d+ ms\)", "(N ms)", text))
    if isinstance(text, (list, tuple)):
        return [_same(t, url) for t in text]
    if isinstance(text, dict):
        return {k: _same(v, url) for k, v in text.items()}
    return text


def _both(
    actions: list[Action], call: Callable[[api.Client], Any], stopped: bool = False
) -> tuple[list[Any], list[Any]]:
    runs = []
    for through_bulk in (False, True):
        with FaultServer(sequence(list(actions))) as server:
            found, log = _outcome(server.url, through_bulk, call, stopped)
            seen = [(r.method, r.path, r.headers, r.body) for r in server.requests]
            runs.append((_same(found, server.url), _same(log, server.url), _same(seen, server.url)))
    return runs[0], runs[1]


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "sleep", lambda _: None)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_write_ends_the_same_through_the_bulk_transport(fault: str) -> None:
    session, lean = _both(FAULTS[fault], lambda c: c.put_provider("p1", BODY))
    assert lean == session
    result, log, seen = lean
    assert seen, "the server saw no request"
    assert all(SECRET not in line and TOKEN not in line for line in log)
    assert SECRET not in str(result) and TOKEN not in str(result)


@pytest.mark.parametrize("fault", ["ok", "404", "html page", "drip body", "not http", "chunked", "gzip"])
def test_a_read_ends_the_same_through_the_bulk_transport(fault: str) -> None:
    session, lean = _both(FAULTS[fault], lambda c: c.get_provider("p1"))
    assert lean == session


def test_a_delete_ends_the_same_through_the_bulk_transport() -> None:
    replies: list[Action] = [Reply(200, b""), Reply(404, {"message": "gone"})]
    session, lean = _both(replies, lambda c: c.delete_provider("p1"))
    assert lean == session


def test_nothing_is_sent_after_ctrl_c_through_the_bulk_transport() -> None:
    session, lean = _both([Reply(200, SAVED)], lambda c: c.put_provider("p1", BODY), stopped=True)
    assert lean == session
    assert lean[0][0] == "Interrupted" and lean[2] == []


def test_a_reply_larger_than_integ_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_REPLY_BYTES", 100)
    big = {"name": "p1", "description": "x" * 500}
    for actions in (
        [Reply(200, big)],  # announced by its Content-Length
        [_raw_reply(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], _chunked(json.dumps(big).encode()))],
        [_raw_reply(["HTTP/1.0 200 OK"], json.dumps(big).encode())],  # read to the end
    ):
        session, lean = _both(actions, lambda c: c.put_provider("p1", BODY))
        assert lean == session
        assert lean[0][0] == "ServerUnavailable" and "larger than" in lean[0][2]


# -- the bytes on the wire ----------------------------------------------------------------------


class _Capture:
    """A loopback server keeping every request's bytes as they came, answering each with
    an empty 200 on a kept-alive connection."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        # a kept-alive connection the client leaves open and idle ends here, quietly
        with conn, contextlib.suppress(TimeoutError):
            self._exchanges(conn)

    def _exchanges(self, conn: socket.socket) -> None:
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                more = conn.recv(65536)
                if not more:
                    return
                data += more
            head, _, rest = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            need = int(length.group(1)) if length else 0
            while len(rest) < need:
                rest += conn.recv(65536)
            self.raw.append(head + b"\r\n\r\n" + rest[:need])
            data = rest[need:]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def capture() -> Iterator[_Capture]:
    server = _Capture()
    yield server
    server.close()


def _sent(capture: _Capture, through_bulk: bool, call: Callable[[api.Client], Any], **kw: Any) -> list[bytes]:
    before = len(capture.raw)
    client = api.Client(capture.url, retries=0, **kw)
    transport = bulk.Transport(workers=1) if through_bulk else None
    client.transport = transport
    try:
        call(client)
    finally:
        if transport is not None:
            transport.close()
    return capture.raw[before:]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.put_provider("p1", BODY), id="write"),
        pytest.param(lambda c: c.put_provider("naïve name/ünicode", {"type": "x", "d": "é"}), id="escaped"),
        pytest.param(lambda c: c.request("GET", "/integrations/provider/p1"), id="read"),
        pytest.param(lambda c: c.delete_provider("p1"), id="delete"),
        pytest.param(lambda c: c.request("POST", "/integrations/provider/p1/tags", json=[]), id="empty list"),
    ],
)
def test_the_bulk_transport_sends_the_very_bytes_requests_sends(capture: _Capture, call: Any) -> None:
    for kw in ({}, {"token": TOKEN}):
        session = _sent(capture, False, call, **kw)
        lean = _sent(capture, True, call, **kw)
        assert session and lean == session
    assert b"User-Agent: integ/" in lean[0] and b"X-Authorization: " + TOKEN.encode() in lean[0]


def test_requests_it_cannot_send_as_requests_would_go_through_the_session(capture: _Capture) -> None:
    transport = bulk.Transport(workers=1)
    client = api.Client(capture.url, retries=0)
    client.transport = transport
    try:
        client.session.cookies.set("jar", "1")
        headers = dict(client.session.headers)
        assert transport.prepare(client, "GET", "/integrations/provider", headers, None, None) is None
        client.session.cookies.clear()
        params = {"activeOnly": "false"}
        assert transport.prepare(client, "GET", "/x", headers, None, params) is None
        assert transport.prepare(client, "GET", "/x", headers, None, None) is not None
        client.request("GET", "/integrations/provider", params=params)  # sent by the session
        assert transport._pools == {}
        assert capture.raw[-1].startswith(b"GET /api/integrations/provider?activeOnly=false HTTP/1.1\r\n")
    finally:
        transport.close()


# -- over TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """A self-signed certificate for 127.0.0.1, and a server context holding it."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("fault", ["ok", "404", "503 then ok", "drip head", "chunked", "reset mid-reply"])
@pytest.mark.parametrize("trusted", [True, False], ids=["verified", "unknown CA"])
def test_over_tls_a_write_ends_the_same_through_the_bulk_transport(
    certificate: tuple[str, Any], fault: str, trusted: bool
) -> None:
    cert, context = certificate
    runs = []
    for through_bulk in (False, True):
        with FaultServer(sequence(list(FAULTS[fault])), tls=context) as server:
            client = api.Client(server.url, retries=1, timeout=1.0, verify=cert if trusted else True)
            transport = bulk.Transport(workers=1) if through_bulk else None
            client.transport = transport
            try:
                found: Any = ("ok", client.put_provider("p1", BODY))
            except IntegError as exc:
                found = (type(exc).__name__, exc.exit_code, str(exc), list(getattr(exc, "hints", []) or []))
            finally:
                if transport is not None:
                    transport.close()
            runs.append((_same(found, server.url), [r.path for r in server.requests]))
    assert runs[1] == runs[0]
    if not trusted:
        assert runs[1][0][0] == "ServerUnavailable" and "TLS error" in runs[1][0][2]


def test_https_to_a_plain_http_server_says_so_through_the_bulk_transport() -> None:
    """A plain-HTTP server on the port answers the TLS hello with an HTTP error page."""
    sock = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    try:
        session, _ = _outcome(url, False, lambda c: c.put_provider("p1", BODY))
        lean, _ = _outcome(url, True, lambda c: c.put_provider("p1", BODY))
    finally:
        sock.close()
    assert lean == session
    assert "does not speak TLS" in lean[2]
