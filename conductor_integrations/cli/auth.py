"""``integ auth``: log in with an application key (its secret in the OS keyring, the server
and key id in a profile), show where each credential comes from, log out.

Where the application key secret comes from, in order (``api.py`` reads it the same way):

1. ``CONDUCTOR_AUTH_SECRET``;
2. the keyring entry ``integ auth login`` made for this server and key id.

``login`` itself reads it from ``--secret-stdin``, else ``CONDUCTOR_AUTH_SECRET``, else a
hidden prompt; never from the command line.
"""

import os
import sys
from typing import Annotated, Any, Optional

import typer

from conductor_integrations import config, output
from conductor_integrations.cli.common import OutputCommand, ServerCommand, given, settings
from conductor_integrations.documents.references import read_hidden, read_stdin_secret, stdin_is_terminal
from conductor_integrations.errors import AuthError, InputError, IntegError, UsageError
from conductor_integrations.secrets import credentials

SECRET_ENV = "CONDUCTOR_AUTH_SECRET"

app = typer.Typer(
    help="Log in with an application key, see where credentials come from, log out.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="auth")


def _login_settings(ctx: typer.Context) -> config.Settings:
    """The settings for ``login``, which may name a profile that does not exist yet: then
    nothing is read from any profile."""
    flags = dict(given(ctx))
    profile = flags.pop("profile", None)
    implied = not profile and not os.environ.get("INTEG_PROFILE")
    target = profile or os.environ.get("INTEG_PROFILE") or "default"
    if implied or target in config.read_profiles(config.config_file()):
        return settings(ctx)
    env = {k: v for k, v in os.environ.items() if k != "INTEG_PROFILE"}
    s = config.resolve(flags, env=env)
    for name, setting in list(s.values.items()):
        if setting.source.startswith("profile "):
            s.values[name] = config.Setting(config.SPEC_BY_NAME[name].default, "default")
    s.values["profile"] = config.Setting(target, "flag --profile" if profile else "env INTEG_PROFILE")
    output.configure(format=s["output"], no_color=bool(s["no_color"]), debug=bool(s["debug"]))
    return s


def _override(s: config.Settings, **values: Any) -> config.Settings:
    new = config.Settings(values=dict(s.values), config_file=s.config_file)
    for name, value in values.items():
        new.values[name] = config.Setting(value, "integ auth login" if value is not None else "default")
    return new


def _ask(prompt: str) -> str:
    """A visible question on the terminal (not for secrets)."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def _root(server: str) -> str:
    return config.LOCAL if config.is_local(server) else config.normalize_server(server)


def _login_secret(secret_stdin: bool, terminal: bool, key_id: str) -> str:
    if secret_stdin and not stdin_is_terminal():
        return read_stdin_secret(what=f"the secret of key {key_id}")
    env = os.environ.get(SECRET_ENV)
    if env and not secret_stdin:
        output.info(f"using the key secret from {SECRET_ENV}")
        return env
    if terminal or secret_stdin:  # --secret-stdin on a terminal: asked without echo
        value = read_hidden(f"Secret of application key {key_id} (input hidden): ")
        if value:
            return value
        raise InputError("no secret given: nothing was saved")
    raise UsageError(
        f"no secret for application key {key_id}",
        hints=[f"pipe it with --secret-stdin, or set {SECRET_ENV}, or run on a terminal to type it"],
    )


@app.command("login", cls=ServerCommand)
def login(
    ctx: typer.Context,
    secret_stdin: Annotated[
        bool,
        typer.Option("--secret-stdin", help="Read the key secret from stdin (one trailing newline dropped)."),
    ] = False,
) -> None:
    """Check an application key against the server, then store it.

    The key secret comes from --secret-stdin, else CONDUCTOR_AUTH_SECRET, else a hidden
    prompt; never from the command line. It is checked by minting a token (POST /api/token)
    before anything is saved. Then the secret goes to the OS keyring, and the server and
    key id to the profile (--profile NAME, default `default`) in config.yaml.

      integ auth login --server https://play.orkes.io --key-id KEY_ID

      printf %s "$SECRET" | integ auth login --server URL --key-id KEY_ID --secret-stdin
    """
    s = _login_settings(ctx)
    terminal = stdin_is_terminal() and not secret_stdin
    server = s.server or (_ask("Conductor server URL: ") if terminal else None) or config.require_server(s)
    root = _root(server)
    path = s.config_file or config.config_file()
    record: dict[str, Any] = {"server": root, "profile": s.profile, "config_file": str(path)}
    if config.is_local(server):
        config.write_profile(path, s.profile, {"server": root, "key_id": None})
        record.update(key_id=None, secret=None, authentication=False)
        _report_login(record, "the built-in sandbox needs no key: nothing stored")
        return
    key_id = s.get("key_id") or (_ask("Application key id: ") if terminal else None)
    if not key_id:
        raise UsageError(
            "no application key id",
            hints=[
                "pass --key-id ID or set CONDUCTOR_AUTH_KEY",
                "keys are made in Orkes under Access Control > Applications > Create access key",
            ],
        )
    credentials.require_enabled("store the key secret", credentials.AUTH_SERVICE)
    secret = _login_secret(secret_stdin, terminal, key_id)
    from conductor_integrations.client import api

    with api.connect(_override(s, server=server, key_id=key_id, token=None)) as client:
        try:
            token = client.mint_token(key_id, secret)
        except AuthError as exc:
            exc.hints.append("nothing was saved")
            raise
    if token is None:
        config.write_profile(path, s.profile, {"server": root, "key_id": None})
        record.update(key_id=None, secret=None, authentication=False)
        _report_login(record, f"{root} has no authentication (POST /api/token answered 404): no key stored")
        return
    backend = credentials.set_key_secret(root, key_id, secret, interactive=terminal)
    credentials.store_token(root, key_id, token)
    config.write_profile(path, s.profile, {"server": root, "key_id": key_id})
    record.update(key_id=key_id, secret=f"keyring ({backend.name})", authentication=True)
    _report_login(record, f"logged in to {root} with key {key_id}; secret in the keyring ({backend.name})")


def _report_login(record: dict[str, Any], summary: str) -> None:
    if output.settings.format == "table":
        output.success(summary)
        saved = "server and key id" if record.get("key_id") else "server"
        output.info(f"{saved} saved in profile {record['profile']!r} ({record['config_file']})")
    else:
        output.data(record)


# -- status ----------------------------------------------------------------------------------


def _find_secret(root: Optional[str], key_id: Optional[str]) -> tuple[Optional[str], str]:
    """The key secret at hand (never shown), and where it comes from or why there is none."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env, f"env {SECRET_ENV}"
    if not key_id or not root or config.is_local(root):
        return None, "-"
    reason = credentials.disabled_reason()
    if reason:
        return None, reason
    try:
        found = credentials.get_key_secret(root, key_id)
    except credentials.KeyringUnavailable as exc:
        return None, exc.reason
    if found:
        return found, f"keyring ({credentials.backend_name()})"
    return None, "not in the keyring (run `integ auth login`)"


@app.command("status", cls=ServerCommand)
def status(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option("--check/--no-check", help="Mint a token to show that the key works (default)."),
    ] = True,
) -> None:
    """Show the server, the key id and where each credential comes from (flag, environment,
    profile, keyring), and whether a token can be had. Values of secrets are never shown.

    Exit 0 when requests can be authenticated (or need no token), 2 without a server, 3 when
    the key has no secret, 4 when the server refuses the key, 7 when it cannot be reached.
    """
    s = settings(ctx)
    server, key_id, token = s.server, s.get("key_id"), s.get("token")
    root = _root(server) if server else None
    secret, secret_source = _find_secret(root, key_id)
    has_secret = bool(secret)
    available: Optional[bool] = None
    problem: Optional[IntegError] = None
    if not server:
        detail = "no server configured"
        try:
            config.require_server(s)
        except UsageError as exc:
            problem = exc
    elif config.is_local(server):
        available, detail = True, "the built-in sandbox needs no token"
    elif token:
        available, detail = True, f"a ready token is given ({s.source('token')}); it is sent as it is"
    elif not key_id:
        detail = "no application key: requests are sent without a token"
    elif not secret:
        available, detail = False, f"no secret for key {key_id}"
        problem = InputError(
            f"no secret for application key {key_id}: {secret_source}",
            hints=[f"run `integ auth login --key-id {key_id}`, or set {SECRET_ENV}"],
        )
    elif not check:
        detail = "not checked (--no-check)"
    else:
        available, detail, problem = _mint(s, root or server, key_id, secret)
    _report_status(s, root, key_id, token, has_secret, secret_source, available, detail)
    if problem is not None:
        raise problem


