"""The ``--debug`` log of HTTP traffic, with every secret masked.

Masked: headers that carry credentials (``X-Authorization`` ...), the ``keySecret`` and
``token`` fields of the token exchange, and configuration values under secret keys (or
already masked by the server) in any body. Whatever is left goes through ``output.debug``,
which also scrubs every secret value this process has met.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from conductor_integrations import output, provider_types, redact

SENSITIVE_HEADERS = frozenset(
    {"x-authorization", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)
#: Body fields that are secrets wherever they appear.
SECRET_FIELDS = frozenset({"keySecret", "token", "password", "secret"})
#: Longer bodies are cut in the log.
MAX_BODY = 4000


def enabled() -> bool:
    return output.settings.debug


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (redact.MASK if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def mask_data(obj: Any) -> Any:
    """A copy of a JSON value with secret fields and secret configuration values masked."""
    if isinstance(obj, list):
        return [mask_data(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in SECRET_FIELDS and isinstance(value, str) and value:
            out[key] = redact.MASK
        elif key == "configuration" and isinstance(value, dict):
            out[key] = redact.mask_config(value, _secret_config_keys(value))
        else:
            out[key] = mask_data(value)
    return out


def _secret_config_keys(config: Mapping[str, Any]) -> set[str]:
    return {k for k in config if provider_types.is_secret_key(k)}


def body_text(raw: bytes | str | None) -> str:
    """A body as it is logged: JSON masked and compact, other text cut at ``MAX_BODY``."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text.strip():
        return ""
    try:
        shown = json.dumps(mask_data(json.loads(text)), ensure_ascii=False)
    except ValueError:
        shown = text
    if len(shown) > MAX_BODY:
        shown = shown[:MAX_BODY] + f" ... ({len(shown) - MAX_BODY} more characters)"
    return shown


def log_request(method: str, url: str, headers: Mapping[str, str], body: bytes | str | None) -> None:
    if not enabled():
        return
    lines = [f"> {method} {url}"]
    lines += [f"> {k}: {v}" for k, v in mask_headers(headers).items()]
    shown = body_text(body)
    if shown:
        lines.append(f"> {shown}")
    output.debug("\n".join(lines))


def log_response(
    status: int, reason: str, headers: Mapping[str, str], body: bytes | None, elapsed_ms: float
) -> None:
    if not enabled():
        return
    lines = [f"< {status} {reason} ({elapsed_ms:.0f} ms)"]
    lines += [f"< {k}: {v}" for k, v in mask_headers(headers).items()]
    shown = body_text(body)
    if shown:
        lines.append(f"< {shown}")
    output.debug("\n".join(lines))


def log(text: str) -> None:
    output.debug(text)
