"""The secret-leak property across every command and output format, ``--debug`` included.

A secret value, however it reaches integ (keyring, ``-c KEY=@file``, ``${env:...}`` in a
document, stdin, ``CONDUCTOR_AUTH_TOKEN``, ``CONDUCTOR_AUTH_SECRET``, a token the server
mints), never appears on stdout or stderr in any of the forms it can take (raw, JSON-escaped,
repr, percent-encoded).

The server is a loopback server that echoes everything it gets: the request body and the
``X-Authorization`` header come back in descriptions, configurations, tags, ``createdBy``,
error messages, ``validationErrors`` (``invalidValue`` included), HTML error pages, plain-text
bodies and a response header. Every command runs against it once answering normally (in
every output format) and once for each kind of failure.

The server is hostile as well as chatty: it echoes the request whitespace-mangled (tabs,
newlines, runs of spaces), padded so that a secret crosses the cut integ makes in a message,
cut off by the server itself in the middle of a secret, URL-encoded and HTML-escaped; and it
sends back in clear, under secret-looking keys integ's type table does not list
(``schemaRegistryAuthValue``, ``clientSecret``, ``private_key``, nested ones), a secret only
it knows. Neither a secret in any of its forms nor any piece of 6 characters or more of it
(with a marker character, so ordinary text cannot match) may show.

This extends ``tests/test_secret_leak.py`` (same ``World`` idea, same ``leaks`` check) from a
few commands to all of them.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import keyring
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conductor_integrations.sandbox.defs import integration_defs
from conductor_integrations.secrets import credentials, redact
from tests.conftest import MemoryKeyring
from tests.hardening.fault_server import FaultServer, Reply, Request
from tests.test_redact import SECRET_ALPHABET, leaks, marked_secrets

CONTRACT = {0, 1, 2, 3, 4, 5, 6, 7}
OK_FORMATS = (("-o", "table"), ("-o", "json"), ("-o", "yaml"), ("--debug",), ("-o", "json", "--debug"))
#: Failures alternate between these (both are --debug: the log shows what the server sent).
FAIL_FORMATS = (("-o", "json", "--debug"), ("--debug",))
#: How the server fails: (status, kind of body, extra headers).
FAILURES = (
    (400, "json", {}),
    (401, "token", {}),
    (403, "html", {}),
    (404, "json", {}),
    (500, "text", {}),
    (503, "json", {"Retry-After": "0"}),
    (400, "mangled", {}),
    (400, "long", {}),
    (422, "cut", {}),
    (400, "url", {}),
    (403, "html-escaped", {}),
)
#: Values with whitespace inside (a tab, a newline or a run of spaces), marked with "€".
spaced_secrets = st.tuples(
    marked_secrets, st.integers(1, 40), st.sampled_from(["\t", "  ", " \n ", " "])
).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :] if 0 < t[1] < len(t[0]) else t[0] + t[2] + "x-0009")
#: Header-safe values (a token travels in X-Authorization), marked with "ß".
header_secrets = st.tuples(
    st.text(alphabet=SECRET_ALPHABET.replace("€", ""), min_size=8, max_size=32), st.integers(0, 32)
).map(lambda t: t[0][: t[1]] + "ß" + t[0][t[1] :])
EXAMPLES = settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FLEET = """\
name: p1
type: openai
configuration:
  api_key: ${keyring}
models:
  - name: gpt-4o
    description: the model
    configuration:
      api_key: ${env:LEAK_ENV}
tags:
  team: blue
---
name: p2
type: openai
description: second
configuration:
  api_key: ${env:LEAK_ENV}
