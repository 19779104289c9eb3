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
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from conductor_integrations.client import breaker as breaker_mod
from conductor_integrations.client import endpoints
from conductor_integrations.documents.model_docs import ModelSpec
from conductor_integrations.documents.payload import Payload
from conductor_integrations.errors import (
    ExitCode,
    InputError,
    IntegError,
    Interrupted,
    NotFoundError,
    NotSent,
    RejectedError,
)
from conductor_integrations.fleet import live as live_mod
from conductor_integrations.fleet import plan

if TYPE_CHECKING:
    from conductor_integrations.client.bulk import Transport

#: Requests in flight at once (``--concurrency``; its help text says the same number).
DEFAULT_CONCURRENCY = 8


class ProviderClient(live_mod.LiveClient, Protocol):
    def put_provider(self, name: str, body: dict[str, Any]) -> Any: ...

    def get_provider(self, name: str) -> dict[str, Any] | None: ...

    def delete_provider(self, name: str) -> None: ...


#: ``fresh(name, live_update_time) -> bool``: the fingerprints of ``name`` are not stale.
SecretFresh = Callable[[str, Any], bool]
RESENT = "sent again (--resend-secrets)"
STALE = "changed on the server since this machine applied it: will be sent"


@dataclass
class ModelOutcome:
    name: str
    action: str  # created, updated, unchanged, deleted, failed, skipped, interrupted, not sent
    error: str | None = None
    #: the model's ``updateTime`` after its write (only when secrets were sent)
    update_time: Any = None

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action, "error": self.error}


@dataclass
class Outcome:
    name: str
    type: str | None
    action: str  # created, updated, unchanged, failed, skipped, interrupted, not sent
    error: str | None = None
    exit_code: int = 0
    changes: list[plan.Change] = field(default_factory=list)
    #: the models of a document with ``models:`` (None: the document has none)
    models: list[ModelOutcome] | None = None
    #: what happened to the tags of a document with ``tags:`` (None: the document has none)
    tags: str | None = None
    #: the provider's own POST was accepted (its secrets are now the ones applied)
    sent: bool = False
    #: the provider's ``updateTime`` after that POST (only when secrets were sent)
    update_time: Any = None

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "action": self.action,
            "error": self.error,
        }
        if self.models is not None:
            out["models"] = [m.record() for m in self.models]
        if self.tags is not None:
            out["tags"] = self.tags
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
            if outcome.action == "failed":
                return outcome.exit_code
        return 0

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)


def model_specs(p: Payload) -> list[ModelSpec] | None:
    """The document's models as ``model_docs.check`` left them (None: not managed)."""
    if not isinstance(p.models, list):
        return None
    return [m for m in p.models if isinstance(m, ModelSpec)]


def tag_specs(p: Payload) -> dict[str, str] | None:
    """The document's tags as ``model_docs.check`` left them (None: not managed)."""
    if not isinstance(p.tags, dict):
        return None
    return {str(k): str(v) for k, v in p.tags.items()}


def read_live(client: live_mod.LiveClient, payloads: Sequence[Payload], concurrency: int) -> live_mod.Live:
    """The live state the plans need: models and tags only of documents that carry them."""
    return live_mod.read(
        client,
        [p.name for p in payloads if model_specs(p) is not None],
        [p.name for p in payloads if tag_specs(p) is not None],
        concurrency=concurrency,
    )


