"""Importing PyYAML without compiling, up front, the regular expressions it compiles at import.

``import yaml`` compiles a dozen regular expressions in its modules' bodies. The costliest,
``yaml.reader.Reader.NON_PRINTABLE`` (every character YAML does not allow), spans the whole
of Unicode and costs more to compile than all the rest of PyYAML's import, yet libyaml's
loader (``yaml.CSafeLoader``, the one the document reader uses) never uses it; most of the
others (the resolver's dates, floats, merge keys ...) are used only by documents that hold
such values. ``prepare()`` imports PyYAML with each expression its modules compile being
compiled the first time it is used instead; everything else is PyYAML as it is. Call
``prepare()`` before ``import yaml``.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

_lock = threading.Lock()


class DeferredPattern:
    """A regular expression compiled when first used; from then on every attribute
    (``match``, ``search``, ``pattern`` ...) is the compiled pattern's."""

    def __init__(self, pattern: Any, flags: Any = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[Any] | None = None

    def compiled(self) -> re.Pattern[Any]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return repr(self.compiled())


def prepare() -> None:
    """Import PyYAML (once), the expressions its modules compile deferred (module doc)."""
    if "yaml" in sys.modules:
        return
    with _lock:
        if "yaml" in sys.modules:
            return
        compile_now = re.compile

        def compile_or_defer(pattern: Any, flags: Any = 0) -> Any:
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller == "yaml" or caller.startswith("yaml."):
                return DeferredPattern(pattern, flags)
            return compile_now(pattern, flags)  # another thread's, meanwhile

        re.compile = compile_or_defer
        try:
            import yaml  # noqa: F401
        finally:
            re.compile = compile_now
