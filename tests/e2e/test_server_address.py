"""``integ server`` says where it really listens: the bound address (every interface for
0.0.0.0) and the real port for ``--port 0``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import requests

from tests.e2e.conftest import DEADLINE, ServerProcess


def announced(server: ServerProcess, last: str = "Stop it with Ctrl-C.") -> str:
    """What the server printed on starting, up to ``last``."""
    end = time.monotonic() + DEADLINE
    while last not in server.stderr and time.monotonic() < end:
        time.sleep(0.05)
    return server.stderr


def test_a_wildcard_host_is_announced_as_such(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--host", "0.0.0.0", "--quiet")
    text = announced(server, "not for real credentials")
    found = re.search(r"listening on http://0\.0\.0\.0:(\d+) \(every IPv4 address", text)
    assert found, text
    port = int(found.group(1))
    assert port != 0
    assert f"export CONDUCTOR_SERVER_URL=http://127.0.0.1:{port}" in text
    assert f"listening on 0.0.0.0:{port}, beyond this machine" in text
    assert requests.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200


def test_port_0_is_announced_as_the_real_port(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--quiet")
    found = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", server.url)
    assert found and int(found.group(1)) != 0, server.url
    assert "beyond this machine" not in announced(server)
    assert requests.get(f"{server.url}/health", timeout=30).status_code == 200
