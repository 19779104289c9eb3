"""``integ secret``: provider secrets in the OS keyring. A value is never taken from the
command line and never printed."""

from typing import Annotated, Any, Optional

import typer

from conductor_integrations import output
from conductor_integrations.cli.arguments import provider_argument
from conductor_integrations.cli.common import OutputCommand, settings
from conductor_integrations.cli.prompts import read_hidden, read_stdin_secret, stdin_is_terminal
from conductor_integrations.errors import InputError, UsageError
from conductor_integrations.secrets import credentials, redact
from conductor_integrations.types import builtin

app = typer.Typer(
    help="Provider secrets in the OS keyring (set, list, delete); values are never printed.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="secret")


def _complete_secret_key(ctx: Any, incomplete: str) -> list[str]:
    return [k for k in sorted(builtin.table().secret_keys) if k.startswith(incomplete)]


ProviderArg = Annotated[
    str,
    provider_argument("Provider name, as in `integ provider put NAME`.", metavar="PROVIDER", checked=False),
]
KeyArg = Annotated[
    str,
    typer.Argument(
        metavar="KEY",
        help="Configuration key (api_key, password, file ...).",
        autocompletion=_complete_secret_key,
    ),
]


def check_key(key: str) -> None:
    """Warn when ``key`` is not a secret key of any provider type (it still works through
    an explicit ``${keyring}`` reference)."""
    tbl = builtin.table()
    known = {k for name in tbl.names() for k in tbl.types[name].all_keys}
    if builtin.is_secret_key(key) and (key in known or key in tbl.secret_keys):
        return
    if key in known:
        output.warning(
            f"{key!r} is not a secret key of any provider type: it is used only where a document "
            f"says `{key}: ${{keyring}}`"
        )
        return
    near = builtin.closest_key(key, tuple(sorted(tbl.secret_keys)))
    hint = f"; did you mean {near!r}?" if near else f" (secret keys: {', '.join(sorted(tbl.secret_keys))})"
    output.warning(f"{key!r} is not a configuration key of any provider type{hint}")


def _refuse_argv_value(extra: list[str]) -> None:
    if extra:
        redact.register(*extra)
        raise UsageError(
            "`integ secret set` takes no value on the command line: it would stay in the shell "
            "history and be visible in the process list",
            hints=[
                "run it on a terminal and type the value at the hidden prompt",
                "or pipe it: `pass show openai | integ secret set PROVIDER KEY` (or < FILE)",
            ],
        )


@app.command("set", context_settings={"allow_extra_args": True}, cls=OutputCommand)
def set_command(ctx: typer.Context, provider: ProviderArg, key: KeyArg) -> None:
    """Store a provider secret in the OS keyring.

    The value is read with a hidden prompt on a terminal, else from stdin (one trailing
    newline is dropped); never from the command line. An empty value is refused.

    `provider put` and `provider apply` then find it by themselves when the key is required,
    and documents can name it as ${keyring} (this provider's key) or ${keyring:PROVIDER/KEY}.

    \b
      integ secret set openai-prod api_key
      pass show openai | integ secret set openai-prod api_key
    """
    _refuse_argv_value(ctx.args)
    settings(ctx)
    reason = credentials.disabled_reason()
    if reason:
        raise credentials.KeyringUnavailable(f"store {provider}/{key}", reason)
    check_key(key)
    interactive = stdin_is_terminal()
    if interactive:
        value = read_hidden(f"{key} for {provider} (input hidden): ")
        if not value:
            raise InputError("no value given: nothing was stored")
    else:
        value = read_stdin_secret(what=f"{provider}/{key}")
    backend = credentials.set_secret(provider, key, value, interactive=interactive)
    if output.settings.format == "table":
        output.success(f"stored {provider}/{key} in the keyring ({backend.name})")
    else:
        output.data({"provider": provider, "key": key, "action": "stored", "backend": backend.name})


@app.command("list", cls=OutputCommand)
def list_command(
    ctx: typer.Context,
    provider: Annotated[
        Optional[str], provider_argument("Only this provider's secrets.", metavar="PROVIDER", checked=False)
    ] = None,
) -> None:
    """List the names of the secrets stored with `integ secret set` (never their values).

    Keyrings cannot list their entries, so the names come from an index that integ keeps
    beside its other data; the keyring itself is not touched.
    """
    settings(ctx)
    rows = [{"provider": p, "key": k} for p, k in credentials.list_secrets(provider)]
    empty = "no secrets stored with `integ secret set`" + (f" for {provider}" if provider else "")
    output.records(rows, [("provider", "PROVIDER"), ("key", "KEY")], empty=empty)


@app.command("delete", cls=OutputCommand)
def delete_command(
    ctx: typer.Context,
    provider: ProviderArg,
    key: KeyArg,
    missing_ok: Annotated[
        bool, typer.Option("--missing-ok", help="Succeed when nothing is stored under that name.")
    ] = False,
) -> None:
    """Remove a provider secret from the OS keyring (exit 5 when there is none)."""
    settings(ctx)
    deleted = credentials.delete_secret(provider, key, interactive=stdin_is_terminal())
    if not deleted and not missing_ok:
        raise credentials.SecretNotFound(
            f"no secret stored for {provider}/{key}",
            hints=["`integ secret list` shows the stored names; --missing-ok accepts this"],
        )
    action = "deleted" if deleted else "absent"
    if output.settings.format == "table":
        if deleted:
            output.success(f"deleted {provider}/{key} from the keyring")
        else:
            output.info(f"no secret stored for {provider}/{key}")
    else:
        output.data({"provider": provider, "key": key, "action": action})
