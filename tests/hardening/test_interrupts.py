"""Ctrl-C during ``provider apply``: the real process, a real SIGINT once requests are in
flight against a slow loopback server. It exits 130, says on stderr what was and was not
sent, and its results (JSON and table) mark every provider not sent as ``interrupted``.

Requests already on the wire finish their current attempt and keep their result; no new
request and no retry starts after Ctrl-C (a pause before a retry ends at once)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.fault_server import FaultServer, Hang, Reply, Request

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")

#: Safety nets against a hung process or a server that never saw the requests; never an
#: assertion on speed.
DEADLINE = 60.0
NAMES = [f"p{i}" for i in range(1, 7)]


def fleet(tmp_path: Path) -> Path:
    (tmp_path / "key.txt").write_text("sk-interrupt-test-0001\n")
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "".join(
            f"---\nname: {n}\ntype: openai\nconfiguration:\n  api_key: ${{file:key.txt}}\n" for n in NAMES
        )
    )
    return path


class SlowServer:
    """The listing at once; each provider POST answered by ``post`` (after its delay)."""

    def __init__(self, post: Callable[[Request], Any], listing: Any = None):
        self.post = post
        self.listing = listing or Reply(200, [])
        self.posts = threading.Semaphore(0)
        self.gets = threading.Semaphore(0)

    def __call__(self, req: Request) -> Any:
        if req.method == "GET":
            self.gets.release()
            return self.listing
        self.posts.release()
        return self.post(req)


def start_apply(tmp_path: Path, server: FaultServer, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.update({"INTEG_NO_KEYRING": "1", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    argv = [sys.executable, "-m", "conductor_integrations", "provider", "apply", "-f", str(fleet(tmp_path))]
    argv += ["--server", server.url, "--concurrency", "2", *extra]
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def interrupt_when(proc: subprocess.Popen[str], seen: threading.Semaphore, count: int) -> tuple[str, str]:
    """Send SIGINT once the server has seen ``count`` requests; the process's output."""
    for _ in range(count):
        if not seen.acquire(timeout=DEADLINE):
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(f"the server did not see {count} requests:\n{err}")
    time.sleep(0.2)  # let the process settle in its wait (the test holds either way)
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"integ did not stop after Ctrl-C:\n{err}") from None


def test_ctrl_c_with_requests_in_flight_json(tmp_path: Path, serve: Callable[..., FaultServer]) -> None:
    logic = SlowServer(lambda _: Reply(200, {}, delay=2.0))
    server = serve(logic)
    proc = start_apply(tmp_path, server, "-o", "json")
    out, err = interrupt_when(proc, logic.posts, 2)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    results = json.loads(out)
    assert [r["name"] for r in results] == NAMES  # none lost
    actions = {r["name"]: r["action"] for r in results}
    sent = [p.rsplit("/", 1)[1] for p in server.paths() if p.startswith("POST")]
    assert len(sent) == 2
    for name in NAMES:
        # the two on the wire finished and kept their result; the rest were never sent
        assert actions[name] == ("created" if name in sent else "interrupted"), (name, results)
    for r in results:
        if r["action"] == "interrupted":
            assert r["error"] == "not sent: interrupted"
    assert "2 created, 0 updated, 0 unchanged, 0 failed, 4 interrupted" in err
    assert "interrupted: the providers marked interrupted were not sent" in err


def test_ctrl_c_with_requests_in_flight_table(tmp_path: Path, serve: Callable[..., FaultServer]) -> None:
    logic = SlowServer(lambda _: Reply(200, {}, delay=2.0))
    server = serve(logic)
    proc = start_apply(tmp_path, server)
    out, err = interrupt_when(proc, logic.posts, 2)
    assert proc.returncode == 130, err
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [row[0] for row in rows] == NAMES
    assert sorted(row[2] for row in rows) == ["created"] * 2 + ["interrupted"] * 4
    assert "4 interrupted" in err


