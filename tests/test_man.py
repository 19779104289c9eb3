"""Man pages: rendered from the command tree, valid roff, documenting every option, the
environment, files and exit codes."""

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Any, Optional

import pytest
import typer
from typer.main import get_command

from conductor_integrations import __version__, config
from conductor_integrations.cli import app
from conductor_integrations.errors import ExitCode
from docgen import man_text, manpage

ENVIRONMENT = [
    "CONDUCTOR_SERVER_URL",
    "CONDUCTOR_AUTH_TOKEN",
    "CONDUCTOR_AUTH_KEY",
    "CONDUCTOR_AUTH_SECRET",
    "INTEG_PROFILE",
    "INTEG_OUTPUT",
    "INTEG_TIMEOUT",
    "INTEG_RETRIES",
    "INTEG_DEBUG",
    "INTEG_CONFIG_DIR",
    "INTEG_DATA_DIR",
    "INTEG_NO_KEYRING",
    "CI",
    "NO_COLOR",
    "REQUESTS_CA_BUNDLE",
    "PYTHON_KEYRING_BACKEND",
]


@pytest.fixture(scope="module")
def root() -> Any:
    return get_command(app)


@pytest.fixture(scope="module")
def pages(root: Any) -> dict[str, str]:
    return manpage.pages(root)


def section(page: str, title: str) -> str:
    match = re.search(rf"^\.SH {re.escape(title)}\n(.*?)(?=^\.SH |\Z)", page, re.S | re.M)
    assert match, f"no {title} section"
    return match.group(1)


