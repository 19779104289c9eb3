"""The built-in Conductor-compatible sandbox server for the integrations API.

``integ server`` runs it in the foreground (``serve_in_background``); ``--server local``
opens it in-process for the length of one command, without a socket
(``open_in_process``). Importing this package is cheap: the HTTP layer and the store are
imported when a sandbox starts.

Modules: ``server`` (HTTP layer), ``exchange`` (the rules between a request and the app,
shared by ``server`` and ``local``), ``local`` (the sandbox without a socket), ``routes``
(the endpoints and their rules), ``shapes`` (request bodies and JSON shapes, secret
masking), ``store`` (providers, models, tags, prompt associations, token limits), ``db``
(the SQLite file, WAL, transactions), ``auth`` (keys and tokens), ``defs``
(``/api/integrations/def`` from the embedded type table).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from conductor_integrations.sandbox.auth import ApiKey
    from conductor_integrations.sandbox.errors import SandboxError
    from conductor_integrations.sandbox.local import LocalSandbox
    from conductor_integrations.sandbox.server import RunningSandbox

__all__ = [
    "DEFAULT_DATA_FILE",
    "ApiKey",
    "LocalSandbox",
    "RunningSandbox",
    "SandboxError",
    "default_data_path",
    "open_in_process",
    "serve_in_background",
]

#: The sandbox's SQLite file inside the user's data folder.
DEFAULT_DATA_FILE = "sandbox.db"
DEFAULT_TOKEN_TTL = 3600.0


def default_data_path() -> Path:
    """``sandbox.db`` in the user's data folder (``config.data_dir()``)."""
    from conductor_integrations import config

    return config.data_dir() / DEFAULT_DATA_FILE


def serve_in_background(
    data_path: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    auth: Sequence[str | ApiKey] = (),
    *,
    token_ttl: float = DEFAULT_TOKEN_TTL,
    log: TextIO | None = None,
) -> RunningSandbox:
    """Start a sandbox in a background thread of this process and return once it listens.

    ``data_path`` None: the default file in the user's data folder, so consecutive
    commands see each other's work. ``port`` 0: a free port. ``auth``: application keys,
    ``"KEY_ID:SECRET"`` or ``"KEY_ID:SECRET:read"`` (or ``ApiKey``); empty: no auth at all.
    ``token_ttl``: seconds a token lives. ``log``: a stream for the access log (None: quiet).

    The result has ``.url`` (``http://127.0.0.1:PORT``, without ``/api``) and ``.stop()``,
    and is a context manager. Raises ``SandboxError`` when the port is taken or the data
    file cannot be used, ValueError for a malformed ``auth`` entry.
    """
    from conductor_integrations.sandbox.local import open_app
    from conductor_integrations.sandbox.server import listen

    path = _data_file(data_path)
    return listen(open_app(path, auth, token_ttl=token_ttl), path, host, port, log)


def open_in_process(
    data_path: Path | None = None,
    auth: Sequence[str | ApiKey] = (),
    *,
    token_ttl: float = DEFAULT_TOKEN_TTL,
) -> LocalSandbox:
    """The sandbox without a socket, answering in the caller's thread (``--server local``).

    ``data_path`` and ``auth`` as for ``serve_in_background``. The result has ``.url`` (the
    root a client sends to, which only ``.handle`` answers), ``.handle(method, target,
    headers, body) -> (status, headers, body)`` and ``.close()``, and is a context manager.
    Raises ``SandboxError`` when the data file cannot be used, ValueError for a malformed
    ``auth`` entry.
    """
    from conductor_integrations.sandbox.local import open_local

    return open_local(_data_file(data_path), auth, token_ttl=token_ttl)


def _data_file(data_path: Path | None) -> Path:
    """``data_path``, or the default file (its private folder made when missing)."""
    if data_path is not None:
        return Path(data_path)
    from conductor_integrations import config

    path = default_data_path()
    config.make_private_dir(path.parent)
    return path


def __getattr__(name: str) -> Any:
    # The classes are importable from here without importing the HTTP layer up front.
    if name == "RunningSandbox":
        from conductor_integrations.sandbox.server import RunningSandbox

        return RunningSandbox
    if name == "LocalSandbox":
        from conductor_integrations.sandbox.local import LocalSandbox

        return LocalSandbox
    if name == "ApiKey":
        from conductor_integrations.sandbox.auth import ApiKey

        return ApiKey
    if name == "SandboxError":
        from conductor_integrations.sandbox.errors import SandboxError

        return SandboxError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