def doomed(
    client: live_mod.LiveClient,
    payloads: Sequence[Payload],
    live: live_mod.Live,
    selectors: live_mod.Selectors,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[tuple[str, str | None]]:
    """``(name, type)`` of the live providers ``--prune`` deletes: tags matching every
    selector, declared by no document (their tags are read with bounded concurrency)."""
    declared = {p.name for p in payloads}
    found = live_mod.selected(client, live, selectors, concurrency=concurrency)
    return [(n, _type_of(live.providers[n])) for n in found if n not in declared]


def _type_of(provider: dict[str, Any]) -> str | None:
    found = provider.get("type")
    return str(found) if found is not None else None


def _stale(name: str, found: dict[str, Any] | None, fresh: SecretFresh | None, resend: bool) -> str | None:
    """Why the fingerprints of ``name`` are not to be trusted (None: they are)."""
    if resend:
        return RESENT
    if found is None or fresh is None or fresh(name, found.get("updateTime")):
        return None
    return STALE


def plan_one(
    p: Payload,
    live: live_mod.Live,
    secret_matches: plan.SecretCheck,
    secret_fresh: SecretFresh | None = None,
    resend_secrets: bool = False,
    prune: bool = False,
) -> plan.ProviderPlan:
    current = live.providers.get(p.name)
    stale = _stale(p.name, current, secret_fresh, resend_secrets)
    pl = plan.compare(p.name, p.body, current, p.secret_keys, secret_matches, stale=stale)
    specs, tags = model_specs(p), tag_specs(p)
    if specs is None and tags is None:
        return pl
    live_models = live.models.get(p.name, {}) if current is not None else {}
    model_plans = []
    for m in specs or ():
        found = live_models.get(m.name)
        why = _stale(plan.model_key(p.name, m.name), found, secret_fresh, resend_secrets)
        model_plans.append(
            plan.compare_model(p.name, m.name, m.given, found, m.secret_keys, secret_matches, stale=why)
        )
    if prune and specs is not None:
        listed = {m.name for m in specs}
        model_plans.extend(plan.ModelPlan(n, "delete") for n in live_models if n not in listed)
    tag_plan = None
    if tags is not None:
        tag_plan = plan.compare_tags(tags, live.tags.get(p.name, []) if current is not None else [])
    return plan.with_children(pl, model_plans, tag_plan)


def plan_all(
    payloads: Sequence[Payload],
    live: live_mod.Live,
    secret_matches: plan.SecretCheck,
    secret_fresh: SecretFresh | None = None,
    resend_secrets: bool = False,
    prune: bool = False,
) -> list[plan.ProviderPlan]:
    return [plan_one(p, live, secret_matches, secret_fresh, resend_secrets, prune) for p in payloads]


def refusal(pl: plan.ProviderPlan) -> IntegError | None:
    """Why ``pl`` is refused without being sent: a type change (exit 6) or a mask with no
    server value to keep (exit 3); None when it can be sent."""
    if pl.action == "type-change":
        return RejectedError(f"type cannot be changed from {pl.live_type} to {pl.type}; not sent", 400)
    if pl.action == "invalid":
        return InputError(pl.error or "cannot be applied; not sent")
    return None


def _carries_secrets(config: Any, secret_keys: set[str]) -> bool:
    """Whether a body's configuration sends a secret value (a mask is not one)."""
    if not isinstance(config, dict):
        return False
    return any(k in secret_keys and v and not plan.is_masked(v) for k, v in config.items())


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


def _untouched(p: Payload, pl: plan.ProviderPlan, action: str, why: str | None) -> dict[str, Any]:
    """The ``models``/``tags`` of an outcome whose children were not sent: those that differ
    get ``action`` (skipped, interrupted) and ``why``; the others are unchanged."""
    out: dict[str, Any] = {"models": None, "tags": None}
    if model_specs(p) is not None:
        out["models"] = [
            ModelOutcome(mp.name, action, why) if mp.differs else ModelOutcome(mp.name, "unchanged")
            for mp in pl.models
        ]
    if pl.tags is not None:
        out["tags"] = action if pl.tags.differs else "unchanged"
    return out


NOT_SENT = "not sent: interrupted"
#: the action of a provider (or model) that was never sent because the server stopped answering
GONE = "not sent"
GONE_WHY = "not sent: the server stopped answering"
UNCONFIRMED = "sent, but Ctrl-C came before the reply: the server may or may not have applied it"


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
        return Outcome(p.name, pl.type, "interrupted", NOT_SENT, **_untouched(p, pl, "interrupted", NOT_SENT))
    if gone.is_open:
        return _not_sent(p, pl)
    if stop.is_set():
        why = "not sent: an earlier provider failed (--fail-fast)"
        return Outcome(p.name, pl.type, "skipped", why, **_untouched(p, pl, "skipped", why))
    sent, stamp = False, None
    if pl.own_action in ("create", "update"):
        body = pl.body if pl.body is not None else p.body
        try:
            saved = client.put_provider(p.name, body)
        except Interrupted as exc:  # Ctrl-C before this was sent, or before a retry
            children = _untouched(p, pl, "interrupted", NOT_SENT)
            return Outcome(p.name, pl.type, "interrupted", exc.message, int(exc.exit_code), **children)
        except NotSent:  # the breaker opened before this was sent
            return _not_sent(p, pl)
        except IntegError as exc:
            if fail_fast:
                stop.set()  # before this worker can take the next provider
            children = _untouched(p, pl, "skipped", "not sent: the provider failed")
            return Outcome(p.name, pl.type, "failed", exc.message, int(exc.exit_code), pl.changes, **children)
        sent = True
        if _carries_secrets(body.get("configuration"), p.secret_keys):
            stamp = update_time_after(saved, lambda: client.get_provider(p.name))
    first: tuple[str, IntegError] | None = None
    cut: str | None = None  # what Ctrl-C kept from being sent
    lost: str | None = None  # what the breaker kept from being sent
    done: list[ModelOutcome] = []
    for mp in pl.models:
        if not mp.differs:
            done.append(ModelOutcome(mp.name, "unchanged"))
        elif lost is not None or gone.is_open:
            lost = lost or f"model {mp.name!r}: {GONE_WHY}"
            done.append(ModelOutcome(mp.name, GONE, GONE_WHY))
        elif first is not None and fail_fast:
            done.append(ModelOutcome(mp.name, "skipped", "not sent: an earlier failure (--fail-fast)"))
        elif mp.action == "delete":
            try:
                endpoints.delete_model(client, p.name, mp.name)
            except NotFoundError:  # gone already: what --prune wanted
                pass
            except Interrupted as exc:
                cut = cut or f"model {mp.name!r}: {exc.message}"
                done.append(ModelOutcome(mp.name, "interrupted", exc.message))
                continue
            except NotSent:
                lost = lost or f"model {mp.name!r}: {GONE_WHY}"
                done.append(ModelOutcome(mp.name, GONE, GONE_WHY))
                continue
            except IntegError as exc:
                first = first or (f"model {mp.name!r}", exc)
                done.append(ModelOutcome(mp.name, "failed", exc.message))
                if fail_fast:
                    stop.set()
                continue
            done.append(ModelOutcome(mp.name, "deleted"))
        else:
            try:
                saved_model = endpoints.put_model(client, p.name, mp.name, mp.body)
            except Interrupted as exc:
                cut = cut or f"model {mp.name!r}: {exc.message}"
                done.append(ModelOutcome(mp.name, "interrupted", exc.message))
            except NotSent:
                lost = lost or f"model {mp.name!r}: {GONE_WHY}"
                done.append(ModelOutcome(mp.name, GONE, GONE_WHY))
            except IntegError as exc:
                first = first or (f"model {mp.name!r}", exc)
                done.append(ModelOutcome(mp.name, "failed", exc.message))
                if fail_fast:
                    stop.set()
            else:
                done.append(ModelOutcome(mp.name, "created" if mp.action == "create" else "updated"))
                if _carries_secrets(mp.body.get("configuration"), _model_secret_keys(p, mp.name)):
                    read = functools.partial(endpoints.get_model, client, p.name, mp.name)
                    done[-1].update_time = update_time_after(saved_model, read)
    tags: str | None = None
    if pl.tags is not None:
        if not pl.tags.differs:
            tags = "unchanged"
        elif lost is not None or gone.is_open:
            lost, tags = lost or f"tags: {GONE_WHY}", GONE
        elif first is not None and fail_fast:
            tags = "skipped"
        else:
            try:
                if pl.tags.put:
                    endpoints.put_tags(client, p.name, pl.tags.put)
                if pl.tags.delete:
                    endpoints.delete_tags(client, p.name, pl.tags.delete)
                tags = "updated"
            except Interrupted as exc:
                cut = cut or f"tags: {exc.message}"
                tags = "interrupted"
            except NotSent:
                lost, tags = lost or f"tags: {GONE_WHY}", GONE
            except IntegError as exc:
                first = first or ("tags", exc)
                tags = "failed"
                if fail_fast:
                    stop.set()
    listed = done if model_specs(p) is not None else None
    action = "created" if pl.action == "create" else "updated"
    if first is not None:
        what, failure = first
        before = f"provider {action}; " if sent else ""
        error = f"{before}{what}: {failure.message}"
        code = int(failure.exit_code)
        return Outcome(p.name, pl.type, "failed", error, code, pl.changes, listed, tags, sent, stamp)
    if cut is not None:
        before = f"provider {action}; " if sent else ""
        code = int(ExitCode.INTERRUPTED)
        return Outcome(
            p.name, pl.type, "interrupted", before + cut, code, pl.changes, listed, tags, sent, stamp
        )
    if lost is not None:
        # Part of it went out (the provider, a model, the tags): failed; else none of it did.
        partly = sent or any(m.action in ("created", "updated", "deleted") for m in done) or tags == "updated"
        before = f"provider {action}; " if sent else ""
        code = int(ExitCode.UNAVAILABLE)
        verdict = "failed" if partly else GONE
        return Outcome(p.name, pl.type, verdict, before + lost, code, pl.changes, listed, tags, sent, stamp)
    return Outcome(p.name, pl.type, action, None, 0, pl.changes, listed, tags, sent, stamp)


def _model_secret_keys(p: Payload, name: str) -> set[str]:
    return next((m.secret_keys for m in model_specs(p) or () if m.name == name), set())


def _not_sent(p: Payload, pl: plan.ProviderPlan) -> Outcome:
    children = _untouched(p, pl, GONE, GONE_WHY)
    return Outcome(p.name, pl.type, GONE, GONE_WHY, int(ExitCode.UNAVAILABLE), **children)


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
                if mo.action in ("created", "updated") and mo.name in specs:
                    on_model_sent(payloads[i], specs[mo.name], mo.update_time)

    pending: dict[Future[Outcome], int] = {}
    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="apply") as pool:
        try:
            for i, pl in enumerate(plans):
                p = payloads[i]
                if pl.action == "unchanged":
                    finish(i, Outcome(p.name, pl.type, "unchanged", **_untouched(p, pl, "unchanged", None)))
                elif (err := refusal(pl)) is not None:
                    children = _untouched(p, pl, "skipped", "not sent: the provider failed")
                    finish(i, Outcome(p.name, pl.type, "failed", err.message, int(err.exit_code), **children))
                    if fail_fast:
                        stop.set()
                else:
                    pending[pool.submit(_send, client, p, pl, fail_fast, stop, halt, gone)] = i
            # as_completed waits on every future once; calling wait() again for each result
            # would walk all pending futures each time (quadratic in the fleet's size).
            for fut in as_completed(list(pending)):
                i = pending[fut]
                outcome = fut.result()
                if outcome.action == "failed" and fail_fast:
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
                        p, why = payloads[i], UNCONFIRMED
                        children = _untouched(p, plans[i], "interrupted", why)
                        finish(i, Outcome(p.name, plans[i].type, "interrupted", why, **children))
    final: list[Outcome] = []
    for i, known in enumerate(outcomes):
        if known is None:
            p, why = payloads[i], NOT_SENT
            known = Outcome(
                p.name, plans[i].type, "interrupted", why, **_untouched(p, plans[i], "interrupted", why)
            )
        final.append(known)
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
    held = None
    if interrupted:
        held = ("interrupted", NOT_SENT, int(ExitCode.INTERRUPTED))
    elif any(o.action in ("failed", GONE, "interrupted") for o in written):
        held = ("skipped", "not deleted: a provider of the documents was not applied", 0)
    user_stop = False
    for name, type_ in names:
        if held is None and gone.is_open:
            held = (GONE, GONE_WHY, int(ExitCode.UNAVAILABLE))
        if held is not None:
            out.append(Outcome(name, type_, held[0], held[1], held[2]))
            continue
        try:
            client.delete_provider(name)
        except NotFoundError:  # gone already: what --prune wanted
            pass
        except NotSent:
            held = (GONE, GONE_WHY, int(ExitCode.UNAVAILABLE))
            out.append(Outcome(name, type_, *held))
            continue
        except Interrupted:  # Ctrl-C before this was sent
            user_stop = True
            held = ("interrupted", NOT_SENT, int(ExitCode.INTERRUPTED))
            out.append(Outcome(name, type_, *held))
            continue
        except KeyboardInterrupt:  # Ctrl-C while the request was out
            user_stop = True
            held = ("interrupted", NOT_SENT, int(ExitCode.INTERRUPTED))
            out.append(Outcome(name, type_, "interrupted", UNCONFIRMED, int(ExitCode.INTERRUPTED)))
            continue
        except IntegError as exc:
            out.append(Outcome(name, type_, "failed", exc.message, int(exc.exit_code)))
            continue
        out.append(Outcome(name, type_, "deleted"))
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


