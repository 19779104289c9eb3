"""``integ provider apply|diff|export``: the declarative workflow for fleets of providers."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from conductor_integrations import output
from conductor_integrations.cli import apply_render, complete_values
from conductor_integrations.cli.arguments import (
    PathsArgument,
    PathsOption,
    StrictOption,
    category_option,
    provider_argument,
)
from conductor_integrations.cli.common import (
    SELECTORS,
    AllowOutsideFiles,
    ServerCommand,
    local_resolver,
    parse_selectors,
    require_paths,
    settings,
)
from conductor_integrations.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from conductor_integrations import config
    from conductor_integrations.documents.payload import Payload
    from conductor_integrations.documents.reader import Document
    from conductor_integrations.documents.references import LocalResolver
    from conductor_integrations.documents.validate import TypeSource


def register(provider_app: typer.Typer) -> None:
    provider_app.command("apply", cls=ServerCommand)(apply_command)
    provider_app.command("diff", cls=ServerCommand)(diff_command)
    provider_app.command("export", cls=ServerCommand)(export_command)


#: ``--filename``: the former name of ``--file`` on apply and diff, kept for old scripts.
OldPathsOption = Annotated[Optional[list[str]], typer.Option("--filename", hidden=True, metavar="PATH")]


def all_paths(*given: Optional[list[str]]) -> list[str]:
    """The PATH arguments and the -f/--file (and --filename) options, in that order."""
    return [p for paths in given for p in paths or ()]


NoValidateOption = Annotated[
    bool, typer.Option("--no-validate", help="Skip the type table (for types newer than it).")
]
PruneOption = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Also delete the providers -l selects that no document declares, and the "
        "models a document's models: does not list (needs -l).",
    ),
]
ServerTypesOption = Annotated[
    bool,
    typer.Option(
        "--server-types",
        help="Validate against the server's own type definitions (fetched once) instead of "
        "the table built into integ.",
    ),
]


def read_documents(paths: Optional[list[str]]) -> "list[Document]":
    from conductor_integrations.documents import reader

    require_paths(paths or [])
    return reader.load_all(paths or [], output.info)


def check_documents(
    docs: "list[Document]",
    paths: list[str],
    strict: bool,
    no_validate: bool,
    types: "Optional[TypeSource]" = None,
    *,
    resolver: "LocalResolver",
) -> "list[Payload]":
    """Resolve and validate every document before anything is sent; any error is exit 3
    with every problem reported."""
    from conductor_integrations.cli.problem_render import report_prepared
    from conductor_integrations.documents import pipeline
    from conductor_integrations.errors import ValidationFailed

    prepared = pipeline.from_documents(
        docs, resolver, pipeline.Options(types, strict, check_table=not no_validate)
    )
    report_prepared(prepared)
    if prepared.errors:
        raise ValidationFailed(prepared.problems)
    if not prepared.payloads:
        raise UsageError("no provider documents found in " + ", ".join(paths))
    return prepared.payloads


def prune_selectors(prune: bool, given: Optional[list[str]]) -> "dict[str, str]":
    """``--prune -l KEY=VALUE...``: the selectors (empty without --prune); --prune without
    -l, or -l without --prune, is a usage error."""
    selectors = parse_selectors(given)
    if prune and not selectors:
        raise UsageError(
            "--prune needs -l KEY=VALUE: the selectors say which live providers the documents own",
            hints=[
                "for example: --prune -l team=payments (every document then carries tags: {team: payments})"
            ],
        )
    if selectors and not prune:
        raise UsageError("-l selects the providers --prune may delete; give --prune with it")
    return selectors


def require_selector_tags(payloads: "list[Payload]", selectors: "dict[str, str]") -> None:
    """Under --prune every document carries the selectors among its tags (else a provider
    it declares would be one --prune cannot see): exit 3 naming each, nothing sent."""
    from conductor_integrations.errors import InputError, shown_name
    from conductor_integrations.fleet import planning

    wanted = ", ".join(f"{k}={v}" for k, v in selectors.items())
    missing = [
        p for p in payloads if any((planning.tag_specs(p) or {}).get(k) != v for k, v in selectors.items())
    ]
    for p in missing:
        where = p.document.label if p.document else ""
        output.error(f"{where} {shown_name(p.name)}: tags: does not carry {wanted} (--prune -l {wanted})")
    if missing:
        raise InputError(
            f"{output.counted(len(missing), 'document')} without the selector tags {wanted}: nothing sent",
            hints=["add them under tags: in each document, or leave out --prune"],
        )


def _no_both(server_types: bool, no_validate: bool) -> None:
    if server_types and no_validate:
        raise UsageError("--server-types and --no-validate cannot be used together")


def server_table(client: Any) -> "TypeSource":
    """The server's type definitions, fetched once."""
    from conductor_integrations.cli import connection

    found = connection.server_types(client)
    if not found.types:
        output.warning("the server sent no type definitions: every type will be unknown")
    return found


