"""Payload building: golden files, precedence, -c flags, references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conductor_integrations.documents import payload, reader
from conductor_integrations.documents.payload import ConfigFlag, Flags, build
from conductor_integrations.errors import InputError, UsageError
from tests.conftest import FIXTURES

GOLDEN = sorted((FIXTURES / "payload").glob("*.yaml"))


class FakeResolver:
    """A resolver over dicts: no environment, files or keyring of the machine."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        files: dict[str, str] | None = None,
        ring: dict[tuple[str, str], str] | None = None,
        prompt: dict[str, str] | None = None,
    ):
        self.env_vars = env or {}
        self.files = files
        self.ring = ring or {}
        self.prompt = prompt or {}
        self.asked: list[tuple[str, str]] = []

    def env(self, name: str) -> str | None:
        return self.env_vars.get(name)

    def read_file(self, path: Path, within: Path | None = None) -> str:
        if self.files is None:
            try:
                return Path(path).read_text("utf-8")
            except FileNotFoundError:
                raise InputError(f"{path}: no such file") from None
        if str(path) not in self.files:
            raise InputError(f"{path}: no such file")
        return self.files[str(path)]

    def keyring(self, provider: str, key: str) -> str | None:
        return self.ring.get((provider, key))

    def missing_secret(self, provider: str, key: str) -> str | None:
        self.asked.append((provider, key))
        return self.ring.get((provider, key)) or self.prompt.get(key)


GOLDEN_ENV = {"TEST_ANTHROPIC_KEY": "sk-ant-test-123", "TEST_AMQP_PASSWORD": "guest-pw", "TEST_SUFFIX": "dev"}


@pytest.mark.parametrize("case", GOLDEN, ids=lambda p: p.stem)
def test_golden(case: Path) -> None:
    [doc] = reader.load(str(case))
    p = build(None, doc, None, FakeResolver(env=GOLDEN_ENV))
    payload.fill_category(p.body)
    expected = json.loads(case.with_name(case.stem + ".expected.json").read_text())
    assert p.errors == []
    assert {"name": p.name, "body": payload.order_body(p.body)} == expected


def _doc(text: str, tmp_path: Path) -> reader.Document:
    f = tmp_path / "p.yaml"
    f.write_text(text)
    [doc] = reader.load(str(f))
    return doc


def test_flags_win_over_file_and_configuration_merges_key_by_key(tmp_path: Path) -> None:
    doc = _doc(
        "name: from-file\ntype: openai\ndescription: file\nenabled: true\n"
        "configuration: {api_key: a, endpoint: https://file}\n",
        tmp_path,
    )
    flags = Flags(description="flag", enabled=False, config=[ConfigFlag.parse("endpoint=https://flag")])
    p = build("from-cli", doc, flags, FakeResolver())
    assert p.name == "from-cli"
    assert p.body == {
        "type": "openai",
        "description": "flag",
        "enabled": False,
        "configuration": {"api_key": "a", "endpoint": "https://flag"},
    }


def test_name_from_file_when_no_argument(tmp_path: Path) -> None:
    p = build(
        None, _doc("name: n1\ntype: grok\nconfiguration: {api_key: k}\n", tmp_path), None, FakeResolver()
    )
    assert p.name == "n1"


def test_fields_not_given_are_left_out() -> None:
    p = build("x", None, Flags(type="openai", config=[ConfigFlag.parse("api_key=k")]), FakeResolver())
    assert p.body == {"type": "openai", "configuration": {"api_key": "k"}}
    payload.fill_category(p.body)
    assert p.body["category"] == "AI_MODEL"
    assert "name" not in p.body


@pytest.mark.parametrize(
    ("text", "key", "value", "from_file"),
    [
        ("api_key=sk-1", "api_key", "sk-1", False),
        ("endpoint=http://h/?a=b", "endpoint", "http://h/?a=b", False),
        ("api_key=", "api_key", "", False),
        ("file=@sa.json", "file", "sa.json", True),
        ("x=@", "x", "@", False),
    ],
)
def test_config_flag_parse(text: str, key: str, value: str, from_file: bool) -> None:
    cf = ConfigFlag.parse(text)
    assert (cf.key, cf.value, cf.from_file) == (key, value, from_file)