"""


@dataclass
class Secrets:
    ring: str  # provider secret in the keyring (p1/api_key)
    file: str  # in a file given with -c api_key=@file
    env: str  # LEAK_ENV, referenced as ${env:LEAK_ENV}
    stdin: str  # `secret set` and `auth login --secret-stdin`
    token: str  # CONDUCTOR_AUTH_TOKEN
    key_secret: str  # CONDUCTOR_AUTH_SECRET
    minted: str  # what the server mints at POST /api/token
    #: only the server knows it: sent back in clear under keys the type table does not list
    server: str = "srv-auth-value-€-0008"

    def all(self) -> list[str]:
        return [
            self.ring,
            self.file,
            self.env,
            self.stdin,
            self.token,
            self.key_secret,
            self.minted,
            self.server,
        ]


def strings_in(body: bytes) -> list[str]:
    """Every string inside a JSON body (the values the server "decodes")."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, str):
            found.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(data)
    return found


@dataclass
class EchoServer:
    """Answers like Conductor, with everything it was sent woven into its replies."""

    minted: str
    server_secret: str = Secrets.server
    failure: tuple[int, str, dict[str, str]] | None = None
    seen: list[str] = field(default_factory=list)
    pads: Iterator[int] = field(default_factory=lambda: itertools.cycle(range(0, 300, 13)))

    def __call__(self, req: Request) -> Reply:
        auth = req.headers.get("x-authorization", "")
        said = req.body.decode("utf-8", "replace")
        echo = " | ".join([*strings_in(req.body), said, auth])
        self.seen.append(f"{req.method} {req.path}")
        headers = {"X-Echo": quote(echo, safe="")}
        if self.failure is not None:
            return self.fail(echo, auth, headers)
        path = urlsplit(req.path).path.rstrip("/")
        if path == "/api/token":
            return Reply(200, {"token": self.minted, "note": f"issued for {echo}"}, headers=headers)
        if req.method in ("DELETE", "PUT"):
            return Reply(200, b"", headers=headers)
        if path == "/api/integrations/def":
            defs = integration_defs()
            defs[0] = {**defs[0], "description": echo}
            return Reply(200, defs, headers=headers)
        parts = path.split("/")  # ["", "api", "integrations", "provider", NAME, "integration", MODEL]
        if path == "/api/integrations":  # the listing with models
            return Reply(200, [self.provider("p1", echo, with_models=True)], headers=headers)
        if path == "/api/integrations/provider":
            return Reply(200, [self.provider("p1", echo), self.provider("p2", echo)], headers=headers)
        if len(parts) == 5:
            return Reply(200, self.provider(parts[4], echo), headers=headers)
        if len(parts) == 6 and parts[5] == "tags":
            return Reply(
                200, [{"key": "team", "value": echo}, {"key": "owner", "value": "x"}], headers=headers
            )
        if len(parts) == 6:
            return Reply(200, [self.model(parts[4], "gpt-4o", echo)], headers=headers)
        if len(parts) == 7:
            return Reply(200, self.model(parts[4], parts[6], echo), headers=headers)
        return Reply(404, {"message": f"nothing at {req.path}: {echo}"})

    def fail(self, echo: str, auth: str, headers: dict[str, str]) -> Reply:
        assert self.failure is not None
        status, kind, extra = self.failure
        headers = {**headers, **extra}
        if kind == "html":
            return Reply(
                status,
                f"<html><body><h1>Denied</h1><p>{echo}</p></body></html>",
                content_type="text/html",
                headers=headers,
            )
        if kind == "text":
            return Reply(status, f"Internal error while handling {echo}", headers=headers)
        if kind == "mangled":  # every whitespace run replaced by tabs, newlines and spaces
            return Reply(status, "bad request: " + "\t\n   ".join(echo.split()), headers=headers)
        if kind == "long":  # padded so that integ's cut falls at another place each time
            return Reply(status, "." * next(self.pads) + f" could not handle {echo}", headers=headers)
        if kind == "url":
            return Reply(
                status, f"bad request at /echo?q={quote(echo)}&r={quote(echo, safe='')}", headers=headers
            )
        if kind == "html-escaped":
            return Reply(
                status,
                f"<html><body><pre>{html.escape(echo)}</pre></body></html>",
                content_type="text/html",
                headers=headers,
            )
        if kind == "cut":  # the server cuts its own messages, in the middle of a secret
            pad = "." * next(self.pads)
            return Reply(
                status,
                {
                    "status": status,
                    "message": f"rejected {pad}{echo}"[:300],
                    "validationErrors": [
                        {
                            "path": "description",
                            "message": f"{pad}{echo}"[:200] + "...",
                            "invalidValue": echo[:150],
                        }
                    ],
                },
                headers=headers,
            )
        body: dict[str, Any] = {
            "status": status,
            "message": f"rejected: {echo}",
            "validationErrors": [
                {"path": "configuration.api_key", "message": f"bad: {echo}", "invalidValue": echo},
                {"path": "description", "message": f"odd: {echo}", "invalidValue": echo},
            ],
            "retryable": False,
        }
        if kind == "token":
            body.update(error="INVALID_TOKEN", message=f"token {auth} refused")
        return Reply(status, body, headers=headers)

    def provider(self, name: str, echo: str, with_models: bool = False) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": name,
            "type": "openai",
            "category": "AI_MODEL",
            "description": f"echo: {echo}",
            "enabled": True,
            "configuration": {
                "api_key": echo,
                "endpoint": f"https://u:{echo}@api.example.com/v1",
                "schemaRegistryAuthValue": self.server_secret,
                "clientSecret": self.server_secret,
                "private_key": self.server_secret,
                "options": {"ssl": {"keyPassphrase": self.server_secret}, "retries": "3"},
            },
            "tags": [{"key": "team", "value": echo}],
            "modelsCount": 1,
            "createTime": 1764326634134,
            "updateTime": 1764326700000,
            "createdBy": echo,
            "updatedBy": "someone",
        }
        if with_models:
            found["apis"] = [self.model(name, "gpt-4o", echo)]
        return found

    def model(self, provider: str, name: str, echo: str) -> dict[str, Any]:
        return {
            "integrationName": provider,
            "api": name,
            "description": f"echo: {echo}",
            "enabled": True,
            "configuration": {"api_key": echo, "sasToken": self.server_secret},
            "createdBy": echo,
        }