def test_ctrl_c_stops_retries_and_their_pauses(tmp_path: Path, serve: Callable[..., FaultServer]) -> None:
    """The first attempts get 503 with Retry-After 50: without Ctrl-C the command would
    wait 50 s and retry; with it, it stops at once and says those were not confirmed."""
    logic = SlowServer(lambda _: Reply(503, {"status": 503, "message": "busy"}, retry_after="50"))
    server = serve(logic)
    proc = start_apply(tmp_path, server, "-o", "json", "--retries", "3")
    out, err = interrupt_when(proc, logic.posts, 2)
    assert proc.returncode == 130, err
    results = json.loads(out)
    assert [r["action"] for r in results] == ["interrupted"] * len(NAMES)
    tried = [r for r in results if r["error"] != "not sent: interrupted"]
    assert len(tried) == 2
    for r in tried:
        assert "not retried after Ctrl-C" in r["error"]
    assert len([p for p in server.paths() if p.startswith("POST")]) == 2  # no retry was sent


def test_ctrl_c_before_anything_is_sent(tmp_path: Path, serve: Callable[..., FaultServer]) -> None:
    logic = SlowServer(lambda _: Reply(200, {}), listing=Hang())
    server = serve(logic)
    proc = start_apply(tmp_path, server, "-o", "json", "--timeout", "30")
    out, err = interrupt_when(proc, logic.gets, 1)
    assert proc.returncode == 130, err
    assert "nothing was sent" in err
    assert "Traceback" not in err
    assert out == ""
    assert not [p for p in server.paths() if p.startswith("POST")]


@pytest.mark.parametrize(
    "command",
    [
        ["provider", "list"],
        ["provider", "get", "p1"],
        ["provider", "delete", "p1", "--yes"],
        ["types", "list"],
    ],
)
def test_ctrl_c_in_any_command_says_interrupted(
    command: list[str], tmp_path: Path, serve: Callable[..., FaultServer]
) -> None:
    """Every command, not only apply: exit 130 with an `error:` line, no traceback (Typer
    alone would exit 130 without a word)."""
    seen = threading.Semaphore(0)

    def script(_: Request) -> Any:
        seen.release()
        return Hang()

    server = serve(script)
    env = dict(os.environ, INTEG_NO_KEYRING="1", NO_COLOR="1")
    argv = [sys.executable, "-m", "conductor_integrations", *command, "--server", server.url]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    _, err = interrupt_when(proc, seen, 1)
    assert proc.returncode == 130
    assert err.splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in err


# -- the same, in-process: the engine and the client (measured by coverage) --------------------


class GatedClient:
    """A stand-in client: each POST waits for a permit from ``gate`` (``stop_retrying``
    lets every one through, as the attempts on the wire finish)."""

    def __init__(self) -> None:
        self.gate = threading.Semaphore(0)
        self.started = threading.Semaphore(0)
        self.sent: list[str] = []
        self.stopped = False

    def list_providers(self, category: str | None = None, active_only: bool = False) -> list[Any]:
        return []

    def put_provider(self, name: str, body: dict[str, Any]) -> None:
        self.sent.append(name)
        self.started.release()
        assert self.gate.acquire(timeout=DEADLINE)

    def stop_retrying(self) -> None:
        self.stopped = True
        self.gate.release(len(NAMES))


def payloads(names: list[str]) -> list[Any]:
    from conductor_integrations.documents.payload import Payload

    return [Payload(n, {"type": "grok", "category": "AI_MODEL", "configuration": {}}) for n in names]


def release_two(client: GatedClient) -> None:
    """Let the first two providers through once they are on the wire."""

    def release() -> None:
        for _ in range(2):
            assert client.started.acquire(timeout=DEADLINE)
        client.gate.release(2)

    threading.Thread(target=release, daemon=True).start()


