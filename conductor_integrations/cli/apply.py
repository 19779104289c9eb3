"""``integ provider apply|diff|export``: the declarative workflow for fleets of providers."""

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from conductor_integrations import output, redact
from conductor_integrations.cli import complete
from conductor_integrations.cli.common import server_options, settings
from conductor_integrations.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from conductor_integrations import applier, plan
    from conductor_integrations.payload import Payload


def register(provider_app: typer.Typer) -> None:
    provider_app.command("apply")(apply_command)
    provider_app.command("diff")(diff_command)
    provider_app.command("export")(export_command)


PathsOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--filename",
        "-f",
        help="YAML/JSON file, folder (read recursively) or - for stdin; repeatable.",
        metavar="PATH",
    ),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Treat warnings (unknown keys ...) as errors.")]
NoValidateOption = Annotated[
    bool, typer.Option("--no-validate", help="Skip the type table (for types newer than it).")
]


def load_payloads(paths: Optional[list[str]], strict: bool, no_validate: bool) -> "list[Payload]":
    """Read, resolve and validate every document before anything is sent; any error is
    exit 3 with every problem reported."""
    from conductor_integrations import documents, validate
    from conductor_integrations.cli.validate import report_problems
    from conductor_integrations.errors import ValidationFailed
    from conductor_integrations.resolve import LocalResolver

    if not paths:
        raise UsageError("give at least one -f PATH", hints=["for example: -f providers/ or -f - for stdin"])
    docs = documents.load_all(paths)
    payloads, problems = validate.prepare(docs, LocalResolver(), strict=strict, skip_table=no_validate)
    for p in payloads:
        redact.register(*p.secret_values)
    report_problems(problems)
    if any(p.severity == "error" for p in problems):
        raise ValidationFailed(problems)
    if not payloads:
        raise UsageError("no provider documents found in " + ", ".join(paths))
    return payloads


def _dry_run(payloads: "list[Payload]", server: Optional[str]) -> None:
    from urllib.parse import quote

    base = (server or "{server}").rstrip("/")
    if base.endswith("/api"):
        base = base[:-4]
    requests_ = [
        {
            "method": "POST",
            "url": f"{base}/api/integrations/provider/{quote(p.name, safe='')}",
            "body": redact.mask_provider(p.body, p.secret_keys),
        }
        for p in payloads
    ]
    if output.settings.format == "table":
        for r in requests_:
            output.text(f"{r['method']} {r['url']}")
            output.text(output.to_json(r["body"]))
    else:
        output.data(requests_)
    output.info(f"dry run: {len(payloads)} request(s) not sent")