#: Commands that never talk to the server: run against it answering normally only.
OFFLINE = ("--dry-run", "secret", "config", "validate")


def commands(w: World) -> list[tuple[list[str], str | None]]:
    """Every command that exists, with the secrets each one can meet."""
    fleet, key = str(w.fleet), f"api_key=@{w.key_file}"
    return [
        (["provider", "put", "p1", "-t", "openai", "-c", key], None),
        (["provider", "put", "p1", "-t", "openai", "-d", "from the keyring"], None),
        (["provider", "put", "p1", "-t", "openai", "-c", key, "--dry-run"], None),
        (["provider", "get", "p1"], None),
        (["provider", "list"], None),
        (["provider", "delete", "p1", "p2", "--yes"], None),
        (["provider", "apply", "-f", fleet], None),
        (["provider", "apply", "-f", fleet, "--dry-run"], None),
        (["provider", "diff", "-f", fleet], None),
        (["provider", "export"], None),
        (["provider", "export", "--secrets", "env"], None),
        (["provider", "tag", "set", "p1", "team=blue"], None),
        (["provider", "tag", "list", "p1"], None),
        (["provider", "tag", "remove", "p1", "team=blue"], None),
        (["model", "put", "p1", "gpt-4o", "-c", key], None),
        (["model", "get", "p1", "gpt-4o"], None),
        (["model", "list", "p1"], None),
        (["model", "delete", "p1", "gpt-4o", "--yes"], None),
        (["secret", "set", "p3", "api_key"], w.secrets.stdin + "\n"),
        (["secret", "list"], None),
        (["secret", "delete", "p3", "api_key"], None),
        (["auth", "login", "--key-id", "kid", "--secret-stdin"], w.secrets.stdin),
        (["auth", "status"], None),
        (["auth", "logout"], None),
        (["config", "show"], None),
        (["validate", fleet], None),
        (["types", "list", "--server", w.server.url], None),
        (["types", "diff", "--server", w.server.url], None),
    ]