def test_one_page_for_integ_each_group_and_each_command(root: Any, pages: dict[str, str]) -> None:
    expected = {"integ.1"}

    def visit(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            if sub.hidden:
                continue
            expected.add("-".join([*path, name]) + ".1")
            visit(sub, [*path, name])

    visit(root, ["integ"])
    assert set(pages) == expected
    assert {"integ-types.1", "integ-types-list.1", "integ-completion.1"} <= set(pages)
    assert not any("__complete" in name for name in pages)


def test_every_page_has_the_sections(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        assert page.startswith(f'.TH "{manpage.esc(name[:-2].upper())}" "1" "" "integ {__version__}"'), name
        for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "FILES", "EXIT STATUS"):
            section(page, title)
        assert "SEE ALSO" in page, name


def test_every_option_of_every_command_is_documented(root: Any, pages: dict[str, str]) -> None:
    for node in manpage.walk(root):
        options = section(pages[f"{node.page}.1"], "OPTIONS")
        for param in node.command.get_params(node.ctx):
            if param.param_type_name != "option" or param.hidden:
                continue
            for flag in [*param.opts, *param.secondary_opts]:
                assert f"\\fB{manpage.esc(flag)}\\fR" in options, (node.name, flag)
            if param.help:
                words = manpage.esc(param.help.split()[0])
                assert words in options, (node.name, param.name)


def test_environment_files_and_exit_status_on_each_page(pages: dict[str, str]) -> None:
    for page in pages.values():
        env = section(page, "ENVIRONMENT")
        for name in ENVIRONMENT:
            assert f"\\fB{manpage.esc(name)}\\fR" in env, name
        files = section(page, "FILES")
        assert "config.yaml" in files and "XDG_CONFIG_HOME/conductor\\-integrations" in files
        assert "XDG_DATA_HOME/conductor\\-integrations" in files
        status = section(page, "EXIT STATUS")
        for code in ExitCode:
            assert f".TP\n\\fB{int(code)}\\fR\n" in status


def test_every_setting_with_an_environment_variable_is_documented() -> None:
    documented = {name for names, _ in man_text.ENVIRONMENT for name in names.split(", ")}
    assert {s.env for s in config.SPECS if s.env} <= documented
    assert set(ENVIRONMENT) <= documented


def test_every_command_has_examples_and_they_use_real_options(root: Any) -> None:
    nodes = {node.key: node for node in manpage.walk(root)}
    for node in nodes.values():
        if not node.children:
            assert man_text.EXAMPLES.get(node.key), f"no examples for `{node.name}`"
    for examples in man_text.EXAMPLES.values():
        for _, commands in examples:
            for line in commands.split("\n"):
                if line.startswith("integ "):
                    _check_example(nodes, line)


def _check_example(nodes: dict[str, manpage.Node], line: str) -> None:
    """The command of an example exists (when it has been built) and knows its options."""
    words = shlex.split(line.split(" | ")[0].split(" < ")[0].split(" > ")[0])[1:]
    path: list[str] = []
    while words and " ".join([*path, words[0]]) in nodes:
        path.append(words.pop(0))
    node = nodes[" ".join(path)]
    if node.children:
        return  # a command not built yet: nothing to check
    known = {f for p in node.command.get_params(node.ctx) for f in [*p.opts, *p.secondary_opts]}
    for word in words:
        if word.startswith("-") and word != "-":
            assert word.split("=")[0] in known, f"`{line}`: {word} is not an option of `{node.name}`"


def test_provider_put_page(pages: dict[str, str]) -> None:
    page = pages["integ-provider-put.1"]
    assert "integ\\-provider\\-put \\- " in section(page, "NAME")
    assert "\\fBinteg provider put\\fR [\\fIOPTIONS\\fR]" in section(page, "SYNOPSIS")
    options = section(page, "OPTIONS")
    assert "\\fB\\-t\\fR, \\fB\\-\\-type\\fR \\fITYPE\\fR" in options
    assert "\\fB\\-c\\fR, \\fB\\-\\-config\\fR \\fIKEY=VALUE\\fR" in options
    assert ".SS Connection" in options and "\\fB\\-\\-server\\fR \\fIURL\\fR" in options
    assert "integ provider put openai\\-prod \\-t openai" in section(page, "EXAMPLES")
    assert "\\fBinteg\\-types\\-show\\fR(1)" in section(page, "SEE ALSO")


def test_integ_page_lists_every_command(root: Any, pages: dict[str, str]) -> None:
    commands = section(pages["integ.1"], "COMMANDS")
    for node in manpage.walk(root):
        if node.parent is not None and not node.children:
            assert f"\\fB{manpage.esc(node.name)}\\fR" in commands
            assert f"See \\fB{manpage.esc(node.page)}\\fR(1)." in commands
    assert "integ \\- manage integration providers" in section(pages["integ.1"], "NAME")


def test_pages_are_deterministic(root: Any, pages: dict[str, str]) -> None:
    assert manpage.pages(get_command(app)) == pages
    for page in pages.values():
        assert not re.search(r"\b(19|20)\d\d\-\d\d\-\d\d\b", page)
        assert "/tmp" not in page and "/home/" not in page and "/root" not in page


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_is_silent_on_every_page(tmp_path: Path, pages: dict[str, str]) -> None:
    for name, text in pages.items():
        path = tmp_path / name
        path.write_text(text)
        result = subprocess.run(["groff", "-man", "-ww", "-z", str(path)], capture_output=True, text=True)
        assert (result.returncode, result.stderr) == (0, ""), name


# -- the renderer on a small tree --------------------------------------------------------

tiny = typer.Typer(help="A tiny tool.\n\n  tiny go --fast\n\nMore text.")
group = typer.Typer(help="Things.")
tiny.add_typer(group, name="thing")


@group.command("do")
def _do(
    names: Annotated[list[str], typer.Argument(metavar="NAME...", help="Names.")],
    mode: Annotated[Optional[str], typer.Option("--mode", "-m", help=".hidden leading dot")] = None,
    level: Annotated[int, typer.Option("--level", help="How much.", rich_help_panel="Tuning")] = 3,
    on: Annotated[bool, typer.Option("--on/--off", help="Switch.")] = True,
) -> None:
    """Do the thing with `care`.

    Back\\slash and it's quoted.
    """


def test_renderer_on_a_small_tree() -> None:
    found = manpage.pages(get_command(tiny), version="9.9")
    assert set(found) == {"integ.1", "integ-thing.1", "integ-thing-do.1"}
    page = found["integ-thing-do.1"]
    assert '.TH "INTEG\\-THING\\-DO" "1" "" "integ 9.9"' in page
    assert "\\fBinteg thing do\\fR [\\fIOPTIONS\\fR] \\fINAME...\\fR" in page
    assert "Do the thing with \\fBcare\\fR." in page
    assert "Back\\eslash and it\\(aqs quoted." in page
    assert "\\fB\\-m\\fR, \\fB\\-\\-mode\\fR \\fIMODE\\fR\n\\&.hidden leading dot" in page
    assert ".SS Tuning\n.TP\n\\fB\\-\\-level\\fR \\fILEVEL\\fR\nHow much.  [default: 3]" in page
    assert "\\fB\\-\\-on\\fR / \\fB\\-\\-off\\fR" in page
    assert ".nf\ntiny go \\-\\-fast\n.fi" in found["integ.1"]
    assert (
        "\\fBinteg thing do\\fR\nDo the thing with \\fBcare\\fR. See \\fBinteg\\-thing\\-do\\fR(1)."
        in (found["integ.1"])
    )


@pytest.mark.parametrize(
    "line",
    [
        "integ provider put vertex -t vertex_ai -c projectName=my-project -c environment=us-central1"
        " -c file=@sa.json",
        "integ provider put x -d 'a description with many words that must never be broken inside the quotes'",
        "integ short",
    ],
)
def test_long_example_lines_are_continued_between_words(line: str) -> None:
    lines = manpage.wrap_command(line)
    assert all(len(x) <= 70 for x in lines) or len(lines) > 1
    assert " ".join(x.removesuffix(" \\").strip() for x in lines) == line
    for x in lines:
        assert x.count("'") % 2 == 0
