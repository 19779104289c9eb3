"""The token of an application key, for the requests of one command (step 2 of ``api``'s
"how a request is made").

1. A ready token (``--token``, ``CONDUCTOR_AUTH_TOKEN``) is sent as it is; when the server
   refuses it, the command fails (exit 4): no token is minted in its place.
2. Else, with a key id: the token an earlier command cached for this server, key id and key
   secret while it has a minute left (``credentials.cached_token``); else a new one from
   ``POST /api/token``, which is cached (``tokens.json``, 0600).
3. When the server refuses a token minted or cached here as ``EXPIRED_TOKEN`` or
   ``INVALID_TOKEN``, or refuses a cached one with a bare 401, the cache entry is dropped
   and a new token is minted, once.

No requests here: minting is the client's (``mint``), and so is the ``--debug`` log the
notes go to (``log``). Thread-safe: the workers of ``apply``
share one ``KeyTokens``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from conductor_integrations.client.replies import TOKEN_ERRORS
from conductor_integrations.errors import InputError
from conductor_integrations.secrets import redact

#: ``mint(key_id, key_secret)``: a new token, or None when the server has no auth.
Mint = Callable[[str, str], "str | None"]


class KeyTokens:
    """The current token of one client, and how it is replaced."""

    def __init__(
        self,
        server: str,
        key_id: str | None,
        key_secret: Callable[[], str | None] | str | None,
        mint: Mint,
        token: str | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.server = server
        self.key_id = key_id
        self._key_secret = key_secret
        self._mint_with = mint
        self.token = token
        #: the ready token given (``--token``, ``CONDUCTOR_AUTH_TOKEN``), if any
        self.given = token
        self._ready = token is not None or key_id is None
        #: the token taken from the cache (not minted by this process), while in use
        self._from_cache: str | None = None
        self._lock = threading.Lock()
        self._log = log or _silent
        redact.register(token, key_secret if isinstance(key_secret, str) else None)

    def current(self) -> str | None:
        """The token to send (minted or read from the cache on first use)."""
        if self._ready:
            return self.token
        with self._lock:
            if not self._ready:
                assert self.key_id is not None
                from conductor_integrations.secrets import credentials

                secret = self._secret()
                cached = credentials.cached_token(self.server, self.key_id, secret=secret)
                if cached:
                    self._log(f"using the token cached for key {self.key_id}")
                    self.token = self._from_cache = cached
                else:
                    self.token = self._mint(secret)
                self._ready = True
        return self.token

    def refresh(self, rejected: str | None, status: int, error: str) -> bool:
        """Mint a new token after ``rejected`` was refused with ``status`` and the body's
        ``error``; False when that refusal is not about the token (or there is no key)."""
        if self.key_id is None or self.given is not None:
            return False  # a ready token is used as given, never silently replaced
        stale = rejected is not None and rejected == self._from_cache and status == 401
        if error not in TOKEN_ERRORS and not stale:
            return False
        with self._lock:
            if self.token != rejected:  # another thread already refreshed it
                return True
            from conductor_integrations.secrets import credentials

            credentials.forget_tokens(self.server, self.key_id)
            self._from_cache = None
            self._log("the token expired or is invalid: minting a new one")
            self.token = self._mint(self._secret())
            self._ready = True
        return True

    def _secret(self) -> str:
        assert self.key_id is not None
        secret = self._key_secret() if callable(self._key_secret) else self._key_secret
        redact.register(secret)
        if not secret:
            raise InputError(
                f"no secret for application key {self.key_id}; nothing was sent",
                hints=[
                    f"run `integ auth login --key-id {self.key_id}` to store it in the keyring",
                    "or set CONDUCTOR_AUTH_SECRET, or pass a ready token in CONDUCTOR_AUTH_TOKEN",
                ],
            )
        return secret

    def _mint(self, secret: str) -> str | None:
        assert self.key_id is not None
        token = self._mint_with(self.key_id, secret)
        if token:
            from conductor_integrations.secrets import credentials

            try:
                credentials.store_token(self.server, self.key_id, token, secret=secret)
            except OSError as exc:  # the command goes on; the next one mints again
                self._log(f"the token could not be cached: {exc.strerror or exc}")
        return token


def _silent(text: str) -> None:
    """The log of a client without ``--debug``."""
