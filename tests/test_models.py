"""Pure parts of models and tags: request bodies, `models:`/`tags:` in documents, reading
the live state, and the server's type definitions against the embedded table."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.client import endpoints
from conductor_integrations.documents import model_docs, pipeline, reader
from conductor_integrations.errors import NotFoundError, ServerUnavailable, UsageError
from conductor_integrations.fleet import live
from conductor_integrations.sandbox import defs
from conductor_integrations.types import builtin, remote


class Resolver:
    def __init__(self, env: dict[str, str] | None = None, ring: dict[tuple[str, str], str] | None = None):
        self.envs = env or {}
        self.ring = ring or {}

    def env(self, name: str) -> str | None:
        return self.envs.get(name)

    def read_file(self, path: Path, within: Path | None = None) -> str:
        return path.read_text()

    def keyring(self, provider: str, key: str) -> str | None:
        return self.ring.get((provider, key))

    def missing_secret(self, provider: str, key: str) -> str | None:
        return None


def prepare(
    text: str, resolver: Any = None, *, strict: bool = False, skip_table: bool = False, types: Any = None
) -> tuple[list[Any], list[Any]]:
    docs = reader.parse_yaml(text, "f.yaml", Path.cwd())
    options = pipeline.Options(types, strict, check_table=not skip_table)
    prepared = pipeline.from_documents(docs, resolver or Resolver(), options)
    return prepared.payloads, prepared.problems


# -- request bodies and tags --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live_model", "given", "expected"),
    [
        (None, (None, None, None), {"description": "", "enabled": True, "configuration": {}}),
        (None, ("d", False, {"k": "v"}), {"description": "d", "enabled": False, "configuration": {"k": "v"}}),
        (
            {"description": "old", "enabled": False},
            (None, None, None),
            {"description": "old", "enabled": False},
        ),
        (
            {"description": "old", "enabled": False},
            (None, True, {}),
            {"description": "old", "enabled": True, "configuration": {}},
        ),
        ({"description": None, "enabled": "yes"}, (None, None, None), {"description": "", "enabled": True}),
    ],
)
def test_model_body(live_model: Any, given: tuple[Any, Any, Any], expected: dict[str, Any]) -> None:
    assert endpoints.model_body(live_model, *given) == expected


@pytest.mark.parametrize(("text", "pair"), [("a=b", ("a", "b")), ("a==b", ("a", "=b")), (" a =", ("a", ""))])
def test_parse_tag(text: str, pair: tuple[str, str]) -> None:
    assert endpoints.parse_tag(text) == pair


@pytest.mark.parametrize("text", ["a", "=b", ""])
def test_parse_tag_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        endpoints.parse_tag(text)


def test_paths_encode_every_name() -> None:
    assert (
        endpoints.model_path("a/b", "meta/llama 3")
        == "/integrations/provider/a%2Fb/integration/meta%2Fllama%203"
    )
    assert endpoints.tags_path("x?y") == "/integrations/provider/x%3Fy/tags"


# -- models: and tags: in documents -------------------------------------------------------------

DOC = """\
name: p
type: openai
configuration: {api_key: k}
models:
- name: gpt-4o
  description: ${env:DESC}
  configuration: {api_key: "${keyring}", temperature: 0.5}
- name: 3
  enabled: false
tags: {team: ml, n: 5, raw: "${env:NOT_RESOLVED}"}
"""


def test_models_and_tags_are_normalised() -> None:
    ring = {("p/gpt-4o", "api_key"): "sk-model-ring-1"}
    [p], problems = prepare(DOC, Resolver({"DESC": "GPT-4o"}, ring))
    assert problems == []
    assert p.models == [
        model_docs.ModelSpec(
            "gpt-4o",
            {"description": "GPT-4o", "configuration": {"api_key": "sk-model-ring-1", "temperature": "0.5"}},
            {"api_key"},
        ),
        model_docs.ModelSpec("3", {"enabled": False}),
    ]
    assert p.tags == {"team": "ml", "n": "5", "raw": "${env:NOT_RESOLVED}"}
    assert "sk-model-ring-1" in p.secret_values


def test_every_problem_has_its_line_and_path() -> None:
    text = """\
name: p
type: openai
configuration: {api_key: k}
models:
- name: a
  enabeld: true
- description: no name
- name: a
- [not, a, mapping]
- name: b
  configuration: {k: "${env:UNSET_VAR}"}
  enabled: "yes"
tags:
  team: {a: b}
  env:
