"""A lean way to send for bulk work (``provider apply``): one kept-alive connection per
worker thread, each request written to it as bytes and its reply read straight from it.

requests and http.client spend about a millisecond of CPU on each request around the
exchange itself (preparing the URL, cookie jars, adapters, a header per call, parsing the
reply's headers with the email package, building the reply), several times what sending
one small request over a kept-alive connection costs; in a fleet of thousands that was
most of the run. A ``Transport`` set on a client (``client.transport``) takes their place
for the requests it can send exactly as requests would (``prepare``: the same request
line, the same headers in the same order, the same JSON body), and nothing else changes:
the client still counts attempts for the breaker, retries, honours Ctrl-C and
``Retry-After``, logs with secrets masked, and maps the reply to its errors.

Each attempt ends within ``--timeout`` (``deadline``): connecting and sending get what is
left of it, and every read of the reply (status line, headers, body) is bounded by what
is left, so a kept-alive connection gets the deadline of the attempt that reuses it. The
reply is read up to ``MAX_REPLY_BYTES`` (by its ``Content-Length``, and as it arrives),
with its ``Content-Length``, chunked or read-to-the-end framing and its content coding, as
urllib3 reads it. Failures are requests' exceptions wrapping http.client's (as urllib3
raises them), so the client words them as before. A request the transport cannot send
as requests would (through a proxy, with a client certificate, with cookies, a query, a
session without integ's adapter) goes through the session as before.
"""

from __future__ import annotations

import datetime
import http.client
import re
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
import urllib3.exceptions as u3
from requests import compat
from requests.cookies import cookiejar_from_dict
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, get_encoding_from_headers, requote_uri
from urllib3.response import HTTPResponse as _U3Response
from urllib3.response import _get_decoder

from conductor_integrations.client import deadline

if TYPE_CHECKING:
    from conductor_integrations.client.api import Client

#: Headers the transport leaves to requests: a session that sets one is sent through it.
_LEFT_TO_REQUESTS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "cookie", "authorization"}
)
#: As http.client reads replies: the longest line, the most header lines.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_NO_BODY = frozenset({204, 304})
#: The JSON module requests encodes bodies with (simplejson when installed).
_JSON: Any = vars(compat)["json"]
#: A path requests sends as it is (``requote_uri`` leaves it alone).
_PLAIN_PATH = re.compile(r"(/[A-Za-z0-9._~-]*)*")


class Request:
    """A request as requests would prepare it: what the client logs and the transport
    sends (``headers`` in the order they are sent, after ``Host``)."""

    __slots__ = ("body", "headers", "method", "path_url", "url")

    def __init__(self, method: str, url: str, path_url: str, headers: dict[str, str], body: bytes | None):
        self.method = method
        self.url = url
        self.path_url = path_url
        self.headers = headers
        self.body = body


