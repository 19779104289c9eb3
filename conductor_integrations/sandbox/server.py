"""The sandbox's HTTP layer: the standard library's ``ThreadingHTTPServer``, reading each
request's head itself (not through the email package) and writing each reply in one piece.

Why this layer: it ships with Python (no dependency to install or pin), it starts in a few
milliseconds, it runs in-process in a background thread, and it serves concurrent requests;
HTTP/1.1 keep-alive lets a client reuse its connection. The API is small JSON over a handful
of paths, so a framework would add weight and nothing else. One thread watches every
connection and answers the requests that arrive whole (``serve_until_stopped``); a
connection that needs waiting on goes to a thread of its own (``_Handler``). Details that
matter here:

- ``server_bind`` does not resolve the host's name (the stdlib's does, which can take seconds
  where DNS is slow);
- TCP_NODELAY on every connection (else each keep-alive answer waits ~40 ms for an ACK);
- a listen backlog of 128, so a burst of concurrent clients is queued rather than refused;
- open connections are tracked and shut down on ``stop()``, so idle keep-alive connections
  never keep a stopped server's threads alive;
- every answer, including protocol errors, is JSON with the Conductor error body.

Against hostile clients (it may listen beyond loopback); the rules that do not depend on
the socket (framing values, limits, the token before the body, answers) are ``exchange``'s,
which the in-process sandbox (``local``) applies too:

- framing is strict: ``Content-Length`` is ASCII digits only, given once, never together
  with ``Transfer-Encoding``; only ``chunked`` is understood (others: 501); chunk sizes are
  plain hex and chunk lines end in CRLF; a body (or the sum of its chunks) over
  ``MAX_BODY`` is a 413; a header folded onto the line before, without a colon, with
  whitespace before it or with a bare CR or NUL in it, a missing or repeated ``Host`` on
  HTTP/1.1, and a request line other than ``METHOD TARGET HTTP/1.0|1.1`` are a 400 (505
  for another version); a header line over 64 KiB or more than 100 of them a 431; after
  any framing error the connection is closed, so a body is never read as a request;
- the token is checked before the body is read: a caller without a valid token gets its
  401 without the server reading (or buffering) what it sends, and a request that needs no
  token (``POST /api/token`` on a server with auth) may send at most ``MAX_OPEN_BODY``;
- at most ``MAX_CONNECTIONS`` connections are served at once (more get a 503 and are
  closed); a request's head must arrive within ``HEAD_TIMEOUT`` of its first byte and its
  body within ``BODY_TIMEOUT``, so a client dripping bytes cannot hold a thread; an idle
  keep-alive connection is closed after ``IDLE_TIMEOUT``;
- the access log escapes control and bidirectional characters in everything it writes.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import json
import os
import re
import selectors
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from conductor_integrations import __version__
from conductor_integrations.sandbox import db, exchange
from conductor_integrations.sandbox.errors import ApiError, SandboxError
from conductor_integrations.sandbox.exchange import BodyError
from conductor_integrations.sandbox.routes import Response, SandboxApp
from conductor_integrations.sandbox.store import Store

#: Connections served at once; more are answered 503 and closed.
MAX_CONNECTIONS = 128
#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 60.0
#: Seconds a request's line and headers may take to arrive, from their first byte.
HEAD_TIMEOUT = 10.0
#: Seconds a request's body may take to arrive.
BODY_TIMEOUT = 60.0
#: Seconds a reply may take to be sent (a client that does not read is dropped).
SEND_TIMEOUT = 30.0

_HEX = re.compile(rb"[0-9A-Fa-f]+")
#: As ``http.client`` reads headers: the longest line, the most header lines.
_MAX_LINE = 65536
_MAX_HEADERS = 100
#: A header name (an RFC 9110 token), directly followed by its colon.
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSIONS = ("HTTP/1.0", "HTTP/1.1")
#: The methods the handler serves (others: 501, from the handler).
_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"})
#: The most of a request's head, and of its body, the serving thread answers itself;
#: a larger one goes to a thread of its own.
_FAST_HEAD = 16 * 1024
_FAST_BODY = 1024 * 1024
#: Seconds between two looks for idle connections while some are open.
_SWEEP = 1.0
#: Seconds the serving thread spends on one connection's requests before it hands the
#: rest of them to a thread of its own (the others are waiting).
_PASS = 0.01
_VERSION = re.compile(r"HTTP/[0-9]+\.[0-9]+")
#: C0 and C1 controls, DEL, and the invisible or bidirectional formatting characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def escape_log(text: str) -> str:
    """``text`` with every control or bidirectional character as a visible escape
    (``\\x1b``, ``\\u202e``), so a request cannot drive the terminal that shows the log."""

    def visible(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(visible, text)


class _Headers:
    """A request's header fields in the order given, looked up by name in any case (what
    the handler needs of ``email.message.Message``, without the email package's parser)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]]):
        self._fields = fields

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def get_all(self, name: str) -> list[str]:
        return exchange.values_of(self._fields, name)

    def get(self, name: str, default: str = "") -> str:
        found = self.get_all(name)
        return found[0] if found else default