def _mint(s: config.Settings, root: str, key_id: str, secret: str) -> tuple[bool, str, Optional[IntegError]]:
    from conductor_integrations.client import api

    try:
        with api.connect(s) as client:
            minted = client.mint_token(key_id, secret)
    except IntegError as exc:
        return False, f"no token: {exc.message}", exc
    if minted is None:
        return True, "the server has no authentication (POST /api/token answered 404)", None
    credentials.store_token(root, key_id, minted)
    return True, "a token was minted (POST /api/token)", None


def _report_status(
    s: config.Settings,
    root: Optional[str],
    key_id: Optional[str],
    token: Optional[str],
    has_secret: bool,
    secret_source: str,
    available: Optional[bool],
    detail: str,
) -> None:
    profile_source = s.profile_source + (f" ({s.config_file})" if s.config_file else "")
    token_source = s.source("token") if token else "-"
    if output.settings.format == "table":
        rows: list[dict[str, Any]] = [
            {"what": "profile", "value": s.profile, "source": profile_source},
            {"what": "server", "value": root, "source": s.source("server") if root else "-"},
            {"what": "key id", "value": key_id, "source": _key_source(s) or "-"},
            {"what": "key secret", "value": "set" if has_secret else "-", "source": secret_source},
            {"what": "token", "value": "given" if token else "-", "source": token_source},
            {"what": "auth", "value": {True: "yes", False: "no", None: "-"}[available], "source": detail},
        ]
        output.table(rows, [("what", "CREDENTIAL"), ("value", "VALUE"), ("source", "SOURCE")])
        return
    output.data(
        {
            "profile": {"name": s.profile, "source": s.profile_source, "config_file": str(s.config_file)},
            "server": {"value": root, "source": s.source("server") if root else None},
            "key_id": {"value": key_id, "source": _key_source(s)},
            "key_secret": {"present": has_secret, "source": secret_source},
            "token": {"present": bool(token), "source": s.source("token") if token else None},
            "token_available": available,
            "detail": detail,
        }
    )


