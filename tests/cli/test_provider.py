"""`integ provider put` through the CLI, against exact server replies: the reference
page's two curl examples, validation before sending, --dry-run, type changes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from conductor_integrations import __version__
from tests.cli.provider_stubs import API, TOKEN, URL, live, stub_server

#: The headers of the reference page's curl examples.
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
    yield from stub_server(monkeypatch)


def headers_of_curl() -> Any:
    """Every header of the request, exactly: the curl example's three plus what any HTTP
    client sends (User-Agent, Accept-Encoding, Connection, Content-Length)."""
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
    mock.get(f"{API}/integrations/provider/p", status=404)
    r = integ("provider", "put", "p", "-t", "openai", "-c", "apiKey=abcd")
    assert r.exit_code == 3
    assert (
        "warning: p configuration.apiKey: unknown key 'apiKey' for openai (did you mean 'api_key'?)"
        in r.stderr
    )
    assert "openai requires 'api_key'" in r.stderr
    assert "nothing was sent" in r.stderr
    assert [c.request.method for c in mock.calls] == ["GET"]  # read (create or update?), not sent


def test_unknown_key_warns_and_strict_makes_it_an_error(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/p", status=404)
    mock.post(f"{API}/integrations/provider/p")
    strict = integ("provider", "put", "p", "-t", "grok", "-c", "api_key=abcd", "-c", "extra=1", "--strict")
    assert strict.exit_code == 3
    assert "error: p configuration.extra: unknown key 'extra' for grok" in strict.stderr
    assert [c.request.method for c in mock.calls] == ["GET"]
    r = integ("provider", "put", "p", "-t", "grok", "-c", "api_key=abcd", "-c", "extra=1")
    assert r.exit_code == 0, r.stderr
    assert "warning: p configuration.extra: unknown key 'extra' for grok" in r.stderr


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
    mock.get(f"{API}/integrations/provider/g", status=404)
    r = integ("provider", "put", "g", "-t", "grok", "-c", "api_key=@/etc/hostname", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {
        "name": "g",
        "type": "grok",
        "action": "dry-run",
        "method": "POST",
        "url": f"{API}/integrations/provider/g",
        "body": {"type": "grok", "category": "AI_MODEL", "configuration": {"api_key": "********"}},
        "merged": False,
    }
    assert [c.request.method for c in mock.calls] == ["GET"]  # read only


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
                {
                    "type": "openai",
                    "category": "AI_MODEL",
                    "description": "off for now",
                    "enabled": False,
                    "configuration": {"api_key": "xxxxxxxxxx"},  # the server's mask: keep it
                },
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


def test_type_unknown_to_the_server_exits_5_with_a_hint(integ: Any, mock: responses.RequestsMock) -> None:
    mock.get(URL, status=404)
    mock.post(URL, status=404, json={"status": 404, "message": "Integration type grok is not supported"})
    r = integ("provider", "put", "openAI-marketing", "-t", "grok", "-c", "api_key=${env:HOME}")
    assert r.exit_code == 5
    assert "Integration type grok is not supported" in r.stderr
    assert "hint: the server does not know type 'grok'" in r.stderr


def test_dry_run_without_type_says_where_the_type_will_come_from(integ: Any) -> None:
    r = integ("provider", "put", "openAI-marketing", "--disabled", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["body"] == {"enabled": False}
    assert "no type given: `put` takes the live provider's type" in r.stderr


def test_update_without_type_is_checked_against_the_live_configuration(
    integ: Any, mock: responses.RequestsMock
) -> None:
    mock.get(URL, json=live())
    r = integ("provider", "put", "openAI-marketing", "-c", "apiKey=abcd", "--strict")
    assert r.exit_code == 3
    assert "unknown key 'apiKey' for openai" in r.stderr
    assert "requires 'api_key'" not in r.stderr  # the live provider has one
