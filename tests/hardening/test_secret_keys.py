"""Which configuration keys are secret: one function decides (``is_secret_key``), and every
output uses it, for keys outside the type table and inside nested values too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conductor_integrations.secrets import redact
from conductor_integrations.types import builtin, remote
from tests.hardening.fault_server import FaultServer, Reply, Request

SECRET_KEYS = [
    "api_key",
    "apiKey",
    "APIKEY",
    "api-key",
    "x_api_key",
    "password",
    "keyStorePassword",
    "DB_PASSWD",
    "pwd",
    "secret",
    "clientSecret",
    "client_secret",
    "schemaRegistryApiSecret",
    "token",
    "authToken",
    "access_token",
    "sasToken",
    "sas",
    "accessKey",
    "secretAccessKey",
    "aws_secret_access_key",
    "private_key",
    "privateKey",
    "sshPrivateKeyFile",
    "passphrase",
    "keyPassphrase",
    "credentials",
    "serviceAccountCredentials",
    "credential",
    "schemaRegistryAuthValue",
    "connectionString",
    "connection_string",
    "awsAccountId",
    "externalId",
    "file",
    "tlsFile",
    "authorization",
    "Authorization",
    "authHeader",
    "basicAuth",
    "saslJaasConfig",
    "schemaRegistryUserInfo",
    "sslKey",
    "tlsKey",
    "sasUrl",
    "clientKey",
    "client_key",
    "privKey",
    "hmacKey",
    "sessionKey",
    "licenseKey",
    "appKey",
    "pass",
    "passcode",
    "pem",
    "dsn",
    "connectionUri",
    "mongoUri",
    "DATABASE_DSN",
    "sslPem",
]
PLAIN_KEYS = [
    "user",
    "endpoint",
    "keyStoreLocation",
    "tokenLimit",
    "maxTokens",
    "tokenEndpoint",
    "authenticationType",
    "schemaRegistryAuthType",
    "truststoreAuthenticationType",
    "authUrl",
    "datasourceURL",
    "region",
    "roleArn",
    "connectionType",
    "groupId",
    "routingKey",
    "description",
    "keyStoreType",
    "passive",
    "compass",
    "bypass",
    "partitionKey",
    "sortKey",
    "authorizationEndpoint",
    "authUri",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_looking_keys_are_secret(key: str) -> None:
    assert builtin.is_secret_key(key)


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_plain_keys_are_not(key: str) -> None:
    assert not builtin.is_secret_key(key)


def test_password_and_file_fields_of_the_server_are_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtin, "_server_secret_keys", set())
    definition = {
        "type": "custom",
        "category": "API",
        "configuration": [
            {"fieldName": "blob", "fieldType": "FILE", "optional": True},
            {"fieldName": "opaque", "fieldType": "password", "optional": True},
            {"fieldName": "plain", "fieldType": "TEXT", "optional": True},
        ],
    }
    remote.from_definitions([definition])
    assert builtin.is_secret_key("blob")
    assert builtin.is_secret_key("opaque")
    assert not builtin.is_secret_key("plain")


def test_nested_secret_keys_are_masked() -> None:
    config = {"user": "u", "options": {"clientSecret": "s1-value", "list": [{"private_key": "s2-value"}]}}
    shown = redact.mask_config(config, ())
    assert "s1-value" not in str(shown) and "s2-value" not in str(shown)
    assert shown["user"] == "u"


AUTH_VALUE = "auth-value-€-0001"
CLIENT = "client-secret-€-0002"
NESTED = "nested-key-€-0003"
CLEAR = (AUTH_VALUE, CLIENT, NESTED)


def live_kafka() -> dict[str, Any]:
    return {
        "name": "k1",
        "type": "kafka",
        "category": "MESSAGE_BROKER",
        "description": f"kafka (the schema registry takes {AUTH_VALUE})",
        "enabled": True,
        "configuration": {
            "api_key": "kafka-api",
            "schemaRegistryAuthValue": AUTH_VALUE,
            "clientSecret": CLIENT,
            "options": {"ssl": {"private_key": NESTED}, "retries": "3"},
            "user": "alice",
        },
    }


def clear_server(req: Request) -> Reply:
    """A server that sends secrets back in clear (it does not mask on read)."""
    path = req.path.split("?")[0].rstrip("/")
    if path == "/api/integrations/provider":
        return Reply(200, [live_kafka()])
    if path == "/api/integrations/provider/k1":
        return Reply(200, live_kafka())
    if path == "/api/integrations":
        return Reply(200, [{**live_kafka(), "apis": []}])
    return Reply(200, [])


@pytest.mark.parametrize(
    "args",
    [
        ("provider", "get", "k1"),
        ("provider", "get", "k1", "-o", "json"),
        ("provider", "get", "k1", "-o", "yaml"),
        ("provider", "get", "k1", "--debug"),
        ("provider", "list", "-o", "json"),
        ("provider", "list", "--debug"),
        ("provider", "export"),
        ("provider", "export", "--secrets", "env"),
    ],
)
def test_unlisted_secret_keys_from_a_server_are_never_shown(
    integ: Any, serve: Callable[..., FaultServer], args: tuple[str, ...]
) -> None:
    server = serve(clear_server)
    redact.forget_all()
    r = integ(*args, "--server", server.url)
    assert r.exit_code == 0, r.stderr
    text = r.stdout + r.stderr
    assert [s for s in CLEAR if s in text] == [], text
    assert "alice" in text


def test_export_writes_references_for_unlisted_secret_keys(
    integ: Any, serve: Callable[..., FaultServer], tmp_path: Path
) -> None:
    server = serve(clear_server)
    r = integ("provider", "export", "--server", server.url)
    assert r.exit_code == 0, r.stderr
    config = yaml.safe_load(r.stdout)["configuration"]
    assert config["schemaRegistryAuthValue"] == "${keyring}"
    assert config["clientSecret"] == "${keyring}"
    assert config["options"] == "${keyring}"  # holds a secret key: exported as a reference
    assert config["user"] == "alice"
