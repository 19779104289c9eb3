"""Validation against the table: the contract's rules, every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.documents import pipeline, reader, validate
from conductor_integrations.documents.payload import ConfigFlag, Flags, build
from conductor_integrations.errors import Problem
from tests.test_payload import FakeResolver


def check(type_name: str, config: dict[str, str], strict: bool = False, **fields: Any) -> list[Problem]:
    flags = Flags(type=type_name, config=[ConfigFlag(k, v) for k, v in config.items()], **fields)
    built = build("p", None, flags, FakeResolver(), resolve_missing_secrets=False)
    return pipeline.complete(built, FakeResolver(), pipeline.Options(strict=strict)).problems


def errors(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in problems if p.severity == "error"]


def test_reference_page_anthropic_example_is_valid() -> None:
    problems = check(
        "anthropic",
        {"api_key": "<YOUR-API-KEY>", "endpoint": "https://api.anthropic.com/v1"},
        category="AI_MODEL",
        description="<YOUR-DESCRIPTION>",
        enabled=True,
    )
    assert problems == []


def test_api_key_camel_case_is_caught_with_a_hint() -> None:
    problems = check("openai", {"apiKey": "sk-1"})
    assert errors(problems) == [("configuration.api_key", "openai requires 'api_key'")]
    [warning] = [p for p in problems if p.severity == "warning"]
    assert warning.path == "configuration.apiKey"
    assert "did you mean 'api_key'?" in warning.hint


def test_strict_turns_warnings_into_errors() -> None:
    problems = check("openai", {"api_key": "k", "organisationId": "o"}, strict=True)
    assert errors(problems) == [("configuration.organisationId", "unknown key 'organisationId' for openai")]
    assert "organizationId" in problems[0].hint


def test_bedrock_access_key_without_user_names_user() -> None:
    problems = check(
        "aws_bedrock_titan", {"connectionType": "ACCESS_KEY", "region": "us-east-1", "api_key": "s"}
    )
    assert errors(problems) == [("configuration.user", "connectionType ACCESS_KEY requires 'user'")]


@pytest.mark.parametrize(
    ("config", "missing"),
    [
        ({"connectionType": "EXTERNAL_ROLE", "region": "r"}, ["roleArn", "externalId"]),
        ({"connectionType": "CONDUCTOR_ROLE", "region": "r"}, []),
        ({"connectionType": "ACCESS_KEY", "region": "r", "user": "u", "api_key": "k"}, []),
    ],
)
def test_connection_type_rules(config: dict[str, str], missing: list[str]) -> None:
    for type_name in ("aws_bedrock_anthropic", "aws_sqs", "aws"):
        assert [p for p, _ in errors(check(type_name, config))] == [f"configuration.{k}" for k in missing]


def test_bad_connection_type_value() -> None:
    [(path, message)] = errors(check("aws", {"connectionType": "ACCESS-KEY", "region": "r"}))
    assert path == "configuration.connectionType"
    assert "ACCESS_KEY, EXTERNAL_ROLE, CONDUCTOR_ROLE" in message


def test_pinecone_without_project_name_passes() -> None:
    assert check("pineconedb", {"api_key": "k", "environment": "us-east1-gcp"}) == []


def test_unknown_type_names_the_closest() -> None:
    [problem] = check("open_ai", {"api_key": "k"})
    assert problem.severity == "error" and "'openai'" in problem.hint


def test_missing_type() -> None:
    problems = validate.check(build("p", None, Flags(), FakeResolver()))
    assert errors(problems)[0][0] == "type"


def test_every_problem_is_reported_with_file_line_and_path(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("name: rabbit\ntype: amqp\nconfiguration:\n  protocol: amqp\n  usr: guest\n  port: 5672\n")
    [doc] = reader.load(str(f))
    problems = validate.check(build(None, doc, None, FakeResolver()))
    rendered = [p.render() for p in problems]
    assert len([p for p in problems if p.severity == "error"]) == 4  # user password endpoint namespace
    assert f"{f}:5 rabbit configuration.usr: unknown key 'usr' for amqp (did you mean 'user'?)" in rendered
    assert all(p.source == str(f) for p in problems)


def test_category_mismatch_is_a_warning() -> None:
    problems = check("openai", {"api_key": "k"}, category="VECTOR_DB")
    assert [(p.path, p.severity) for p in problems] == [("category", "warning")]


def test_the_pipeline_reports_duplicate_names(tmp_path: Path) -> None:
    f = tmp_path / "two.yaml"
    f.write_text(
        "name: a\ntype: grok\nconfiguration: {api_key: k}\n---\n"
        "name: a\ntype: grok\nconfiguration: {api_key: k}\n"
    )
    prepared = pipeline.from_documents(reader.load_all([str(f)]), FakeResolver(), pipeline.Options())
    payloads, problems = prepared.payloads, prepared.problems
    assert len(payloads) == 2
    [dup] = problems
    assert "defined twice" in dup.message and dup.source == f"{f}#2" and dup.line == 5
    assert payloads[0].body["category"] == "AI_MODEL"


@pytest.mark.parametrize(
    ("provider", "shown"),
    [
        ("p-kafka", "f.yaml:6 p-kafka configuration.protocol: kafka requires 'protocol'"),
        ("", "f.yaml:6 configuration.protocol: kafka requires 'protocol'"),
        ("two words", "f.yaml:6 'two words' configuration.protocol: kafka requires 'protocol'"),
        ("fake\nerror: x", "f.yaml:6 'fake\\nerror: x' configuration.protocol: kafka requires 'protocol'"),
    ],
)
def test_a_problem_names_its_provider(provider: str, shown: str) -> None:
    from conductor_integrations.errors import Problem

    p = Problem("configuration.protocol", "kafka requires 'protocol'", "", "error", "f.yaml", 6, provider)
    assert p.render() == shown
    assert p.as_error().provider == provider


def test_every_problem_of_the_pipeline_names_its_provider(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(
        "name: ai\ntype: openai\nconfiguration: {api_key: k, apiKey: x}\nmodels:\n- name: m\n  colour: red\n"
        "tags: [a]\n---\nname: ai\ntype: grok\nconfiguration: {api_key: k}\n"
    )
    problems = pipeline.from_documents(
        reader.load_all([str(f)]), FakeResolver(), pipeline.Options(strict=True)
    ).problems
    assert len(problems) == 4  # apiKey, models[0].colour, tags, the name given twice
    assert {p.provider for p in problems} == {"ai"}


# --- offline validation, one report per missing secret, placeholders ---------------------


def prepare_text(text: str, resolver: Any, tmp_path: Path) -> list[Problem]:
    f = tmp_path / "p.yaml"
    f.write_text(text)
    problems = pipeline.from_documents(reader.load_all([str(f)]), resolver, pipeline.Options()).problems
    return problems


def test_unset_env_secret_is_reported_once_not_also_as_missing(tmp_path: Path) -> None:
    problems = prepare_text(
        "name: p\ntype: openai\nconfiguration:\n  api_key: ${env:NOT_SET_ANYWHERE}\n",
        FakeResolver(),
        tmp_path,
    )
    assert [(p.path, p.message) for p in problems] == [
        (
            "configuration.api_key",
            "environment variable NOT_SET_ANYWHERE is not set (referenced as ${env:NOT_SET_ANYWHERE})",
        )
    ]


def test_offline_resolves_nothing_and_requires_no_secret(tmp_path: Path) -> None:
    from conductor_integrations.documents.references import OfflineResolver

    text = (
        "name: p\ntype: aws_bedrock_titan\nconfiguration:\n  connectionType: ACCESS_KEY\n"
        "  region: us-east-1\n  user: ${env:NOT_SET_USER}\n  api_key: ${keyring}\n"
        "  awsAccountId: ${file:nowhere.txt}\n"
    )
    assert prepare_text(text, OfflineResolver(), tmp_path) == []
    # a secret absent from the document is not required either (the keyring may hold it)
    assert prepare_text("name: q\ntype: openai\n", OfflineResolver(), tmp_path) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${env:}", "${env:NAME} needs a variable name"),
        ("${file:}", "${file:PATH} needs a path"),
        ("${keyring:nokey}", "${keyring:nokey}: expected ${keyring:PROVIDER/KEY}"),
    ],
)
def test_offline_still_checks_reference_syntax(tmp_path: Path, value: str, message: str) -> None:
    from conductor_integrations.documents.references import OfflineResolver

    problems = prepare_text(
        f"name: p\ntype: openai\nconfiguration:\n  api_key: '{value}'\n", OfflineResolver(), tmp_path
    )
    assert [(p.path, p.message) for p in problems] == [("configuration.api_key", message)]


def test_offline_still_checks_types_and_keys(tmp_path: Path) -> None:
    from conductor_integrations.documents.references import OfflineResolver

    problems = prepare_text(
        "name: p\ntype: kafka\nconfiguration:\n  endpoint: ${env:KAFKA_HOST}\n  protocol: 'TLS'\n",
        OfflineResolver(),
        tmp_path,
    )
    assert [(p.path, p.message) for p in problems if p.severity == "error"] == [
        ("configuration.connectionType", "kafka requires 'connectionType'")
    ]


def test_placeholder_left_from_example_is_an_error_naming_the_key(tmp_path: Path) -> None:
    problems = prepare_text(
        "name: p\ntype: kafka\nconfiguration:\n  endpoint: 'https://<HOST>'\n"
        "  connectionType: '<CONNECTION-TYPE>'\n  protocol: TLS\n",
        FakeResolver(),
        tmp_path,
    )
    found = [(p.path, p.message) for p in problems if p.severity == "error"]
    assert ("configuration.endpoint", "endpoint still holds the placeholder <HOST>: fill it in") in found
    assert (
        "configuration.connectionType",
        "connectionType still holds the placeholder <CONNECTION-TYPE>: fill it in",
    ) in found
    assert len(found) == 2  # not also "must be one of"


def test_angle_brackets_that_are_not_placeholders_are_values(tmp_path: Path) -> None:
    problems = prepare_text(
        "name: p\ntype: openai\ndescription: 'a <b> c'\nconfiguration:\n  api_key: 'sk-<x>'\n",
        FakeResolver(),
        tmp_path,
    )
    assert problems == []


def test_offline_validate_never_touches_the_keyring(integ: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from conductor_integrations.secrets import credentials

    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError("the keyring was asked")

    monkeypatch.setattr(credentials, "get_secret", refuse)
    f = tmp_path / "p.yaml"
    f.write_text(
        "name: p\ntype: git\nconfiguration:\n  user: me\n  api_key: ${keyring}\n---\nname: q\ntype: openai\n"
    )
    r = integ("validate", "--offline", str(f))
    assert r.exit_code == 0, r.stderr
    assert "2 providers checked: all valid" in r.stderr
