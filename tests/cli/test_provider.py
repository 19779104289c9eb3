"""`integ provider put|get|list|delete` through the CLI, against exact server replies
(``responses``: every stub must be used, and any request that was not stubbed fails)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from conductor_integrations import __version__, api, redact
from conductor_integrations.cli import provider as provider_cli

SERVER = "https://conductor.example.com"
API = SERVER + "/api"
TOKEN = "eyJ-test-token-0001"
URL = f"{API}/integrations/provider/openAI-marketing"

#: The headers of the reference page's curl examples, plus what every HTTP client sends.
CURL_HEADERS = {
    "accept": "*/*",
    "X-Authorization": TOKEN,
    "Content-Type": "application/json",
}


def page_body(enabled: bool) -> dict[str, Any]:
    """The body of the reference page's two curl examples (create: enabled, update: disabled)."""
    return {
        "type": "openai",
        "category": "AI_MODEL",
        "description": "OpenAI account for the marketing team",
        "configuration": {"api_key": "sk-..."},
        "enabled": enabled,
    }


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", SERVER)
    monkeypatch.setenv("CONDUCTOR_AUTH_TOKEN", TOKEN)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(api, "sleep", waited.append)
    return waited


def live(name: str = "openAI-marketing", type_name: str = "openai", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_name,
        "category": "AI_MODEL",
        "description": "OpenAI account for the marketing team",
        "enabled": True,
        "configuration": {"api_key": "xxxxxxxxxx"},
        "tags": [],
        "modelsCount": 2,
        "createTime": 1764326634134,
        "updateTime": 1764326700000,
        "createdBy": "john.doe@acme.com",
        "updatedBy": "john.doe@acme.com",
        **extra,
    }


def headers_of_curl() -> Any:
    return matchers.header_matcher(
        {
            "User-Agent": f"integ/{__version__}",
            "Accept-Encoding": re.compile(".*"),
            "Accept": "*/*",
            "Connection": "keep-alive",
            "X-Authorization": TOKEN,
            "Content-Type": "application/json",
            "Content-Length": re.compile(r"\d+"),
        },
        strict_match=True,
    )


