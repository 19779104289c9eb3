"""The server's own type definitions: `integ types list --server URL`, `integ types diff`,
and `--server-types` on validate, apply and diff. Against the sandbox (whose definitions
come from the embedded table, so nothing differs) and against stubbed definitions that
differ on purpose."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from conductor_integrations.sandbox import defs, serve_in_background
from tests.cli.provider_stubs import API, closed_port, stub_server

DEF_URL = f"{API}/integrations/def"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    with serve_in_background(tmp_path / "x.db") as running:
        yield running.url


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    yield from stub_server(monkeypatch)


def field(name: str, kind: str = "TEXT", optional: bool = False) -> dict[str, Any]:
    return {"fieldName": name, "fieldType": kind, "optional": optional}


#: The sandbox's definitions, except: openai's api_key is not secret and endpoint is
#: required there; sendgrid is unknown; a new type `newllm` exists.
def changed_definitions() -> list[dict[str, Any]]:
    found = [d for d in defs.integration_defs() if d["type"] not in ("openai", "sendgrid")]
    found.append(
        {
            "type": "openai",
            "category": "AI_MODEL",
            "name": "OpenAI",
            "configuration": [field("api_key"), field("endpoint"), field("organizationId", optional=True)],
        }
    )
    found.append(
        {
            "type": "newllm",
            "category": "AI_MODEL",
            "name": "New LLM",
            "configuration": [field("token", "PASSWORD"), field("endpoint", optional=True)],
        }
    )
    return found


# -- types list --server, types diff ----------------------------------------------------------


def test_types_list_from_the_sandbox_matches_the_table(integ: Any, sandbox: str) -> None:
    offline = integ("types", "list", "-o", "json")
    served = integ("types", "list", "--server", sandbox, "-o", "json")
    assert served.exit_code == 0, served.stderr
    assert served.json() == offline.json()
    cloud = integ("types", "list", "--server", sandbox, "--category", "cloud")
    assert [line.split()[0] for line in cloud.stdout.splitlines()] == ["TYPE", "aws", "gcp"]


def test_types_diff_against_the_sandbox_is_empty(integ: Any, sandbox: str) -> None:
    r = integ("types", "diff", "--server", sandbox)
    assert (r.exit_code, r.stdout) == (0, "")
    assert "no differences" in r.stderr
    assert integ("types", "diff", "--server", sandbox, "-o", "json").json() == []


def test_types_diff_shows_each_difference_and_exits_1(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    r = integ("types", "diff")
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        "TYPE       KEY        DIFFERENCE   INTEG      SERVER",
        "openai     api_key    secret       yes        no",
        "openai     endpoint   required     optional   required",
        "sendgrid   -          type         EMAIL      -",
        "newllm     -          type         -          AI_MODEL",
    ]
    assert "4 differences in 3 types between integ's table and https://conductor.example.com" in r.stderr


def test_types_diff_json_records(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    r = integ("types", "diff", "-o", "json")
    assert r.exit_code == 1
    assert r.json()[0] == {
        "type": "openai",
        "key": "api_key",
        "what": "secret",
        "integ": "yes",
        "server": "no",
    }


def test_types_list_server_shows_the_server_types(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    r = integ("types", "list", "--server", "https://conductor.example.com", "-o", "json")
    assert r.exit_code == 0, r.stderr
    by_type = {t["type"]: t for t in r.json()}
    assert "sendgrid" not in by_type
    assert by_type["newllm"]["required"] == ["token"]
    assert by_type["newllm"]["secret"] == ["token"]
    assert by_type["openai"]["secret"] == []


def test_types_diff_without_a_server_is_usage(integ: Any) -> None:
    r = integ("types", "diff")
    assert r.exit_code == 2
    assert "--server" in r.stderr


def test_types_list_stays_offline_without_the_flag(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", f"http://127.0.0.1:{closed_port()}")
    r = integ("types", "list", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert len(r.json()) == 30


def test_a_definitions_reply_that_is_not_a_list_is_exit_7(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(DEF_URL, json={"types": []})
    assert integ("types", "diff").exit_code == 7


# -- --server-types --------------------------------------------------------------------------

NEWLLM = "name: fresh\ntype: newllm\nconfiguration:\n  token: ${env:TEST_TOKEN}\n"
SECRET = "sk-server-types-5512"


@pytest.fixture
def newllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_TOKEN", SECRET)
    f = tmp_path / "fresh.yaml"
    f.write_text(NEWLLM)
    return f


def test_validate_with_server_types(integ: Any, mock: responses.RequestsMock, newllm: Path) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    assert integ("validate", str(newllm)).exit_code == 3  # the table does not know newllm
    r = integ("validate", "--server-types", str(newllm), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["valid"] is True
    assert SECRET not in r.output
    assert len(mock.calls) == 1  # fetched once


def test_validate_server_types_uses_the_server_required_keys(
    integ: Any, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    f = tmp_path / "o.yaml"
    f.write_text("name: o\ntype: openai\nconfiguration: {api_key: k}\n")
    assert integ("validate", str(f)).exit_code == 0
    r = integ("validate", "--server-types", str(f))
    assert r.exit_code == 3
    assert "o.yaml:3 o configuration.endpoint: openai requires 'endpoint'" in r.stderr


def test_validate_server_types_needs_a_server(integ: Any, newllm: Path) -> None:
    r = integ("validate", "--server-types", str(newllm))
    assert r.exit_code == 2
    assert "no Conductor server configured" in r.stderr


def test_apply_and_diff_with_server_types(integ: Any, mock: responses.RequestsMock, newllm: Path) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    mock.get(
        f"{API}/integrations/provider", json=[], match=[matchers.query_param_matcher({"activeOnly": "false"})]
    )
    mock.post(f"{API}/integrations/provider/fresh", json={})
    # the reply has no updateTime: it is read right after the write, to record with the fingerprint
    mock.get(f"{API}/integrations/provider/fresh", json={"name": "fresh", "type": "newllm", "updateTime": 7})
    refused = integ("provider", "apply", "-f", str(newllm))
    assert refused.exit_code == 3  # nothing fetched or sent without --server-types
    diff = integ("provider", "diff", "-f", str(newllm), "--server-types")
    assert diff.exit_code == 1, diff.stderr
    assert "configuration.token: (none) -> (secret)  [set]" in diff.stdout
    r = integ("provider", "apply", "-f", str(newllm), "--server-types", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()[0]["action"] == "created"
    posted = json.loads(next(c for c in reversed(mock.calls) if c.request.method == "POST").request.body)
    assert posted == {"type": "newllm", "category": "AI_MODEL", "configuration": {"token": SECRET}}
    assert SECRET not in diff.output + r.output


def test_server_types_and_no_validate_together_is_usage(integ: Any, newllm: Path) -> None:
    r = integ("provider", "apply", "-f", str(newllm), "--server-types", "--no-validate")
    assert r.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{f}"],
        ["validate", "--offline", "{f}"],
        ["types", "list"],
        ["types", "show", "openai"],
        ["types", "schema"],
    ],
)
def test_offline_use_imports_neither_requests_nor_keyring(args: list[str], tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("name: p\ntype: openai\nconfiguration: {api_key: k}\nmodels: [{name: m}]\ntags: {a: b}\n")
    argv = [a.replace("{f}", str(f)) for a in args]
    code = (
        "import sys\n"
        "from conductor_integrations.cli import run\n"
        f"code = run({argv!r})\n"
        "heavy = sorted(m for m in ('requests', 'keyring', 'urllib3') if m in sys.modules)\n"
        "print('HEAVY', heavy, code, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY [] 0" in proc.stderr, proc.stderr


def test_provider_put_with_server_types(integ: Any, mock: responses.RequestsMock, monkeypatch: Any) -> None:
    monkeypatch.setenv("TEST_TOKEN", SECRET)
    mock.get(DEF_URL, json=changed_definitions())
    mock.get(f"{API}/integrations/provider/fresh", status=404, json={"message": "not found"})
    mock.post(f"{API}/integrations/provider/fresh", json={})
    args = ("provider", "put", "fresh", "-t", "newllm", "-c", "token=${env:TEST_TOKEN}")
    assert integ(*args).exit_code == 3  # the table does not know newllm: nothing sent
    r = integ(*args, "--server-types", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {"name": "fresh", "type": "newllm", "action": "created"}
    posted = json.loads(next(c for c in reversed(mock.calls) if c.request.method == "POST").request.body)
    assert posted == {"type": "newllm", "category": "AI_MODEL", "configuration": {"token": SECRET}}
    dry = integ(*args, "--server-types", "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.stderr
    assert dry.json()["body"]["configuration"] == {"token": "********"}
    assert SECRET not in r.output + dry.output


def test_provider_put_server_types_reports_the_server_required_keys(
    integ: Any, mock: responses.RequestsMock
) -> None:
    mock.get(DEF_URL, json=changed_definitions())
    mock.get(f"{API}/integrations/provider/o", status=404)
    r = integ("provider", "put", "o", "-t", "openai", "-c", "api_key=k", "--server-types")
    assert r.exit_code == 3
    assert "configuration.endpoint: openai requires 'endpoint'" in r.stderr


def test_provider_put_dry_run_with_server_types_needs_a_server(integ: Any) -> None:
    r = integ("provider", "put", "o", "-t", "openai", "-c", "api_key=k", "--server-types", "--dry-run")
    assert r.exit_code == 2
    both = integ(
        "provider", "put", "o", "-t", "openai", "--server-types", "--no-validate",
        "--server", f"http://127.0.0.1:{closed_port()}",
    )  # fmt: skip
    assert both.exit_code == 2
    assert "cannot be used together" in both.stderr


def test_types_diff_with_bare_server_flag_uses_the_configured_server(
    integ: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from conductor_integrations.sandbox import serve_in_background

    with serve_in_background(tmp_path / "bare.db") as running:
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", running.url)
        r = integ("types", "diff", "--server")
        assert r.exit_code == 0, r.stderr
        assert "no differences" in r.output
        listed = integ("types", "list", "--server", "-o", "json")
        assert listed.exit_code == 0, listed.stderr
        assert len(listed.json()) == 30


def test_bare_server_flag_without_a_configured_server_is_usage(integ: Any) -> None:
    r = integ("types", "list", "--server")
    assert r.exit_code == 2
    assert "no Conductor server configured" in r.stderr


# -- types schema --server-types ---------------------------------------------------------------


def test_types_schema_from_the_server_definitions(integ: Any, mock: responses.RequestsMock) -> None:
    from jsonschema import Draft202012Validator

    mock.get(DEF_URL, json=changed_definitions())
    r = integ("types", "schema", "--server-types")
    assert r.exit_code == 0, r.stderr
    schema = json.loads(r.stdout)
    Draft202012Validator.check_schema(schema)
    names = schema["$defs"]["provider"]["properties"]["type"]["enum"]
    assert "newllm" in names and "sendgrid" not in names
    check = Draft202012Validator(schema)
    # the server requires openai's endpoint and calls api_key TEXT (so required too)
    assert not check.is_valid({"name": "o", "type": "openai", "configuration": {"api_key": "k"}})
    assert check.is_valid(
        {"name": "o", "type": "openai", "configuration": {"api_key": "k", "endpoint": "https://e"}}
    )
    assert check.is_valid({"name": "n", "type": "newllm", "configuration": {"token": "${env:T}"}})
    # the table's schema does not know newllm
    assert "newllm" not in integ("types", "schema").stdout


def test_types_schema_server_types_needs_a_server(integ: Any) -> None:
    r = integ("types", "schema", "--server-types")
    assert r.exit_code == 2
