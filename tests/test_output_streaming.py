"""Long lists are written item by item (JSON, YAML, plain tables) instead of being built
whole in memory first, and print exactly as the whole list would. The memory figures are
the benchmark's (``benchmarks/memory.py``); these tests pin down the streaming itself."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import responses
import yaml

from conductor_integrations import output

ROOT = "http://conductor.example.com"


# -- 3. long lists are written item by item ------------------------------------------------------


class Watched:
    """A list whose items are made as they are read, remembering how much had been written
    to ``out`` when each one was made."""

    def __init__(self, count: int, out: io.StringIO):
        self.count = count
        self.out = out
        self.written_when_made: list[int] = []

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(self.count):
            self.written_when_made.append(len(self.out.getvalue()))
            yield {"name": f"p{i:05d}", "type": "openai", "enabled": i % 2 == 0, "tags": [{"key": "k"}]}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_long_list_is_written_item_by_item(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    items = Watched(5_000, out)
    output.data(items, fmt)
    # Output had begun long before the last item was made: not built whole first.
    assert items.written_when_made[-1] > 0
    assert items.written_when_made[-1] > len(out.getvalue()) // 2
    everything = list(Watched(5_000, io.StringIO()))
    if fmt == "json":
        assert out.getvalue() == json.dumps(everything, indent=2, ensure_ascii=False) + "\n"
    else:
        assert out.getvalue() == yaml.safe_dump(
            everything, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
        )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_short_and_empty_lists_print_as_before(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ([], [{}], [1, "a", None], [{"a": [1, {"b": []}]}, {"c": "d"}]):
        out = io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        output.data(value, fmt)
        if fmt == "json":
            assert out.getvalue() == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        else:
            assert out.getvalue() == yaml.safe_dump(
                value, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
            )


def test_a_long_plain_table_is_written_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    items = Watched(5_000, out)
    output.table(items, [("name", "NAME"), ("type", "TYPE"), ("enabled", "ENABLED")])
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "ENABLED"]
    assert lines[1].split() == ["p00000", "openai", "yes"] and len(lines) == 5_001
    assert len({len(line) for line in lines[1:] if line.endswith("yes")}) == 1  # aligned


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_provider_list_makes_each_record_as_it_prints(
    fmt: str, integ: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``provider list -o json|yaml`` does not hold a record of every provider at once:
    records are made as the output is written (the first ones are out before the last
    one is made)."""
    from conductor_integrations.cli import provider_render

    written_when_made: list[int] = []
    real = provider_render.record

    def watching(p: dict[str, Any]) -> dict[str, Any]:
        written_when_made.append(len(sys.stdout.getvalue()))  # type: ignore[attr-defined]
        return real(p)

    monkeypatch.setattr(provider_render, "record", watching)
    providers = [{"name": f"p{i:04d}", "type": "openai"} for i in range(3_000)]
    with responses.RequestsMock() as mock:
        mock.get(ROOT + "/api/integrations/provider", json=providers)
        r = integ("provider", "list", "--server", ROOT, "-o", fmt)
    assert r.exit_code == 0, r.stderr
    assert len(written_when_made) == 3_000
    assert written_when_made[-1] > len(r.stdout) // 2
    assert "p2999" in r.stdout and r.stdout.index("p0000") < r.stdout.index("p2999")


def test_a_long_table_on_a_terminal_is_printed_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rich table holds every cell, styled, until it prints: beyond RICH_MAX_ROWS rows a
    terminal gets the plain table (streamed) instead; short tables keep their look."""
    from rich.console import Console

    terminal = io.StringIO()
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setitem(output._consoles, False, Console(file=terminal, force_terminal=True, width=100))
    columns = [("name", "NAME"), ("type", "TYPE")]
    output.table([{"name": "a", "type": "openai"}], columns)
    assert "openai" in terminal.getvalue() and out.getvalue() == ""  # the rich table
    terminal.truncate(0)
    many = [{"name": f"p{i}", "type": "openai"} for i in range(output.RICH_MAX_ROWS + 1)]
    output.table(many, columns)
    assert terminal.getvalue() == ""
    assert out.getvalue().splitlines()[0].split() == ["NAME", "TYPE"]
    assert len(out.getvalue().splitlines()) == output.RICH_MAX_ROWS + 2
