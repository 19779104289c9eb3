"""JSON read without deep recursion: ``loads`` refuses a text nested deeper than
``MAX_DEPTH`` before parsing it. Replies from a server and the ``--debug`` log's bodies are
read with it, so that nothing that walks the result (masking, JSON, YAML, tables) comes near
Python's recursion limit. Pure; no imports from the package.
"""

from __future__ import annotations

import json

#: The deepest JSON a reply may be: the API's shapes are a few levels deep (a list of
#: providers, each with a configuration, tags and models); 64 leaves room for any
#: configuration value, and keeps every walker of a reply (masking, JSON, YAML, tables)
#: far from Python's recursion limit.
MAX_DEPTH = 64

#: ``bytes.translate`` arguments that keep only brackets (braces become brackets: in JSON
#: they nest alike) and quotes.
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS_OR_QUOTES = bytes(set(range(256)) - set(b'[]{}"'))


class TooDeep(ValueError):
    """A JSON text nested deeper than ``MAX_DEPTH``."""


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads``, refusing (``TooDeep``) a text nested deeper than ``max_depth``
    before parsing it: the parser, and everything that walks what it returns, would
    otherwise recurse as deep as the text goes."""
    if too_deep(text, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None


def too_deep(text: str | bytes, max_depth: int = MAX_DEPTH) -> bool:
    """True when the brackets of ``text`` (outside strings) nest deeper than
    ``max_depth``. Without recursion, and without an object per value: escaped
    backslashes and quotes are dropped, then all but brackets and quotes, then strings;
    then each pass removes the innermost pairs, so balanced brackets are gone after as
    many passes as they are deep. Unbalanced ones stop changing (malformed JSON, left to
    the parser to report) unless they are deeper still."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _outside_strings(raw.translate(_BRACES_AS_BRACKETS, _NOT_BRACKETS_OR_QUOTES))
    for _ in range(max_depth):
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            return False  # empty, or unbalanced
        brackets = inner
    return bool(brackets)


def _outside_strings(stream: bytes, chunk: int = 1 << 20) -> bytes:
    """What of ``stream`` (brackets and quotes only) is outside strings, a megabyte at a
    time (splitting the whole of it would make an object per string)."""
    if b'"' not in stream:
        return stream
    stream = stream.replace(b'""', b"")  # empty strings, or two strings side by side
    kept: list[bytes] = []
    start = 0
    while start < len(stream):
        end = min(start + chunk, len(stream))
        if stream.count(b'"', start, end) % 2:  # end the piece outside a string
            after = stream.find(b'"', end)
            end = len(stream) if after < 0 else after + 1
        kept.append(b"".join(stream[start:end].split(b'"')[0::2]))
        start = end
    return b"".join(kept)