class Transport:
    """Pools of kept-alive connections, one pool per server, ``workers`` connections each
    (one per worker thread of the bulk work; more are opened when needed, and closed after
    use)."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._pools: dict[tuple[str, str, int | None, Any], urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()
        #: the pool of each API root (and ``verify``), looked up once
        self._by_root: dict[tuple[str, Any], urllib3.HTTPConnectionPool] = {}
        #: per API root: the URL requests makes of it (None: not sent here), its path
        self._roots: dict[str, tuple[str, str] | None] = {}
        #: session headers already checked as requests checks them, by their items
        self._checked: dict[tuple[tuple[str, Any], ...], bool] = {}

    def takes(self, env: dict[str, Any]) -> bool:
        """True for a request sent directly (no proxy, no client certificate)."""
        return not env.get("proxies") and not env.get("cert")

    def prepare(
        self, client: Client, method: str, path: str, headers: dict[str, Any], json: Any, params: Any
    ) -> Request | None:
        """``method`` to ``/api`` + ``path`` as ``requests.PreparedRequest.prepare`` makes
        it from ``headers`` and ``json`` (the same URL, headers and body), or None when it
        is one the transport leaves to the session."""
        if params or client.session.cookies or (not _PLAIN_PATH.fullmatch(path) and not _requoted(path)):
            return None
        if client.api_url not in self._roots:
            self._roots[client.api_url] = _root(client.api_url)
        root = self._roots[client.api_url]
        if root is None or not self._plain(headers):
            return None
        body: bytes | None = None
        if json is not None:
            try:
                body = _JSON.dumps(json, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError):
                return None  # requests' own error, raised as it raises it
        method = method.upper()
        sent = dict(headers)
        if body:
            sent["Content-Length"] = str(len(body))
        elif body is None and method not in ("GET", "HEAD"):
            sent["Content-Length"] = "0"
        if json is not None:
            sent["Content-Type"] = "application/json"
        url, root_path = root
        return Request(method, url + path, root_path + path, sent, body)

    def _plain(self, headers: dict[str, Any]) -> bool:
        """True when requests would send ``headers`` as they are, and urllib3 and
        http.client add none but ``Host``."""
        key = tuple(headers.items())
        known = self._checked.get(key)
        if known is None:
            lowered = {str(k).lower() for k in headers}
            known = (
                "user-agent" in lowered
                and "accept-encoding" in lowered
                and not lowered & _LEFT_TO_REQUESTS
                and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
                and _valid(headers)
            )
            if len(self._checked) < 64:
                self._checked[key] = known
        return known

    def _pool(self, url: str, verify: Any) -> urllib3.HTTPConnectionPool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        key = (scheme, parts.hostname or "", parts.port, verify if scheme == "https" else None)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                options: dict[str, Any] = {"maxsize": self.workers, "block": False, "retries": False}
                if scheme == "https":
                    # As requests does: certifi's bundle unless given one; verify=False is --insecure.
                    options["cert_reqs"] = "CERT_REQUIRED" if verify is not False else "CERT_NONE"
                    if verify is not False:
                        options["ca_certs" if not _is_dir(verify) else "ca_cert_dir"] = (
                            verify if isinstance(verify, str) else certifi.where()
                        )
                    else:
                        options["assert_hostname"] = False
                pool = deadline.POOL_CLASSES[scheme](parts.hostname or "", parts.port, **options)
                self._pools[key] = pool
        return pool

    def exchange(
        self,
        client: Client,
        request: Request,
        env: dict[str, Any],
        started: float,
        method: str,
        path: str,
    ) -> requests.Response:
        """Send ``request`` and read its whole reply within the attempt's deadline, as
        ``Client._exchange`` does through the session; failures are requests' exceptions,
        as the client expects them."""
        verify = env.get("verify", True)
        pool = self._by_root.get((client.api_url, verify))
        if pool is None:
            pool = self._by_root[(client.api_url, verify)] = self._pool(request.url, verify)
        ends = deadline.current()
        if ends is None:
            ends = started + client.timeout
        conn: Any = None
        keep = False
        try:
            try:
                conn = pool._get_conn()
                if conn.sock is None:
                    conn.timeout = client.timeout  # what is left of the attempt, at most
                    conn.connect()
            except (u3.SSLError, ssl.SSLError) as exc:
                raise requests.exceptions.SSLError(exc) from exc
            except u3.ConnectTimeoutError as exc:
                raise requests.exceptions.ConnectTimeout(exc) from exc
            except (u3.HTTPError, OSError) as exc:
                raise requests.exceptions.ConnectionError(exc) from exc
            sock = conn.sock
            try:
                sock.settimeout(min(client.timeout, max(ends - time.monotonic(), 0.001)))
                sock.sendall(_wire(conn, request))
            except TimeoutError as exc:
                raise requests.exceptions.ReadTimeout(exc) from exc
            except ssl.SSLError as exc:
                raise requests.exceptions.SSLError(exc) from exc
            except OSError as exc:
                raise requests.exceptions.ConnectionError(_aborted(exc)) from exc
            reader = _Reader(sock, ends)
            try:
                status, reason, headers, close = _head(reader, request.method)
            except (TimeoutError, u3.ReadTimeoutError) as exc:
                raise requests.exceptions.ReadTimeout(exc) from exc
            except ssl.SSLError as exc:
                raise requests.exceptions.SSLError(exc) from exc
            except (http.client.HTTPException, OSError) as exc:
                raise requests.exceptions.ConnectionError(_aborted(exc)) from exc
            response = _Reply(status, reason, headers, request.url)
            try:
                body, ended = _body(client, reader, request.method, status, headers, method, path)
            except (TimeoutError, u3.ReadTimeoutError) as exc:
                raise requests.exceptions.ReadTimeout(exc) from exc
            except u3.DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(exc) from exc
            except ssl.SSLError as exc:
                raise requests.exceptions.SSLError(exc) from exc
            except (http.client.HTTPException, OSError) as exc:
                raise requests.exceptions.ChunkedEncodingError(
                    u3.ProtocolError(f"Connection broken: {exc!r}", exc)
                ) from exc
            response._content = body
            keep = not close and not ended and not reader.pending
            return response
        finally:
            if conn is not None:
                if not keep:
                    conn.close()
                pool._put_conn(conn)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            self._by_root = {}
        for pool in pools:
            pool.close()


class _Reply(requests.Response):
    """requests' reply, read whole: its cookie jar (which integ never reads) made only
    when asked for."""

    def __init__(self, status: int, reason: str, headers: CaseInsensitiveDict[str], url: str):
        self._content = b""
        self._content_consumed = True
        self._next = None
        self.status_code = status
        self.headers = headers
        self.raw = None
        self.url = url
        self.encoding = get_encoding_from_headers(headers)
        self.history = []
        self.reason = reason
        self._jar: Any = None
        self.elapsed = datetime.timedelta(0)
        self.request = None  # type: ignore[assignment]

    @property
    def cookies(self) -> Any:
        if self._jar is None:
            self._jar = cookiejar_from_dict({})  # type: ignore[no-untyped-call]
        return self._jar

    @cookies.setter
    def cookies(self, jar: Any) -> None:
        self._jar = jar


def _root(api_url: str) -> tuple[str, str] | None:
    """The URL requests prepares for the API root, and its path (None: one with
    credentials in it, which requests turns into a header)."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(api_url, None)
    url = prepared.url or ""
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.query or parts.fragment or url.endswith("/"):
        return None
    return url, parts.path


