"""Everything ``integ`` prints: tables, JSON/YAML, messages and progress.

Data goes to stdout; messages, warnings and progress go to stderr. Every string passes
through ``redact.scrub`` on its way out, so a secret value met anywhere in the process is
never printed, and then through ``escape_controls``, so the control characters a server or a
document puts in a name, a description or an error (escape sequences, bidi overrides) are
shown as ``\x1b`` or ``\u202e`` instead of acting on the terminal. JSON and YAML carry such
characters as their own escapes, so the data stays exact. Rich markup is never interpreted.
Colour only on a terminal, never with ``NO_COLOR`` or ``--no-color``.
The only module that imports rich.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import textwrap
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from conductor_integrations.secrets import redact

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "json", "yaml")
#: A table on a terminal longer than this is printed plain: a rich table holds every
#: cell, styled, until it is printed whole.
RICH_MAX_ROWS = 1000
#: Between two columns of a rich table; the narrowest a wrapping column is made.
COLUMN_GAP = 3
NARROWEST = 8
#: Long output is written about this many characters at a time.
BATCH_CHARS = 1 << 16


class Settings:
    """How this run writes: its format (``-o``), colour and debug lines."""

    __slots__ = ("debug", "format", "no_color")

    def __init__(self, format: str = "table", no_color: bool = False, debug: bool = False) -> None:
        self.format = format
        self.no_color = no_color
        self.debug = debug


settings = Settings()
_consoles: dict[bool, Console] = {}


def configure(format: str | None = None, no_color: bool | None = None, debug: bool | None = None) -> None:
    if format is not None:
        settings.format = format
    if no_color is not None:
        settings.no_color = no_color
    if debug is not None:
        settings.debug = debug
    _consoles.clear()


def reset() -> None:
    configure("table", False, False)


def color_allowed() -> bool:
    return not settings.no_color and not os.environ.get("NO_COLOR")


def is_terminal(stderr: bool = False) -> bool:
    """Whether stdout (or stderr) is a terminal, as its rich console says; when no console
    is built yet and the stream plainly is no terminal (not a TTY, and neither
    ``TTY_COMPATIBLE=1`` nor ``FORCE_COLOR`` says otherwise), without importing rich,
    which is a good part of the start-up of a command that prints a plain table."""
    if stderr not in _consoles and not (
        os.environ.get("TTY_COMPATIBLE") == "1" or "FORCE_COLOR" in os.environ
    ):
        isatty = getattr(sys.stderr if stderr else sys.stdout, "isatty", None)
        try:
            if isatty is None or not isatty():
                return False
        except ValueError:  # a closed stream
            return False
    return console(stderr).is_terminal


def console(stderr: bool = False) -> Console:
    """The rich console for stdout or stderr (built on first use)."""
    if stderr not in _consoles:
        from rich.console import Console

        stream = sys.stderr if stderr else sys.stdout
        _consoles[stderr] = Console(
            file=stream,
            no_color=not color_allowed(),
            highlight=False,
            soft_wrap=False,
            emoji=False,
            markup=False,
        )
    return _consoles[stderr]


#: What a terminal acts on instead of showing: the C0 controls but newline (tab included),
#: DEL, the C1 controls, the bidirectional controls that reorder a line (U+061C, U+200E/F,
#: U+202A-U+202E, U+2066-U+2069) and the Unicode line and paragraph separators.
_CONTROLS = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every control character (see ``_CONTROLS``) but those in ``keep``
    written as a visible escape: ``\\x1b``, ``\\u202e``. Newlines always stay."""
    if not _CONTROLS.search(text):
        return text
    if keep:
        return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else _shown(m), text)
    return _CONTROLS.sub(_shown, text)


def has_controls(text: str) -> bool:
    """True when ``text`` holds a newline or a character ``escape_controls`` escapes."""
    return "\n" in text or _CONTROLS.search(text) is not None


def _write(stream: Any, text: str, keep: str = "") -> None:
    stream.write(escape_controls(redact.scrub(text), keep))
    stream.flush()


# -- messages (stderr) ---------------------------------------------------------------


def _styled(prefix: str, style: str, text: str) -> None:
    if color_allowed() and is_terminal(stderr=True):
        from rich.text import Text

        line = Text()
        line.append(prefix, style=style)
        line.append(escape_controls(redact.scrub(text)))
        console(stderr=True).print(line)
    else:
        _write(sys.stderr, prefix + text + "\n")