class World:
    """A fresh machine: folders, keyring with the provider secret, environment, server."""

    def __init__(
        self,
        base: Path,
        monkeypatch: pytest.MonkeyPatch,
        serve: Callable[..., FaultServer],
        s: Secrets,
        auth: str,
    ):
        self.secrets = s
        self.dir = base
        self.dir.mkdir(parents=True)
        monkeypatch.setenv("INTEG_CONFIG_DIR", str(base / "config"))
        monkeypatch.setenv("INTEG_DATA_DIR", str(base / "data"))
        self.ring = MemoryKeyring()
        keyring.set_keyring(self.ring)
        credentials.reset()
        self.ring.set_password(credentials.SERVICE, "p1/api_key", s.ring)
        self.ring.set_password(credentials.SERVICE, "p1/gpt-4o/api_key", s.ring)
        self.key_file = base / "key.txt"
        self.key_file.write_text(s.file + "\n", "utf-8")
        self.fleet = base / "fleet.yaml"
        self.fleet.write_text(FLEET, "utf-8")
        self.echo = EchoServer(s.minted, s.server)
        self.server = serve(self.echo)
        monkeypatch.setenv("LEAK_ENV", s.env)
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", self.server.url)
        if auth == "token":
            monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", s.token)
            monkeypatch.delenv("CONDUCTOR_AUTH_KEY", raising=False)
        else:
            monkeypatch.delenv("CONDUCTOR_AUTH_TOKEN", raising=False)
            monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "kid")
        monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", s.key_secret)
        monkeypatch.setenv("INTEG_RETRIES", "1")
        self.outputs: list[tuple[list[str], int, str]] = []


@pytest.fixture
def worlds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve: Callable[..., FaultServer], sleeps: list[float]
) -> Iterator[Callable[[Secrets, str], World]]:
    count = iter(range(10_000))
    yield lambda s, auth: World(tmp_path / f"w{next(count)}", monkeypatch, serve, s, auth)
    credentials.reset()


def run_everything(
    integ: Any,
    w: World,
    formats: tuple[tuple[str, ...], ...] = OK_FORMATS,
    failures: tuple[tuple[int, str, dict[str, str]], ...] = FAILURES,
) -> None:
    """Each command: normally in each of ``formats``, then (if it talks to a server) once
    per failure; as a new process each time (the redactor forgets what an earlier command
    learnt)."""
    runs: list[tuple[Any, tuple[str, ...]]] = [(None, fmt) for fmt in formats]
    runs += [(f, FAIL_FORMATS[i % len(FAIL_FORMATS)]) for i, f in enumerate(failures)]
    for failure, fmt in runs:
        w.echo.failure = failure
        for args, stdin in commands(w):
            if failure is not None and any(word in args for word in OFFLINE):
                continue
            redact.forget_all()
            r = integ(*args, *fmt, input=stdin)
            text = r.stdout + r.stderr
            w.outputs.append(([*args, *fmt, f"(server: {failure or 'ok'})"], r.exit_code, text))
            assert "unexpected internal error" not in text, text
            assert r.exit_code in CONTRACT, (args, fmt, failure, text)


#: Marker characters: every secret of these tests has one, and integ's own text none.
MARKERS = "€ß"


def pieces(value: str, size: int = 6) -> list[str]:
    """The ``size``-character pieces of ``value`` holding a marker character."""
    found = {value[i : i + size] for i in range(len(value) - size + 1)}
    return sorted(p for p in found if any(m in p for m in MARKERS))


def shown_pieces(text: str, value: str) -> list[str]:
    """Pieces of ``value`` (in any form, whitespace collapsed too) that ``text`` shows."""
    flat = " ".join(text.split())
    candidates = {p for form in forms_of(value) for p in pieces(form)}
    return sorted(p for p in candidates if p in text or " ".join(p.split()) in flat)