"""
    _, problems = prepare(text)
    assert [(p.line, p.path, p.severity) for p in problems] == [
        (6, "models[0].enabeld", "warning"),
        (7, "models[1].name", "error"),
        (8, "models[2].name", "error"),
        (9, "models[3]", "error"),
        (12, "models[4].enabled", "error"),
        (11, "models[4].configuration.k", "error"),
        (14, "tags.team", "error"),
        (15, "tags.env", "error"),
    ]
    assert "did you mean 'enabled'?" in problems[0].hint
    assert "listed twice" in problems[2].message and "f.yaml:5" in problems[2].hint


def test_models_and_tags_of_the_wrong_shape() -> None:
    _, problems = prepare("name: p\ntype: openai\nconfiguration: {api_key: k}\nmodels: {a: 1}\ntags: [a]\n")
    assert [(p.path, p.message) for p in problems] == [
        ("models", "models must be a list of models"),
        ("tags[0].key", "a tag in a list must be {key: KEY, value: VALUE}"),
    ]
    _, problems = prepare("name: p\ntype: openai\nconfiguration: {api_key: k}\ntags: team\n")
    assert [p.path for p in problems] == ["tags"]


def test_strict_makes_unknown_model_fields_errors() -> None:
    text = "name: p\ntype: openai\nconfiguration: {api_key: k}\nmodels: [{name: a, descr: x}]\n"
    _, problems = prepare(text, strict=True)
    assert [(p.path, p.severity) for p in problems] == [("models[0].descr", "error")]


def test_no_models_or_tags_means_not_managed() -> None:
    [p], problems = prepare("name: p\ntype: openai\nconfiguration: {api_key: k}\nmodels:\n")
    assert problems == []
    assert (p.models, p.tags) == (None, None)


def test_models_are_checked_with_no_validate_too() -> None:
    _, problems = prepare("name: p\ntype: newtype\nmodels: [{}]\n", skip_table=True)
    assert [p.path for p in problems] == ["models[0].name"]


# -- the live state -----------------------------------------------------------------------------


class Server:
    def __init__(self, providers: list[dict[str, Any]], bulk: bool = True):
        self.providers = providers
        self.bulk = bulk
        self.paths: list[str] = []

    def list_providers(self, category: str | None = None, active_only: bool = False) -> list[dict[str, Any]]:
        self.paths.append("list")
        return [{k: v for k, v in p.items() if k != "apis"} for p in self.providers]

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        self.paths.append(path)
        if path == "/integrations/":
            if not self.bulk:
                raise NotFoundError("no", 404)
            return copy.deepcopy(self.providers)
        name = path.split("/")[3]
        if name == "gone":
            raise NotFoundError("no", 404)
        found = next(p for p in self.providers if p["name"] == name)
        return found.get("apis", []) if path.endswith("/integration") else [{"key": "k", "value": name}]


def test_embedded_models_are_used_when_they_are_all_there() -> None:
    server = Server(
        [
            {"name": "a", "modelsCount": 1, "apis": [{"api": "m"}]},
            {"name": "b", "modelsCount": 2, "apis": [{"api": "m"}]},  # not all of them embedded
            {"name": "c"},  # no apis at all
        ]
    )
    found = live.read(server, ["a", "b", "c", "missing"], ["a"], concurrency=4)
    assert set(found.providers) == {"a", "b", "c"}
    assert found.models == {"a": {"m": {"api": "m"}}, "b": {"m": {"api": "m"}}, "c": {}}
    assert found.tags == {"a": [("k", "a")]}
    assert sorted(server.paths) == sorted(
        [
            "/integrations/",
            "/integrations/provider/b/integration",
            "/integrations/provider/c/integration",
            "/integrations/provider/a/tags",
        ]
    )


def test_a_provider_deleted_meanwhile_reads_as_empty() -> None:
    server = Server([{"name": "gone"}], bulk=False)
    found = live.read(server, ["gone"], ["gone"])
    assert server.paths[:2] == ["/integrations/", "list"]  # no bulk endpoint: the plain listing
    assert (found.models, found.tags) == ({"gone": {}}, {"gone": []})


def test_nothing_wanted_is_one_plain_listing() -> None:
    server = Server([{"name": "a"}])
    live.read(server)
    assert server.paths == ["list"]


def test_a_reply_that_is_not_a_list_is_not_the_api() -> None:
    class Odd:
        def request(self, *args: Any, **kwargs: Any) -> Any:
            return {"not": "a list"}

    with pytest.raises(ServerUnavailable):
        endpoints.list_models(Odd(), "p")
    with pytest.raises(ServerUnavailable):
        endpoints.definitions(Odd())


# -- the server's type definitions --------------------------------------------------------------


def test_the_sandbox_definitions_read_back_as_the_table() -> None:
    tbl = builtin.table()
    server = remote.from_definitions(defs.integration_defs())
    assert remote.compare(tbl, server) == []
    for name, mine in tbl.types.items():
        theirs = server.types[name]
        assert theirs.category == mine.category
        assert set(theirs.effective_required) == set(mine.effective_required), name
        assert theirs.conditional == mine.conditional, name
        assert set(theirs.secret_keys) == set(mine.secret_keys), name


def definition(type_name: str, category: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_name, "category": category, "name": type_name.title(), "configuration": list(fields)}


def field(name: str, kind: str = "TEXT", optional: bool = False, **extra: Any) -> dict[str, Any]:
    return {"fieldName": name, "fieldType": kind, "optional": optional, **extra}


def test_differences_are_listed_one_by_one() -> None:
    tbl = builtin.table()
    server_defs = [d for d in defs.integration_defs() if d["type"] not in ("openai", "sendgrid", "gcp")]
    server_defs += [
        definition(
            "openai",
            "AI_MODEL",
            field("api_key", "TEXT"),  # no longer secret
            field("endpoint"),  # now required
            field("project", optional=True),  # new key; organizationId is gone
        ),
        definition(
            "gcp",
            "AI_MODEL",
            *[field(k, "FILE" if k == "file" else "TEXT") for k in ("projectName", "environment", "file")],
        ),
        definition("mcp_server", "MCP", field("endpoint")),
    ]
    found = [d.record() for d in remote.compare(tbl, remote.from_definitions(server_defs))]
    assert {"type": "openai", "key": "api_key", "what": "secret", "integ": "yes", "server": "no"} in found
    assert {
        "type": "openai",
        "key": "endpoint",
        "what": "required",
        "integ": "optional",
        "server": "required",
    } in found
    assert {
        "type": "openai",
        "key": "organizationId",
        "what": "key",
        "integ": "optional",
        "server": None,
    } in found
    assert {"type": "openai", "key": "project", "what": "key", "integ": None, "server": "optional"} in found
    assert {"type": "gcp", "key": None, "what": "category", "integ": "CLOUD", "server": "AI_MODEL"} in found
    assert {"type": "sendgrid", "key": None, "what": "type", "integ": "EMAIL", "server": None} in found
    assert found[-1] == {"type": "mcp_server", "key": None, "what": "type", "integ": None, "server": "MCP"}
    assert len(found) == 7


def test_depends_on_makes_a_key_conditional() -> None:
    server = remote.from_definitions(
        [
            definition(
                "x",
                "AI_MODEL",
                field("mode", "DROPDOWN", valueOptions=[{"value": "A"}, {"value": "B"}, {"value": "C"}]),
                field("user", dependsOn=[{"fieldName": "mode", "value": "A"}]),
                field("token", "PASSWORD", dependsOn=[{"fieldName": "mode", "value": "B"}]),
                field("note", optional=True, dependsOn=[{"fieldName": "mode", "value": "A"}]),
            ),
            {"name": "no type"},
            "not even a mapping",
        ]
    )
    x = server.types["x"]
    assert list(server.types) == ["x"]
    assert x.required == ("mode",)
    assert x.conditional == {"mode": {"A": ("user",), "B": ("token",), "C": ()}}
    assert x.optional == ("note",)
    assert x.secret_keys == ("token",)
    assert remote.need(x, "user") == "conditional"


def test_validation_against_server_definitions() -> None:
    server = remote.from_definitions(
        [definition("newllm", "AI_MODEL", field("token", "PASSWORD"), field("endpoint", optional=True))]
    )
    text = "name: p\ntype: newllm\nconfiguration: {token: sk-server-secret-9, endpont: e}\n"
    [p], problems = prepare(text, types=server)
    assert [(x.path, x.severity) for x in problems] == [("configuration.endpont", "warning")]
    assert "did you mean 'endpoint'?" in problems[0].hint
    assert p.body["category"] == "AI_MODEL"
    assert "token" in p.secret_keys and "sk-server-secret-9" in p.secret_values
    _, missing = prepare("name: p\ntype: newllm\nconfiguration: {}\n", types=server)
    assert [(x.path, x.message) for x in missing] == [("configuration.token", "newllm requires 'token'")]
    assert "integ secret set p token" in missing[0].hint
    _, unknown = prepare("name: p\ntype: openai\nconfiguration: {api_key: k}\n", types=server)
    assert unknown[0].message == "unknown type 'openai' on the server"


def test_tags_may_be_the_list_get_prints() -> None:
    text = (
        "name: p\ntype: openai\nconfiguration: {api_key: k}\n"
        "tags:\n- key: env\n  value: prod\n- {key: team, value: ml, type: METADATA}\n"
    )
    [p], problems = prepare(text)
    assert problems == []
    assert p.tags == {"env": "prod", "team": "ml"}
    _, bad = prepare(
        "name: p\ntype: openai\nconfiguration: {api_key: k}\n"
        "tags: [{key: a, value: 1}, {key: a, value: 2}, {value: 3}]\n"
    )
    assert [(p.path, p.severity) for p in bad] == [("tags[1].key", "error"), ("tags[2].key", "error")]
