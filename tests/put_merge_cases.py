"""The `provider put` merge matrix, shared by the run against the real sandbox
(tests/e2e/test_put_merge_e2e.py) and the run against a server that replaces the whole
object on POST (tests/cli/test_put_merge.py).

Each case starts from a stored provider (``SEEDS``), runs one ``integ provider put`` and
says what the stored provider must be afterwards: the seed with exactly the changes the
command asked for, every other field, key and secret as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANTHROPIC_KEY = "sk-ant-stored-secret-0001"
AMQP_PASSWORD = "amqp-stored-password-0002"

SEEDS: dict[str, dict[str, Any]] = {
    "anthropic": {
        "type": "anthropic",
        "category": "AI_MODEL",
        "description": "Claude for the support team",
        "enabled": True,
        "configuration": {
            "api_key": ANTHROPIC_KEY,
            "endpoint": "https://api.anthropic.com/v1",
            "version": "2023-06-01",
        },
    },
    "amqp": {
        "type": "amqp",
        "category": "MESSAGE_BROKER",
        "description": "orders broker",
        "enabled": True,
        "configuration": {
            "protocol": "amqp",
            "user": "orders",
            "password": AMQP_PASSWORD,
            "endpoint": "rabbit.internal",
            "port": "5672",
            "namespace": "/orders",
        },
    },
}

Change = Callable[[dict[str, Any]], None]


def _config(**values: str | None) -> Change:
    def change(stored: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is None:
                stored["configuration"].pop(key)
            else:
                stored["configuration"][key] = value

    return change


def _field(**values: Any) -> Change:
    def change(stored: dict[str, Any]) -> None:
        stored.update(values)

    return change


@dataclass
class Case:
    id: str
    seed: str
    args: list[str]
    change: Change
    #: ``--replace``: only the configuration is compared exactly (fields not given are left
    #: out of the body, so what a server keeps of them is its own affair)
    replace: bool = False
    #: secret keys whose stored value must be the seed's (sent back as the server's mask)
    kept_secrets: list[str] = field(default_factory=list)

    def expected(self) -> dict[str, Any]:
        stored = copy.deepcopy(SEEDS[self.seed])
        self.change(stored)
        return stored


CASES = [
    Case("amqp-one-key", "amqp", ["-c", "port=5673"], _config(port="5673"), kept_secrets=["password"]),
    Case(
        "amqp-one-key-with-type",
        "amqp",
        ["-t", "amqp", "-c", "port=5673"],
        _config(port="5673"),
        kept_secrets=["password"],
    ),
    Case(
        "anthropic-one-key",
        "anthropic",
        ["-c", "endpoint=https://proxy.example.com/v1"],
        _config(endpoint="https://proxy.example.com/v1"),
        kept_secrets=["api_key"],
    ),
    Case(
        "anthropic-unset",
        "anthropic",
        ["--unset", "version"],
        _config(version=None),
        kept_secrets=["api_key"],
    ),
    Case("amqp-disabled", "amqp", ["--disabled"], _field(enabled=False), kept_secrets=["password"]),
    Case(
        "anthropic-description",
        "anthropic",
        ["-d", "now for sales"],
        _field(description="now for sales"),
        kept_secrets=["api_key"],
    ),
    Case(
        "anthropic-mask-kept",
        "anthropic",
        ["-c", "api_key=********", "-c", "version=2024-01-01"],
        _config(version="2024-01-01"),
        kept_secrets=["api_key"],
    ),
    Case(
        "amqp-server-mask-kept",
        "amqp",
        ["-c", "password=xxxxxxxxxx", "-c", "user=billing"],
        _config(user="billing"),
        kept_secrets=["password"],
    ),
    Case(
        "anthropic-new-secret",
        "anthropic",
        ["-c", "api_key=sk-ant-new-secret-0003"],
        _config(api_key="sk-ant-new-secret-0003"),
    ),
    Case(
        "anthropic-replace",
        "anthropic",
        ["--replace", "-t", "anthropic", "-c", "api_key=sk-ant-new-secret-0004", "-c", "endpoint=https://e"],
        lambda stored: stored.update(
            configuration={"api_key": "sk-ant-new-secret-0004", "endpoint": "https://e"}
        ),
        replace=True,
    ),
]
