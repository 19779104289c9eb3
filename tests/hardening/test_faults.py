"""Injected faults against a real loopback server: each one ends, in bounded time, with the
contract's exit code and a message that says what happened (one test per fault).

The fault → exit code table these tests pin down:

| fault                                          | exit | retried |
|------------------------------------------------|------|---------|
| connection refused                             | 7    | yes     |
| connection reset before any reply              | 7    | yes     |
| reply cut off mid-way (reset or close)         | 7    | yes     |
| no reply within --timeout (hang)               | 7    | yes     |
| reply dribbled slower than --timeout allows    | 7    | yes     |
| (status line and headers too; see test_limits) |      |         |
| slow reply that completes within --timeout     | 0    | -       |
| 500                                            | 7    | no      |
| 502, 503, 504 (also as HTML pages from a proxy)| 7    | yes     |
| 429 with Retry-After (up to 60 s)              | 7    | yes, after the time asked |
| 429/503 with Retry-After beyond 60 s           | 7    | no: fails at once, says how long was asked |
| truncated JSON, HTML page where JSON is due    | 7    | no      |
| reply larger than the client reads             | 7    | no      |
| bytes that are not HTTP                        | 7    | yes     |
| 401, 403                                       | 4    | no      |
| 404                                            | 5    | no      |
| 400, 409                                       | 6    | no      |

Retries are short here: ``--retries 1`` or ``2`` and ``api.sleep`` recorded instead of
waited for (``sleeps``), except where the pause is what is tested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.client import api
from tests.hardening.fault_server import Close, FaultServer, Hang, Raw, Reply, Reset, closed_port

PROVIDER = {
    "name": "p1",
    "type": "openai",
    "category": "AI_MODEL",
    "enabled": True,
    "configuration": {"api_key": "xxxxxxxxxx"},
}
GET = "/api/integrations/provider/p1"
#: A generous bound on commands that should take a second or two: a hang, never a speed test.
BOUND = 20.0

Serve = Callable[..., FaultServer]


def get(integ: Any, server: FaultServer, *extra: str) -> Any:
    return integ("provider", "get", "p1", "--server", server.url, "--timeout", "1", *extra)


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert lines, f"no error line in:\n{stderr}"
    return lines[0]


def assert_clean(r: Any) -> None:
    assert "Traceback" not in r.stderr
    assert "unexpected internal error" not in r.stderr


# -- the connection ---------------------------------------------------------------------------


def test_connection_refused_is_retried_then_exit_7(integ: Any, sleeps: list[float]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    r = integ("provider", "list", "--server", url, "--retries", "2")
    assert r.exit_code == 7
    assert (
        error_line(r.stderr)
        == f"error: cannot reach the server at {url}: connection refused (after 2 retries)"
    )
    assert len(sleeps) == 2
    assert_clean(r)


def test_reset_before_any_reply(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(Reset(), Reset())
    r = get(integ, server, "--retries", "1")
    assert r.exit_code == 7
    assert error_line(r.stderr) == f"error: the server at {server.url} reset the connection (after 1 retry)"
    assert len(server.requests) == 2


def test_reset_in_the_middle_of_a_reply(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    cut = Reset(Reply(200, {**PROVIDER, "description": "x" * 500}), after=200)
    server = serve(cut, cut)
    r = get(integ, server, "--retries", "1")
    assert r.exit_code == 7
    assert "cut its reply off before the end (after 1 retry)" in error_line(r.stderr)
    assert_clean(r)


def test_reply_closed_before_its_announced_length(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    short = Close(Reply(200, {**PROVIDER, "description": "x" * 500}), after=150)
    server = serve(short, short, short)
    r = get(integ, server, "--retries", "2")
    assert r.exit_code == 7
    assert error_line(r.stderr) == (
        f"error: the server at {server.url} cut its reply off before the end (after 2 retries)"
    )
    assert len(server.requests) == 3


def test_a_cut_reply_then_a_good_one_succeeds(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(Reset(Reply(200, PROVIDER), after=60), Reply(200, PROVIDER))
    r = get(integ, server, "-o", "json", "--retries", "1")
    assert r.exit_code == 0, r.stderr
    assert r.json()["name"] == "p1"


def test_no_reply_within_the_timeout(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(Hang(), Hang())
    started = time.monotonic()
    r = integ("provider", "get", "p1", "--server", server.url, "--timeout", "0.5", "--retries", "1")
    assert time.monotonic() - started < BOUND
    assert r.exit_code == 7
    assert error_line(r.stderr) == f"error: no reply from {server.url} within 0.5 s (after 1 retry)"
    assert "--timeout" in r.stderr  # the hint
    assert len(server.requests) == 2


def test_a_reply_dribbled_slower_than_the_timeout_is_cut_short(
    integ: Any, serve: Serve, sleeps: list[float]
) -> None:
    """--timeout bounds the whole attempt, not each read: a server sending a few bytes every
    0.2 s would otherwise keep the command waiting for as long as it likes."""
    drip = Reply(200, {**PROVIDER, "description": "x" * 400}, drip=0.2, chunk=8)
    server = serve(drip, drip)
    started = time.monotonic()
    r = integ("provider", "get", "p1", "--server", server.url, "--timeout", "1", "--retries", "1")
    assert time.monotonic() - started < BOUND
    assert r.exit_code == 7
    assert error_line(r.stderr) == (
        f"error: the server at {server.url} was too slow: no complete reply within 1 s (after 1 retry)"
    )


def test_a_slow_reply_within_the_timeout_is_fine(integ: Any, serve: Serve) -> None:
    server = serve(Reply(200, PROVIDER, delay=0.3, drip=0.05, chunk=64))
    r = integ("provider", "get", "p1", "--server", server.url, "--timeout", "5", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["type"] == "openai"


# -- error statuses ----------------------------------------------------------------------------


def test_500_is_not_retried(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(Reply(500, {"status": 500, "message": "database is down"}))
    r = get(integ, server)
    assert r.exit_code == 7
    assert error_line(r.stderr) == f"error: HTTP 500 from GET {server.url}{GET}: database is down"
    assert len(server.requests) == 1 and sleeps == []


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_burst_of_gateway_errors_is_retried_through(
    status: int, integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path
) -> None:
    burst = [Reply(status, f"<html><body><h1>{status}</h1></body></html>", content_type="text/html")] * 2

    def script(req: Any) -> Any:
        if req.method == "GET":
            return Reply(404, {"status": 404, "message": "not found"})
        return burst.pop() if burst else Reply(200, PROVIDER)

    server = serve(script)
    r = integ(
        "provider", "put", "p1", "-t", "openai", "-c", "api_key=@" + str(key_file(tmp_path)),
        "--server", server.url, "--retries", "3", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert r.json() == {"name": "p1", "type": "openai", "action": "created"}
    assert server.paths().count(f"POST {GET}") == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_that_last_end_in_exit_7(
    status: int, integ: Any, serve: Serve, sleeps: list[float]
) -> None:
    page = Reply(status, "<!DOCTYPE html><html><title>Bad gateway</title></html>", content_type="text/html")
    server = serve(lambda _: page)
    r = get(integ, server, "--retries", "2")
    assert r.exit_code == 7
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
    assert (
        error_line(r.stderr) == f"error: HTTP {status} from GET {server.url}{GET}: {reason} (after 2 retries)"
    )
    assert "HTML page" in r.stderr  # the hint: is --server the API or a proxy in front of it?
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_429_waits_as_long_as_retry_after_says(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(Reply(429, "", retry_after="7"), Reply(429, "", retry_after="2"), Reply(200, [PROVIDER]))
    r = integ("provider", "list", "--server", server.url, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert sleeps == [7.0, 2.0]
    assert [p["name"] for p in r.json()] == ["p1"]


def test_429_with_a_retry_after_date(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    from email.utils import formatdate

    when = formatdate(time.time() + 30, usegmt=True)
    server = serve(Reply(429, "", retry_after=when), Reply(200, [PROVIDER]))
    r = integ("provider", "list", "--server", server.url)
    assert r.exit_code == 0, r.stderr
    assert len(sleeps) == 1 and 20 < sleeps[0] <= 31


def test_429_really_waits_for_retry_after(integ: Any, serve: Serve) -> None:
    """The real pause (one second): the retry comes after it, not before."""
    server = serve(Reply(429, "", retry_after="1"), Reply(200, []))
    r = integ("provider", "list", "--server", server.url)
    assert r.exit_code == 0, r.stderr
    assert len(server.requests) == 2


def test_429_that_lasts_ends_in_exit_7(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(lambda _: Reply(429, {"status": 429, "message": "slow down"}, retry_after="1"))
    r = get(integ, server, "--retries", "2")
    assert r.exit_code == 7
    assert error_line(r.stderr) == f"error: HTTP 429 from GET {server.url}{GET}: slow down (after 2 retries)"
    assert sleeps == [1.0, 1.0]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_beyond_a_minute_fails_at_once(
    status: int, integ: Any, serve: Serve, sleeps: list[float]
) -> None:
    server = serve(lambda _: Reply(status, "", retry_after="3600"))
    r = get(integ, server, "--retries", "3")
    assert r.exit_code == 7
    assert "asked to wait 3600 s before trying again" in r.stderr
    assert len(server.requests) == 1 and sleeps == []


@pytest.mark.parametrize(("status", "code"), [(400, 6), (401, 4), (403, 4), (404, 5), (409, 6), (422, 6)])
def test_client_errors_are_never_retried(
    status: int, code: int, integ: Any, serve: Serve, sleeps: list[float]
) -> None:
    server = serve(lambda _: Reply(status, {"status": status, "message": f"refused with {status}"}))
    r = integ("provider", "list", "--server", server.url, "--retries", "3")
    assert r.exit_code == code
    assert f"refused with {status}" in error_line(r.stderr)
    assert len(server.requests) == 1 and sleeps == []


# -- replies that are not what the API returns -------------------------------------------------


def test_truncated_json(integ: Any, serve: Serve) -> None:
    server = serve(Reply(200, b'{"name": "p1", "type": "open'))
    r = get(integ, server)
    assert r.exit_code == 7
    assert error_line(r.stderr) == (
        f"error: the reply to GET {server.url}{GET} is not what the Conductor API returns "
        "(not JSON (application/json))"
    )


def test_truncated_json_in_a_list(integ: Any, serve: Serve) -> None:
    server = serve(Reply(200, b'[{"name": "p1"}, {"name": '))
    r = integ("provider", "list", "--server", server.url, "-o", "json")
    assert r.exit_code == 7
    assert "is not what the Conductor API returns" in error_line(r.stderr)
    assert r.stdout == ""


def test_an_html_page_where_json_is_due(integ: Any, serve: Serve) -> None:
    server = serve(
        Reply(200, "<!doctype html><html><body>Conductor UI</body></html>", content_type="text/html")
    )
    r = get(integ, server)
    assert r.exit_code == 7
    assert error_line(r.stderr).endswith("is not what the Conductor API returns (an HTML page)")


def test_a_login_page_from_a_proxy_on_401(integ: Any, serve: Serve) -> None:
    server = serve(Reply(401, "<html><body>Sign in</body></html>", content_type="text/html"))
    r = get(integ, server)
    assert r.exit_code == 4
    assert error_line(r.stderr) == f"error: HTTP 401 from GET {server.url}{GET}: Unauthorized"
    assert "HTML page" in r.stderr


def test_json_of_the_wrong_shape(integ: Any, serve: Serve) -> None:
    server = serve(Reply(200, {"providers": []}))
    r = integ("provider", "list", "--server", server.url)
    assert r.exit_code == 7
    assert "expected a list of providers" in error_line(r.stderr)


def test_a_reply_larger_than_integ_reads(
    integ: Any, serve: Serve, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    monkeypatch.setattr(api, "MAX_REPLY_BYTES", 2**20)
    server = serve(Reply(200, b"[" + b'{"name": "p"},' * 200_000 + b"{}]"))
    r = integ("provider", "list", "--server", server.url, "--retries", "2")
    assert r.exit_code == 7
    assert "a reply larger than 1 MiB" in error_line(r.stderr)
    assert len(server.requests) == 1  # not retried: it would be as large again


def test_a_reply_larger_than_integ_reads_without_a_length(
    integ: Any, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Content-Length the size is checked as the body arrives."""
    monkeypatch.setattr(api, "MAX_REPLY_BYTES", 2**20)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    server = serve(Raw(head + b"[" + b'{"name": "p"},' * 200_000 + b"{}]"))
    r = integ("provider", "list", "--server", server.url)
    assert r.exit_code == 7
    assert "a reply larger than 1 MiB" in error_line(r.stderr)


