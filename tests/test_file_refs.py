"""``${file:...}`` and ``-c KEY=@PATH`` cannot be turned against the machine: only regular
files, at most 1 MiB, and in documents only inside the document's folder tree (unless
``--allow-outside-files`` or ``INTEG_ALLOW_OUTSIDE_FILES=1``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.documents.references import MAX_FILE_BYTES, LocalResolver
from conductor_integrations.errors import InputError
from tests.e2e.conftest import run_integ

MARKER = "outside-marker-7d1c"
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")


def provider_doc(folder: Path, description: str, name: str = "p.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = folder / name
    doc.write_text(
        f"name: p\ntype: openai\ndescription: '{description}'\nconfiguration:\n  api_key: sk-1\n", "utf-8"
    )
    return doc


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text(f"root:x:0:0:{MARKER}\n", "utf-8")
    return secret


# -- regular files only, never blocking ---------------------------------------------------------


@posix_only
def test_dev_zero_in_a_document_is_refused(integ: Any, tmp_path: Path) -> None:
    doc = provider_doc(tmp_path / "docs", "${file:/dev/zero}")
    r = integ("validate", str(doc), "--allow-outside-files")
    assert r.exit_code == 3, r.output
    assert "${file:/dev/zero}" in r.stderr
    assert "not a regular file" in r.stderr


@posix_only
def test_dev_zero_on_the_command_line_is_refused(integ: Any) -> None:
    r = integ("provider", "put", "p", "-t", "openai", "-c", "api_key=@/dev/zero", "--dry-run")
    assert r.exit_code == 3, r.output
    assert "not a regular file" in r.stderr
    r = integ("provider", "put", "p", "-t", "openai", "-c", "api_key=${file:/dev/zero}", "--dry-run")
    assert r.exit_code == 3, r.output
    assert "not a regular file" in r.stderr


@posix_only
def test_a_fifo_never_blocks(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    doc = provider_doc(folder, "${file:pipe}")
    os.mkfifo(folder / "pipe")
    # a real process: if it blocked on the FIFO, the deadline would fail the test
    r = run_integ("validate", str(doc))
    assert r.code == 3, r.stderr
    assert "${file:pipe}" in r.stderr
    assert "not a regular file" in r.stderr


def test_a_folder_is_refused(integ: Any, tmp_path: Path) -> None:
    doc = provider_doc(tmp_path / "docs", "${file:sub}")
    (tmp_path / "docs" / "sub").mkdir()
    r = integ("validate", str(doc))
    assert r.exit_code == 3, r.output
    assert "folder" in r.stderr


# -- size -------------------------------------------------------------------------------------


def test_a_file_over_1_mib_is_refused_naming_the_reference_and_the_limit(integ: Any, tmp_path: Path) -> None:
    doc = provider_doc(tmp_path / "docs", "${file:big.txt}")
    (tmp_path / "docs" / "big.txt").write_text("y" * (MAX_FILE_BYTES + 1), "utf-8")
    r = integ("validate", str(doc))
    assert r.exit_code == 3, r.output
    assert "${file:big.txt}" in r.stderr
    assert "1 MiB" in r.stderr
    assert "yyyy" not in r.output


def test_a_file_of_exactly_1_mib_is_read(integ: Any, tmp_path: Path) -> None:
    doc = provider_doc(tmp_path / "docs", "${file:big.txt}")
    (tmp_path / "docs" / "big.txt").write_text("y" * MAX_FILE_BYTES, "utf-8")
    r = integ("validate", str(doc))
    assert r.exit_code == 0, r.output


def test_a_big_file_on_the_command_line_is_refused(integ: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("y" * (MAX_FILE_BYTES + 1), "utf-8")
    r = integ("provider", "put", "p", "-t", "openai", "-c", f"api_key=@{big}", "--dry-run")
    assert r.exit_code == 3, r.output
    assert "1 MiB" in r.stderr


# -- confinement to the document's folder tree ---------------------------------------------------


def test_a_reference_leaving_the_folder_is_refused(integ: Any, tmp_path: Path, outside: Path) -> None:
    doc = provider_doc(tmp_path / "docs" / "team", "${file:../../outside/passwd}")
    r = integ("validate", str(doc))
    assert r.exit_code == 3, r.output
    assert "outside" in r.stderr and "--allow-outside-files" in r.stderr
    assert MARKER not in r.output
    r = integ("provider", "put", "-f", str(doc), "--dry-run")
    assert r.exit_code == 3, r.output
    assert MARKER not in r.output


def test_an_absolute_path_outside_is_refused(integ: Any, tmp_path: Path, outside: Path) -> None:
    doc = provider_doc(tmp_path / "docs", f"${{file:{outside}}}")
    r = integ("validate", str(doc))
    assert r.exit_code == 3, r.output
    assert MARKER not in r.output


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_symlink_inside_pointing_outside_is_refused(integ: Any, tmp_path: Path, outside: Path) -> None:
    folder = tmp_path / "docs"
    doc = provider_doc(folder, "${file:link}")
    (folder / "link").symlink_to(outside)
    r = integ("validate", str(doc))
    assert r.exit_code == 3, r.output
    assert MARKER not in r.output


def test_files_inside_the_tree_are_read(integ: Any, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    doc = provider_doc(folder, "${file:texts/d.txt}")
    (folder / "texts").mkdir()
    (folder / "texts" / "d.txt").write_text("inside-text\n", "utf-8")
    r = integ("provider", "put", "-f", str(doc), "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.output
    assert r.json()["body"]["description"] == "inside-text"


def test_the_flag_and_the_variable_allow_outside(
    integ: Any, tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = provider_doc(tmp_path / "docs", "${file:../outside/passwd}")
    for args in (["validate", str(doc)], ["provider", "put", "-f", str(doc), "--dry-run"]):
        assert integ(*args, "--allow-outside-files").exit_code == 0
    apply_args = ["provider", "apply", "-f", str(doc), "--dry-run", "--allow-outside-files"]
    assert integ(*apply_args).exit_code == 0
    monkeypatch.setenv("INTEG_ALLOW_OUTSIDE_FILES", "1")
    assert integ("validate", str(doc)).exit_code == 0


def test_diff_takes_the_flag(integ: Any) -> None:
    r = integ("provider", "diff", "--help")
    assert "--allow-outside-files" in r.stdout


def test_the_command_line_is_not_confined(integ: Any, tmp_path: Path, outside: Path) -> None:
    for config in (f"endpoint=@{outside}", f"endpoint=${{file:{outside}}}"):
        args = ["-t", "openai", "-c", "api_key=k", "-c", config, "--dry-run", "-o", "json"]
        r = integ("provider", "put", "p", *args)
        assert r.exit_code == 0, r.output
        assert MARKER in r.json()["body"]["configuration"]["endpoint"]


def test_a_document_on_stdin_is_confined_to_the_current_folder(
    integ: Any, tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / "texts").mkdir(parents=True)
    (work / "texts" / "d.txt").write_text("from-cwd\n", "utf-8")
    monkeypatch.chdir(work)
    inside = "name: p\ntype: openai\ndescription: ${file:texts/d.txt}\nconfiguration: {api_key: k}\n"
    r = integ("provider", "put", "-f", "-", "--dry-run", "-o", "json", input=inside)
    assert r.exit_code == 0, r.output
    assert r.json()["body"]["description"] == "from-cwd"
    leaving = inside.replace("texts/d.txt", "../outside/passwd")
    r = integ("validate", "-", input=leaving)
    assert r.exit_code == 3, r.output
    assert MARKER not in r.output


# -- the resolver itself -------------------------------------------------------------------------


def test_resolver_checks_after_opening(tmp_path: Path) -> None:
    regular = tmp_path / "f.txt"
    regular.write_text("text\n", "utf-8")
    resolver = LocalResolver(interactive=False)
    assert resolver.read_file(regular, within=tmp_path) == "text\n"
    with pytest.raises(InputError, match="outside"):
        resolver.read_file(regular, within=tmp_path / "elsewhere")
    assert (
        LocalResolver(interactive=False, allow_outside_files=True).read_file(
            regular, within=tmp_path / "elsewhere"
        )
        == "text\n"
    )


@posix_only
def test_a_pipe_typed_on_the_command_line_is_read_up_to_the_limit() -> None:
    args = ["provider", "put", "p", "-t", "openai", "-c", "api_key=@/dev/stdin", "--dry-run", "-o", "json"]
    r = run_integ(*args, input="sk-piped-1\n")
    assert r.code == 0, r.stderr
    assert "sk-piped-1" not in r.stdout + r.stderr  # a secret key: masked
    r = run_integ(*args, input="y" * (MAX_FILE_BYTES + 1))
    assert r.code == 3, r.stderr
    assert "1 MiB" in r.stderr
