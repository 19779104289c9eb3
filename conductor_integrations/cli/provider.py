"""``integ provider``: put, get, list and delete providers on a server."""

from typing import Annotated, Optional

import typer

from conductor_integrations import config, output
from conductor_integrations.cli import apply, complete_values, tags
from conductor_integrations.cli import provider_put as flow
from conductor_integrations.cli import provider_render as render
from conductor_integrations.cli.arguments import ProviderName as NameArg
from conductor_integrations.cli.arguments import (
    YesOption,
    active_only_option,
    category_option,
    missing_ok_option,
    provider_argument,
)
from conductor_integrations.cli.common import (
    SELECTORS,
    AllowOutsideFiles,
    ServerCommand,
    delete_each,
    local_resolver,
    parse_selectors,
    raise_failures,
    server_named,
    settings,
    to_delete,
)
from conductor_integrations.cli.prompts import stdin_is_terminal
from conductor_integrations.documents import payload, pipeline
from conductor_integrations.errors import (
    AuthError,
    IntegError,
    NotFoundError,
    UsageError,
)
from conductor_integrations.fleet import upsert

app = typer.Typer(
    help="Integration providers: put, get, list and delete one at a time; apply, diff and export "
    "fleets of them from YAML; tag them.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="provider")


# -- put ----------------------------------------------------------------------------------


@app.command("put", cls=ServerCommand)
def put(
    ctx: typer.Context,
    name: Annotated[
        Optional[str], provider_argument("The provider's name (wins over `name:` in the file).")
    ] = None,
    file: Annotated[
        Optional[str],
        typer.Option("--file", "-f", metavar="FILE", help="YAML or JSON document; - for stdin."),
    ] = None,
    type_name: Annotated[
        Optional[str],
        typer.Option(
            "--type",
            "-t",
            metavar="TYPE",
            help="Provider type (openai, anthropic, kafka ...); `integ types list` shows them.",
            autocompletion=complete_values.complete_type,
        ),
    ] = None,
    category: Annotated[
        Optional[str], category_option("Category; filled in from the type when not given.")
    ] = None,
    description: Annotated[
        Optional[str], typer.Option("--description", "-d", metavar="TEXT", help="Description.")
    ] = None,
    enabled: Annotated[
        Optional[bool],
        typer.Option("--enabled/--disabled", help="Enable or disable the provider.", show_default=False),
    ] = None,
    config: Annotated[
        Optional[list[str]],
        typer.Option(
            "--config",
            "-c",
            metavar="KEY=VALUE",
            help="One configuration value (repeatable); KEY=@PATH reads it from a file. "
            "Values may hold ${env:VAR}, ${file:PATH}, ${keyring}.",
            autocompletion=complete_values.complete_config_key,
        ),
    ] = None,
    unset: Annotated[
        Optional[list[str]],
        typer.Option(
            "--unset",
            metavar="KEY",
            help="Remove one configuration key from the live provider (repeatable).",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Send exactly the given fields and keys, as a create would, instead of merging "
            "them onto the live provider.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the request (secrets masked) and send nothing; reads the live provider "
            "when a server is configured.",
        ),
    ] = False,
    no_validate: Annotated[
        bool, typer.Option("--no-validate", help="Skip the type table (for types newer than integ).")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    server_types: Annotated[
        bool,
        typer.Option(
            "--server-types",
            help="Check against the server's own type definitions (fetched once) instead of "
            "the table built into integ; needs a server, also with --dry-run.",
        ),
    ] = False,
    allow_outside_files: AllowOutsideFiles = False,
) -> None:
    """Create or update a provider from flags and/or a file, checked before it is sent.

    On an existing provider only what is given changes: the body sent is the live provider
    with the given fields and keys put over it (--unset KEY removes one key, --replace sends
    exactly what is given). Says whether the provider was `created` or `updated`. Example:

    \b
      integ provider put openai-prod -t openai -c 'api_key=${env:OPENAI_API_KEY}'
    """
    s = settings(ctx)
    doc = flow.one_document(file) if file else None
    flags = payload.Flags(
        type=type_name,
        category=category,
        description=description,
        enabled=enabled,
        config=payload.parse_config_flags(config),
        unset=list(dict.fromkeys(unset or ())),
    )
    both = sorted({cf.key for cf in flags.config} & set(flags.unset))
    if both:
        raise UsageError(
            f"-c {both[0]} and --unset {both[0]}: a key is either set or removed",
            hints=["give one of them"],
        )
    if server_types and no_validate:
        raise UsageError("--server-types and --no-validate cannot be used together")
    resolver = local_resolver(allow_outside_files)
    prepared = pipeline.build_one(name, doc, flags, resolver, strict)
    if not prepared.payloads[0].name:
        raise UsageError("the provider has no name", hints=["give NAME, or a `name:` field in the file"])
    built = flow.built_or_fail(prepared)
    if built.models is not None or built.tags is not None:
        output.warning("`models:` and `tags:` are not sent by `put`; use `integ provider apply -f FILE`")
    options = flow.PutOptions(flags.unset, replace, no_validate, strict)
    url_path = "/api" + _provider_path(built.name)
    if dry_run and not s.server and not server_types:
        flow.dry_run_offline(built, resolver, options, _dry_run_root(s) + url_path)
        return
    where = server_named(s)
    from conductor_integrations.cli import connection

    with connection.connect(s) as client:
        types = None
        if server_types:
            types = connection.server_types(client)
        live = client.get_provider(built.name)
        final = flow.final_payload(built, live, resolver, options, types, where)
        if dry_run:
            render.print_dry_run(
                built.name,
                final.body.get("type"),
                _dry_run_root(s) + url_path,
                final.body,
                final.secret_keys,
                merged=live is not None and not replace,
            )
            return
        result = upsert.put(client, built.name, final.body, live)
    complete_values.remember_providers([built.name], server=s.server)
    if output.settings.format == "table":
        output.success(f"{result.action} provider {result.name} ({result.type}) on {where}")
    else:
        output.data(result.record())


def _where(s: config.Settings, base_url: str) -> str:
    return "the local sandbox" if config.is_local(s.server) else base_url


def _provider_path(name: str) -> str:
    from conductor_integrations.client.endpoints import provider_path

    return provider_path(name)


def _dry_run_root(s: config.Settings) -> str:
    from conductor_integrations.cli.common import NO_SERVER

    server = s.server
    if not server:
        return NO_SERVER
    if config.is_local(server):
        return "<local sandbox>"
    return config.server_root(server)


# -- get, list -----------------------------------------------------------------------------


@app.command("get", cls=ServerCommand)
def get(ctx: typer.Context, name: NameArg) -> None:
    """Show one provider (secret values masked). Exit 5 when there is no such provider."""
    from conductor_integrations.cli import connection

    s = settings(ctx)
    with connection.connect(s) as client:
        found = client.get_provider(name)
        server = _where(s, client.base_url)
    if found is None:
        raise NotFoundError(
            f"no provider {name!r} on {server}",
            404,
            hints=["`integ provider list` shows the providers there"],
        )
    complete_values.remember_providers([name], server=s.server)
    render.print_one(found)


@app.command("list", cls=ServerCommand)
def list_providers(
    ctx: typer.Context,
    category: Annotated[
        Optional[str], category_option("Only this category (AI_MODEL, VECTOR_DB ...).")
    ] = None,
    active_only: Annotated[bool, active_only_option("providers")] = False,
    selector: SELECTORS = None,
) -> None:
    """List the providers on the server, disabled ones included; -l KEY=VALUE (repeatable,
    all must match) keeps those so tagged."""
    from conductor_integrations.cli import connection
    from conductor_integrations.fleet import live as live_mod

    selectors = parse_selectors(selector)
    s = settings(ctx)
    with connection.connect(s) as client:
        found = client.list_providers(category.upper() if category else None, active_only)
        if selectors:
            live = live_mod.Live(providers={str(p.get("name")): p for p in found if isinstance(p, dict)})
            keep = set(live_mod.selected(client, live, selectors))
            found = [p for p in found if isinstance(p, dict) and str(p.get("name")) in keep]
    complete_values.remember_providers([str(p["name"]) for p in found if p.get("name")], server=s.server)
    render.print_list(found)


# -- delete --------------------------------------------------------------------------------


@app.command("delete", cls=ServerCommand)
def delete(
    ctx: typer.Context,
    names: Annotated[list[str], provider_argument("Providers to delete.")],
    yes: YesOption = False,
    missing_ok: Annotated[bool, missing_ok_option("provider")] = False,
) -> None:
    """Delete providers. Asks first on a terminal; elsewhere --yes is required."""
    from conductor_integrations.cli import connection

    s = settings(ctx)
    server = server_named(s)
    names = to_delete(
        names,
        yes,
        lambda names: f"Delete {output.counted(len(names), 'provider')} from {server}: {', '.join(names)}?",
        stdin_is_terminal(),
    )
    if not names:
        return
    with connection.connect(s) as client:

        def not_found(name: str, exc: NotFoundError) -> IntegError:
            said = exc.body.message or f"HTTP {exc.status}"
            exc.message = f"no provider {name!r} on {_where(s, client.base_url)}: {said}"
            exc.hints = ["pass --missing-ok to accept providers that are already gone"]
            return exc

        done = delete_each(
            names,
            client.delete_provider,
            key="name",
            what=lambda name: f"provider {name}",
            missing_ok=missing_ok,
            not_found=not_found,
        )
    results, failures = done.results, done.failures
    # After a refusal or a server that cannot be reached, the rest was not sent.
    unsent = names[len(results) :]
    if unsent:
        why = "credentials refused" if isinstance(failures[-1], AuthError) else "the server stopped answering"
        results += [{"name": n, "action": "not sent", "error": f"not sent: {why}"} for n in unsent]
    gone = [r["name"] for r in results if r["action"] in ("deleted", "missing")]
    complete_values.forget_providers(gone, server=s.server)
    if output.settings.format != "table":
        output.data(results)
    undone = len(failures) + len(unsent)
    more = f" ({len(unsent)} not sent)" if unsent else ""
    raise_failures(failures, len(names), f"{undone} of {len(names)} providers not deleted{more}")


# `provider apply|diff|export` and `provider tag` live in modules of their own.
apply.register(app)
tags.register(app)
