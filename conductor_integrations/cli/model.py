"""``integ model``: put, get, list and delete the models of a provider (what Conductor
calls the provider's "integration APIs": an LLM's models, a vector database's indexes)."""

from typing import Annotated, Any, Optional

import typer

from conductor_integrations import errors, output
from conductor_integrations.cli import complete_values
from conductor_integrations.cli.arguments import (
    YesOption,
    active_only_option,
    missing_ok_option,
    provider_argument,
)
from conductor_integrations.cli.common import (
    ServerCommand,
    delete_each,
    path_name,
    raise_failures,
    server_named,
    settings,
    to_delete,
)
from conductor_integrations.cli.prompts import stdin_is_terminal
from conductor_integrations.errors import (
    IntegError,
    NotFoundError,
)
from conductor_integrations.secrets import redact

app = typer.Typer(
    help="Create, read, list and delete the models of a provider (indexes for vector databases).",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    """Add ``integ model`` to ``root``."""
    root.add_typer(app, name="model")


ProviderArg = Annotated[str, provider_argument(metavar="PROVIDER")]
ModelArg = Annotated[
    str, typer.Argument(metavar="MODEL", help="The model's name, e.g. gpt-4o.", callback=path_name)
]


def no_provider(name: str, where: str) -> NotFoundError:
    return NotFoundError(
        f"no provider {name!r} on {where}",
        404,
        hints=[
            f"create it first with `integ provider put {name} -t TYPE ...`",
            "`integ provider list` shows the providers there",
        ],
    )


def _missing(client: Any, provider: str, model: str, where: str) -> NotFoundError:
    """The 404 of a model, worded after asking whether the provider exists."""
    if client.get_provider(provider) is None:
        return no_provider(provider, where)
    return NotFoundError(
        f"provider {provider!r} has no model {model!r} on {where}",
        404,
        hints=[f"`integ model list {provider}` shows its models"],
    )


def _configuration(
    provider: str, model: str, values: Optional[list[str]]
) -> tuple[Optional[dict[str, Any]], set[str]]:
    """``-c KEY=VALUE`` (``KEY=@PATH``, references) resolved as for `provider put`, and the
    secret keys given as a mask (keep the server's value); every problem is reported and
    the command stops with exit 3 before anything is sent."""
    if not values:
        return None, set()
    from conductor_integrations.cli.problem_render import report_problems
    from conductor_integrations.documents import payload
    from conductor_integrations.documents.references import LocalResolver

    flags = payload.Flags(config=payload.parse_config_flags(values))
    built = payload.build(f"{provider}/{model}", None, flags, LocalResolver(), resolve_missing_secrets=False)
    redact.register(*built.secret_values)
    report_problems(built.problems)
    if built.errors:
        raise errors.ValidationFailed(built.problems)
    for line in built.warnings:
        output.warning(line)
    return built.configuration, built.kept_secrets


@app.command("put", cls=ServerCommand)
def put(
    ctx: typer.Context,
    provider: ProviderArg,
    model: ModelArg,
    description: Annotated[
        Optional[str],
        typer.Option("--description", "-d", metavar="TEXT", help="Description (new models: empty)."),
    ] = None,
    enabled: Annotated[
        Optional[bool],
        typer.Option(
            "--enabled/--disabled",
            help="Enable or disable the model (new models: enabled).",
            show_default=False,
        ),
    ] = None,
    config_values: Annotated[
        Optional[list[str]],
        typer.Option(
            "--config",
            "-c",
            metavar="KEY=VALUE",
            help="One configuration value (repeatable); KEY=@PATH reads it from a file. Put over "
            "the live model's configuration key by key; a mask (********) in a secret key keeps "
            "the stored secret.",
        ),
    ] = None,
) -> None:
    """Create or update one model of a provider; says whether it was created or updated.

    What is not given is kept from the live model: the body sent is the live model with
    the given fields and -c keys put over it (secrets sent back as the server's mask, which
    keeps them). Example:

    \b
      integ model put openai-prod gpt-4o -d 'GPT-4o for the support bot'
    """
    from conductor_integrations.cli import connection
    from conductor_integrations.client import endpoints
    from conductor_integrations.fleet import upsert

    s = settings(ctx)
    where = server_named(s)
    configuration, kept = _configuration(provider, model, config_values)
    with connection.connect(s) as client:
        if client.get_provider(provider) is None:
            raise no_provider(provider, where)
        live = endpoints.get_model(client, provider, model)
        body = endpoints.model_body(live, description, enabled, configuration)
        body = upsert.merged_body(f"{provider}/{model}", live, body, kept=kept, what="model")
        endpoints.put_model(client, provider, model, body)
    complete_values.remember_providers([provider], server=s.server)
    action = "created" if live is None else "updated"
    if output.settings.format == "table":
        output.success(f"{action} model {model} of provider {provider} on {where}")
    else:
        output.data({"integrationName": provider, "api": model, "action": action})


@app.command("get", cls=ServerCommand)
def get(ctx: typer.Context, provider: ProviderArg, model: ModelArg) -> None:
    """Show one model (secret values masked). Exit 5 when it or its provider does not exist."""
    from conductor_integrations.cli import connection, model_render
    from conductor_integrations.client import endpoints

    s = settings(ctx)
    where = server_named(s)
    with connection.connect(s) as client:
        found = endpoints.get_model(client, provider, model)
        if found is None:
            raise _missing(client, provider, model, where)
    model_render.print_model(found, provider)


@app.command("list", cls=ServerCommand)
def list_models(
    ctx: typer.Context,
    provider: ProviderArg,
    active_only: Annotated[bool, active_only_option("models")] = False,
) -> None:
    """List the models of a provider, disabled ones included. Exit 5 when there is no such
    provider."""
    from conductor_integrations.cli import connection, model_render
    from conductor_integrations.client import endpoints

    s = settings(ctx)
    where = server_named(s)
    with connection.connect(s) as client:
        try:
            found = endpoints.list_models(client, provider, active_only)
        except NotFoundError:
            raise no_provider(provider, where) from None
    complete_values.remember_providers([provider], server=s.server)
    model_render.print_models(found, provider)


@app.command("delete", cls=ServerCommand)
def delete(
    ctx: typer.Context,
    provider: ProviderArg,
    names: Annotated[
        list[str], typer.Argument(metavar="MODEL", help="Models to delete.", callback=path_name)
    ],
    yes: YesOption = False,
    missing_ok: Annotated[bool, missing_ok_option("model")] = False,
) -> None:
    """Delete models of a provider. Asks first on a terminal; elsewhere --yes is required."""
    from conductor_integrations.cli import connection
    from conductor_integrations.client import endpoints

    s = settings(ctx)
    where = server_named(s)
    names = to_delete(
        names,
        yes,
        lambda names: (
            f"Delete {output.counted(len(names), 'model')} of provider {provider} from {where}: "
            f"{', '.join(names)}?"
        ),
        stdin_is_terminal(),
    )
    if not names:
        return
    with connection.connect(s) as client:

        def not_found(name: str, exc: NotFoundError) -> IntegError:
            failure = _missing(client, provider, name, where)
            failure.status, failure.body = exc.status, exc.body
            failure.hints.append("pass --missing-ok to accept models that are already gone")
            return failure

        done = delete_each(
            names,
            lambda name: endpoints.delete_model(client, provider, name),
            key="api",
            what=lambda name: f"model {name} of provider {provider}",
            missing_ok=missing_ok,
            not_found=not_found,
        )
    if output.settings.format != "table":
        output.data([{"integrationName": provider, **r} for r in done.results])
    failures = done.failures
    raise_failures(failures, len(names), f"{len(failures)} of {len(names)} models not deleted")
