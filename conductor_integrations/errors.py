"""Exit codes and the exception hierarchy.

Core code raises these typed errors; ``cli.main()`` is the one place that turns them into
an ``error: ...`` line on stderr and an exit code. Every error carries hints that name the
next step for the user.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import NamedTuple


class ExitCode(enum.IntEnum):
    """The contract's exit codes (``integ --help`` and the man page list them)."""

    OK = 0
    #: ``diff`` (and ``types diff``): differences found.
    DIFFERENCES = 1
    USAGE = 2
    INVALID = 3
    AUTH = 4
    NOT_FOUND = 5
    REJECTED = 6
    UNAVAILABLE = 7
    #: An unexpected internal error (a bug), in every command: never 1, so that a crash in
    #: ``diff`` is not read as drift (sysexits' EX_SOFTWARE).
    INTERNAL = 70
    INTERRUPTED = 130


def exit_code_for_status(status: int) -> ExitCode:
    """Map an HTTP status from the server to the exit code of a command that got it."""
    if 200 <= status < 300:
        return ExitCode.OK
    if status in (401, 403):
        return ExitCode.AUTH
    if status == 404:
        return ExitCode.NOT_FOUND
    if 400 <= status < 500 and status not in (408, 429):
        return ExitCode.REJECTED
    return ExitCode.UNAVAILABLE


class IntegError(Exception):
    """Base of every error ``integ`` reports to the user; never shown with a traceback."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hints: Iterable[str] = (), details: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)
        self.details = list(details)


class UsageError(IntegError):
    """Raised for a malformed command line or missing settings (no server configured)."""

    exit_code = ExitCode.USAGE


class UnsafeName(UsageError):
    """Raised where a request path would be built from a name that does not stay one path
    segment (``.``, ``..``, empty): nothing is sent."""


class InputError(IntegError):
    """Raised for input that cannot be used: unreadable YAML/JSON, a bad reference, a
    missing secret. Nothing has been sent when it is raised."""

    exit_code = ExitCode.INVALID


class Problem(NamedTuple):
    """One finding of validation: where it is, what is wrong, and what to do.

    The immutable records made on every run (``Problem``, ``settings.SettingSpec``,
    ``types.builtin.ProviderType``, ``cli.lazy.Entry``) are named tuples, not frozen
    dataclasses: the same equality, hash, repr and ``_replace``, made about six times
    faster when their module is imported, which every command pays at start-up."""

    path: str
    message: str
    hint: str = ""
    severity: str = "error"  # "error" or "warning"
    source: str = ""  # "file.yaml", "file.yaml#2" (second document) or "" for flags
    line: int | None = None
    provider: str = ""  # the provider's name ("" while it has none)

    @property
    def location(self) -> str:
        """``file.yaml:6 p-kafka configuration.protocol``: file and line, provider, key path."""
        where = self.source
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, shown_name(self.provider), self.path) if p]
        return " ".join(parts)

    def as_error(self) -> Problem:
        """The same problem as an error (``--strict``)."""
        return self._replace(severity="error")

    def render(self) -> str:
        loc = self.location
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


def about(problems: Iterable[Problem], provider: str) -> list[Problem]:
    """``problems``, each naming ``provider`` unless it already names one."""
    return [p if p.provider or not provider else p._replace(provider=provider) for p in problems]


def shown_name(name: str) -> str:
    """A name as a message line shows it: as it is, or quoted when it holds spaces or
    characters that are not printable (a name comes from a document: it must not be able
    to break or fake a line)."""
    if not name or (name.isprintable() and not any(c.isspace() for c in name)):
        return name
    return repr(name)


class ValidationFailed(InputError):
    """Raised when validation found errors; carries every problem, not only the first."""

    def __init__(self, problems: Sequence[Problem], what: str = "validation failed"):
        errors = [p for p in problems if p.severity == "error"]
        count = len(errors)
        # Each problem, printed above, names its own next step.
        super().__init__(f"{what}: {count} problem{'s' if count != 1 else ''}; nothing was sent")
        self.problems = list(problems)


class ServerErrorBody:
    """The useful part of a Conductor error body."""

    __slots__ = ("error", "message", "validation_errors")

    def __init__(self, message: str = "", validation_errors: Iterable[str] = (), error: str = "") -> None:
        self.message = message
        self.validation_errors = list(validation_errors)
        self.error = error  # EXPIRED_TOKEN / INVALID_TOKEN on auth failures

    def __repr__(self) -> str:
        return f"ServerErrorBody({self.message!r}, {self.validation_errors!r}, {self.error!r})"


class ServerError(IntegError):
    """Raised when the server answered with an error status. The subclass follows the
    status (see ``exit_code_for_status``); the message is the server's own when it sent one."""

    def __init__(
        self,
        message: str,
        status: int,
        body: ServerErrorBody | None = None,
        hints: Iterable[str] = (),
    ):
        details = list(body.validation_errors) if body else []
        super().__init__(message, hints=hints, details=details)
        self.status = status
        self.body = body or ServerErrorBody()

    @classmethod
    def from_status(
        cls,
        status: int,
        message: str,
        body: ServerErrorBody | None = None,
        hints: Iterable[str] = (),
    ) -> ServerError:
        """Build the subclass that matches ``status``."""
        code = exit_code_for_status(status)
        klass: type[ServerError] = {
            ExitCode.AUTH: AuthError,
            ExitCode.NOT_FOUND: NotFoundError,
            ExitCode.REJECTED: RejectedError,
        }.get(code, ServerUnavailable)
        return klass(message, status, body, hints)


class AuthError(ServerError):
    """Raised for 401/403: the credentials were refused or lack the permission."""

    exit_code = ExitCode.AUTH


class NotFoundError(ServerError):
    """Raised for 404: no such provider or model, or the server does not know the type."""

    exit_code = ExitCode.NOT_FOUND


class RejectedError(ServerError):
    """Raised for 400, 409 and other 4xx, and for a type change refused before sending."""

    exit_code = ExitCode.REJECTED


class ServerUnavailable(ServerError):
    """Raised when the server cannot be reached or keeps failing: connection errors,
    timeouts, 5xx after retries, or a reply that is not what the API returns."""

    exit_code = ExitCode.UNAVAILABLE


class NotSent(ServerUnavailable):
    """Raised instead of sending a request once bulk work has stopped because the server
    stopped answering (``breaker``): this request never went out."""


class Interrupted(IntegError):
    """Raised (from KeyboardInterrupt) when the user pressed Ctrl-C."""

    exit_code = ExitCode.INTERRUPTED


class TooDeepToPrint(InputError):
    """Raised when data to print is nested deeper than integ's output goes. Replies that
    deep are refused when they arrive; this is what a document that deep meets."""