def _read_head(rfile: Any) -> list[bytes] | str:
    """The raw header lines of a request, up to the blank line that ends them (not
    included), or what makes them unreadable: a line over ``_MAX_LINE`` bytes, more than
    ``_MAX_HEADERS`` lines (the limits ``http.client`` sets)."""
    lines: list[bytes] = []
    while True:
        line: bytes = rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            return "Line too long"
        if line in (b"\r\n", b"\n", b""):
            return lines
        lines.append(line)
        if len(lines) > _MAX_HEADERS:
            return "Too many headers"


def _fields(lines: list[bytes]) -> list[tuple[str, str]]:
    """``(name, value)`` of each raw line already found well formed (``_head_problem``):
    the value without the whitespace after the colon and without the line's end."""
    out = []
    for line in lines:
        name, _, value = line.decode("iso-8859-1").partition(":")
        out.append((name, value.lstrip(" \t").rstrip("\r\n")))
    return out


def _request_line(raw: bytes) -> str:
    """The request line as it is read and logged: without its line end."""
    return str(raw, "iso-8859-1").rstrip("\r\n")


def _one_slash(path: str) -> str:
    """A target beginning ``//`` read with one slash, as the stdlib does (gh-87389)."""
    return "/" + path.lstrip("/") if path.startswith("//") else path


def _closes(version: str, headers: _Headers) -> bool:
    """Whether the connection closes after this request: HTTP/1.0 unless it asks to be
    kept alive, HTTP/1.1 when it asks to close."""
    connection = headers.get("Connection").lower()
    if connection == "close":
        return True
    if connection == "keep-alive":
        return False
    return version == "HTTP/1.0"


def _head_problem(lines: list[bytes], version: str) -> str | None:
    """What makes these raw header lines ambiguous, or None: a line folded onto the one
    before (obs-fold), one without a colon, whitespace or anything else between a name and
    its colon; for HTTP/1.1, a ``Host`` missing or given more than once."""
    hosts = 0
    for line in lines:
        if line in (b"\r\n", b"\n", b""):
            break
        if line[:1] in (b" ", b"\t"):
            return "Malformed header: a line folded onto the one before (obs-fold)"
        name, colon, _ = line.partition(b":")
        if not colon:
            return "Malformed header: a line without a colon"
        if b"\0" in line or b"\r" in line.removesuffix(b"\r\n"):
            return "Malformed header: a CR or NUL inside a line"
        if not _FIELD_NAME.fullmatch(name):
            return f"Malformed header name {name[:40].decode('latin-1')!r}"
        hosts += name.lower() == b"host"
    if hosts > 1:
        return "Host given more than once"
    if hosts == 0 and version == "HTTP/1.1":
        return "Host header missing (HTTP/1.1 requires it)"
    return None


