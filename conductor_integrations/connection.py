"""What a connection takes from the settings besides the URL: TLS verification, where the
application key secret comes from, and the built-in sandbox for ``--server local``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from conductor_integrations import config, output
from conductor_integrations.errors import ServerUnavailable, UsageError

if TYPE_CHECKING:
    from conductor_integrations.sandbox.server import RunningSandbox


def key_secret_lookup(server_root: str, key_id: str) -> Callable[[], str | None]:
    """Where the application key secret comes from: ``CONDUCTOR_AUTH_SECRET``, else the
    keyring entry ``integ auth login`` made for this server and key."""

    def lookup() -> str | None:
        env = os.environ.get("CONDUCTOR_AUTH_SECRET")
        if env:
            return env
        from conductor_integrations import credentials

        interactive = bool(sys.stdin and sys.stdin.isatty())
        return credentials.get_key_secret(server_root, key_id, interactive=interactive)

    return lookup


def tls_verify(settings: config.Settings) -> bool | str:
    if settings.get("insecure"):
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
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


def start_sandbox() -> RunningSandbox:
    """The built-in sandbox on a free loopback port, its state in the data folder."""
    from conductor_integrations import sandbox
    from conductor_integrations.sandbox.errors import SandboxError

    try:
        return sandbox.serve_in_background()
    except SandboxError as exc:
        raise ServerUnavailable(
            f"the built-in sandbox could not start: {exc}",
            0,
            hints=["give a Conductor server with --server URL or CONDUCTOR_SERVER_URL"],
        ) from None