def test_a_very_large_error_page_is_summarised(integ: Any, serve: Serve) -> None:
    page = "Internal failure: " + "stack frame\n" * 400_000  # about 5 MB of text
    server = serve(Reply(500, page))
    r = get(integ, server)
    assert r.exit_code == 7
    line = error_line(r.stderr)
    assert line.startswith(f"error: HTTP 500 from GET {server.url}{GET}: Internal failure: stack frame")
    assert len(r.stderr) < 5_000


def test_bytes_that_are_not_http(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(lambda _: Raw(b"SSH-2.0-OpenSSH_9.6\r\n"))
    r = get(integ, server, "--retries", "1")
    assert r.exit_code == 7
    assert error_line(r.stderr) == (
        f"error: the server at {server.url} answered with something that is not HTTP (after 1 retry)"
    )
    assert "OpenSSH" not in r.stderr


def test_a_redirect_is_not_followed(integ: Any, serve: Serve) -> None:
    server = serve(Reply(302, "", headers={"Location": "https://login.example.com/"}))
    r = get(integ, server)
    assert r.exit_code == 7
    assert "the server redirects to https://login.example.com/" in error_line(r.stderr)


# -- the token endpoint ------------------------------------------------------------------------


def test_token_endpoint_failing(
    integ: Any, serve: Serve, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "key-secret-value")
    server = serve(lambda _: Reply(503, "", retry_after="0"))
    r = get(integ, server, "--key-id", "kid", "--retries", "1")
    assert r.exit_code == 7
    assert (
        error_line(r.stderr)
        == f"error: HTTP 503 from POST {server.url}/api/token: Service Unavailable (after 1 retry)"
    )
    assert server.paths() == ["POST /api/token"] * 2


# -- apply: every provider's fate, none lost --------------------------------------------------


def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key.txt"
    path.write_text("sk-fault-test-0001\n")
    return path


def fleet(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "".join(
            f"---\nname: {n}\ntype: openai\nconfiguration:\n  api_key: ${{file:key.txt}}\n" for n in names
        )
    )
    key_file(tmp_path)
    return path


def test_apply_reports_the_fate_of_every_provider(
    integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path
) -> None:
    names = ["ok-1", "rejected", "flaky", "down", "reset", "slow", "ok-2"]
    post = "POST /api/integrations/provider/"
    flaky = iter([Reply(503, "", retry_after="0")])
    routes: dict[str, Any] = {
        post + "rejected": Reply(400, {"status": 400, "message": "api_key is not valid"}),
        post + "down": Reply(502, "<html>Bad Gateway</html>", content_type="text/html"),
        post + "reset": Reset(),
        post + "slow": Hang(),
    }
    listing = Reply(200, [])

    def script(req: Any) -> Any:
        key = f"{req.method} {req.path}"
        if key == post + "flaky":
            return next(flaky, Reply(200, {}))
        if req.method == "GET":
            return listing
        return routes.get(key, Reply(200, {}))

    server = serve(script)
    r = integ(
        "provider", "apply", "-f", str(fleet(tmp_path, names)), "--server", server.url,
        "--timeout", "1", "--retries", "1", "-o", "json",
    )  # fmt: skip
    assert_clean(r)
    results = {x["name"]: x for x in r.json()}
    assert [x["name"] for x in r.json()] == names  # every document, in document order
    assert {n: x["action"] for n, x in results.items()} == {
        "ok-1": "created",
        "rejected": "failed",
        "flaky": "created",
        "down": "failed",
        "reset": "failed",
        "slow": "failed",
        "ok-2": "created",
    }
    assert "api_key is not valid" in results["rejected"]["error"]
    assert "HTTP 502" in results["down"]["error"]
    assert "reset the connection" in results["reset"]["error"]
    assert "no reply" in results["slow"]["error"]
    assert r.exit_code == 6  # the first failed document (rejected: 400)
    for name in ("rejected", "down", "reset", "slow"):  # in its record only, not again on stderr
        assert f"{name}: " not in r.stderr
    assert "3 created, 0 updated, 0 unchanged, 4 failed" in r.stderr


def test_apply_when_the_listing_fails_says_nothing_was_sent(
    integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path
) -> None:
    server = serve(lambda _: Reply(503, "", retry_after="0"))
    r = integ(
        "provider", "apply", "-f", str(fleet(tmp_path, ["a", "b"])), "--server", server.url,
        "--retries", "1", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 7
    assert "nothing was sent" in r.stderr
    assert all(p.startswith("GET ") for p in server.paths())


def test_apply_fail_fast_skips_the_rest_and_says_so(
    integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path
) -> None:
    names = ["a", "b", "c", "d"]

    def script(req: Any) -> Any:
        if req.method == "GET":
            return Reply(200, [])
        return (
            Reply(500, {"status": 500, "message": "exploded"}) if req.path.endswith("/a") else Reply(200, {})
        )

    server = serve(script)
    r = integ(
        "provider", "apply", "-f", str(fleet(tmp_path, names)), "--server", server.url,
        "--concurrency", "1", "--fail-fast", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 7
    assert [(x["name"], x["action"]) for x in r.json()] == [
        ("a", "failed"),
        ("b", "skipped"),
        ("c", "skipped"),
        ("d", "skipped"),
    ]
    assert server.paths().count("POST /api/integrations/provider/a") == 1
    assert not any(p.startswith("POST") and not p.endswith("/a") for p in server.paths())
