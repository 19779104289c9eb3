"""A requests transport that answers in this process: the session sends to a handler
(a plain callable) instead of a socket. ``--server local`` mounts one for the sandbox's
root, so a command talks to the sandbox without a listening port.

The handler gets what would have gone over the wire: ``(method, target, headers, body)``
(``target``: the path and query, percent-encoded as sent; ``body``: all of it, as bytes)
and returns ``(status, headers, body)``. Its reply is read by the client exactly as one
from the network (``raw`` is a urllib3 response over the bytes), with the same limits and
parsing. A handler that raises is a connection that broke: ``ConnectionError``, retried
like one.
"""

from __future__ import annotations

import http
import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

#: ``handler(method, target, headers, body) -> (status, headers, body)``
Handler = Callable[
    [str, str, Mapping[str, str], bytes], tuple[int, Iterable[tuple[str, str]] | Mapping[str, str], bytes]
]


class InProcessAdapter(BaseAdapter):
    """Sends each request to ``handler`` and builds the ``requests.Response`` from its
    reply. Timeouts, TLS and proxies do not apply (nothing leaves the process)."""

    def __init__(self, handler: Handler):
        super().__init__()
        self._handler = handler

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        split = urlsplit(request.url or "")
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        try:
            status, headers, body = self._handler(
                request.method or "GET", target, dict(request.headers), _body_bytes(request.body)
            )
        except Exception as exc:
            raise requests.exceptions.ConnectionError(exc, request=request) from exc
        return _response(request, status, headers, body)

    def close(self) -> None:
        """Nothing to close: no connection is held."""


def _body_bytes(body: Any) -> bytes:
    """The request body as bytes, whatever requests prepared (none, text, bytes, a file,
    or an iterable of chunks)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def _response(
    request: requests.PreparedRequest,
    status: int,
    headers: Iterable[tuple[str, str]] | Mapping[str, str],
    body: bytes,
) -> requests.Response:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(body),
        headers=urllib3.HTTPHeaderDict(pairs),
        status=status,
        reason=reason,
        preload_content=False,
        decode_content=False,
        request_url=request.url,
    )
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(pairs)
    response.encoding = get_encoding_from_headers(response.headers)
    response.raw = raw
    response.reason = reason
    response.url = request.url or ""
    response.request = request
    return response
