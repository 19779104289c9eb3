"""Hostile servers cannot hang, crash or exhaust integ: ``--timeout`` bounds the whole
exchange (status line and headers included, on new and reused connections), replies nested
deeper than the API ever is are refused (exit 7, nothing on stdout), and output of long
lists is written item by item instead of being built whole in memory.

Real loopback servers (``FaultServer``) where the wire matters; the output walkers and the
parser are also tested directly. Time bounds here are generous safety nets, never speed
checks.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conductor_integrations import output
from conductor_integrations.client import api, http_log, replies
from conductor_integrations.errors import ServerUnavailable, TooDeepToPrint
from conductor_integrations.secrets import redact, safe_json
from tests.hardening.fault_server import FaultServer, Raw, Reply, self_signed, sequence

#: A command that should end in a second or two: a hang, never a speed test.
BOUND = 20.0
PROVIDER = {"name": "p1", "type": "openai", "category": "AI_MODEL", "enabled": True, "configuration": {}}
GET = "/api/integrations/provider/p1"

Serve = Callable[..., FaultServer]


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert lines, f"no error line in:\n{stderr}"
    return lines[0]


def assert_clean(r: Any) -> None:
    """No crash (with ``--debug`` an error's traceback is shown on purpose)."""
    if "\ndebug: " not in "\n" + r.stderr:
        assert "Traceback" not in r.stderr
    assert "unexpected internal error" not in r.stderr
    assert "RecursionError" not in r.stderr


# -- 1. --timeout bounds the status line and the headers --------------------------------------


def head_drip(seconds: float = 0.1) -> Reply:
    """A reply whose status line and headers arrive two bytes every ``seconds``: some 700
    bytes, over 30 s at 0.1 s, far beyond the one-second timeouts used here."""
    return Reply(200, [PROVIDER], headers={"X-Padding": "x" * 600}, drip_head=seconds, chunk=2)


def test_headers_dripped_slower_than_the_timeout_end_in_exit_7(integ: Any, serve: Serve) -> None:
    server = serve(lambda _: head_drip())
    started = time.monotonic()
    r = integ("provider", "list", "--server", server.url, "--timeout", "1", "--retries", "0")
    assert time.monotonic() - started < BOUND
    assert r.exit_code == 7
    assert error_line(r.stderr) == (
        f"error: the server at {server.url} was too slow: no complete reply within 1 s"
    )
    assert "--timeout" in r.stderr  # the hint
    assert r.stdout == ""
    assert_clean(r)


def test_a_dripped_status_line_is_retried_then_exit_7(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(lambda _: head_drip())
    r = integ("provider", "get", "p1", "--server", server.url, "--timeout", "1", "--retries", "1")
    assert r.exit_code == 7
    assert error_line(r.stderr) == (
        f"error: the server at {server.url} was too slow: no complete reply within 1 s (after 1 retry)"
    )
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_a_dripped_reply_then_a_good_one_succeeds(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(head_drip(), Reply(200, [PROVIDER]))
    r = integ("provider", "list", "--server", server.url, "--timeout", "1", "--retries", "1", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [p["name"] for p in r.json()] == ["p1"]


def test_the_deadline_holds_on_a_reused_connection(serve: Serve, sleeps: list[float]) -> None:
    """Keep-alive: the second request goes over the first one's connection, and its
    dripped headers are cut off at its own deadline (not the first request's)."""
    server = serve(Reply(200, [PROVIDER]), head_drip())
    client = api.Client(server.url, timeout=1.0, retries=0)
    try:
        assert client.list_providers() == [PROVIDER]
        time.sleep(1.2)  # past the first request's deadline: the second one has its own
        started = time.monotonic()
        with pytest.raises(ServerUnavailable, match="was too slow: no complete reply within 1 s"):
            client.list_providers()
        assert time.monotonic() - started < BOUND
    finally:
        client.session.close()
    assert server.connections == 1
    assert len(server.requests) == 2


def test_a_slow_but_timely_reply_over_a_reused_connection_is_fine(serve: Serve) -> None:
    slow = Reply(200, [PROVIDER], drip_head=0.02, drip=0.02, chunk=32)
    server = serve(slow, slow, slow)
    client = api.Client(server.url, timeout=5.0, retries=0)
    try:
        for _ in range(3):
            assert client.list_providers() == [PROVIDER]
    finally:
        client.session.close()
    assert server.connections == 1


def test_the_deadline_holds_through_an_http_proxy(
    integ: Any, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through ``HTTP_PROXY`` (here the dripping server itself plays the proxy)."""
    server = serve(lambda _: head_drip())
    monkeypatch.setenv("HTTP_PROXY", server.url)
    started = time.monotonic()
    r = integ("provider", "list", "--server", "http://conductor.invalid", "--timeout", "1", "--retries", "0")
    assert time.monotonic() - started < BOUND
    assert r.exit_code == 7
    assert "was too slow: no complete reply within 1 s" in error_line(r.stderr)
    assert server.paths() == ["GET http://conductor.invalid/api/integrations/provider?activeOnly=false"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_the_deadline_holds_over_https(tmp_path: Path, sleeps: list[float]) -> None:
    """Over TLS (a self-signed certificate, verified): a normal reply, then dripped
    headers on the same connection, cut off at the deadline."""
    cert, context = self_signed(tmp_path)
    with FaultServer(sequence([Reply(200, [PROVIDER]), head_drip()]), tls=context) as server:
        client = api.Client(server.url, timeout=1.0, retries=0, verify=cert)
        try:
            assert client.list_providers() == [PROVIDER]
            with pytest.raises(ServerUnavailable, match="was too slow: no complete reply within 1 s"):
                client.list_providers()
        finally:
            client.session.close()
        assert server.connections == 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_while_headers_drip_stops_at_once(serve: Serve) -> None:
    """The real process, a real SIGINT while it reads dripped headers (with a timeout it
    would wait out for 30 s): exit 130 at once, no traceback."""
    import os
    import signal
    import subprocess
    import threading

    seen = threading.Event()

    def script(_: Any) -> Reply:
        seen.set()
        return head_drip()

    server = serve(script)
    env = {**os.environ, "INTEG_NO_KEYRING": "1", "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "conductor_integrations", "provider", "list", "--server", server.url]
    proc = subprocess.Popen(
        [*argv, "--timeout", "30", "--retries", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert seen.wait(BOUND), "the server saw no request"
        time.sleep(0.5)  # a few header bytes in
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err


# -- 2. replies nested deeper than the API's shapes ---------------------------------------------


def nested(depth: int, leaf: Any = "v") -> Any:
    """A value ``depth`` containers deep (dicts and lists in turn)."""
    value = leaf
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


DEEP_PROVIDER = {**PROVIDER, "configuration": {"api_key": "xxxxxxxxxx", "extra": nested(500)}}


@pytest.mark.parametrize(
    "args",
    [
        ("provider", "list", "-o", "json"),
        ("provider", "list", "-o", "yaml"),
        ("provider", "list"),
        ("provider", "list", "--debug"),
        ("provider", "get", "p1", "-o", "yaml"),
        ("provider", "get", "p1", "-o", "json", "--debug"),
    ],
    ids=" ".join,
)
def test_a_configuration_nested_500_deep_is_not_what_the_api_returns(
    args: tuple[str, ...], integ: Any, serve: Serve
) -> None:
    server = serve(lambda req: Reply(200, [DEEP_PROVIDER] if "provider?" in req.path else DEEP_PROVIDER))
    r = integ(*args, "--server", server.url)
    assert r.exit_code == 7, r.stderr
    deeper = f"(JSON nested deeper than {safe_json.MAX_DEPTH} levels)"
    assert f"is not what the Conductor API returns {deeper}" in error_line(r.stderr)
    assert r.stdout == ""
    assert_clean(r)


def test_a_reply_of_100000_brackets_is_exit_7(integ: Any, serve: Serve) -> None:
    server = serve(Reply(200, b"[" * 100_000))
    r = integ("provider", "list", "--server", server.url, "-o", "json")
    assert r.exit_code == 7, r.stderr
    assert "JSON nested deeper than" in error_line(r.stderr)
    assert r.stdout == ""
    assert_clean(r)


def test_a_deep_error_body_keeps_the_status_exit_code(integ: Any, serve: Serve) -> None:
    server = serve(Reply(500, b'{"message": ' + b"[" * 100_000))
    r = integ("provider", "get", "p1", "--server", server.url, "--debug")
    assert r.exit_code == 7
    assert error_line(r.stderr) == f"error: HTTP 500 from GET {server.url}{GET}: Internal Server Error"
    assert_clean(r)


def test_a_deep_reply_without_a_length_is_exit_7(integ: Any, serve: Serve) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    server = serve(Raw(head + b'{"a":' * 50_000 + b"1" + b"}" * 50_000))
    r = integ("provider", "get", "p1", "--server", server.url)
    assert r.exit_code == 7
    assert "JSON nested deeper than" in error_line(r.stderr)


def test_the_depth_limit_is_exact() -> None:
    limit = safe_json.MAX_DEPTH
    assert safe_json.loads(json.dumps(nested(limit))) == nested(limit)
    with pytest.raises(safe_json.TooDeep, match=f"deeper than {limit} levels"):
        safe_json.loads(json.dumps(nested(limit + 1)))
    assert safe_json.loads(b"[]") == [] and safe_json.loads("3") == 3


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 10_000 + '\\"{' * 100, "b": ["]]]}}}"]})
    assert safe_json.loads(text)["b"] == ["]]]}}}"]


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


TRICKY = st.text(alphabet='[]{}"\\:,n u/ab', max_size=8)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=JSONISH, limit=st.integers(min_value=0, max_value=8), ascii_only=st.booleans())
def test_the_depth_check_agrees_with_the_parsed_depth(value: Any, limit: int, ascii_only: bool) -> None:
    """Strings full of brackets, quotes and backslashes never count; real nesting does."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert safe_json.too_deep(text, limit) == (depth_of(value) > limit)


def test_malformed_json_is_still_a_value_error_not_too_deep() -> None:
    with pytest.raises(ValueError) as caught:
        safe_json.loads('[{"name": "p1"}, {"name": ')
    assert not isinstance(caught.value, safe_json.TooDeep)


def test_error_body_of_a_deep_reply_is_empty() -> None:
    body = replies.error_body('{"message": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert body.message == "" and body.validation_errors == []


def test_masking_walkers_and_dumpers_survive_deep_data() -> None:
    deep = nested(5_000)
    masked = redact.mask_body(deep)  # the debug log masks it without recursing without end
    assert masked is not None
    with pytest.raises(TooDeepToPrint, match="nested deeper than"):
        output.to_json(deep)
    with pytest.raises(TooDeepToPrint, match="nested deeper than"):
        output.to_yaml(deep)
    with pytest.raises(TooDeepToPrint):
        redact.scrub_data(deep)
    assert output.cell(nested(5_000, "x")) is not None  # a table cell of a deep list


def test_the_debug_log_of_a_deep_body_shows_no_part_of_it() -> None:
    shown = http_log.body_text(b'{"token": "tok-secret-123", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert "tok-secret-123" not in shown
    assert "nested deeper than" in shown


def test_a_deep_document_in_the_debug_log_is_masked_within_the_limit() -> None:
    body = {"token": "tok-secret-123", "a": nested(safe_json.MAX_DEPTH - 2, {"keySecret": "ks-secret-456"})}
    shown = redact.mask_json_text(json.dumps(body))
    assert "tok-secret-123" not in shown and "ks-secret-456" not in shown
