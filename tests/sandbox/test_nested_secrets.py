"""Secrets nested inside a configuration are masked on every read and survive a write that
echoes the mask; a JSON lone surrogate anywhere in a body is a 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.shapes import MASK
from conductor_integrations.sandbox.store import Store
from tests.sandbox.conftest import Client, assert_error, stored_configuration

NESTED = {
    "api_key": "K-top",
    "extra": {"password": "P-nested", "deeper": [{"clientSecret": "C-deep", "region": "eu"}]},
    "endpoint": "https://example.test",
}
SECRETS = ("K-top", "P-nested", "C-deep")
MASKED = {
    "api_key": MASK,
    "extra": {"password": MASK, "deeper": [{"clientSecret": MASK, "region": "eu"}]},
    "endpoint": "https://example.test",
}


def no_secret_in(reply: Any) -> None:
    for secret in SECRETS:
        assert secret not in reply.text


def test_nested_provider_secrets_are_masked_on_every_read(client: Client) -> None:
    saved = client.post("/integrations/provider/nest1", json={"type": "openai", "configuration": NESTED})
    assert saved.status_code == 200, saved.text
    no_secret_in(saved)
    assert saved.json()["configuration"] == MASKED
    for path in (
        "/integrations/provider/nest1",
        "/integrations/provider",
        "/integrations/",
        "/integrations",
    ):
        reply = client.get(path, params={"activeOnly": "false"})
        assert reply.status_code == 200, reply.text
        no_secret_in(reply)
    assert client.get("/integrations/provider/nest1").json()["configuration"] == MASKED


def test_nested_model_secrets_are_masked(client: Client) -> None:
    client.post("/integrations/provider/nest1", json={"type": "openai"}).raise_for_status()
    path = "/integrations/provider/nest1/integration/m"
    saved = client.post(path, json={"configuration": NESTED})
    assert saved.status_code == 200, saved.text
    for reply in (saved, client.get(path), client.get("/integrations/provider/nest1/integration")):
        no_secret_in(reply)
    assert client.get(path).json()["configuration"] == MASKED


def test_echoing_the_nested_mask_keeps_the_stored_secrets(sandbox: RunningSandbox, client: Client) -> None:
    client.post(
        "/integrations/provider/nest1", json={"type": "openai", "configuration": NESTED}
    ).raise_for_status()
    read = client.get("/integrations/provider/nest1").json()
    read["configuration"]["endpoint"] = "https://changed.test"
    client.post("/integrations/provider/nest1", json=read).raise_for_status()
    assert stored_configuration(sandbox, "nest1") == {**NESTED, "endpoint": "https://changed.test"}


def test_a_new_nested_secret_replaces_the_old_one(sandbox: RunningSandbox, client: Client) -> None:
    client.post(
        "/integrations/provider/nest1", json={"type": "openai", "configuration": NESTED}
    ).raise_for_status()
    update = json.loads(json.dumps(MASKED))
    update["extra"]["password"] = "P-new"
    client.post(
        "/integrations/provider/nest1", json={"type": "openai", "configuration": update}
    ).raise_for_status()
    stored = stored_configuration(sandbox, "nest1")
    assert stored["extra"]["password"] == "P-new"
    assert stored["extra"]["deeper"] == [{"clientSecret": "C-deep", "region": "eu"}]
    assert stored["api_key"] == "K-top"


def test_a_mask_where_nothing_was_stored_is_kept_as_sent(sandbox: RunningSandbox, client: Client) -> None:
    client.post(
        "/integrations/provider/nest1", json={"type": "openai", "configuration": NESTED}
    ).raise_for_status()
    update = {"extra": {"deeper": [{}, {"clientSecret": MASK}]}}
    client.post(
        "/integrations/provider/nest1", json={"type": "openai", "configuration": update}
    ).raise_for_status()
    assert stored_configuration(sandbox, "nest1") == {"extra": {"deeper": [{}, {"clientSecret": MASK}]}}


@pytest.mark.parametrize(
    "body",
    [
        '{"type":"openai","description":"\\ud800","configuration":{}}',
        '{"type":"openai","configuration":{"endpoint":"\\udfff"}}',
        '{"type":"openai","configuration":{"api_key":"\\ud800"}}',
        '{"type":"openai","configuration":{"x":{"y":["ok","a\\udc00b"]}}}',
        '{"type":"openai","configuration":{"\\ud800":"key"}}',
        '{"type":"openai","description":"\\ud83d","configuration":{}}',
    ],
    ids=["description", "config-value", "secret", "nested", "key", "high-half-only"],
)
def test_a_lone_surrogate_is_400(sandbox: RunningSandbox, client: Client, body: str) -> None:
    reply = client.post(
        "/integrations/provider/sur", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert_error(reply, 400, "surrogate")
    store = Store(sandbox.data_path)
    try:
        assert store.get_provider("sur") is None
    finally:
        store.close()


def test_a_surrogate_pair_is_a_character(client: Client) -> None:
    body = '{"type":"openai","description":"\\ud83d\\ude00","configuration":{}}'
    reply = client.post(
        "/integrations/provider/emoji", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["description"] == "\U0001f600"
