"""The ``integ`` command tree and ``main()``, the one place where errors become exit codes.

Commands are thin: parse flags, call a plain function, render. They raise typed errors
(``errors.IntegError``); ``main()`` prints ``error: ...`` with hints on stderr and exits with
the contract's code. Tracebacks only with ``--debug`` or ``INTEG_DEBUG=1``.
"""

import os
import sys
from typing import Annotated, Any, Optional

import typer

from conductor_integrations import __version__, output
from conductor_integrations.cli.options import CONFIGURED_SERVER, RootGroup, command_start
from conductor_integrations.errors import ExitCode, IntegError
from conductor_integrations.secrets import redact

HELP = """Manage integration providers (OpenAI, Anthropic, Bedrock, Pinecone, Kafka, databases,
git, SendGrid ...) on an Orkes Conductor server: safely, from flags or YAML, checked against
the known provider types before anything is sent, with secrets kept in the OS keyring.

Try it against the built-in sandbox, no server needed:

\b
  integ provider put demo -t openai -c api_key=@key.txt --server local
  integ provider list --server local

Global options (--server, --profile, -o/--output, --timeout, --debug ...) go before the
command or after it, with the same meaning: integ --server local provider list is integ
provider list --server local. Given in both places, the one after the command wins.

Exit codes: 0 ok, 1 diff found differences, 2 usage, 3 invalid input, 4 auth refused,
5 not found, 6 rejected by the server, 7 server unreachable, 70 internal error, 130 interrupted.
"""

app = typer.Typer(
    name="integ",
    cls=RootGroup,
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        output.text(f"integ {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Manage integration providers on an Orkes Conductor server."""


def _register() -> None:
    from conductor_integrations.cli import (
        apply,
        auth,
        completion,
        config_cmd,
        model,
        provider,
        secret,
        server,
        tags,
        types,
        validate,
    )

    provider.register(app)
    apply.register(provider.app)
    tags.register(provider.app)
    model.register(app)
    types.register(app)
    validate.register(app)
    secret.register(app)
    auth.register(app)
    config_cmd.register(app)
    server.register(app)
    completion.register(app)


_register()


def _debug_enabled(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("INTEG_DEBUG", "").lower() in ("1", "true", "yes")


def run(argv: Optional[list[str]] = None) -> int:
    """Run ``integ`` with ``argv`` and return the exit code (never raises)."""
    from typer.main import get_command

    argv = _bare_server_flag(list(sys.argv[1:] if argv is None else argv))
    output.reset()
    _install_sinks()
    command = get_command(app)
    try:
        result: Any = command.main(args=argv, prog_name="integ", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except IntegError as exc:
        output.error(exc.message, hints=exc.hints, details=exc.details)
        if _debug_enabled(argv):
            _traceback()
        return int(exc.exit_code)
    except KeyboardInterrupt:
        output.error("interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        return _click_or_internal(exc, argv)


def _install_sinks() -> None:
    """Core code prints nothing: the warnings of keyring writes come here to be printed.
    (The ``--debug`` HTTP log is given to each client by ``connection``.)"""
    from conductor_integrations.secrets import credentials

    credentials.warn_with(output.warning)


def _bare_server_flag(argv: list[str]) -> list[str]:
    """``integ types list --server`` and ``types diff --server`` with no URL ask the configured
    server (environment or profile): give the flag a value that says so (after the
    subcommand only: before it, ``--server`` always takes a URL)."""
    start = command_start(argv)
    if argv[start : start + 1] != ["types"]:
        return argv
    out: list[str] = argv[:start]
    for i, arg in enumerate(argv[start:], start):
        out.append(arg)
        if arg == "--server" and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
            out.append(CONFIGURED_SERVER)
    return out


def _click_or_internal(exc: Exception, argv: list[str]) -> int:
    # Typer vendors its own click: recognise its exceptions by shape, not by class.
    name = type(exc).__name__
    if name == "Abort":
        output.error("aborted")
        return int(ExitCode.INTERRUPTED)
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        hints = []
        if ctx is not None:
            hints.append(f"see `{ctx.command_path} --help`")
        output.error(message, hints=hints)
        return int(exc.exit_code)
    output.error(
        f"unexpected internal error: {type(exc).__name__}: {redact.scrub(str(exc))}",
        hints=["run again with --debug for the traceback, and report it"],
    )
    if _debug_enabled(argv):
        _traceback()
    return int(ExitCode.INTERNAL)


def _traceback() -> None:
    import traceback

    output.info(redact.scrub(traceback.format_exc()))


def main() -> None:
    """Console-script entry point."""
    code = run()
    sys.exit(code)
