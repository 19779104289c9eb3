"""Settings and where each came from.

The order in which a setting is looked up (written once, here):

1. the flag on the command line (``--server``, ``--timeout`` ...);
2. the environment (``CONDUCTOR_SERVER_URL``, ``INTEG_TIMEOUT`` ...);
3. the selected profile in ``config.yaml`` (``--profile``, ``INTEG_PROFILE``, else ``default``);
4. the built-in default.

The key secret is never in the profile: it comes from ``CONDUCTOR_AUTH_SECRET`` or the
keyring (see ``credentials``). No secret is ever written to the profiles file.

A profile's ``key_id`` is for the profile's own ``server`` only: when ``--server`` or
``CONDUCTOR_SERVER_URL`` names another server, the profile's key id is not used (its source
says so). A key id from ``--key-id`` or ``CONDUCTOR_AUTH_KEY`` applies to whatever server is
chosen.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conductor_integrations.errors import UsageError

APP_NAME = "conductor-integrations"
LOCAL = "local"


@dataclass(frozen=True)
class SettingSpec:
    name: str
    flag: str | None
    env: str | None
    profile_key: str | None
    default: Any
    kind: str = "str"  # str, float, int, bool
    secret: bool = False


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("server", "--server", "CONDUCTOR_SERVER_URL", "server", None),
    SettingSpec("token", "--token", "CONDUCTOR_AUTH_TOKEN", None, None, secret=True),
    SettingSpec("key_id", "--key-id", "CONDUCTOR_AUTH_KEY", "key_id", None),
    SettingSpec("output", "--output", "INTEG_OUTPUT", "output", "table"),
    SettingSpec("timeout", "--timeout", "INTEG_TIMEOUT", "timeout", 10.0, "float"),
    SettingSpec("retries", "--retries", "INTEG_RETRIES", "retries", 3, "int"),
    SettingSpec("ca_bundle", "--ca-bundle", "REQUESTS_CA_BUNDLE", "ca_bundle", None),
    SettingSpec("insecure", "--insecure", None, None, False, "bool"),
    SettingSpec("no_color", "--no-color", "NO_COLOR", None, False, "bool"),
    SettingSpec("debug", "--debug", "INTEG_DEBUG", None, False, "bool"),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}
PROFILE_KEYS = tuple(s.profile_key for s in SPECS if s.profile_key)


@dataclass
class Setting:
    value: Any
    source: str  # "flag --server", "env CONDUCTOR_SERVER_URL", "profile default", "default"


@dataclass
class Settings:
    values: dict[str, Setting] = field(default_factory=dict)
    profile: str = "default"
    profile_source: str = "default"
    config_file: Path | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def get(self, name: str) -> Any:
        setting = self.values.get(name)
        return setting.value if setting else None

    def source(self, name: str) -> str:
        setting = self.values.get(name)
        return setting.source if setting else "default"

    @property
    def server(self) -> str | None:
        value = self.get("server")
        return str(value) if value else None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$INTEG_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/conductor-integrations``, else
    ``~/.config/conductor-integrations``."""
    env = os.environ if env is None else env
    if env.get("INTEG_CONFIG_DIR"):
        return Path(env["INTEG_CONFIG_DIR"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / APP_NAME


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$INTEG_DATA_DIR``, else ``$XDG_DATA_HOME/conductor-integrations``, else
    ``~/.local/share/conductor-integrations`` (the platform's data folder elsewhere)."""
    env = os.environ if env is None else env
    if env.get("INTEG_DATA_DIR"):
        return Path(env["INTEG_DATA_DIR"]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]).expanduser() / APP_NAME
    if os.name == "nt" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / APP_NAME
    return Path.home() / ".local" / "share" / APP_NAME


def config_file(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "config.yaml"


def make_private_dir(path: Path) -> None:
    """Create integ's folder ``path`` when it is missing (missing parents as the umask
    says), the folder itself owner-only (0700) whatever the umask. An existing folder is
    left as it is: it may be shared on purpose."""
    path = Path(path)
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return
    if os.name == "posix":
        os.chmod(path, 0o700)


def write_private_text(path: Path, text: str) -> None:
    """Write one of integ's files: mode 0600 whatever the umask, replaced atomically (a
    temporary file, then a rename), in a folder made with ``make_private_dir``."""
    make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The ``profiles:`` mapping of the config file ({} when there is no file)."""
    if not path.exists():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the profiles file: {exc}") from None
    profiles = data.get("profiles", {}) if isinstance(data, dict) else None
    if not isinstance(profiles, dict):
        raise UsageError(f"{path}: expected `profiles:` with one mapping per profile")
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in profiles.items()}


def write_profile(path: Path, name: str, values: Mapping[str, Any], *, replace: bool = False) -> None:
    """Set ``values`` in profile ``name`` (keys with value None are removed). Only the
    keys of ``PROFILE_KEYS`` are accepted: no secret is ever written here."""
    import yaml

    bad = [k for k in values if k not in PROFILE_KEYS]
    if bad:
        raise ValueError(f"not profile keys: {bad}")
    data: dict[str, Any] = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text("utf-8")) or {}
        data = loaded if isinstance(loaded, dict) else {}
    profiles = data.setdefault("profiles", {})
    profile = {} if replace else dict(profiles.get(name) or {})
    for key, value in values.items():
        if value is None:
            profile.pop(key, None)
        else:
            profile[key] = value
    if profile:
        profiles[name] = profile
    else:
        profiles.pop(name, None)
    write_private_text(path, yaml.safe_dump(data, sort_keys=False))


def _convert(spec: SettingSpec, value: Any, source: str) -> Any:
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        if spec.env == "NO_COLOR":
            return str(value) != ""  # no-color.org: present and non-empty
        return str(value).strip().lower() in ("1", "true", "yes", "on")
    if spec.kind in ("float", "int"):
        try:
            number = float(value) if spec.kind == "float" else int(str(value))
        except (TypeError, ValueError):
            raise UsageError(f"{source}: {spec.name} must be a number, not {value!r}") from None
        if number < 0 or (spec.name == "timeout" and number == 0):
            raise UsageError(f"{source}: {spec.name} must be positive, not {value!r}")
        return number
    return str(value)


def resolve(
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> Settings:
    """Every setting with its source. ``flags`` maps setting names to flag values (None
    when the flag was not given)."""
    env = os.environ if env is None else env
    path = config_file(env)
    if profile:
        profile_name, profile_source = profile, "flag --profile"
    elif env.get("INTEG_PROFILE"):
        profile_name, profile_source = env["INTEG_PROFILE"], "env INTEG_PROFILE"
    else:
        profile_name, profile_source = "default", "default"
    profiles = read_profiles(path)
    if profile_name not in profiles and profile_source != "default":
        known = ", ".join(sorted(profiles)) or "none yet"
        raise UsageError(
            f"no profile {profile_name!r} in {path}",
            hints=[f"profiles: {known}", "create one with `integ auth login --profile NAME`"],
        )
    selected = profiles.get(profile_name, {})
    settings = Settings(profile=profile_name, profile_source=profile_source, config_file=path)
    for spec in SPECS:
        flag_value = flags.get(spec.name)
        if flag_value is not None and flag_value is not False:
            setting = Setting(_convert(spec, flag_value, f"flag {spec.flag}"), f"flag {spec.flag}")
        elif spec.env and env.get(spec.env) not in (None, ""):
            src = f"env {spec.env}"
            setting = Setting(_convert(spec, env[spec.env], src), src)
        elif spec.profile_key and selected.get(spec.profile_key) not in (None, ""):
            src = f"profile {profile_name}"
            setting = Setting(_convert(spec, selected[spec.profile_key], src), src)
        else:
            setting = Setting(spec.default, "default")
        settings.values[spec.name] = setting
    _profile_key_for_its_own_server(settings, selected.get("server"))
    if settings["output"] not in ("table", "json", "yaml"):
        raise UsageError(
            f"{settings.source('output')}: output must be table, json or yaml, not {settings['output']!r}"
        )
    return settings


def same_server(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same server (with or without ``/api``, any case)."""
    return normalize_server(a).lower() == normalize_server(b).lower()


def _profile_key_for_its_own_server(settings: Settings, own_server: Any) -> None:
    """Drop a key id taken from the profile when the server comes from elsewhere and is not
    the profile's own: that key (and its secret) belongs to the profile's server."""
    profile_source = f"profile {settings.profile}"
    if settings.source("key_id") != profile_source or settings.source("server") == profile_source:
        return
    server = settings.server
    if not server or (own_server and same_server(str(own_server), server)):
        return
    why = f"its key is for {normalize_server(str(own_server))}" if own_server else "it names no server"
    settings.values["key_id"] = Setting(None, f"{profile_source} (not used: {why})")


def require_server(settings: Settings) -> str:
    """The server URL, or a usage error (exit 2) naming every way to give one."""
    server = settings.server
    if not server:
        raise UsageError(
            "no Conductor server configured",
            hints=[
                "pass --server URL, or set CONDUCTOR_SERVER_URL",
                "or save one in a profile with `integ auth login --server URL`",
                "or try the built-in sandbox with --server local",
            ],
        )
    return server


def normalize_server(url: str) -> str:
    """The server root without a trailing ``/`` or ``/api`` (both forms mean the same)."""
    url = url.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url.rstrip("/")


def is_local(server: str | None) -> bool:
    """True when ``server`` names the built-in sandbox (``--server local``)."""
    return bool(server) and str(server).strip().lower() == LOCAL


def _looks_like_local(text: str) -> bool:
    """A mistyped ``local`` (``loacl``, ``lcoal``): one word, close to it, not a host name."""
    import difflib

    word = text.lower()
    if not word.isalpha():
        return False
    return bool(difflib.get_close_matches(word, [LOCAL], n=1, cutoff=0.6))


def server_root(url: str) -> str:
    """The normalized server root of ``url`` (see ``normalize_server``), or a usage error
    when it is not an ``http://`` or ``https://`` URL with a host. Never guesses a scheme."""
    from urllib.parse import urlsplit

    root = normalize_server(url)
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hints = ["give the full URL, for example --server https://play.orkes.io"]
        if _looks_like_local(root):
            hints.insert(0, f"did you mean --server {LOCAL} (the built-in sandbox)?")
        else:
            if "://" not in root and root:
                hints.insert(0, f"did you mean https://{root}?")
            hints.append(f"or --server {LOCAL} for the built-in sandbox")
        raise UsageError(f"server URL {url!r} is not an http:// or https:// URL", hints=hints)
    return root
