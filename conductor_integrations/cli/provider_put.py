"""The steps of ``integ provider put`` between the flags and the request: one provider
read from a file, the payload merged onto the live provider, checked, and the dry run.
Prints warnings and problems; raises before anything is sent."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Optional

from conductor_integrations import errors, output
from conductor_integrations.cli import provider_render as render
from conductor_integrations.cli.problem_render import report_prepared
from conductor_integrations.documents import payload, pipeline
from conductor_integrations.errors import InputError
from conductor_integrations.fleet import upsert


@dataclass
class PutOptions:
    """The flags of ``put`` that shape the body beyond the payload itself."""

    unset: list[str]
    replace: bool
    no_validate: bool
    strict: bool


def final_payload(
    built: payload.Payload,
    live: Optional[dict[str, Any]],
    resolver: Any,
    opts: PutOptions,
    types: Any,
    where: str,
) -> payload.Payload:
    """The payload to send: merged onto ``live`` (unless a create or --replace), then the
    rest of the pipeline (required secrets asked for, validated, category filled in).
    Raises before anything is sent: a type change (exit 6), a missing provider without a
    type (5), a mask with no stored secret behind it or a failed validation (3)."""
    import copy

    def rebase(final: payload.Payload) -> None:
        if not built.type:
            upsert.type_from_live(built.name, live, final.body, where)
        upsert.check_type(built.name, live, final.body)
        final.body = upsert.merged_body(
            built.name, live, final.body, kept=built.kept_secrets, unset=opts.unset, replace=opts.replace
        )
        final.secret_keys = set(built.secret_keys) | payload.secret_config_keys(final.configuration)
        warn_nothing_to_unset(built.name, live, opts)

    final = copy.copy(built)
    final.body = dict(built.body)
    final.problems = list(built.problems)
    finish(final, resolver, opts, types, rebase)
    final.body = payload.order_body(final.body)
    return final


def warn_nothing_to_unset(name: str, live: Optional[dict[str, Any]], opts: PutOptions) -> None:
    live_config = (live or {}).get("configuration")
    held = live_config if isinstance(live_config, dict) and not opts.replace else {}
    for key in opts.unset:
        if key not in held:
            output.warning(f"--unset {key}: provider {name!r} has no configuration key {key!r}")


def dry_run_offline(built: payload.Payload, resolver: Any, opts: PutOptions, url: str) -> None:
    """``--dry-run`` with no server: the request built from what was given, as for a
    create; the merge with the live provider cannot be shown."""
    body = built.body
    config_given = body.get("configuration")
    if isinstance(config_given, dict):
        for key in opts.unset:
            config_given.pop(key, None)
    # Without a type it would come from the live provider, which this dry run cannot read.
    finish(built, resolver, replace(opts, no_validate=opts.no_validate or not built.type))
    if not built.type:
        output.warning("no type given: `put` takes the live provider's type when it sends")
    output.info(
        "no server configured: this body is not merged with the live provider; on an existing "
        "provider `put` sends it merged onto the live one (give --server to see that)"
    )
    render.print_dry_run(
        built.name, body.get("type"), url, payload.order_body(body), built.secret_keys, merged=False
    )


def one_document(path: str) -> Any:
    from conductor_integrations.documents import reader

    docs = [p for d in reader.load(path) for p in d.providers()]
    if len(docs) != 1:
        raise InputError(
            f"{path}: holds {len(docs)} providers; `put` takes one",
            hints=[f"use `integ provider apply -f {path}` for several"],
        )
    return docs[0]


def built_or_fail(prepared: pipeline.Prepared) -> payload.Payload:
    """The built payload, its warnings printed; what building found wrong (references,
    shapes: no live provider needed) stops the command with exit 3."""
    [built] = prepared.payloads
    if built.errors:
        report_prepared(prepared)
        raise errors.ValidationFailed(prepared.problems)
    report_prepared(prepared.without_problems())  # the problems are reported with the rest
    return built


def finish(
    built: payload.Payload,
    resolver: Any,
    opts: PutOptions,
    types: Any = None,
    rebase: Optional[Callable[[payload.Payload], None]] = None,
) -> None:
    """The rest of the pipeline on ``built``: warnings and problems printed, errors stop
    the command with exit 3 before anything is sent."""
    prepared = pipeline.complete(
        built, resolver, pipeline.Options(types, opts.strict, not opts.no_validate, models=False), rebase
    )
    report_prepared(prepared)
    if prepared.errors:
        raise errors.ValidationFailed(prepared.problems)
