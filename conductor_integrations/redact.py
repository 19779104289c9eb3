"""The one masking function behind every output path.

Two mechanisms, both applied everywhere: configuration values under secret keys are
replaced by ``MASK`` (by key), and every secret value this process has met (resolved
references, keyring look-ups, tokens, key secrets) is replaced wherever it appears in
text (by value): tables, JSON/YAML, ``--dry-run``, error messages, server text echoed
back, and ``--debug`` HTTP logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "********"
#: Values shorter than this are masked by key but not searched for in free text, where
#: they would mangle ordinary words.
MIN_SCRUB_LENGTH = 4

_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(*values: str | None) -> None:
    """Remember secret values so that ``scrub`` removes them from any text."""
    global _pattern
    added = False
    for value in values:
        if value and value not in _values:
            _values.add(value)
            added = True
            # A value that spans lines may be printed one line at a time.
            for line in value.splitlines():
                if len(line.strip()) >= MIN_SCRUB_LENGTH:
                    _values.add(line.strip())
    if added:
        _pattern = None


def registered() -> frozenset[str]:
    return frozenset(_values)


def forget_all() -> None:
    """Forget every registered value (tests)."""
    global _pattern
    _values.clear()
    _pattern = None


def scrub(text: str) -> str:
    """``text`` with every registered secret value replaced by ``MASK``."""
    global _pattern
    if not _values or not text:
        return text
    if _pattern is None:
        candidates = sorted((v for v in _values if len(v) >= MIN_SCRUB_LENGTH), key=len, reverse=True)
        if not candidates:
            return text
        _pattern = re.compile("|".join(re.escape(v) for v in candidates))
    return _pattern.sub(MASK, text)


def mask_config(config: Any, secret_keys: Iterable[str]) -> Any:
    """A copy of a configuration mapping with the values of ``secret_keys`` masked."""
    if not isinstance(config, dict):
        return config
    keys = set(secret_keys)
    return {k: (MASK if k in keys and v not in (None, "") else v) for k, v in config.items()}


def mask_provider(obj: Any, secret_keys: Iterable[str]) -> Any:
    """A copy of a provider (body or server object) with secret configuration masked."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    if "configuration" in out:
        out["configuration"] = mask_config(out["configuration"], secret_keys)
    return out


def scrub_data(obj: Any) -> Any:
    """``scrub`` applied to every string inside a JSON-like structure."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {scrub_data(k): scrub_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_data(v) for v in obj]
    return obj