@pytest.mark.parametrize("text", ["api_key", "=v", ""])
def test_malformed_config_flag_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        ConfigFlag.parse(text)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("=sk-live-Q9f3-secret", "-c =VALUE: the key before = is empty"),
        ("  =sk-live-Q9f3-secret", "-c =VALUE: the key before = is empty"),
        ("sk-live-Q9f3-secret", "-c: expected KEY=VALUE or KEY=@PATH, the value given has no ="),
        ("api_key sk-live-Q9f3-secret", "-c: expected KEY=VALUE or KEY=@PATH, the value given has no ="),
    ],
)
def test_a_malformed_config_flag_never_echoes_what_was_given(text: str, said: str) -> None:
    """What follows -c may be a secret (a key forgotten, or the = forgotten): the message
    says what is wrong without repeating any of it."""
    with pytest.raises(UsageError) as caught:
        ConfigFlag.parse(text)
    shown = " ".join([caught.value.message, *caught.value.hints, *caught.value.details])
    assert caught.value.message == said
    assert "Q9f3" not in shown and "sk-live" not in shown


def test_config_from_file_drops_one_trailing_newline(tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    key.write_text("sk-file\n\n")
    p = build("x", None, Flags(type="openai", config=[ConfigFlag.parse(f"api_key=@{key}")]), FakeResolver())
    assert p.configuration["api_key"] == "sk-file\n"
    assert "sk-file\n" in p.secret_values
    assert p.literal_cli_secrets == []


def test_literal_secret_on_command_line_is_noted() -> None:
    p = build("x", None, Flags(type="openai", config=[ConfigFlag.parse("api_key=sk-lit")]), FakeResolver())
    assert p.literal_cli_secrets == ["api_key"]
    p = build(
        "x",
        None,
        Flags(type="openai", config=[ConfigFlag.parse("api_key=${env:K}")]),
        FakeResolver(env={"K": "v"}),
    )
    assert p.literal_cli_secrets == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${env:A}", "1"),
        ("x-${env:A}-${env:B}", "x-1-2"),
        ("$${env:A}", "${env:A}"),
        ("$$${env:A}", "$${env:A}"),
        ("${workflow.input.a}", "${workflow.input.a}"),
        ("${keyring}", "ring-self"),
        ("${keyring:other/api_key}", "ring-other"),
        ("plain", "plain"),
    ],
)
def test_references(value: str, expected: str) -> None:
    resolver = FakeResolver(
        env={"A": "1", "B": "2"},
        ring={("me", "api_key"): "ring-self", ("other", "api_key"): "ring-other"},
    )
    p = build("me", None, Flags(type="openai", config=[ConfigFlag("api_key", value)]), resolver)
    assert p.errors == []
    assert p.configuration["api_key"] == expected


def test_all_reference_problems_are_reported_at_once(tmp_path: Path) -> None:
    doc = _doc(
        "name: n\ntype: openai\nconfiguration:\n  api_key: ${env:MISSING}\n"
        "  endpoint: ${file:nope.txt}\n  organizationId: ${keyring:bad}\n",
        tmp_path,
    )
    p = build(None, doc, None, FakeResolver(files={}))
    messages = [(e.path, e.line) for e in p.errors]
    assert messages == [
        ("configuration.api_key", 4),
        ("configuration.endpoint", 5),
        ("configuration.organizationId", 6),
    ]
    assert "MISSING is not set" in p.errors[0].message


def test_missing_required_secret_is_asked_of_the_resolver() -> None:
    resolver = FakeResolver(ring={("openai-prod", "api_key"): "from-ring"})
    p = build("openai-prod", None, Flags(type="openai"), resolver)
    assert resolver.asked == [("openai-prod", "api_key")]
    assert p.configuration == {"api_key": "from-ring"}
    assert "from-ring" in p.secret_values


def test_conditional_secret_is_asked_only_for_its_connection_type() -> None:
    resolver = FakeResolver()
    build(
        "b",
        None,
        Flags(type="aws_bedrock_titan", config=[ConfigFlag("connectionType", "EXTERNAL_ROLE")]),
        resolver,
    )
    assert resolver.asked == [("b", "externalId")]
    resolver = FakeResolver()
    build(
        "b",
        None,
        Flags(type="aws_bedrock_titan", config=[ConfigFlag("connectionType", "CONDUCTOR_ROLE")]),
        resolver,
    )
    assert resolver.asked == []


