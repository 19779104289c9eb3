"""Warnings of the core layers on their way to the command line, which prints them: code
below ``cli`` never prints. Imports nothing, so installing the sink costs nothing."""

from __future__ import annotations

from collections.abc import Callable

#: Where warnings go (``warn_with``); None: nowhere (the caller's return values still say).
_sink: Callable[[str], None] | None = None


def warn_with(sink: Callable[[str], None] | None) -> None:
    """Send later warnings to ``sink``: the command line gives its printer."""
    global _sink
    _sink = sink


def warn(message: str) -> None:
    """A warning for the person running the command (said through the installed sink)."""
    if _sink is not None:
        _sink(message)