@dataclass(frozen=True)
class Fleet:
    """What apply and diff start from: the run's settings, the documents read from
    ``paths`` (not yet resolved), the ``--prune`` selectors, and how to check them."""

    cfg: "config.Settings"
    paths: list[str]
    docs: "list[Document]"
    selectors: dict[str, str]
    resolver: "LocalResolver"
    strict: bool
    no_validate: bool
    server_types: bool

    def check(self, types: "Optional[TypeSource]" = None) -> "list[Payload]":
        """Resolve and validate every document (exit 3 on any error, nothing sent); under
        --prune each must carry the selector tags."""
        payloads = check_documents(
            self.docs, self.paths, self.strict, self.no_validate, types, resolver=self.resolver
        )
        require_selector_tags(payloads, self.selectors)
        return payloads


def open_fleet(
    ctx: typer.Context,
    paths: PathsArgument = None,
    files: PathsOption = None,
    filename: OldPathsOption = None,
    prune: PruneOption = False,
    selector: SELECTORS = None,
    strict: StrictOption = False,
    no_validate: NoValidateOption = False,
    server_types: ServerTypesOption = False,
    allow_outside_files: AllowOutsideFiles = False,
) -> Fleet:
    """The parameters apply and diff share, and what they make of them: flags checked,
    every document read."""
    _no_both(server_types, no_validate)
    given = all_paths(paths, files, filename)
    selectors = prune_selectors(prune, selector)
    cfg = settings(ctx)
    resolver = local_resolver(allow_outside_files)
    docs = read_documents(given)
    return Fleet(cfg, given, docs, selectors, resolver, strict, no_validate, server_types)


#: How many of ``open_fleet``'s parameters come before a command's own (ctx and the PATHs).
_LEADING = 4


def fleet_command(run: Callable[..., None]) -> Callable[..., None]:
    """``run(fleet, **own)`` as a command whose parameters are ``open_fleet``'s with its
    own between the PATHs and the shared options (the order --help shows them in)."""
    shared = list(inspect.signature(open_fleet).parameters.values())
    own = list(inspect.signature(run).parameters.values())[1:]

    def command(**given: Any) -> None:
        run(open_fleet(**{p.name: given.pop(p.name) for p in shared}), **given)

    params = [*shared[:_LEADING], *own, *shared[_LEADING:]]
    command.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    command.__name__, command.__qualname__, command.__doc__ = run.__name__, run.__qualname__, run.__doc__
    return command


