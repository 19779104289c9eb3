"""The one pipeline from documents and flags to checked payloads (documents/pipeline.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from conductor_integrations.documents import pipeline, reader
from conductor_integrations.documents.payload import ConfigFlag, Flags, Payload
from tests.test_payload import FakeResolver

DOCUMENTS = Path(__file__).resolve().parents[1] / "conductor_integrations" / "documents"


def docs(text: str) -> list[reader.Document]:
    return reader.parse_yaml(text, "f.yaml", Path.cwd())


def test_strict_makes_every_warning_an_error_of_every_step() -> None:
    text = (
        "name: p\ntype: openai\ncolour: red\nconfiguration: {api_key: '${env:K}', apiKey: x}\n"
        "models:\n- name: m\n  shade: blue\n"
    )
    resolver = FakeResolver({"K": "sk-1"})
    lenient = pipeline.from_documents(docs(text), resolver, pipeline.Options())
    strict = pipeline.from_documents(docs(text), resolver, pipeline.Options(strict=True))
    # building (colour), the table (apiKey) and the models (shade) each warn once
    assert sorted(p.path for p in lenient.problems) == ["colour", "configuration.apiKey", "models[0].shade"]
    assert {p.severity for p in lenient.problems} == {"warning"}
    assert [p.path for p in strict.problems] == [p.path for p in lenient.problems]
    assert {p.severity for p in strict.problems} == {"error"}


def test_put_reports_what_building_found_before_anything_else() -> None:
    flags = Flags(type="openai", config=[ConfigFlag("api_key", "${env:NOT_SET}")])
    resolver = FakeResolver()
    built = pipeline.build_one("p", None, flags, resolver)
    assert [p.path for p in built.errors] == ["configuration.api_key"]
    assert resolver.asked == []  # no secret asked for yet: that comes after the merge


def test_rebase_runs_before_the_missing_secrets_and_the_checks() -> None:
    flags = Flags(description="d")
    resolver = FakeResolver(prompt={"api_key": "sk-typed-1"})
    [built] = pipeline.build_one("p", None, flags, resolver).payloads

    def rebase(payload: Payload) -> None:  # as put merges onto a live openai provider
        payload.body = {"type": "openai", "configuration": {"api_key": "xxxxxxxxxx"}, **payload.body}

    done = pipeline.complete(built, resolver, pipeline.Options(), rebase)
    assert done.problems == []
    assert resolver.asked == []  # the live provider holds the secret
    assert done.payloads[0].body["category"] == "AI_MODEL"


def test_offline_asks_for_no_secret_and_requires_none() -> None:
    resolver = FakeResolver(prompt={"api_key": "sk-typed-1"})
    done = pipeline.from_documents(docs("name: p\ntype: openai\n"), resolver, pipeline.Options(offline=True))
    assert done.problems == [] and resolver.asked == []
    asked = pipeline.from_documents(docs("name: p\ntype: openai\n"), resolver, pipeline.Options())
    assert asked.problems == [] and resolver.asked == [("p", "api_key")]


def test_no_validate_reports_only_what_building_found() -> None:
    done = pipeline.from_documents(
        docs("name: p\ntype: brand_new_type\nconfiguration: {x: '${env:NOPE}'}\n"),
        FakeResolver(),
        pipeline.Options(check_table=False),
    )
    assert [p.message for p in done.problems] == [
        "environment variable NOPE is not set (referenced as ${env:NOPE})"
    ]


def test_what_the_resolver_says_is_returned_once() -> None:
    resolver = FakeResolver()
    resolver.notices = ["the keyring write failed"]  # type: ignore[attr-defined]
    resolver.notes = ["stored p/api_key in the keyring"]  # type: ignore[attr-defined]
    text = "name: p\ntype: openai\nconfiguration: {api_key: '${env:K}'}\n"
    done = pipeline.from_documents(
        docs(text + "---\n" + text.replace("p", "q")), resolver, pipeline.Options()
    )
    assert done.warnings == ["the keyring write failed"]
    assert done.notes == ["stored p/api_key in the keyring"]


def test_plain_text_secret_is_a_warning_not_a_problem() -> None:
    done = pipeline.from_documents(
        docs("name: p\ntype: openai\nconfiguration:\n  api_key: sk-plain-1\n"),
        FakeResolver(),
        pipeline.Options(strict=True),
    )
    assert done.problems == []
    [warning] = done.warnings
    assert warning.startswith("f.yaml:4 p: the secret api_key is written in plain text")
    assert "sk-plain-1" not in warning


def test_nothing_in_documents_prints_or_imports_output() -> None:
    for path in sorted(DOCUMENTS.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                names = []
            for name in names:
                assert not name.startswith("conductor_integrations.output"), path.name
                assert name not in ("getpass", "conductor_integrations.cli"), path.name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", path.name
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                assert not (node.value.attr in ("stderr", "stdout") and node.attr == "write"), path.name
