"""The breaker of ``provider apply`` against a loopback fault server: after 5 connection
failures in a row (any worker, any attempt) nothing more is sent, retries stop, the rest is
``not sent`` and the command exits 7. A reply in between resets the count."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.client import breaker
from tests.hardening.fault_server import Action, FaultServer, Hang, Reply, Request, Reset

from .test_faults import Serve, assert_clean, fleet

NAMES = [f"p{i:03d}" for i in range(60)]
#: POSTs answered before the server "dies".
ANSWERED = 10
CONCURRENCY = 8


class DiesAfter:
    """The listing, then ``ANSWERED`` POSTs answered, then ``fault`` for every request."""

    def __init__(self, fault: Action):
        self.fault = fault
        self.lock = threading.Lock()
        self.answered = 0
        self.faulted = 0

    def __call__(self, req: Request) -> Action:
        with self.lock:
            if req.method == "GET":
                return Reply(200, [])
            if self.answered < ANSWERED:
                self.answered += 1
                return Reply(200, {})
            self.faulted += 1
            return self.fault


def apply(integ: Any, tmp_path: Path, server: FaultServer, *extra: str) -> Any:
    return integ(
        "provider", "apply", "-f", str(fleet(tmp_path, NAMES)), "--server", server.url,
        "--concurrency", str(CONCURRENCY), *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "extra"),
    [(Reset(), ()), (Hang(), ("--timeout", "1"))],
    ids=["reset", "hang"],
)
def test_a_dead_server_stops_the_run(
    integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path, fault: Action, extra: tuple[str, ...]
) -> None:
    logic = DiesAfter(fault)
    server = serve(logic)
    r = apply(integ, tmp_path, server, *extra, "-o", "json")
    assert_clean(r)
    assert r.exit_code == 7, r.stderr
    results = r.json()
    assert [x["name"] for x in results] == NAMES
    actions = [x["action"] for x in results]
    assert set(actions) <= {"created", "failed", "not sent"}
    assert actions.count("created") == ANSWERED
    # each attempt counts and retries stop: about the breaker's count plus the requests on
    # the wire (a reply recorded late may reset the count once per worker: hence the margin),
    # not every provider's four attempts
    assert logic.faulted < 3 * (breaker.FAILURES + CONCURRENCY)
    not_sent = actions.count("not sent")
    assert not_sent > len(NAMES) // 2
    sent = {p.rsplit("/", 1)[1] for p in server.paths() if p.startswith("POST")}
    for x in results:
        if x["action"] == "not sent":
            assert x["name"] not in sent  # never sent at all
            assert x["error"].startswith("not sent: the server stopped answering")
        if x["action"] == "failed":  # its error once, in its record, not again on stderr
            assert x["error"] and f"{x['name']}: " not in r.stderr
    assert (
        f"error: the server at {server.url} stopped answering ({breaker.FAILURES} connection "
        f"failures in a row): {not_sent} providers not sent" in r.stderr
    )
    assert f"{not_sent} not sent" in r.stderr


def test_not_sent_in_the_table(integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path) -> None:
    server = serve(DiesAfter(Reset()))
    r = apply(integ, tmp_path, server)
    assert r.exit_code == 7
    table = r.stdout.partition("\n\n")[0]  # the errors of the failed ones are below it
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert set(rows) == set(NAMES)
    assert sum(1 for line in rows.values() if "not sent" in line) > len(NAMES) // 2


def test_a_reply_in_between_resets_the_count(
    integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path
) -> None:
    """Every other attempt is reset: each provider needs a retry, none is lost to the breaker."""
    lock = threading.Lock()
    posts = [0]

    def script(req: Request) -> Action:
        if req.method == "GET":
            return Reply(200, [])
        with lock:
            posts[0] += 1
            return Reset() if posts[0] % 2 else Reply(200, {})

    server = serve(script)
    names = NAMES[:12]
    r = integ(
        "provider", "apply", "-f", str(fleet(tmp_path, names)), "--server", server.url,
        "--concurrency", "1", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert [x["action"] for x in r.json()] == ["created"] * len(names)
    assert posts[0] == 2 * len(names)


def test_the_count_is_consecutive_failures() -> None:
    b = breaker.Breaker(3)
    for answered in (False, False, True, False, False):
        assert not b.record(answered)
    assert not b.is_open
    assert b.record(False)
    assert b.is_open
    assert b.record(True)  # once open, it stays open


def test_models_and_tags_stop_too(integ: Any, serve: Serve, sleeps: list[float], tmp_path: Path) -> None:
    """Each provider carries two models and a tag: the model and tag requests count and stop
    like the providers' own; a provider partly sent is failed, one not sent at all is not sent."""
    (tmp_path / "key.txt").write_text("sk-fault-test-0001\n")
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "".join(
            f"---\nname: {n}\ntype: openai\nconfiguration:\n  api_key: ${{file:key.txt}}\n"
            "models:\n- name: m1\n- name: m2\ntags:\n  team: ml\n"
            for n in NAMES[:30]
        )
    )
    logic = DiesAfter(Reset())
    server = serve(logic)
    r = integ("provider", "apply", "-f", str(path), "--server", server.url, "-o", "json")
    assert_clean(r)
    assert r.exit_code == 7, r.stderr
    assert logic.faulted < 3 * (breaker.FAILURES + CONCURRENCY)
    results = r.json()
    assert {x["action"] for x in results} <= {"created", "failed", "not sent"}
    gone = [x for x in results if x["action"] == "not sent"]
    assert gone
    for x in gone:
        assert [m["action"] for m in x["models"]] == ["not sent", "not sent"]
        assert x["tags"] == "not sent"
    for x in results:
        if x["action"] == "failed" and x["error"].startswith("provider created; "):
            children = {m["action"] for m in x["models"]} | {x["tags"]}
            assert children - {"created", "updated"}, x  # partly sent


def test_delete_of_several_stops_at_a_dead_server(integ: Any, serve: Serve, sleeps: list[float]) -> None:
    server = serve(lambda _: Reset())
    r = integ(
        "provider", "delete", "a", "b", "c", "--yes", "--server", server.url, "--retries", "1", "-o", "json"
    )
    assert_clean(r)
    assert r.exit_code == 7
    assert [(x["name"], x["action"]) for x in r.json()] == [
        ("a", "failed"),
        ("b", "not sent"),
        ("c", "not sent"),
    ]
    assert server.paths() == ["DELETE /api/integrations/provider/a"] * 2
    assert "error: 3 of 3 providers not deleted (2 not sent)" in r.stderr