@fleet_command
def apply_command(
    fleet: Fleet,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Read the server and report what would be created, updated, unchanged or "
            "failed, sending nothing (no server: print the requests).",
        ),
    ] = False,
    concurrency: Annotated[
        Optional[int],
        typer.Option(
            "--concurrency", min=1, max=64, metavar="N", help="Requests in flight at once (default 8)."
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Send nothing more after the first failure.")
    ] = False,
    resend_secrets: Annotated[
        bool,
        typer.Option(
            "--resend-secrets",
            help="Send every secret, even those this machine applied unchanged.",
        ),
    ] = False,
) -> None:
    """Create or update every provider described in PATH(s), like `kubectl apply`.

    Every document is read, resolved and validated before the first request (one invalid
    document: exit 3, nothing sent). One list call learns what exists; then only what
    differs is sent, over one connection pool with bounded concurrency. Each provider is
    reported as created, updated, unchanged or failed; a type change is refused for that
    provider. Secrets cannot be compared with the server (it masks them): a secret counts
    as unchanged only if this machine applied the same value to the same server before and
    nobody has written that provider since (its updateTime is the one recorded).

    A mask (********, xxxxxxxxxx) as a secret's value keeps the server's value, so the
    output of `integ provider get NAME -o yaml` can be applied as it is; for a provider not
    on the server it is refused (exit 3). With a server, --dry-run reads it (GET only) and
    reports the plan with apply's exit code for refusals.

    A document's `models:` are created or updated after their provider (models it does not
    list are left alone, unless --prune); its `tags:` are all of the provider's tags (tags it
    does not list are removed). Leave either out to leave them alone.

    With --prune -l KEY=VALUE (repeatable, all must match) the documents own every live
    provider so tagged: after the writes, those no document declares are deleted (reported
    deleted), and so are the models a document's models: does not list. Every document must
    carry the selector tags itself (else exit 3, nothing sent); no deletion is made when a
    write failed.

    A server that stops answering ends the run: after 5 connection failures in a row nothing
    more is sent, what was not sent is reported `not sent`, and the exit code is 7.
    """
    from conductor_integrations import config
    from conductor_integrations.cli import connection
    from conductor_integrations.fleet import engine, planning
    from conductor_integrations.secrets import fingerprints

    cfg, selectors = fleet.cfg, fleet.selectors
    if dry_run and not cfg.server:
        payloads = fleet.check()
        apply_render.dry_run(payloads, None)
        output.warning("no server configured: could not compare with what is there; these are the requests")
        return
    config.require_server(cfg)
    workers = concurrency or engine.DEFAULT_CONCURRENCY
    with connection.connect(cfg) as client:
        payloads = fleet.check(server_table(client) if fleet.server_types else None)
        prints = fingerprints.for_server(server_key(cfg))
        if dry_run:
            live = planning.read_live(client, payloads, workers)
            doomed = planning.doomed(client, payloads, live, selectors, workers) if selectors else []
            found = planning.plan_all(
                payloads, live, prints.matches, prints.fresh, resend_secrets, prune=bool(selectors)
            )
            planned = planning.dry_run(payloads, found, doomed)
            apply_render.report(planned, dry_run=True)
            if planned.exit_code:
                raise typer.Exit(planned.exit_code)
            return
        with output.progress(len(payloads), "applying") as advance:
            try:
                report = engine.apply(
                    client,
                    payloads,
                    secret_matches=prints.matches,
                    secret_fresh=prints.fresh,
                    resend_secrets=resend_secrets,
                    concurrency=workers,
                    fail_fast=fail_fast,
                    on_done=lambda _: advance(),
                    on_sent=lambda p, stamp: prints.record(p.name, p.configuration, p.secret_keys, stamp),
                    on_model_sent=lambda p, m, stamp: _record_model(prints, p.name, m, stamp),
                    selectors=selectors or None,
                )
            finally:
                prints.save()
    complete_values.remember_providers([p.name for p in payloads], server=cfg.server)
    apply_render.report(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _refuse_env_clashes(docs: list[dict[str, Any]]) -> None:
    """``--secrets env``: two secrets that would read one variable are refused (exit 3)."""
    from conductor_integrations.errors import InputError
    from conductor_integrations.fleet import export

    clashes = export.env_clashes(docs)
    if clashes:
        said = "; ".join(f"${{env:{var}}} would be read by " + " and ".join(who) for var, who in clashes)
        raise InputError(
            f"two secrets would share one environment variable: {said}",
            hints=["export with --secrets keyring, or rename one of the providers"],
        )


def _record_model(prints: Any, provider: str, model: Any, update_time: Any) -> None:
    """Remember the secrets of a model just sent with its ``updateTime`` after the write; a
    model sent without its configuration keeps the fingerprints it already had."""
    from conductor_integrations.fleet import plan

    if model.configuration is not None:
        prints.record(
            plan.model_key(provider, model.name), model.configuration, model.secret_keys, update_time
        )


def server_key(cfg: Any) -> str:
    """What secret fingerprints are kept under: the server root (``local`` for the sandbox,
    whose port changes from one command to the next)."""
    from conductor_integrations import config

    server = config.require_server(cfg)
    return config.LOCAL if server == config.LOCAL else config.normalize_server(server)


@fleet_command
def diff_command(
    fleet: Fleet,
    ignore_secrets: Annotated[
        bool,
        typer.Option(
            "--ignore-secrets",
            help="Leave differences only in secrets that cannot be verified out of the exit "
            "code (they are still shown).",
        ),
    ] = False,
) -> None:
    """Show, field by field, what `provider apply` would change on the server.

    Secret values are never shown or compared with the server: they appear as (secret).
    A secret counts as unchanged only when this machine applied that value and nobody wrote
    the provider since; --ignore-secrets keeps the secrets that cannot be verified (a fresh
    machine, a provider written elsewhere) out of the exit code, marked unverifiable.
    Models and tags are compared as apply would send them (models[NAME].FIELD, tags.KEY).
    With --prune -l KEY=VALUE it also shows what apply --prune would delete.
    Exit 0: no differences; 1: differences; 3: a document apply would refuse (a mask
    where the server has no value to keep); other codes: errors.
    """
    from conductor_integrations import config
    from conductor_integrations.cli import connection
    from conductor_integrations.fleet import planning
    from conductor_integrations.secrets import fingerprints

    cfg, selectors = fleet.cfg, fleet.selectors
    if not fleet.server_types:
        payloads = fleet.check()
    config.require_server(cfg)
    with connection.connect(cfg) as client:
        if fleet.server_types:
            payloads = fleet.check(server_table(client))
        workers = planning.DEFAULT_CONCURRENCY
        live = planning.read_live(client, payloads, workers)
        doomed = planning.doomed(client, payloads, live, selectors, workers) if selectors else []
        prints = fingerprints.for_server(server_key(cfg))
    found = planning.plan_all(payloads, live, prints.matches, prints.fresh, prune=bool(selectors))
    apply_render.plans(found, ignore_secrets, doomed)
    if any(pl.action == "invalid" for pl in found):
        raise typer.Exit(int(ExitCode.INVALID))
    if doomed or any(apply_render.counts(pl, ignore_secrets) for pl in found):
        raise typer.Exit(int(ExitCode.DIFFERENCES))


def export_command(
    ctx: typer.Context,
    names: Annotated[
        Optional[list[str]], provider_argument("Providers to export (default: all).", checked=False)
    ] = None,
    secrets: Annotated[
        str,
        typer.Option(
            "--secrets",
            help="How secret keys are written: keyring (${keyring}) or env (${env:NAME_KEY}).",
            metavar="keyring|env",
        ),
    ] = "keyring",
    category: Annotated[Optional[str], category_option("Only providers of this category.")] = None,
    selector: SELECTORS = None,
) -> None:
    """Write live providers as YAML documents that `provider apply` accepts, with their
    models and tags; -l KEY=VALUE (repeatable, all must match) keeps those so tagged.

    Secret values are never written: each secret key becomes ${keyring} (supply it with
    `integ secret set NAME KEY`) or, with --secrets env, ${env:NAME_KEY}.
    """
    from conductor_integrations import config
    from conductor_integrations.cli import connection
    from conductor_integrations.errors import NotFoundError
    from conductor_integrations.fleet import export
    from conductor_integrations.fleet import live as live_mod

    if secrets not in export.SECRET_MODES:
        raise UsageError(f"--secrets must be keyring or env, not {secrets!r}")
    selectors = parse_selectors(selector)
    cfg = settings(ctx)
    config.require_server(cfg)
    with connection.connect(cfg) as client:
        live = live_mod.listing(client, with_models=True)
        if names:
            chosen = list(dict.fromkeys(names))
            for name in chosen:
                if name not in live.providers:
                    raise NotFoundError(
                        f"no provider {name!r} on the server",
                        404,
                        hints=["`integ provider list` shows the providers there"],
                    )
        else:
            wanted = category.upper() if category else None
            chosen = [n for n, p in live.providers.items() if wanted is None or p.get("category") == wanted]
        if selectors:
            keep = set(live_mod.selected(client, live, selectors))
            chosen = [n for n in chosen if n in keep]
        live_mod.fill(client, live, chosen, [n for n in chosen if n not in live.tags])  # -l read some
    for name in chosen:
        keys = [k for k, _ in live.tags.get(name, [])]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            output.warning(f"provider {name} has several tags {key!r}: a document holds one value per key")
    docs: list[dict[str, Any]] = [
        export.document(
            live.providers[n], secrets, list(live.models.get(n, {}).values()), live.tags.get(n, [])
        )
        for n in chosen
    ]
    if secrets == "env":
        _refuse_env_clashes(docs)
    if output.settings.format == "json":
        output.data(docs, "json")
    else:
        output.text("".join(output.to_yaml(d, explicit_start=True) for d in docs) or "# no providers\n")
    output.info(f"{output.counted(len(docs), 'provider')} exported")
