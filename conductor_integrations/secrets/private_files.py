"""integ's private files in the data folder: the index of stored secret names and the token
cache, both written with mode 0600 (atomically) and ignored when others can read them.

- ``secret-names.json``: the *names* (``PROVIDER/KEY``, never values) of the provider
  secrets kept in the keyring, because keyrings cannot enumerate;
- ``tokens.json``: tokens minted for an application key, keyed by server and key id, each
  with its expiry (the JWT ``exp`` claim, else 45 minutes after minting) and, when the
  client cached it, an HMAC tying it to the key secret it was minted with. A token is not
  used in its last minute; ``integ auth logout --all`` deletes the file.

No secret value other than a minted token is ever written here. ``credentials`` re-exports
the public functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conductor_integrations import config
from conductor_integrations.secrets import redact

INDEX_FILE = "secret-names.json"
TOKEN_FILE = "tokens.json"
#: A cached token is not used in its last minute; one without an ``exp`` lives this long.
TOKEN_MARGIN = 60.0
TOKEN_TTL = 45 * 60.0


def read_private(path: Path) -> dict[str, Any]:
    """A JSON object from a file of ours; {} when it is missing, unreadable, or readable by
    others (a token file must be 0600)."""
    try:
        if os.name == "posix" and path.stat().st_mode & 0o077:
            return {}
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def write_private(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON with mode 0600, atomically (a folder made for it is 0700)."""
    config.write_private_text(path, json.dumps(data, indent=2, sort_keys=True))


def server_key(server: str, key_id: str) -> str:
    """``SERVER|KEY_ID`` with the server root normalised (with or without ``/api``)."""
    return f"{config.normalize_server(server)}|{key_id}"


# -- the index of secret names -------------------------------------------------------------


def index_path() -> Path:
    """The file that lists the names of stored provider secrets (never their values)."""
    return config.data_dir() / INDEX_FILE


def index_update(provider: str, key: str, *, add: bool) -> None:
    """Add ``provider``/``key`` to the index, or remove it."""
    raw = read_private(index_path()).get("secrets")
    secrets: dict[str, Any] = raw if isinstance(raw, dict) else {}
    keys = {str(k) for k in secrets.get(provider) or () if isinstance(k, str)}
    if add:
        keys.add(key)
    elif key not in keys:
        return
    else:
        keys.discard(key)
    if keys:
        secrets[provider] = sorted(keys)
    else:
        secrets.pop(provider, None)
    write_private(index_path(), {"version": 1, "secrets": secrets})


def list_secrets(provider: str | None = None) -> list[tuple[str, str]]:
    """``(provider, key)`` of the secrets stored with ``integ`` (from the index; the keyring
    is not touched)."""
    secrets = read_private(index_path()).get("secrets")
    if not isinstance(secrets, dict):
        return []
    found = [
        (str(p), str(k))
        for p, keys in secrets.items()
        if isinstance(keys, list) and (provider is None or p == provider)
        for k in keys
    ]
    return sorted(found)


# -- the token cache -------------------------------------------------------------------------


def token_path() -> Path:
    return config.data_dir() / TOKEN_FILE


def token_expiry(token: str, now: float) -> float:
    """The JWT ``exp`` claim when the token has one, else ``now + TOKEN_TTL``."""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            padded = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(padded))
            exp = claims.get("exp") if isinstance(claims, dict) else None
            if isinstance(exp, (int, float)) and not isinstance(exp, bool):
                return float(exp)
        except (ValueError, TypeError):
            pass
    return now + TOKEN_TTL


def _secret_check(token: str, secret: str) -> str:
    """Ties a cached token to the key secret it was minted with (HMAC-SHA256 of the secret
    under the token), so that a changed or wrong secret is not covered up by the cache."""
    return hmac.new(token.encode(), secret.encode(), hashlib.sha256).hexdigest()


def cached_token(
    server: str, key_id: str, *, secret: str | None = None, now: float | None = None
) -> str | None:
    """A token minted earlier for ``server``/``key_id`` that is still good for at least a
    minute, or None. Given ``secret``, only a token minted with that key secret (and cached
    with it) is returned. For the client: try it before ``POST /api/token``; on an
    ``EXPIRED_TOKEN``/``INVALID_TOKEN`` answer call ``forget_tokens(server, key_id)`` and mint."""
    now = time.time() if now is None else now
    entry = read_private(token_path()).get(server_key(server, key_id))
    if not isinstance(entry, dict):
        return None
    token, expires = entry.get("token"), entry.get("expires")
    if not isinstance(token, str) or not token or not isinstance(expires, (int, float)):
        return None
    if expires - TOKEN_MARGIN <= now:
        return None
    if secret is not None:
        check = entry.get("check")
        if not isinstance(check, str) or not hmac.compare_digest(check, _secret_check(token, secret)):
            return None
    redact.register(token)
    return token


def store_token(
    server: str, key_id: str, token: str, *, secret: str | None = None, now: float | None = None
) -> None:
    """Cache a freshly minted token (file mode 0600; expired entries are dropped), tied to
    the key ``secret`` it was minted with when that is given."""
    now = time.time() if now is None else now
    redact.register(token)
    expires = token_expiry(token, now)
    if expires - TOKEN_MARGIN <= now:
        return
    data = {
        k: v
        for k, v in read_private(token_path()).items()
        if isinstance(v, dict) and isinstance(v.get("expires"), (int, float)) and v["expires"] > now
    }
    entry: dict[str, Any] = {"token": token, "expires": expires}
    if secret is not None:
        entry["check"] = _secret_check(token, secret)
    data[server_key(server, key_id)] = entry
    write_private(token_path(), data)


def forget_tokens(server: str | None = None, key_id: str | None = None) -> int:
    """Drop cached tokens: those of ``server``/``key_id``, of every key of ``server``, or all.
    Returns how many were dropped."""
    path = token_path()
    data = read_private(path)
    if server is None:
        keep: dict[str, Any] = {}
    elif key_id is None:
        prefix = config.normalize_server(server) + "|"
        keep = {k: v for k, v in data.items() if not k.startswith(prefix)}
    else:
        keep = {k: v for k, v in data.items() if k != server_key(server, key_id)}
    dropped = len(data) - len(keep)
    if dropped or (server is None and path.exists()):
        if keep:
            write_private(path, keep)
        else:
            path.unlink(missing_ok=True)
    return dropped
