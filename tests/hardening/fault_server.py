"""A loopback HTTP server that misbehaves on purpose, for the fault-injection tests.

It speaks just enough HTTP/1.1 by hand (over a plain socket, so that it can also break
the protocol): it reads a request, asks the test's ``script`` what to do with it, and does
exactly that: a normal reply, a reset before or in the middle of a reply, a hang past the
client's timeout, a slow drip of bytes, bytes that are not HTTP at all.

    with FaultServer(lambda req: Reply(503, retry_after="0")) as server:
        integ("provider", "list", "--server", server.url, ...)
        assert len(server.requests) == 4

Bound to 127.0.0.1 on a free port; every wait is bounded (a hang ends when the server
stops), so a test that goes wrong cannot leave a thread behind for long.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

#: The longest any action waits, whatever it was asked (a safety net for a broken test).
MAX_WAIT = 30.0
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """A well-formed reply. ``body`` may be bytes, text, or anything JSON can encode;
    ``delay`` waits before the status line; ``drip`` sends the body one chunk at a time
    with that many seconds between chunks (Content-Length announced up front);
    ``drip_head`` does the same to the status line and headers."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    drip: float = 0.0
    drip_head: float = 0.0
    chunk: int = 16

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), self.content_type or "application/json"


@dataclass
class Reset:
    """Close the connection with a TCP reset. ``after`` bytes of ``reply`` are sent first
    (0: nothing at all; the headers and part of the body: a reply cut off mid-way)."""

    reply: Reply | None = None
    after: int = 0


@dataclass
class Close:
    """Send ``after`` bytes of ``reply`` (announcing the full length), then close cleanly."""

    reply: Reply
    after: int


@dataclass
class Hang:
    """Read the request and answer nothing for ``seconds`` (or until the server stops)."""

    seconds: float = MAX_WAIT


@dataclass
class Raw:
    """Send these bytes as they are (not HTTP), then close."""

    data: bytes


Action = Union[Reply, Reset, Close, Hang, Raw]
Script = Callable[[Request], Action]


def sequence(actions: Iterable[Action], then: Action | None = None) -> Script:
    """A script that answers the first requests with ``actions`` in order, then ``then``
    (default: 200 with an empty JSON list) for every request after them."""
    queue = list(actions)
    lock = threading.Lock()
    last = then or Reply(200, [])

    def script(_: Request) -> Action:
        with lock:
            return queue.pop(0) if queue else last

    return script


class FaultServer:
    """The server; ``script(request)`` decides what each request gets."""

    def __init__(self, script: Script, tls: Any = None):
        self.script = script
        #: an ``ssl.SSLContext`` (server side): the server speaks https
        self.tls = tls
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._acceptor = threading.Thread(target=self._accept, name="fault-accept", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> FaultServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._acceptor.join(timeout=5)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._sock.close()

    @property
    def connections(self) -> int:
        """How many connections clients have opened."""
        with self._lock:
            return len(self._conns)

    def paths(self) -> list[str]:
        with self._lock:
            return [f"{r.method} {r.path}" for r in self.requests]

    # -- serving ----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), name="fault-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(MAX_WAIT)
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if not self._act(conn, self.script(request)):
                    return
        except OSError:
            return
        finally:
            reader.close()
            with contextlib.suppress(OSError):
                conn.close()

    def _wait(self, seconds: float) -> None:
        self._stop.wait(min(seconds, MAX_WAIT))

    def _act(self, conn: socket.socket, action: Action) -> bool:
        """Carry out ``action``; False when the connection is finished."""
        if isinstance(action, Hang):
            self._wait(action.seconds)
            return False
        if isinstance(action, Raw):
            conn.sendall(action.data)
            return False
        if isinstance(action, Reset):
            if action.reply is not None and action.after:
                conn.sendall(_encode(action.reply)[: action.after])
                time.sleep(0.05)  # let the bytes leave before the reset
            _reset(conn)
            return False
        if isinstance(action, Close):
            conn.sendall(_encode(action.reply)[: action.after])
            return False
        if action.delay:
            self._wait(action.delay)
        data = _encode(action)
        if not action.drip and not action.drip_head:
            conn.sendall(data)
            return True
        head, _, body = data.partition(b"\r\n\r\n")
        head += b"\r\n\r\n"
        for part, pause in ((head, action.drip_head), (body, action.drip)):
            if not pause:
                conn.sendall(part)
                continue
            for i in range(0, len(part), action.chunk):
                if self._stop.is_set():
                    return False
                self._wait(pause)
                conn.sendall(part[i : i + action.chunk])
        return True


def _encode(reply: Reply) -> bytes:
    body, content_type = reply.payload()
    reason = REASONS.get(reply.status, "Status")
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **reply.headers}
    if reply.retry_after is not None:
        headers["Retry-After"] = reply.retry_after
    lines = [f"HTTP/1.1 {reply.status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER with a zero timeout)."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _read_request(reader: Any) -> Request | None:
    line = reader.readline(65536)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) < 2:
        return None
    method, path = parts[0], parts[1]
    headers: dict[str, str] = {}
    while True:
        raw = reader.readline(65536)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(reader.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                reader.readline()
                break
            body += reader.read(size)
            reader.readline()
    elif headers.get("content-length"):
        body = reader.read(int(headers["content-length"]))
    return Request(method, path, headers, body)


def self_signed(folder: Any) -> tuple[str, Any]:
    """A self-signed certificate for 127.0.0.1 made in ``folder`` (needs openssl), and a
    server-side ``ssl.SSLContext`` holding it (for ``FaultServer(tls=...)``)."""
    import ssl
    import subprocess

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return str(cert), context


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
