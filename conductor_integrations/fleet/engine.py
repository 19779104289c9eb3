"""The engine behind ``provider apply``: one list call (``live.read``), then the writes
with bounded concurrency over one client, results in document order.

Each provider ends as ``created``, ``updated``, ``unchanged`` or ``failed``; with
``--fail-fast`` the ones not sent after a failure are ``skipped``, after Ctrl-C the ones
not sent are ``interrupted``, and once the server has stopped answering (``breaker``: 5
connection failures in a row, across all workers) the ones not sent are ``not sent`` and
the run exits 7. Nothing is lost silently: every document gets a result.

A provider's models are sent after the provider itself (one after the other, in document
order), then its tags (``PUT`` the pairs to add, then ``DELETE`` the stale ones). A provider
whose own fields are unchanged but whose models or tags changed is ``updated``. When the
provider fails, its models and tags are not sent (each model is reported ``skipped``); when
a model or the tags fail, the provider is ``failed`` with that error, and the other models
are still sent (unless ``--fail-fast``). Results of models appear under ``models`` in the
provider's record (only for documents with ``models:``), the tags' under ``tags``.

Secrets: a provider (or model) written since this machine applied it (its live
``updateTime`` is not the one recorded) has stale fingerprints, so its secrets are sent
again; ``resend_secrets`` sends every secret. After each accepted write that carried secret
values, the ``updateTime`` of that write is taken from the reply (the saved object, when the
server sends it) or else read with one GET right after it, and handed to ``on_sent`` /
``on_model_sent`` to be recorded beside the fingerprints. A document that gives a mask for a
secret the server does not hold is ``failed`` (exit 3) and not sent (``plan``).

Prune (``selectors``, from ``--prune -l KEY=VALUE``): a declared provider's live models its
``models:`` does not list are deleted (model action ``deleted``) with its other models; after
every write, the live providers whose tags match every selector and that no document
declares are deleted one after the other (action ``deleted``), each with its own result after
the documents'. They are not deleted (``skipped``) when a write failed: a provider renamed in
the documents must not lose its old name before the new one exists. The breaker and Ctrl-C
stop the deletions as they stop the writes (``not sent``, ``interrupted``).

The plans come from ``planning`` (the live state read, each document's plan); the results
are ``outcomes`` (``Action``, ``Outcome``, ``ModelOutcome``, ``Report``).
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from conductor_integrations.client import breaker as breaker_mod
from conductor_integrations.client import endpoints
from conductor_integrations.documents.model_docs import ModelSpec
from conductor_integrations.documents.payload import Payload
from conductor_integrations.errors import (
    ExitCode,
    IntegError,
    Interrupted,
    NotFoundError,
    NotSent,
)
from conductor_integrations.fleet import live as live_mod
from conductor_integrations.fleet import plan
from conductor_integrations.fleet.outcomes import (
    GONE_WHY,
    NOT_SENT,
    UNCONFIRMED,
    WRITTEN,
    Action,
    ModelOutcome,
    Outcome,
    Report,
)
from conductor_integrations.fleet.planning import (
    DEFAULT_CONCURRENCY,
    SecretFresh,
    doomed,
    model_specs,
    plan_all,
    read_live,
    refusal,
    refused,
    unsent,
)
from conductor_integrations.secrets import redact

__all__ = [
    "DEFAULT_CONCURRENCY",
    "NOT_SENT",
    "Action",
    "ModelOutcome",
    "Outcome",
    "ProviderClient",
    "Report",
    "apply",
    "update_time_after",
]

if TYPE_CHECKING:
    from conductor_integrations.client.bulk import Transport

FAIL_FAST = "not sent: an earlier provider failed (--fail-fast)"


class ProviderClient(live_mod.LiveClient, Protocol):
    def put_provider(self, name: str, body: dict[str, Any]) -> Any: ...

    def get_provider(self, name: str) -> dict[str, Any] | None: ...

    def delete_provider(self, name: str) -> None: ...


def _carries_secrets(config: Any, secret_keys: set[str]) -> bool:
    """Whether a body's configuration sends a secret value (a mask is not one)."""
    if not isinstance(config, dict):
        return False
    return any(k in secret_keys and v and not redact.is_masked(v) for k, v in config.items())


