"""What a newcomer is told about a document's secrets: a missing one once, with the ways to
give it; one written in plain text, once per document; no keyring, once, with the ways that
need none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_secret import run_integ
from tests.conftest import MemoryKeyring


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def lines(stderr: str, prefix: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


# -- a. a missing secret: once, with how to give it ------------------------------------------


def test_validate_reports_a_missing_secret_once_with_the_ways_to_give_it(
    integ: Any, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    doc = write(tmp_path, "name: openai-prod\ntype: openai\nconfiguration:\n  endpoint: https://x/v1\n")
    r = integ("validate", doc)
    assert r.exit_code == 3
    [error] = lines(r.stderr, "error:")
    assert "openai requires 'api_key'" in error
    assert "${env:VAR}" in error and "${keyring}" in error and "-c api_key=@file" in error
    assert "integ secret set openai-prod api_key" in error
    assert "integ types show" not in r.stderr


def test_validate_reports_an_unset_variable_of_a_secret_once_with_the_other_ways(
    integ: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_KEY_NOT_SET", raising=False)
    doc = write(
        tmp_path, "name: openai-prod\ntype: openai\nconfiguration:\n  api_key: ${env:OPENAI_KEY_NOT_SET}\n"
    )
    r = integ("validate", doc)
    assert r.exit_code == 3
    [error] = lines(r.stderr, "error:")
    assert "environment variable OPENAI_KEY_NOT_SET is not set" in error
    assert "requires 'api_key'" not in error
    assert "export OPENAI_KEY_NOT_SET" in error
    assert "${keyring}" in error and "-c api_key=@file" in error


def test_put_failing_validation_gives_no_unrelated_hint(integ: Any, tmp_path: Path) -> None:
    r = integ(
        "provider", "put", "openai-prod", "-t", "openai", "-c", "api_key=${env:NOT_SET_EITHER}", "--dry-run"
    )
    assert r.exit_code == 3
    assert "validation failed: 1 problem; nothing was sent" in r.stderr
    assert "integ types show" not in r.stderr


# -- b. a secret in plain text in a document -------------------------------------------------


def test_plain_text_secret_in_a_document_is_warned_about_once_without_its_value(
    integ: Any, tmp_path: Path
) -> None:
    doc = write(
        tmp_path,
        "name: openai-prod\ntype: openai\nconfiguration:\n  api_key: sk-live-123\n"
        "  organizationId: sk-not-a-secret-key\n",
    )
    r = integ("validate", doc)
    assert r.exit_code == 0, r.stderr
    [warning] = lines(r.stderr, "warning:")
    assert f"{doc}:4 openai-prod: the secret api_key is written in plain text" in warning
    assert "${env:VAR}" in warning and "${keyring}" in warning
    assert "sk-live-123" not in r.output


def test_plain_text_secrets_are_one_warning_per_document(integ: Any, tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        "name: a\ntype: mongo_db\nconfiguration:\n  api_key: k-1-plain\n  password: p-1-plain\n---\n"
        "name: b\ntype: openai\nconfiguration:\n  api_key: k-2-plain\n",
    )
    r = integ("validate", doc)
    warnings = lines(r.stderr, "warning:")
    plain = [w for w in warnings if "plain text" in w]
    assert len(plain) == 2
    assert "the secrets api_key, password are written in plain text" in plain[0]
    assert "k-1-plain" not in r.output and "p-1-plain" not in r.output and "k-2-plain" not in r.output


def test_a_list_of_providers_is_one_document_and_one_warning(integ: Any, tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        "".join(
            f"- name: p{i}\n  type: openai\n  configuration: {{api_key: sk-list-{i}}}\n" for i in range(5)
        ),
    )
    r = integ("validate", doc)
    assert r.exit_code == 0, r.stderr
    [warning] = lines(r.stderr, "warning:")
    assert f"{doc}:3 p0: the secret api_key is written in plain text" in warning
    assert "(and in 4 more of its providers)" in warning
    assert "sk-list-" not in r.output


@pytest.mark.parametrize(
    "value", ["${env:OPENAI_API_KEY}", "${keyring}", "${file:key.txt}", "xxxxxxxxxx", "'********'", ""]
)
def test_references_and_masks_are_not_plain_text(
    integ: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, value: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-1")
    (tmp_path / "key.txt").write_text("sk-from-file-1\n")
    doc = write(tmp_path, f"name: openai-prod\ntype: openai\nconfiguration:\n  api_key: {value}\n")
    r = integ("validate", "--offline", doc)
    assert "plain text" not in r.stderr


def test_plain_text_warning_on_apply_and_put_too(integ: Any, tmp_path: Path) -> None:
    doc = write(tmp_path, "name: openai-prod\ntype: openai\nconfiguration:\n  api_key: sk-live-456\n")
    for args in (("provider", "apply", "--dry-run", doc), ("provider", "put", "-f", doc, "--dry-run")):
        r = integ(*args)
        assert r.exit_code == 0, r.stderr
        assert len([w for w in lines(r.stderr, "warning:") if "plain text" in w]) == 1
        assert "sk-live-456" not in r.output


def test_plain_text_is_a_warning_even_with_strict(integ: Any, tmp_path: Path) -> None:
    """--strict turns problems of the document against the types into errors; the advice
    about plain text stays advice, as it is for -c."""
    doc = write(tmp_path, "name: openai-prod\ntype: openai\nconfiguration:\n  api_key: sk-live-789\n")
    r = integ("validate", "--strict", doc)
    assert r.exit_code == 0, r.stderr
    assert "plain text" in r.stderr


# -- c. no keyring: said once, with the ways that need none ----------------------------------

RING_FLEET = (
    "name: a\ntype: openai\nconfiguration:\n  api_key: ${keyring}\n---\n"
    "name: b\ntype: openai\nconfiguration:\n  api_key: ${keyring}\n---\n"
    "name: c\ntype: openai\n"
)


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ("keyring.backends.fail.Keyring", "no keyring backend"),
        ("keyring.backends.null.Keyring", "null backend"),
    ],
)
def test_no_keyring_is_said_once_with_the_ways_that_need_none(
    tmp_path: Path, backend: str, reason: str
) -> None:
    doc = write(tmp_path, RING_FLEET)
    r = run_integ(["validate", doc], tmp_path, PYTHON_KEYRING_BACKEND=backend)
    assert r.returncode == 3
    errors = lines(r.stderr, "error:")
    assert len(errors) == 3  # a and b: ${keyring}; c: its required api_key
    assert r.stderr.count(reason) == 1
    assert reason in errors[0]
    assert "${env:VAR}" in errors[0] and "-c api_key=@file" in errors[0] and "stdin" in errors[0]
    assert all("no usable keyring (said above)" in e for e in errors[1:])
    assert "requires 'api_key'" in errors[2]
    assert "integ secret set" not in r.stderr
