"""The official Python SDK (``conductor-python``) reads the models and tags that ``integ``
wrote, through the sandbox on loopback: what integ sends is what the SDK expects.

SDK quirks minded here: its URL ends in ``/api``; ``get_integration_api(api_name,
integration_name)`` takes the *provider* first whatever the names say; it refuses
categories other than API, AI_MODEL, VECTOR_DB, RELATIONAL_DB (so the provider is an
AI_MODEL one); ``get_integration_apis`` sends no ``activeOnly``, so the server's default
(true) hides disabled models; its model setters warn (DeprecationWarning) while it reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox, serve_in_background

pytest.importorskip("conductor.client.orkes.orkes_integration_client")

from conductor.client.configuration.configuration import Configuration
from conductor.client.orkes.orkes_integration_client import OrkesIntegrationClient

pytestmark = [pytest.mark.sdk, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

DOCUMENT = """\
name: openai-sdk
type: openai
description: read by the SDK
configuration:
  api_key: ${env:SDK_TEST_KEY}
models:
- name: gpt-4o
  description: GPT-4o
- name: meta/llama-3
  description: a name with a slash
- name: old
  enabled: false
tags:
  team: ml
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with serve_in_background(tmp_path / "x.db") as running:
        yield running


def sdk(sandbox: RunningSandbox) -> Any:
    return OrkesIntegrationClient(Configuration(server_api_url=f"{sandbox.url}/api"))


def test_the_sdk_reads_models_integ_applied(
    integ: Any, sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDK_TEST_KEY", "sk-sdk-read-0042")
    doc = tmp_path / "openai.yaml"
    doc.write_text(DOCUMENT)
    applied = integ("provider", "apply", "-f", str(doc), "--server", sandbox.url)
    assert applied.exit_code == 0, applied.stderr
    client = sdk(sandbox)
    provider = client.get_integration("openai-sdk")
    assert (provider.type, provider.category, provider.models_count) == ("openai", "AI_MODEL", 3)
    assert [(t.key, t.value) for t in provider.tags] == [("team", "ml")]
    active = client.get_integration_apis("openai-sdk")
    assert sorted((m.api, m.description, m.enabled) for m in active) == [
        ("gpt-4o", "GPT-4o", True),
        ("meta/llama-3", "a name with a slash", True),
    ]
    old = client.get_integration_api("openai-sdk", "old")  # provider first, despite the names
    assert (old.integration_name, old.api, old.enabled, old.description) == ("openai-sdk", "old", False, "")
    slash = client.get_integration_api("openai-sdk", "meta/llama-3")
    assert slash.api == "meta/llama-3"
    assert [(t.key, t.value) for t in client.get_tags_for_integration_provider("openai-sdk")] == [
        ("team", "ml")
    ]


def test_the_sdk_reads_a_model_integ_put(integ: Any, sandbox: RunningSandbox) -> None:
    made = integ(
        "provider",
        "put",
        "llm",
        "-t",
        "ollama",
        "-c",
        "endpoint=http://ollama:11434",
        "--server",
        sandbox.url,
    )
    assert made.exit_code == 0, made.stderr
    model = integ(
        "model", "put", "llm", "llama3", "-d", "Llama 3", "-c", "numCtx=8192", "--server", sandbox.url
    )
    assert model.exit_code == 0, model.stderr
    found = sdk(sandbox).get_integration_api("llm", "llama3")
    assert (found.integration_name, found.api, found.description, found.enabled) == (
        "llm",
        "llama3",
        "Llama 3",
        True,
    )
    assert found.configuration == {"numCtx": "8192"}
    assert sdk(sandbox).get_integration("llm").models_count == 1
