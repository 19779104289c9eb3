"""One request and its answer, without sockets: the rules between what a client sends
and ``SandboxApp``, shared by ``server`` (over a socket, for ``integ server``) and
``local`` (in this process, for ``--server local``).

- framing: ``Content-Length`` is ASCII digits only and given once, never together with
  ``Transfer-Encoding``; only ``chunked`` is understood (others: 501); a body over
  ``MAX_BODY`` is a 413, one shorter than its ``Content-Length`` a 400;
- the token is checked before the body is taken (``SandboxApp.admit``), and a request that
  needs no token on a server with auth may send at most ``MAX_OPEN_BODY``;
- ``HEAD`` is answered as ``GET``, without the body;
- every answer is JSON with the Conductor error body when it is an error; a store that is
  busy is a 503 with ``Retry-After``, a crash a 500.
"""

from __future__ import annotations

import json
import re
import sqlite3
import traceback
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from conductor_integrations.sandbox.auth import ANONYMOUS, Principal
from conductor_integrations.sandbox.errors import ApiError
from conductor_integrations.sandbox.routes import Request, Response, SandboxApp
from conductor_integrations.sandbox.store import StoreError

MAX_BODY = 16 * 1024 * 1024
#: The most a request that needs no token may send when auth is on (``POST /api/token``).
MAX_OPEN_BODY = 64 * 1024

SHORT_BODY = "Request body shorter than its Content-Length"
_DIGITS = re.compile(r"[0-9]+")

#: ``(status, headers, body)`` as they go back to the client.
Reply = tuple[int, list[tuple[str, str]], bytes]


class BodyError(Exception):
    """Raised for a request whose body cannot be read unambiguously (bad framing, too
    large, cut short); ``status`` is the answer's."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def too_large(limit: int) -> BodyError:
    return BodyError(413, f"Request body larger than {limit} bytes")


def request_for(method: str, target: str, headers: Iterable[tuple[str, str]]) -> Request:
    """The ``Request`` for ``method target`` (path and query, percent-encoded) with
    ``headers``; the body is taken later, once the caller is admitted. A target that is
    not a URL (``http://[::1/``) is a ``BodyError`` (400)."""
    try:
        split = urlsplit(target)
    except ValueError:
        raise BodyError(400, f"Bad request target {target[:80]!r}") from None
    return Request(
        method="GET" if method == "HEAD" else method,
        segments=[unquote(s) for s in split.path.split("/")[1:]],
        query=dict(reversed(parse_qsl(split.query, keep_blank_values=True))),
        headers={k.lower(): v for k, v in headers},
    )


def values_of(pairs: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value given for the header ``name`` (in any case), in order."""
    wanted = name.lower()
    return [value for key, value in pairs if key.lower() == wanted]


def framing(codings: list[str], lengths: list[str]) -> tuple[bool, int]:
    """``(chunked, length)`` from the ``Transfer-Encoding`` and ``Content-Length``
    values given; a ``BodyError`` for anything ambiguous."""
    if codings and lengths:
        raise BodyError(400, "Both Transfer-Encoding and Content-Length given")
    if len(codings) > 1 or len(lengths) > 1:
        raise BodyError(400, "Transfer-Encoding or Content-Length given more than once")
    if codings:
        coding = codings[0].strip(" \t").lower()
        if coding != "chunked":
            raise BodyError(501, f"Transfer-Encoding {coding!r} is not supported (only chunked)")
        return True, 0
    raw = lengths[0].strip(" \t") if lengths else "0"
    if not _DIGITS.fullmatch(raw):
        raise BodyError(400, f"Invalid Content-Length {raw[:40]!r}")
    digits = raw.lstrip("0") or "0"
    return False, int(digits) if len(digits) <= 18 else MAX_BODY + 1


def body_limit(app: SandboxApp, principal: Principal) -> int:
    """The most the admitted caller's request may carry."""
    return MAX_OPEN_BODY if app.auth.enabled and principal is ANONYMOUS else MAX_BODY


def refusal(exc: BodyError | ApiError) -> Response:
    if isinstance(exc, BodyError):
        return Response(exc.status, ApiError(exc.status, str(exc)).body())
    return Response(exc.status, exc.body(), dict(exc.headers))


def answer(app: SandboxApp, request: Request, log: Callable[[str], None] | None, what: str) -> Response:
    """``app``'s answer to ``request`` (``what``: the request line, for the log when the
    app crashes): a busy store is a 503, a crash a 500, never an exception."""
    try:
        return app.handle(request)
    except (StoreError, sqlite3.OperationalError) as exc:
        error = ApiError(503, f"Sandbox store busy or unavailable: {exc}", retryable=True)
        return Response(503, error.body(), {"Retry-After": "1"})
    except Exception as exc:
        if log is not None:
            log(f"error serving {what}:\n{traceback.format_exc()}")
        error = ApiError(500, f"Internal error: {type(exc).__name__}: {exc}")
        return Response(500, error.body())


def encode(response: Response, *, head: bool = False, close: bool = False) -> Reply:
    """The status, headers and body bytes of ``response`` (``head``: without the body,
    its length still given; ``close``: the connection is closed after it)."""
    data = b"" if response.payload is None else json.dumps(response.payload).encode("utf-8")
    headers: list[tuple[str, str]] = []
    if data:
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(data))))
    headers.extend(response.headers.items())
    if close:
        headers.append(("Connection", "close"))
    return response.status, headers, b"" if head else data


def exchange(
    app: SandboxApp,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    log: Callable[[str], None] | None = None,
) -> Reply:
    """The whole of one request already received (``body``: all of it, a chunked one
    already joined), answered by ``app`` under the rules above, as the socket server
    answers it. A body longer than its ``Content-Length`` is a 400 (over a socket the
    rest would be read as the next request)."""
    pairs = list(headers.items())
    head = method == "HEAD"
    try:
        request = request_for(method, target, pairs)
        chunked, length = framing(values_of(pairs, "transfer-encoding"), values_of(pairs, "content-length"))
    except BodyError as exc:
        return encode(refusal(exc), head=head, close=True)
    try:
        principal = app.admit(request)
    except ApiError as exc:
        return encode(refusal(exc), head=head, close=bool(chunked or length))
    limit = body_limit(app, principal)
    size = len(body) if chunked else length
    if size > limit:
        return encode(refusal(too_large(limit)), head=head, close=True)
    if not chunked and len(body) != length:
        why = SHORT_BODY if len(body) < length else "Request body longer than its Content-Length"
        return encode(refusal(BodyError(400, why)), head=head, close=True)
    request.body = body
    return encode(answer(app, request, log, f"{method} {target}"), head=head)
