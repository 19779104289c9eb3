"""Request bodies in, Conductor JSON shapes out.

Reading: ``IntegrationUpdate``, ``IntegrationApiUpdate`` and ``Tag[]`` bodies are checked
field by field, and every problem is reported at once in ``validationErrors``.

Writing: ``Integration`` and ``IntegrationApi`` objects with the audit fields Orkes sends
(``createTime``/``updateTime`` in epoch ms, ``createdBy``/``updatedBy``), ``tags`` and
``modelsCount``. Secret configuration values (``builtin.is_secret_key``) are stored
as given but always read back as ``MASK``, as Orkes does, at any depth of the configuration
(``extra.password``, ``deeper[0].clientSecret``). Because a client may send back what it
read, a write whose value for a secret key is exactly ``MASK`` keeps the value already
stored at that same place instead of overwriting the secret with the mask.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from conductor_integrations.sandbox.errors import ApiError, FieldError
from conductor_integrations.sandbox.store import Audit, ModelRow, PromptRow, ProviderRow, Tag
from conductor_integrations.types import builtin

#: What a secret configuration value reads back as (the Orkes mask).
MASK = "xxxxxxxxxx"


#: Deepest nesting of arrays and objects a request body may have.
MAX_DEPTH = 64
#: What a Java ``long`` holds (Conductor's numbers): integers beyond are refused.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class _Refused(ValueError):
    """A number or constant the server refuses (raised from inside ``json.loads``)."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # before int(): Python refuses over 4300 digits with a ValueError
        raise _Refused(f"integer {text[:20]}... is out of range")
    value = int(text)
    if not LONG_MIN <= value <= LONG_MAX:
        raise _Refused(f"integer {text} is out of range (a 64-bit integer)")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"number {text[:40]} is out of range")
    return value


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _depth(data: Any) -> int:
    """How deeply ``data`` nests arrays and objects (iteratively: no recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(data: Any) -> bool:
    """True when a string (or object key) in ``data`` holds a surrogate code point: after
    decoding valid UTF-8, only a lone ``\\ud800``-style escape leaves one (a pair is joined)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body``; a 400 when it is missing or malformed, holds
    ``NaN``/``Infinity``, an integer beyond a 64-bit one, a lone surrogate in a string, or
    nests deeper than ``MAX_DEPTH``."""
    if not body.strip():
        raise ApiError(400, "Required request body is missing")
    try:
        data = json.loads(
            body.decode("utf-8"),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _Refused as exc:
        raise ApiError(400, f"Malformed JSON request body: {exc}") from None
    except RecursionError:
        raise ApiError(400, f"Malformed JSON request body: nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"Malformed JSON request body: {exc}") from None
    if _depth(data) > MAX_DEPTH:
        raise ApiError(400, f"Malformed JSON request body: nested deeper than {MAX_DEPTH} levels")
    if _has_lone_surrogate(data):
        raise ApiError(400, "Malformed JSON request body: a string holds a lone surrogate (not Unicode text)")
    return data


def parse_object(body: bytes, shape: str) -> dict[str, Any]:
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ApiError(400, f"Malformed request body: expected a JSON object ({shape})")
    return data


def parse_bool(value: str | None, name: str, default: bool) -> bool:
    """A query parameter such as ``activeOnly=false``."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ApiError.invalid([FieldError(name, "must be true or false", value)])


def parse_category(value: str | None, path: str = "category") -> str | None:
    """A category value (any case), or None; a 400 for one no Conductor server knows."""
    if value is None or value == "":
        return None
    known = builtin.table().known_categories
    upper = value.strip().upper()
    if upper not in known:
        raise ApiError.invalid([FieldError(path, "must be one of " + ", ".join(known), value)])
    return upper


@dataclass
class Update:
    """The fields of an IntegrationUpdate / IntegrationApiUpdate body; None = not sent."""

    type: str | None = None
    category: str | None = None
    description: str | None = None
    enabled: bool | None = None
    configuration: dict[str, Any] | None = None
    max_tokens: int | None = None