_PAST = {"create": "created", "update": "updated", "unchanged": "unchanged", "delete": "deleted"}


def dry_run(
    payloads: Sequence[Payload],
    plans: Sequence[plan.ProviderPlan],
    pruned: Sequence[tuple[str, str | None]] = (),
) -> Report:
    """What ``apply`` would report for ``plans``, with nothing sent: each provider
    ``created``, ``updated``, ``unchanged`` or ``failed`` (refused: a type change, exit 6; a
    mask with nothing to keep, exit 3), with its changes; the report's exit code is the one
    apply would have had for those failures (a failure only the server can cause cannot be
    foreseen)."""
    outcomes: list[Outcome] = []
    for p, pl in zip(payloads, plans, strict=True):
        err = refusal(pl)
        if err is not None:
            children = _untouched(p, pl, "skipped", "not sent: the provider failed")
            outcomes.append(
                Outcome(p.name, pl.type, "failed", err.message, int(err.exit_code), pl.changes, **children)
            )
            continue
        listed = None
        if model_specs(p) is not None:
            listed = [ModelOutcome(mp.name, _PAST[mp.action]) for mp in pl.models]
        tags = None
        if pl.tags is not None:
            tags = "updated" if pl.tags.differs else "unchanged"
        outcomes.append(Outcome(p.name, pl.type, _PAST[pl.action], None, 0, pl.changes, listed, tags))
    outcomes.extend(Outcome(name, type_, "deleted") for name, type_ in pruned)
    return Report(outcomes)
