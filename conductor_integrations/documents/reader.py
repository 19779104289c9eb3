"""Reading provider documents: YAML (several documents per file) and JSON, from files,
folders or stdin, keeping the line of every key so that problems can point at it."""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from conductor_integrations.errors import InputError

KeyPath = tuple[str | int, ...]
DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")
#: The ``kind:`` of integ's own documents (optional in them); other kinds are skipped.
KIND = "Provider"
#: Most values one YAML document may expand to. Aliases can make a few lines stand for
#: billions of values ("billion laughs"); no provider document needs more than this.
MAX_VALUES = 200_000


class Document:
    """One parsed document and where it came from."""

    __slots__ = ("base_dir", "count", "data", "index", "lines", "prefix", "raw", "source")

    def __init__(
        self,
        data: Any,
        source: str,
        index: int = 1,
        count: int = 1,
        base_dir: Path | None = None,
        lines: dict[KeyPath, int] | None = None,
        raw: dict[KeyPath, str] | None = None,
        prefix: KeyPath = (),
    ) -> None:
        self.data = data
        self.source = source  # the path as the user gave it, or "<stdin>"
        self.index = index  # 1-based position in its file
        self.count = count  # how many documents the file held
        self.base_dir = Path.cwd() if base_dir is None else base_dir  # for ${file:...} references
        self.lines: dict[KeyPath, int] = {} if lines is None else lines
        #: source text of scalars YAML turned into numbers or dates (``5672``, ``2023-06-01``)
        self.raw: dict[KeyPath, str] = {} if raw is None else raw
        self.prefix = prefix  # where this provider sits inside ``data`` of the file (lists)

    def __repr__(self) -> str:
        return f"Document({self.label!r}, prefix={self.prefix!r})"  # not the data: it may hold secrets

    def part(self, data: Any, prefix: KeyPath) -> Document:
        """The part ``data`` of this document found at ``prefix``: same file, lines and marks."""
        return Document(
            data, self.source, self.index, self.count, self.base_dir, self.lines, self.raw, prefix
        )

    @property
    def label(self) -> str:
        """``file.yaml`` or ``file.yaml#2`` for the second document of a file."""
        return f"{self.source}#{self.index}" if self.count > 1 else self.source

    def raw_text(self, path: KeyPath) -> str | None:
        """The source text of a number or date scalar at ``path``, if it was one."""
        return self.raw.get(self.prefix + path)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of ``path`` (relative to this provider) or of its closest known parent."""
        full = self.prefix + path
        while True:
            if full in self.lines:
                return self.lines[full]
            if not full:
                return None
            full = full[:-1]

    def providers(self) -> Iterator[Document]:
        """The providers in this document: itself, or each item of a top-level list."""
        if isinstance(self.data, list):
            for i, item in enumerate(self.data):
                yield self.part(item, (i,))
        else:
            yield self

    def where(self, path: KeyPath = ()) -> str:
        line = self.line_of(path)
        return f"{self.label}:{line}" if line else self.label


def _loader_class() -> type:
    """libyaml's loader (``yaml.CSafeLoader``) where PyYAML was built with it, else the pure
    Python one: the same nodes with the same marks, several times faster."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR = "tag:yaml.org,2002:str"
#: Keys ``flatten_mapping`` rewrites (``<<`` merges and ``=`` values): the mapping is
#: flattened only when one of them is there.
_FLATTENED = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})


class _Marks:
    """Lines and raw scalar texts collected while building one document."""

    def __init__(self) -> None:
        self.lines: dict[KeyPath, int] = {}
        self.raw: dict[KeyPath, str] = {}
        self.values = 0


def _build(node: Any, loader: Any, path: KeyPath, marks: _Marks, source: str) -> Any:
    import yaml

    lines = marks.lines
    marks.values += 1
    if marks.values > MAX_VALUES:
        raise InputError(
            f"{source}:{node.start_mark.line + 1}: the document expands to more than {MAX_VALUES} values",
            hints=["YAML aliases (*name) repeat what their anchor holds: use fewer of them"],
        )
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        if any(k.tag in _FLATTENED for k, _ in node.value):
            loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # A plain text key (nearly all of them) is its node's value, as constructed.
            if key_node.tag == _STR and isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
            else:
                key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise InputError(
                    f"{source}:{key_node.start_mark.line + 1}: a mapping key must be a plain value"
                )
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise InputError(
                    f"{source}:{key_node.start_mark.line + 1}: duplicate key {key!r}",
                    hints=["each key may appear once in a mapping"],
                )
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, loader, child, marks, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader, (*path, i), marks, source) for i, item in enumerate(node.value)]
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    value = loader.construct_object(node, deep=True)
    if isinstance(value, bytes):
        raise InputError(
            f"{source}:{node.start_mark.line + 1}: a binary value (!!binary) cannot be used; give text"
        )
    if value is not None and not isinstance(value, (str, bool)):
        marks.raw[path] = node.value
    return value


