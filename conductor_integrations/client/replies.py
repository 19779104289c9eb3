"""Reading what a server sent back: Conductor error bodies, HTML pages where JSON was
expected, ``Retry-After``, and the hints that go with each status.

Pure functions over status, headers and text, so the client in ``api`` stays small and
these are tested with plain tables. JSON is read with ``safe_json.loads`` (depth-limited).
"""

from __future__ import annotations

import email.utils
import math
import time

from conductor_integrations.errors import ServerErrorBody
from conductor_integrations.secrets import redact
from conductor_integrations.secrets.safe_json import loads
from conductor_integrations.types import builtin

TOKEN_ERRORS = frozenset({"EXPIRED_TOKEN", "INVALID_TOKEN"})
#: The longest piece of a server's text shown in a message.
MAX_MESSAGE = 300


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "nan" and "inf" parse as floats but are no number of seconds.
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def looks_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def is_html(content_type: str, text: str) -> bool:
    if "html" in content_type.lower():
        return True
    return text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def kind(content_type: str, text: str) -> str:
    """What a reply that is not JSON looks like, for an error message."""
    if is_html(content_type, text):
        return "an HTML page"
    bare = content_type.split(";")[0].strip()
    return f"not JSON ({bare})" if bare else "not JSON"


def error_body(text: str) -> ServerErrorBody:
    """The useful part of a Conductor error body (``message``, ``validationErrors``,
    ``error``); empty for a body that is not one (empty, HTML, plain text). Every string
    is masked (``redact.scrub_cut``) before it is reshaped or cut."""
    try:
        data = loads(text)
    except ValueError:  # not JSON, or nested deeper than any error body
        return ServerErrorBody()
    if not isinstance(data, dict):
        return ServerErrorBody()
    message = data.get("message")
    error = data.get("error")
    details: list[str] = []
    raw = data.get("validationErrors")
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            raw_where = str(item.get("path") or "")
            where = redact.scrub_cut(raw_where, MAX_MESSAGE)
            what = redact.scrub_cut(str(item.get("message") or ""), MAX_MESSAGE)
            line = f"{where}: {what}" if where and what else where or what
            value = item.get("invalidValue")
            if line and value not in (None, "") and not _secret_path(raw_where):
                shown = redact.scrub_cut(value, MAX_MESSAGE) if isinstance(value, str) else value
                line += f" (got {shown!r})"
            if line:
                details.append(line)
        elif item:
            details.append(redact.scrub_cut(str(item), MAX_MESSAGE))
    return ServerErrorBody(
        message=redact.scrub_cut(str(message), MAX_MESSAGE) if message else "",
        validation_errors=details,
        error=redact.scrub_cut(str(error), MAX_MESSAGE) if error else "",
    )


