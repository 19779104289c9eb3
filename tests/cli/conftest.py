"""Sandboxes on loopback for the command tests: one that demands an application key, one
that asks for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conductor_integrations.sandbox import RunningSandbox, serve_in_background

#: The application key the ``auth_sandbox`` accepts (and no other).
KEY, SECRET = "ci-key", "ci-secret-Zq81x"


@pytest.fixture
def auth_sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with serve_in_background(tmp_path / "auth.db", auth=[f"{KEY}:{SECRET}"]) as running:
        yield running


@pytest.fixture
def open_sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with serve_in_background(tmp_path / "open.db") as running:
        yield running
