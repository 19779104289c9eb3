"""Fuzzed input: random YAML/JSON documents (well-formed or not) and random flag combinations
through ``validate``, ``provider put --dry-run`` and ``provider apply --dry-run``, in-process.

Whatever comes in, integ never shows a traceback or an "unexpected internal error", always
exits with a code of the contract (0 valid, 2 usage, 3 invalid input) and, when it fails,
says why on stderr in a line starting with ``error:``.

Bounded and deterministic: few examples, no deadline, derandomized, no example database.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conductor_integrations.types import builtin

#: ``INTEG_FUZZ_EXAMPLES=2000`` searches harder (random, not derandomized) on a developer's
#: machine; the normal run is small and the same every time.
_SEARCH = int(os.environ.get("INTEG_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_SEARCH or 60,
    deadline=None,
    derandomize=not _SEARCH,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
CONTRACT_CODES = {0, 2, 3}

TYPES = sorted(builtin.table().names())
KEYS = sorted({k for t in TYPES for k in builtin.table().get(t).all_keys})  # type: ignore[union-attr]
CATEGORIES = sorted({builtin.table().get(t).category for t in TYPES})  # type: ignore[union-attr]
REFERENCES = [
    "${env:FUZZ_SET}",
    "${env:FUZZ_UNSET}",
    "${env:}",
    "${file:key.txt}",
    "${file:missing.txt}",
    "${file:binary.dat}",
    "${file:.}",
    "${file:}",
    "${keyring}",
    "${keyring:other/api_key}",
    "${keyring:no-slash}",
    "${keyring:/}",
    "$${env:LITERAL}",
    "${unknown:x}",
    "${env:FUZZ_SET",
    "pre-${env:FUZZ_SET}-post",
]

#: Aliases that expand to 8**10 values ("billion laughs").
LAUGHS = "l0: &l0 [x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 8)}]\n" for i in range(1, 11)
)
text = st.text(max_size=16)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from(REFERENCES),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
configuration = st.dictionaries(st.sampled_from(KEYS) | text, scalars | values, max_size=6)
model = st.fixed_dictionaries(
    {}, optional={"name": text | values, "description": values, "enabled": values, "configuration": values}
)
provider = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["p1", "p2", "p1"]) | text | values,
        "type": st.sampled_from(TYPES) | text | values,
        "category": st.sampled_from(CATEGORIES) | text | values,
        "description": text | values,
        "enabled": st.booleans() | values,
        "configuration": configuration | values,
        "models": st.lists(model, max_size=2) | values,
        "tags": st.dictionaries(text, scalars, max_size=3) | values,
        "extra": values,
    },
)
document = st.one_of(provider, provider, st.lists(provider, max_size=3), values)

#: Files as they reach integ: YAML streams, JSON, or text that is neither.
files = st.one_of(
    st.tuples(st.just("yaml"), st.lists(document, max_size=3)),
    st.tuples(st.just("json"), document),
    st.tuples(st.just("text"), st.text(max_size=200)),
    st.tuples(st.just("bytes"), st.binary(max_size=100)),
    st.tuples(st.just("yaml-text"), st.sampled_from(
        [
            "name: [unclosed\n",
            "a: &a [x]\nb: *a\nc: *nope\n",
            "--- !!python/object:os.system {}\n",
            "name: p1\ntype: openai\n  bad: indent\n",
            "name: p1\nname: p2\n",
            "? [a, b]\n: c\n",
            "\t- tab\n",
            "%YAML 9.9\n---\n{}\n",
            "name: p1\ntype: openai\nconfiguration:\n  api_key: !!binary aGVsbG8=\n",
            "a: " + "[" * 200 + "]" * 200 + "\n",
            LAUGHS,
        ]
    )),
)  # fmt: skip

outputs = st.sampled_from([[], ["-o", "json"], ["-o", "yaml"], ["-o", "table"], ["-o", "xml"], ["--debug"]])
common_flags = st.lists(
    st.sampled_from(
        [["--strict"], ["--no-color"], ["--no-validate"], ["--bogus-flag"], ["--server", "local"]]
    ),
    max_size=3,
).map(lambda groups: [f for g in groups for f in g])
config_flags = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(KEYS) | text, text | st.sampled_from(REFERENCES)).map(
            lambda kv: f"{kv[0]}={kv[1]}"
        ),
        st.sampled_from(
            [
                "api_key=@key.txt",
                "api_key=@missing.txt",
                "api_key=@",
                "noequals",
                "=value",
                "file=@binary.dat",
            ]
        ),
    ),
    max_size=3,
).map(lambda cs: [x for c in cs for x in ("-c", c)])
put_flags = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["-t", "--type"]), st.sampled_from(TYPES) | text),
        st.tuples(st.just("--category"), st.sampled_from(CATEGORIES) | text),
        st.tuples(st.just("-d"), text),
        st.tuples(st.sampled_from(["--enabled", "--disabled"])),
    ),
    max_size=3,
).map(lambda groups: [f for g in groups for f in g])
apply_flags = st.lists(
    st.one_of(
        st.tuples(st.just("--concurrency"), st.sampled_from(["0", "1", "8", "65", "-3", "x"])),
        st.tuples(st.just("--fail-fast")),
    ),
    max_size=2,
).map(lambda groups: [f for g in groups for f in g])
#: A NAME as typed: ordinary, empty, odd characters, or looking like an option.
names = st.sampled_from(["p1", "", "-p", "a/b", "name with spaces", "ünï", "a\nb", "%2F", ".."]) | text


class Box:
    """One example's folder, with the files references point at."""

    def __init__(self, base: Path, n: int):
        self.dir = base / f"ex{n}"
        self.dir.mkdir()
        (self.dir / "key.txt").write_text("sk-fuzz-key-0001\n")
        (self.dir / "binary.dat").write_bytes(b"\xff\xfe\x00bad")

    def write(self, kind: str, content: Any) -> Path:
        if kind == "yaml":
            path = self.dir / "doc.yaml"
            path.write_text(yaml.safe_dump_all(content, allow_unicode=True), "utf-8")
        elif kind == "json":
            path = self.dir / "doc.json"
            path.write_text(json.dumps(content, allow_nan=True), "utf-8")
        elif kind == "bytes":
            path = self.dir / "doc.yaml"
            path.write_bytes(content)
        else:
            path = self.dir / "doc.yaml"
            path.write_text(content, "utf-8", errors="surrogatepass")
        return path


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Box]]:
    monkeypatch.setenv("FUZZ_SET", "value-from-env")
    monkeypatch.delenv("FUZZ_UNSET", raising=False)
    count = iter(range(100_000))

    def make() -> Box:
        b = Box(tmp_path, next(count))
        monkeypatch.chdir(b.dir)
        return b

    yield make


