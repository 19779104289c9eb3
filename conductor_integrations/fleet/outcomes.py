"""What ``provider apply`` reports: the action each provider (and each of its models, and
its tags) ended with, the records printed for them, and the run's exit code.

The actions are ``Action`` members; each one's value is the word printed in tables and
written in JSON/YAML records (``created``, ``not sent`` ...), and a member compares equal
to its word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from conductor_integrations.errors import ExitCode

if TYPE_CHECKING:
    from conductor_integrations.fleet import plan


class Action(str, Enum):
    """How a provider, a model or a provider's tags ended."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    #: removed by ``--prune`` (a live provider or model no document declares)
    DELETED = "deleted"
    FAILED = "failed"
    #: not sent because something before it failed (``--fail-fast``, its provider)
    SKIPPED = "skipped"
    #: not sent (or not confirmed) because of Ctrl-C
    INTERRUPTED = "interrupted"
    #: not sent because the server stopped answering (the breaker opened)
    NOT_SENT = "not sent"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def done(cls, plan_action: str) -> Action:
        """The action a planned ``create``/``update``/``unchanged``/``delete`` ends as."""
        return _DONE[plan_action]


_DONE = {
    "create": Action.CREATED,
    "update": Action.UPDATED,
    "unchanged": Action.UNCHANGED,
    "delete": Action.DELETED,
}

#: Actions that mean something of the provider reached the server.
WRITTEN = frozenset({Action.CREATED, Action.UPDATED, Action.DELETED})

#: Why a provider (or model) was not sent after Ctrl-C.
NOT_SENT = "not sent: interrupted"
#: Why a provider (or model) was not sent once the server stopped answering.
GONE_WHY = "not sent: the server stopped answering"
#: Why the children of a provider that failed were not sent.
PARENT_FAILED = "not sent: the provider failed"
UNCONFIRMED = "sent, but Ctrl-C came before the reply: the server may or may not have applied it"


@dataclass(kw_only=True)
class ModelOutcome:
    name: str
    action: Action
    error: str | None = None
    #: the model's ``updateTime`` after its write (only when secrets were sent)
    update_time: Any = None

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action.value, "error": self.error}


@dataclass(kw_only=True)
class Outcome:
    name: str
    type: str | None
    action: Action
    error: str | None = None
    exit_code: int = 0
    changes: list[plan.Change] = field(default_factory=list)
    #: the models of a document with ``models:`` (None: the document has none)
    models: list[ModelOutcome] | None = None
    #: what happened to the tags of a document with ``tags:`` (None: the document has none)
    tags: Action | None = None
    #: the provider's own POST was accepted (its secrets are now the ones applied)
    sent: bool = False
    #: the provider's ``updateTime`` after that POST (only when secrets were sent)
    update_time: Any = None

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "action": self.action.value,
            "error": self.error,
        }
        if self.models is not None:
            out["models"] = [m.record() for m in self.models]
        if self.tags is not None:
            out["tags"] = self.tags.value
        return out


@dataclass
class Report:
    outcomes: list[Outcome]
    interrupted: bool = False
    #: why sending stopped early (the breaker opened: the server stopped answering)
    stopped: str | None = None

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C; 7 when the server stopped answering; else the code the first
        failed provider (document order) would have had alone."""
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        if self.stopped:
            return int(ExitCode.UNAVAILABLE)
        for outcome in self.outcomes:
            if outcome.action == Action.FAILED:
                return outcome.exit_code
        return 0

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action == action)
