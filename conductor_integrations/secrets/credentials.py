"""Secrets in the OS keyring, without hangs and without silent plain text; the only module
that imports keyring.

Where ``integ`` keeps what:

- provider secrets (``integ secret set PROVIDER KEY``): keyring service
  ``conductor-integrations``, username ``PROVIDER/KEY``; their *names* (never values) are
  listed in ``secret-names.json`` in the data folder, because keyrings cannot enumerate;
- application key secrets (``integ auth login``): service ``conductor-integrations:auth``,
  username ``SERVER|KEY_ID`` (SERVER without ``/api``);
- minted tokens: ``tokens.json`` in the data folder, mode 0600, keyed by server and key id
  (``cached_token`` / ``store_token`` / ``forget_tokens``).

The two files (the name index and the token cache) are ``private_files``'s; its public
functions are importable from here too.

Rules, all enforced here:

1. Every keyring call runs in a worker thread under a deadline (``INTEG_KEYRING_TIMEOUT``
   seconds; default 3, or 30 for a command waiting on a person at a terminal, who may have an
   unlock dialog to answer). A call that misses it raises ``KeyringUnavailable``, and the
   keyring is not touched again by this process.
2. No backend (``NoKeyringError``), a locked keyring or a backend error raises
   ``KeyringUnavailable`` (exit 3) naming the alternatives: ``${env:VAR}``, ``-c KEY=@file``,
   ``CONDUCTOR_AUTH_SECRET``. Nothing ever falls back to plain-text storage; when the active
   backend itself is plain text (keyrings.alt's ``PlaintextKeyring``) every write says so,
   through the warning sink the command line installs (``notices``): nothing prints here.
3. ``PYTHON_KEYRING_BACKEND`` and ``keyringrc.cfg`` choose the backend (keyring does that
   itself). The null backend stores nothing, so writes to it are refused.
4. With ``INTEG_NO_KEYRING`` or ``CI`` set to a true value the keyring is not touched at all:
   reads find nothing, writes and deletes fail with a message. ``INTEG_NO_KEYRING=0`` uses the
   keyring even when ``CI`` is set.

Every value read or written here is registered with ``redact`` so it is never printed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from conductor_integrations import notices
from conductor_integrations.errors import ExitCode, InputError, IntegError, UsageError
from conductor_integrations.secrets import private_files, redact

SERVICE = "conductor-integrations"
AUTH_SERVICE = "conductor-integrations:auth"
#: Seconds a keyring call may take before the command gives up on the keyring.
DEFAULT_TIMEOUT = 3.0
#: The same when a person at a terminal is waiting (an unlock dialog may need answering).
INTERACTIVE_TIMEOUT = 30.0
TIMEOUT_ENV = "INTEG_KEYRING_TIMEOUT"

# The name index and the token cache are private_files's; importable from here too.
INDEX_FILE = private_files.INDEX_FILE
TOKEN_FILE = private_files.TOKEN_FILE
TOKEN_MARGIN = private_files.TOKEN_MARGIN
TOKEN_TTL = private_files.TOKEN_TTL
index_path = private_files.index_path
list_secrets = private_files.list_secrets
token_path = private_files.token_path
cached_token = private_files.cached_token
store_token = private_files.store_token
forget_tokens = private_files.forget_tokens

_FALSE = ("0", "false", "no", "off")

#: What to do without the keyring, for provider secrets and for the application key secret.
PROVIDER_ALTERNATIVES = (
    "without the keyring: reference an environment variable (`api_key: ${env:VAR}` in the file, "
    "or -c 'api_key=${env:VAR}'), or read the value from a file (-c api_key=@file)",
)
AUTH_ALTERNATIVES = (
    "without the keyring: set CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET (or CONDUCTOR_AUTH_TOKEN)",
)
ALTERNATIVES = PROVIDER_ALTERNATIVES + AUTH_ALTERNATIVES

T = TypeVar("T")


class KeyringUnavailable(InputError):
    """Raised when the keyring cannot be used for a read, write or delete: no backend
    (``NoKeyringError``), no answer within the deadline (a locked keyring), the keyring turned
    off (``CI``, ``INTEG_NO_KEYRING``, the null backend) for a write or delete, or an error of
    the backend. Exit 3. The hints name the ways to do without the keyring."""

    def __init__(
        self,
        what: str,
        reason: str,
        hints: tuple[str, ...] = (),
        alternatives: tuple[str, ...] = ALTERNATIVES,
    ):
        super().__init__(f"cannot {what}: {reason}", hints=[*hints, *alternatives])
        self.reason = reason


class SecretNotFound(IntegError):
    """Raised by ``integ secret delete`` when nothing is stored under that name (exit 5)."""

    exit_code = ExitCode.NOT_FOUND


@dataclass(frozen=True)
class Backend:
    """The keyring backend that took a write: its name, and where it keeps a plain-text file
    when it is one (keyrings.alt's ``PlaintextKeyring``)."""

    name: str
    plaintext_file: str | None = None


# -- when and how long -------------------------------------------------------------------


def disabled_reason(env: Mapping[str, str] | None = None) -> str | None:
    """Why the keyring is off in this environment, or None when it may be used."""
    env = os.environ if env is None else env
    flag = env.get("INTEG_NO_KEYRING", "").strip().lower()
    if flag in _FALSE:
        return None
    if flag:
        return "the keyring is turned off (INTEG_NO_KEYRING is set)"
    ci = env.get("CI", "").strip().lower()
    if ci and ci not in _FALSE:
        return "the keyring is turned off in CI (CI is set; INTEG_NO_KEYRING=0 turns it back on)"
    return None


def deadline(interactive: bool = False) -> float:
    """Seconds a keyring call may take: ``INTEG_KEYRING_TIMEOUT``, else 3 (30 when a person
    at a terminal is waiting)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if not value > 0:
            raise UsageError(f"{TIMEOUT_ENV} must be a positive number of seconds, not {raw!r}")
        return value
    return INTERACTIVE_TIMEOUT if interactive else DEFAULT_TIMEOUT


_stuck_reason: str | None = None


def reset() -> None:
    """Forget that a keyring call timed out earlier in this process (tests)."""
    global _stuck_reason
    _stuck_reason = None


def _call(
    op: Callable[[Any], T],
    what: str,
    *,
    interactive: bool = False,
    alternatives: tuple[str, ...] = ALTERNATIVES,
) -> T:
    """Run ``op(keyring_module)`` in a worker thread and wait at most ``deadline()``."""
    global _stuck_reason
    if _stuck_reason is not None:
        raise KeyringUnavailable(what, _stuck_reason, alternatives=alternatives)
    limit = deadline(interactive)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            import keyring

            box["value"] = op(keyring)
        except BaseException as exc:  # handed over to the waiting thread below
            box["error"] = exc

    # A daemon thread, not an executor: a keyring stuck forever must not block the exit.
    worker = threading.Thread(target=work, name="integ-keyring", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        _stuck_reason = (
            f"the keyring did not answer within {limit:g} s (a locked keyring waits for an "
            "unlock prompt that may never appear)"
        )
        raise KeyringUnavailable(
            what,
            _stuck_reason,
            hints=(
                f"unlock the keyring and run the command again, or allow more time with {TIMEOUT_ENV}=30",
            ),
            alternatives=alternatives,
        )
    if "error" in box:
        error = box["error"]
        if not isinstance(error, Exception):
            raise error
        raise _translate(error, what, alternatives) from None
    return box["value"]  # type: ignore[no-any-return]


class _Refused(Exception):
    """Raised inside a keyring operation that must not go ahead (the null backend)."""


def _translate(exc: Exception, what: str, alternatives: tuple[str, ...]) -> KeyringUnavailable:
    reason, hints = _explain(exc)
    return KeyringUnavailable(what, reason, hints, alternatives)


def _explain(exc: Exception) -> tuple[str, tuple[str, ...]]:
    """Why a keyring call failed, and what to do about it."""
    import keyring.errors

    if isinstance(exc, _Refused):
        return str(exc), (
            "unset PYTHON_KEYRING_BACKEND (or undo `keyring --disable`), or choose a backend that "
            "stores secrets",
        )
    if isinstance(exc, keyring.errors.NoKeyringError):
        return (
            "no keyring backend is available on this machine (no Secret Service, Keychain or "
            "Credential Manager was found)",
            (
                "on a desktop, start and unlock a keyring (GNOME Keyring, KWallet); "
                "PYTHON_KEYRING_BACKEND chooses another backend, e.g. keyrings.cryptfile",
            ),
        )
    if isinstance(exc, keyring.errors.KeyringLocked):
        return "the keyring is locked", ("unlock it and run the command again",)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"the keyring backend failed ({type(exc).__name__}{': ' + detail if detail else ''})", ()


def _active(kr: Any) -> Any:
    """The backend that a write goes to (the first of a chain)."""
    from keyring.backends.chainer import ChainerBackend

    backend = kr.get_keyring()
    if isinstance(backend, ChainerBackend):
        chain = list(backend.backends)
        if chain:
            return chain[0]
    return backend


def require_storing_backend(what: str) -> None:
    """Raise ``KeyringUnavailable`` (its reason and the ways that work) when the keyring
    stores nothing: no backend, the null backend, the fail backend."""
    _call(_checked_backend, what)


def _checked_backend(kr: Any) -> Backend:
    """The active backend, refused when it stores nothing (the null backend)."""
    import keyring.errors
    from keyring.backends import fail, null

    backend = _active(kr)
    if isinstance(backend, fail.Keyring):
        raise keyring.errors.NoKeyringError()
    if isinstance(backend, null.Keyring):
        raise _Refused(
            "the keyring is turned off by its null backend (PYTHON_KEYRING_BACKEND or "
            "`keyring --disable`), which stores nothing"
        )
    cls = type(backend)
    plaintext = cls.__name__ == "PlaintextKeyring" or (
        cls.__module__.startswith("keyrings.alt") and "Plaintext" in cls.__name__
    )
    name = str(getattr(backend, "name", "") or f"{cls.__module__}.{cls.__name__}")
    where = str(getattr(backend, "file_path", "") or "a file") if plaintext else None
    return Backend(name, where)


def plaintext_warning(backend: Backend) -> str | None:
    """What to say about a write to ``backend``: None unless it keeps a plain-text file."""
    if not backend.plaintext_file:
        return None
    return (
        f"the active keyring backend ({backend.name}) keeps secrets in a plain-text file "
        f"({backend.plaintext_file}), only base64-encoded: anyone who can read that file has "
        "them; choose another backend with PYTHON_KEYRING_BACKEND"
    )


def _alternatives(service: str) -> tuple[str, ...]:
    return AUTH_ALTERNATIVES if service == AUTH_SERVICE else PROVIDER_ALTERNATIVES


def require_enabled(what: str, service: str = SERVICE) -> None:
    """Raise ``KeyringUnavailable`` when the keyring is turned off here (``CI``,
    ``INTEG_NO_KEYRING``): for commands that must not ask for a value they cannot store."""
    reason = disabled_reason()
    if reason:
        raise KeyringUnavailable(what, reason, alternatives=_alternatives(service))


def _check_name(provider: str, key: str) -> None:
    if not provider.strip() or not key.strip():
        raise UsageError("the provider name and the key must not be empty")
    if "/" in key:
        raise UsageError(f"a configuration key cannot contain '/': {key!r}")
    if any(ord(c) < 32 for c in provider + key):
        raise UsageError("the provider name and the key must not contain control characters")


# -- reads, writes and deletes -----------------------------------------------------------


def _get(service: str, user: str, what: str, interactive: bool) -> str | None:
    if disabled_reason():
        return None
    value = _call(
        lambda kr: kr.get_password(service, user),
        what,
        interactive=interactive,
        alternatives=_alternatives(service),
    )
    if not isinstance(value, str):
        return None
    redact.register(value)
    return value


def _set(service: str, user: str, value: str, what: str, interactive: bool) -> Backend:
    redact.register(value)
    require_enabled(what, service)

    def op(kr: Any) -> Backend:
        backend = _checked_backend(kr)
        kr.set_password(service, user, value)
        return backend

    backend = _call(op, what, interactive=interactive, alternatives=_alternatives(service))
    warning = plaintext_warning(backend)
    if warning:
        notices.warn(warning)
    return backend


def _delete(service: str, user: str, what: str, interactive: bool) -> bool:
    require_enabled(what, service)

    def op(kr: Any) -> bool:
        import keyring.errors

        _checked_backend(kr)
        try:
            kr.delete_password(service, user)
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    return _call(op, what, interactive=interactive, alternatives=_alternatives(service))


def get_secret(provider: str, key: str, *, interactive: bool = False) -> str | None:
    """The stored secret for ``provider``/``key``; None when there is none or the keyring is
    turned off. Raises ``KeyringUnavailable`` when the keyring fails or does not answer."""
    return _get(SERVICE, f"{provider}/{key}", f"read {provider}/{key} from the keyring", interactive)


def set_secret(provider: str, key: str, value: str, *, interactive: bool = False) -> Backend:
    """Store a provider secret in the keyring and its name in the index; returns the backend
    that took it (a plain-text backend is warned about)."""
    _check_name(provider, key)
    what = f"store {provider}/{key} in the keyring"
    backend = _set(SERVICE, f"{provider}/{key}", value, what, interactive)
    private_files.index_update(provider, key, add=True)
    return backend


def delete_secret(provider: str, key: str, *, interactive: bool = False) -> bool:
    """Remove a provider secret (and its name from the index); False when none was stored."""
    what = f"delete {provider}/{key} from the keyring"
    deleted = _delete(SERVICE, f"{provider}/{key}", what, interactive)
    private_files.index_update(provider, key, add=False)
    return deleted


def _auth_user(server: str, key_id: str) -> str:
    return private_files.server_key(server, key_id)


def get_key_secret(server: str, key_id: str, *, interactive: bool = False) -> str | None:
    """The application key secret stored by ``integ auth login`` for ``server`` (with or
    without ``/api``) and ``key_id``; None when there is none or the keyring is turned off.
    Raises ``KeyringUnavailable`` when the keyring fails or does not answer in time."""
    what = f"read the secret of key {key_id} from the keyring"
    return _get(AUTH_SERVICE, _auth_user(server, key_id), what, interactive)


def set_key_secret(server: str, key_id: str, secret: str, *, interactive: bool = False) -> Backend:
    """Store the application key secret for ``server``/``key_id`` (``integ auth login``)."""
    what = f"store the secret of key {key_id} in the keyring"
    return _set(AUTH_SERVICE, _auth_user(server, key_id), secret, what, interactive)


def delete_key_secret(server: str, key_id: str, *, interactive: bool = False) -> bool:
    """Remove the stored application key secret; False when none was stored."""
    what = f"delete the secret of key {key_id} from the keyring"
    return _delete(AUTH_SERVICE, _auth_user(server, key_id), what, interactive)


def backend_name() -> str:
    """A short description of where secrets go, for ``auth status`` (never raises)."""
    reason = disabled_reason()
    if reason:
        return reason
    try:
        backend = _call(_checked_backend, "use the keyring")
    except KeyringUnavailable as exc:
        return exc.reason
    return backend.name + (f" (plain-text file {backend.plaintext_file})" if backend.plaintext_file else "")
