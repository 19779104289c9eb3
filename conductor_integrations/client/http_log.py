"""The ``--debug`` log of HTTP traffic, with every secret masked.

Masking is ``redact``'s: headers that carry credentials (``X-Authorization`` ...) by name,
``keySecret``, ``token`` and secret configuration keys in JSON bodies at any depth, and
every secret value this process has met wherever it appears (checked before a body is
re-encoded, so escaping cannot hide one). ``output.debug`` scrubs once more on the way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conductor_integrations import output
from conductor_integrations.secrets import redact

#: Longer bodies are cut in the log.
MAX_BODY = 4000


def enabled() -> bool:
    return output.settings.debug


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


def log_request(method: str, url: str, headers: Mapping[str, Any], body: bytes | str | None) -> None:
    if enabled():
        output.debug(_lines(">", f"{method} {redact.scrub(url)}", headers, body))


def log_response(
    status: int, reason: str, headers: Mapping[str, Any], body: bytes | None, elapsed_ms: float
) -> None:
    if enabled():
        output.debug(_lines("<", f"{status} {reason} ({elapsed_ms:.0f} ms)", headers, body))


def log(text: str) -> None:
    output.debug(text)
