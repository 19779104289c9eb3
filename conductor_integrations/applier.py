"""The engine behind ``provider apply``: one list call, then the writes with bounded
concurrency over one client, results in document order.

Each provider ends as ``created``, ``updated``, ``unchanged`` or ``failed``; with
``--fail-fast`` the ones not sent after a failure are ``skipped``, and after Ctrl-C the ones
not sent are ``interrupted``. Nothing is lost silently: every document gets a result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from conductor_integrations import plan
from conductor_integrations.errors import ExitCode, IntegError, RejectedError
from conductor_integrations.payload import Payload

#: Requests in flight at once (``--concurrency``; its help text says the same number).
DEFAULT_CONCURRENCY = 8


class ProviderClient(Protocol):
    def list_providers(
        self, category: str | None = None, active_only: bool = False
    ) -> list[dict[str, Any]]: ...

    def put_provider(self, name: str, body: dict[str, Any]) -> Any: ...


@dataclass
class Outcome:
    name: str
    type: str | None
    action: str  # created, updated, unchanged, failed, skipped, interrupted
    error: str | None = None
    exit_code: int = 0
    changes: list[plan.Change] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "action": self.action, "error": self.error}


@dataclass
class Report:
    outcomes: list[Outcome]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        """The code the first failed provider (document order) would have had alone."""
        for outcome in self.outcomes:
            if outcome.action == "failed":
                return outcome.exit_code
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        return 0

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)


def plan_all(
    payloads: Sequence[Payload], live: dict[str, dict[str, Any]], secret_matches: plan.SecretCheck
) -> list[plan.ProviderPlan]:
    return [plan.compare(p.name, p.body, live.get(p.name), p.secret_keys, secret_matches) for p in payloads]


def apply(
    client: ProviderClient,
    payloads: Sequence[Payload],
    *,
    secret_matches: plan.SecretCheck,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    on_done: Callable[[Outcome], None] | None = None,
    on_sent: Callable[[Payload], None] | None = None,
) -> Report:
    """Apply ``payloads`` (already validated). ``on_sent`` is called (in this thread) for
    each provider the server accepted; ``on_done`` for every outcome as it is known."""
    live = {str(p.get("name")): p for p in client.list_providers(active_only=False) if isinstance(p, dict)}
    plans = plan_all(payloads, live, secret_matches)
    outcomes: list[Outcome | None] = [None] * len(payloads)
    stop = threading.Event()

    def finish(i: int, outcome: Outcome) -> None:
        outcomes[i] = outcome
        if on_done:
            on_done(outcome)

    def send(i: int) -> Outcome:
        p, pl = payloads[i], plans[i]
        if stop.is_set():
            return Outcome(p.name, pl.type, "skipped", "not sent: an earlier provider failed (--fail-fast)")
        try:
            client.put_provider(p.name, p.body)
        except IntegError as exc:
            if fail_fast:
                stop.set()  # before this worker can take the next provider
            return Outcome(p.name, pl.type, "failed", exc.message, int(exc.exit_code), pl.changes)
        return Outcome(
            p.name, pl.type, "created" if pl.action == "create" else "updated", None, 0, pl.changes
        )

    pending: dict[Future[Outcome], int] = {}
    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="apply") as pool:
        try:
            for i, pl in enumerate(plans):
                p = payloads[i]
                if pl.action == "unchanged":
                    finish(i, Outcome(p.name, pl.type, "unchanged"))
                elif pl.action == "type-change":
                    err = RejectedError(
                        f"type cannot be changed from {pl.live_type} to {pl.type}; not sent",
                        400,
                    )
                    finish(i, Outcome(p.name, pl.type, "failed", err.message, int(err.exit_code)))
                    if fail_fast:
                        stop.set()
                else:
                    pending[pool.submit(send, i)] = i
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    outcome = fut.result()
                    if outcome.action == "failed" and fail_fast:
                        stop.set()
                    if outcome.action in ("created", "updated") and on_sent:
                        on_sent(payloads[i])
                    finish(i, outcome)
        except KeyboardInterrupt:
            interrupted = True
            stop.set()
            for fut in pending:
                fut.cancel()
            # Requests already on the wire finish; their results are kept.
            for fut, i in list(pending.items()):
                if fut.cancelled():
                    continue
                try:
                    outcome = fut.result()
                except BaseException:  # pragma: no cover - defensive
                    continue
                if outcome.action in ("created", "updated") and on_sent:
                    on_sent(payloads[i])
                finish(i, outcome)
    final: list[Outcome] = []
    for i, known in enumerate(outcomes):
        if known is None:
            p = payloads[i]
            known = Outcome(p.name, plans[i].type, "interrupted", "not sent: interrupted")
        final.append(known)
    return Report(final, interrupted)