def _secret_path(path: str) -> bool:
    """True when a validation error's path points at a secret (its value is not shown)."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    return any(builtin.is_secret_key(part.strip()) for part in parts)


def error_message(status: int, reason: str, content_type: str, text: str, body: ServerErrorBody) -> str:
    """The server's message, else its plain-text body (masked first, then whitespace
    collapsed and cut), else the reason phrase."""
    if body.message:
        return body.message
    if text.strip() and not is_html(content_type, text) and not looks_json(text):
        return redact.scrub_cut(text, MAX_MESSAGE)
    return redact.scrub_cut(reason, MAX_MESSAGE) or f"HTTP {status}"


#: The next step of a refusal when no credentials were given at all.
NO_CREDENTIALS = (
    "no credentials were given: run `integ auth login`, or set CONDUCTOR_AUTH_KEY and "
    "CONDUCTOR_AUTH_SECRET (an application key), or CONDUCTOR_AUTH_TOKEN"
)


def status_hints(
    status: int, body: ServerErrorBody, can_mint: bool, html: bool, credentials: bool = True
) -> list[str]:
    """The next steps for an error status (``credentials``: a token or a key was given)."""
    hints: list[str] = []
    if html:
        hints.append("the reply was an HTML page: is --server the Conductor server (not its UI or a proxy)?")
    if status in (401, 403) and not credentials:
        hints.append(NO_CREDENTIALS)
    elif status in (401, 403) and body.error in TOKEN_ERRORS:
        if can_mint:
            hints.append("a fresh token was refused too: check the application key (`integ auth status`)")
        else:
            hints.append(
                "the token expired or is not valid: get a new one, or use an application key "
                "(--key-id with CONDUCTOR_AUTH_SECRET, or `integ auth login`)"
            )
    elif status == 401:
        hints.append("the server wants credentials: `integ auth login`, or set CONDUCTOR_AUTH_TOKEN")
    elif status == 403:
        hints.append(
            "the credentials lack permission for this (the application needs access to "
            "integration providers); ask an administrator, or check `integ auth status`"
        )
    elif status == 429 or status >= 500:
        hints.append("the server is failing or overloaded; try again later, or raise --retries")
    return hints


#: What OpenSSL says when the other end answered a TLS hello with something that is not TLS
#: (a plain-HTTP server's "400 Bad Request", say).
_NOT_TLS = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure", "packet length too long")


def not_tls(text: str) -> bool:
    """True when a TLS error says the server does not speak TLS on that port."""
    return any(needle in text for needle in _NOT_TLS)


def connection_reason(text: str, fallback: str) -> str:
    """A short reason for a connection failure instead of urllib3's nested repr."""
    for needle, reason in (
        ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host not found"),
        ("nodename nor servname", "host not found"),
        ("getaddrinfo failed", "host not found"),
        ("Temporary failure in name resolution", "host not found"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network unreachable"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "the server closed the connection"),
        ("timed out", "timed out"),
    ):
        if needle in text:
            return reason
    return redact.scrub_cut(text.splitlines()[0], 200) if text.strip() else fallback


#: What broke after the connection was made (the server was reached), by the text of the
#: error and the errors it wraps; checked in this order.
_BROKEN = (
    (("IncompleteRead", "InvalidChunkLength", "Connection broken"), "cut its reply off before the end"),
    (("BadStatusLine", "LineTooLong", "UnknownProtocol"), "answered with something that is not HTTP"),
    (("ConnectionResetError", "Connection reset"), "reset the connection"),
    (("RemoteDisconnected",), "closed the connection without replying"),
)
#: Failures to connect at all (the server was not reached).
_NOT_REACHED = (
    "NewConnectionError",
    "ConnectTimeout",
    "Connection refused",
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "Temporary failure in name resolution",
    "No route to host",
    "Network is unreachable",
)


def broken_reply(text: str) -> str | None:
    """How a server that was reached broke off its reply (``"reset the connection"`` ...),
    or None when the failure was to connect at all or is not recognised."""
    if any(needle in text for needle in _NOT_REACHED):
        return None
    for needles, what in _BROKEN:
        if any(needle in text for needle in needles):
            return what
    return None


def no_reply(base_url: str, timeout: float, retries: int, kind: str, text: str) -> tuple[str, list[str]]:
    """The message and hints when no usable reply came: ``kind`` is ``timeout`` (nothing
    within ``timeout``), ``slow`` (the reply did not finish in time) or ``connection``;
    ``text`` is the error's ``chain_text``."""
    after = plural_retries(retries)
    broken = broken_reply(text)
    if kind == "slow":
        return f"the server at {base_url} was too slow: no complete reply within {timeout:g} s{after}", [
            "check the server is up, or give it longer with --timeout S"
        ]
    if kind == "timeout":
        return f"no reply from {base_url} within {timeout:g} s{after}", [
            "check the server is up, or give it longer with --timeout S"
        ]
    if broken:
        return f"the server at {base_url} {broken}{after}", [
            "the server (or a proxy in front of it) is failing: try again later, or raise --retries",
            "check that --server is the Conductor server's URL (`integ config show`)",
        ]
    reason = connection_reason(text, "connection failed")
    return f"cannot reach the server at {base_url}: {reason}{after}", [
        "check the URL (`integ config show`) and your network",
        "or try the built-in sandbox with --server local",
    ]


def chain_text(exc: BaseException) -> str:
    """The text of ``exc`` and of the errors it wraps (urllib3 nests them), one per line."""
    parts: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        for linked in (getattr(current, "reason", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                todo.append(linked)
    return "\n".join(parts)


def first_line(text: str, limit: int = 200) -> str:
    stripped = text.strip()
    return redact.scrub_cut(stripped.splitlines()[0], limit) if stripped else ""


def plural_retries(retries: int) -> str:
    return f" (after {retries} retr{'y' if retries == 1 else 'ies'})" if retries else ""
