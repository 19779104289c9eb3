"""Completion in real interactive shells on a pseudo-terminal: TAB inserts a hostile
provider name, Enter runs the line, and the name must reach ``integ`` as one argument with
nothing else run.

``integ`` on the shell's PATH is a wrapper: ``integ __complete`` runs this checkout, any
other call records its arguments (JSON) in a file and does nothing more. The names come
from the known-providers file, where ``integ provider list`` puts the names a server
returned. Each shell is skipped only when it is not installed.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conductor_integrations.cli import complete_values

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

REPO = Path(__file__).resolve().parent.parent
COMPLETIONS = REPO / "completions"
#: A safety net against a hung shell, never an assertion on speed.
DEADLINE = 30.0

WRAPPER = """#!/bin/sh
if [ "$1" = __complete ]; then exec "{python}" -m conductor_integrations "$@"; fi
exec "{python}" -c 'import json, sys; open(sys.argv[1], "w").write(json.dumps(sys.argv[2:]))' \\
    "$INTEG_ARGV_FILE" "$@"
"""


def _controlling_terminal() -> None:  # runs in the child before exec
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Shell:
    """An interactive shell on a pseudo-terminal; everything it shows is kept in ``screen``."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=str(cwd),
            preexec_fn=_controlling_terminal,
        )
        os.close(slave)
        self.screen = ""

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the shell closed the terminal
                chunk = b""
            assert chunk, f"the shell ended; screen: {self.screen!r}"
            self.screen += chunk.decode("utf-8", "replace")

    def expect(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} never appeared; screen: {self.screen!r}"
            self._read(0.2)

    def wait_for(self, path: Path) -> None:
        deadline = time.monotonic() + DEADLINE
        while not path.exists():
            assert time.monotonic() < deadline, f"{path.name} never appeared; screen: {self.screen!r}"
            self._read(0.2)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=DEADLINE)
        os.close(self.master)


READY = "ready-for-tab"
SETUP = {
    "bash": f"bind 'set bell-style none'; source {COMPLETIONS / 'integ.bash'}; echo {READY}-ok\r",
    "zsh": (
        f"autoload -Uz compinit && compinit -u -D; source {COMPLETIONS / '_integ'}; "
        f"unsetopt beep; echo {READY}-ok\r"
    ),
    "fish": f"source {COMPLETIONS / 'integ.fish'}; echo {READY}-ok\r",
}


def _argv(shell: str) -> list[str]:
    return {
        "bash": ["bash", "--norc", "--noprofile", "-i"],
        "zsh": ["zsh", "-f", "-i"],
        "fish": ["fish", "--no-config", "-i"],
    }[shell]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A folder with ``bin/integ`` (the wrapper) and an empty home for the shells."""
    (tmp_path / "bin").mkdir()
    wrapper = tmp_path / "bin" / "integ"
    wrapper.write_text(WRAPPER.format(python=sys.executable))
    wrapper.chmod(0o755)
    (tmp_path / "home").mkdir()
    return tmp_path


def _shell(name: str, home: Path) -> Iterator[Shell]:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BASH_", "ZSH", "FISH", "HIST"))}
    env.update(
        PATH=f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=str(REPO),
        HOME=str(home / "home"),
        ZDOTDIR=str(home / "home"),
        XDG_CONFIG_HOME=str(home / "home" / ".config"),
        XDG_DATA_HOME=str(home / "home" / ".local" / "share"),
        INTEG_ARGV_FILE=str(home / "argv.json"),
        PS1="$ ",
        PROMPT="$ ",
        TERM="xterm",
        HISTFILE=str(home / "home" / "history"),
    )
    shell = Shell(_argv(name), env, home)
    try:
        shell.type(SETUP[name])
        shell.expect(f"{READY}-ok\r\n")
        yield shell
    finally:
        shell.close()


@pytest.fixture(params=["bash", "zsh", "fish"])
def shell(request: pytest.FixtureRequest, home: Path) -> Iterator[Shell]:
    yield from _shell(request.param, home)


def _complete_and_run(shell: Shell, home: Path, typed: str) -> list[str]:
    """Type ``typed``, TAB, then Enter; the arguments integ was run with."""
    shell.type(typed)
    shell.expect(typed[-3:])
    shell.type("\t")
    shell.expect("marker")  # the rest of the name was inserted
    shell.type("\r")
    shell.wait_for(home / "argv.json")
    args: list[str] = json.loads((home / "argv.json").read_text())
    return args


def test_a_hostile_provider_name_is_inserted_as_one_argument(shell: Shell, home: Path) -> None:
    name = f"zzq;id>{home}/x;marker"
    complete_values.remember_providers([name], server=None)
    assert _complete_and_run(shell, home, "integ provider get zzq") == ["provider", "get", name]
    assert not (home / "x").exists()


@pytest.mark.parametrize(
    "name",
    [
        "zzq$(touch {home}/x)marker",
        "zzq`touch {home}/x`marker",
        "zzq'\"; touch {home}/x; #marker",
        "zzq name with spaces & {{touch,{home}/x}} | marker!",
        "zzq!$(touch {home}/x)!marker!",
        "zzq\\:a:b\\marker\\",
        "zzq'$(touch {home}/x)marker'",
        'zzq"$(touch {home}/x)marker"',
    ],
)
@pytest.mark.parametrize("quote", ["", "'", '"'])
@pytest.mark.parametrize("shell_name", ["bash", "zsh", "fish"])
def test_hostile_names_are_inserted_whole_in_every_quoting(
    home: Path, shell_name: str, name: str, quote: str
) -> None:
    name = name.format(home=home)
    complete_values.remember_providers([name], server=None)
    for shell in _shell(shell_name, home):
        args = _complete_and_run(shell, home, f"integ provider get {quote}zzq")
        assert args == ["provider", "get", name]
    assert not (home / "x").exists()
