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

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from conductor_integrations.secrets import safe_json
from conductor_integrations.types import builtin

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
_lock = threading.Lock()
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+(?=@)")
#: What a URL's scheme is made of, and what ends its user and password.
_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")
_USERINFO_END = re.compile(r"[\s/]")
#: With at most this many anchors registered, each is looked for with ``str.find``; with
#: more, each place of the text is looked up among them.
_FIND_ANCHORS = 32


#: Text that every form below leaves as it is: no whitespace, nothing JSON, ``repr``,
#: HTML or percent-encoding would escape (most tokens and API keys).
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")


def _forms(value: str) -> set[str]:
    """The ways ``value`` may be written in output."""
    if _PLAIN.fullmatch(value):
        return {value} if len(value) >= MIN_SCRUB_LENGTH else set()
    return _escaped_forms(value)


def _escaped_forms(value: str) -> set[str]:
    """``_forms`` of any text, each escaping computed."""
    import html  # here: its table of entities is needed only once a secret is registered

    forms = {
        value,
        " ".join(value.split()),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        # repr picks its quote by the whole text the value is in: both ways (with both
        # quotes in it, repr quotes with ' and escapes it: the value then ends before \'"').
        repr(value + "'\"")[1:-4],
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
#: Forms are found by their first ``_ANCHOR`` characters (a dict look-up at each place
#: of a text), then by their whole text (a look-up for each length of form under that
#: anchor): the cost of a scan grows with the text, not with the number of registered
#: values.
_ANCHOR = MIN_SCRUB_LENGTH


def _regex(form: str) -> str:
    return _ANY_SPACE.join(re.escape(part) for part in _SPACE.split(form))


class _Bucket:
    """The forms that begin with one anchor: those without whitespace by length, those
    with whitespace (matched by a regex, any whitespace for whitespace) by their first
    word."""

    __slots__ = ("by_length", "lengths", "spaced")

    def __init__(self) -> None:
        self.by_length: dict[int, set[str]] = {}
        self.lengths: list[int] = []  # longest first
        self.spaced: dict[str, list[re.Pattern[str]]] = {}

    def add(self, form: str, head: str) -> None:
        if head == form:
            if len(form) not in self.by_length:
                self.by_length[len(form)] = set()
                self.lengths = sorted(self.by_length, reverse=True)
            self.by_length[len(form)].add(form)
        else:
            self.spaced.setdefault(head, []).append(re.compile(_regex(form)))

    def end(self, text: str, at: int) -> int:
        """The end of the longest form standing at ``at``, else -1."""
        best = -1
        for size in self.lengths:
            if text[at : at + size] in self.by_length[size]:
                best = at + size
                break
        for head, patterns in self.spaced.items():
            if text.startswith(head, at):
                for pattern in patterns:
                    found = pattern.match(text, at)
                    if found:
                        best = max(best, found.end())
        return best


#: Anchor (the first ``_ANCHOR`` characters of a form) to its bucket.
_buckets: dict[str, _Bucket] = {}
#: Forms whose first word is shorter than the anchor (a value with whitespace near its
#: start), few: one alternation, longest first, rebuilt when one is added.
_few: set[str] = set()
_few_pattern: re.Pattern[str] | None = None
#: Pieces of values for masking a cut (``_mask_partial_ends``): the first and last
#: ``MIN_PARTIAL`` characters of each value longer than that, to the values.
_starts: dict[str, set[str]] = {}
_ends: dict[str, set[str]] = {}
_longest = 0
_forms_seen: set[str] = set()


def _add_form(form: str) -> None:
    global _few_pattern
    if form in _forms_seen:
        return
    _forms_seen.add(form)
    head = _SPACE.split(form, maxsplit=1)[0]
    if len(head) >= _ANCHOR:
        _buckets.setdefault(head[:_ANCHOR], _Bucket()).add(form, head)
    else:
        _few.add(form)
        _few_pattern = None


def register(*values: str | None) -> None:
    """Remember secret values so that ``scrub`` removes them from any text."""
    global _longest
    with _lock:
        for value in values:
            if value and value not in _values:
                _values.add(value)
                forms = _forms(value) | {value}
                _values.update(forms)
                for v in forms:
                    if len(v) >= MIN_SCRUB_LENGTH:
                        _add_form(v)
                    if len(v) > MIN_PARTIAL:
                        _starts.setdefault(v[:MIN_PARTIAL], set()).add(v)
                        _ends.setdefault(v[-MIN_PARTIAL:], set()).add(v)
                        _longest = max(_longest, len(v))


def registered() -> frozenset[str]:
    with _lock:
        return frozenset(_values)


def forget_all() -> None:
    """Forget every registered value (tests)."""
    global _longest, _few_pattern
    with _lock:
        _values.clear()
        _forms_seen.clear()
        _buckets.clear()
        _few.clear()
        _few_pattern = None
        _starts.clear()
        _ends.clear()
        _longest = 0


def _spans(text: str) -> list[tuple[int, int]]:
    """Where registered forms stand in ``text``: at each place the longest one."""
    global _few_pattern
    with _lock:
        if _few and _few_pattern is None:
            _few_pattern = re.compile("|".join(_regex(f) for f in sorted(_few, key=len, reverse=True)))
        few = _few_pattern
        buckets = _buckets
        spans = [] if few is None else [m.span() for m in few.finditer(text)]
        if len(buckets) <= _FIND_ANCHORS:  # a few values (a token, a key): found at C speed
            places = sorted(i for anchor in buckets for i in _find_all(text, anchor))
        else:
            places = [i for i in range(len(text) - _ANCHOR + 1) if text[i : i + _ANCHOR] in buckets]
        for at in places:
            end = buckets[text[at : at + _ANCHOR]].end(text, at)
            if end > at:
                spans.append((at, end))
    return spans


def _find_all(text: str, anchor: str) -> Iterator[int]:
    """Every place ``anchor`` stands in ``text``, overlapping ones too."""
    at = text.find(anchor)
    while at >= 0:
        yield at
        at = text.find(anchor, at + 1)


def _url_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` masked: what
    ``_URL_PASSWORD`` masks in the whole text, looked for only around each ``://`` (a match
    holds exactly one, its scheme runs back from it, and its user and password end at the
    first whitespace or slash after it)."""
    out: list[str] = []
    done = 0
    at = text.find("://")
    while at >= 0:
        start = at
        while start > done and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        stop = _USERINFO_END.search(text, at + 3)
        end = stop.start() + 1 if stop else len(text)
        found = _URL_PASSWORD.search(text, start, end)
        if found:
            out += [text[done : found.start()], found.group("head"), MASK]
            done = found.end()
        at = text.find("://", max(at + 3, done))
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by ``MASK``; overlapping spans are one mask."""
    if not spans:
        return text
    spans.sort()
    out = []
    done = 0
    start, end = spans[0]
    for s, e in spans[1:]:
        if s < end:
            end = max(end, e)
            continue
        out += [text[done:start], MASK]
        done = end
        start, end = s, e
    out += [text[done:start], MASK, text[end:]]
    return "".join(out)


def scrub(text: str) -> str:
    """``text`` with every registered secret value (in any of its forms) and every password
    in a URL replaced by ``MASK``."""
    if not text:
        return text
    if "://" in text:
        text = _url_passwords(text)
    if not _values or (len(text) < _ANCHOR and not _few):
        return text
    return _mask_spans(text, _spans(text))


def _mask_partial_ends(text: str) -> str:
    """``text`` with a piece of a registered value masked where the text may have been
    cut: a start of one at its end, an end of one at its start (an ellipsis, quotes or
    whitespace may stand beside the cut). The longest piece is masked; values are found
    by their first (last) ``MIN_PARTIAL`` characters, so the cost does not grow with
    their number."""
    with _lock:
        longest = _longest
        if not longest:
            return text
        body = text.rstrip(_CUT_MARKS)
        tail = text[len(body) :]
        # A piece at the end: body[p:] is a start of a value longer than it.
        for p in range(max(0, len(body) - longest + 1), len(body) - MIN_PARTIAL + 1):
            piece = body[p:]
            if any(len(v) > len(piece) and v.startswith(piece) for v in _starts.get(piece[:MIN_PARTIAL], ())):
                body = body[:p] + MASK
                break
        head_len = len(body) - len(body.lstrip(_CUT_MARKS))
        head, body = body[:head_len], body[head_len:]
        # A piece at the start: body[:q] is an end of a value longer than it.
        for q in range(min(len(body), longest - 1), MIN_PARTIAL - 1, -1):
            piece = body[:q]
            if any(len(v) > q and v.endswith(piece) for v in _ends.get(piece[-MIN_PARTIAL:], ())):
                body = MASK + body[q:]
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


#: Key names judged by ``register_keyed`` (kept across calls), with the count of server
#: secret keys they were judged under.
_judged: tuple[int, dict[Any, bool]] = (-1, {})
_MAX_JUDGED = 4096


def register_keyed(obj: Any) -> None:
    """Register the values under secret-looking keys anywhere in a JSON-like structure
    (what a server sent, or a body about to be sent), so that an echo of one elsewhere,
    under a plain key or in an error message, is masked by value too. Masks are skipped."""
    global _judged
    if obj is None:
        return
    found: list[str] = []
    todo = [obj]
    # A fleet repeats a few key names many times: each is judged once, until a server's
    # definitions mark more keys secret (then they are judged afresh).
    noted, judged = _judged
    if noted != builtin.server_secret_keys_noted():
        noted, judged = _judged = (builtin.server_secret_keys_noted(), {})
    while todo:
        current = todo.pop()
        if isinstance(current, dict):
            for k, v in current.items():
                secret = judged.get(k)
                if secret is None:
                    secret = k in SECRET_FIELDS or _is_secret(k)
                    if len(judged) < _MAX_JUDGED:
                        judged[k] = secret
                if secret:
                    found += (s for s in _strings(v) if not is_masked(s) and s.lower() not in _NOT_SECRETS)
                elif isinstance(v, (dict, list, tuple)):
                    todo.append(v)
        elif isinstance(current, (list, tuple)):
            todo.extend(v for v in current if isinstance(v, (dict, list, tuple)))
    if found:
        register(*found)


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


def _too_deep(max_depth: int) -> Exception:
    from conductor_integrations.errors import TooDeepToPrint

    return TooDeepToPrint(f"cannot print data nested deeper than {max_depth} levels")


def scrub_data(obj: Any, max_depth: int = MAX_DEPTH) -> Any:
    """``scrub`` applied to every string inside a JSON-like structure. Nesting deeper than
    ``max_depth`` raises ``TooDeepToPrint``: the printers that take the result (JSON,
    YAML) recurse too."""

    def walk(obj: Any, depth: int) -> Any:
        if isinstance(obj, str):
            return scrub(obj)
        if isinstance(obj, (dict, list, tuple)) and depth <= 0:
            raise _too_deep(max_depth)
        if isinstance(obj, dict):
            return {walk(k, depth): walk(v, depth - 1) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v, depth - 1) for v in obj]
        return obj

    return walk(obj, max_depth)


def scrubbed_json(obj: Any, max_depth: int = MAX_DEPTH) -> str:
    """``json.dumps(scrub_data(obj, max_depth), indent=2, ensure_ascii=False)``, the same
    text, in one walk: the standard library's encoder goes through pure Python as soon as
    it indents, and the copy ``scrub_data`` makes is walked again by it. Raises what they
    raise (``TooDeepToPrint``, ``TypeError`` for what JSON cannot hold)."""
    from json.encoder import encode_basestring

    parts: list[str] = []
    put = parts.append

    def number(o: Any) -> str:
        if isinstance(o, int):
            return int.__repr__(o)
        if o != o:
            return "NaN"
        if o in (float("inf"), float("-inf")):
            return "Infinity" if o > 0 else "-Infinity"
        return float.__repr__(o)

    def key_text(k: Any) -> str:
        if isinstance(k, str):
            return encode_basestring(k)
        if k is True or k is False or k is None:
            return {True: '"true"', False: '"false"', None: '"null"'}[k]
        if isinstance(k, (int, float)):
            return f'"{number(k)}"'
        raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")

    def walk(o: Any, depth: int, indent: str) -> None:
        if isinstance(o, str):
            put(encode_basestring(scrub(o)))
        elif o is None:
            put("null")
        elif o is True:
            put("true")
        elif o is False:
            put("false")
        elif isinstance(o, (int, float)):
            put(number(o))
        elif isinstance(o, (list, tuple, dict)):
            if depth <= 0:
                raise _too_deep(max_depth)
            if not o:
                put("{}" if isinstance(o, dict) else "[]")
                return
            inner = indent + "  "
            between = ",\n" + inner
            if isinstance(o, dict):
                items = [(scrub(k) if isinstance(k, str) else k, v) for k, v in o.items()]
                if len({k for k, _ in items}) < len(items):  # keys masked alike merge, as in scrub_data
                    items = list(dict(items).items())
                put("{\n" + inner)
                for n, (k, v) in enumerate(items):
                    if n:
                        put(between)
                    put(key_text(k) + ": ")
                    walk(v, depth - 1, inner)
                put("\n" + indent + "}")
            else:
                put("[\n" + inner)
                for n, v in enumerate(o):
                    if n:
                        put(between)
                    walk(v, depth - 1, inner)
                put("\n" + indent + "]")
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    walk(obj, max_depth, "")
    return "".join(parts)


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