def update_time_after(saved: Any, read: Callable[[], Any]) -> Any:
    """The ``updateTime`` of the write just made: from the saved object the server sent
    back, else from one read right after it (None when that read fails: the fingerprints
    are then stale at the next run, which only sends the secrets again)."""
    if isinstance(saved, dict) and saved.get("updateTime") is not None:
        return saved["updateTime"]
    try:
        found = read()
    except IntegError:
        return None
    return found.get("updateTime") if isinstance(found, dict) else None


def _send(
    client: ProviderClient,
    p: Payload,
    pl: plan.ProviderPlan,
    fail_fast: bool,
    stop: threading.Event,
    halt: threading.Event,
    gone: breaker_mod.Breaker,
) -> Outcome:
    """Send one provider, then its models, then its tags. ``stop``: an earlier provider
    failed (``--fail-fast``); ``halt``: Ctrl-C; ``gone``: the server stopped answering."""
    if halt.is_set():
        return unsent(p, pl, Action.INTERRUPTED, NOT_SENT)
    if gone.is_open:
        return _not_sent(p, pl)
    if stop.is_set():
        return unsent(p, pl, Action.SKIPPED, FAIL_FAST)
    sent, stamp = False, None
    if pl.own_action in ("create", "update"):
        body = pl.body if pl.body is not None else p.body
        try:
            saved = client.put_provider(p.name, body)
        except Interrupted as exc:  # Ctrl-C before this was sent, or before a retry
            return unsent(
                p, pl, Action.INTERRUPTED, NOT_SENT, error=exc.message, exit_code=int(exc.exit_code)
            )
        except NotSent:  # the breaker opened before this was sent
            return _not_sent(p, pl)
        except IntegError as exc:
            if fail_fast:
                stop.set()  # before this worker can take the next provider
            return refused(p, pl, exc, pl.changes)
        sent = True
        if _carries_secrets(body.get("configuration"), p.secret_keys):
            stamp = update_time_after(saved, lambda: client.get_provider(p.name))
    first: tuple[str, IntegError] | None = None
    cut: str | None = None  # what Ctrl-C kept from being sent
    lost: str | None = None  # what the breaker kept from being sent
    done: list[ModelOutcome] = []
    for mp in pl.models:
        if not mp.differs:
            done.append(ModelOutcome(name=mp.name, action=Action.UNCHANGED))
        elif lost is not None or gone.is_open:
            lost = lost or f"model {mp.name!r}: {GONE_WHY}"
            done.append(ModelOutcome(name=mp.name, action=Action.NOT_SENT, error=GONE_WHY))
        elif first is not None and fail_fast:
            why = "not sent: an earlier failure (--fail-fast)"
            done.append(ModelOutcome(name=mp.name, action=Action.SKIPPED, error=why))
        elif mp.action == "delete":
            try:
                endpoints.delete_model(client, p.name, mp.name)
            except NotFoundError:  # gone already: what --prune wanted
                pass
            except Interrupted as exc:
                cut = cut or f"model {mp.name!r}: {exc.message}"
                done.append(ModelOutcome(name=mp.name, action=Action.INTERRUPTED, error=exc.message))
                continue
            except NotSent:
                lost = lost or f"model {mp.name!r}: {GONE_WHY}"
                done.append(ModelOutcome(name=mp.name, action=Action.NOT_SENT, error=GONE_WHY))
                continue
            except IntegError as exc:
                first = first or (f"model {mp.name!r}", exc)
                done.append(ModelOutcome(name=mp.name, action=Action.FAILED, error=exc.message))
                if fail_fast:
                    stop.set()
                continue
            done.append(ModelOutcome(name=mp.name, action=Action.DELETED))
        else:
            try:
                saved_model = endpoints.put_model(client, p.name, mp.name, mp.body)
            except Interrupted as exc:
                cut = cut or f"model {mp.name!r}: {exc.message}"
                done.append(ModelOutcome(name=mp.name, action=Action.INTERRUPTED, error=exc.message))
            except NotSent:
                lost = lost or f"model {mp.name!r}: {GONE_WHY}"
                done.append(ModelOutcome(name=mp.name, action=Action.NOT_SENT, error=GONE_WHY))
            except IntegError as exc:
                first = first or (f"model {mp.name!r}", exc)
                done.append(ModelOutcome(name=mp.name, action=Action.FAILED, error=exc.message))
                if fail_fast:
                    stop.set()
            else:
                model = ModelOutcome(name=mp.name, action=Action.done(mp.action))
                if _carries_secrets(mp.body.get("configuration"), _model_secret_keys(p, mp.name)):
                    read = functools.partial(endpoints.get_model, client, p.name, mp.name)
                    model.update_time = update_time_after(saved_model, read)
                done.append(model)
    tags: Action | None = None
    if pl.tags is not None:
        if not pl.tags.differs:
            tags = Action.UNCHANGED
        elif lost is not None or gone.is_open:
            lost, tags = lost or f"tags: {GONE_WHY}", Action.NOT_SENT
        elif first is not None and fail_fast:
            tags = Action.SKIPPED
        else:
            try:
                if pl.tags.put:
                    endpoints.put_tags(client, p.name, pl.tags.put)
                if pl.tags.delete:
                    endpoints.delete_tags(client, p.name, pl.tags.delete)
                tags = Action.UPDATED
            except Interrupted as exc:
                cut = cut or f"tags: {exc.message}"
                tags = Action.INTERRUPTED
            except NotSent:
                lost, tags = lost or f"tags: {GONE_WHY}", Action.NOT_SENT
            except IntegError as exc:
                first = first or ("tags", exc)
                tags = Action.FAILED
                if fail_fast:
                    stop.set()
    action = Action.CREATED if pl.action == "create" else Action.UPDATED
    before = f"provider {action.value}; " if sent else ""
    verdict, error, code = action, None, 0
    if first is not None:
        what, failure = first
        verdict, error, code = Action.FAILED, f"{before}{what}: {failure.message}", int(failure.exit_code)
    elif cut is not None:
        verdict, error, code = Action.INTERRUPTED, before + cut, int(ExitCode.INTERRUPTED)
    elif lost is not None:
        # Part of it went out (the provider, a model, the tags): failed; else none of it did.
        partly = sent or any(m.action in WRITTEN for m in done) or tags == Action.UPDATED
        verdict = Action.FAILED if partly else Action.NOT_SENT
        error, code = before + lost, int(ExitCode.UNAVAILABLE)
    return Outcome(
        name=p.name,
        type=pl.type,
        action=verdict,
        error=error,
        exit_code=code,
        changes=pl.changes,
        models=done if model_specs(p) is not None else None,
        tags=tags,
        sent=sent,
        update_time=stamp,
    )