def parse_yaml(text: str, source: str, base_dir: Path) -> list[Document]:
    """Every non-empty document of a YAML stream; syntax errors name the file and line."""
    import yaml

    loader = _loader_class()(text)
    docs: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            marks = _Marks()
            data = _build(node, loader, (), marks, source)
            if data is not None:
                docs.append(
                    Document(
                        data=data,
                        source=source,
                        base_dir=base_dir,
                        lines=marks.lines,
                        raw=marks.raw,
                    )
                )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        col = f" (column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(
            f"{where}: cannot parse YAML: {problem}{col}",
            hints=["check the indentation and quoting around that line"],
        ) from None
    except RecursionError:
        raise InputError(f"{source}: cannot parse YAML: nested too deeply") from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        position = getattr(exc, "position", None)
        at = f" (character {position + 1})" if isinstance(position, int) else ""
        raise InputError(f"{source}: cannot parse YAML: {first}{at}") from None
    finally:
        loader.dispose()
    for i, doc in enumerate(docs, 1):
        doc.index, doc.count = i, len(docs)
    return docs


def parse_json(text: str, source: str, base_dir: Path) -> list[Document]:
    """One JSON document, with the line of every key (as the YAML path keeps them) and the
    source text of every number; a key given twice in one object is an error, as in YAML."""
    try:
        data = json.loads(text, parse_int=_IntText, parse_float=_FloatText)
        marks = _JsonMarks(text, source)
        marks.walk(data, ())
        if isinstance(data, (_IntText, _FloatText)):
            data = marks.number(data, ())
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}:{exc.lineno}: cannot parse JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except RecursionError:
        raise InputError(f"{source}: cannot parse JSON: nested too deeply") from None
    except ValueError as exc:  # a number Python will not convert (thousands of digits)
        raise InputError(f"{source}: cannot parse JSON: {str(exc).splitlines()[0]}") from None
    if marks.taken != len(marks.key_lines):  # fewer keys kept than written: one was repeated
        marks.find_duplicate()
    return [Document(data=data, source=source, base_dir=base_dir, lines=marks.lines, raw=marks.raw)]


class _IntText(str):
    """An integer's source text (``json.loads`` hands it over; ``walk`` makes it an int)."""


class _FloatText(str):
    """A fraction's source text."""


@functools.cache
def _json_string() -> re.Pattern[str]:
    """A JSON string, and the colon after it when it is a key. In valid JSON a ``"``
    outside a string opens one, so successive matches are exactly the text's strings, in
    order. (Compiled when first needed: YAML documents never need it.)"""
    return re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?')


