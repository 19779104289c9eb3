"""A provider or model named ``.`` or ``..`` is refused before anything is sent: the HTTP
client removes dot segments, so such a name would write to a different endpoint
(``/provider/P/integration/..`` is ``/provider/P/``). Against a real sandbox on loopback,
its access log showing what reached it and its store what it kept."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.client import api, endpoints
from conductor_integrations.errors import ExitCode, IntegError
from conductor_integrations.sandbox import serve_in_background
from conductor_integrations.sandbox.store import Store

PROVIDER_KEY = "sk-provider-own-0001"
ATTACKER = "ATTACKER_KEY_9931"


class Sandbox:
    def __init__(self, url: str, log: io.StringIO, data: Path):
        self.url = url
        self.log = log
        self.data = data

    def stored(self, name: str) -> Any:
        store = Store(self.data)
        try:
            return store.get_provider(name)
        finally:
            store.close()

    def requests(self) -> list[str]:
        return [line for line in self.log.getvalue().splitlines() if '"' in line]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    log = io.StringIO()
    with serve_in_background(tmp_path / "x.db", log=log) as running:
        yield Sandbox(running.url, log, tmp_path / "x.db")


@pytest.fixture
def provider(integ: Any, sandbox: Sandbox) -> str:
    r = integ(
        "provider",
        "put",
        "dotv4",
        "-t",
        "openai",
        "-d",
        "own",
        "-c",
        f"api_key={PROVIDER_KEY}",
        "--server",
        sandbox.url,
    )
    assert r.exit_code == 0, r.stderr
    sandbox.log.seek(0)
    sandbox.log.truncate()
    return "dotv4"


def _untouched(sandbox: Sandbox) -> None:
    row = sandbox.stored("dotv4")
    assert row is not None
    assert (row.description, row.configuration["api_key"]) == ("own", PROVIDER_KEY)


@pytest.mark.parametrize("name", ["..", "."])
@pytest.mark.parametrize(
    "command",
    [
        ("model", "put", "dotv4", "{}", "-d", "x", "-c", "api_key=LOST"),
        ("model", "get", "dotv4", "{}"),
        ("model", "delete", "dotv4", "{}", "--yes"),
    ],
)
def test_model_named_dot_is_usage_and_nothing_sent(
    integ: Any, sandbox: Sandbox, provider: str, name: str, command: tuple[str, ...]
) -> None:
    r = integ(*(a.format(name) for a in command), "--server", sandbox.url)
    assert r.exit_code == 2, r.stderr
    assert "MODEL" in r.stderr and repr(name) in r.stderr
    assert sandbox.requests() == []
    _untouched(sandbox)


@pytest.mark.parametrize("name", ["..", "."])
def test_provider_named_dot_is_usage_and_nothing_sent(
    integ: Any, sandbox: Sandbox, provider: str, name: str
) -> None:
    for command in (
        ("provider", "put", name, "-t", "openai", "-c", "api_key=LOST"),
        ("provider", "get", name),
        ("provider", "delete", name, "--yes"),
        ("model", "list", name),
    ):
        r = integ(*command, "--server", sandbox.url)
        assert r.exit_code == 2, (command, r.stderr)
    assert sandbox.requests() == []
    _untouched(sandbox)


DOC = """\
name: dotv4
type: openai
configuration: {{api_key: "********"}}
models:
  - name: "{model}"
    description: pwned
    configuration: {{api_key: {attacker}}}
"""


@pytest.mark.parametrize("model", ["..", "."])
@pytest.mark.parametrize("command", [("provider", "apply", "-f"), ("provider", "diff", "-f"), ("validate",)])
def test_document_with_a_dot_model_is_invalid_and_nothing_sent(
    integ: Any, sandbox: Sandbox, provider: str, tmp_path: Path, model: str, command: tuple[str, ...]
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(DOC.format(model=model, attacker=ATTACKER))
    r = integ(*command, str(path), "--server", sandbox.url)
    assert r.exit_code == 3, r.stderr
    assert "dotv4" in r.stderr and "models[0].name" in r.stderr
    assert ATTACKER not in r.output
    assert sandbox.requests() == []
    _untouched(sandbox)


@pytest.mark.parametrize("name", ["..", "."])
def test_document_with_a_dot_provider_is_invalid(integ: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(f'name: "{name}"\ntype: openai\nconfiguration: {{api_key: k}}\n')
    r = integ("validate", str(path))
    assert r.exit_code == 3, r.stderr
    assert "name" in r.stderr and repr(name) in r.stderr


@pytest.mark.parametrize("name", ["..", ".", ""])
def test_every_path_builder_refuses_a_dot_name(name: str) -> None:
    for build in (
        lambda: api.Client("http://127.0.0.1:9").get_provider(name),  # before anything is sent
        lambda: endpoints.provider_path(name),
        lambda: endpoints.models_path(name),
        lambda: endpoints.tags_path(name),
        lambda: endpoints.model_path("p", name),
        lambda: endpoints.model_path(name, "m"),
    ):
        with pytest.raises(IntegError) as caught:
            build()
        assert caught.value.exit_code == ExitCode.USAGE


def test_names_with_dots_inside_still_work() -> None:
    assert endpoints.model_path("p", "gpt-3.5") == "/integrations/provider/p/integration/gpt-3.5"
    assert endpoints.model_path("p", "...") == "/integrations/provider/p/integration/..."
    assert endpoints.model_path("p", "meta/llama") == "/integrations/provider/p/integration/meta%2Fllama"
