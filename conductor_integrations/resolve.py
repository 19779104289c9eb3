"""The real ``payload.Resolver``: environment, files, keyring and the hidden prompt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conductor_integrations.errors import InputError


class LocalResolver:
    """Resolves references for ``put``, ``apply`` and ``validate`` on this machine.

    A required secret with no value is looked up in the keyring, then asked for with a
    hidden prompt when stdin is a terminal (``interactive``); otherwise it stays missing
    and validation reports it with every way to supply it. It never waits for input that
    cannot come.
    """

    def __init__(self, interactive: bool | None = None):
        if interactive is None:
            interactive = bool(sys.stdin and sys.stdin.isatty())
        self.interactive = interactive

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def read_file(self, path: Path) -> str:
        try:
            return Path(path).expanduser().read_text("utf-8")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path}: is a folder, not a file") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None

    def keyring(self, provider: str, key: str) -> str | None:
        from conductor_integrations import credentials

        return credentials.get_secret(provider, key)

    def missing_secret(self, provider: str, key: str) -> str | None:
        from conductor_integrations import credentials

        value = credentials.get_secret(provider, key)
        if value:
            return value
        return None
