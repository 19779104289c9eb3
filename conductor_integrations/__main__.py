"""``python -m conductor_integrations`` and the ``integ`` console script.

``integ --version`` is answered here, before the command tree (and Typer) is imported:
scripts ask it often, and it needs nothing else.

A finished command leaves through ``leave()``: the exit handlers run and the standard
streams are flushed, as at any exit, but the interpreter's teardown (freeing every module
and object one by one) is skipped, since the process ends anyway. That teardown costs as
much as a fifth of a short command's run, paid again by every call in a script's loop.
"""

import os
import sys
from typing import NoReturn


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"] and sys.stdout is not None:
        from conductor_integrations import __version__

        try:
            sys.stdout.write(f"integ {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # as every command: exit 1, silently
            _quiet_stdout()
            sys.exit(1)
        sys.exit(0)
    from conductor_integrations import startup

    startup.pause()
    from conductor_integrations import cli

    leave(cli.run())


def leave(code: int) -> NoReturn:
    """End the process with ``code``: exit handlers run (``atexit``, so coverage, logging and
    temporary folders are finished), the standard streams are flushed, then ``os._exit``.

    A thread that is not a daemon and still runs is waited for by a normal exit, so then
    the normal exit is taken. A standard stream that cannot be flushed because its reader
    has gone (``integ ... | head``) ends the run with 1, silently, as every broken pipe.
    """
    threading = sys.modules.get("threading")
    if threading is not None:
        main_thread = threading.main_thread()
        if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
            sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            _quiet_stdout()
            code = code or 1
        except (OSError, ValueError):  # closed or failing: nothing more can be said on it
            pass
    os._exit(code)


def _quiet_stdout() -> None:
    """Point standard output at the null device (its reader has gone), so that nothing
    later tries to write there again."""
    import contextlib

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
