"""A property: a secret value, whatever it is and however it reaches integ (keyring, stdin,
environment, prompt, key secret, token), never appears on stdout or stderr, in any command,
output format, error message or ``--debug`` log.

The server is a ``responses`` stub that, for good measure, echoes the secret back in its
error messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conductor_integrations.secrets import credentials, redact
from tests.conftest import MemoryKeyring
from tests.test_redact import SECRET_ALPHABET, leaks, marked_secrets

SERVER = "http://conductor.test"
FORMATS = (("-o", "table"), ("-o", "json"), ("-o", "yaml"), ("-o", "json", "--debug"), ("--debug",))
secrets = marked_secrets
#: Tokens travel in the X-Authorization header, which holds Latin-1 only (a real token is
#: ASCII); they are marked with "ß" instead of "€" (integ's own text is ASCII either way).
tokens = st.tuples(
    st.text(alphabet=SECRET_ALPHABET.replace("€", ""), min_size=8, max_size=48), st.integers(0, 48)
).map(lambda t: t[0][: t[1]] + "ß" + t[0][t[1] :])
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class World:
    """A fresh machine for each example: folders, keyring, redactor, stub server."""

    def __init__(self, integ: Any, monkeypatch: pytest.MonkeyPatch, base: Path, n: int):
        self.integ = integ
        self.monkeypatch = monkeypatch
        self.dir = base / f"ex{n}"
        self.dir.mkdir()
        monkeypatch.setenv("INTEG_CONFIG_DIR", str(self.dir / "config"))
        monkeypatch.setenv("INTEG_DATA_DIR", str(self.dir / "data"))
        for var in ("CONDUCTOR_AUTH_SECRET", "CONDUCTOR_AUTH_TOKEN", "CONDUCTOR_SERVER_URL", "LEAK_VAR"):
            monkeypatch.delenv(var, raising=False)
        self.ring = MemoryKeyring()
        keyring.set_keyring(self.ring)
        redact.forget_all()
        credentials.reset()
        self.outputs: list[tuple[tuple[str, ...], str]] = []

    def run(self, *args: str, input: str | None = None) -> Any:
        result = self.integ(*args, input=input)
        self.outputs.append((args, result.stdout + result.stderr))
        return result

    def assert_no_leak(self, secret: str) -> None:
        for args, text in self.outputs:
            assert leaks(text, secret) == [], f"integ {' '.join(args)} showed the secret:\n{text}"


@pytest.fixture
def world(integ: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[], World]]:
    count = iter(range(10_000))
    yield lambda: World(integ, monkeypatch, tmp_path, next(count))
    credentials.reset()


def token_server(rsps: responses.RequestsMock, secret: str, token: str) -> None:
    """``POST /api/token``: a token for the right secret, a 401 echoing what it got otherwise."""

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        if body.get("keySecret") == secret:
            return 200, {}, json.dumps({"token": token})
        return 401, {}, json.dumps({"status": 401, "message": f"invalid keySecret {body.get('keySecret')}"})

    rsps.add_callback(responses.POST, f"{SERVER}/api/token", callback=reply, content_type="application/json")


@EXAMPLES
@given(secret=secrets)
def test_provider_secrets_never_shown(world: Callable[[], World], secret: str) -> None:
    w = world()
    for fmt in FORMATS:
        r = w.run("secret", "set", "openai-prod", "api_key", *fmt, input=secret + "\n")
        assert r.exit_code == 0, r.stderr
        w.run("secret", "list", *fmt)
    redact.forget_all()  # a new process: only the keyring knows the value now
    doc = w.dir / "providers.yaml"
    doc.write_text(
        "name: openai-prod\ntype: openai\nconfiguration:\n  api_key: ${keyring}\n"
        "---\nname: other\ntype: openai\nconfiguration:\n  api_key: ${keyring:openai-prod/api_key}\n"
        "  apiKey: ${env:LEAK_VAR}\n"
        "---\nname: broken\ntype: opnai\nconfiguration:\n  api_key: ${env:LEAK_VAR}\n"
    )
    w.monkeypatch.setenv("LEAK_VAR", secret)
    for fmt in FORMATS:
        r = w.run("validate", str(doc), *fmt)
        assert r.exit_code == 3  # the misspelt type
    w.assert_no_leak(secret)


@EXAMPLES
@given(secret=secrets, token=tokens)
def test_key_secrets_and_tokens_never_shown(world: Callable[[], World], secret: str, token: str) -> None:
    w = world()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        token_server(rsps, secret, token)
        r = w.run(
            "auth", "login", "--server", SERVER, "--key-id", "kid", "--secret-stdin", "--debug", input=secret
        )
        assert r.exit_code == 0, r.stderr
        redact.forget_all()
        for fmt in FORMATS:
            assert w.run("auth", "status", *fmt).exit_code == 0
        w.monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "x" + secret)  # wrong: echoed back in the 401
        for fmt in FORMATS:
            redact.forget_all()
            assert w.run("auth", "status", *fmt).exit_code == 4
        w.monkeypatch.delenv("CONDUCTOR_AUTH_SECRET")
        w.monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", token)
        for fmt in FORMATS:
            assert w.run("auth", "status", *fmt).exit_code == 0
        assert w.run("auth", "logout", "--debug").exit_code == 0
    w.assert_no_leak(secret)
    w.assert_no_leak("x" + secret)
    w.assert_no_leak(token)


@EXAMPLES
@given(secret=secrets, token=tokens)
def test_put_and_config_show_never_show_secrets(world: Callable[[], World], secret: str, token: str) -> None:
    w = world()
    w.ring.set_password(credentials.SERVICE, "openai-prod/api_key", secret)
    url = f"{SERVER}/api/integrations/provider/openai-prod"
    for fmt in FORMATS:
        r = w.run("provider", "put", "openai-prod", "-t", "openai", "--dry-run", *fmt)
        assert r.exit_code == 0, r.stderr
    w.monkeypatch.setenv("CONDUCTOR_SERVER_URL", SERVER)
    w.monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", token)
    w.monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", secret)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(url, status=404, json={"status": 404, "message": "not found"})
        rsps.post(url, status=400, json={"status": 400, "message": f"bad api_key {secret} for token {token}"})
        for fmt in FORMATS:
            redact.forget_all()
            assert w.run("provider", "put", "openai-prod", "-t", "openai", *fmt).exit_code == 6
            redact.forget_all()
            assert w.run("config", "show", *fmt).exit_code == 0
    w.assert_no_leak(secret)
    w.assert_no_leak(token)


def test_the_check_itself_can_fail(world: Callable[[], World]) -> None:
    """The property's check sees a secret when one is printed."""
    w = world()
    w.outputs.append((("echo",), "value: " + json.dumps('sk-"quoted"-é')[1:-1]))
    with pytest.raises(AssertionError, match="showed the secret"):
        w.assert_no_leak('sk-"quoted"-é')
    assert re.search("é", SECRET_ALPHABET)