# -- the reference page's two curl examples --------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "enabled", "found", "action"),
    [("--enabled", True, None, "created"), ("--disabled", False, live(), "updated")],
    ids=["create-example", "update-example"],
)
def test_page_curl_examples(
    flag: str,
    enabled: bool,
    found: dict[str, Any] | None,
    action: str,
    integ: Any,
    mock: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-...")
    if found is None:
        mock.get(URL, status=404, json={"status": 404, "message": "not found"})
    else:
        mock.get(URL, json=found)
    mock.post(
        URL,
        json=None,
        match=[matchers.json_params_matcher(page_body(enabled), strict_match=True), headers_of_curl()],
    )
    r = integ(
        "provider",
        "put",
        "openAI-marketing",
        "-t",
        "openai",
        "-d",
        "OpenAI account for the marketing team",
        "-c",
        "api_key=${env:OPENAI_API_KEY}",
        flag,
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    assert r.json() == {"name": "openAI-marketing", "type": "openai", "action": action}
    get, post = mock.calls
    assert (get.request.method, get.request.url) == ("GET", URL)
    assert get.request.headers["X-Authorization"] == TOKEN
    assert (post.request.method, post.request.url) == ("POST", URL)
    assert "name" not in json.loads(post.request.body)
    assert {k: post.request.headers[k] for k in ("Accept", "X-Authorization", "Content-Type")} == {
        "Accept": CURL_HEADERS["accept"],
        "X-Authorization": CURL_HEADERS["X-Authorization"],
        "Content-Type": CURL_HEADERS["Content-Type"],
    }


def test_page_example_from_a_file(integ: Any, mock: responses.RequestsMock, tmp_path: Path) -> None:
    doc = tmp_path / "openai.yaml"
    doc.write_text(
        "name: openAI-marketing\ntype: openai\ncategory: AI_MODEL\n"
        "description: OpenAI account for the marketing team\n"
        "configuration:\n  api_key: sk-...\nenabled: true\n"
    )
    mock.get(URL, status=404)
    mock.post(URL, match=[matchers.json_params_matcher(page_body(True)), headers_of_curl()])
    r = integ("provider", "put", "-f", str(doc))
    assert r.exit_code == 0, r.stderr
    assert "created provider openAI-marketing (openai)" in r.stderr


def test_category_is_filled_and_fields_not_given_are_left_out(
    integ: Any, mock: responses.RequestsMock
) -> None:
    url = f"{API}/integrations/provider/kafka%2Fprod%20eu"
    mock.get(url, status=404)
    mock.post(
        url,
        match=[
            matchers.json_params_matcher(
                {
                    "type": "kafka",
                    "category": "MESSAGE_BROKER",
                    "configuration": {"endpoint": "b:9092", "connectionType": "PLAIN", "protocol": "kafka"},
                }
            )
        ],
    )
    r = integ(
        "provider",
        "put",
        "kafka/prod eu",
        "-t",
        "kafka",
        "-c",
        "endpoint=b:9092",
        "-c",
        "connectionType=PLAIN",
        "-c",
        "protocol=kafka",
    )
    assert r.exit_code == 0, r.stderr


# -- put: validation, dry run, type changes ---------------------------------------------------


def test_invalid_put_exits_3_and_sends_nothing(integ: Any, mock: responses.RequestsMock) -> None:
    r = integ("provider", "put", "p", "-t", "openai", "-c", "apiKey=x")
    assert r.exit_code == 3
    assert (
        "warning: configuration.apiKey: unknown key 'apiKey' for openai (did you mean 'api_key'?)" in r.stderr
    )
    assert "openai requires 'api_key'" in r.stderr
    assert "nothing was sent" in r.stderr
    assert not mock.calls


def test_unknown_key_warns_and_strict_makes_it_an_error(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/p", status=404)
    mock.post(f"{API}/integrations/provider/p")
    strict = integ("provider", "put", "p", "-t", "grok", "-c", "api_key=abcd", "-c", "extra=1", "--strict")
    assert strict.exit_code == 3
    assert "error: configuration.extra: unknown key 'extra' for grok" in strict.stderr
    assert not mock.calls
    r = integ("provider", "put", "p", "-t", "grok", "-c", "api_key=abcd", "-c", "extra=1")
    assert r.exit_code == 0, r.stderr
    assert "warning: configuration.extra: unknown key 'extra' for grok" in r.stderr


def test_unresolved_reference_exits_3(integ: Any, mock: responses.RequestsMock) -> None:
    r = integ("provider", "put", "p", "-t", "grok", "-c", "api_key=${env:NOT_SET_ANYWHERE}")
    assert r.exit_code == 3
    assert "environment variable NOT_SET_ANYWHERE is not set" in r.stderr
    assert not mock.calls


def test_no_validate_sends_types_newer_than_the_table(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/m", status=404)
    mock.post(
        f"{API}/integrations/provider/m",
        match=[matchers.json_params_matcher({"type": "mcp_remote", "configuration": {"url": "https://m"}})],
    )
    assert integ("provider", "put", "m", "-t", "mcp_remote", "-c", "url=https://m").exit_code == 3
    r = integ("provider", "put", "m", "-t", "mcp_remote", "-c", "url=https://m", "--no-validate")
    assert r.exit_code == 0, r.stderr


def test_dry_run_needs_no_server_and_masks_secrets(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_KEY", "sk-ant-very-secret")
    r = integ(
        "provider",
        "put",
        "claude",
        "-t",
        "anthropic",
        "-c",
        "api_key=${env:ANTHROPIC_KEY}",
        "-c",
        "endpoint=https://api.anthropic.com/v1",
        "--dry-run",
    )
    assert r.exit_code == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")
    assert head == "POST <server>/api/integrations/provider/claude\nContent-Type: application/json"
    assert json.loads(body) == {
        "type": "anthropic",
        "category": "AI_MODEL",
        "configuration": {"api_key": "********", "endpoint": "https://api.anthropic.com/v1"},
    }
    assert "sk-ant-very-secret" not in r.output
    assert "nothing was sent" in r.stderr


def test_dry_run_json_names_the_server(integ: Any, mock: responses.RequestsMock) -> None:
    r = integ("provider", "put", "g", "-t", "grok", "-c", "api_key=@/etc/hostname", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {
        "name": "g",
        "type": "grok",
        "action": "dry-run",
        "method": "POST",
        "url": f"{API}/integrations/provider/g",
        "body": {"type": "grok", "category": "AI_MODEL", "configuration": {"api_key": "********"}},
    }
    assert not mock.calls


def test_type_change_is_refused_before_sending(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, json=live(type_name="openai"))
    r = integ(
        "provider",
        "put",
        "openAI-marketing",
        "-t",
        "anthropic",
        "-c",
        "api_key=abcd",
        "-c",
        "endpoint=https://e",
    )
    assert r.exit_code == 6
    assert "is of type openai and its type cannot be changed to anthropic; nothing was sent" in r.stderr
    assert [c.request.method for c in mock.calls] == ["GET"]


def test_type_change_refused_by_the_server(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, status=404)
    mock.post(URL, status=400, json={"status": 400, "message": "Type cannot be changed after creation"})
    r = integ("provider", "put", "openAI-marketing", "-t", "grok", "-c", "api_key=abcd")
    assert r.exit_code == 6
    assert f"error: HTTP 400 from POST {URL}: Type cannot be changed after creation" in r.stderr
    assert "type cannot be changed after creation: keep its type" in r.stderr


def test_without_type_the_live_type_is_used(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, json=live())
    mock.post(
        URL,
        match=[
            matchers.json_params_matcher(
                {"type": "openai", "category": "AI_MODEL", "description": "off for now", "enabled": False},
                strict_match=True,
            )
        ],
    )
    r = integ("provider", "put", "openAI-marketing", "--disabled", "-d", "off for now")
    assert r.exit_code == 0, r.stderr
    assert "updated provider openAI-marketing (openai)" in r.stderr


def test_without_type_a_missing_provider_is_not_found(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, status=404)
    r = integ("provider", "put", "openAI-marketing", "--disabled")
    assert r.exit_code == 5
    assert "no provider 'openAI-marketing'" in r.stderr
    assert "-t TYPE" in r.stderr


def test_literal_secret_on_the_command_line_warns(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/g", status=404)
    mock.post(
        f"{API}/integrations/provider/g",
        match=[
            matchers.json_params_matcher(
                {"type": "grok", "category": "AI_MODEL", "configuration": {"api_key": "xai-literal-1234"}}
            )
        ],
    )
    r = integ("provider", "put", "g", "-t", "grok", "-c", "api_key=xai-literal-1234")
    assert r.exit_code == 0, r.stderr
    assert "warning: -c api_key: a secret given on the command line" in r.stderr
    assert "xai-literal-1234" not in r.output


def test_name_is_required_somewhere(integ: Any, mock: responses.RequestsMock) -> None:
    r = integ("provider", "put", "-t", "grok", "-c", "api_key=abcd")
    assert r.exit_code == 2
    assert "give NAME, or a `name:` field" in r.stderr


def test_a_file_with_several_providers_points_to_apply(integ: Any, tmp_path: Path) -> None:
    doc = tmp_path / "two.yaml"
    doc.write_text("name: a\ntype: grok\n---\nname: b\ntype: grok\n")
    r = integ("provider", "put", "-f", str(doc), "--dry-run")
    assert r.exit_code == 3
    assert "integ provider apply" in r.stderr


def test_put_reads_stdin_and_flags_win(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/s", status=404)
    body = {"type": "sendgrid", "category": "EMAIL", "enabled": True, "configuration": {"api_key": "SG.abcd"}}
    mock.post(f"{API}/integrations/provider/s", match=[matchers.json_params_matcher(body, strict_match=True)])
    doc = "name: other\ntype: sendgrid\nenabled: false\nconfiguration:\n  api_key: SG.abcd\n"
    r = integ("provider", "put", "s", "-f", "-", "--enabled", input=doc)
    assert r.exit_code == 0, r.stderr


# -- get and list -------------------------------------------------------------------------------


def test_get_table_masks_secrets(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, json=live(configuration={"api_key": "sk-not-masked-by-server", "endpoint": "https://e"}))
    r = integ("provider", "get", "openAI-marketing")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "name:         openAI-marketing",
        "type:         openai",
        "category:     AI_MODEL",
        "description:  OpenAI account for the marketing team",
        "enabled:      yes",
        "models:       2",
        "tags:         -",
        "created:      2025-11-28 10:43 UTC by john.doe@acme.com",
        "updated:      2025-11-28 10:45 UTC by john.doe@acme.com",
        "configuration:",
        "  api_key:  ********",
        "  endpoint: https://e",
    ]
    assert "sk-not-masked-by-server" not in r.output


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_get_machine_output_has_stable_keys(fmt: str, integ: Any, mock: responses.RequestsMock) -> None:
    import yaml

    mock.get(
        URL,
        json={
            "name": "openAI-marketing",
            "type": "openai",
            "ownerApp": "x",
            "configuration": {"api_key": "xxxxxxxxxx"},
            "createdOn": 1,
            "updatedOn": 2,
        },
    )
    r = integ("provider", "get", "openAI-marketing", "-o", fmt)
    assert r.exit_code == 0, r.stderr
    data = yaml.safe_load(r.stdout)
    assert list(data) == [
        "name",
        "type",
        "category",
        "description",
        "enabled",
        "configuration",
        "modelsCount",
        "tags",
        "createTime",
        "createdBy",
        "updateTime",
        "updatedBy",
    ]
    assert data["configuration"] == {"api_key": "********"}
    assert (data["createTime"], data["updateTime"]) == (1, 2)


def test_get_missing_exits_5(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, status=404, json={"status": 404, "message": "Integration openAI-marketing not found"})
    r = integ("provider", "get", "openAI-marketing")
    assert r.exit_code == 5
    assert r.stderr.startswith(f"error: no provider 'openAI-marketing' on {SERVER}")
    assert r.stdout == ""


def test_list_table_includes_disabled_providers(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider",
        match=[matchers.query_param_matcher({"activeOnly": "false"})],
        json=[
            live("zeta", enabled=False, modelsCount=0, updateTime=None, updatedOn=None),
            {
                "name": "alpha",
                "type": "pineconedb",
                "category": "VECTOR_DB",
                "enabled": True,
                "modelsCount": 1,
                "updatedOn": 1700000000000,
            },
        ],
    )
    r = integ("provider", "list")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "NAME    TYPE         CATEGORY    ENABLED   MODELS   UPDATED",
        "alpha   pineconedb   VECTOR_DB   yes       1        2023-11-14 22:13 UTC",
        "zeta    openai       AI_MODEL    no        0        2025-11-28 10:43 UTC",
    ]


def test_list_active_only_and_category_go_to_the_server(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider",
        match=[matchers.query_param_matcher({"activeOnly": "true", "category": "AI_MODEL"})],
        json=[live()],
    )
    r = integ("provider", "list", "--active-only", "--category", "ai_model", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [p["name"] for p in r.json()] == ["openAI-marketing"]
    assert r.json()[0]["configuration"] == {"api_key": "********"}


def test_list_empty(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider", json=[])
    mock.get(f"{API}/integrations/provider", json=[])
    r = integ("provider", "list")
    assert (r.exit_code, r.stdout) == (0, "")
    assert "no providers" in r.stderr
    assert integ("provider", "list", "-o", "json").json() == []


def test_list_and_put_remember_names_for_completion(
    integ: Any, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(provider_cli.complete, "remember_providers", lambda names: seen.append(list(names)))
    mock.get(f"{API}/integrations/provider", json=[live("a"), live("b")])
    assert integ("provider", "list").exit_code == 0
    assert seen == [["a", "b"]]


# -- delete ---------------------------------------------------------------------------------------


def test_delete_with_yes(integ: Any, mock: responses.RequestsMock) -> None:
    mock.delete(URL)
    r = integ("provider", "delete", "openAI-marketing", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "deleted provider openAI-marketing" in r.stderr


def test_delete_without_terminal_needs_yes(integ: Any, mock: responses.RequestsMock) -> None:
    r = integ("provider", "delete", "openAI-marketing")
    assert r.exit_code == 2
    assert "pass --yes" in r.stderr
    assert not mock.calls


@pytest.mark.parametrize(("answer", "code", "sent"), [("y\n", 0, True), ("n\n", 130, False)])
def test_delete_asks_on_a_terminal(
    answer: str,
    code: int,
    sent: bool,
    integ: Any,
    mock: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider_cli, "stdin_is_terminal", lambda: True)
    if sent:
        mock.delete(URL)
    r = integ("provider", "delete", "openAI-marketing", input=answer)
    assert r.exit_code == code
    assert f"Delete 1 provider(s) from {SERVER}: openAI-marketing?" in r.stderr
    assert len(mock.calls) == int(sent)


def test_delete_missing_exits_5_unless_missing_ok(integ: Any, mock: responses.RequestsMock) -> None:
    mock.delete(URL, status=404, json={"message": "Integration openAI-marketing not found"})
    mock.delete(URL, status=404, json={"message": "Integration openAI-marketing not found"})
    r = integ("provider", "delete", "openAI-marketing", "--yes")
    assert r.exit_code == 5
    assert "no provider 'openAI-marketing'" in r.stderr
    assert "Integration openAI-marketing not found" in r.stderr
    ok = integ("provider", "delete", "openAI-marketing", "--yes", "--missing-ok", "-o", "json")
    assert ok.exit_code == 0
    assert ok.json() == [{"name": "openAI-marketing", "action": "missing", "error": None}]


def test_delete_several_reports_each_and_exits_with_the_first_failure(
    integ: Any, mock: responses.RequestsMock
) -> None:
    mock.delete(f"{API}/integrations/provider/a")
    mock.delete(f"{API}/integrations/provider/b", status=404)
    mock.delete(f"{API}/integrations/provider/c", status=409, json={"message": "in use"})
    r = integ("provider", "delete", "a", "b", "c", "--yes")
    assert r.exit_code == 5
    assert "deleted provider a" in r.stderr
    assert "no provider 'b'" in r.stderr
    assert "in use" in r.stderr
    assert r.stderr.rstrip().endswith("error: 2 of 3 providers not deleted")


# -- one test per exit code ------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_exit_0_success(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, json=live())
    assert integ("provider", "get", "openAI-marketing").exit_code == 0


def test_exit_2_no_server_configured(integ: Any) -> None:
    r = integ("provider", "list")
    assert r.exit_code == 2
    for way in ("--server URL", "CONDUCTOR_SERVER_URL", "integ auth login", "--server local"):
        assert way in r.stderr


def test_exit_2_unknown_option(integ: Any) -> None:
    assert integ("provider", "list", "--no-such-option").exit_code == 2


def test_exit_3_invalid_input(integ: Any, mock: responses.RequestsMock, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert integ("provider", "put", "-f", str(bad)).exit_code == 3
    assert not mock.calls


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 6, "Invalid configuration for openai"),
        (403, 4, "User does not have permission to update integrations"),
        (401, 4, "Unauthorized"),
        (404, 5, "openai is not a recognised integration type"),
        (409, 6, "Conflict"),
    ],
)
def test_server_statuses_give_their_exit_codes_with_the_server_message(
    status: int, code: int, message: str, integ: Any, mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    mock.get(URL, status=404)
    mock.post(URL, status=status, json={"status": status, "message": message, "retryable": False})
    r = integ("provider", "put", "openAI-marketing", "-t", "openai", "-c", "api_key=${env:HOME}")
    assert r.exit_code == code
    assert f"error: HTTP {status} from POST {URL}: {message}" in r.stderr
    assert sleeps == []  # never retried
    assert len(mock.calls) == 2


def test_exit_7_after_retries_of_503(integ: Any, mock: responses.RequestsMock, sleeps: list[float]) -> None:
    for _ in range(4):
        mock.get(f"{API}/integrations/provider", status=503)
    r = integ("provider", "list")
    assert r.exit_code == 7
    assert "HTTP 503" in r.stderr and "after 3 retries" in r.stderr
    assert len(sleeps) == 3


def test_503_then_200_succeeds(integ: Any, mock: responses.RequestsMock, sleeps: list[float]) -> None:
    mock.get(f"{API}/integrations/provider", status=503)
    mock.get(f"{API}/integrations/provider", json=[live()])
    r = integ("provider", "list", "-o", "json")
    assert r.exit_code == 0
    assert len(sleeps) == 1


def test_exit_7_html_instead_of_the_api(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, body="<!doctype html><title>Conductor UI</title>", content_type="text/html")
    r = integ("provider", "get", "openAI-marketing")
    assert r.exit_code == 7
    assert "not what the Conductor API returns (an HTML page)" in r.stderr


def test_exit_7_unreachable_server(integ: Any, sleeps: list[float]) -> None:
    port = closed_port()
    r = integ("provider", "list", "--server", f"http://127.0.0.1:{port}")
    assert r.exit_code == 7
    assert f"cannot reach the server at http://127.0.0.1:{port}: connection refused" in r.stderr
    assert len(sleeps) == 3


def test_exit_7_unreachable_server_real_process_without_retries() -> None:
    port = closed_port()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "conductor_integrations",
            "provider",
            "list",
            "--server",
            f"http://127.0.0.1:{port}",
            "--retries",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 7
    assert "connection refused" in r.stderr
    assert "Traceback" not in r.stderr


def test_exit_130_declined(integ: Any, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider_cli, "stdin_is_terminal", lambda: True)
    assert integ("provider", "delete", "x", input="n\n").exit_code == 130


# -- secrets never reach stdout or stderr ----------------------------------------------------------

SECRET = "sk-TOPSECRET-9f8e7d"
KEY_SECRET = "app-key-secret-5c4b"


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
@pytest.mark.parametrize("debug", [False, True], ids=["quiet", "debug"])
def test_no_secret_reaches_any_output(
    fmt: str,
    debug: bool,
    integ: Any,
    mock: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
) -> None:
    monkeypatch.delenv("CONDUCTOR_AUTH_TOKEN")
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", "key-1")
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", KEY_SECRET)
    monkeypatch.setenv("OPENAI_KEY", SECRET)
    extra = ["-o", fmt] + (["--debug"] if debug else [])
    echoed = {"name": "openAI-marketing", "type": "openai", "configuration": {"api_key": SECRET}}
    mock.post(f"{API}/token", json={"token": TOKEN})
    mock.get(URL, status=404)
    mock.post(URL, json=echoed)  # a server that echoes the secret back
    mock.get(URL, json=echoed)
    mock.get(f"{API}/integrations/provider", json=[echoed])
    mock.get(URL, status=404)
    mock.post(
        URL,
        status=400,
        json={
            "message": f"bad api_key {SECRET}",
            "validationErrors": [
                {"path": "configuration.api_key", "message": f"{SECRET} is invalid", "invalidValue": SECRET}
            ],
        },
    )
    put = ("provider", "put", "openAI-marketing", "-t", "openai")
    commands = [
        (*put, "-c", "api_key=${env:OPENAI_KEY}"),
        (*put, "-c", f"api_key={SECRET}", "--dry-run"),
        ("provider", "get", "openAI-marketing"),
        ("provider", "list"),
        (*put, "-c", f"api_key={SECRET}"),
    ]
    runs = []
    for command in commands:
        redact.forget_all()  # each command is a new process: it knows only the secrets it meets
        runs.append(integ(*command, *extra))
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 6]
    for r in runs:
        for secret in (SECRET, KEY_SECRET, TOKEN):
            assert secret not in r.output
    assert "********" in runs[1].stdout
    if debug:
        assert "X-Authorization: ********" in runs[0].stderr
        assert '"keySecret": "********"' in runs[0].stderr


# -- the built-in sandbox ------------------------------------------------------------------------


def test_put_then_get_on_the_local_sandbox_in_two_commands(
    integ: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-0001")
    put = integ(
        "provider",
        "put",
        "openAI-marketing",
        "-t",
        "openai",
        "-d",
        "OpenAI account for the marketing team",
        "-c",
        "api_key=${env:OPENAI_API_KEY}",
        "--server",
        "local",
        "-o",
        "json",
    )
    assert put.exit_code == 0, put.stderr
    assert put.json() == {"name": "openAI-marketing", "type": "openai", "action": "created"}
    got = integ("provider", "get", "openAI-marketing", "--server", "local", "-o", "json")
    assert got.exit_code == 0, got.stderr
    data = got.json()
    assert (data["name"], data["type"], data["category"]) == ("openAI-marketing", "openai", "AI_MODEL")
    assert data["description"] == "OpenAI account for the marketing team"
    assert data["configuration"] == {"api_key": "********"}
    again = integ("provider", "put", "openAI-marketing", "--disabled", "--server", "local", "-o", "json")
    assert again.json()["action"] == "updated"
    listed = integ("provider", "list", "--server", "local", "-o", "json")
    assert [(p["name"], p["enabled"]) for p in listed.json()] == [("openAI-marketing", False)]
    assert "sk-local-0001" not in put.output + got.output + listed.output


@pytest.mark.e2e
def test_local_sandbox_real_process(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "INTEG_DATA_DIR": str(tmp_path / "data"), "INTEG_CONFIG_DIR": str(tmp_path / "c")}
    env.pop("CONDUCTOR_SERVER_URL", None)
    cmd = [sys.executable, "-m", "conductor_integrations", "provider"]
    put = subprocess.run(
        [*cmd, "put", "g", "-t", "grok", "-c", "api_key=@/dev/stdin", "--server", "local"],
        input="xai-e2e-secret\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert put.returncode == 0, put.stderr
    got = subprocess.run(
        [*cmd, "get", "g", "--server", "local", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["type"] == "grok"
    assert "xai-e2e-secret" not in put.stdout + put.stderr + got.stdout + got.stderr
