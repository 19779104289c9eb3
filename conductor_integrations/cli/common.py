"""What many commands share: the run's settings, the resolver of documents, name checks,
confirmation before deleting, ``-l KEY=VALUE`` selectors.

The settings' options (``--server``, ``-o`` ...) come with the command's class
(``options.ServerCommand``, ``options.OutputCommand``: ``@app.command("list",
cls=ServerCommand)``), not with the function's parameters; a command reads them with
``settings(ctx)``. ``--allow-outside-files`` is an ordinary option of the commands that read
documents (``AllowOutsideFiles``), handed to ``local_resolver``.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from conductor_integrations import config, output
from conductor_integrations.cli.options import (
    CONFIGURED_SERVER,
    Command,
    OutputCommand,
    ServerCommand,
    invocation,
)
from conductor_integrations.errors import (
    AuthError,
    ExitCode,
    IntegError,
    NotFoundError,
    ServerUnavailable,
    UsageError,
)

if TYPE_CHECKING:
    from conductor_integrations.documents.references import LocalResolver

__all__ = ["CONFIGURED_SERVER", "Command", "OutputCommand", "ServerCommand"]

#: Where the server's root goes in what ``--dry-run`` prints when no server is configured.
NO_SERVER = "<server>"


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


AllowOutsideFiles = Annotated[
    bool,
    typer.Option(
        "--allow-outside-files",
        help="Let ${file:PATH} in documents read files outside the document's folder "
        "(symbolic links resolved). [env: INTEG_ALLOW_OUTSIDE_FILES=1]",
    ),
]


def local_resolver(allow_outside_files: bool, interactive: Optional[bool] = None) -> "LocalResolver":
    """The resolver for this command's documents and flags (``--allow-outside-files``, else
    ``INTEG_ALLOW_OUTSIDE_FILES``)."""
    from conductor_integrations.cli import prompts
    from conductor_integrations.documents.references import LocalResolver

    return LocalResolver(
        interactive, allow_outside_files=True if allow_outside_files else None, ask=prompts.TERMINAL
    )


def given(ctx: typer.Context) -> dict[str, Any]:
    """The settings given as flags in this run, before or after the subcommand (by setting
    name; a flag not given is not there)."""
    return invocation(ctx).flags


def settings(ctx: typer.Context) -> config.Settings:
    """The resolved settings of this run (flags > environment > profile > default); also
    applies the output settings."""
    found = invocation(ctx)
    if found.settings is None:
        flags = dict(found.flags)
        if flags.get("server") == CONFIGURED_SERVER:
            del flags["server"]
        found.settings = config.resolve(flags)
        output.configure(
            format=found.settings["output"],
            no_color=bool(found.settings["no_color"]),
            debug=bool(found.settings["debug"]),
        )
    return found.settings


def server_named(s: config.Settings) -> str:
    """How messages name the configured server (exit 2 when there is none): "the local
    sandbox", or the server's root."""
    server = config.require_server(s)
    return "the local sandbox" if config.is_local(server) else config.server_root(server)


def require_paths(given: list[str]) -> None:
    """A command that reads documents needs at least one PATH (else exit 2)."""
    if not given:
        raise UsageError(
            "give at least one PATH", hints=["for example: providers/, -f providers/ or - for stdin"]
        )


def to_delete(
    names: list[str], yes: bool, question: Callable[[list[str]], str], on_terminal: bool
) -> list[str]:
    """``names`` once each, in the order given, once the deletion is confirmed (see
    ``confirm_delete``; ``question`` asks about them); empty when the answer was no."""
    names = list(dict.fromkeys(names))
    return names if confirm_delete(yes, question(names), on_terminal) else []


def confirm_delete(yes: bool, question: str, on_terminal: bool) -> bool:
    """Ask ``question`` before deleting. True: go on. On a terminal a yes/no prompt, where
    "no" is an answer, not a failure (as kubectl's ``delete --interactive``): it says
    "nothing deleted" and returns False, and the command ends with exit 0. Elsewhere
    ``--yes`` is required (exit 2); Ctrl-C at the prompt is exit 130."""

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


class DeleteFailed(IntegError):
    """Raised when some of several deletions failed; exits with the code of the first
    failure (each failure was already reported)."""

    def __init__(self, message: str, code: ExitCode):
        super().__init__(message)
        self.exit_code = code


class Deletions:
    """What deleting names one by one came to: a record per name tried, and the failures."""

    __slots__ = ("failures", "results")

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.failures: list[IntegError] = []


def delete_each(
    names: list[str],
    delete: Callable[[str], None],
    *,
    key: str,
    what: Callable[[str], str],
    missing_ok: bool,
    not_found: Callable[[str, NotFoundError], IntegError],
) -> Deletions:
    """Delete each of ``names`` in turn (``what(name)`` says what it is; ``key`` names it in
    the records). A 404 is "missing" with ``missing_ok``, else the failure ``not_found``
    makes of it; a refusal or a server that stops answering ends the run (the rest would
    fail the same way), so fewer results than names means the rest was not sent."""
    table = output.settings.format == "table"
    done = Deletions()
    for name in names:
        try:
            delete(name)
        except NotFoundError as exc:
            if missing_ok:
                done.results.append({key: name, "action": "missing", "error": None})
                if table:
                    output.info(f"{what(name)} does not exist; nothing to delete")
                continue
            failure = not_found(name, exc)
            done.failures.append(failure)
            done.results.append({key: name, "action": "failed", "error": failure.message})
        except IntegError as exc:
            done.failures.append(exc)
            done.results.append({key: name, "action": "failed", "error": exc.message})
            if isinstance(exc, (AuthError, ServerUnavailable)):
                break
        else:
            done.results.append({key: name, "action": "deleted", "error": None})
            if table:
                output.success(f"deleted {what(name)}")
    return done


def raise_failures(failures: list[IntegError], tried: int, summary: str) -> None:
    """After deleting ``tried`` names: the one failure as it is, or each reported and then
    ``DeleteFailed(summary)`` with the exit code of the first."""
    if not failures:
        return
    if tried == 1:
        raise failures[0]
    for failure in failures:
        output.error(failure.message, hints=failure.hints, details=failure.details)
    raise DeleteFailed(summary, failures[0].exit_code)


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