@server_options
def apply_command(
    paths: PathsOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the requests (secrets masked) and send nothing.")
    ] = False,
    concurrency: Annotated[
        Optional[int],
        typer.Option("--concurrency", min=1, max=64, help="Requests in flight at once (default 8)."),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Send nothing more after the first failure.")
    ] = False,
    strict: StrictOption = False,
    no_validate: NoValidateOption = False,
) -> None:
    """Create or update every provider described in PATH(s), like `kubectl apply`.

    Every document is read, resolved and validated before the first request (one invalid
    document: exit 3, nothing sent). One list call learns what exists; then only what
    differs is sent, over one connection pool with bounded concurrency. Each provider is
    reported as created, updated, unchanged or failed; a type change is refused for that
    provider. Secrets cannot be compared with the server (it masks them): a secret counts
    as unchanged only if this machine applied the same value to the same server before.
    """
    from conductor_integrations import api, applier, config, state

    cfg = settings()
    payloads = load_payloads(paths, strict, no_validate)
    if dry_run:
        _dry_run(payloads, None if cfg.server == config.LOCAL else cfg.server)
        return
    config.require_server(cfg)
    with api.connect(cfg) as client:
        prints = state.for_server(server_key(cfg))
        with output.progress(len(payloads), "applying") as advance:
            try:
                report = applier.apply(
                    client,
                    payloads,
                    secret_matches=prints.matches,
                    concurrency=concurrency or applier.DEFAULT_CONCURRENCY,
                    fail_fast=fail_fast,
                    on_done=lambda _: advance(),
                    on_sent=lambda p: prints.record(p.name, p.configuration, p.secret_keys),
                )
            finally:
                prints.save()
    complete.remember_providers(p.name for p in payloads)
    _report(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def server_key(cfg: Any) -> str:
    """What secret fingerprints are kept under: the server root (``local`` for the sandbox,
    whose port changes from one command to the next)."""
    from conductor_integrations import config

    server = config.require_server(cfg)
    return config.LOCAL if server == config.LOCAL else config.normalize_server(server)


def _report(report: "applier.Report") -> None:
    records = [o.record() for o in report.outcomes]
    if output.settings.format == "table":
        output.table(
            [{**r, "error": r["error"] or ""} for r in records],
            [("name", "NAME"), ("type", "TYPE"), ("action", "ACTION"), ("error", "ERROR")],
        )
    else:
        output.data(records)
    for o in report.outcomes:
        if o.action == "failed":
            output.error(f"{o.name}: {o.error}")
    counts = [
        f"{report.count(a)} {a}"
        for a in ("created", "updated", "unchanged", "failed", "skipped", "interrupted")
        if report.count(a) or a in ("created", "updated", "unchanged", "failed")
    ]
    output.info(", ".join(counts))
    if report.interrupted:
        output.error("interrupted: the providers marked interrupted were not sent; run apply again to finish")


@server_options
def diff_command(
    paths: PathsOption = None,
    strict: StrictOption = False,
    no_validate: NoValidateOption = False,
) -> None:
    """Show, field by field, what `provider apply` would change on the server.

    Secret values are never shown or compared with the server: they appear as (secret).
    Exit 0: no differences; 1: differences; 2 and up: errors.
    """
    from conductor_integrations import api, applier, config, state

    cfg = settings()
    payloads = load_payloads(paths, strict, no_validate)
    config.require_server(cfg)
    with api.connect(cfg) as client:
        live = {str(p.get("name")): p for p in client.list_providers(active_only=False)}
        prints = state.for_server(server_key(cfg))
    plans = applier.plan_all(payloads, live, prints.matches)
    if output.settings.format == "table":
        _print_plans(plans)
    else:
        output.data(
            [
                {
                    "name": pl.name,
                    "type": pl.type,
                    "action": pl.action,
                    "changes": [c.record() for c in pl.changes],
                }
                for pl in plans
            ]
        )
    differing = [pl for pl in plans if pl.differs]
    output.info(
        f"{len(differing)} of {len(plans)} provider{'s' if len(plans) != 1 else ''} differ"
        if differing
        else f"no differences ({len(plans)} provider{'s' if len(plans) != 1 else ''})"
    )
    if differing:
        raise typer.Exit(int(ExitCode.DIFFERENCES))


_MARK = {"create": "+", "update": "~", "type-change": "!", "unchanged": "="}
_WORD = {
    "create": "will be created",
    "update": "will be updated",
    "type-change": "type change: refused by apply (delete and create it instead)",
    "unchanged": "unchanged",
}


def _print_plans(plans: "list[plan.ProviderPlan]") -> None:
    for pl in plans:
        if not pl.differs:
            continue
        output.text(f"{_MARK[pl.action]} {pl.name} ({pl.type}): {_WORD[pl.action]}")
        for change in pl.changes:
            output.text(f"    {change.render()}")


@server_options
def export_command(
    names: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="[NAME]...",
            help="Providers to export (default: all).",
            autocompletion=complete.complete_provider_name,
        ),
    ] = None,
    secrets: Annotated[
        str,
        typer.Option(
            "--secrets",
            help="How secret keys are written: keyring (${keyring}) or env (${env:NAME_KEY}).",
            metavar="keyring|env",
        ),
    ] = "keyring",
    category: Annotated[
        Optional[str],
        typer.Option(
            "--category",
            help="Only providers of this category.",
            autocompletion=complete.complete_category,
        ),
    ] = None,
) -> None:
    """Write live providers as YAML documents that `provider apply` accepts.

    Secret values are never written: each secret key becomes ${keyring} (supply it with
    `integ secret set NAME KEY`) or, with --secrets env, ${env:NAME_KEY}.
    """
    from conductor_integrations import api, config, export

    if secrets not in export.SECRET_MODES:
        raise UsageError(f"--secrets must be keyring or env, not {secrets!r}")
    cfg = settings()
    config.require_server(cfg)
    with api.connect(cfg) as client:
        if names:
            live = []
            for name in names:
                found = client.get_provider(name)
                if found is None:
                    from conductor_integrations.errors import NotFoundError

                    raise NotFoundError(f"no provider {name!r} on the server", 404)
                live.append(found)
        else:
            live = client.list_providers(category=category.upper() if category else None, active_only=False)
    docs: list[dict[str, Any]] = [export.document(p, secrets) for p in live]
    if output.settings.format == "json":
        output.data(docs, "json")
    else:
        output.text("".join(output.to_yaml(d, explicit_start=True) for d in docs) or "# no providers\n")
    output.info(f"{len(docs)} provider{'s' if len(docs) != 1 else ''} exported")
