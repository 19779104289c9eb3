"""How models and tags are shown: stable records for JSON/YAML (the server's own field
names), rows for tables, and the detail view of ``model get``. Secret configuration values
are masked by key (and any value the server already masked) before anything is printed."""

from typing import Any

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
    provider_render.print_detail(
        rec,
        [
            ("provider", rec["integrationName"]),
            ("model", rec["api"]),
            ("description", rec["description"] or None),
            ("enabled", rec["enabled"]),
        ],
    )


def print_tags(tags: list[tuple[str, str]], provider: str) -> None:
    rows = [{"key": k, "value": v} for k, v in tags]
    output.records(rows, TAG_COLUMNS, empty=f"provider {provider} has no tags")