class _JsonMarks:
    """Lines of a decoded JSON text. Its keys come in text order, the order in which
    ``walk`` meets them in the decoded objects, so the n-th key met is the n-th of the text
    (unless a key is repeated in an object: then fewer are met, and that is an error)."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        offsets = [m.start() for m in _json_string().finditer(text) if m.group(1)]
        breaks = [m.start() for m in re.finditer("\n", text)]
        #: the line of each key of the text, in order
        self.key_lines = [n + 1 for n in map(bisect.bisect_left, itertools.repeat(breaks), offsets)]
        self.taken = 0
        start = len(text) - len(text.lstrip())
        self.lines: dict[KeyPath, int] = {(): bisect.bisect_left(breaks, start) + 1}
        self.raw: dict[KeyPath, str] = {}

    def walk(self, value: Any, path: KeyPath) -> None:
        """Note the line of every key under ``value``; numbers become ints and floats (in
        place), their source text kept in ``raw``."""
        if isinstance(value, dict):
            for key, item in value.items():
                child = (*path, key)
                self.lines[child] = self.key_lines[self.taken]
                self.taken += 1
                if isinstance(item, (dict, list)):
                    self.walk(item, child)
                elif isinstance(item, (_IntText, _FloatText)):
                    value[key] = self.number(item, child)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                child = (*path, i)
                if isinstance(item, dict) and item:
                    self.lines[child] = self.key_lines[self.taken]  # an object: its first key
                if isinstance(item, (dict, list)):
                    self.walk(item, child)
                elif isinstance(item, (_IntText, _FloatText)):
                    value[i] = self.number(item, child)

    def number(self, text: str, path: KeyPath) -> int | float:
        self.raw[path] = str(text)
        return int(text) if isinstance(text, _IntText) else float(text)

    def find_duplicate(self) -> None:
        """Raise ``InputError`` at the first key repeated in an object (decoded again, as
        lists of pairs, to meet every key written)."""
        taken = 0

        def first_repeat(value: Any) -> None:
            nonlocal taken
            if isinstance(value, _Pairs):
                seen: set[str] = set()
                for key, item in value:
                    line = self.key_lines[taken]
                    taken += 1
                    if key in seen:
                        raise InputError(
                            f"{self.source}:{line}: duplicate key {key!r}",
                            hints=["each key may appear once in a mapping"],
                        )
                    seen.add(key)
                    first_repeat(item)
            elif isinstance(value, list):
                for item in value:
                    first_repeat(item)

        first_repeat(json.loads(self.text, object_pairs_hook=_Pairs))


class _Pairs(list):  # type: ignore[type-arg]
    """An object's ``(key, value)`` pairs as written, repeated keys included."""


def read_text(path: str) -> tuple[str, Path]:
    """The text behind ``path`` (``-`` is stdin) and the folder references resolve from."""
    if path == "-":
        if sys.stdin is None:
            raise InputError("`-` given but there is no standard input")
        return sys.stdin.read(), Path.cwd()
    p = Path(path)
    try:
        return p.read_text("utf-8"), p.resolve().parent
    except (OSError, UnicodeDecodeError) as exc:
        raise file_error(path, exc) from None


def file_error(path: str | Path, exc: OSError | UnicodeDecodeError) -> InputError:
    """Why the file at ``path`` could not be read, naming the path, never the content (for
    documents and for the files references name)."""
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"{path}: not UTF-8 text")
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path}: is a folder, not a file")
    return InputError(f"{path}: cannot read: {exc.strerror}")


def load(path: str) -> list[Document]:
    """Parse one file (or ``-``): ``.json`` as JSON, anything else as YAML (JSON is YAML)."""
    text, base_dir = read_text(path)
    source = "<stdin>" if path == "-" else path
    if path.lower().endswith(".json"):
        return parse_json(text, source, base_dir)
    return parse_yaml(text, source, base_dir)


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files as given, folders as their ``*.yaml``, ``*.yml`` and ``*.json`` (recursively,
    sorted; hidden files and folders such as ``.github/`` are skipped), ``-`` as stdin (once)."""
    out: list[str] = []
    for path in paths:
        p = Path(path)
        if path != "-" and p.is_dir():
            found = sorted(
                str(f)
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix.lower() in DOCUMENT_SUFFIXES
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not found:
                raise InputError(f"{path}: no .yaml, .yml or .json files in this folder")
            out.extend(found)
        else:
            out.append(path)
    if out.count("-") > 1:
        raise InputError("`-` (standard input) may be given once")
    return out


def foreign_kind(doc: Document) -> str | None:
    """The ``kind:`` of a document that is not integ's (a Kubernetes manifest, a CI file
    in the same folder), None for a provider document (``kind: Provider`` or none)."""
    if not isinstance(doc.data, dict) or "kind" not in doc.data:
        return None
    kind = doc.data["kind"]
    return None if kind == KIND else str(kind)


def load_all(paths: Iterable[str], note: Callable[[str], None] | None = None) -> list[Document]:
    """Every provider document under ``paths``, top-level lists expanded; a document of
    another ``kind:`` is skipped, said through ``note`` (the command prints it; None: not
    said)."""
    docs: list[Document] = []
    for path in expand_paths(paths):
        for doc in load(path):
            for one in doc.providers():
                kind = foreign_kind(one)
                if kind is None:
                    docs.append(one)
                elif note is not None:
                    note(f"{one.where()}: skipped: kind {kind!r} is not integ's ({KIND})")
    return docs