def counted(n: int, noun: str) -> str:
    """``1 provider``, ``2 providers``: a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def info(text: str) -> None:
    """A message for the person at the terminal (stderr)."""
    _write(sys.stderr, text + "\n")


def success(text: str) -> None:
    _styled("", "green", text)


def warning(text: str) -> None:
    _styled("warning: ", "bold yellow", text)


def error(text: str, hints: Sequence[str] = (), details: Sequence[str] = ()) -> None:
    _styled("error: ", "bold red", text)
    for detail in details:
        _write(sys.stderr, f"  - {detail}\n")
    for hint in hints:
        _styled("  hint: ", "cyan", hint)


def debug(text: str) -> None:
    if settings.debug:
        _write(sys.stderr, f"debug: {text}\n")


# -- data (stdout) ---------------------------------------------------------------


def to_json(data: Any) -> str:
    """JSON with non-ASCII text as it is, but the control characters as ``\\uXXXX``
    (json escapes C0 itself; outside strings JSON text is ASCII)."""
    return _json_text(data) + "\n"


def _json_text(data: Any) -> str:
    text = redact.scrubbed_json(data)
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@functools.lru_cache(maxsize=1)
def _yaml_dumper() -> Any:
    """``yaml.SafeDumper``, but a string holding a control character is written double-quoted
    with escapes (``"\\e"``, ``"\\u202E"``): safe_dump with allow_unicode writes bidi controls
    and NEL raw (NEL even as a line break, which changes the value)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def analyze_scalar(self, scalar: str) -> Any:
            analysis = super().analyze_scalar(scalar)
            if _CONTROLS.search(scalar):
                analysis.allow_flow_plain = analysis.allow_block_plain = False
                analysis.allow_single_quoted = analysis.allow_block = False
            return analysis

        def write_double_quoted(self, text: str, split: bool = True) -> None:
            if not _CONTROLS.search(text):
                return super().write_double_quoted(text, split)
            unicode, self.allow_unicode = self.allow_unicode, False  # escape all but ASCII
            try:
                return super().write_double_quoted(text, split)
            finally:
                self.allow_unicode = unicode

    return Dumper


def to_yaml(data: Any, explicit_start: bool = False) -> str:
    import yaml

    text: str = yaml.dump(
        redact.scrub_data(data),
        Dumper=_yaml_dumper(),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        explicit_start=explicit_start,
        width=1000,
    )
    return text


def _json_items(items: Iterable[Any]) -> Iterator[str]:
    """A list as ``to_json`` prints it, one item at a time."""
    first = True
    for item in items:
        text = _json_text(item)
        yield ("[\n  " if first else ",\n  ") + text.replace("\n", "\n  ")
        first = False
    yield "[]\n" if first else "\n]\n"


def _yaml_items(items: Iterable[Any]) -> Iterator[str]:
    """A list as ``to_yaml`` prints it, one item at a time (the emitter would otherwise
    build a node for every value of the whole list before writing any)."""
    empty = True
    for item in items:
        empty = False
        yield to_yaml([item])
    if empty:
        yield "[]\n"


def _write_all(stream: Any, chunks: Iterable[str]) -> None:
    """Write ``chunks`` a batch at a time (whole chunks: a secret value is never split
    between two batches by integ)."""
    batch: list[str] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk)
        if size >= BATCH_CHARS:
            _write(stream, "".join(batch))
            batch, size = [], 0
    if batch:
        _write(stream, "".join(batch))


def data(obj: Any, fmt: str | None = None) -> None:
    """Print ``obj`` as JSON or YAML (``table`` falls back to YAML for non-tabular data).
    A list (or any other iterable of items, such as ``Mapped``) is written item by item."""
    fmt = fmt or settings.format
    if isinstance(obj, Iterable) and not isinstance(obj, (dict, str, bytes, set, frozenset)):
        _write_all(sys.stdout, _json_items(obj) if fmt == "json" else _yaml_items(obj))
        return
    _write(sys.stdout, to_json(obj) if fmt == "json" else to_yaml(obj))


class Mapped(Sequence[Any]):
    """``function`` applied to each of ``items`` as they are read, so that a long listing
    is not held twice (the server's objects and the records made of them)."""

    def __init__(self, items: Sequence[Any], function: Callable[[Any], Any]):
        self._items = items
        self._function = function

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return map(self._function, self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._function(item) for item in self._items[index]]
        return self._function(self._items[index])


def text(value: str, keep: str = "") -> None:
    """Print plain data text to stdout (control characters escaped, but those in ``keep``)."""
    _write(sys.stdout, value if value.endswith("\n") else value + "\n", keep)


def cell(value: Any, depth: int = 8) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        if depth <= 0:
            return "..."
        return ", ".join(cell(v, depth - 1) for v in value) or "-"
    if isinstance(value, dict) and redact.deeper_than(value, redact.MAX_DEPTH):
        return "{...}"  # its repr would recurse as deep as it goes
    return str(value)


