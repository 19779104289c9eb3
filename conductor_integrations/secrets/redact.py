"""The one masking function behind every output path.

Two mechanisms, both applied everywhere: configuration values under secret keys are
replaced by ``MASK`` (by key), and every secret value this process has met (resolved
references, keyring look-ups, prompts, tokens, key secrets) is replaced wherever it appears
in text (by value): tables, JSON/YAML, ``--dry-run``, error messages, server text echoed
back, and ``--debug`` HTTP logs.

A value is also found in the forms it takes on its way out: JSON-escaped (as in a request
body, ASCII-only or not), as Python's ``repr`` shows it (either quote), HTML-escaped,
percent-encoded (URLs, forms), and line by line when it spans lines. Whitespace inside a
value matches any run of whitespace (or its ``\t``/``\n`` escapes), so a server that
collapses or re-wraps it still has it masked. Passwords in URLs (``https://user:pw@host``)
are masked whether registered or not.

Text from a server is masked *before* it is normalised or cut (``scrub_cut``): a cut
cannot leave a prefix of a secret, nor part of a mask. A string that ends (or begins)
with at least ``MIN_PARTIAL`` characters of a secret's start (or end), as a server's own
cut leaves it, has that piece masked too.

For the ``--debug`` HTTP log the client calls ``mask_headers`` and ``mask_body`` (or
``mask_json_text`` for raw text), which mask by name as well: ``X-Authorization``,
``Authorization``, cookies, ``keySecret``, ``token``, and secret configuration keys.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from conductor_integrations.secrets import safe_json

MASK = "********"
#: Values shorter than this are masked by key but not searched for in free text, where
#: they would mangle ordinary words.
MIN_SCRUB_LENGTH = 4
#: The shortest piece of a secret masked where a string was cut (``scrub_cut``).
MIN_PARTIAL = 6
#: What may stand where a string was cut: an ellipsis, closing quotes, whitespace.
_CUT_MARKS = " \t\r\n.…\"'"

#: Header names (lower case) whose values are always masked in logs.
SECRET_HEADERS = frozenset(
    {"x-authorization", "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
#: JSON field names whose values are masked wherever they appear in a logged body.
SECRET_FIELDS = frozenset({"keySecret", "token", "password", "secret", "accessToken", "refreshToken"})

#: The deepest structure the walkers here go into (replies are refused beyond
#: ``safe_json.MAX_DEPTH``, which is less; this also leaves room for what integ wraps
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
        " ".join(value.split()),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        # repr picks its quote by the whole text the value is in: both ways.
        repr(value + "'\"")[1:-3],
        html.escape(value),
        html.escape(value, quote=False),
        quote(value, safe=""),
        quote(value),
        quote_plus(value, safe=""),
        quote_plus(value),
    }
    # A value that spans lines may be printed one line at a time.
    if "\n" in value or "\r" in value:
        forms.update(line.strip() for line in value.splitlines())
    return {f.strip() for f in forms if len(f.strip()) >= MIN_SCRUB_LENGTH}


#: Where a value has whitespace, any run of whitespace (or its escapes) matches.
_SPACE = re.compile(r"\s+")
_ANY_SPACE = r"(?:\s|\\[tnr])+"


def _regex(form: str) -> str:
    return _ANY_SPACE.join(re.escape(part) for part in _SPACE.split(form))


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
            _pattern = re.compile("|".join(_regex(v) for v in candidates))
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


def _mask_partial_ends(text: str) -> str:
    """``text`` with a piece of a registered value masked where the text may have been
    cut: a start of one at its end, an end of one at its start (an ellipsis, quotes or
    whitespace may stand beside the cut)."""
    with _lock:
        values = [v for v in _values if len(v) > MIN_PARTIAL]
    if not values:
        return text
    body = text.rstrip(_CUT_MARKS)
    tail = text[len(body) :]
    for value in sorted(values, key=len, reverse=True):
        last = body[-1:]
        for size in range(len(value) - 1, MIN_PARTIAL - 1, -1):
            if value[size - 1] == last and body.endswith(value[:size]):
                body = body[:-size] + MASK
                break
    head_len = len(body) - len(body.lstrip(_CUT_MARKS))
    head, body = body[:head_len], body[head_len:]
    for value in sorted(values, key=len, reverse=True):
        first = body[:1]
        for size in range(len(value) - 1, MIN_PARTIAL - 1, -1):
            if value[-size] == first and body.startswith(value[-size:]):
                body = MASK + body[size:]
                break
    return head + body + tail


def truncate(text: str, limit: int) -> str:
    """``text`` cut at ``limit`` characters without splitting a ``MASK``: a mask the cut
    would go through is left out whole."""
    if len(text) <= limit:
        return text
    start = text.find(MASK, max(0, limit - len(MASK) + 1), limit + len(MASK) - 1)
    return text[:start] if -1 < start < limit else text[:limit]


def scrub_cut(text: str, limit: int | None = None) -> str:
    """Server text made safe to show: masked (raw, before any normalisation), pieces of a
    secret at a cut masked, whitespace collapsed, then cut at ``limit`` characters."""
    if not text:
        return text
    masked = _mask_partial_ends(scrub(text))
    flat = " ".join(masked.split())
    return truncate(flat, limit) if limit is not None else flat


def is_masked(value: Any) -> bool:
    """A mask, never a value: integ's ``********``, the server's ``xxxxxxxxxx``, or any
    non-empty text made only of ``*`` or only of ``x``."""
    return isinstance(value, str) and value != "" and (set(value) <= {"*"} or set(value) <= {"x"})


def _is_secret(key: Any) -> bool:
    from conductor_integrations.types import builtin

    return isinstance(key, str) and builtin.is_secret_key(key)


def mask_nested(value: Any) -> Any:
    """A copy of a nested value (a mapping or list inside a configuration) with the value
    of every secret-looking key masked, at any depth."""
    if isinstance(value, dict):
        return {
            k: (MASK if _is_secret(k) and v not in (None, "") else mask_nested(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_nested(v) for v in value]
    return value


def holds_secret(value: Any) -> bool:
    """True when a nested value has a secret-looking key somewhere inside."""
    if isinstance(value, dict):
        return any(_is_secret(k) or holds_secret(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_secret(v) for v in value)
    return False


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


#: Values under a secret-looking key that are settings, not secrets (``secretsEnabled``).
_NOT_SECRETS = frozenset({"true", "false", "null", "none", "yes", "no"})


def register_keyed(obj: Any) -> None:
    """Register the values under secret-looking keys anywhere in a JSON-like structure
    (what a server sent, or a body about to be sent), so that an echo of one elsewhere,
    under a plain key or in an error message, is masked by value too. Masks are skipped."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SECRET_FIELDS or _is_secret(k):
                register(*(s for s in _strings(v) if not is_masked(s) and s.lower() not in _NOT_SECRETS))
            else:
                register_keyed(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            register_keyed(v)


def mask_config(config: Any, secret_keys: Iterable[str]) -> Any:
    """A copy of a configuration mapping with the values of ``secret_keys`` (and of every
    secret-looking key, nested ones included) masked."""
    if not isinstance(config, dict):
        return config
    keys = set(secret_keys)
    return {
        k: (MASK if (k in keys or _is_secret(k)) and v not in (None, "") else mask_nested(v))
        for k, v in config.items()
    }


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


def mask_body(obj: Any, depth: int = MAX_DEPTH) -> Any:
    """A JSON body (request or response) for the debug log: the values of ``keySecret``,
    ``token``, every secret-looking key (``builtin.is_secret_key``) and the like
    masked at any depth (a structure under such a key as a whole), and every registered
    value scrubbed from the rest (each string as a whole, so a cut is seen). Anything
    nested deeper than ``MAX_DEPTH`` is masked whole."""
    if isinstance(obj, (dict, list, tuple)) and depth <= 0:
        return MASK
    if isinstance(obj, dict):
        return {
            scrub(str(k)): (
                MASK
                if (k in SECRET_FIELDS or _is_secret(k)) and v not in (None, "", [], {})
                else mask_body(v, depth - 1)
            )
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [mask_body(v, depth - 1) for v in obj]
    return _mask_partial_ends(scrub(obj)) if isinstance(obj, str) else obj


def mask_json_text(text: str | bytes | None) -> str:
    """A raw body for the debug log: parsed and masked with ``mask_body`` when it is JSON,
    else scrubbed as text; JSON nested too deep to mask is not shown at all."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        parsed = safe_json.loads(text)
    except safe_json.TooDeep as exc:
        return f"({exc}: not shown)"
    except ValueError:
        return _mask_partial_ends(scrub(text))
    register_keyed(parsed)
    return json.dumps(mask_body(parsed), ensure_ascii=False)