def _requoted(path: str) -> bool:
    """True for a path with no query or fragment that requests sends as it is."""
    return path.startswith("/") and "?" not in path and "#" not in path and requote_uri(path) == path


def _valid(headers: dict[str, str]) -> bool:
    try:
        for item in headers.items():
            check_header_validity(item)
    except requests.exceptions.InvalidHeader:
        return False
    return True


def _wire(conn: Any, request: Request) -> bytes:
    """The request's bytes as http.client writes them: the request line, ``Host``, the
    headers, a blank line, the body."""
    host = conn.host
    try:
        host_enc = host.encode("ascii").decode("ascii")
    except UnicodeEncodeError:
        host_enc = host.encode("idna").decode("ascii")
    if ":" in host:
        host_enc = f"[{host_enc}]"
    if conn.port != conn.default_port:
        host_enc = f"{host_enc}:{conn.port}"
    lines = [f"{request.method} {request.path_url} HTTP/1.1", f"Host: {host_enc}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    lines += ["", ""]
    head = "\r\n".join(lines).encode("latin-1")
    return head + request.body if request.body else head


class _Reader:
    """The reply as it arrives on ``sock``, each read bounded by what is left of the
    attempt (``deadline``)."""

    __slots__ = ("buffer", "ends", "eof", "received", "sock")

    def __init__(self, sock: Any, ends: float):
        self.sock = sock
        self.ends = ends
        self.buffer = b""
        self.received = 0
        self.eof = False

    @property
    def pending(self) -> bool:
        return bool(self.buffer)

    def _fill(self) -> bool:
        if self.eof:
            return False
        left = self.ends - time.monotonic()
        if left <= 0:
            raise _late()
        self.sock.settimeout(max(left, 0.001))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            if self.received:  # part of the reply came, the rest not in time
                raise _late() from None
            raise
        if not data:
            self.eof = True
            return False
        self.received += len(data)
        self.buffer += data
        return True

    def line(self, what: str) -> bytes:
        """One line with its end (empty at the end of the reply)."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                if end + 1 > _MAX_LINE:
                    raise http.client.LineTooLong(what)
                found, self.buffer = self.buffer[: end + 1], self.buffer[end + 1 :]
                return found
            if len(self.buffer) > _MAX_LINE:
                raise http.client.LineTooLong(what)
            if not self._fill():
                found, self.buffer = self.buffer, b""
                return found

    def head_lines(self) -> list[str]:
        """The header lines up to the blank line that ends them (without their ends)."""
        while True:
            if self.buffer.startswith(b"\r\n"):  # no headers at all
                block, self.buffer = b"", self.buffer[2:]
                break
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                block, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                break
            if b"\n\n" in self.buffer or self.buffer.startswith(b"\n") or len(self.buffer) > _MAX_LINE:
                return self._bare_lines()  # lines ended by a bare LF, or long ones: one at a time
            if not self._fill():
                return self._bare_lines()
        if not block:
            return []
        lines = block.replace(b"\r\n", b"\n").split(b"\n")
        if len(lines) > _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        if any(len(line) > _MAX_LINE for line in lines):
            raise http.client.LineTooLong("header line")
        return [line.decode("iso-8859-1") for line in lines]

    def _bare_lines(self) -> list[str]:
        lines: list[str] = []
        while True:
            raw = self.line("header line")
            if raw in (b"\r\n", b"\n", b""):
                return lines
            if len(lines) >= _MAX_HEADERS:
                raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
            lines.append(raw.decode("iso-8859-1").rstrip("\r\n"))

    def some(self, most: int) -> bytes:
        """Up to ``most`` bytes, at least one unless the reply ended."""
        if not self.buffer and not self._fill():
            return b""
        found, self.buffer = self.buffer[:most], self.buffer[most:]
        return found


def _head(reader: _Reader, method: str) -> tuple[int, str, CaseInsensitiveDict[str], bool]:
    """The status, reason and headers of the reply (a ``100 Continue`` skipped), and
    whether the connection closes after it, as http.client reads them."""
    while True:
        line = reader.line("status line")
        if not line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        text = line.decode("iso-8859-1")
        version, _, rest = text.rstrip("\r\n").partition(" ")
        code, _, reason = rest.strip().partition(" ")
        if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit() or code[0] == "0":
            raise http.client.BadStatusLine(text)
        status = int(code)
        fields = reader.head_lines()
        if status != 100:
            break
    store: dict[str, tuple[str, str]] = {}
    last = ""
    for field in fields:
        if field[:1] in (" ", "\t"):  # a folded line goes on the one before
            if last:
                name, value = store[last]
                store[last] = (name, f"{value} {field.strip()}")
            continue
        name, colon, value = field.partition(":")
        if not colon:
            continue
        name, value = name.strip(), value.strip()
        last = name.lower()
        before = store.get(last)
        store[last] = (name, value) if before is None else (before[0], f"{before[1]}, {value}")
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(store.values())
    connection = store.get("connection", ("", ""))[1].lower()
    close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    return status, reason.strip(), headers, close


def _body(
    client: Client,
    reader: _Reader,
    sent_method: str,
    status: int,
    headers: CaseInsensitiveDict[str],
    method: str,
    path: str,
) -> tuple[bytes, bool]:
    """The whole body, decoded as urllib3 decodes it, at most ``MAX_REPLY_BYTES``, and
    whether it ran to the end of the connection (which then cannot be kept)."""
    from conductor_integrations.client.api import MAX_REPLY_BYTES

    if sent_method == "HEAD" or status in _NO_BODY or 100 <= status < 200:
        return b"", False
    coding = headers.get("Content-Encoding", "").lower()
    decoder: Any = None
    if coding in _U3Response.CONTENT_DECODERS or (
        "," in coding and any(c.strip() in _U3Response.CONTENT_DECODERS for c in coding.split(","))
    ):
        decoder = _get_decoder(coding)
    chunks: list[bytes] = []
    size = 0

    def take(data: bytes, decoded: bool = False) -> None:
        nonlocal size
        if decoder is not None and not decoded:
            try:
                data = decoder.decompress(data)
            except Exception as exc:
                raise _undecodable(coding, exc) from exc
        size += len(data)
        if size > MAX_REPLY_BYTES:
            raise client._too_large(method, path)
        chunks.append(data)

    def exactly(left: int) -> None:
        while left:
            data = reader.some(min(left, 65536))
            if not data:
                raise http.client.IncompleteRead(b"".join(chunks), left)
            left -= len(data)
            take(data)

    ended = False
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        while True:
            line = reader.line("chunk size").split(b";", 1)[0].strip()
            try:
                left = int(line, 16)
            except ValueError:
                raise http.client.IncompleteRead(b"".join(chunks)) from None
            if left == 0:
                while reader.line("trailer line") not in (b"\r\n", b"\n", b""):
                    pass
                break
            exactly(left)
            reader.line("chunk end")
    else:
        declared = headers.get("Content-Length", "")
        length = int(declared) if declared.isdigit() else None
        if length is not None and length > MAX_REPLY_BYTES:
            raise client._too_large(method, path)
        if length is None:
            ended = True
            while data := reader.some(65536):
                take(data)
        else:
            exactly(length)
    if decoder is not None:
        try:
            tail = decoder.flush()
        except Exception as exc:
            raise _undecodable(coding, exc) from exc
        if tail:
            take(tail, decoded=True)
    return b"".join(chunks), ended


def _late() -> deadline.DeadlinePassed:
    return deadline.DeadlinePassed("the reply did not arrive within the time of the attempt")


def _aborted(exc: BaseException) -> u3.ProtocolError:
    """As urllib3 wraps a failure before the reply's headers were read."""
    return u3.ProtocolError("Connection aborted.", exc)


def _undecodable(coding: str, exc: BaseException) -> u3.DecodeError:
    """As urllib3 words a body it cannot decode."""
    return u3.DecodeError(f"Received response with content-encoding: {coding}, but failed to decode it.", exc)


def _is_dir(path: Any) -> bool:
    import os

    return isinstance(path, str) and os.path.isdir(path)
