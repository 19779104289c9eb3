"""The sandbox against hostile clients, over raw sockets: malformed framing, bodies sent
before auth, too many connections, slow clients, hostile JSON, and log injection."""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox import exchange as rules
from conductor_integrations.sandbox import server as http_layer
from tests.sandbox.conftest import OPENAI, Client

#: A safety net against a hung server, never an assertion on speed.
DEADLINE = 30.0
PROVIDER = "/api/integrations/provider/p"


def connect(sandbox: RunningSandbox) -> socket.socket:
    return socket.create_connection((sandbox.host, sandbox.port), timeout=DEADLINE)


def read_reply(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    """One HTTP reply: status, headers (lower-case names) and the JSON body (or None)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full reply: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, json.loads(rest[:length]) if length else None


def exchange(sandbox: RunningSandbox, raw: bytes) -> tuple[int, dict[str, str], Any]:
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw)
        return read_reply(sock)


def post_head(*headers: str, path: str = PROVIDER) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_conductor_error(status: int, body: Any, expected: int) -> None:
    assert status == expected, body
    assert body["status"] == expected
    assert {"status", "message", "instance", "retryable"} <= set(body)


BODY = json.dumps(OPENAI).encode()


# -- chunked bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [b"-1", b"-10000", b"+a", b"0x10", b" a", b"1_0", b"g", b""])
def test_malformed_chunk_sizes_are_400(sandbox: RunningSandbox, size: bytes) -> None:
    raw = post_head("Transfer-Encoding: chunked") + size + b"\r\n"
    status, _, body = exchange(sandbox, raw)
    assert_conductor_error(status, body, 400)


def test_chunks_adding_up_past_the_cap_are_413(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "MAX_BODY", 1000)
    chunk = b"1f4\r\n" + b"x" * 500 + b"\r\n"
    status, _, body = exchange(sandbox, post_head("Transfer-Encoding: chunked") + chunk * 3)
    assert_conductor_error(status, body, 413)


def test_a_well_formed_chunked_body_is_served(sandbox: RunningSandbox) -> None:
    half = len(BODY) // 2
    chunks = b"%x;ext=1\r\n%s\r\n%X\r\n%s\r\n0\r\n\r\n" % (half, BODY[:half], len(BODY) - half, BODY[half:])
    status, _, body = exchange(sandbox, post_head("Transfer-Encoding: chunked") + chunks)
    assert status == 200, body
    assert body["description"] == OPENAI["description"]


# -- Content-Length and Transfer-Encoding -----------------------------------------------------


@pytest.mark.parametrize("value", ["+17", "1_7", "1 7", "-1", "17.0", "0x11", "١٧", "1" * 5000])
def test_strict_content_length(sandbox: RunningSandbox, value: str) -> None:
    body = b'{"type":"openai"}'  # 17 bytes: a lenient parser would create the provider
    raw = post_head(f"Content-Length: {value}") + body
    status, _, body = exchange(sandbox, raw)
    assert_conductor_error(status, body, 413 if value == "1" * 5000 else 400)


def test_duplicate_content_length_is_400(sandbox: RunningSandbox) -> None:
    length = f"Content-Length: {len(BODY)}"
    status, _, body = exchange(sandbox, post_head(length, length) + BODY)
    assert_conductor_error(status, body, 400)


def test_transfer_encoding_with_content_length_is_400(sandbox: RunningSandbox) -> None:
    raw = post_head("Transfer-Encoding: chunked", f"Content-Length: {len(BODY)}")
    status, _, body = exchange(sandbox, raw + b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY))
    assert_conductor_error(status, body, 400)


@pytest.mark.parametrize("coding", ["gzip", "gzip, chunked", "chunked, chunked", "identity", "xchunked"])
def test_unknown_transfer_encoding_is_refused(sandbox: RunningSandbox, coding: str) -> None:
    raw = f"GET /api/integrations/provider HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n"
    status, _, body = exchange(sandbox, raw.encode() + b"0\r\n\r\n")
    assert status in (400, 501), body
    assert_conductor_error(status, body, status)


def test_a_plain_content_length_still_works(sandbox: RunningSandbox) -> None:
    status, _, body = exchange(sandbox, post_head(f"Content-Length: {len(BODY)}") + BODY)
    assert status == 200, body


# -- auth before the body ---------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["Content-Length: 16000000", "Transfer-Encoding: chunked"])
def test_no_body_is_read_before_auth(start_sandbox: Callable[..., RunningSandbox], framing: str) -> None:
    sandbox = start_sandbox(auth=["ci:s3cret"])
    with closing(connect(sandbox)) as sock:
        sock.sendall(post_head(framing))  # the body never comes
        status, headers, body = read_reply(sock)
    assert_conductor_error(status, body, 401)
    assert headers.get("connection") == "close"


def test_the_token_endpoint_still_reads_its_body(start_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = start_sandbox(auth=["ci:s3cret"])
    client = Client(sandbox.url)
    token = client.token("ci", "s3cret")
    client.session.headers["X-Authorization"] = token
    assert client.post("/integrations/provider/p", json=OPENAI).status_code == 200
    client.close()


# -- connections: a cap, and slow clients dropped ------------------------------------------------


def test_connections_beyond_the_cap_are_refused(
    start_sandbox: Callable[..., RunningSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_layer, "MAX_CONNECTIONS", 4)
    sandbox = start_sandbox()
    health = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    held = [connect(sandbox) for _ in range(4)]
    try:
        for sock in held:  # each is served and stays open (keep-alive)
            sock.sendall(health)
            assert read_reply(sock)[0] == 200
        with closing(connect(sandbox)) as extra:
            try:
                status, _, body = read_reply(extra)
            except (ConnectionError, OSError):
                pass  # closed without a reply: refused too
            else:
                assert_conductor_error(status, body, 503)
        # a held connection keeps working
        held[0].sendall(health)
        assert read_reply(held[0])[0] == 200
    finally:
        for sock in held:
            sock.close()
    # once they are closed, new connections are served again
    end = time.monotonic() + DEADLINE
    while True:
        try:
            status, _, _ = exchange(sandbox, health)
        except (ConnectionError, OSError):
            status = 0
        if status == 200 or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert status == 200


def test_a_client_dripping_headers_is_dropped(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_layer, "HEAD_TIMEOUT", 1.0)
    with closing(connect(sandbox)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        end = time.monotonic() + DEADLINE
        dropped = False
        while time.monotonic() < end:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                sock.settimeout(0.2)
                if sock.recv(1) == b"":
                    dropped = True
                    break
            except TimeoutError:
                continue
            except OSError:
                dropped = True
                break
    assert dropped, "the slow client was never dropped"


def test_a_client_dripping_a_body_is_dropped(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_layer, "BODY_TIMEOUT", 1.0)
    with closing(connect(sandbox)) as sock:
        sock.sendall(post_head("Content-Length: 100000"))
        end = time.monotonic() + DEADLINE
        dropped = False
        while time.monotonic() < end:
            try:
                sock.sendall(b" ")
                sock.settimeout(0.2)
                if sock.recv(1) in (b"", b"H"):
                    dropped = True
                    break
            except TimeoutError:
                continue
            except OSError:
                dropped = True
                break
    assert dropped, "the slow body was never dropped"


def test_keep_alive_still_serves_many_requests(client: Client) -> None:
    for i in range(20):
        assert client.get("/integrations/provider").status_code == 200, i


# -- hostile JSON -------------------------------------------------------------------------------


def post_json(sandbox: RunningSandbox, text: str, path: str = PROVIDER) -> tuple[int, Any]:
    data = text.encode()
    status, _, body = exchange(sandbox, post_head(f"Content-Length: {len(data)}", path=path) + data)
    return status, body


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "openai", "enabled": true, "configuration": {"n": ' + "9" * 5000 + "}}",
        '{"type": "openai", "configuration": {"n": 9223372036854775808}}',
        '{"type": "openai", "configuration": {"n": -9223372036854775809}}',
        '{"type": "openai", "configuration": {"n": 1e999}}',
        '{"type": "openai", "configuration": {"n": NaN}}',
        '{"type": "openai", "configuration": {"n": Infinity}}',
        '{"type": "openai", "configuration": {"n": -Infinity}}',
        '{"type": "openai", "configuration": {"n": ' + "[" * 100_000 + "]" * 100_000 + "}}",
        '{"type": "openai", "configuration": {"n": ' + "[" * 65 + "]" * 65 + "}}",
    ],
    ids=["5000-digits", "long-max+1", "long-min-1", "1e999", "nan", "inf", "-inf", "deep-100000", "deep-65"],
)
def test_hostile_json_is_400(sandbox: RunningSandbox, text: str) -> None:
    status, body = post_json(sandbox, text)
    assert_conductor_error(status, body, 400)


def test_max_tokens_beyond_a_java_int_is_400(sandbox: RunningSandbox) -> None:
    assert post_json(sandbox, json.dumps(OPENAI))[0] == 200
    path = PROVIDER + "/integration/gpt-4o"
    for value in (2**31, 2**63, -(2**31) - 1):
        status, body = post_json(sandbox, json.dumps({"maxTokens": value}), path)
        assert_conductor_error(status, body, 400)
    assert post_json(sandbox, json.dumps({"maxTokens": 2**31 - 1}), path)[0] == 200


def test_reasonable_nesting_and_numbers_are_accepted(sandbox: RunningSandbox) -> None:
    text = json.dumps({**OPENAI, "configuration": {**OPENAI["configuration"], "n": 2**63 - 1}})
    assert post_json(sandbox, text)[0] == 200


# -- the access log ----------------------------------------------------------------------------


class Log(io.StringIO):
    pass


@pytest.fixture
def logged(start_sandbox: Callable[..., RunningSandbox]) -> Iterator[tuple[RunningSandbox, Log]]:
    log = Log()
    yield start_sandbox(log=log), log


@pytest.mark.parametrize(
    "evil",
    [b"\x1b[2J\x1b]0;pwned\x07", b"a\x00b", b"a\rb", "\u202eevil\u2066".encode(), b"\x9b31m"],
    ids=["esc-osc-bel", "nul", "cr", "bidi", "c1"],
)
def test_the_access_log_escapes_control_characters(logged: tuple[RunningSandbox, Log], evil: bytes) -> None:
    sandbox, log = logged
    with closing(connect(sandbox)) as sock:
        sock.sendall(b"GET /api/x" + evil + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        read_reply(sock)
    text = log.getvalue()
    assert "/api/x" in text
    for ch in text:
        if ch == "\n":
            continue
        assert ch.isprintable() and ch not in "\u202e\u2066", repr(text)


def test_a_bad_request_line_is_logged_escaped(logged: tuple[RunningSandbox, Log]) -> None:
    sandbox, log = logged
    with closing(connect(sandbox)) as sock:
        sock.sendall(b"\x1b]0;x\x07 / HTTP/1.1\r\n\r\n")
        with suppress(ConnectionError):
            read_reply(sock)
    assert "\x1b" not in log.getvalue() and "\x07" not in log.getvalue()
