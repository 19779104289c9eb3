"""The one masking function behind every output path.

Two mechanisms, both applied everywhere: configuration values under secret keys are
replaced by ``MASK`` (by key), and every secret value this process has met (resolved
references, keyring look-ups, prompts, tokens, key secrets) is replaced wherever it appears
in text (by value): tables, JSON/YAML, ``--dry-run``, error messages, server text echoed
back, and ``--debug`` HTTP logs.

A value is also found in the forms it takes on its way out: JSON-escaped (as in a request
body, ASCII-only or not), as Python's ``repr`` shows it, percent-encoded (URLs, forms), and
line by line when it spans lines. Passwords in URLs (``https://user:pw@host``) are masked
whether registered or not.

For the ``--debug`` HTTP log the client calls ``mask_headers`` and ``mask_body`` (or
``mask_json_text`` for raw text), which mask by name as well: ``X-Authorization``,
``Authorization``, cookies, ``keySecret``, ``token``, and secret configuration keys.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
#: Values shorter than this are masked by key but not searched for in free text, where
#: they would mangle ordinary words.
MIN_SCRUB_LENGTH = 4

#: Header names (lower case) whose values are always masked in logs.
SECRET_HEADERS = frozenset(
    {"x-authorization", "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
#: JSON field names whose values are masked wherever they appear in a logged body.
SECRET_FIELDS = frozenset({"keySecret", "token", "password", "secret", "accessToken", "refreshToken"})

#: The deepest structure the walkers here go into (replies are refused beyond
#: ``replies.MAX_DEPTH``, which is less; this also leaves room for what integ wraps
#: around them), far from Python's recursion limit.
MAX_DEPTH = 100

_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+(?=@)")


def _forms(value: str) -> set[str]:
    """The ways ``value`` may be written in output."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
    }
    # A value that spans lines may be printed one line at a time.
    if "\n" in value or "\r" in value:
        forms.update(line.strip() for line in value.splitlines())
    return {f for f in forms if len(f) >= MIN_SCRUB_LENGTH}


def register(*values: str | None) -> None:
    """Remember secret values so that ``scrub`` removes them from any text."""
    global _pattern
    with _lock:
        for value in values:
            if value and value not in _values:
                _values.add(value)
                _values.update(_forms(value))
                _pattern = None


def registered() -> frozenset[str]:
    with _lock:
        return frozenset(_values)


def forget_all() -> None:
    """Forget every registered value (tests)."""
    global _pattern
    with _lock:
        _values.clear()
        _pattern = None


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None:
            candidates = sorted((v for v in _values if len(v) >= MIN_SCRUB_LENGTH), key=len, reverse=True)
            if not candidates:
                return None
            # Longest first, so that a value containing another is masked whole.
            _pattern = re.compile("|".join(re.escape(v) for v in candidates))
        return _pattern


def scrub(text: str) -> str:
    """``text`` with every registered secret value (in any of its forms) and every password
    in a URL replaced by ``MASK``."""
    if not text:
        return text
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    if not _values:
        return text
    pattern = _compiled()
    return pattern.sub(MASK, text) if pattern is not None else text


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


def deeper_than(obj: Any, limit: int) -> bool:
    """True when ``obj`` nests dicts, lists and tuples deeper than ``limit`` (without
    recursing)."""
    todo: list[tuple[Any, int]] = [(obj, 0)]
    while todo:
        current, depth = todo.pop()
        if isinstance(current, dict):
            current = list(current.values())
        elif not isinstance(current, (list, tuple)):
            continue
        if depth >= limit:
            return True
        todo.extend((v, depth + 1) for v in current)
    return False


def scrub_data(obj: Any, max_depth: int = MAX_DEPTH) -> Any:
    """``scrub`` applied to every string inside a JSON-like structure. Nesting deeper than
    ``max_depth`` raises ``TooDeepToPrint``: the printers that take the result (JSON,
    YAML) recurse too."""

    def walk(obj: Any, depth: int) -> Any:
        if isinstance(obj, str):
            return scrub(obj)
        if isinstance(obj, (dict, list, tuple)) and depth <= 0:
            from conductor_integrations.errors import TooDeepToPrint

            raise TooDeepToPrint(f"cannot print data nested deeper than {max_depth} levels")
        if isinstance(obj, dict):
            return {walk(k, depth): walk(v, depth - 1) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v, depth - 1) for v in obj]
        return obj

    return walk(obj, max_depth)


# -- the --debug HTTP log -------------------------------------------------------------------


def mask_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Request or response headers for the debug log: token-carrying headers masked by
    name, every other value scrubbed."""
    return {
        str(name): MASK if str(name).lower() in SECRET_HEADERS else scrub(str(value))
        for name, value in headers.items()
    }


def _secret_key(key: str) -> bool:
    if key in SECRET_FIELDS:
        return True
    from conductor_integrations import provider_types

    return provider_types.is_secret_key(key)


def mask_body(obj: Any, depth: int = MAX_DEPTH) -> Any:
    """A JSON body (request or response) for the debug log: the values of ``keySecret``,
    ``token``, secret configuration keys and the like masked at any depth, and every
    registered value scrubbed from the rest. Anything nested deeper than ``MAX_DEPTH`` is
    masked whole."""
    if isinstance(obj, (dict, list, tuple)) and depth <= 0:
        return MASK
    if isinstance(obj, dict):
        return {
            scrub(str(k)): (
                MASK
                if isinstance(k, str)
                and _secret_key(k)
                and v not in (None, "")
                and not isinstance(v, (dict, list))
                else mask_body(v, depth - 1)
            )
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [mask_body(v, depth - 1) for v in obj]
    return scrub(obj) if isinstance(obj, str) else obj


def mask_json_text(text: str | bytes | None) -> str:
    """A raw body for the debug log: parsed and masked with ``mask_body`` when it is JSON,
    else scrubbed as text; JSON nested too deep to mask is not shown at all."""
    from conductor_integrations import replies

    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        parsed = replies.loads(text)
    except replies.TooDeep as exc:
        return f"({exc}: not shown)"
    except ValueError:
        return scrub(text)
    return json.dumps(mask_body(parsed), ensure_ascii=False)
