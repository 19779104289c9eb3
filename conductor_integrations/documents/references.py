"""The real ``payload.Resolver``: environment, files, keyring and the hidden prompt.

Nothing here prints: what the resolver has to say (a keyring that cannot be used, a secret
stored) is collected in ``LocalResolver.notices`` for the command to print, and the prompt
is asked through the ``Ask`` the command hands in.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, TextIO

from conductor_integrations.documents.reader import file_error
from conductor_integrations.errors import InputError

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
    except OSError as exc:
        raise file_error(path, exc) from None
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
            raise file_error(path, exc) from None
    if len(data) > MAX_FILE_BYTES:  # it grew after the check
        raise InputError(too_big)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise file_error(path, exc) from None


def stdin_is_terminal(stream: TextIO | None = None) -> bool:
    """True when stdin is an open terminal (so a person can be asked); never raises."""
    stream = sys.stdin if stream is None else stream
    try:
        return bool(stream) and not stream.closed and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Ask(Protocol):
    """The person at the terminal, handed in by the command (``cli.prompts.TERMINAL``)."""

    def hidden(self, prompt: str) -> str:
        """The answer to ``prompt``, typed without echo ("" for none)."""
        ...

    def yes_no(self, question: str) -> bool: ...


def without_keyring(key: str) -> str:
    """The ways to give the secret ``key`` that need no keyring."""
    return (
        f"without a keyring: `{key}: ${{env:VAR}}` in the document (or -c '{key}=${{env:VAR}}'), "
        f"-c {key}=@file, or -c {key}=@/dev/stdin to read it from stdin"
    )


class LocalResolver:
    """Resolves references for ``put``, ``apply`` and ``validate`` on this machine.

    Where a required secret with no value comes from, in order:

    1. the keyring (``integ secret set PROVIDER KEY``), unless the keyring is turned off
       (``CI``, ``INTEG_NO_KEYRING``);
    2. a hidden prompt, when stdin is a terminal (``interactive``) and the command handed in
       an ``ask``, offering to store the answer in the keyring;
    3. nothing: the key stays missing and validation reports it (exit 3) with every way to
       supply it. With stdin closed or not a terminal it never waits for input.

    A keyring that is absent (no backend, or the null backend that stores nothing), failing
    or does not answer within the deadline is asked once: the first reference or missing
    secret that needed it says why and names the ways that need no keyring, the later ones
    say only that it is not there.

    Files are read with ``read_reference_file``; ``allow_outside_files`` (default:
    ``INTEG_ALLOW_OUTSIDE_FILES``) lifts the confinement of documents to their folder.
    ``notices`` and ``notes``: what the command should print as warnings (a keyring write
    refused) and as information (a secret stored).
    """

    def __init__(
        self,
        interactive: bool | None = None,
        allow_outside_files: bool | None = None,
        ask: Ask | None = None,
    ):
        if interactive is None:
            interactive = stdin_is_terminal()
        self.interactive = interactive
        self.ask = ask
        self.allow_outside_files = (
            outside_files_allowed() if allow_outside_files is None else allow_outside_files
        )
        #: why the keyring could not be used, once it failed (then it is not asked again)
        self.keyring_problem: str | None = None
        #: lines for the command to print as warnings
        self.notices: list[str] = []
        #: lines for the command to print as information (a secret stored)
        self.notes: list[str] = []
        self._backend_stores = False

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def read_file(self, path: Path, within: Path | None = None) -> str:
        """``within`` None: a path typed on the command line (a pipe is accepted too)."""
        confine = None if self.allow_outside_files else within
        return read_reference_file(path, confine, pipes=within is None)

    def keyring(self, provider: str, key: str) -> str | None:
        """An explicit ``${keyring}`` reference: a keyring that is off or cannot be used is
        an error here (an ``InputError``), since the document asks for it."""
        from conductor_integrations.secrets import credentials

        reason = credentials.disabled_reason()
        if reason and self.keyring_problem is None:
            self.keyring_problem = reason
            raise credentials.KeyringUnavailable(
                f"read {provider}/{key} from the keyring",
                reason,
                alternatives=(without_keyring(key),),
            )
        value = self._read(provider, key)
        if value is None:
            self._check_absent(provider, key)
        return value

    def missing_secret(self, provider: str, key: str) -> str | None:
        from conductor_integrations.secrets import credentials

        if self.keyring_problem is None:
            try:
                value = self._read(provider, key)
                if value:
                    return value
                if not credentials.disabled_reason():
                    self._check_absent(provider, key)
            except InputError as exc:
                if not self._can_prompt():
                    raise
                self.notices.append(f"{exc.message}; a value typed at the prompt is not stored")
        if not self._can_prompt():
            if self.keyring_problem is not None:
                raise self._again(provider, key)
            return None
        assert self.ask is not None
        value = self.ask.hidden(f"{key} for {provider} (input hidden, Enter to skip): ")
        if not value:
            return None
        can_store = self.keyring_problem is None and not credentials.disabled_reason()
        if can_store and self.ask.yes_no(f"Store it in the keyring as {provider}/{key} for next time?"):
            try:
                credentials.set_secret(provider, key, value, interactive=True)
            except credentials.KeyringUnavailable as exc:
                self.notices.append(f"{exc.message}; the value is used for this command only")
            else:
                self.notes.append(f"stored {provider}/{key} in the keyring")
        return value

    def _can_prompt(self) -> bool:
        return self.interactive and self.ask is not None

    def _read(self, provider: str, key: str) -> str | None:
        """The keyring's value, or None; the first failure is raised with why and what to do
        instead, the later ones in short (the keyring is not asked again)."""
        from conductor_integrations.secrets import credentials

        if self.keyring_problem is not None:
            raise self._again(provider, key)
        try:
            return credentials.get_secret(provider, key, interactive=self.interactive)
        except credentials.KeyringUnavailable as exc:
            self.keyring_problem = exc.reason
            raise self._first(provider, key, exc.reason, exc.hints) from None

    def _check_absent(self, provider: str, key: str) -> None:
        """Raise (as ``_read`` does) when nothing was found because there is no keyring to
        find it in: the null backend answers every read with nothing."""
        from conductor_integrations.secrets import credentials

        if self._backend_stores:
            return
        try:
            credentials.require_storing_backend(f"read {provider}/{key} from the keyring")
        except credentials.KeyringUnavailable as exc:
            self.keyring_problem = exc.reason
            raise self._first(provider, key, exc.reason, exc.hints) from None
        self._backend_stores = True

    def _first(self, provider: str, key: str, reason: str, hints: list[str]) -> InputError:
        from conductor_integrations.secrets import credentials

        own = [h for h in hints if h not in credentials.ALTERNATIVES]
        return InputError(
            f"cannot read {provider}/{key} from the keyring: {reason}",
            hints=[*own, without_keyring(key)],
        )

    def _again(self, provider: str, key: str) -> InputError:
        return InputError(f"cannot read {provider}/{key}: no usable keyring (said above)")


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
