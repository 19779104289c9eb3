"""Shell completion of values: types, configuration keys of the type on the line,
categories, output formats, profile names and the provider names seen on the server the
command line points at.

No network at completion time: everything comes from the embedded table, the profiles
file and files in the data folder. These callbacks run on every TAB, so they import
nothing heavy (no requests, no keyring) and never raise.
"""

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

#: Provider names seen on each server, in the data folder (see ``server_key``).
KNOWN_PROVIDERS_FILE = "known-providers"
#: The known-providers file keeps at most this many names, of every server together (the most
#: recent ones win), of at most MAX_NAME characters, their servers of at most MAX_SERVER; a
#: bigger file is not read (it is not one integ wrote).
MAX_KNOWN = 2000
MAX_NAME = 256
MAX_SERVER = 512
MAX_KNOWN_BYTES = 2 * 1024 * 1024


def _params(ctx: Any) -> dict[str, Any]:
    params = getattr(ctx, "params", None)
    return params if isinstance(params, dict) else {}


def _given(ctx: Any, name: str) -> Any:
    """A setting given on the line being completed: the settings' options record their
    values in the run's object (``options.Invocation``), not in the command's parameters."""
    flags = getattr(getattr(ctx, "obj", None), "flags", None)
    if isinstance(flags, dict) and flags.get(name) is not None:
        return flags[name]
    return _params(ctx).get(name)


def complete_type(ctx: Any, incomplete: str) -> list[str]:
    from conductor_integrations.types import builtin

    return [n for n in builtin.table().names() if n.startswith(incomplete)]


def complete_category(ctx: Any, incomplete: str) -> list[str]:
    """Categories in the case the user started typing (they are accepted in either)."""
    from conductor_integrations.types import builtin

    cats = builtin.table().categories
    lower = incomplete != incomplete.upper()
    return [c.lower() if lower else c for c in cats if c.startswith(incomplete.upper())]


def complete_output(ctx: Any, incomplete: str) -> list[str]:
    from conductor_integrations import output

    return [f for f in output.FORMATS if f.startswith(incomplete)]


def config_key_candidates(type_name: Optional[str], given: Iterable[str] = ()) -> list[str]:
    """``KEY=`` for every key of ``type_name`` (in the table's order), or for every key of
    every type (sorted) when the type is not given or not known; keys already in ``given``
    (``KEY=VALUE`` strings) are left out."""
    from conductor_integrations.types import builtin

    table = builtin.table()
    ptype = table.get(type_name) if type_name else None
    if ptype is not None:
        keys: list[str] = list(ptype.all_keys)
    else:
        keys = sorted({k for t in table.types.values() for k in t.all_keys})
    used = {g.partition("=")[0] for g in given if isinstance(g, str) and "=" in g}
    return [f"{k}=" for k in keys if k not in used]


def complete_config_key(ctx: Any, incomplete: str) -> list[str]:
    """``KEY=`` for the keys of the type already on the command line (``-t TYPE``), and
    file names after ``KEY=@``."""
    key, equals, value = incomplete.partition("=")
    if equals:
        return at_file_candidates(f"{key}=@", value[1:]) if value.startswith("@") else []
    params = _params(ctx)
    type_name = params.get("type_name")
    given = params.get("config") or ()
    candidates = config_key_candidates(type_name if isinstance(type_name, str) else None, given)
    return [c for c in candidates if c.startswith(incomplete)]


def at_file_candidates(prefix: str, partial: str, limit: int = 200) -> list[str]:
    """``prefix`` + the paths that complete ``partial`` (folders end in ``/``); hidden
    entries only when ``partial``'s last part starts with a dot."""
    head = partial[: partial.rfind("/") + 1]
    stem = partial[len(head) :]
    try:
        folder = Path(os.path.expanduser(head or "."))
        entries = sorted(e for e in os.listdir(folder) if e.startswith(stem))
    except (OSError, ValueError):
        return []
    found = []
    for name in entries[:limit]:
        if name.startswith(".") and not stem.startswith("."):
            continue
        found.append(f"{prefix}{head}{name}{'/' if (folder / name).is_dir() else ''}")
    return found


def complete_profile(ctx: Any, incomplete: str) -> list[str]:
    from conductor_integrations import config

    try:
        names = config.read_profiles(config.config_file())
    except Exception:
        return []
    return sorted(n for n in names if n.startswith(incomplete))


def complete_provider_name(ctx: Any, incomplete: str) -> list[str]:
    """Provider names seen on the server this command line points at (``--server``, else
    ``CONDUCTOR_SERVER_URL``, else the profile's), and those with stored secrets."""
    names = set(known_providers(completion_server(ctx) or ""))
    names.update(_secret_providers())
    return sorted(n for n in names if n.startswith(incomplete))