def _model_secret_keys(p: Payload, name: str) -> set[str]:
    return next((m.secret_keys for m in model_specs(p) or () if m.name == name), set())


def _not_sent(p: Payload, pl: plan.ProviderPlan) -> Outcome:
    return unsent(p, pl, Action.NOT_SENT, GONE_WHY, exit_code=int(ExitCode.UNAVAILABLE))


def apply(
    client: ProviderClient,
    payloads: Sequence[Payload],
    *,
    secret_matches: plan.SecretCheck,
    secret_fresh: SecretFresh | None = None,
    resend_secrets: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    on_done: Callable[[Outcome], None] | None = None,
    on_sent: Callable[[Payload, Any], None] | None = None,
    on_model_sent: Callable[[Payload, ModelSpec, Any], None] | None = None,
    selectors: live_mod.Selectors | None = None,
) -> Report:
    """Apply ``payloads`` (already validated). ``on_sent`` is called (in this thread) for
    each provider whose own fields the server accepted, with its ``updateTime`` after that
    write; ``on_model_sent`` for each model it accepted, likewise; ``on_done`` for every
    outcome as it is known. With ``selectors`` (``--prune``) the providers they select that
    no document declares are deleted after the writes, and unlisted models with them."""
    prune = bool(selectors)
    try:
        live = read_live(client, payloads, concurrency)
        gone_list = doomed(client, payloads, live, selectors, concurrency) if selectors else []
    except IntegError as exc:
        exc.hints.insert(0, "nothing was sent: apply reads what is on the server before it writes")
        raise
    except KeyboardInterrupt:
        raise Interrupted("interrupted while reading what is on the server: nothing was sent") from None
    plans = plan_all(payloads, live, secret_matches, secret_fresh, resend_secrets, prune)
    outcomes: list[Outcome | None] = [None] * len(payloads)
    stop, halt = threading.Event(), threading.Event()
    gone = _watch(client)
    transport = _kept_alive(client, concurrency)

    def finish(i: int, outcome: Outcome) -> None:
        outcomes[i] = outcome
        if on_done:
            on_done(outcome)

    def accepted(i: int, outcome: Outcome) -> None:
        if outcome.sent and on_sent:
            on_sent(payloads[i], outcome.update_time)
        if on_model_sent and outcome.models:
            specs = {m.name: m for m in model_specs(payloads[i]) or ()}
            for mo in outcome.models:
                if mo.action in (Action.CREATED, Action.UPDATED) and mo.name in specs:
                    on_model_sent(payloads[i], specs[mo.name], mo.update_time)

    pending: dict[Future[Outcome], int] = {}
    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="apply") as pool:
        try:
            for i, pl in enumerate(plans):
                p = payloads[i]
                if pl.action == "unchanged":
                    finish(i, unsent(p, pl, Action.UNCHANGED, None))
                elif (err := refusal(pl)) is not None:
                    finish(i, refused(p, pl, err, []))
                    if fail_fast:
                        stop.set()
                else:
                    pending[pool.submit(_send, client, p, pl, fail_fast, stop, halt, gone)] = i
            for fut in _finished(list(pending)):
                i = pending[fut]
                outcome = fut.result()
                if outcome.action == Action.FAILED and fail_fast:
                    stop.set()
                if outcomes[i] is None:
                    accepted(i, outcome)
                    finish(i, outcome)
                del pending[fut]  # only now: a Ctrl-C above must not lose this result
        except KeyboardInterrupt:
            interrupted = True
            _interrupt(client, halt, pending)
            # Requests already on the wire finish their current attempt (no retry starts);
            # their results are kept. A second Ctrl-C stops waiting for them.
            try:
                for fut, i in list(pending.items()):
                    if fut.cancelled() or outcomes[i] is not None:
                        continue
                    outcome = fut.result()
                    accepted(i, outcome)
                    finish(i, outcome)
            except KeyboardInterrupt:
                for fut, i in pending.items():
                    if outcomes[i] is None and not fut.cancelled():
                        finish(i, unsent(payloads[i], plans[i], Action.INTERRUPTED, UNCONFIRMED))
    final = [
        known if known is not None else unsent(payloads[i], plans[i], Action.INTERRUPTED, NOT_SENT)
        for i, known in enumerate(outcomes)
    ]
    if gone_list:
        pruned, stopped_by_user = _prune(client, gone_list, final, interrupted, gone)
        final.extend(pruned)
        interrupted = interrupted or stopped_by_user
    if hasattr(client, "breaker") and not gone.is_open:
        client.breaker = None  # a request after apply retries as usual; after a dead server none starts
    if transport is not None:
        setattr(client, "transport", None)  # noqa: B010 (a ProviderClient need not have one)
        transport.close()
    stopped = gone.reason(str(getattr(client, "base_url", "") or "?")) if gone.is_open else None
    return Report(final, interrupted, stopped)


