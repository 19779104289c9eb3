"""Strict HTTP framing over raw sockets: a header, request line or chunk the sandbox cannot
read one way only is a 400 (or 505) with a status line, and the connection is closed, so
nothing a client sends after it is ever read as a second request."""

from __future__ import annotations

import json
import socket
from contextlib import closing

import pytest

from conductor_integrations.sandbox import RunningSandbox
from tests.sandbox.conftest import OPENAI, Client
from tests.sandbox.test_hostile import BODY, assert_conductor_error, connect, post_head, read_reply

#: A request smuggled in a body: it must never run.
SMUGGLED = b"DELETE /api/integrations/provider/victim HTTP/1.1\r\nHost: x\r\n\r\n"


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a hung connection
    fails the test after a generous safety timeout)."""
    sock.settimeout(15)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def refused_and_closed(sandbox: RunningSandbox, raw: bytes, expected: int = 400) -> None:
    """``raw`` gets one Conductor error reply marked ``Connection: close``, then EOF."""
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw)
        status, headers, body = read_reply(sock)
        assert_conductor_error(status, body, expected)
        assert headers.get("connection") == "close"
        assert read_to_close(sock) == b"", "a second reply came on the same connection"


@pytest.fixture
def victim(client: Client) -> Client:
    assert client.post("/integrations/provider/victim", json=OPENAI).status_code == 200
    return client


def smuggle(header: bytes) -> bytes:
    head = b"POST /api/integrations/provider/zz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    return head + header % len(SMUGGLED) + b"\r\n" + SMUGGLED


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length : %d\r\n",
        b"Content-Length\t: %d\r\n",
        b"X-A: b\r\n Content-Length: %d\r\n",
        b"X-A: b\r\n\tContent-Length: %d\r\n",
        b" Content-Length: %d\r\n",
        b"Content-Length %d\r\n",
        # A bare CR splits a line for some parsers and not for others: never read either way.
        b"X-A: b\rContent-Length: %d\r\n",
        b"X-A: b\x00\r\nContent-Length: %d\r\n",
    ],
    ids=[
        "space-colon",
        "tab-colon",
        "obs-fold-space",
        "obs-fold-tab",
        "leading-space",
        "no-colon",
        "bare-cr",
        "nul",
    ],
)
def test_a_malformed_header_never_lets_a_body_run_as_a_request(
    sandbox: RunningSandbox, victim: Client, header: bytes
) -> None:
    refused_and_closed(sandbox, smuggle(header))
    assert victim.get("/integrations/provider/victim").status_code == 200
    assert victim.get("/integrations/provider/zz").status_code == 404


@pytest.mark.parametrize(
    "chunks",
    [
        b"%x\n%s\r\n0\r\n\r\n" % (len(BODY), BODY),
        b"%x\r\n%s\n0\r\n\r\n" % (len(BODY), BODY),
        b"%x\r\n%s\r\n0\n\r\n" % (len(BODY), BODY),
        b"%x\n%s\n0\n\n" % (len(BODY), BODY),
    ],
    ids=["size-lf", "data-lf", "last-chunk-lf", "all-lf"],
)
def test_chunk_lines_must_end_in_crlf(sandbox: RunningSandbox, client: Client, chunks: bytes) -> None:
    refused_and_closed(sandbox, post_head("Transfer-Encoding: chunked") + chunks)
    assert client.get("/integrations/provider/p").status_code == 404


@pytest.mark.parametrize(
    "hosts", [[], ["Host: a", "Host: b"], ["Host: a", "Host: a"]], ids=["none", "two", "twice"]
)
def test_http_1_1_needs_exactly_one_host(sandbox: RunningSandbox, hosts: list[str]) -> None:
    raw = "GET /api/integrations/provider HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in hosts) + "\r\n"
    refused_and_closed(sandbox, raw.encode())


def test_http_1_0_without_host_is_still_served(sandbox: RunningSandbox) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(b"GET /api/integrations/provider HTTP/1.0\r\n\r\n")
        status, _, body = read_reply(sock)
    assert status == 200, body
    assert body == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"GET /api/integrations/provider\r\n", 400),
        (b"GET /api/integrations/provider HTTP/2.0\r\nHost: x\r\n", 505),
        (b"GET /api/integrations/provider HTTP/3.0\r\nHost: x\r\n", 505),
        (b"GET /api/integrations/provider HTTP/0.9\r\nHost: x\r\n", 505),
        (b"GET /api/integrations/provider HTTP/1.2\r\nHost: x\r\n", 505),
        (b"GET /api/integrations/provider FOO/1.1\r\nHost: x\r\n", 400),
        (b"GET /a /b HTTP/1.1\r\nHost: x\r\n", 400),
    ],
    ids=["http-0.9", "http-2.0", "http-3.0", "version-0.9", "http-1.2", "not-http", "four-words"],
)
def test_other_request_lines_get_a_status_line_and_close(
    sandbox: RunningSandbox, line: bytes, expected: int
) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(line + b"\r\n")
        data = read_to_close(sock)
    assert data.startswith(b"HTTP/1.1 %d " % expected), data[:200]
    head = data.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nconnection: close" in head
    assert b"\r\ncontent-type: application/json" in head


def test_well_formed_requests_share_a_connection(sandbox: RunningSandbox) -> None:
    """Keep-alive and optional whitespace after the colon still work."""
    with closing(connect(sandbox)) as sock:
        sock.sendall(post_head(f"Content-Length:\t{len(BODY)} ") + BODY)
        first = read_reply(sock)
        sock.sendall(b"GET /api/integrations/provider/p HTTP/1.1\r\nhost:x\r\n\r\n")
        second = read_reply(sock)
    assert first[0] == 200, first
    assert second[0] == 200, second
    assert second[2]["name"] == "p"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([f"X-Long: {'a' * 70000}"], "Line too long"),
        ([f"X-{i}: v" for i in range(101)], "Too many headers"),
    ],
    ids=["long-line", "101-headers"],
)
def test_oversized_heads_are_431_and_close(sandbox: RunningSandbox, headers: list[str], message: str) -> None:
    raw = "GET /api/integrations/provider HTTP/1.1\r\nHost: x\r\n" + "".join(f"{h}\r\n" for h in headers)
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw.encode() + b"\r\n")
        status, headers_back, body = read_reply(sock)
        assert_conductor_error(status, body, 431)
        assert body["message"] == message
        assert headers_back.get("connection") == "close"


def test_a_hundred_headers_are_still_served(sandbox: RunningSandbox) -> None:
    extra = "".join(f"X-{i}: v\r\n" for i in range(99))  # with Host, 100 lines
    raw = "GET /api/integrations/provider HTTP/1.1\r\nHost: x\r\n" + extra
    with closing(connect(sandbox)) as sock:
        sock.sendall(raw.encode() + b"\r\n")
        assert read_reply(sock)[0] == 200


def test_header_names_are_matched_in_any_case_and_values_trimmed(sandbox: RunningSandbox) -> None:
    """``content-LENGTH`` frames the body; ``CONNECTION:  Close`` ends the connection."""
    head = post_head(f"content-LENGTH:   {len(BODY)}", "CONNECTION:  Close")
    with closing(connect(sandbox)) as sock:
        sock.sendall(head + BODY)
        status, headers, body = read_reply(sock)
        assert status == 200, body
        assert body["name"] == "p"
        assert headers.get("connection") == "close"
        assert read_to_close(sock) == b""


def test_expect_100_continue_gets_its_interim_reply_then_the_answer(sandbox: RunningSandbox) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(post_head(f"Content-Length: {len(BODY)}", "Expect: 100-continue"))
        sock.settimeout(15)
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100 ")
        sock.sendall(BODY)
        status, _, body = read_reply(sock)
    assert status == 200, body
    assert body["name"] == "p"


def test_a_reply_carries_server_date_and_its_exact_length(sandbox: RunningSandbox) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(post_head(f"Content-Length: {len(BODY)}") + BODY)
        status, headers, body = read_reply(sock)
    assert status == 200
    assert headers["server"].startswith("integ-sandbox/")
    assert headers["date"].endswith(" GMT")
    assert int(headers["content-length"]) == len(json.dumps(body).encode())


def test_a_path_starting_with_two_slashes_is_read_as_one(sandbox: RunningSandbox, victim: Client) -> None:
    with closing(connect(sandbox)) as sock:
        sock.sendall(b"GET //api/integrations/provider/victim HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = read_reply(sock)
    assert status == 200, body
    assert body["name"] == "victim"