def _enabled(value: Any, problems: list[FieldError]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    problems.append(FieldError("enabled", "must be a boolean", value))
    return None


def _text(body: dict[str, Any], key: str, problems: list[FieldError]) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    problems.append(FieldError(key, "must be a string", value))
    return None


def _configuration(body: dict[str, Any], problems: list[FieldError]) -> dict[str, Any] | None:
    value = body.get("configuration")
    if value is None or isinstance(value, dict):
        return value
    problems.append(FieldError("configuration", "must be an object of key to value", value))
    return None


def parse_integration_update(body: dict[str, Any]) -> Update:
    """An IntegrationUpdate body (``name`` comes from the path and is ignored here)."""
    problems: list[FieldError] = []
    update = Update(
        type=_text(body, "type", problems),
        description=_text(body, "description", problems),
        enabled=_enabled(body.get("enabled"), problems),
        configuration=_configuration(body, problems),
    )
    category = _text(body, "category", problems)
    try:
        update.category = parse_category(category)
    except ApiError as exc:
        problems.extend(exc.validation_errors)
    if update.type is not None and not update.type.strip():
        problems.append(FieldError("type", "must not be blank", update.type))
    if problems:
        raise ApiError.invalid(problems)
    return update


def parse_api_update(body: dict[str, Any]) -> Update:
    """An IntegrationApiUpdate body: description, enabled, configuration, maxTokens."""
    problems: list[FieldError] = []
    update = Update(
        description=_text(body, "description", problems),
        enabled=_enabled(body.get("enabled"), problems),
        configuration=_configuration(body, problems),
    )
    max_tokens = body.get("maxTokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or not INT_MIN <= max_tokens <= INT_MAX
    ):
        problems.append(FieldError("maxTokens", "must be a 32-bit integer", max_tokens))
    else:
        update.max_tokens = max_tokens
    if problems:
        raise ApiError.invalid(problems)
    return update


def parse_tags(body: bytes, *, for_delete: bool = False) -> list[tuple[str, str | None]]:
    """A ``Tag[]`` body: ``[{"key": ..., "value": ...}]``. Values that are not strings are
    kept as their JSON text. On delete a tag without ``value`` matches any value."""
    data = parse_json(body)
    if not isinstance(data, list):
        raise ApiError(400, "Malformed request body: expected a JSON array of tags [{key, value}]")
    problems: list[FieldError] = []
    tags = _tag_list(data, problems, "", for_delete=for_delete)
    if problems:
        raise ApiError.invalid(problems)
    return tags


def _tag_list(
    data: list[Any], problems: list[FieldError], where: str, *, for_delete: bool = False
) -> list[tuple[str, str | None]]:
    tags: list[tuple[str, str | None]] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            problems.append(FieldError(f"{where}[{i}].key", "must be a non-empty string", item))
            continue
        value = item.get("value")
        if value is None and not for_delete:
            problems.append(FieldError(f"{where}[{i}].value", "must not be null", value))
            continue
        if value is not None and not isinstance(value, str):
            value = json.dumps(value)
        tags.append((item["key"], value))
    return tags


BulkEntry = tuple[str, Update, list[tuple[str, Update]], list[Tag]]


def parse_bulk(body: bytes) -> list[BulkEntry]:
    """A bulk-save body, ``Integration[]``: each item an IntegrationUpdate with its ``name``,
    optional ``tags`` (``Tag[]``) and ``apis`` (IntegrationApiUpdate with ``api`` and an
    ``integrationName`` that, when given, is the item's ``name``). Every problem is reported
    at once, with its path (``[1].apis[0].api``)."""
    data = parse_json(body)
    if not isinstance(data, list):
        raise ApiError(400, "Malformed request body: expected a JSON array of integrations (Integration[])")
    problems: list[FieldError] = []
    out: list[BulkEntry] = []
    for i, item in enumerate(data):
        at = f"[{i}]"
        if not isinstance(item, dict):
            problems.append(FieldError(at, "must be an Integration object", item))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(FieldError(f"{at}.name", "must be a non-empty string", name))
            name = ""
        update = _collect(problems, f"{at}.", parse_integration_update, item)
        apis: list[tuple[str, Update]] = []
        raw_apis = item.get("apis") or []
        if not isinstance(raw_apis, list):
            problems.append(FieldError(f"{at}.apis", "must be an array of IntegrationApi", raw_apis))
            raw_apis = []
        for j, api in enumerate(raw_apis):
            where = f"{at}.apis[{j}]"
            if not isinstance(api, dict):
                problems.append(FieldError(where, "must be an IntegrationApi object", api))
                continue
            if not isinstance(api.get("api"), str) or not api["api"]:
                problems.append(FieldError(f"{where}.api", "must be a non-empty string", api.get("api")))
                continue
            owner = api.get("integrationName")
            if owner is not None and owner != name:
                problems.append(FieldError(f"{where}.integrationName", f"must be {name!r}", owner))
                continue
            apis.append((api["api"], _collect(problems, f"{where}.", parse_api_update, api)))
        raw_tags = item.get("tags") or []
        if not isinstance(raw_tags, list):
            problems.append(FieldError(f"{at}.tags", "must be an array of tags [{key, value}]", raw_tags))
            raw_tags = []
        tags = [(k, v) for k, v in _tag_list(raw_tags, problems, f"{at}.tags") if v is not None]
        out.append((name, update, apis, tags))
    if problems:
        raise ApiError.invalid(problems)
    return out


def _collect(problems: list[FieldError], where: str, parse: Any, body: dict[str, Any]) -> Update:
    """``parse(body)``, its validation errors added to ``problems`` under ``where``."""
    try:
        return parse(body)  # type: ignore[no-any-return]
    except ApiError as exc:
        problems.extend(
            FieldError(f"{where}{e.path}", e.message, e.invalid_value) for e in exc.validation_errors
        )
        return Update()


#: ``TokenLimit.tokenLimitPeriod`` (the Conductor OpenAPI enum).
TOKEN_LIMIT_PERIODS = ("DAY", "MONTH")


def parse_token_limit(body: dict[str, Any]) -> dict[str, Any]:
    """A ``TokenLimit`` body: ``integrationName``, ``api``, ``maxTokens`` (64-bit integer),
    ``tokenLimitPeriod`` (``DAY`` or ``MONTH``); what is kept, without audit fields."""
    problems: list[FieldError] = []
    out: dict[str, Any] = {}
    for key in ("integrationName", "api"):
        value = _text(body, key, problems)
        if value is not None:
            out[key] = value
    max_tokens = body.get("maxTokens")
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            problems.append(FieldError("maxTokens", "must be a 64-bit integer", max_tokens))
        else:
            out["maxTokens"] = max_tokens
    period = body.get("tokenLimitPeriod")
    if period is not None:
        if period not in TOKEN_LIMIT_PERIODS:
            problems.append(FieldError("tokenLimitPeriod", "must be DAY or MONTH", period))
        else:
            out["tokenLimitPeriod"] = period
    if problems:
        raise ApiError.invalid(problems)
    return out


def merge_configuration(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """The configuration to store: ``new`` replaces ``old`` as a whole, except that a secret
    key sent as ``MASK`` keeps its stored value at that same place, at any depth (a client
    echoing what it read does not overwrite the secret with the mask)."""
    merged: dict[str, Any] = _merge(new, old)
    return merged


def _merge(new: Any, old: Any) -> Any:
    if isinstance(new, dict):
        before = old if isinstance(old, dict) else {}
        return {
            key: before[key]
            if value == MASK and builtin.is_secret_key(key) and key in before
            else _merge(value, before.get(key))
            for key, value in new.items()
        }
    if isinstance(new, list):
        before_items = old if isinstance(old, list) else []
        return [_merge(v, before_items[i] if i < len(before_items) else None) for i, v in enumerate(new)]
    return new


def masked(configuration: dict[str, Any]) -> dict[str, Any]:
    """``configuration`` as it reads back: non-empty secret values become ``MASK``, in
    nested objects and arrays too."""
    out: dict[str, Any] = _masked(configuration)
    return out


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK if builtin.is_secret_key(key) and item not in (None, "") else _masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _audit_json(audit: Audit) -> dict[str, Any]:
    return {
        "createTime": audit.create_time,
        "updateTime": audit.update_time,
        "createdBy": audit.created_by,
        "updatedBy": audit.updated_by,
    }


def prompt_json(row: PromptRow) -> dict[str, Any]:
    """A ``MessageTemplate`` of an associated prompt (the sandbox keeps only its name:
    ``template`` and ``description`` are empty)."""
    return {
        **_audit_json(row.audit),
        "name": row.name,
        "description": "",
        "template": "",
        "variables": [],
        "integrations": [f"{row.provider}:{row.api}"],
        "tags": [],
    }


def token_limit_json(body: dict[str, Any], audit: Audit) -> dict[str, Any]:
    """A ``TokenLimit`` as saved, with its audit fields."""
    return {**_audit_json(audit), **body}


def tags_json(tags: list[Tag]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags]


def integration_json(row: ProviderRow, apis: list[ModelRow] | None = None) -> dict[str, Any]:
    """The ``Integration`` object (``apis`` only for ``GET /api/integrations/``)."""
    out: dict[str, Any] = {
        "createTime": row.audit.create_time,
        "updateTime": row.audit.update_time,
        "createdBy": row.audit.created_by,
        "updatedBy": row.audit.updated_by,
        "name": row.name,
        "type": row.type,
        "category": row.category,
        "description": row.description,
        "configuration": masked(row.configuration),
        "enabled": row.enabled,
        "tags": tags_json(row.tags),
        "modelsCount": row.models_count,
    }
    if apis is not None:
        out["apis"] = [integration_api_json(m) for m in apis]
    return out


def integration_api_json(row: ModelRow) -> dict[str, Any]:
    """The ``IntegrationApi`` object of one model."""
    out: dict[str, Any] = {
        "createTime": row.audit.create_time,
        "updateTime": row.audit.update_time,
        "createdBy": row.audit.created_by,
        "updatedBy": row.audit.updated_by,
        "integrationName": row.provider,
        "api": row.api,
        "description": row.description,
        "configuration": masked(row.configuration),
        "enabled": row.enabled,
        "tags": tags_json(row.tags),
    }
    if row.max_tokens is not None:
        out["maxTokens"] = row.max_tokens
    return out
