"""Fingerprints of the secret values this machine applied, so that ``apply`` and ``diff``
can tell an unchanged secret from a changed one although the server masks them.

A fingerprint is HMAC-SHA256 of the value under a random key kept in the same file, which
is written with mode 0600 in the data folder. No value is ever stored. Limit: whoever can
read the file can test guesses of a secret offline; a machine without the file (a fresh
CI runner) knows no fingerprints, so it sends every secret and reports ``updated``
(``diff --ignore-secrets`` leaves such secrets out of its exit code).

Beside the fingerprints of a provider (or model) the file keeps its ``updateTime`` as read
right after this machine's own write. A live ``updateTime`` that differs means someone
wrote it since (a key rotated elsewhere, with curl, the UI): the fingerprints say nothing
about the value stored now, so they are stale (``fresh`` is False) and the secrets are sent
again. A fingerprint kept with no ``updateTime`` (an older file, or a server that sends
none) is stale whenever the server sends one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from conductor_integrations.secrets import redact

FILE_NAME = "applied-secrets.json"


class Fingerprints:
    def __init__(self, path: Path, server: str):
        self.path = path
        self.server = server
        self._data: dict[str, Any] = {}
        self._dirty = False
        self._key_bytes: bytes | None = None
        try:
            loaded = json.loads(path.read_text("utf-8"))
            if isinstance(loaded, dict) and isinstance(loaded.get("servers"), dict):
                self._data = loaded
        except (OSError, ValueError):
            self._data = {}

    def _key(self) -> bytes:
        if self._key_bytes is None:
            if "key" not in self._data:
                self._data["key"] = base64.b64encode(secrets.token_bytes(32)).decode()
                self._data.setdefault("servers", {})
            self._key_bytes = base64.b64decode(self._data["key"])
        return self._key_bytes

    def _digest(self, name: str, key: str, value: str) -> str:
        message = "\0".join((self.server, name, key, value)).encode()
        return hmac.digest(self._key(), message, hashlib.sha256).hex()

    def _entry(self) -> dict[str, dict[str, str]]:
        servers = self._data.setdefault("servers", {})
        entry: dict[str, dict[str, str]] = servers.setdefault(self.server, {})
        return entry

    def matches(self, name: str, key: str, value: str) -> bool:
        known = self._data.get("servers", {}).get(self.server, {}).get(name, {}).get(key)
        return known is not None and hmac.compare_digest(known, self._digest(name, key, value))

    def _stamps(self) -> dict[str, Any]:
        stamps = self._data.setdefault("updateTimes", {})
        if not isinstance(stamps, dict):
            stamps = self._data["updateTimes"] = {}
        entry: dict[str, Any] = stamps.setdefault(self.server, {})
        return entry

    def fresh(self, name: str, live_update_time: Any) -> bool:
        """Whether the fingerprints of ``name`` still describe what the server holds: its
        live ``updateTime`` is the one read after this machine's write (True when there
        are no fingerprints of ``name``: then nothing matches anyway)."""
        if not self._data.get("servers", {}).get(self.server, {}).get(name):
            return True
        stamps = self._data.get("updateTimes")
        known = stamps.get(self.server, {}).get(name) if isinstance(stamps, dict) else None
        return bool(known == live_update_time)

    def record(
        self, name: str, config: dict[str, Any], secret_keys: set[str], update_time: Any = None
    ) -> None:
        """Remember the secret values just applied to provider ``name`` with its
        ``updateTime`` after that write (and forget the fingerprints of secret keys that
        were not sent; a masked value was not sent as a value, so it gets none)."""
        entry = {
            k: self._digest(name, k, str(v))
            for k, v in config.items()
            if k in secret_keys and v and not redact.is_masked(v)
        }
        if entry:
            self._entry()[name] = entry
            self._stamps()[name] = update_time
        else:
            self._entry().pop(name, None)
            self._stamps().pop(name, None)
        self._dirty = True

    def forget(self, name: str) -> None:
        if self._entry().pop(name, None) is not None:
            self._dirty = True
        if self._stamps().pop(name, None) is not None:
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        from conductor_integrations import config

        config.make_private_dir(self.path.parent)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(self._data))  # one call: json.dump encodes in pure Python
        os.replace(tmp, self.path)
        self._dirty = False


def for_server(server: str) -> Fingerprints:
    from conductor_integrations import config

    return Fingerprints(config.data_dir() / FILE_NAME, server)