def table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    title: str | None = None,
    *,
    whole: Collection[str] = (),
    styles: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Print rows as a table for people: ``columns`` are ``(key, header)`` pairs. On a
    terminal a rich table (up to ``RICH_MAX_ROWS``) that fits the width: the columns in
    ``whole`` (default: the first column, which names the row, and a ``type`` column) are
    never broken, the others wrap; when even the ``whole`` columns do not fit, the plain
    table is printed. ``styles`` maps a key to the style of
    each value (``{"action": {"created": "green"}}``), used where colour is allowed.
    Elsewhere plain aligned columns (no padding at line ends), which ``grep``, ``awk`` and
    ``cut`` handle well."""
    rows = rows if isinstance(rows, Sequence) else list(rows)
    whole = whole or [key for i, (key, _) in enumerate(columns) if i == 0 or key == "type"]
    con = console() if is_terminal() else None
    if con is None or not con.is_terminal or len(rows) > RICH_MAX_ROWS:
        _write_all(sys.stdout, _plain_lines(rows, columns))
        return
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    shown = [[escape_controls(redact.scrub(cell(row.get(key)))) for key, _ in columns] for row in rows]
    widths = [max((cell_len(r[i]) for r in shown), default=0) for i in range(len(columns))]
    widths = [max(w, cell_len(header)) for w, (_, header) in zip(widths, columns, strict=True)]
    least = sum(w if key in whole else min(w, NARROWEST) for w, (key, _) in zip(widths, columns, strict=True))
    if whole and least + COLUMN_GAP * (len(columns) - 1) > con.width:
        _write_all(sys.stdout, _plain_lines(rows, columns))  # a name is never cut
        return
    tbl = Table(box=box.SIMPLE_HEAD, title=title, show_edge=False, pad_edge=False)
    for (key, header), width in zip(columns, widths, strict=True):
        keep = key in whole
        tbl.add_column(header, overflow="fold", no_wrap=keep, min_width=width if keep else None)
    colour = color_allowed()
    for values in shown:
        cells = []
        for (key, _), value in zip(columns, values, strict=True):
            style = (styles or {}).get(key, {}).get(value, "") if colour else ""
            cells.append(Text(value, style=style))
        tbl.add_row(*cells)
    con.print(tbl)


def notes(items: Iterable[tuple[str, str]]) -> None:
    """``NAME: text`` lines below a table (errors of the providers in it), on stdout. On a
    terminal each is wrapped to the width, its further lines indented (a name too long
    for ``NAME: `` to fit goes alone on its line); elsewhere one line each."""
    items = list(items)
    if not items:
        return
    con = console()
    chunks = ["\n"]
    for name, note in items:
        name = _plain_cell(name)
        note = " ".join(_plain_cell(note).split())
        if not con.is_terminal:
            chunks.append(f"{name}: {note}\n")
            continue
        width = max(con.width, 20)
        lead = f"{name}:"
        if len(lead) + 1 > width:
            chunks.append(lead + "\n")
            lead = ""
        first = f"{lead} " if lead else "    "
        wrapper = _Wrapper(width, initial_indent=first, subsequent_indent="    ", break_on_hyphens=False)
        chunks.append("\n".join(wrapper.wrap(note)) + "\n")
    _write_all(sys.stdout, chunks)


class _Wrapper(textwrap.TextWrapper):
    """A word too long for any line (a URL) starts on a line of its own before it is
    broken, rather than being broken wherever the line it follows ends."""

    def _handle_long_word(self, chunks: list[str], line: list[str], length: int, width: int) -> None:
        if not line:
            super()._handle_long_word(chunks, line, length, width)


def marked(value: str, style: str) -> None:
    """A data line for stdout (``+ openai-prod ...`` in diff) in ``style`` where colour is
    allowed on a terminal; elsewhere as ``text`` prints it."""
    con = console()
    if not (style and con.is_terminal and color_allowed()):
        text(value)
        return
    from rich.text import Text

    con.print(Text(escape_controls(redact.scrub(value)), style=style), soft_wrap=True)


def plain_table(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    return "".join(_plain_lines(rows, columns))


def _plain_lines(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> Iterator[str]:
    """The lines of a plain table: the cells are kept (not the rows) to find the widths."""
    cells = [tuple(header for _, header in columns)]
    cells += [tuple(_plain_cell(row.get(key)) for key, _ in columns) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for r in cells:
        yield "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n"


def _plain_cell(value: Any) -> str:
    """One line, secrets masked and controls escaped before the widths are measured."""
    return escape_controls(redact.scrub(cell(value).replace("\n", " ")))


def records(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    machine: Any = None,
    empty: str = "",
) -> None:
    """Print rows in the selected format: a table, or ``machine`` (default: the rows)
    as JSON/YAML. Rows and records may be ``Mapped``: made as they are printed."""
    if settings.format == "table":
        if not len(rows) and empty:
            info(empty)
            return
        table(rows, columns)
    else:
        data(rows if machine is None else machine)


# -- progress (stderr, terminals only) --------------------------------------------------


@contextmanager
def progress(total: int, description: str) -> Iterator[Any]:
    """A progress bar on a terminal; elsewhere a no-op. Yields ``advance(n=1)``."""
    if total < 2 or not is_terminal(stderr=True):
        yield lambda n=1: None
        return
    con = console(stderr=True)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=con,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
