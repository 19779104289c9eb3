"""End-to-end fixtures: the real ``integ server`` process and the real ``integ`` process,
talking over loopback. Both run as ``python -m conductor_integrations`` with this
interpreter; the environment is the test's (isolated config and data folders, set by the
root conftest) with the keyring turned off."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

INTEG = [sys.executable, "-m", "conductor_integrations"]
#: A safety net against a hung process, never an assertion on speed.
DEADLINE = 60.0
LISTENING = re.compile(r"listening on (http://\S+)")


def base_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"INTEG_NO_KEYRING": "1", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"})
    env.update(extra)
    return env


class ServerProcess:
    """``integ server --port 0 --data PATH [args]`` as a child process."""

    def __init__(self, data: Path, *args: str):
        self.data = data
        self.args = ["server", "--port", "0", "--data", str(data), *args]
        self.proc = subprocess.Popen(
            [*INTEG, *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=base_env(),
        )
        self.stderr_lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self.url = self._wait_for_url()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for_url(self) -> str:
        while True:
            try:
                line = self._lines.get(timeout=DEADLINE)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError("integ server printed no URL") from None
            if line is None:
                self.proc.wait()
                raise AssertionError(f"integ server exited {self.proc.returncode}: {self.stderr}")
            found = LISTENING.search(line)
            if found:
                return found.group(1)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def post_provider(self, name: str, body: dict[str, Any]) -> None:
        """A write that does not go through integ (another machine, curl, the UI)."""
        request = urllib.request.Request(
            f"{self.url}/api/integrations/provider/{name}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Send ``sig`` and return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait()
            self._close()
            # PYTHONFAULTHANDLER makes the abort print every thread's stack into stderr
            raise AssertionError(f"integ server did not stop on signal {sig}:\n{self.stderr}") from None
        self._close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE)
        self._close()

    def _close(self) -> None:
        self._reader.join(timeout=DEADLINE)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_integ(*args: str, input: str | None = None, **env: str) -> Run:
    done = subprocess.run(
        [*INTEG, *args],
        input=input or "",
        capture_output=True,
        text=True,
        env=base_env(**env),
        timeout=DEADLINE,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``integ server`` processes (default data file: tmp_path/sandbox.db); any still
    running at the end of the test is stopped."""
    started: list[ServerProcess] = []

    def start(*args: str, data: Path | None = None) -> ServerProcess:
        server = ServerProcess(data or tmp_path / "sandbox.db", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server("--quiet")


@pytest.fixture
def integ(server: ServerProcess) -> Callable[..., Run]:
    """``integ(...)`` runs the real integ process against ``server``."""

    def run(*args: str, input: str | None = None, **env: str) -> Run:
        return run_integ(*args, input=input, CONDUCTOR_SERVER_URL=server.url, **env)

    return run
