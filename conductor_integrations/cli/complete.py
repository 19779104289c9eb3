"""Shell completion of values: types, configuration keys of the type on the line,
categories, output formats, profile names and provider names known locally.

No network at completion time: everything comes from the embedded table, the profiles
file and files in the data folder.
"""

from collections.abc import Iterable
from typing import Any


def complete_type(ctx: Any, incomplete: str) -> list[str]:
    from conductor_integrations import provider_types

    return [n for n in provider_types.table().names() if n.startswith(incomplete)]


def complete_category(ctx: Any, incomplete: str) -> list[str]:
    from conductor_integrations import provider_types

    return [c for c in provider_types.table().categories if c.startswith(incomplete.upper())]


def complete_output(ctx: Any, incomplete: str) -> list[str]:
    return [f for f in ("table", "json", "yaml") if f.startswith(incomplete)]


def complete_config_key(ctx: Any, incomplete: str) -> list[str]:
    """``KEY=`` for the keys of the type already on the command line."""
    return []


def complete_profile(ctx: Any, incomplete: str) -> list[str]:
    return []


def complete_provider_name(ctx: Any, incomplete: str) -> list[str]:
    return []


def remember_providers(names: Iterable[str]) -> None:
    """Record provider names seen on a server, for completion (best effort, never fails)."""
