"""``integ provider tag``: set, list and remove the tags of a provider (KEY=VALUE pairs)."""

from typing import Annotated, Any

import typer

from conductor_integrations import config, output
from conductor_integrations.cli import complete_values
from conductor_integrations.cli.arguments import ProviderName as NameArg
from conductor_integrations.cli.common import ServerCommand, server_named, settings
from conductor_integrations.errors import NotFoundError

app = typer.Typer(help="Set, list and remove the tags of a provider (KEY=VALUE).", no_args_is_help=True)


def register(provider_app: typer.Typer) -> None:
    """Add ``tag`` to ``integ provider``."""
    provider_app.add_typer(app, name="tag")


TagsArg = Annotated[list[str], typer.Argument(metavar="KEY=VALUE", help="Tags, e.g. team=ml.")]


#: What a well-formed command looks like, per method: the hint of a malformed pair.
EXAMPLES = {
    "PUT": "integ provider tag set openai-prod team=ml env=prod",
    "DELETE": "integ provider tag remove openai-prod env=prod",
}


def _parse(values: list[str], method: str) -> list[tuple[str, str]]:
    from conductor_integrations.client import endpoints

    return list(dict.fromkeys(endpoints.parse_tag(v, EXAMPLES[method]) for v in values))


def _write(s: "config.Settings", name: str, values: list[str], method: str) -> None:
    from conductor_integrations.cli import connection
    from conductor_integrations.cli.model import no_provider
    from conductor_integrations.client import endpoints

    tags = _parse(values, method)
    where = server_named(s)
    send = endpoints.set_tags if method == "PUT" else endpoints.delete_tags
    with connection.connect(s) as client:
        try:
            send(client, name, tags)
        except NotFoundError:
            raise no_provider(name, where) from None
    complete_values.remember_providers([name], server=s.server)
    action = "set" if method == "PUT" else "removed"
    if output.settings.format == "table":
        listed = ", ".join(f"{k}={v}" for k, v in tags)
        output.success(f"{action} {output.counted(len(tags), 'tag')} on provider {name}: {listed}")
    else:
        record: dict[str, Any] = {"name": name, "action": action, "tags": endpoints.tag_objects(tags)}
        output.data(record)


@app.command("set", cls=ServerCommand)
def set_tags(ctx: typer.Context, name: NameArg, tags: TagsArg) -> None:
    """Add tags to a provider; a key it already has gets the new value.

    \b
      integ provider tag set openai-prod team=ml env=prod
    """
    _write(settings(ctx), name, tags, "PUT")


@app.command("list", cls=ServerCommand)
def list_tags(ctx: typer.Context, name: NameArg) -> None:
    """List the tags of a provider. Exit 5 when there is no such provider."""
    from conductor_integrations.cli import connection, model_render
    from conductor_integrations.cli.model import no_provider
    from conductor_integrations.client import endpoints

    s = settings(ctx)
    where = server_named(s)
    with connection.connect(s) as client:
        try:
            found = endpoints.get_tags(client, name)
        except NotFoundError:
            raise no_provider(name, where) from None
    complete_values.remember_providers([name], server=s.server)
    if output.settings.format == "table":
        model_render.print_tags(found, name)
    else:
        output.data(endpoints.tag_objects(found))


@app.command("remove", cls=ServerCommand)
def remove_tags(ctx: typer.Context, name: NameArg, tags: TagsArg) -> None:
    """Remove tags from a provider: each KEY=VALUE pair must match key and value.

    \b
      integ provider tag remove openai-prod env=prod
    """
    _write(settings(ctx), name, tags, "DELETE")
