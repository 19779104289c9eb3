"""Settings and where each came from.

The settings themselves are declared in ``settings.SETTINGS``. The order in which a
setting is looked up (written once, here):

1. the flag on the command line (``--server``, ``--timeout`` ...), before or after the
   subcommand (given in both places: the one after it);
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
from pathlib import Path
from typing import Any, NamedTuple

from conductor_integrations.errors import UsageError

# The table of settings; re-exported so that ``config.SETTINGS`` is where callers look.
from conductor_integrations.settings import PROFILE_KEYS as PROFILE_KEYS
from conductor_integrations.settings import SETTINGS as SETTINGS
from conductor_integrations.settings import SPEC_BY_NAME as SPEC_BY_NAME
from conductor_integrations.settings import SPECS as SPECS
from conductor_integrations.settings import SettingSpec as SettingSpec
from conductor_integrations.settings import env_is_true as env_is_true
from conductor_integrations.settings import environment as environment
from conductor_integrations.settings import shown_default as shown_default

APP_NAME = "conductor-integrations"
LOCAL = "local"


class Setting(NamedTuple):
    """A setting's value and where it came from."""

    value: Any
    source: str  # "flag --server", "env CONDUCTOR_SERVER_URL", "profile default", "default"


class Settings:
    """Every setting of the run, by name, and the config file they were read with."""

    __slots__ = ("config_file", "values")

    def __init__(self, values: dict[str, Setting] | None = None, config_file: Path | None = None) -> None:
        self.values: dict[str, Setting] = {} if values is None else values
        self.config_file = config_file

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def get(self, name: str) -> Any:
        setting = self.values.get(name)
        return setting.value if setting else None

    def source(self, name: str) -> str:
        setting = self.values.get(name)
        return setting.source if setting else "default"

    @property
    def profile(self) -> str:
        """The selected profile (``default`` unless ``--profile`` or ``INTEG_PROFILE``)."""
        return str(self.get("profile") or "default")

    @property
    def profile_source(self) -> str:
        return self.source("profile")

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
        return env_is_true(spec, str(value))
    if spec.kind in ("float", "int"):
        try:
            number = float(value) if spec.kind == "float" else int(str(value))
        except (TypeError, ValueError):
            raise UsageError(f"{source}: {spec.name} must be a number, not {value!r}") from None
        if number < 0 or (spec.name == "timeout" and number == 0):
            raise UsageError(f"{source}: {spec.name} must be positive, not {value!r}")
        return number
    if spec.choices and str(value) not in spec.choices:
        raise UsageError(f"{source}: {spec.name} must be {one_of(spec.choices)}, not {value!r}")
    return str(value)


def resolve(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Every setting of ``SPECS`` with its source. ``flags`` maps setting names to flag
    values (None or False when the flag was not given); the profile is a setting too."""
    env = os.environ if env is None else env
    path = config_file(env)
    settings = Settings(config_file=path)
    profile = settings.values["profile"] = _lookup(SPEC_BY_NAME["profile"], flags, env, {}, "")
    profiles = read_profiles(path)
    if profile.value not in profiles and profile.source != "default":
        known = ", ".join(sorted(profiles)) or "none yet"
        raise UsageError(
            f"no profile {profile.value!r} in {path}",
            hints=[f"profiles: {known}", "create one with `integ auth login --profile NAME`"],
        )
    selected = profiles.get(profile.value, {})
    for spec in SPECS:
        if spec.name != "profile":
            settings.values[spec.name] = _lookup(spec, flags, env, selected, profile.value)
    _profile_key_for_its_own_server(settings, selected.get("server"))
    return settings


def _lookup(
    spec: SettingSpec, flags: Mapping[str, Any], env: Mapping[str, str], profile: Mapping[str, Any], name: str
) -> Setting:
    """One setting: the flag, else the environment, else the profile, else the default."""
    flag_value = flags.get(spec.name)
    if flag_value is not None and flag_value is not False:
        src = f"flag {spec.flag}"
        return Setting(_convert(spec, flag_value, src), src)
    if spec.env and env.get(spec.env) not in (None, ""):
        src = f"env {spec.env}"
        return Setting(_convert(spec, env[spec.env], src), src)
    if spec.profile_key and profile.get(spec.profile_key) not in (None, ""):
        src = f"profile {name}"
        return Setting(_convert(spec, profile[spec.profile_key], src), src)
    return Setting(spec.default, "default")


def one_of(choices: tuple[str, ...]) -> str:
    """``table, json or yaml``."""
    return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else "".join(choices)


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
