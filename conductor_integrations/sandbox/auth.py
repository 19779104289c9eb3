"""Application keys and tokens for a sandbox started with ``--auth``.

As on Orkes: ``POST /api/token`` with ``{"keyId", "keySecret"}`` answers ``{"token"}``, and
every other call must carry it as ``X-Authorization: <token>`` (no "Bearer"). Tokens are
JWTs (HS256, signed with a key drawn at start, so a restart invalidates them) with an
``exp`` one hour out by default; an expired one is refused with ``EXPIRED_TOKEN``, anything
else unusable with ``INVALID_TOKEN``. Without keys the server has no auth at all and
``/api/token`` is a 404, as on an OSS server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from conductor_integrations.sandbox.errors import ApiError

DEFAULT_TOKEN_TTL = 3600.0
READ_SUFFIX = ":read"


@dataclass(frozen=True)
class ApiKey:
    """An application key: id, secret, and whether it may only read."""

    key_id: str
    secret: str
    read_only: bool = False

    def __repr__(self) -> str:  # never show the secret
        return f"ApiKey({self.key_id!r}, read_only={self.read_only})"


def parse_key(spec: str) -> ApiKey:
    """``KEY_ID:SECRET`` (may read and write) or ``KEY_ID:SECRET:read`` (may only read).
    The id is what comes before the first ``:``; a secret may itself hold ``:`` as long as it
    does not end with ``:read``. Raises ValueError naming the expected form."""
    key_id, sep, rest = spec.partition(":")
    read_only = rest.endswith(READ_SUFFIX)
    secret = rest[: -len(READ_SUFFIX)] if read_only else rest
    if not sep or not key_id.strip() or not secret:
        raise ValueError("expected KEY_ID:SECRET or KEY_ID:SECRET:read")
    return ApiKey(key_id.strip(), secret, read_only)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id (``anonymous`` without auth) and what it may do."""

    name: str
    read_only: bool = False


ANONYMOUS = Principal("anonymous")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    """Issues and checks tokens for ``keys``; with no keys, every call is anonymous."""

    def __init__(
        self,
        keys: Iterable[ApiKey] = (),
        token_ttl: float = DEFAULT_TOKEN_TTL,
        clock: Callable[[], float] = time.time,
    ):
        self.keys = {k.key_id: k for k in keys}
        self.token_ttl = token_ttl
        self._clock = clock
        self._signing_key = secrets.token_bytes(32)

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def _sign(self, message: bytes) -> str:
        return _b64(hmac.new(self._signing_key, message, hashlib.sha256).digest())

    def issue(self, key_id: str, key_secret: str) -> str:
        """A token for a known key with the right secret; else a 401."""
        key = self.keys.get(key_id)
        if key is None or not hmac.compare_digest(key.secret.encode(), key_secret.encode()):
            raise ApiError(401, "invalid keyId or keySecret")
        now = self._clock()
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "sub": key.key_id,
            "iat": now,
            "exp": now + self.token_ttl,
            "jti": secrets.token_urlsafe(12),
            "scope": "read" if key.read_only else "read write",
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{self._sign(signing_input.encode())}"

    def check(self, token: str | None) -> Principal:
        """The caller behind ``token``: anonymous without auth, else the token's key; a 401
        with ``INVALID_TOKEN`` or ``EXPIRED_TOKEN`` when it cannot be used."""
        if not self.enabled:
            return ANONYMOUS
        if not token:
            raise self._refused(
                "INVALID_TOKEN", "missing X-Authorization header: get a token from /api/token"
            )
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise self._refused("INVALID_TOKEN", "invalid token")
        signing_input = f"{parts[0]}.{parts[1]}".encode()
        if not hmac.compare_digest(self._sign(signing_input), parts[2]):
            raise self._refused("INVALID_TOKEN", "invalid token")
        try:
            claims = json.loads(_unb64(parts[1]))
            key = self.keys[str(claims["sub"])]
            expires = float(claims["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise self._refused("INVALID_TOKEN", "invalid token") from None
        if self._clock() >= expires:
            raise self._refused("EXPIRED_TOKEN", "token expired: get a new one from /api/token")
        return Principal(key.key_id, key.read_only)

    @staticmethod
    def _refused(error: str, message: str) -> ApiError:
        return ApiError(401, message, error=error)
