"""The ``integ`` command tree and ``main()``, the one place where errors become exit codes.

Commands are thin: parse flags, call a plain function, render. They raise typed errors
(``errors.IntegError``); ``main()`` prints ``error: ...`` with hints on stderr and exits with
the contract's code. Tracebacks only with ``--debug`` or ``INTEG_DEBUG=1``.
"""

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from conductor_integrations import __version__, notices
from conductor_integrations.cli import lazy
from conductor_integrations.cli.options import CONFIGURED_SERVER, RootGroup, command_start
from conductor_integrations.errors import ExitCode, IntegError

if TYPE_CHECKING:
    from types import ModuleType

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

#: The subcommands of ``integ``, in the order ``--help`` lists them. Only the module of the
#: command being run (or completed) is imported; ``--help`` shows the help here.
COMMANDS = (
    lazy.Entry(
        "validate",
        "conductor_integrations.cli.validate",
        "Check provider documents against the provider types, offline.",
    ),
    lazy.Entry(
        "server",
        "conductor_integrations.cli.server",
        "Run the built-in sandbox: a Conductor-compatible server for the integrations API.",
    ),
    lazy.Entry(
        "completion",
        "conductor_integrations.cli.completion",
        "Print the completion script for bash, zsh or fish.",
    ),
    lazy.Entry(
        "__complete",
        "conductor_integrations.cli.completion",
        "Print the candidates for the command line in $_INTEG_COMPLETE_LINE (used by the scripts).",
        hidden=True,
    ),
    lazy.Entry(
        "provider",
        "conductor_integrations.cli.provider",
        "Integration providers: put, get, list and delete one at a time; apply, diff and export fleets"
        " of them from YAML; tag them.",
    ),
    lazy.Entry(
        "model",
        "conductor_integrations.cli.model",
        "Create, read, list and delete the models of a provider (indexes for vector databases).",
    ),
    lazy.Entry(
        "types",
        "conductor_integrations.cli.types",
        "The provider types integ knows, their keys and examples.",
    ),
    lazy.Entry(
        "secret",
        "conductor_integrations.cli.secret",
        "Provider secrets in the OS keyring (set, list, delete); values are never printed.",
    ),
    lazy.Entry(
        "auth",
        "conductor_integrations.cli.auth",
        "Log in with an application key, see where credentials come from, log out.",
    ),
    lazy.Entry("config", "conductor_integrations.cli.config_cmd", "Show the settings integ uses."),
)


class Root(RootGroup, lazy.LazyGroup):
    """The root's options (``RootGroup``) over the lazy list of its commands."""

    entries = COMMANDS


app = typer.Typer(
    name="integ",
    cls=Root,
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from conductor_integrations import output

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


def _debug_enabled(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("INTEG_DEBUG", "").lower() in ("1", "true", "yes")


def run(argv: Optional[list[str]] = None) -> int:
    """Run ``integ`` with ``argv`` and return the exit code (never raises)."""
    from typer.main import get_command

    argv = _bare_server_flag(list(sys.argv[1:] if argv is None else argv))
    for module in _imported("conductor_integrations.output"):
        module.reset()
    notices.warn_with(_warning)
    command = get_command(app)
    try:
        result: Any = command.main(args=argv, prog_name="integ", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except IntegError as exc:
        from conductor_integrations import output

        output.error(exc.message, hints=exc.hints, details=exc.details)
        if _debug_enabled(argv):
            _traceback()
        return int(exc.exit_code)
    except KeyboardInterrupt:
        from conductor_integrations import output

        output.error("interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        return _click_or_internal(exc, argv)


def _warning(message: str) -> None:
    """The sink of the core layers' warnings (``notices``): printed as every warning is."""
    from conductor_integrations import output

    output.warning(message)


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
    from conductor_integrations import output
    from conductor_integrations.secrets import redact

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


def _imported(*names: str) -> "list[ModuleType]":
    """Those of the modules ``names`` imported so far (one not imported has no state of an
    earlier ``run`` to reset, and importing it only for that would slow every command)."""
    return [sys.modules[name] for name in names if name in sys.modules]


def _traceback() -> None:
    import traceback

    from conductor_integrations import output
    from conductor_integrations.secrets import redact

    output.info(redact.scrub(traceback.format_exc()))


def main() -> None:
    """Console-script entry point."""
    code = run()
    sys.exit(code)