class _ClockedReader(io.RawIOBase):
    """The connection as its handler reads it, under a clock: while no request has begun,
    ``IDLE_TIMEOUT``; from a request's first byte, ``HEAD_TIMEOUT`` for its line and
    headers; then ``BODY_TIMEOUT`` for its body (``start_body``). A deadline, not a
    per-read timeout, so a client sending a byte at a time is still dropped."""

    def __init__(self, sock: socket.socket, prefix: bytes = b""):
        super().__init__()
        self._sock = sock
        self._deadline: float | None = None
        #: what the serving thread read of the connection and did not answer
        self._prefix = prefix

    def readable(self) -> bool:
        return True

    def next_request(self) -> None:
        self._deadline = None

    def start_body(self) -> None:
        self._deadline = time.monotonic() + BODY_TIMEOUT

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            if self._deadline is None:
                self._deadline = time.monotonic() + HEAD_TIMEOUT
            return n
        if self._deadline is None:
            timeout = IDLE_TIMEOUT
        else:
            timeout = self._deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("the client is too slow")
        self._sock.settimeout(timeout)
        n = self._sock.recv_into(buffer)
        if n and self._deadline is None:
            self._deadline = time.monotonic() + HEAD_TIMEOUT
        return n


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = os.name != "nt"  # elsewhere SO_REUSEADDR still refuses a port in use

    def __init__(self, address: tuple[str, int], app: SandboxApp, log: TextIO | None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.log = log
        self.log_lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        #: the serving thread's selector (None when it is not serving) and the connections
        #: it watches itself
        self._selector: selectors.BaseSelector | None = None
        self._watched: dict[socket.socket, _Watched] = {}
        self._next_sweep = 0.0
        #: per connection handed to a thread: (what was read and not answered, what of a
        #: reply is still to send, whether the connection closes after it)
        self._handed: dict[socket.socket, tuple[bytes, bytes, bool]] = {}
        try:
            super().__init__(address, _Handler)
        except BaseException:
            self._wake_r.close()
            self._wake_w.close()
            raise

    def serve_until_stopped(self) -> None:
        """Accept connections and answer their requests until ``stop_serving()``.

        This thread watches every connection and answers each request that has come in
        whole (``_answer_buffered``), one after the other: no thread wakes for it, and none
        waits for another to let go of the interpreter, which is most of what a request
        costs a server with a thread per connection. A connection whose next request is
        not all there (a large body, a slow client, chunked, ``Expect``), or is not plainly
        well formed, or that does not take a reply at once, goes to a thread of its own
        (``_Handler``, under the timeouts above) and stays there. Unlike ``serve_forever``
        there is no polling: a wake-up socket ends the wait at once, and a server with no
        connection open never wakes (with some, once every ``_SWEEP`` seconds, to close
        those idle for ``IDLE_TIMEOUT``)."""
        db.serving_thread()  # its writes do not wait long for another's: it serves everyone
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            self._selector = selector
            try:
                while not self._stopping.is_set():
                    for key, _ in selector.select(_SWEEP if self._watched else None):
                        if isinstance(key.data, _Watched):
                            self._readable(key.data)
                        elif key.fileobj is self and not self._stopping.is_set():
                            self._handle_request_noblock()  # type: ignore[attr-defined]
                    if self._watched and time.monotonic() >= self._next_sweep:
                        self._sweep()
            finally:
                self._selector = None
                for watched in list(self._watched.values()):
                    self._drop(watched)

    def _readable(self, watched: _Watched) -> None:
        """Read what came on a watched connection and answer every whole request in it."""
        sock = watched.sock
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(watched)
            return
        if not data:
            self._drop(watched)
            return
        watched.buffer += data
        watched.since = started = time.monotonic()
        try:
            while watched.buffer:
                if time.monotonic() - started > _PASS:  # a long pipeline: a thread goes on with it
                    self._hand_over(watched)
                    return
                answered = self._answer_buffered(watched)
                if answered is None:
                    self._hand_over(watched)
                    return
                reply, close = answered
                try:
                    sent = sock.send(reply)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                if sent < len(reply):  # the client is not reading as fast: a thread waits for it
                    self._hand_over(watched, reply[sent:], close)
                    return
                if close:
                    self._drop(watched)
                    return
        except OSError:
            self._drop(watched)
        except Exception:
            self.handle_error(sock, watched.address)
            self._drop(watched)

    def _answer_buffered(self, watched: _Watched) -> tuple[bytes, bool] | None:
        """The reply to the request at the start of ``watched.buffer`` (taken from it), and
        whether the connection closes after it; None when it is one for ``_Handler``: not
        all there, larger than ``_FAST_BODY``, chunked, with ``Expect``, or anything the
        handler would refuse or read differently (its rules and answers are the handler's)."""
        buffer = watched.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0 or end > _FAST_HEAD:
            return None
        block = buffer[:end]
        if block.count(b"\n") != block.count(b"\r\n"):
            return None  # a line ended by a bare LF: the handler reads it line by line
        raw_line, _, rest = block.partition(b"\r\n")
        requestline = _request_line(raw_line)
        words = requestline.split()
        if len(words) != 3 or words[2] not in _VERSIONS or words[0] not in _METHODS:
            return None
        command, path, version = words
        lines = [line + b"\r\n" for line in rest.split(b"\r\n")] if rest else []
        if len(lines) > _MAX_HEADERS or _head_problem(lines, version):
            return None
        headers = _Headers(_fields(lines))
        if headers.get_all("Transfer-Encoding") or headers.get_all("Expect"):
            return None
        try:
            _, length = exchange.framing([], headers.get_all("Content-Length"))
        except BodyError:
            return None
        start = end + 4
        if length > _FAST_BODY or len(buffer) < start + length:
            return None
        path = _one_slash(path)
        try:
            request = exchange.request_for(command, path, headers.items())
        except BodyError:
            return None  # the handler answers it, and closes
        watched.buffer = buffer[start + length :]
        close = _closes(version, headers)
        app = self.app
        try:
            principal = app.admit(request)
        except ApiError as exc:
            response = exchange.refusal(exc)
            close = close or length > 0  # as the handler: a refused caller's body is not read
        else:
            limit = exchange.body_limit(app, principal)
            if length > limit:
                response, close = exchange.refusal(exchange.too_large(limit)), True
            else:
                request.body = buffer[start : start + length]
                response = exchange.answer(app, request, self.write_log, f"{command} {path}")
        status, reply, close = _reply(response, head=command == "HEAD", close=close)
        self.write_log(_access_line(watched.address, requestline, status))
        return reply, close

    def _hand_over(self, watched: _Watched, unsent: bytes = b"", close: bool = False) -> None:
        """Give a watched connection to a thread of its own (``_Handler``), with what was
        read of it and not answered, and what of a reply is still to be sent."""
        self._unwatch(watched)
        watched.sock.setblocking(True)
        self._handed[watched.sock] = (watched.buffer, unsent, close)
        socketserver.ThreadingMixIn.process_request(self, watched.sock, watched.address)

    def handed(self, sock: socket.socket) -> tuple[bytes, bytes, bool]:
        """What ``_hand_over`` left for the handler of ``sock`` (nothing for a connection
        that came to a thread directly)."""
        return self._handed.pop(sock, (b"", b"", False))

    def _unwatch(self, watched: _Watched) -> None:
        if self._watched.pop(watched.sock, None) is not None and self._selector is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(watched.sock)

    def _drop(self, watched: _Watched) -> None:
        self._unwatch(watched)
        self.shutdown_request(watched.sock)

    def _sweep(self) -> None:
        """Close the watched connections idle for ``IDLE_TIMEOUT``."""
        now = time.monotonic()
        self._next_sweep = now + _SWEEP
        for watched in list(self._watched.values()):
            if now - watched.since >= IDLE_TIMEOUT:
                self._drop(watched)

    def stop_serving(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's fully qualified name; skip that.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            full = len(self._open) >= MAX_CONNECTIONS
            if not full:
                self._open.add(request)
        if full:
            self._refuse(request, client_address)
            return
        if self._selector is None:
            super().process_request(request, client_address)
            return
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        request.setblocking(False)
        watched = _Watched(request, client_address)
        self._watched[request] = watched
        self._selector.register(request, selectors.EVENT_READ, watched)

    def _refuse(self, request: socket.socket, client_address: Any) -> None:
        """A 503 for a connection over ``MAX_CONNECTIONS``, sent without waiting, then closed."""
        error = ApiError(503, f"Too many connections (at most {MAX_CONNECTIONS})", retryable=True)
        body = json.dumps(error.body()).encode("utf-8")
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(head.encode("ascii") + body)
        self.write_log(f"{client_address[0]} - refused: {MAX_CONNECTIONS} connections open")
        socketserver.TCPServer.shutdown_request(self, request)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake every handler thread blocked on an idle connection, so it ends."""
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the client went away
        self.write_log(f"error serving {client_address}:\n{traceback.format_exc()}")

    def write_log(self, line: str) -> None:
        """One entry of the access log, every line of it escaped (``escape_log``)."""
        if self.log is not None:
            text = "\n".join(escape_log(part) for part in line.rstrip("\n").split("\n"))
            with self.log_lock:
                self.log.write(text + "\n")
                self.log.flush()


def _reason(status: int) -> str:
    known = BaseHTTPRequestHandler.responses.get(status)
    return known[0] if known else ""


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """Now as the ``Date`` header gives it (formatted once a second)."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True))
    return _date[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"integ-sandbox/{__version__}"
    timeout = IDLE_TIMEOUT
    # A reply goes out in one write, but "100 Continue" and the reply after it are two;
    # with Nagle's algorithm the second would wait for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()  # answered as GET, without the body

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        prefix, self._unsent, self._close_after = self.server.handed(self.connection)
        self._clock = _ClockedReader(self.connection, prefix)
        self.rfile = io.BufferedReader(self._clock)

    def handle(self) -> None:
        if self._unsent:  # the rest of a reply the serving thread began
            self.connection.settimeout(SEND_TIMEOUT)
            self.wfile.write(self._unsent)
        if not self._close_after:
            super().handle()

    def handle_one_request(self) -> None:
        self._clock.next_request()
        super().handle_one_request()

    def parse_request(self) -> bool:
        """The stdlib's parsing, held to one reading only: the request line must be
        ``METHOD TARGET HTTP/1.0|1.1`` and the headers unambiguous (``_head_problem``);
        anything else is answered with a status line and closes the connection."""
        self.command = ""
        self.request_version = "HTTP/1.1"  # so even an error here has a status line
        self.close_connection = True
        self.requestline = _request_line(getattr(self, "raw_requestline", b""))
        words = self.requestline.split()
        if not words:
            return False
        if len(words) != 3 or words[2] not in _VERSIONS:
            if len(words) == 3 and _VERSION.fullmatch(words[2]):
                self.send_error(505, f"HTTP version {words[2][5:]!r} is not supported (only 1.0 and 1.1)")
            else:
                self.send_error(400, f"Bad request line {self.requestline[:80]!r}")
            return False
        self.command, self.path, self.request_version = words
        self.path = _one_slash(self.path)
        lines = _read_head(self.rfile)
        if isinstance(lines, str):
            self.send_error(431, lines)
            return False
        problem = _head_problem(lines, self.request_version)
        if problem:
            self.send_error(400, problem)
            return False
        headers = _Headers(_fields(lines))
        self.headers = headers  # type: ignore[assignment]
        self.close_connection = _closes(self.request_version, headers)
        if self.request_version == "HTTP/1.1" and headers.get("Expect").lower() == "100-continue":
            return bool(self.handle_expect_100())
        return True

    def _read_body(self, chunked: bool, length: int, limit: int) -> bytes:
        if chunked:
            return self._read_chunked(limit)
        if length > limit:
            raise exchange.too_large(limit)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise BodyError(400, exchange.SHORT_BODY)
        return body

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.removesuffix(b"\r\n").split(b";", 1)[0].rstrip(b" \t")
            if not line.endswith(b"\r\n") or not _HEX.fullmatch(size_text):
                raise BodyError(400, "Malformed chunked request body: bad chunk size")
            size = int(size_text, 16) if len(size_text.lstrip(b"0")) <= 16 else limit + 1
            if size == 0:
                for _ in range(100):  # trailers, up to the empty line
                    trailer = self.rfile.readline(1024)
                    if not trailer.endswith(b"\r\n"):
                        raise BodyError(400, "Malformed chunked request body: a line not ending in CRLF")
                    if trailer == b"\r\n":
                        return b"".join(parts)
                raise BodyError(400, "Malformed chunked request body: too many trailers")
            total += size
            if total > limit:
                raise exchange.too_large(limit)
            data = self.rfile.read(size)
            if len(data) < size or self.rfile.read(2) != b"\r\n":
                raise BodyError(400, "Malformed chunked request body: truncated chunk")
            parts.append(data)

    def _serve(self) -> None:
        app = self.server.app
        try:
            request = exchange.request_for(self.command, self.path, self.headers.items())
            codings = self.headers.get_all("Transfer-Encoding") or []
            chunked, length = exchange.framing(codings, self.headers.get_all("Content-Length") or [])
            # The token first: a refused caller's body is never read.
            principal = app.admit(request)
        except BodyError as exc:
            self.close_connection = True
            self._send(exchange.refusal(exc))
            return
        except ApiError as exc:
            if chunked or length:
                self.close_connection = True  # its body is left unread
            self._send(exchange.refusal(exc))
            return
        try:
            self._clock.start_body()
            request.body = self._read_body(chunked, length, exchange.body_limit(app, principal))
        except BodyError as exc:
            self.close_connection = True
            self._send(exchange.refusal(exc))
            return
        self._send(exchange.answer(app, request, self.server.write_log, f"{self.command} {self.path}"))

    def _send(self, response: Response) -> None:
        status, reply, self.close_connection = _reply(
            response, head=self.command == "HEAD", close=self.close_connection
        )
        self.log_request(status)
        self.connection.settimeout(SEND_TIMEOUT)
        self.wfile.write(reply)  # one write: no Nagle wait between head and body

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, unsupported method ...) as Conductor JSON too."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        if code == 501:
            text = f"Method {self.command} is not supported"
        self._send(Response(code, ApiError(code, text).body()))

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        self.server.write_log(_access_line(self.client_address, self.requestline, code, size))

    def log_message(self, format: str, *args: Any) -> None:
        self.server.write_log(f"{self.address_string()} - {format % args}")


class _Watched:
    """A connection the serving thread watches: what came in and is not answered yet,
    and since when it has been idle."""

    __slots__ = ("address", "buffer", "since", "sock")

    def __init__(self, sock: socket.socket, address: Any):
        self.sock = sock
        self.address = address
        self.buffer = b""
        self.since = time.monotonic()


def _reply(response: Response, *, head: bool, close: bool) -> tuple[int, bytes, bool]:
    """The status of ``response``, its bytes as they go out (status line, ``Server``,
    ``Date``, its headers, its body), and whether the connection closes after it."""
    status, headers, data = exchange.encode(response, head=head, close=close)
    lines = [
        f"HTTP/1.1 {status} {_reason(status)}",
        f"Server: {_Handler.server_version}",
        f"Date: {_http_date()}",
    ]
    for key, value in headers:
        lines.append(f"{key}: {value}")
        if key.lower() == "connection" and value.lower() == "close":
            close = True
    return status, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data, close


def _access_line(address: Any, requestline: str, code: Any, size: Any = "-") -> str:
    """A request's entry in the access log, as ``BaseHTTPRequestHandler`` words it."""
    return f'{address[0]} - "{requestline}" {code} {size}'


class RunningSandbox:
    """A sandbox serving in a background thread: ``url`` (``http://127.0.0.1:PORT``, no
    ``/api``), ``stop()``; a context manager that stops it on exit."""

    def __init__(self, server: _Server, thread: threading.Thread, store: Store, data_path: Path):
        self._server = server
        self._thread = thread
        self._store = store
        self._stopped = False
        self._stop_lock = threading.Lock()
        self.data_path = data_path
        #: the address really bound (``0.0.0.0`` or ``::`` for every address of the machine)
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])
        #: where a client on this machine reaches it (a loopback address for a wildcard host)
        self.url = f"http://{_url_host(self.host)}:{self.port}"
        #: the bound address as a URL (the same as ``url`` unless the host is a wildcard)
        self.bound_url = f"http://{f'[{self.host}]' if ':' in self.host else self.host}:{self.port}"

    @property
    def every_address(self) -> bool:
        """True when it listens on every address of the machine (``0.0.0.0``, ``::``)."""
        return self.host in ("0.0.0.0", "::", "")

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach it."""
        import ipaddress

        try:
            return ipaddress.ip_address(self.host.split("%")[0]).is_loopback
        except ValueError:
            return False

    @property
    def auth_enabled(self) -> bool:
        return self._server.app.auth.enabled

    def stop(self) -> None:
        """Stop serving, close open connections and the store. Safe to call twice."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._server.stop_serving()
        self._thread.join()
        self._server.close_connections()
        self._server.server_close()
        self._store.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSandbox({self.url!r}, data={str(self.data_path)!r})"


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def listen(app: SandboxApp, data_path: Path, host: str, port: int, log: TextIO | None) -> RunningSandbox:
    """Bind ``host:port`` (0: a free port) and serve ``app`` (over the store at
    ``data_path``) in a daemon thread. Returns once the socket listens; raises
    ``SandboxError`` when the port is taken (the store is closed then)."""
    store = app.store
    try:
        server = _Server((host, port), app, log)
    except OSError as exc:
        store.close()
        raise _bind_error(host, port, exc) from exc
    thread = threading.Thread(target=server.serve_until_stopped, name="integ-sandbox", daemon=True)
    thread.start()
    return RunningSandbox(server, thread, store, Path(data_path))


def _bind_error(host: str, port: int, exc: OSError) -> SandboxError:
    import errno

    if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
        return SandboxError(
            f"port {port} on {host} is already in use: another server listens there "
            "(pass --port with a free port, or --port 0 to pick one)"
        )
    if isinstance(exc, socket.gaierror):
        return SandboxError(f"cannot listen on {host!r}: unknown host ({exc})")
    return SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