def check(r: Any, args: list[str]) -> None:
    """The property: a contract exit code, no traceback, and a reason when it failed."""
    shown = f"integ {' '.join(args)}\nexit {r.exit_code}\n--- stderr\n{r.stderr}"
    if "--debug" not in args:  # --debug shows the traceback of an error on purpose
        assert "Traceback" not in r.stderr, shown
    assert "unexpected internal error" not in r.stderr, shown
    assert r.exit_code in CONTRACT_CODES, shown
    if r.exit_code:
        assert any(line.startswith("error: ") for line in r.stderr.splitlines()), shown


@FUZZ
@given(file=files, out=outputs, flags=common_flags)
def test_validate_never_crashes(
    integ: Any, box: Callable[[], Box], file: Any, out: list[str], flags: list[str]
) -> None:
    path = box().write(*file)
    args = ["validate", str(path), *flags, *out]
    check(integ(*args), args)


@FUZZ
@given(
    file=st.none() | files,
    name=st.none() | names,
    out=outputs,
    flags=common_flags,
    put=put_flags,
    config=config_flags,
)
def test_put_dry_run_never_crashes(
    integ: Any,
    box: Callable[[], Box],
    file: Any,
    name: str | None,
    out: list[str],
    flags: list[str],
    put: list[str],
    config: list[str],
) -> None:
    b = box()
    args = ["provider", "put", *([name] if name is not None else []), "--dry-run"]
    if file is not None:
        args += ["-f", str(b.write(*file))]
    args += [*put, *config, *flags, *out]
    check(integ(*args), args)


@FUZZ
@given(
    files_=st.lists(files, min_size=1, max_size=3),
    stdin=st.none() | files,
    out=outputs,
    flags=common_flags,
    extra=apply_flags,
)
def test_apply_dry_run_never_crashes(
    integ: Any,
    box: Callable[[], Box],
    files_: list[Any],
    stdin: Any,
    out: list[str],
    flags: list[str],
    extra: list[str],
) -> None:
    b = box()
    args = ["provider", "apply", "--dry-run"]
    for i, (kind, content) in enumerate(files_):
        folder = b.dir / f"part{i}"
        folder.mkdir()
        path = b.write(kind, content)
        target = folder / path.name
        path.rename(target)
        args += ["-f", str(target if i else folder)]  # a folder once, files otherwise
    text_in = None
    if stdin is not None and stdin[0] in ("yaml", "text", "yaml-text"):
        text_in = b.write(*stdin).read_text("utf-8", errors="replace")
        args += ["-f", "-"]
    args += [*extra, *flags, *out]
    check(integ(*args, input=text_in), args)


def test_the_property_itself_can_fail() -> None:
    """``check`` refuses a traceback, a code outside the contract, and a silent failure."""
    from tests.conftest import Result

    for bad in (
        Result(70, "", "error: unexpected internal error: KeyError\n"),
        Result(3, "", "Traceback (most recent call last):\n"),
        Result(7, "", "error: x\n"),
        Result(3, "", "warning: only a warning\n"),
        Result(70, "", "error: unexpected internal error: KeyError\nTraceback\n"),
    ):
        with pytest.raises(AssertionError):
            check(bad, ["x", "--debug"] if "KeyError\nTraceback" in bad.stderr else ["x"])
    check(Result(3, "", "error: fine\n"), ["x"])
    check(Result(3, "", "error: fine\nTraceback (most recent call last):\n"), ["x", "--debug"])
    assert math.isnan(float("nan"))


# -- what the search found, kept as plain cases -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "cannot parse JSON: nested too deeply"),
        ("deep.yaml", "a: " + "[" * 900 + "]" * 900 + "\n", "cannot parse YAML: nested too deeply"),
        ("laughs.yaml", LAUGHS, "the document expands to more than 200000 values"),
        (
            "binary.yaml",
            "name: p\ntype: openai\nenabled: !!binary aGVsbG8=\n",
            "a binary value (!!binary) cannot be used",
        ),
        ("control.yaml", "\x1f", "cannot parse YAML: unacceptable character #x001f"),
    ],
)
def test_inputs_that_crashed_or_hung_integ(
    integ: Any, tmp_path: Path, name: str, content: str, message: str
) -> None:
    """A traceback (RecursionError), a command that never ended (aliases expanding to 8**10
    values), a binary value sent as "b'...'", a YAML error spread over two lines."""
    path = tmp_path / name
    path.write_text(content)
    for args in (["validate", str(path)], ["provider", "apply", "--dry-run", "-f", str(path)]):
        r = integ(*args)
        check(r, args)
        assert r.exit_code == 3
        assert message in r.stderr.splitlines()[0]
