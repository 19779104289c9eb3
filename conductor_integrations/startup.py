"""Garbage collection paused while integ starts, resumed when the command runs.

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
