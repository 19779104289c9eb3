"""Options shared by many commands, accepted after the subcommand
(``integ provider list --server URL -o json``).

``@output_options`` adds ``-o``, ``--no-color`` and ``--debug`` (and ``--profile``);
``@server_options`` adds those and the connection options. The decorated function does not
declare them: the values are gathered into ``GlobalOptions`` and reached with ``settings()``.
``@document_options`` adds ``--allow-outside-files`` to a command that reads documents; its
references are then resolved by ``local_resolver()``.
"""

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer

from conductor_integrations import config, output
from conductor_integrations.cli import complete_values
from conductor_integrations.errors import Interrupted, UsageError

if TYPE_CHECKING:
    from conductor_integrations.documents.references import LocalResolver

CONNECTION = "Connection"
#: ``--server`` given without a URL (``integ types list --server``): use the configured one.
CONFIGURED_SERVER = "@configured"
OUTPUT = "Output"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class GlobalOptions:
    server: Optional[str] = None
    token: Optional[str] = None
    key_id: Optional[str] = None
    profile: Optional[str] = None
    output: Optional[str] = None
    timeout: Optional[float] = None
    retries: Optional[int] = None
    ca_bundle: Optional[str] = None
    insecure: bool = False
    no_color: bool = False
    debug: bool = False


_current = GlobalOptions()
_settings: Optional[config.Settings] = None
#: ``--allow-outside-files`` of the running command
_allow_outside_files = False


def path_name(value: Any) -> Any:
    """Callback of a NAME, PROVIDER or MODEL argument (one or a list): a name that would
    not stay one segment of the request path (``.``, ``..``) is a usage error, exit 2,
    before anything is read or sent."""
    from conductor_integrations.client.endpoints import name_problem

    for name in [value] if isinstance(value, str) else value or []:
        problem = name_problem(name) if name else None
        if problem:
            raise typer.BadParameter(problem)
    return value


def _output_choice(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in output.FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(output.FORMATS)}")
    return value


OUTPUT_PARAMS: dict[str, Any] = {
    "output": Annotated[
        Optional[str],
        typer.Option(
            "--output",
            "-o",
            help="Output format: table (for people), json or yaml. [env: INTEG_OUTPUT]",
            callback=_output_choice,
            autocompletion=complete_values.complete_output,
            rich_help_panel=OUTPUT,
            metavar="FORMAT",
        ),
    ],
    "no_color": Annotated[
        bool,
        typer.Option("--no-color", help="No colour (also NO_COLOR).", rich_help_panel=OUTPUT),
    ],
    "debug": Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Log HTTP traffic (secrets masked) and show tracebacks. [env: INTEG_DEBUG=1]",
            rich_help_panel=OUTPUT,
        ),
    ],
    "profile": Annotated[
        Optional[str],
        typer.Option(
            "--profile",
            help="Profile in config.yaml to read settings from. [env: INTEG_PROFILE]",
            metavar="NAME",
            autocompletion=complete_values.complete_profile,
            rich_help_panel=CONNECTION,
        ),
    ],
}

SERVER_PARAMS: dict[str, Any] = {
    "server": Annotated[
        Optional[str],
        typer.Option(
            "--server",
            help="Conductor server URL, with or without /api; `local` for the built-in sandbox. "
            "[env: CONDUCTOR_SERVER_URL]",
            rich_help_panel=CONNECTION,
            metavar="URL",
        ),
    ],
    "token": Annotated[
        Optional[str],
        typer.Option(
            "--token",
            metavar="TOKEN",
            help="Ready-made token (discouraged: visible in the process list; prefer CONDUCTOR_AUTH_TOKEN).",
            rich_help_panel=CONNECTION,
        ),
    ],
    "key_id": Annotated[
        Optional[str],
        typer.Option(
            "--key-id",
            help="Application key id; its secret comes from CONDUCTOR_AUTH_SECRET or the keyring. "
            "[env: CONDUCTOR_AUTH_KEY]",
            rich_help_panel=CONNECTION,
            metavar="ID",
        ),
    ],
    "timeout": Annotated[
        Optional[float],
        typer.Option(
            "--timeout",
            help="Seconds to wait for each request attempt (default 10). [env: INTEG_TIMEOUT]",
            rich_help_panel=CONNECTION,
            metavar="S",
        ),
    ],
    "retries": Annotated[
        Optional[int],
        typer.Option(
            "--retries",
            help="Retries on connection errors, timeouts, 429, 502, 503, 504 (default 3). "
            "[env: INTEG_RETRIES]",
            rich_help_panel=CONNECTION,
            metavar="N",
        ),
    ],
    "ca_bundle": Annotated[
        Optional[str],
        typer.Option(
            "--ca-bundle",
            help="CA certificates (PEM) to verify the server with. [env: REQUESTS_CA_BUNDLE]",
            rich_help_panel=CONNECTION,
            metavar="PATH",
        ),
    ],
    "insecure": Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Do not verify the server's TLS certificate (warns on every use).",
            rich_help_panel=CONNECTION,
        ),
    ],
}

_DEFAULTS = {f.name: f.default for f in fields(GlobalOptions)}


