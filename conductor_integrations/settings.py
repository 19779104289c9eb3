"""Every setting of integ, declared once: its flags, environment variable, profile key,
default, help and whether it is secret.

Everything else is made from ``SETTINGS``: the options of the commands
(``cli/options.py``), the lookup in ``config.resolve``, ``integ config show`` and the
ENVIRONMENT section of the man pages (``environment()``). To add a setting, add it here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

CONNECTION = "Connection"
OUTPUT = "Output"
#: how an environment variable of a yes/no setting turns it on
TRUE_WORDS = ("1", "true", "yes", "on")


class SettingSpec(NamedTuple):
    """One setting, declared once. Everything else comes from this declaration: the option
    on the commands (``flags``, ``metavar``, ``help``: ``cli/options.py``), the lookup in
    ``resolve`` (``env``, ``profile_key``, ``default``, ``kind``), ``integ config show``
    (``secret``) and the ENVIRONMENT section of the man pages (``environment()``)."""

    name: str
    #: the option's flags, long one first (``()``: never on the command line)
    flags: tuple[str, ...]
    env: str | None
    profile_key: str | None
    default: Any
    help: str
    kind: str = "str"  # str, float, int, bool
    secret: bool = False
    metavar: str | None = None
    #: on every command (else only on the commands that talk to a server)
    everywhere: bool = False
    #: the group of the option in help and man pages
    panel: str = CONNECTION
    choices: tuple[str, ...] = ()
    #: a yes/no setting whose variable is on when set to anything but "" (no-color.org)
    env_set_is_true: bool = False
    #: looked up in the OS keyring after the environment, by the commands that need it
    #: (``resolve`` leaves it out)
    keyring: bool = False

    @property
    def flag(self) -> str | None:
        """The long flag, as sources name it (``flag --server``)."""
        return self.flags[0] if self.flags else None


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "profile",
        ("--profile",),
        "INTEG_PROFILE",
        None,
        "default",
        "Profile in config.yaml to read settings from.",
        metavar="NAME",
        everywhere=True,
    ),
    SettingSpec(
        "server",
        ("--server",),
        "CONDUCTOR_SERVER_URL",
        "server",
        None,
        "Conductor server URL, with or without /api; `local` for the built-in sandbox.",
        metavar="URL",
    ),
    SettingSpec(
        "token",
        ("--token",),
        "CONDUCTOR_AUTH_TOKEN",
        None,
        None,
        "Ready-made token, sent as the X-Authorization header (discouraged on the command "
        "line: visible in the process list; prefer CONDUCTOR_AUTH_TOKEN).",
        secret=True,
        metavar="TOKEN",
    ),
    SettingSpec(
        "key_id",
        ("--key-id",),
        "CONDUCTOR_AUTH_KEY",
        "key_id",
        None,
        "Application key id; its secret comes from CONDUCTOR_AUTH_SECRET or the keyring.",
        metavar="ID",
    ),
    SettingSpec(
        "key_secret",
        (),
        "CONDUCTOR_AUTH_SECRET",
        None,
        None,
        "The application key secret; never accepted on the command line. Without it, "
        "the secret stored by `integ auth login` in the keyring is used.",
        secret=True,
        keyring=True,
    ),
    SettingSpec(
        "output",
        ("--output", "-o"),
        "INTEG_OUTPUT",
        "output",
        "table",
        "Output format: table (for people), json or yaml.",
        metavar="FORMAT",
        everywhere=True,
        panel=OUTPUT,
        choices=("table", "json", "yaml"),
    ),
    SettingSpec(
        "timeout",
        ("--timeout",),
        "INTEG_TIMEOUT",
        "timeout",
        10.0,
        "Seconds each request attempt may take, from connecting to the last byte of the reply.",
        kind="float",
        metavar="SECONDS",
    ),
    SettingSpec(
        "retries",
        ("--retries",),
        "INTEG_RETRIES",
        "retries",
        3,
        "Retries on connection errors, timeouts, 429, 502, 503 and 504.",
        kind="int",
        metavar="N",
    ),
    SettingSpec(
        "ca_bundle",
        ("--ca-bundle",),
        "REQUESTS_CA_BUNDLE",
        "ca_bundle",
        None,
        "CA certificates (PEM) to verify the server with.",
        metavar="PATH",
    ),
    SettingSpec(
        "insecure",
        ("--insecure",),
        None,
        None,
        False,
        "Do not verify the server's TLS certificate (warns on every use).",
        kind="bool",
    ),
    SettingSpec(
        "no_color",
        ("--no-color",),
        "NO_COLOR",
        None,
        False,
        "No colour.",
        kind="bool",
        everywhere=True,
        panel=OUTPUT,
        env_set_is_true=True,
    ),
    SettingSpec(
        "debug",
        ("--debug",),
        "INTEG_DEBUG",
        None,
        False,
        "Log HTTP traffic (secrets masked) and show tracebacks.",
        kind="bool",
        everywhere=True,
        panel=OUTPUT,
    ),
)
SPEC_BY_NAME = {s.name: s for s in SETTINGS}
#: the settings ``resolve`` looks up (the keyring ones are looked up by the commands)
SPECS = tuple(s for s in SETTINGS if not s.keyring)
PROFILE_KEYS = tuple(s.profile_key for s in SETTINGS if s.profile_key)


def shown_default(spec: SettingSpec) -> str | None:
    """The default as help shows it (``10``, ``table``), None when there is none to show."""
    if spec.default is None or spec.default is False:
        return None
    if isinstance(spec.default, float):
        return f"{spec.default:g}"
    return str(spec.default)


def env_is_true(spec: SettingSpec, value: str) -> bool:
    """A yes/no setting's environment variable read as on or off."""
    if spec.env_set_is_true:
        return value != ""
    return value.strip().lower() in TRUE_WORDS


def environment() -> tuple[tuple[str, str], ...]:
    """``(variable, text)`` for every setting read from the environment, in the table's
    order: the ENVIRONMENT section of the man pages."""
    rows = []
    for spec in SETTINGS:
        if not spec.env:
            continue
        text = spec.help
        if spec.kind == "bool":
            words = (
                "any value but the empty one"
                if spec.env_set_is_true
                else ", ".join(TRUE_WORDS[:-1]) + f" or {TRUE_WORDS[-1]}"
            )
            text += f" On when set to {words}."
        if spec.flag:
            text += f" As `{spec.flag}`."
        if spec.profile_key:
            text += f" Profile key `{spec.profile_key}`."
        default = shown_default(spec)
        if default:
            text += f" Default: {default}."
        rows.append((spec.env, text))
    return tuple(rows)