def assert_kept_and_interrupted(client: GatedClient, report: Any) -> None:
    """Every provider sent is reported created; the others interrupted, not sent."""
    from conductor_integrations.fleet import engine

    assert report.interrupted and report.exit_code == 130
    actions = [(o.name, o.action) for o in report.outcomes]
    assert [n for n, _ in actions] == NAMES
    assert {n for n, a in actions if a == "created"} == set(client.sent)
    assert client.stopped
    assert all(o.error == engine.NOT_SENT for o in report.outcomes if o.action == "interrupted")
    assert 2 <= len(client.sent) < len(NAMES)


def test_engine_keeps_results_on_the_wire_and_marks_the_rest_interrupted() -> None:
    from conductor_integrations.fleet import engine

    client = GatedClient()
    calls = 0

    def on_done(_: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyboardInterrupt  # Ctrl-C lands while the main thread reports a result

    release_two(client)
    report = engine.apply(
        client, payloads(NAMES), secret_matches=lambda *_: False, concurrency=2, on_done=on_done
    )
    assert_kept_and_interrupted(client, report)


def test_engine_ctrl_c_while_the_main_thread_waits_between_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C lands in the pause between two batches of results: what finished is kept,
    # what was on the wire finishes and is kept, the rest is interrupted (not sent).
    from conductor_integrations.fleet import engine

    client = GatedClient()

    def pause(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.time, "sleep", pause)

    release_two(client)
    report = engine.apply(client, payloads(NAMES), secret_matches=lambda *_: False, concurrency=2)
    assert_kept_and_interrupted(client, report)


def test_engine_ctrl_c_while_reading_the_server_sends_nothing() -> None:
    from conductor_integrations.errors import Interrupted
    from conductor_integrations.fleet import engine

    class Reader(GatedClient):
        def list_providers(self, category: str | None = None, active_only: bool = False) -> list[Any]:
            raise KeyboardInterrupt

    client = Reader()
    with pytest.raises(Interrupted, match="nothing was sent"):
        engine.apply(client, payloads(["a"]), secret_matches=lambda *_: False)
    assert client.sent == []


def test_client_after_stop_retrying_sends_nothing_new(serve: Callable[..., FaultServer]) -> None:
    from conductor_integrations.client import api
    from conductor_integrations.errors import Interrupted

    server = serve(Reply(200, []))
    client = api.Client(server.url)
    client.stop_retrying()
    with pytest.raises(Interrupted, match="not sent: interrupted"):
        client.list_providers()
    assert server.requests == []


def test_client_ctrl_c_during_the_pause_before_a_retry(
    serve: Callable[..., FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conductor_integrations.client import api
    from conductor_integrations.errors import Interrupted

    server = serve(lambda _: Reply(503, "", retry_after="50"))
    client = api.Client(server.url, retries=3)
    waited: list[float] = []

    def pause(seconds: float) -> None:  # Ctrl-C arrives while the client waits
        waited.append(seconds)
        client.stop_retrying()

    monkeypatch.setattr(api, "sleep", pause)
    with pytest.raises(Interrupted) as caught:
        client.put_provider("p1", {"type": "grok"})
    assert caught.value.message == (
        "not retried after Ctrl-C (the last attempt: HTTP 503); the server may or may not have applied it"
    )
    assert waited == [50.0] and len(server.requests) == 1


def test_client_real_pause_ends_at_once_on_stop_retrying(serve: Callable[..., FaultServer]) -> None:
    """The real pause (50 s asked) is cut short from another thread: bounded, not waited out."""
    from conductor_integrations.client import api
    from conductor_integrations.errors import Interrupted

    server = serve(lambda _: Reply(429, "", retry_after="50"))
    client = api.Client(server.url, retries=1)
    timer = threading.Timer(0.5, client.stop_retrying)
    timer.start()
    started = time.monotonic()
    with pytest.raises(Interrupted, match=r"not retried after Ctrl-C \(the last attempt: HTTP 429\)$"):
        client.list_providers()
    assert time.monotonic() - started < 20  # far below the 50 s asked for
    timer.join()
