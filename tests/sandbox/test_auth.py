"""Tokens and keys: ``--auth KEY_ID:SECRET[:read]``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.auth import ApiKey, Authenticator, parse_key
from conductor_integrations.sandbox.errors import ApiError

from .conftest import OPENAI, Client, assert_error

KEYS = ["ci:s3cret", "viewer:v1ew:read"]


@pytest.fixture
def secured(start_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return start_sandbox(auth=KEYS)


def test_token_then_calls_with_it(secured: RunningSandbox) -> None:
    anonymous = Client(secured.url)
    token = anonymous.token("ci", "s3cret")
    client = Client(secured.url, token)
    saved = client.post("/integrations/provider/p", json=OPENAI).json()
    assert saved["createdBy"] == saved["updatedBy"] == "ci"
    assert client.get("/integrations/provider/p").status_code == 200


@pytest.mark.parametrize("path", ["/integrations/provider", "/integrations/def", "/integrations/provider/p"])
def test_missing_token_is_401_invalid_token(secured: RunningSandbox, path: str) -> None:
    body = assert_error(Client(secured.url).get(path), 401, "X-Authorization")
    assert body["error"] == "INVALID_TOKEN"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer x.y.z"])
def test_bad_token_is_401_invalid_token(secured: RunningSandbox, token: str) -> None:
    body = assert_error(Client(secured.url, token).get("/integrations/provider"), 401)
    assert body["error"] == "INVALID_TOKEN"


def test_a_tampered_token_is_refused(secured: RunningSandbox) -> None:
    header, payload, signature = Client(secured.url).token("viewer", "v1ew").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "ci"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    reply = Client(secured.url, f"{header}.{forged}.{signature}").post(
        "/integrations/provider/p", json=OPENAI
    )
    assert assert_error(reply, 401)["error"] == "INVALID_TOKEN"


def test_an_expired_token_is_401_expired_token(start_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = start_sandbox(auth=KEYS, token_ttl=0)  # every token is expired from the start
    token = Client(sandbox.url).token("ci", "s3cret")
    body = assert_error(Client(sandbox.url, token).get("/integrations/provider"), 401, "expired")
    assert body["error"] == "EXPIRED_TOKEN"


def test_expiry_follows_the_clock() -> None:
    now = [1000.0]
    auth = Authenticator([ApiKey("ci", "s")], token_ttl=60, clock=lambda: now[0])
    token = auth.issue("ci", "s")
    now[0] = 1059.0
    assert auth.check(token).name == "ci"
    now[0] = 1060.0
    with pytest.raises(ApiError) as caught:
        auth.check(token)
    assert caught.value.error == "EXPIRED_TOKEN"


def test_a_restarted_server_refuses_old_tokens(start_sandbox: Callable[..., RunningSandbox]) -> None:
    first = start_sandbox(auth=KEYS)
    token = Client(first.url).token("ci", "s3cret")
    first.stop()
    second = start_sandbox(auth=KEYS)
    assert (
        assert_error(Client(second.url, token).get("/integrations/provider"), 401)["error"] == "INVALID_TOKEN"
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"keyId": "ci", "keySecret": "wrong"}, 401),
        ({"keyId": "nobody", "keySecret": "s3cret"}, 401),
        ({"keyId": "ci"}, 400),
        ({}, 400),
    ],
)
def test_token_refused(secured: RunningSandbox, body: dict[str, str], status: int) -> None:
    reply = Client(secured.url).post("/token", json=body)
    found = assert_error(reply, status)
    assert "error" not in found  # not a token problem: clients must not mint again and retry


def test_token_endpoint_is_404_without_auth(client: Client) -> None:
    assert_error(client.post("/token", json={"keyId": "ci", "keySecret": "s"}), 404, "without authentication")


def test_without_auth_any_header_is_ignored(client: Client) -> None:
    client.session.headers["X-Authorization"] = "anything"
    assert client.post("/integrations/provider/p", json=OPENAI).json()["createdBy"] == "anonymous"


def test_read_only_key_reads_but_every_write_is_403(secured: RunningSandbox) -> None:
    writer = Client(secured.url, Client(secured.url).token("ci", "s3cret"))
    writer.post("/integrations/provider/p", json=OPENAI).raise_for_status()
    writer.post("/integrations/provider/p/integration/m", json={"description": "m"}).raise_for_status()
    reader = Client(secured.url, Client(secured.url).token("viewer", "v1ew"))
    assert reader.get("/integrations/provider/p").status_code == 200
    assert reader.get("/integrations/provider").status_code == 200
    assert reader.get("/integrations/def").status_code == 200
    assert reader.get("/integrations/provider/p/integration").status_code == 200
    tags = [{"key": "team", "value": "ml"}]
    writes = [
        reader.post("/integrations/provider/p", json={**OPENAI, "enabled": False}),
        reader.post("/integrations/provider/new", json=OPENAI),
        reader.delete("/integrations/provider/p"),
        reader.post("/integrations/provider/p/integration/m2", json={"description": "x"}),
        reader.delete("/integrations/provider/p/integration/m"),
        reader.put("/integrations/provider/p/tags", json=tags),
        reader.delete("/integrations/provider/p/tags", json=tags),
    ]
    for reply in writes:
        body = assert_error(reply, 403, "viewer", "may only read")
        assert "error" not in body
    after = writer.get("/integrations/provider/p").json()
    assert (after["enabled"], after["modelsCount"], after["tags"]) == (True, 1, [])
    assert writer.get("/integrations/provider/new").status_code == 404


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ci:s3cret", ApiKey("ci", "s3cret")),
        ("viewer:v1ew:read", ApiKey("viewer", "v1ew", read_only=True)),
        ("ci:a:b:c", ApiKey("ci", "a:b:c")),
    ],
)
def test_parse_key(spec: str, expected: ApiKey) -> None:
    assert parse_key(spec) == expected


@pytest.mark.parametrize("spec", ["ci", "ci:", ":secret", "ci::read"])
def test_parse_key_refuses(spec: str) -> None:
    with pytest.raises(ValueError, match="KEY_ID:SECRET"):
        parse_key(spec)


def test_the_secret_never_shows_in_repr() -> None:
    assert "s3cret" not in repr(parse_key("ci:s3cret"))
