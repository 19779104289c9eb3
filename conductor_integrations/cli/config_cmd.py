"""``integ config show``: the effective settings and where each came from."""

import contextlib
import os
from typing import Any

import typer

from conductor_integrations import config, output
from conductor_integrations.cli.common import ServerCommand, settings
from conductor_integrations.errors import IntegError, UsageError
from conductor_integrations.secrets import redact

app = typer.Typer(help="Show the settings integ uses.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the ``config`` sub-app to ``root``."""
    root.add_typer(app, name="config")


def key_secret_entry(s: config.Settings) -> dict[str, Any]:
    """Whether an application key secret is available, and from where (never its value).

    Order: ``CONDUCTOR_AUTH_SECRET``, then the keyring entry for this server and key id."""
    env = str(config.SPEC_BY_NAME["key_secret"].env)
    if os.environ.get(env):
        redact.register(os.environ[env])
        return {"value": redact.MASK, "source": f"env {env}"}
    key_id, server = s.get("key_id"), s.server
    if not key_id or not server or config.is_local(server):
        return {"value": None, "source": "not needed" if not key_id else "default"}
    from conductor_integrations.secrets import credentials

    try:
        secret = credentials.get_key_secret(config.normalize_server(server), str(key_id))
    except IntegError as exc:  # a locked or absent keyring must not stop `config show`
        return {"value": None, "source": f"keyring unavailable: {exc.message}"}
    if secret:
        redact.register(secret)
        return {"value": redact.MASK, "source": "keyring"}
    return {"value": None, "source": "default"}


def effective(s: config.Settings) -> dict[str, dict[str, Any]]:
    """Every setting as ``{"value", "source"}``, secrets masked, in a stable order."""
    out: dict[str, dict[str, Any]] = {
        "config_file": {"value": str(s.config_file) if s.config_file else None, "source": "default"},
    }
    for var in ("INTEG_CONFIG_DIR", "XDG_CONFIG_HOME"):
        if os.environ.get(var):
            out["config_file"]["source"] = f"env {var}"
            break
    for spec in config.SETTINGS:
        if spec.keyring:
            out[spec.name] = key_secret_entry(s)
            continue
        value = s.get(spec.name)
        if spec.secret and value:
            redact.register(str(value))
            value = redact.MASK
        out[spec.name] = {"value": value, "source": s.source(spec.name)}
    server = s.server
    if server and not config.is_local(server):
        # A malformed URL is shown as given; the commands that use it say what is wrong.
        with contextlib.suppress(UsageError):
            out["server"]["value"] = config.server_root(server)
    return out


@app.command("show", cls=ServerCommand)
def show(ctx: typer.Context) -> None:
    """Show the effective settings and where each came from (flag, env, profile, default).

    Precedence: flag, then environment, then the selected profile, then the default.
    Secrets are masked."""
    s = settings(ctx)
    data = effective(s)
    if output.settings.format != "table":
        output.data(data)
        return
    rows = [
        {"setting": name, "value": entry["value"], "source": entry["source"]} for name, entry in data.items()
    ]
    output.table(rows, [("setting", "SETTING"), ("value", "VALUE"), ("source", "SOURCE")])