def forms_of(value: str) -> list[str]:
    return [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], html.escape(value)]


def assert_no_leak(w: World) -> None:
    for secret in w.secrets.all():
        for args, _, text in w.outputs:
            found = leaks(text, secret) + shown_pieces(text, secret)
            assert found == [], f"integ {' '.join(args)} showed a secret ({found}):\n{text}"


#: Values that change in every form they can take: quotes, backslash, percent, plus, slash,
#: non-ASCII (the header-borne ones stay within Latin-1).
NASTY = Secrets(
    ring='sk-"ring"\\ %2F+/é€-0001',
    file="sk-'file'\n-€-0002",
    env="sk-env+/%-€\t-ß  -0003",
    stdin='sk-"stdin" \t-€\\-0004',
    token='tok-"ß"+/%-0005',
    key_secret="key-secret-€/'-0006",
    minted="minted-ß%2B+/\\-0007",
    server='srv-<auth>&"value"-€-0008',
)


#: Fewer runs where the full set adds nothing new (the output code is the same).
SOME_FORMATS = (("-o", "table"), ("-o", "json", "--debug"))
SOME_FAILURES = (FAILURES[0], FAILURES[2], FAILURES[4], FAILURES[7], FAILURES[8])


@pytest.mark.parametrize("auth", ["token", "key"])
def test_no_command_shows_a_secret(integ: Any, worlds: Callable[[Secrets, str], World], auth: str) -> None:
    w = worlds(NASTY, auth)
    run_everything(integ, w, OK_FORMATS if auth == "token" else SOME_FORMATS)
    assert_no_leak(w)
    # The echo server was reached (and echoed) by the commands that talk to a server.
    assert any(p.startswith("POST /api/integrations/provider/p1") for p in w.echo.seen)
    if auth == "key":
        assert "POST /api/token" in w.echo.seen


@EXAMPLES
@given(
    ring=spaced_secrets,
    file=marked_secrets,
    env=spaced_secrets,
    stdin=marked_secrets,
    token=header_secrets,
    key_secret=marked_secrets,
    minted=header_secrets,
    server=marked_secrets,
    auth=st.sampled_from(["token", "key"]),
)
def test_no_command_shows_a_random_secret(
    integ: Any,
    worlds: Callable[[Secrets, str], World],
    auth: str,
    ring: str,
    file: str,
    env: str,
    stdin: str,
    token: str,
    key_secret: str,
    minted: str,
    server: str,
) -> None:
    w = worlds(Secrets(ring, file, env, stdin, token, key_secret, minted, server), auth)
    run_everything(integ, w, SOME_FORMATS, SOME_FAILURES)
    assert_no_leak(w)


def test_the_check_can_fail(integ: Any, worlds: Callable[[Secrets, str], World]) -> None:
    """Were integ to print what the server echoes, the property would see it."""
    s = Secrets(*(f"value-{i}-€-secret" for i in range(5)), "tok-ß-token-0001", "tok-ß-minted-0002")
    w = worlds(s, "token")
    w.outputs.append((["echo"], 0, f"rejected: {json.dumps(s.file)[1:-1]}"))
    with pytest.raises(AssertionError, match="showed a secret"):
        assert_no_leak(w)


@pytest.mark.parametrize("shown", ["x value-1-€-se", "value-1-€-secr...", "-1-€-secret"])
def test_the_check_sees_a_piece(integ: Any, worlds: Callable[[Secrets, str], World], shown: str) -> None:
    """A piece of a secret (a server's cut, integ's cut) is seen too."""
    s = Secrets(*(f"value-{i}-€-secret" for i in range(5)), "tok-ß-token-0001", "tok-ß-minted-0002")
    w = worlds(s, "token")
    w.outputs.append((["echo"], 0, f"rejected: {shown}"))
    with pytest.raises(AssertionError, match="showed a secret"):
        assert_no_leak(w)
