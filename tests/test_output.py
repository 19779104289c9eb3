"""What reaches the terminal: control characters from servers and documents are shown as
visible escapes in every human-readable output, and kept exactly in JSON and YAML."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from conductor_integrations import output

#: Every character a terminal acts on instead of showing (newline aside): C0, DEL, C1, and
#: the bidirectional controls that reorder what is shown.
C0 = [chr(c) for c in range(0x20) if chr(c) != "\n"]
C1 = [chr(c) for c in range(0x7F, 0xA0)]
BIDI = [chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))]
LINES = ["\u2028", "\u2029"]
CONTROLS = C0 + C1 + BIDI + LINES
RAW = re.compile("[" + "".join(re.escape(c) for c in CONTROLS) + "]")
HOSTILE = (
    "evil\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 \x1b[2J\x1b[31mred\x9b0m"
    " nul\x00 bel\x07 cr\r del\x7f \u202egnp.exe\u202c \u2066iso\u2069 \u200e\u200f\u061c end"
)
MARKUP = "[red]not red[/red] [link=https://evil.example]not a link[/link] [bold]"


def shown(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@pytest.mark.parametrize("ch", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_shown_as_an_escape(ch: str) -> None:
    assert output.escape_controls(f"a{ch}b") == f"a{shown(ch)}b"


def test_newlines_stay_and_tabs_only_when_asked() -> None:
    assert output.escape_controls("a\nb\tc") == "a\nb\\x09c"
    assert output.escape_controls("a\nb\tc", keep="\n\t") == "a\nb\tc"
    assert output.escape_controls("plain é ü € 漢字 ✓") == "plain é ü € 漢字 ✓"


def test_messages_on_stderr_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    output.error(f"rejected: {HOSTILE}", details=[f"description: {HOSTILE}"], hints=[HOSTILE])
    output.warning(HOSTILE)
    output.info(HOSTILE)
    output.success(HOSTILE)
    err = capsys.readouterr().err
    assert not RAW.search(err), repr(err)
    assert err.count("evil\\x1b]8;;https://evil.example/\\x07click") == 6
    assert "\\u202egnp.exe\\u202c" in err


def test_plain_tables_and_text_are_escaped_and_stay_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"name": f"a{HOSTILE}", "type": "openai"}, {"name": "b", "type": "x\ty"}]
    output.table(rows, [("name", "NAME"), ("type", "TYPE")])
    output.text(f"description: {HOSTILE}")
    out = capsys.readouterr().out
    assert not RAW.search(out), repr(out)
    header, first, second = out.splitlines()[:3]
    assert first.index("openai") == header.index("TYPE") == second.index("x\\x09y")
    assert "description: evil\\x1b]8;;" in out


def test_rich_tables_and_messages_on_a_terminal_are_escaped_and_markup_is_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.delenv("NO_COLOR")
    output.configure(no_color=False)
    assert output.console().is_terminal
    output.table([{"name": f"{HOSTILE} {MARKUP}"}], [("name", "NAME")])
    output.error(f"{HOSTILE} {MARKUP}")
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\\x1b]8;;https://evil.example/\\x07" in text
        assert "\\u202egnp.exe" in text
        assert "[red]not red[/red]" in text
        assert "[link=https://evil.example]not a link[/link]" in text
    # rich's own styling is the only escape sequence: SGR colour codes, nothing else
    for text in (out, err):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", re.sub("\x1b\\[[0-9;]*m", "", text)), repr(text)
        assert not re.search("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", text)


def _nested(value: str) -> Any:
    return {"name": value, value: [value, {"description": value}], "plain": "x"}


@pytest.mark.parametrize("ch", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_json_keeps_the_data_exactly_without_raw_controls(ch: str) -> None:
    data = _nested(f"a{ch}b")
    text = output.to_json(data)
    assert not RAW.search(text), repr(text)
    assert json.loads(text) == data


@pytest.mark.parametrize("ch", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_yaml_keeps_the_data_exactly_without_raw_controls(ch: str) -> None:
    data = _nested(f"a{ch}b")
    for text in (output.to_yaml(data), output.to_yaml([data], explicit_start=True)):
        assert not RAW.search(text), repr(text)
        loaded = yaml.safe_load(text)
        assert (loaded[0] if isinstance(loaded, list) else loaded) == data


def test_json_and_yaml_of_a_hostile_string_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    data = [{"name": HOSTILE, "description": f"{HOSTILE}\n{MARKUP}", "note": "café ✓"}]
    for fmt, load in (("json", json.loads), ("yaml", yaml.safe_load)):
        output.data(data, fmt)
        out = capsys.readouterr().out
        assert not RAW.search(out), repr(out)
        assert load(out) == data
    assert "café ✓" in output.to_yaml(data) and "café ✓" in output.to_json(data)


@pytest.mark.parametrize(("n", "shown"), [(0, "0 providers"), (1, "1 provider"), (2, "2 providers")])
def test_counts_take_the_noun_in_the_right_number(n: int, shown: str) -> None:
    assert output.counted(n, "provider") == shown