def completion_server(ctx: Any) -> Optional[str]:
    """The server of the command line being completed, looked up as the command will
    (``config.resolve``: flag, environment, profile); None when there is none (or the
    settings are broken: completion never fails)."""
    flag, profile = _given(ctx, "server"), _given(ctx, "profile")
    try:
        from conductor_integrations import config

        given = flag if isinstance(flag, str) and not flag.startswith("@") else None
        flags = {"server": given, "profile": profile if isinstance(profile, str) else None}
        return config.resolve(flags).server
    except Exception:
        return None


def _secret_providers() -> list[str]:
    """Providers with secrets stored by ``integ secret set`` (from the name index; the
    keyring itself is not touched)."""
    try:
        from conductor_integrations.secrets import credentials

        return [str(p) for p, _ in credentials.list_secrets()]
    except Exception:
        return []


# -- the known-providers file --------------------------------------------------------
#
# One ``SERVER<TAB>NAME`` a line, oldest first, SERVER as ``server_key`` writes it. A line
# without a tab (the one-name-a-line file of earlier versions, which mixed every server)
# counts as seen with no server, which no command line points at.


def server_key(server: Optional[str]) -> str:
    """``server`` as the known-providers file writes it: ``local`` for the sandbox, else the
    normalised URL in lower case (with or without ``/api`` or a trailing ``/``, any case:
    one server, as ``config.same_server`` says); empty for no server."""
    from conductor_integrations import config

    if not server:
        return ""
    if config.is_local(server):
        return config.LOCAL
    return config.normalize_server(server).lower()


def _data_file(name: str) -> Optional[Path]:
    try:
        from conductor_integrations import config

        return config.data_dir() / name
    except Exception:
        return None


def _read_entries(path: Optional[Path]) -> list[tuple[str, str]]:
    """The ``(server, name)`` lines of ``path``. Anyone may have written the file: only a
    regular file of at most MAX_KNOWN_BYTES is read (a FIFO would block every TAB), and only
    printable names are kept; completion quotes them for the shell."""
    if path is None:
        return []
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return []
    try:
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return []
            data = file.read(MAX_KNOWN_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if len(data) > MAX_KNOWN_BYTES:
        return []
    entries = []
    for line in text.split("\n"):
        server, tab, name = line.strip(" \r").rpartition("\t")
        if _valid_name(name) and (not tab or _valid_server(server)):
            entries.append((server, name))
    return entries


def _valid_name(name: str) -> bool:
    """Non-empty, at most MAX_NAME characters, nothing a terminal acts on (isprintable
    refuses controls, bidi controls and every line break)."""
    return bool(name) and len(name) <= MAX_NAME and name.isprintable() and not name.isspace()


def _valid_server(server: str) -> bool:
    return len(server) <= MAX_SERVER and server.isprintable()


def known_providers(server: Optional[str]) -> list[str]:
    """The provider names recorded by ``remember_providers`` for ``server`` (``""`` or
    None: no server), oldest first."""
    key = server_key(server)
    return [name for s, name in _read_entries(_data_file(KNOWN_PROVIDERS_FILE)) if s == key]


def _write_entries(entries: list[tuple[str, str]]) -> None:
    path = _data_file(KNOWN_PROVIDERS_FILE)
    if path is None:
        return
    from conductor_integrations import config

    config.write_private_text(path, "".join(f"{s}\t{n}\n" for s, n in entries))


def remember_providers(names: Iterable[str], *, server: Optional[str]) -> None:
    """Record provider names seen on ``server`` (the running command's), for completion
    (best effort, never fails)."""
    try:
        key = server_key(server)
        if not _valid_server(key):
            return
        new = [(key, n) for n in dict.fromkeys(str(n) for n in names) if _valid_name(n)]
        if not new:
            return
        old = _read_entries(_data_file(KNOWN_PROVIDERS_FILE))
        added = set(new)
        merged = [e for e in old if e not in added] + new
        if merged != old:
            _write_entries(merged[-MAX_KNOWN:])
    except Exception:
        return


def forget_providers(names: Iterable[str], *, server: Optional[str]) -> None:
    """Drop deleted provider names of ``server`` (the running command's) from completion
    (best effort, never fails)."""
    try:
        key = server_key(server)
        gone = {(key, str(n)) for n in names}
        old = _read_entries(_data_file(KNOWN_PROVIDERS_FILE))
        kept = [e for e in old if e not in gone]
        if kept != old:
            _write_entries(kept)
    except Exception:
        return
