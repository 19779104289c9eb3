"""Every problem line names its provider beside the file, line and key path, in
``validate``, ``apply`` and ``put -f`` alike (the real process; apply and put against the
real server, which gets nothing); JSON documents report the real line of the mistake."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Run

pytestmark = pytest.mark.e2e

YAML = """\
name: p-kafka
type: kafka
description: events
configuration:
  endpoint: broker:9092
  connectionType: SASL
"""
#: ``configuration`` is on line 4 of YAML; the missing ``protocol`` is reported there.
MISSING = "p-kafka configuration.protocol: kafka requires 'protocol'"

JSON_DOC = """\
{
  "name": "p-json",
  "type": "openai",
  "configuration": {
    "api_key": "sk-json-line-test",
    "apiKey": "typo"
  }
}
"""


def error_lines(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith(("error: ", "warning: "))]


def has_line(run: Run, start: str) -> bool:
    return any(line.startswith(start) for line in error_lines(run))


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["provider", "apply", "-f"],
        ["provider", "put", "-f"],
    ],
    ids=["validate", "apply", "put"],
)
def test_problem_lines_name_the_provider(
    integ: Callable[..., Run], tmp_path: Path, command: list[str]
) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(YAML)
    r = integ(*command, str(f))
    assert r.code == 3, r.stderr
    assert has_line(r, f"error: {f}:4 {MISSING} (-c protocol=VALUE"), r.stderr


def test_validate_json_names_the_provider(integ: Callable[..., Run], tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(YAML)
    r = integ("validate", "-o", "json", str(f))
    assert r.code == 3
    [problem] = r.json()["documents"][0]["problems"]
    assert problem == {
        "source": str(f),
        "line": 4,
        "provider": "p-kafka",
        "path": "configuration.protocol",
        "severity": "error",
        "message": "kafka requires 'protocol'",
        "hint": "-c protocol=VALUE or `protocol:` under configuration",
    }


def test_a_json_document_reports_the_real_line(integ: Callable[..., Run], tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(JSON_DOC)
    r = integ("validate", "--strict", str(f))
    assert r.code == 3
    assert has_line(r, f"error: {f}:6 p-json configuration.apiKey: unknown key 'apiKey'"), r.stderr


def test_a_json_list_reports_each_provider_on_its_own_line(integ: Callable[..., Run], tmp_path: Path) -> None:
    docs = [
        {"name": "first", "type": "openai", "configuration": {"api_key": "k"}},
        {"name": "second", "type": "kafka", "configuration": {"endpoint": "b:9092"}},
    ]
    f = tmp_path / "fleet.json"
    f.write_text(json.dumps(docs, indent=2))
    # "configuration" of the second provider: the line of its key in the file
    line = next(i for i, text in enumerate(f.read_text().splitlines(), 1) if '"b:9092"' in text) - 1
    r = integ("provider", "apply", "-f", str(f))
    assert r.code == 3
    assert has_line(r, f"error: {f}:{line} second configuration.connectionType: kafka requires"), r.stderr
    # the valid provider's only line: its api_key is written in plain text (a warning)
    [about_first] = [x for x in error_lines(r) if " first" in x]
    key_line = next(i for i, text in enumerate(f.read_text().splitlines(), 1) if '"api_key"' in text)
    assert about_first.startswith(
        f"warning: {f}:{key_line} first: the secret api_key is written in plain text"
    )


def test_apply_failure_lines_name_the_provider_safely(integ: Callable[..., Run], tmp_path: Path) -> None:
    made = integ("provider", "put", "two words", "-t", "grok", "-c", "api_key=k")
    assert made.code == 0, made.stderr
    f = tmp_path / "p.yaml"
    f.write_text("name: two words\ntype: openai\nconfiguration: {api_key: k}\n")
    r = integ("provider", "apply", "-f", str(f))
    assert r.code == 6, r.stderr
    # below the table, once (not again on stderr)
    assert "\n'two words': type cannot be changed from grok to openai; not sent\n" in r.stdout, r.stdout
    assert "type cannot be changed" not in r.stderr
