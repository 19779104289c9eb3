"""How an `integ` process starts and ends: the collector paused while the command tree is
imported and started again when the command runs (`startup`), and `startup.leave`, which
skips the interpreter's teardown but not the exit handlers, the flushing of the standard
streams, a thread still at work, or the exit code. Each exit is checked in a process of
its own, the way the console script ends."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations import startup
from conductor_integrations.cli import run

ROOT = Path(__file__).resolve().parents[2]


def leaving(tmp_path: Path, body: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """Run ``body`` (Python) in a fresh process, then ``leave(CODE)`` as ``main()`` does."""
    script = "import os, sys\nfrom conductor_integrations.startup import leave\n" + textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OUT=str(tmp_path / "out"))
    return subprocess.run([sys.executable, "-c", script], env=env, timeout=60, **kwargs)  # type: ignore[call-overload, no-any-return]


def test_leave_exits_with_the_code_after_the_exit_handlers(tmp_path: Path) -> None:
    proc = leaving(
        tmp_path,
        """
        import atexit
        atexit.register(lambda: open(os.environ["OUT"], "w").write("handlers ran"))
        leave(6)
        """,
        capture_output=True,
    )
    assert proc.returncode == 6
    assert (tmp_path / "out").read_text() == "handlers ran"
    assert proc.stderr == b""


def test_leave_flushes_what_is_still_buffered_on_both_streams(tmp_path: Path) -> None:
    proc = leaving(
        tmp_path,
        """
        sys.stdout = open(sys.stdout.fileno(), "w", buffering=1 << 20, closefd=False)
        sys.stderr = open(sys.stderr.fileno(), "w", buffering=1 << 20, closefd=False)
        sys.stdout.write("x" * 300_000)
        sys.stderr.write("warning: the last line\\n")
        leave(0)
        """,
        capture_output=True,
    )
    assert proc.returncode == 0
    assert proc.stdout == b"x" * 300_000
    assert proc.stderr == b"warning: the last line\n"


def test_leave_waits_for_a_thread_still_at_work(tmp_path: Path) -> None:
    proc = leaving(
        tmp_path,
        """
        import threading, time
        def work():
            time.sleep(0.3)
            open(os.environ["OUT"], "w").write("finished")
        threading.Thread(target=work).start()
        leave(4)
        """,
        capture_output=True,
    )
    assert proc.returncode == 4
    assert (tmp_path / "out").read_text() == "finished"


def test_leave_does_not_wait_for_a_daemon_thread(tmp_path: Path) -> None:
    proc = leaving(
        tmp_path,
        """
        import threading, time
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        leave(0)
        """,
        capture_output=True,
    )
    assert proc.returncode == 0


def test_leave_after_the_reader_went_away_is_exit_1_and_silent(tmp_path: Path) -> None:
    """``integ ... | head``: what is left to flush cannot be written; no traceback, no
    "Exception ignored", exit 1 as for every broken pipe."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys\nfrom conductor_integrations.startup import leave\n"
            "sys.stdin.read()\nsys.stdout.write('unread')\nleave(0)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes before anything is flushed
    proc.stdin.close()
    assert proc.wait(timeout=60) == 1
    with proc.stderr:
        assert proc.stderr.read() == b""


@pytest.fixture
def paused() -> Iterator[None]:
    """A collector paused as the console script pauses it; afterwards as it was."""
    was_enabled = gc.isenabled()
    startup.pause()
    try:
        yield
    finally:
        startup._paused = False
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def test_the_collector_runs_again_once_the_command_runs(
    paused: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not gc.isenabled()
    assert run(["types", "list", "-o", "json"]) == 0
    assert '"type": "openai"' in capsys.readouterr().out
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what start-up made is out of the collector's way


def test_help_alone_does_not_start_the_collector(paused: None, capsys: pytest.CaptureFixture[str]) -> None:
    """No command ran (``--help`` is answered while the line is read): the process ends
    without having collected at all."""
    assert run(["types", "list", "--help"]) == 0
    assert "Usage: integ types list" in capsys.readouterr().out
    assert not gc.isenabled()


def test_a_caller_with_the_collector_off_keeps_it_off() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        startup.pause()
        startup.resume()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        if was_enabled:
            gc.enable()


def test_the_console_script_ends_every_command_through_leave(tmp_path: Path) -> None:
    """A command run as ``integ`` ends without the interpreter's teardown: an object whose
    finaliser would run at a normal exit is left alone, and the output is whole."""
    script = textwrap.dedent(
        """
        import os, sys
        class Marker:
            def __del__(self):
                os.write(2, b"torn down\\n")
        sys.modules["marker"] = Marker()  # freed at a normal exit's teardown
        sys.argv = ["integ", "types", "list", "-o", "json"]
        from conductor_integrations.__main__ import main
        main()
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.rstrip().endswith("]")
    assert '"type": "openai"' in proc.stdout
    assert "torn down" not in proc.stderr


def test_every_command_starts_the_collector_again() -> None:
    """The collector is started again in ``options.Command.invoke``: every command of the
    whole tree must be one (a command that was not would run with it off: ``integ server``
    for hours, an apply of thousands)."""
    from typer.main import get_command

    from conductor_integrations.cli import app
    from conductor_integrations.cli.options import Command

    def leaves(command: Any, path: str) -> list[tuple[str, Any]]:
        if not hasattr(command, "list_commands"):  # Typer vendors click: a group by its shape
            return [(path, command)]
        ctx = command.context_class(command)
        return [
            leaf
            for name in command.list_commands(ctx)
            for leaf in leaves(command.get_command(ctx, name), f"{path} {name}")
        ]

    found = leaves(get_command(app), "integ")
    assert len(found) > 25
    assert {"integ server", "integ __complete", "integ validate"} <= {p for p, _ in found}
    assert [p for p, c in found if not isinstance(c, Command)] == []
