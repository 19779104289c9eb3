"""The real ``payload.Resolver``: environment, files, keyring and the hidden prompt.

Also the two ways a secret is read from a person or a pipe (``read_hidden`` and
``read_stdin_secret``), shared by ``integ secret set`` and ``integ auth login``.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from conductor_integrations import output
from conductor_integrations.errors import InputError
from conductor_integrations.secrets import redact

#: The most a referenced file (``${file:PATH}``, ``-c KEY=@PATH``) may hold.
MAX_FILE_BYTES = 1024 * 1024
#: Set to 1 to let references in documents read files outside the document's folder.
ALLOW_OUTSIDE_ENV = "INTEG_ALLOW_OUTSIDE_FILES"
_OUTSIDE_HINT = (
    "move the file under the document's folder, or pass --allow-outside-files "
    f"(or set {ALLOW_OUTSIDE_ENV}=1) if the document is yours"
)


def outside_files_allowed(env: Mapping[str, str] | None = None) -> bool:
    """True when ``INTEG_ALLOW_OUTSIDE_FILES`` is set to 1 (or true, yes, on)."""
    env = os.environ if env is None else env
    return env.get(ALLOW_OUTSIDE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive (Windows)
        return False


def read_reference_file(path: Path, within: Path | None = None, *, pipes: bool = False) -> str:
    """The text of the file a reference names, read safely: only a regular file (checked on
    the opened descriptor, opened without blocking, so a FIFO, a device or a swap between
    check and open cannot hang or flood the command), at most ``MAX_FILE_BYTES``, and, with
    ``within``, only when the file's real path (symbolic links resolved) is inside that
    folder. ``pipes``: a pipe is read too (for paths typed on the command line, such as
    ``-c api_key=@/dev/stdin``), up to the same limit. Messages name the path, never the
    file's content."""
    target = Path(path).expanduser()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    if within is not None:
        real = os.path.realpath(target)
        folder = os.path.realpath(within)
        if not _inside(real, folder):
            raise InputError(
                f"{path}: outside the document's folder {folder}; not read", hints=[_OUTSIDE_HINT]
            )
        # Open the checked path itself; a last component swapped for a link is refused.
        target, flags = Path(real), flags | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    too_big = f"{path}: larger than 1 MiB ({MAX_FILE_BYTES} bytes), the most a referenced file may hold"
    try:
        info = os.fstat(fd)
        problem = None
        if stat.S_ISDIR(info.st_mode):
            problem = f"{path}: is a folder, not a file"
        elif stat.S_ISFIFO(info.st_mode) and pipes:
            os.set_blocking(fd, True)  # the user named it: wait for what is piped in
        elif not stat.S_ISREG(info.st_mode):
            problem = f"{path}: not a regular file (a device, pipe or socket is never read)"
        elif info.st_size > MAX_FILE_BYTES:
            problem = too_big
    except BaseException:
        os.close(fd)
        raise
    if problem:
        os.close(fd)
        raise InputError(problem)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:  # it grew after the check
        raise InputError(too_big)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


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

    Files are read with ``read_reference_file``; ``allow_outside_files`` (default:
    ``INTEG_ALLOW_OUTSIDE_FILES``) lifts the confinement of documents to their folder.
    """

    def __init__(self, interactive: bool | None = None, allow_outside_files: bool | None = None):
        if interactive is None:
            interactive = stdin_is_terminal()
        self.interactive = interactive
        self.allow_outside_files = (
            outside_files_allowed() if allow_outside_files is None else allow_outside_files
        )
        #: why the keyring could not be used, once it failed (then it is not asked again)
        self.keyring_problem: str | None = None

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def read_file(self, path: Path, within: Path | None = None) -> str:
        """``within`` None: a path typed on the command line (a pipe is accepted too)."""
        confine = None if self.allow_outside_files else within
        return read_reference_file(path, confine, pipes=within is None)

    def keyring(self, provider: str, key: str) -> str | None:
        """An explicit ``${keyring}`` reference: a failing keyring is an error here (raised
        as ``KeyringUnavailable``, an ``InputError``), since the document asks for it."""
        from conductor_integrations.secrets import credentials

        reason = credentials.disabled_reason()
        if reason:
            raise credentials.KeyringUnavailable(f"read {provider}/{key} from the keyring", reason)
        return credentials.get_secret(provider, key, interactive=self.interactive)

    def missing_secret(self, provider: str, key: str) -> str | None:
        from conductor_integrations.secrets import credentials

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


class OfflineResolver:
    """Resolves nothing (``integ validate --offline``): every well-formed reference is left
    unresolved (``payload.Unresolved``), so no variable need be set, no file is read and the
    keyring is never touched; a required secret absent from the document is not asked for
    (``apply`` may find it in the keyring). Reference syntax is still checked by the caller."""

    def env(self, name: str) -> str | None:
        from conductor_integrations.documents.payload import Unresolved

        raise Unresolved(name)

    def read_file(self, path: Path, within: Path | None = None) -> str:
        from conductor_integrations.documents.payload import Unresolved

        raise Unresolved(str(path))

    def keyring(self, provider: str, key: str) -> str | None:
        from conductor_integrations.documents.payload import Unresolved

        raise Unresolved(f"{provider}/{key}")

    def missing_secret(self, provider: str, key: str) -> str | None:
        from conductor_integrations.documents.payload import Unresolved

        raise Unresolved(f"{provider}/{key}")