def test_structured_configuration_value_is_an_error(tmp_path: Path) -> None:
    doc = _doc("name: n\ntype: openai\nconfiguration:\n  api_key: {a: 1}\n", tmp_path)
    p = build(None, doc, None, FakeResolver())
    assert [(e.path, e.line) for e in p.errors] == [("configuration.api_key", 4)]


def test_unknown_document_field_is_a_warning_with_hint(tmp_path: Path) -> None:
    doc = _doc("name: n\ntype: grok\nconfig: {api_key: k}\n", tmp_path)
    p = build(None, doc, None, FakeResolver(ring={("n", "api_key"): "k"}))
    [w] = [x for x in p.problems if x.severity == "warning"]
    assert w.path == "config" and "configuration" in w.hint


def test_enabled_must_be_boolean(tmp_path: Path) -> None:
    p = build(None, _doc("name: n\ntype: grok\nenabled: maybe\n", tmp_path), None, FakeResolver())
    assert any(e.path == "enabled" for e in p.errors)


def test_read_only_fields_of_get_output_are_ignored(tmp_path: Path) -> None:
    text = (
        "name: n\ntype: grok\nconfiguration: {api_key: k}\nmodelsCount: 2\ncreateTime: 1\n"
        "updateTime: 2\ncreatedBy: a\nupdatedBy: b\nownerApp: c\n"
    )
    p = build(None, _doc(text, tmp_path), None, FakeResolver())
    assert p.problems == []
    assert set(p.body) == {"type", "configuration"}


@pytest.mark.parametrize(
    ("value", "shown", "hint"),
    [
        ("${keyrng}", "${keyrng}", "did you mean ${keyring}"),
        ("${ENV:MYK}", "${ENV:", "did you mean ${env:"),
        ("${env:HOME", "${env:", "close it with }"),
        ("x${Env:A}y", "${Env:", "did you mean ${env:"),
        ("${fle:a.txt}", "${fle:", "did you mean ${file:"),
        ("${}", "${}", "write $${ for a literal ${"),
        ("a ${ b", "${", "write $${ for a literal ${"),
    ],
)
def test_a_malformed_reference_is_an_error_naming_key_and_text(value: str, shown: str, hint: str) -> None:
    for key in ("api_key", "endpoint"):
        p = build(
            "me", None, Flags(type="openai", config=[ConfigFlag(key, value)]), FakeResolver(env={"A": "1"})
        )
        assert [e.path for e in p.errors] == [f"configuration.{key}"], p.errors
        text = p.errors[0].render()
        assert shown in text and hint in text and "write $${ for a literal ${" in text


def test_a_malformed_reference_in_a_secret_key_shows_no_more_than_the_reference_word() -> None:
    p = build(
        "me", None, Flags(type="openai", config=[ConfigFlag("api_key", "pa${ssw0rd-tail}")]), FakeResolver()
    )
    assert len(p.errors) == 1
    assert "ssw0rd" not in p.errors[0].render()


def test_malformed_references_in_a_document_are_reported_with_their_lines(tmp_path: Path) -> None:
    doc = _doc(
        'name: n\ntype: openai\nconfiguration:\n  api_key: "${keyrng}"\n  endpoint: "${file:ep.txt"\n'
        '  organizationId: "$${literal} and ${workflow.input.org}"\n',
        tmp_path,
    )
    p = build(None, doc, None, FakeResolver(files={}))
    assert [(e.path, e.line) for e in p.errors] == [
        ("configuration.api_key", 4),
        ("configuration.endpoint", 5),
    ]
    assert p.configuration["organizationId"] == "${literal} and ${workflow.input.org}"


def test_the_reprs_of_a_payload_its_document_and_models_hold_no_value(tmp_path: Path) -> None:
    """A repr reaches tracebacks (``--debug``) and test reports: it names the provider and
    where it came from, never a value of the body (a secret among them)."""
    from conductor_integrations.documents import model_docs

    secret = "sk-repr-canary-7f3a"
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\ntype: openai\nconfiguration:\n  api_key: {secret}\n  endpoint: https://e\n")
    [doc] = reader.load_all([str(path)])
    built = build(None, doc, None, FakeResolver())
    model = model_docs.ModelSpec("m", {"configuration": {"api_key": secret}}, {"api_key"})
    for shown in (repr(built), repr(built.document), repr(doc), repr(model)):
        assert secret not in shown
    assert repr(built) == "Payload('p', type='openai')"
    assert str(path) in repr(doc)
