"""How models and tags are shown: stable records for JSON/YAML (the server's own field
names), rows for tables, and the detail view of ``model get``. Secret configuration values
are masked by key (and any value the server already masked) before anything is printed."""

from typing import Any, Optional

from conductor_integrations import output
from conductor_integrations.cli import provider_render

#: Keys of a model record, in this order, always present (None when unknown).
MODEL_KEYS = (
    "integrationName",
    "api",
    "description",
    "enabled",
    "configuration",
    "tags",
    "createTime",
    "createdBy",
    "updateTime",
    "updatedBy",
)
MODEL_COLUMNS = (
    ("api", "MODEL"),
    ("enabled", "ENABLED"),
    ("description", "DESCRIPTION"),
    ("updated", "UPDATED"),
)
TAG_COLUMNS = (("key", "KEY"), ("value", "VALUE"))


def model_record(model: dict[str, Any], provider: str) -> dict[str, Any]:
    """A model from the server with stable keys and secrets masked."""
    m = provider_render.masked(model)
    out = {key: m.get(key) for key in MODEL_KEYS}
    if out["integrationName"] is None:
        out["integrationName"] = provider
    if out["createTime"] is None:
        out["createTime"] = m.get("createdOn")
    if out["updateTime"] is None:
        out["updateTime"] = m.get("updatedOn")
    return out


def print_models(models: list[dict[str, Any]], provider: str) -> None:
    ordered = sorted(models, key=lambda m: str(m.get("api") or ""))
    records = output.Mapped(ordered, lambda m: model_record(m, provider))

    def row(m: dict[str, Any]) -> dict[str, Any]:
        r = model_record(m, provider)
        return {
            "api": r["api"],
            "enabled": r["enabled"],
            "description": r["description"] or None,
            "updated": provider_render.format_time(r["updateTime"] or r["createTime"]),
        }

    rows = output.Mapped(ordered, row)
    output.records(rows, MODEL_COLUMNS, machine=records, empty=f"provider {provider} has no models")


def print_model(model: dict[str, Any], provider: str) -> None:
    rec = model_record(model, provider)
    if output.settings.format != "table":
        output.data(rec)
        return
    lines = []
    for label, value in (
        ("provider", rec["integrationName"]),
        ("model", rec["api"]),
        ("description", rec["description"] or None),
        ("enabled", rec["enabled"]),
        ("tags", _tags(rec["tags"])),
        ("created", _audit(rec["createTime"], rec["createdBy"])),
        ("updated", _audit(rec["updateTime"], rec["updatedBy"])),
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


def _tags(tags: Any) -> Optional[str]:
    if not isinstance(tags, list) or not tags:
        return None
    return ", ".join(f"{t.get('key')}={t.get('value')}" for t in tags if isinstance(t, dict)) or None


def _audit(when: Any, who: Any) -> Optional[str]:
    text = provider_render.format_time(when)
    if text and who:
        return f"{text} by {who}"
    return text or (str(who) if who else None)


def print_tags(tags: list[tuple[str, str]], provider: str) -> None:
    rows = [{"key": k, "value": v} for k, v in tags]
    output.records(rows, TAG_COLUMNS, empty=f"provider {provider} has no tags")
