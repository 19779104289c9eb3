"""The real ``payload.Resolver``: environment, files, keyring and the hidden prompt.

Also the two ways a secret is read from a person or a pipe (``read_hidden`` and
``read_stdin_secret``), shared by ``integ secret set`` and ``integ auth login``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from conductor_integrations import output, redact
from conductor_integrations.errors import InputError


def stdin_is_terminal(stream: TextIO | None = None) -> bool:
    """True when stdin is an open terminal (so a person can be asked); never raises."""
    stream = sys.stdin if stream is None else stream
    try:
        return bool(stream) and not stream.closed and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def read_hidden(prompt: str) -> str:
    """Ask for a secret on the terminal without echoing it. Ctrl-C interrupts the command;
    Ctrl-D gives an empty answer."""
    import getpass

    try:
        value = getpass.getpass(output.escape_controls(prompt))  # names in it are a document's
    except EOFError:
        value = ""
    redact.register(value)
    return value


def read_stdin_secret(stream: TextIO | None = None, what: str = "the secret") -> str:
    """The whole of stdin as a secret, one trailing newline dropped; refused when empty."""
    stream = sys.stdin if stream is None else stream
    if stream is None or stream.closed:
        raise InputError(f"no value for {what}: stdin is closed")
    value = stream.read()
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    redact.register(value)
    if not value:
        raise InputError(f"no value for {what}: stdin was empty", hints=["pipe the value on stdin"])
    return value


def ask_yes_no(question: str, default: bool = True) -> bool:
    """A yes/no question on the terminal (stderr for the question, stdin for the answer)."""
    suffix = " [Y/n] " if default else " [y/N] "
    sys.stderr.write(output.escape_controls(question) + suffix)
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    if not answer:  # end of input
        return False
    answer = answer.strip().lower()
    return default if not answer else answer in ("y", "yes")


class LocalResolver:
    """Resolves references for ``put``, ``apply`` and ``validate`` on this machine.

    Where a required secret with no value comes from, in order:

    1. the keyring (``integ secret set PROVIDER KEY``), unless the keyring is turned off
       (``CI``, ``INTEG_NO_KEYRING``); a keyring that is absent, failing or does not answer
       within the deadline is reported once as a warning and skipped;
    2. a hidden prompt, when stdin is a terminal (``interactive``), offering to store the
       answer in the keyring;
    3. nothing: the key stays missing and validation reports it (exit 3) with every way to
       supply it. With stdin closed or not a terminal it never waits for input.
    """

    def __init__(self, interactive: bool | None = None):
        if interactive is None:
            interactive = stdin_is_terminal()
        self.interactive = interactive
        #: why the keyring could not be used, once it failed (then it is not asked again)
        self.keyring_problem: str | None = None

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
        """An explicit ``${keyring}`` reference: a failing keyring is an error here (raised
        as ``KeyringUnavailable``, an ``InputError``), since the document asks for it."""
        from conductor_integrations import credentials

        reason = credentials.disabled_reason()
        if reason:
            raise credentials.KeyringUnavailable(f"read {provider}/{key} from the keyring", reason)
        return credentials.get_secret(provider, key, interactive=self.interactive)

    def missing_secret(self, provider: str, key: str) -> str | None:
        from conductor_integrations import credentials

        if self.keyring_problem is None:
            try:
                value = credentials.get_secret(provider, key, interactive=self.interactive)
            except credentials.KeyringUnavailable as exc:
                self.keyring_problem = exc.reason
                output.warning(
                    f"{exc.message}; secrets stored with `integ secret set` cannot be used in this command"
                )
            else:
                if value:
                    return value
        if not self.interactive:
            return None
        value = read_hidden(f"{key} for {provider} (input hidden, Enter to skip): ")
        if not value:
            return None
        can_store = self.keyring_problem is None and not credentials.disabled_reason()
        if can_store and ask_yes_no(f"Store it in the keyring as {provider}/{key} for next time?"):
            try:
                credentials.set_secret(provider, key, value, interactive=True)
            except credentials.KeyringUnavailable as exc:
                output.warning(f"{exc.message}; the value is used for this command only")
            else:
                output.info(f"stored {provider}/{key} in the keyring")
        return value
