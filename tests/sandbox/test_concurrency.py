"""Persistence across restarts and many concurrent writers with nothing lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.sandbox import RunningSandbox, db
from conductor_integrations.sandbox.shapes import MASK

from .conftest import OPENAI, Client, stored_configuration

THREADS = 16


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in range(count) on ``count`` threads released at the same time."""
    barrier = threading.Barrier(count)

    def task(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_state_survives_a_restart(start_sandbox: Callable[..., RunningSandbox]) -> None:
    first = start_sandbox()
    client = Client(first.url)
    client.post("/integrations/provider/p", json={**OPENAI, "enabled": False}).raise_for_status()
    client.post("/integrations/provider/p/integration/gpt-4o", json={"description": "g"}).raise_for_status()
    client.put("/integrations/provider/p/tags", json=[{"key": "team", "value": "ml"}]).raise_for_status()
    before = client.get("/integrations/provider/p").json()
    first.stop()

    second = start_sandbox()
    assert second.port != 0
    again = Client(second.url)
    after = again.get("/integrations/provider/p").json()
    assert after == before
    assert after["enabled"] is False
    assert after["configuration"]["api_key"] == MASK
    assert after["modelsCount"] == 1
    assert after["tags"] == [{"key": "team", "value": "ml"}]
    assert stored_configuration(second, "p")["api_key"] == "sk-secret-1"


def test_many_concurrent_writers_lose_nothing(sandbox: RunningSandbox) -> None:
    per_thread = 20

    def write(i: int) -> list[int]:
        client = Client(sandbox.url)
        statuses = []
        for j in range(per_thread):
            body = {**OPENAI, "description": f"writer {i} item {j}"}
            statuses.append(client.post(f"/integrations/provider/w{i:02}-{j:02}", json=body).status_code)
        client.close()
        return statuses

    results = run_together(THREADS, write)
    assert all(status == 200 for statuses in results for status in statuses)
    listed = Client(sandbox.url).get("/integrations/provider", params={"activeOnly": "false"}).json()
    assert len(listed) == THREADS * per_thread
    by_name = {p["name"]: p["description"] for p in listed}
    assert by_name["w07-13"] == "writer 7 item 13"


def test_concurrent_read_modify_writes_on_one_provider(client: Client) -> None:
    client.post("/integrations/provider/p", json=OPENAI).raise_for_status()

    def tag_and_model(i: int) -> tuple[int, int]:
        c = Client(client.base)
        tag = c.put("/integrations/provider/p/tags", json=[{"key": f"k{i}", "value": str(i)}]).status_code
        model = c.post(f"/integrations/provider/p/integration/m{i}", json={"description": str(i)}).status_code
        c.close()
        return tag, model

    assert set(run_together(THREADS, tag_and_model)) == {(200, 200)}
    provider = client.get("/integrations/provider/p").json()
    assert provider["modelsCount"] == THREADS
    assert sorted(t["key"] for t in provider["tags"]) == sorted(f"k{i}" for i in range(THREADS))


def test_racing_creates_with_different_types_keep_one_type(client: Client) -> None:
    types = ["openai", "anthropic"]

    def create(i: int) -> tuple[int, str]:
        c = Client(client.base)
        reply = c.post("/integrations/provider/race", json={"type": types[i % 2]})
        c.close()
        return reply.status_code, types[i % 2]

    results = run_together(THREADS, create)
    winner = client.get("/integrations/provider/race").json()["type"]
    assert all(status == (200 if sent == winner else 400) for status, sent in results)


def test_two_servers_on_one_file(start_sandbox: Callable[..., RunningSandbox]) -> None:
    """An ``integ server`` and ``--server local`` commands may share the default file."""
    servers = [start_sandbox(), start_sandbox()]

    def write(i: int) -> int:
        c = Client(servers[i % 2].url)
        codes = [c.post(f"/integrations/provider/s{i}-{j}", json=OPENAI).status_code for j in range(10)]
        c.close()
        return max(codes)

    assert set(run_together(8, write)) == {200}
    for server in servers:
        listed = Client(server.url).get("/integrations/provider").json()
        assert len(listed) == 80


def test_writers_of_one_process_never_wait_in_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no busy timeout at all, 32 writers on two ``Database`` objects of one file all
    succeed: they queue on the in-process lock, never on SQLite's (which would refuse them
    at once with 'database is locked')."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 0)
    path = tmp_path / "data.db"
    first, second = db.Database(path), db.Database(path)
    per_thread = 10

    def write(i: int) -> int:
        done = 0
        for _ in range(per_thread):
            with (first if i % 2 else second).write() as conn:
                count = conn.execute("SELECT count(*) FROM tag").fetchone()[0]
                conn.execute("INSERT INTO tag VALUES (?, '', 'k', ?)", (f"p{i}", str(count)))
                done += 1
        return done

    try:
        assert sum(run_together(32, write)) == 32 * per_thread
        with first.read() as conn:
            values = sorted(int(v) for (v,) in conn.execute("SELECT value FROM tag"))
        # Each read-modify-write saw every one before it: no two read the same count.
        assert values == list(range(32 * per_thread))
    finally:
        first.close()
        second.close()
