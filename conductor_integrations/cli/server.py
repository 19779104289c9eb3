"""``integ server``: the built-in sandbox in the foreground, until Ctrl-C or SIGTERM.

Stopping it on request (SIGINT or SIGTERM) is a clean stop and exits 0. It exits 7 when it
cannot listen (the port is in use, the address cannot be bound), 3 when the ``--data`` file
cannot be used, and 2 for a malformed ``--auth``.
"""

import select
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any, List, Optional

import typer

from conductor_integrations import output
from conductor_integrations.cli.options import Command
from conductor_integrations.errors import ExitCode, InputError, IntegError, UsageError

HELP = """Run the built-in sandbox: a Conductor-compatible server for the integrations API.

For trying integ, for tests and CI, and for other Conductor clients (the official SDKs work
against it). State is kept in one SQLite file (default: sandbox.db in the user's data folder,
the same file `--server local` uses), so it survives restarts.

\b
  integ server --port 8080
  integ server --port 0 --data ci.db --auth ci:s3cret --auth viewer:v1ew:read

With --auth every call needs a token from POST /api/token; a key ending in :read may only
read (its writes get 403). Without --auth there is no auth at all, as on an OSS server.
Stop it with Ctrl-C (exit 0). Exit 7 when the port is in use.
"""


class CannotListen(IntegError):
    """Raised when the sandbox cannot listen on the host and port it was given (the port is
    in use, or the address cannot be bound)."""

    exit_code = ExitCode.UNAVAILABLE


def register(root: typer.Typer) -> None:
    """Add ``integ server`` to ``root``."""
    root.command("server", cls=Command, help=HELP, no_args_is_help=False)(serve)


def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="HOST", help="Address to listen on (a loopback address keeps it private)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", metavar="PORT", help="Port to listen on; 0 picks a free one.")
    ] = 8080,
    data: Annotated[
        Optional[Path],
        typer.Option(
            "--data",
            help="SQLite file holding the sandbox's state (created when missing). "
            "[default: sandbox.db in the data folder]",
            metavar="PATH",
            dir_okay=False,
        ),
    ] = None,
    auth: Annotated[
        Optional[List[str]],
        typer.Option(
            "--auth",
            help="Require tokens; this key may get one (repeatable). Append :read for a key that "
            "may only read. Test keys only: they are visible in the process list.",
            metavar="KEY_ID:SECRET[:read]",
        ),
    ] = None,
    token_ttl: Annotated[
        float, typer.Option("--token-ttl", help="Seconds a token lives.", metavar="SECONDS", min=0)
    ] = 3600.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No access log on stderr.")] = False,
) -> None:
    """Run the built-in sandbox server until Ctrl-C."""
    from conductor_integrations import sandbox
    from conductor_integrations.sandbox.auth import parse_key
    from conductor_integrations.sandbox.store import StoreError

    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")
    keys = []
    for spec in auth or []:
        try:
            keys.append(parse_key(spec))
        except ValueError as exc:
            raise UsageError(
                f"--auth: {exc}", hints=["e.g. --auth ci:s3cret or --auth viewer:v1ew:read"]
            ) from None
    # Signals are caught from before the URL is printed: a stop requested at any moment
    # after that is a clean stop.
    with _stop_signals() as wait_for_stop:
        try:
            running = sandbox.serve_in_background(
                data, host, port, keys, token_ttl=token_ttl, log=None if quiet else sys.stderr
            )
        except StoreError as exc:
            raise InputError(str(exc), hints=["pass --data with another file"]) from None
        except sandbox.SandboxError as exc:
            raise CannotListen(str(exc)) from None
        with running:
            _announce(running, keys)
            wait_for_stop()
            output.info("stopping the sandbox")
    output.info("sandbox stopped")


def _announce(running: Any, keys: List[Any]) -> None:
    """Where it really listens (the bound address and port, not the ones asked for), then
    how to reach it."""
    if running.every_address:
        family = "IPv6" if ":" in running.host else "IPv4"
        output.info(
            f"integ sandbox listening on {running.bound_url} (every {family} address of this "
            f"machine; from here: {running.url})"
        )
    else:
        output.info(f"integ sandbox listening on {running.url}")
    output.info(f"  data: {running.data_path}")
    if keys:
        names = ", ".join(k.key_id + (" (read-only)" if k.read_only else "") for k in keys)
        output.info(f"  auth: tokens required (POST /api/token); keys: {names}")
    else:
        output.info("  auth: none (every caller may read and write)")
    output.info("Point integ at it:")
    output.info(f"  export CONDUCTOR_SERVER_URL={running.url}")
    if keys:
        output.info(f"  export CONDUCTOR_AUTH_KEY={keys[0].key_id}  # and CONDUCTOR_AUTH_SECRET=<its secret>")
    output.info(f"Official Conductor SDKs take the URL with /api: {running.url}/api")
    output.info("Stop it with Ctrl-C.")
    if not running.loopback_only:
        bound = running.bound_url.removeprefix("http://")
        output.warning(
            f"listening on {bound}, beyond this machine: the sandbox has no TLS"
            + ("" if keys else " and no auth (pass --auth)")
            + "; it is for tests, not for real credentials"
        )


@contextmanager
def _stop_signals() -> Iterator[Callable[[], None]]:
    """Catch SIGINT and SIGTERM; yields ``wait()``, which returns once one has arrived.

    The handler takes no lock: ``Event.set()`` from a handler can deadlock when the signal
    lands while the main thread holds the event's own lock inside ``Event.wait``. Instead the
    handler records the signal and ``set_wakeup_fd`` writes a byte to a socket that
    ``wait()`` selects on: no polling, no lock. The previous handlers come back on exit."""
    received: List[int] = []
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)

    def wait() -> None:
        while not received:
            select.select([wake_r], [], [])
            with suppress(OSError):
                wake_r.recv(64)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous_fd = signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    try:
        yield wait
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        wake_r.close()
        wake_w.close()
