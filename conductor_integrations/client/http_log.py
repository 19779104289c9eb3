"""The ``--debug`` log of HTTP traffic, with every secret masked.

Masking is ``redact``'s: headers that carry credentials (``X-Authorization`` ...) by name,
``keySecret``, ``token`` and secret configuration keys in JSON bodies at any depth, and
every secret value this process has met wherever it appears (checked before a body is
re-encoded, so escaping cannot hide one).

Nothing is printed here: each line goes to the sink the client was given (the command line
gives ``output.debug`` under ``--debug``, which scrubs once more on the way out). Without
a sink nothing is built, so traffic costs no masking when the log is off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conductor_integrations.secrets import redact

#: Longer bodies are cut in the log.
MAX_BODY = 4000

#: Where the log's text goes: one call per entry (an entry may span lines).
Sink = Callable[[str], None]


def body_text(raw: bytes | str | None) -> str:
    """A body as it is logged: masked, and cut at ``MAX_BODY`` characters."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not raw.strip():
        return ""
    shown = redact.mask_json_text(raw)
    if len(shown) > MAX_BODY:
        # Masked first, then cut (never through a mask).
        cut = redact.truncate(shown, MAX_BODY)
        shown = cut + f" ... ({len(shown) - len(cut)} more characters)"
    return shown


def _lines(mark: str, first: str, headers: Mapping[str, Any], body: bytes | str | None) -> str:
    lines = [f"{mark} {first}"]
    lines += [f"{mark} {k}: {v}" for k, v in redact.mask_headers(headers).items()]
    shown = body_text(body)
    if shown:
        lines.append(f"{mark} {shown}")
    return "\n".join(lines)


class HttpLog:
    """The log of one client: requests (``>``), responses (``<``) and notes (retries,
    tokens), each masked before it reaches ``sink``; off when ``sink`` is None."""

    def __init__(self, sink: Sink | None = None):
        self.sink = sink

    @property
    def enabled(self) -> bool:
        return self.sink is not None

    def request(self, method: str, url: str, headers: Mapping[str, Any], body: bytes | str | None) -> None:
        if self.sink is not None:
            self.sink(_lines(">", f"{method} {redact.scrub(url)}", headers, body))

    def response(
        self, status: int, reason: str, headers: Mapping[str, Any], body: bytes | None, elapsed_ms: float
    ) -> None:
        if self.sink is not None:
            self.sink(_lines("<", f"{status} {reason} ({elapsed_ms:.0f} ms)", headers, body))

    def note(self, text: str) -> None:
        if self.sink is not None:
            self.sink(redact.scrub(text))
