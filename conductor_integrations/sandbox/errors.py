"""The sandbox's error type and the Conductor error body it turns into.

Every error answer carries the body a Conductor server sends (``status``, ``message``,
``instance``, ``retryable``), plus ``validationErrors`` for bad input and ``error``
(``INVALID_TOKEN`` / ``EXPIRED_TOKEN``) when the token is the problem, which is what
clients look at to decide to mint a new token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class SandboxError(Exception):
    """Raised when the sandbox cannot start: the port is taken, the address cannot be
    bound, or the data file cannot be used. The message says what to change."""


#: The ``instance`` field of error bodies (Orkes puts its pod name there).
INSTANCE = "integ-sandbox"


@dataclass(frozen=True)
class FieldError:
    """One entry of ``validationErrors``."""

    path: str
    message: str
    invalid_value: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "invalidValue": self.invalid_value}


@dataclass
class ApiError(Exception):
    """Raised by the sandbox's request handlers for any answer that is not a success;
    the HTTP layer sends it as a Conductor error body with ``status``."""

    status: int
    message: str
    validation_errors: list[FieldError] = field(default_factory=list)
    #: ``INVALID_TOKEN`` or ``EXPIRED_TOKEN`` on token failures, else empty.
    error: str = ""
    retryable: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def invalid(cls, problems: Iterable[FieldError]) -> ApiError:
        """A 400 for bad input, with every problem in ``validationErrors``."""
        found = list(problems)
        return cls(400, "Validation failed, check below errors for detail.", found)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "message": self.message,
            "instance": INSTANCE,
            "retryable": self.retryable,
        }
        if self.validation_errors:
            out["validationErrors"] = [e.as_json() for e in self.validation_errors]
        if self.error:
            out["error"] = self.error
        return out
