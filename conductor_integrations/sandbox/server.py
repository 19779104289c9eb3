"""The sandbox's HTTP layer: the standard library's ``ThreadingHTTPServer``.

Why this layer: it ships with Python (no dependency to install or pin), it starts in a few
milliseconds (``--server local`` starts one for every command), it runs in-process in a
background thread, and it serves concurrent requests with a thread per connection; HTTP/1.1
keep-alive lets a client reuse its connection. The API is small JSON over a handful of
paths, so a framework would add weight and nothing else. Details that matter here:

- ``server_bind`` does not resolve the host's name (the stdlib's does, which can take seconds
  where DNS is slow);
- TCP_NODELAY on every connection (else each keep-alive answer waits ~40 ms for an ACK);
- a listen backlog of 128, so a burst of concurrent clients is queued rather than refused;
- open connections are tracked and shut down on ``stop()``, so idle keep-alive connections
  never keep a stopped server's threads alive;
- every answer, including protocol errors, is JSON with the Conductor error body.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import socketserver
import sqlite3
import sys
import threading
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from conductor_integrations import __version__
from conductor_integrations.sandbox.auth import DEFAULT_TOKEN_TTL, ApiKey, Authenticator, parse_key
from conductor_integrations.sandbox.errors import ApiError, SandboxError
from conductor_integrations.sandbox.routes import Request, Response, SandboxApp
from conductor_integrations.sandbox.store import Store, StoreError

MAX_BODY = 16 * 1024 * 1024
#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 120.0


class _BodyError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


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
        try:
            super().__init__(address, _Handler)
        except BaseException:
            self._wake_r.close()
            self._wake_w.close()
            raise

    def serve_until_stopped(self) -> None:
        """Accept connections until ``stop_serving()``. Unlike ``serve_forever`` there is no
        polling: a wake-up socket ends the wait at once, and an idle server never wakes."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopping.is_set():
                        self._handle_request_noblock()  # type: ignore[attr-defined]

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
            self._open.add(request)
        super().process_request(request, client_address)

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
        if self.log is not None:
            with self.log_lock:
                self.log.write(line if line.endswith("\n") else line + "\n")
                self.log.flush()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"integ-sandbox/{__version__}"
    timeout = IDLE_TIMEOUT
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK (about 40 ms per request on keep-alive connections).
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

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
        except ValueError:
            raise _BodyError(400, f"Invalid Content-Length {raw!r}") from None
        if length < 0:
            raise _BodyError(400, f"Invalid Content-Length {raw!r}")
        if length > MAX_BODY:
            raise _BodyError(413, f"Request body larger than {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).strip()
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise _BodyError(400, "Malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise _BodyError(413, f"Request body larger than {MAX_BODY} bytes")
            parts.append(self.rfile.read(size))
            self.rfile.readline(16)  # CRLF after the chunk

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True
            self._send(Response(exc.status, ApiError(exc.status, str(exc)).body()))
            return
        split = urlsplit(self.path)
        request = Request(
            method="GET" if self.command == "HEAD" else self.command,
            segments=[unquote(s) for s in split.path.split("/")[1:]],
            query=dict(reversed(parse_qsl(split.query, keep_blank_values=True))),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self._send(self._answer(request))

    def _answer(self, request: Request) -> Response:
        try:
            return self.server.app.handle(request)
        except (StoreError, sqlite3.OperationalError) as exc:
            error = ApiError(503, f"Sandbox store busy or unavailable: {exc}", retryable=True)
            return Response(503, error.body(), {"Retry-After": "1"})
        except Exception as exc:
            self.server.write_log(f"error serving {self.command} {self.path}:\n{traceback.format_exc()}")
            error = ApiError(500, f"Internal error: {type(exc).__name__}: {exc}")
            return Response(500, error.body())

    def _send(self, response: Response) -> None:
        data = b"" if response.payload is None else json.dumps(response.payload).encode("utf-8")
        self.send_response(response.status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, unsupported method ...) as Conductor JSON too."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        if code == 501:
            text = f"Method {self.command} is not supported"
        self._send(Response(code, ApiError(code, text).body()))

    def log_message(self, format: str, *args: Any) -> None:
        self.server.write_log(f"{self.address_string()} - {format % args}")


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
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])
        self.url = f"http://{_url_host(self.host)}:{self.port}"

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


def start(
    data_path: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    auth: Sequence[str | ApiKey] = (),
    *,
    token_ttl: float = DEFAULT_TOKEN_TTL,
    log: TextIO | None = None,
) -> RunningSandbox:
    """Open the store, bind ``host:port`` (0: a free port) and serve in a daemon thread.
    Returns once the socket listens. Raises ``SandboxError`` (port taken, data file
    unusable) or ValueError (a malformed ``auth`` entry)."""
    keys = [k if isinstance(k, ApiKey) else parse_key(k) for k in auth]
    store = Store(data_path)
    app = SandboxApp(store, Authenticator(keys, token_ttl=token_ttl))
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