#: How long the main thread leaves the workers alone between two batches of results.
BATCH_PAUSE = 0.01


def _finished(futures: Sequence[Future[Outcome]]) -> Iterator[Future[Outcome]]:
    """``futures`` as they finish, handed over in batches: each worker queues its future
    when done; this thread wakes for the first of a batch, takes every one queued, then
    pauses ``BATCH_PAUSE`` so that results gather while the workers run. Waking once per
    result instead would take the interpreter from the workers thousands of times for a
    few microseconds of work each. Each future is waited on once (calling ``wait()`` per
    result would walk every pending future each time: quadratic in the fleet's size)."""
    done: queue.SimpleQueue[Future[Outcome]] = queue.SimpleQueue()
    for fut in futures:
        fut.add_done_callback(done.put)
    left = len(futures)
    while left:
        batch = [done.get()]
        while True:
            try:
                batch.append(done.get_nowait())
            except queue.Empty:
                break
        left -= len(batch)
        yield from batch
        if left:
            time.sleep(BATCH_PAUSE)


def _prune(
    client: ProviderClient,
    names: Sequence[tuple[str, str | None]],
    written: Sequence[Outcome],
    interrupted: bool,
    gone: breaker_mod.Breaker,
) -> tuple[list[Outcome], bool]:
    """Delete the providers ``--prune`` selected, one after the other, after the writes
    (``written``); the second value: Ctrl-C came during the deletions."""
    out: list[Outcome] = []
    gone_held = (Action.NOT_SENT, GONE_WHY, int(ExitCode.UNAVAILABLE))
    user_held = (Action.INTERRUPTED, NOT_SENT, int(ExitCode.INTERRUPTED))
    held: tuple[Action, str, int] | None = None
    if interrupted:
        held = user_held
    elif any(o.action in (Action.FAILED, Action.NOT_SENT, Action.INTERRUPTED) for o in written):
        held = (Action.SKIPPED, "not deleted: a provider of the documents was not applied", 0)
    user_stop = False

    def result(name: str, type_: str | None, action: Action, error: str | None = None, code: int = 0) -> None:
        out.append(Outcome(name=name, type=type_, action=action, error=error, exit_code=code))

    for name, type_ in names:
        if held is None and gone.is_open:
            held = gone_held
        if held is not None:
            result(name, type_, *held)
            continue
        try:
            client.delete_provider(name)
        except NotFoundError:  # gone already: what --prune wanted
            pass
        except NotSent:
            held = gone_held
            result(name, type_, *held)
            continue
        except Interrupted:  # Ctrl-C before this was sent
            user_stop, held = True, user_held
            result(name, type_, *held)
            continue
        except KeyboardInterrupt:  # Ctrl-C while the request was out
            user_stop, held = True, user_held
            result(name, type_, Action.INTERRUPTED, UNCONFIRMED, int(ExitCode.INTERRUPTED))
            continue
        except IntegError as exc:
            result(name, type_, Action.FAILED, exc.message, int(exc.exit_code))
            continue
        result(name, type_, Action.DELETED)
    return out, user_stop


def _watch(client: Any) -> breaker_mod.Breaker:
    """A breaker counting the client's attempts from now on (a client without ``breaker``,
    as in tests, gets one that never opens)."""
    found = breaker_mod.Breaker()
    if hasattr(client, "breaker"):
        client.breaker = found
    return found


def _kept_alive(client: Any, workers: int) -> Transport | None:
    """The writes go over kept-alive connections, one per worker (``bulk``), where the
    client takes a transport (a client without one, as in tests, sends as it does)."""
    if not hasattr(client, "transport"):
        return None
    from conductor_integrations.client import bulk

    transport = bulk.Transport(workers)
    client.transport = transport
    return transport


def _interrupt(client: Any, halt: threading.Event, pending: dict[Future[Outcome], int]) -> None:
    """Ctrl-C: nothing new is sent, providers not started are cancelled, and the client
    starts no retry (``stop_retrying``, where the client has it)."""
    halt.set()
    stop_retrying = getattr(client, "stop_retrying", None)
    if callable(stop_retrying):
        stop_retrying()
    for fut in pending:
        fut.cancel()