def _key_source(s: config.Settings) -> Optional[str]:
    """Where the key id comes from, or why the profile's is not used (another server)."""
    return s.source("key_id") if s.get("key_id") or s.source("key_id") != "default" else None


# -- logout ----------------------------------------------------------------------------------


@app.command("logout", cls=OutputCommand)
def logout(
    ctx: typer.Context,
    all_profiles: Annotated[
        bool, typer.Option("--all", help="Log out of every profile and drop every cached token.")
    ] = False,
) -> None:
    """Remove the stored key secret and the profile's key id (the server stays).

    Credentials in the environment (CONDUCTOR_AUTH_SECRET, CONDUCTOR_AUTH_TOKEN) are not
    touched: unset them yourself.
    """
    s = settings(ctx)
    path = s.config_file or config.config_file()
    profiles = config.read_profiles(path)
    names = sorted(profiles) if all_profiles else [s.profile]
    results = [_logout_profile(path, name, profiles.get(name, {})) for name in names]
    if all_profiles:
        credentials.forget_tokens()
    if output.settings.format == "table":
        for r in results:
            if r["action"] == "logged out":
                output.success(f"logged out of {r['server']} (profile {r['profile']!r}, key {r['key_id']})")
            else:
                output.info(f"profile {r['profile']!r}: no stored login")
    else:
        output.data(results)
    left = [v for v in (SECRET_ENV, "CONDUCTOR_AUTH_TOKEN") if os.environ.get(v)]
    if left:
        output.warning(f"{' and '.join(left)} still set in this environment")


def _logout_profile(path: Any, name: str, profile: dict[str, Any]) -> dict[str, Any]:
    server, key_id = profile.get("server"), profile.get("key_id")
    result: dict[str, Any] = {"profile": name, "server": server, "key_id": key_id}
    if not key_id:
        return {**result, "action": "not logged in", "secret_removed": False}
    removed = False
    if server:
        try:
            removed = credentials.delete_key_secret(str(server), str(key_id))
        except credentials.KeyringUnavailable as exc:
            output.warning(f"{exc.message}: the secret may still be in the keyring")
        credentials.forget_tokens(str(server), str(key_id))
    config.write_profile(path, name, {"key_id": None})
    return {**result, "action": "logged out", "secret_removed": removed}