def _with(params: dict[str, Any]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        extra = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULTS[name], annotation=ann)
            for name, ann in params.items()
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            global _current, _settings
            values = {name: kwargs.pop(name, _DEFAULTS[name]) for name in params}
            _current = GlobalOptions(**values)
            _settings = None
            debug = values.get("debug") or os.environ.get("INTEG_DEBUG") in ("1", "true", "yes")
            output.configure(no_color=bool(values.get("no_color")), debug=bool(debug))
            try:
                return func(*args, **kwargs)
            except KeyboardInterrupt:
                # Typer would turn it into a silent exit 130; say it, as every error is said.
                raise Interrupted("interrupted") from None

        wrapper.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[*sig.parameters.values(), *extra]
        )
        wrapper.__annotations__ = {**getattr(func, "__annotations__", {}), **params}
        return wrapper  # type: ignore[return-value]

    return decorate


def output_options(func: F) -> F:
    """Add -o/--output, --no-color, --debug and --profile to a command."""
    return _with(OUTPUT_PARAMS)(func)


def server_options(func: F) -> F:
    """Add the output options and every connection option to a command."""
    return _with({**SERVER_PARAMS, **OUTPUT_PARAMS})(func)


ALLOW_OUTSIDE_FILES = Annotated[
    bool,
    typer.Option(
        "--allow-outside-files",
        help="Let ${file:PATH} in documents read files outside the document's folder "
        "(symbolic links resolved). [env: INTEG_ALLOW_OUTSIDE_FILES=1]",
    ),
]


def document_options(func: F) -> F:
    """Add --allow-outside-files to a command that reads documents (use it under
    ``@server_options``); ``local_resolver()`` honours it."""
    sig = inspect.signature(func)
    extra = inspect.Parameter(
        "allow_outside_files", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=ALLOW_OUTSIDE_FILES
    )

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _allow_outside_files
        _allow_outside_files = bool(kwargs.pop("allow_outside_files", False))
        return func(*args, **kwargs)

    wrapper.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*sig.parameters.values(), extra]
    )
    annotations = getattr(func, "__annotations__", {})
    wrapper.__annotations__ = {**annotations, "allow_outside_files": ALLOW_OUTSIDE_FILES}
    return wrapper  # type: ignore[return-value]


def local_resolver(interactive: Optional[bool] = None) -> "LocalResolver":
    """The resolver for this command's documents and flags (``--allow-outside-files``, else
    ``INTEG_ALLOW_OUTSIDE_FILES``)."""
    from conductor_integrations.cli import prompts
    from conductor_integrations.documents.references import LocalResolver

    return LocalResolver(
        interactive, allow_outside_files=True if _allow_outside_files else None, ask=prompts.TERMINAL
    )


def options() -> GlobalOptions:
    return _current


def settings() -> config.Settings:
    """The resolved settings of this command (flags > environment > profile > default);
    also applies the output settings."""
    global _settings
    if _settings is None:
        opts = _current
        flags = {
            "server": None if opts.server == CONFIGURED_SERVER else opts.server,
            "token": opts.token,
            "key_id": opts.key_id,
            "output": opts.output,
            "timeout": opts.timeout,
            "retries": opts.retries,
            "ca_bundle": opts.ca_bundle,
            "insecure": opts.insecure,
            "no_color": opts.no_color,
            "debug": opts.debug,
        }
        _settings = config.resolve(flags, profile=opts.profile)
        output.configure(
            format=_settings["output"],
            no_color=bool(_settings["no_color"]),
            debug=bool(_settings["debug"]),
        )
    return _settings


def reset() -> None:
    """Forget the options of the previous command (tests run many in one process)."""
    global _current, _settings, _allow_outside_files
    _current = GlobalOptions()
    _settings = None
    _allow_outside_files = False


def confirm_delete(yes: bool, question: str, on_terminal: bool) -> bool:
    """Ask ``question`` before deleting. True: go on. On a terminal a yes/no prompt, where
    "no" is an answer, not a failure (as kubectl's ``delete --interactive``): it says
    "nothing deleted" and returns False, and the command ends with exit 0. Elsewhere
    ``--yes`` is required (exit 2); Ctrl-C at the prompt is exit 130."""
    from conductor_integrations.errors import UsageError

    if yes:
        return True
    if not on_terminal:
        raise UsageError(
            "refusing to delete without confirmation: no terminal to ask on",
            hints=["pass --yes to delete without asking"],
        )
    if typer.confirm(question, err=True):
        return True
    output.info("nothing deleted")
    return False


SELECTORS = Annotated[
    Optional[list[str]],
    typer.Option(
        "--selector",
        "-l",
        help="Only providers tagged KEY=VALUE; repeatable (all must match).",
        metavar="KEY=VALUE",
    ),
]


def parse_selectors(given: Optional[list[str]]) -> dict[str, str]:
    """``-l KEY=VALUE`` options as a mapping (usage error for a malformed one or one key
    given two values: no provider could match both)."""
    out: dict[str, str] = {}
    for item in given or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-l needs KEY=VALUE, not {item!r}", hints=["for example: -l team=payments"])
        key = key.strip()
        if key in out and out[key] != value:
            raise UsageError(f"-l {key}= given twice with different values: no provider could match")
        out[key] = value
    return out
