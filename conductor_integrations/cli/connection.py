"""The client of one command, built from the settings: the server URL (checked), TLS
verification, the timeout and retries (checked), where the application key secret comes
from, a warning before credentials go over plain http://, and the built-in sandbox for
``--server local``; and the ``--debug`` log of its HTTP traffic, written by ``output``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conductor_integrations import config, output
from conductor_integrations.errors import ServerUnavailable, UsageError

if TYPE_CHECKING:
    from conductor_integrations.client.api import Client
    from conductor_integrations.types.remote import ServerTable

#: The longest --timeout accepted (a day); longer ones overflow the socket layer.
MAX_TIMEOUT = 86400.0
#: The most --retries accepted: with the backoff capped at 8 s, 100 retries is a quarter of
#: an hour, which is already more than a pipeline should wait.
MAX_RETRIES = 100


def key_secret_lookup(server_root: str, key_id: str) -> Callable[[], str | None]:
    """Where the application key secret comes from: ``CONDUCTOR_AUTH_SECRET``, else the
    keyring entry ``integ auth login`` made for this server and key."""

    def lookup() -> str | None:
        env = os.environ.get("CONDUCTOR_AUTH_SECRET")
        if env:
            return env
        from conductor_integrations.secrets import credentials

        interactive = bool(sys.stdin and sys.stdin.isatty())
        return credentials.get_key_secret(server_root, key_id, interactive=interactive)

    return lookup


def tls_verify(settings: config.Settings) -> bool | str:
    if settings.get("insecure"):
        output.warning(
            "--insecure: the server's TLS certificate is not verified; "
            "the token and secrets can be read by anyone on the network path"
        )
        return False
    bundle = settings.get("ca_bundle")
    if bundle:
        if not Path(str(bundle)).expanduser().is_file():
            raise UsageError(f"{settings.source('ca_bundle')}: CA bundle {bundle!r}: no such file")
        return str(Path(str(bundle)).expanduser())
    return True


def checked_timeout(settings: config.Settings) -> float:
    """``--timeout`` as a number of seconds a socket accepts (not nan, inf or centuries)."""
    value = float(settings.get("timeout") or 10.0)
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise UsageError(
            f"{settings.source('timeout')}: timeout must be a number of seconds above 0 and up to "
            f"{MAX_TIMEOUT:g}, not {value!r}"
        )
    return value


def checked_retries(settings: config.Settings) -> int:
    raw = settings.get("retries")
    value = int(raw) if raw is not None else 3
    if not 0 <= value <= MAX_RETRIES:
        raise UsageError(
            f"{settings.source('retries')}: retries must be from 0 to {MAX_RETRIES}, not {value}"
        )
    return value


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warn_cleartext(root: str, what: str) -> None:
    """Warn that ``what`` (the token, the key secret) goes to ``root`` unencrypted, unless
    it is https:// or a loopback address (the sandbox, a port-forward, a local proxy)."""
    parts = urlsplit(root)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        output.warning(
            f"{root} is plain http://: {what} will cross the network unencrypted; "
            "use the server's https:// URL"
        )


def client_for(settings: config.Settings, url: str, *, local: bool = False) -> Client:
    """A client for ``url`` with the auth, timeout, retries and TLS of ``settings``.
    The sandbox started for ``--server local`` needs no auth, TLS or proxy."""
    from conductor_integrations.client import api

    try:
        root = config.server_root(url)
    except ValueError as exc:  # urlsplit: "Invalid IPv6 URL"
        raise UsageError(f"server URL {url!r} is not a valid URL: {exc}") from None
    api.check_url(root)
    timeout, retries = checked_timeout(settings), checked_retries(settings)
    # The sandbox is on loopback: no proxy from the environment.
    session = api.new_session(trust_env=not local)
    token = key_id = None
    verify: bool | str = True
    if not local:
        verify = tls_verify(settings)
        token = settings.get("token") or None
        # A ready token is used as given: no key stands by to replace it when it is refused.
        key_id = None if token else settings.get("key_id") or None
        if token and settings.source("token") == "flag --token":
            output.warning(
                "--token: a token on the command line is kept in shell history and seen in the "
                "process list; prefer CONDUCTOR_AUTH_TOKEN or an application key (`integ auth login`)"
            )
        if token or key_id:
            warn_cleartext(root, "the token" if token else "the application key secret and its token")
    return api.Client(
        root,
        session=session,
        token=token,
        key_id=key_id,
        key_secret=key_secret_lookup(root, key_id) if key_id else None,
        timeout=timeout,
        retries=retries,
        verify=verify,
        debug_log=output.debug if output.settings.debug else None,
    )


@contextmanager
def connect(settings: config.Settings) -> Iterator[Client]:
    """The client of one command. ``--server local`` opens the built-in sandbox in this
    process for the length of the command (state in the data folder): the session hands
    the sandbox's requests to it directly (``client.inprocess``), no port is opened."""
    server = config.require_server(settings)
    if config.is_local(server):
        from conductor_integrations import sandbox
        from conductor_integrations.client.inprocess import InProcessAdapter
        from conductor_integrations.sandbox.errors import SandboxError

        try:
            local = sandbox.open_in_process()
        except SandboxError as exc:
            raise ServerUnavailable(
                f"the built-in sandbox could not start: {exc}",
                0,
                hints=["give a Conductor server with --server URL or CONDUCTOR_SERVER_URL"],
            ) from None
        with local:
            client = client_for(settings, local.url, local=True)
            client.session.mount(local.url + "/", InProcessAdapter(local.handle))
            try:
                yield client
            finally:
                client.session.close()
        return
    client = client_for(settings, server)
    try:
        yield client
    finally:
        client.session.close()


def server_types(client: Client) -> ServerTable:
    """The server's own type definitions (``GET /api/integrations/def``) as a type table."""
    from conductor_integrations.client import endpoints
    from conductor_integrations.types import remote

    return remote.from_definitions(endpoints.definitions(client))
