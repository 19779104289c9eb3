"""Secrets in the OS keyring: the only module that imports keyring.

Service names: ``conductor-integrations`` for provider secrets (username
``PROVIDER/KEY``) and ``conductor-integrations:auth`` for application key secrets
(username ``SERVER|KEY_ID``).
"""

from __future__ import annotations

SERVICE = "conductor-integrations"
AUTH_SERVICE = "conductor-integrations:auth"


def get_secret(provider: str, key: str) -> str | None:
    """The stored secret for ``provider``/``key``, or None."""
    import keyring

    return keyring.get_password(SERVICE, f"{provider}/{key}")


def set_secret(provider: str, key: str, value: str) -> None:
    import keyring

    keyring.set_password(SERVICE, f"{provider}/{key}", value)


def delete_secret(provider: str, key: str) -> bool:
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(SERVICE, f"{provider}/{key}")
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def get_key_secret(server: str, key_id: str) -> str | None:
    """The application key secret stored by ``integ auth login`` for ``server``/``key_id``."""
    import keyring

    return keyring.get_password(AUTH_SERVICE, f"{server}|{key_id}")
