"""The real ``integ server`` process: start, signals, port in use, curl, persistence."""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.curl_examples import CURL, page_examples, send

from .conftest import ServerProcess, run_integ

pytestmark = pytest.mark.e2e


def get_json(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, headers={"X-Authorization": token} if token else {})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def test_prints_its_url_and_how_to_point_integ_at_it(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server()
    assert server.url.startswith("http://127.0.0.1:")
    assert get_json(f"{server.url}/api/integrations/provider") == []
    assert server.stop(signal.SIGINT) == 0
    assert f"export CONDUCTOR_SERVER_URL={server.url}" in server.stderr
    assert f"data: {server.data}" in server.stderr
    assert '"GET /api/integrations/provider HTTP/1.1" 200' in server.stderr  # access log
    assert server.stderr.rstrip().endswith("sandbox stopped")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_it_cleanly_with_exit_0(start_server: Callable[..., ServerProcess], sig: int) -> None:
    server = start_server("--quiet")
    assert server.stop(sig) == 0
    assert "sandbox stopped" in server.stderr
    assert "Traceback" not in server.stderr


def test_quiet_has_no_access_log(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--quiet")
    get_json(f"{server.url}/api/integrations/def")
    server.stop()
    assert "GET /api" not in server.stderr


def test_a_port_in_use_exits_7(server: ServerProcess, tmp_path: Path) -> None:
    port = server.url.rsplit(":", 1)[1]
    result = run_integ("server", "--port", port, "--data", str(tmp_path / "other.db"))
    assert result.code == 7
    assert f"error: port {port} on 127.0.0.1 is already in use" in result.stderr


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_the_reference_curl_examples_answer_200(server: ServerProcess) -> None:
    for example in page_examples():
        status, body = send(example, server.url)
        assert status == 200, body
    got = get_json(f"{server.url}/api/integrations/provider/openAI-marketing")
    assert got["enabled"] is False
    assert got["configuration"] == {"api_key": "xxxxxxxxxx"}


def test_state_survives_a_restart(start_server: Callable[..., ServerProcess]) -> None:
    first = start_server("--quiet")
    for example in page_examples():
        assert send(example, first.url)[0] == 200
    before = get_json(f"{first.url}/api/integrations/provider?activeOnly=false")
    assert first.stop() == 0
    second = start_server("--quiet")
    assert get_json(f"{second.url}/api/integrations/provider?activeOnly=false") == before
