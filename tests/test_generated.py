"""The checked-in completions/ and man/ are what scripts/gen_docs.py makes of the current
command tree. When this fails, run `make docs` and commit the result."""

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def load_gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen_docs() -> ModuleType:
    return load_gen_docs()


def test_checked_in_files_are_up_to_date(gen_docs: ModuleType) -> None:
    write, remove = gen_docs.stale(REPO)
    names = sorted(str(p.relative_to(REPO)) for p in [*write, *remove])
    assert not names, f"stale generated files (run `make docs` and commit): {names}"


def test_every_generated_file_is_named(gen_docs: ModuleType) -> None:
    files = {p.relative_to(REPO).as_posix() for p in gen_docs.expected(REPO)}
    assert {"completions/integ.bash", "completions/_integ", "completions/integ.fish"} <= files
    assert {
        "man/integ.1",
        "man/integ-provider.1",
        "man/integ-provider-put.1",
        "man/integ-types-list.1",
    } <= files


def test_check_mode_reports_a_stale_copy(gen_docs: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "man").mkdir()
    (tmp_path / "man" / "integ-gone.1").write_text(".TH GONE 1\n")
    write, remove = gen_docs.stale(tmp_path)
    assert tmp_path / "completions" / "integ.bash" in write
    assert tmp_path / "man" / "integ.1" in write
    assert remove == [tmp_path / "man" / "integ-gone.1"]


def test_generated_files_hold_no_machine_paths(gen_docs: ModuleType) -> None:
    for path, text in gen_docs.expected(REPO).items():
        assert not re.search(r"/(tmp|work|home|root|Users)/", text), path
        assert str(Path.home()) not in text, path
