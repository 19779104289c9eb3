"""A server that dies in the middle of an apply: the real ``integ`` process applies 300
providers to a real ``integ server`` process, which is killed (SIGKILL) once it has stored a
few. The command ends (exit 7) instead of retrying every provider on its own; what it
reports ``created`` is on the server when it comes back on the same data file, and what it
reports ``not sent`` is not."""

from __future__ import annotations

import json
import queue
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import DEADLINE, INTEG, ServerProcess, base_env, run_integ

pytestmark = pytest.mark.e2e

COUNT = 300
#: POSTs the server logs before it is killed.
KILL_AFTER = 20


def fleet(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "".join(
            f"- name: dead-{i:03d}\n  type: openai\n  configuration:\n"
            f"    api_key: sk-dead-server-{i:03d}\n    endpoint: https://api.openai.com/v1\n"
            for i in range(COUNT)
        )
    )
    return path


def wait_for_posts(server: ServerProcess, count: int) -> None:
    seen = 0
    while seen < count:
        try:
            line = server._lines.get(timeout=DEADLINE)
        except queue.Empty:
            raise AssertionError(f"the server logged {seen} POSTs, not {count}") from None
        if line is None:
            raise AssertionError(f"the server exited:\n{server.stderr}")
        if '"POST /api/integrations/provider/' in line:
            seen += 1


def test_server_killed_mid_apply_ends_the_run(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start_server()  # with its access log: the test kills it after KILL_AFTER POSTs
    proc = subprocess.Popen(
        [*INTEG, "provider", "apply", "-f", str(fleet(tmp_path)), "--server", server.url, "-o", "json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env(),
    )
    try:
        wait_for_posts(server, KILL_AFTER)
        server.kill()  # SIGKILL: connections are then refused or reset
        out, err = proc.communicate(timeout=DEADLINE)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 7, err
    assert "Traceback" not in err
    results = json.loads(out)
    assert len(results) == COUNT  # every provider has a result
    actions = {r["name"]: r["action"] for r in results}
    assert set(actions.values()) <= {"created", "failed", "not sent"}, set(actions.values())
    not_sent = sorted(n for n, a in actions.items() if a == "not sent")
    created = sorted(n for n, a in actions.items() if a == "created")
    # the server stored KILL_AFTER; the replies of those still in flight may have been lost
    assert len(created) >= KILL_AFTER - 8
    assert len(not_sent) > COUNT // 2  # the run stopped; it did not retry them one by one
    for r in results:
        if r["action"] == "not sent":
            assert r["error"].startswith("not sent: the server stopped answering"), r
    stopped = [line for line in err.splitlines() if line.startswith("error: the server at ")]
    assert stopped, err
    assert f"{len(not_sent)} providers not sent" in stopped[-1]
    assert f"{len(not_sent)} not sent" in err  # the summary counts them

    again = start_server("--quiet", data=server.data)
    listed = run_integ("provider", "list", "-o", "json", "--server", again.url)
    assert listed.code == 0, listed.stderr
    stored = {p["name"] for p in listed.json()}
    assert set(created) <= stored  # what was reported created really is there
    assert not set(not_sent) & stored  # and nothing reported not sent is
