"""The sandbox in this process, with no socket: what ``--server local`` talks to.

``LocalSandbox.handle`` answers one request already received, as the socket server would
(``exchange``: the same framing rules, token check, limits and error bodies, then the same
``SandboxApp``); a client passes it what it would have sent over the wire. The store is
the same SQLite file ``integ server`` uses, so consecutive commands see each other's work.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from conductor_integrations.sandbox import exchange
from conductor_integrations.sandbox.auth import DEFAULT_TOKEN_TTL, ApiKey, Authenticator, parse_key
from conductor_integrations.sandbox.routes import SandboxApp
from conductor_integrations.sandbox.store import Store

#: The root the client's requests go to: never a host on any network (``.invalid``), so a
#: request that did not reach the sandbox in this process fails instead of going elsewhere.
URL = "http://local.invalid"


class LocalSandbox:
    """The sandbox's app over its store, answering requests in the caller's thread;
    ``close()`` (or leaving the ``with`` block) closes the store."""

    def __init__(self, app: SandboxApp, data_path: Path):
        self._app = app
        self.data_path = data_path
        self.url = URL
        self._closed = False
        self._lock = threading.Lock()

    @property
    def auth_enabled(self) -> bool:
        return self._app.auth.enabled

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> exchange.Reply:
        """The reply to ``method target`` (path and query) with ``headers`` and ``body``:
        ``(status, headers, body)``. Safe to call from several threads at once."""
        return exchange.exchange(self._app, method, target, headers, body)

    def close(self) -> None:
        """Close the store. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._app.store.close()

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalSandbox(data={str(self.data_path)!r})"


def open_app(
    data_path: Path, auth: Sequence[str | ApiKey] = (), *, token_ttl: float = DEFAULT_TOKEN_TTL
) -> SandboxApp:
    """The app over the store at ``data_path``, with the application keys ``auth``.
    Raises ``SandboxError`` (the data file cannot be used) or ValueError (a malformed
    ``auth`` entry, found before the file is touched)."""
    keys = [k if isinstance(k, ApiKey) else parse_key(k) for k in auth]
    return SandboxApp(Store(data_path), Authenticator(keys, token_ttl=token_ttl))


def open_local(
    data_path: Path, auth: Sequence[str | ApiKey] = (), *, token_ttl: float = DEFAULT_TOKEN_TTL
) -> LocalSandbox:
    """The sandbox at ``data_path``, in this process (``open_app``)."""
    return LocalSandbox(open_app(data_path, auth, token_ttl=token_ttl), Path(data_path))
