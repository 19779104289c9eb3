"""How an ``integ`` process starts and ends: garbage collection paused while it starts and
resumed when the command runs; ``leave()`` at the end.

Starting a command imports Typer, integ's modules and their tables: some 100,000 objects,
none of them garbage. Collecting while they are made finds nothing and, on a short command,
takes about a tenth of the run. ``pause()`` (called first by the console script) stops the
collector; ``resume()`` (called as the command begins to run, once its module is imported)
moves everything made so far out of the collector's sight (``gc.freeze``: it is kept for
the whole run anyway, so later collections need not walk it) and starts collecting again.
Only what ``pause()`` stopped is started again: a program that calls ``cli.run`` with the
collector off keeps it off.
"""

import gc
import os
import sys
from typing import NoReturn

_paused = False


def pause() -> None:
    """Stop the collector, if it runs, until ``resume()``."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Start the collector again if ``pause()`` stopped it; what exists now is frozen."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def leave(code: int) -> NoReturn:
    """End the process without the interpreter's teardown (freeing every module and object
    one by one: as much as a fifth of a short command's run, paid again by every call in a
    script's loop), since the process ends anyway.

    End it with ``code``: exit handlers run (``atexit``, so coverage, logging and
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
            quiet_stdout()
            code = code or 1
        except (OSError, ValueError):  # closed or failing: nothing more can be said on it
            pass
    os._exit(code)


def quiet_stdout() -> None:
    """Point standard output at the null device (its reader has gone), so that nothing
    later tries to write there again."""
    import contextlib

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
