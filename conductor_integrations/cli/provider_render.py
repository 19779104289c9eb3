"""How providers are shown: stable records for JSON/YAML, rows for the list table, the
detail view of ``provider get`` and the request printed by ``put --dry-run``.

Secret configuration values are masked by key (``builtin.is_secret_key``, at any
depth, and any value the server already masked) before anything leaves this module; ``output`` scrubs
every known secret value on top of that.
"""

import datetime as dt
from typing import Any, Optional

from conductor_integrations import output
from conductor_integrations.secrets import redact
from conductor_integrations.types import builtin

#: Keys of a provider record, in this order, always present (None when unknown).
RECORD_KEYS = (
    "name",
    "type",
    "category",
    "description",
    "enabled",
    "configuration",
    "modelsCount",
    "tags",
    "createTime",
    "createdBy",
    "updateTime",
    "updatedBy",
)
LIST_COLUMNS = (
    ("name", "NAME"),
    ("type", "TYPE"),
    ("category", "CATEGORY"),
    ("enabled", "ENABLED"),
    ("models", "MODELS"),
    ("updated", "UPDATED"),
)


def secret_keys(config: Any, extra: Any = ()) -> set[str]:
    """The keys of ``config`` whose values are secrets: secret by name
    (``builtin.is_secret_key``), already masked by the server (``redact.is_masked``),
    or named in ``extra``. Secret keys nested inside values are masked by ``redact``."""
    if not isinstance(config, dict):
        return set()
    found = {k for k in config if builtin.is_secret_key(k) or k in set(extra)}
    found.update(k for k, v in config.items() if redact.is_masked(v))
    return found


def masked(provider: dict[str, Any], extra: Any = ()) -> dict[str, Any]:
    out: dict[str, Any] = redact.mask_provider(provider, secret_keys(provider.get("configuration"), extra))
    return out


def record(provider: dict[str, Any]) -> dict[str, Any]:
    """A provider from the server as a record with stable keys and secrets masked. Audit
    times are epoch milliseconds, from ``createTime``/``updateTime`` (or the older
    ``createdOn``/``updatedOn``)."""
    p = masked(provider)
    out = {key: p.get(key) for key in RECORD_KEYS}
    if out["createTime"] is None:
        out["createTime"] = p.get("createdOn")
    if out["updateTime"] is None:
        out["updateTime"] = p.get("updatedOn")
    if out["modelsCount"] is None and isinstance(p.get("apis"), list):
        out["modelsCount"] = len(p["apis"])
    return out


def format_time(value: Any) -> Optional[str]:
    """Epoch milliseconds (or seconds, or an ISO text) as ``YYYY-MM-DD HH:MM UTC``."""
    if value in (None, ""):
        return None
    number: Optional[float] = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
            return parsed.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if number is None:
        return str(value)
    seconds = number / 1000 if number > 1e11 else number
    try:
        when = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(value)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def row(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as a row of the list table."""
    return {
        "name": rec["name"],
        "type": rec["type"],
        "category": rec["category"],
        "enabled": rec["enabled"],
        "models": rec["modelsCount"],
        "updated": format_time(rec["updateTime"] or rec["createTime"]),
    }


def sort_key(provider: dict[str, Any]) -> str:
    return str(provider.get("name") or "")


def print_list(providers: list[dict[str, Any]]) -> None:
    """The list, each record made as it is printed (a listing can be a million long)."""
    ordered = sorted(providers, key=sort_key)
    output.records(
        output.Mapped(ordered, lambda p: row(record(p))),
        LIST_COLUMNS,
        machine=output.Mapped(ordered, record),
        empty="no providers on this server",
    )


def print_one(provider: dict[str, Any]) -> None:
    rec = record(provider)
    if output.settings.format != "table":
        output.data(rec)
        return
    print_detail(
        rec,
        [
            ("name", rec["name"]),
            ("type", rec["type"]),
            ("category", rec["category"]),
            ("description", rec["description"]),
            ("enabled", rec["enabled"]),
            ("models", rec["modelsCount"]),
        ],
    )


def print_detail(rec: dict[str, Any], fields: list[tuple[str, Any]]) -> None:
    """The detail view of ``get``: ``fields``, then the record's tags, audit lines and
    configuration, one ``label: value`` a line."""
    lines = []
    for label, value in (
        *fields,
        ("tags", tags_text(rec["tags"])),
        ("created", audit_text(rec["createTime"], rec["createdBy"])),
        ("updated", audit_text(rec["updateTime"], rec["updatedBy"])),
    ):
        lines.append(f"{label + ':':<14}{output.cell(value)}")
    config = rec["configuration"]
    if isinstance(config, dict) and config:
        lines.append("configuration:")
        width = max(len(str(k)) for k in config) + 2
        for key, value in config.items():
            lines.append(f"  {str(key) + ':':<{width}}{output.cell(value)}")
    else:
        lines.append(f"{'configuration:':<14}-")
    output.text("\n".join(lines))


def tags_text(tags: Any) -> Optional[str]:
    """Tags as ``KEY=VALUE, ...`` (None when there are none)."""
    if not isinstance(tags, list) or not tags:
        return None
    parts = []
    for tag in tags:
        if isinstance(tag, dict):
            parts.append(f"{tag.get('key')}={tag.get('value')}")
        else:
            parts.append(str(tag))
    return ", ".join(parts)


def audit_text(when: Any, who: Any) -> Optional[str]:
    """When and by whom, as far as either is known."""
    text = format_time(when)
    if text and who:
        return f"{text} by {who}"
    return text or (str(who) if who else None)


def print_dry_run(
    name: str, type_name: Any, url: str, body: dict[str, Any], secret: Any, *, merged: bool = False
) -> None:
    """The request ``put`` would send, secrets masked; stdout, nothing sent. ``merged``:
    the body is the live provider with what was given put over it."""
    shown = masked(body, secret)
    if output.settings.format == "table":
        output.text(f"POST {url}\nContent-Type: application/json\n\n" + output.to_json(shown).rstrip())
    else:
        output.data(
            {
                "name": name,
                "type": type_name,
                "action": "dry-run",
                "method": "POST",
                "url": url,
                "body": shown,
                "merged": merged,
            }
        )
    if merged:
        output.info("the body is the live provider with the given fields and keys put over it")
    output.info("dry run: nothing was sent")
