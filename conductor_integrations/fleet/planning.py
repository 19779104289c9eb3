"""The plans of an ``apply`` or ``diff`` run: the live state they need (one list call,
then models and tags only of the documents that carry them), each document's plan
against it (``plan`` compares one provider), what ``--prune`` would delete, and which
plans apply refuses without sending them.

Secrets: a provider (or model) written since this machine applied it (its live
``updateTime`` is not the one recorded) has stale fingerprints, so its secrets are planned
as changed; ``resend_secrets`` plans every secret as changed.

Also the outcomes that follow from a plan alone: a provider none of which is sent
(``unsent``, ``refused``), and what ``apply --dry-run`` reports (``dry_run``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from conductor_integrations.documents.model_docs import ModelSpec
from conductor_integrations.documents.payload import Payload
from conductor_integrations.errors import InputError, IntegError, RejectedError
from conductor_integrations.fleet import live as live_mod
from conductor_integrations.fleet import plan
from conductor_integrations.fleet.outcomes import PARENT_FAILED, Action, ModelOutcome, Outcome, Report

#: Requests in flight at once (``--concurrency``; its help text says the same number).
DEFAULT_CONCURRENCY = 8

#: ``fresh(name, live_update_time) -> bool``: the fingerprints of ``name`` are not stale.
SecretFresh = Callable[[str, Any], bool]
RESENT = "sent again (--resend-secrets)"
STALE = "changed on the server since this machine applied it: will be sent"


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


def unsent(
    p: Payload,
    pl: plan.ProviderPlan,
    action: Action,
    why: str | None,
    *,
    error: str | None = None,
    exit_code: int = 0,
) -> Outcome:
    """The outcome of a provider none of which was sent: it ends as ``action`` with
    ``error`` (default: ``why``); of its models and tags, those that differ end as
    ``action`` too, with ``why``, and the others are unchanged."""
    return _unsent(p, pl, action, why if error is None else error, exit_code, [], action, why)


def refused(p: Payload, pl: plan.ProviderPlan, exc: IntegError, changes: list[plan.Change]) -> Outcome:
    """The outcome of a provider that failed (``exc``) before any of it was sent: its
    models and tags that differ are ``skipped``."""
    code = int(exc.exit_code)
    return _unsent(p, pl, Action.FAILED, exc.message, code, changes, Action.SKIPPED, PARENT_FAILED)


def _unsent(
    p: Payload,
    pl: plan.ProviderPlan,
    action: Action,
    error: str | None,
    exit_code: int,
    changes: list[plan.Change],
    children: Action,
    why: str | None,
) -> Outcome:
    models = None
    if model_specs(p) is not None:
        models = [
            ModelOutcome(name=mp.name, action=children, error=why)
            if mp.differs
            else ModelOutcome(name=mp.name, action=Action.UNCHANGED)
            for mp in pl.models
        ]
    tags = None
    if pl.tags is not None:
        tags = children if pl.tags.differs else Action.UNCHANGED
    return Outcome(
        name=p.name,
        type=pl.type,
        action=action,
        error=error,
        exit_code=exit_code,
        changes=changes,
        models=models,
        tags=tags,
    )


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
            outcomes.append(refused(p, pl, err, pl.changes))
            continue
        models = None
        if model_specs(p) is not None:
            models = [ModelOutcome(name=mp.name, action=Action.done(mp.action)) for mp in pl.models]
        tags = None
        if pl.tags is not None:
            tags = Action.UPDATED if pl.tags.differs else Action.UNCHANGED
        outcomes.append(
            Outcome(
                name=p.name,
                type=pl.type,
                action=Action.done(pl.action),
                changes=pl.changes,
                models=models,
                tags=tags,
            )
        )
    outcomes.extend(Outcome(name=name, type=type_, action=Action.DELETED) for name, type_ in pruned)
    return Report(outcomes)
