"""The root imports only the command it runs: `integ --help`, `integ types list`, TAB and
`integ --version` leave the other command modules unimported (checked in a fresh process),
while the whole tree stays what it was for the man pages and the completion engine."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.main import get_command

from conductor_integrations.cli import COMMANDS, app, lazy

ROOT = Path(__file__).resolve().parents[2]
#: Every module that defines commands: the root's entries, and the two the provider group adds.
COMMAND_MODULES = {e.module for e in COMMANDS} | {
    "conductor_integrations.cli.apply",
    "conductor_integrations.cli.tags",
}
PROVIDER_GROUP = {
    "conductor_integrations.cli.provider",
    "conductor_integrations.cli.apply",
    "conductor_integrations.cli.tags",
}

DRIVER = """
import json, os, sys
sys.argv = ["integ", *json.loads(sys.argv[1])]
try:
    if sys.argv[1:2] == ["__main__"]:
        sys.argv.pop(1)
        from conductor_integrations.__main__ import main
        main()
    else:
        from conductor_integrations.cli import run
        sys.exit(run(sys.argv[1:]))
finally:
    with open(os.environ["MODULES_OUT"], "w") as f:
        json.dump(sorted(sys.modules), f)
"""


def modules_after(tmp_path: Path, *args: str, line: str | None = None) -> tuple[set[str], str]:
    """The modules a fresh ``integ ARGS`` process has imported when it ends, and its stdout."""
    out = tmp_path / "modules.json"
    env = {"MODULES_OUT": str(out), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env["XDG_CONFIG_HOME"] = env["XDG_DATA_HOME"] = str(tmp_path)
    if line is not None:
        env["_INTEG_COMPLETE_LINE"] = line
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(out.read_text())), proc.stdout


def test_every_entry_has_the_help_and_visibility_of_the_command_it_builds() -> None:
    root = get_command(app)
    built = {name: root.commands[name] for name in list(root.commands)}
    assert list(built) == [e.name for e in COMMANDS]
    for entry in COMMANDS:
        command = built[entry.name]
        assert command.name == entry.name
        assert command.get_short_help_str(10**6) == entry.help, entry.name
        assert command.hidden == entry.hidden


def test_help_from_the_entries_is_the_help_of_the_built_tree() -> None:
    root = get_command(app)
    ctx = root.make_context("integ", [], resilient_parsing=True)
    listed = root.get_help(ctx)
    assert isinstance(root, lazy.LazyGroup) and root.lazy.built() == []
    for name in list(root.commands):
        root.commands[name]  # build them all
    assert root.get_help(ctx) == listed
    for entry in COMMANDS:
        assert (entry.name in listed) is not entry.hidden


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    modules, out = modules_after(tmp_path, "--help")
    assert modules & COMMAND_MODULES == set()
    for entry in COMMANDS:
        if not entry.hidden:
            assert entry.name in out
    assert "Check provider documents against the provider types, offline." in out


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["types", "list"], {"conductor_integrations.cli.types"}),
        (["types", "--help"], {"conductor_integrations.cli.types"}),
        (["config", "--help"], {"conductor_integrations.cli.config_cmd"}),
        (["provider", "--help"], PROVIDER_GROUP),
        (["completion", "bash"], {"conductor_integrations.cli.completion"}),
    ],
)
def test_a_command_imports_its_own_module_only(tmp_path: Path, args: list[str], wanted: set[str]) -> None:
    modules, out = modules_after(tmp_path, *args)
    assert modules & COMMAND_MODULES == wanted
    assert out


def test_validate_imports_its_module_only(tmp_path: Path) -> None:
    doc = tmp_path / "p.yaml"
    doc.write_text("name: a\ntype: ollama\nconfiguration:\n  endpoint: http://localhost:11434\n")
    modules, _ = modules_after(tmp_path, "validate", str(doc))
    assert modules & COMMAND_MODULES == {"conductor_integrations.cli.validate"}
    assert not modules & {"requests", "keyring", "rich"}
    # nothing to annotate, no secret to mask in its escaped forms, no server to ask
    assert not modules & {"conductor_integrations.output.github", "html", "conductor_integrations.client.api"}


def test_validate_defines_no_dataclass(tmp_path: Path) -> None:
    """Every record ``validate`` meets (problems, settings, types, documents, payloads) is
    a named tuple or a plain class: making a dataclass compiles its methods at import
    (about half a millisecond each, a tenth of the whole start-up for the seventeen
    there were)."""
    doc = tmp_path / "p.yaml"
    doc.write_text("name: a\ntype: ollama\nconfiguration:\n  endpoint: http://localhost:11434\n")
    modules, _ = modules_after(tmp_path, "validate", str(doc))
    assert "conductor_integrations.documents.pipeline" in modules
    assert "dataclasses" not in modules


def test_a_plain_table_does_not_import_rich(tmp_path: Path) -> None:
    modules, out = modules_after(tmp_path, "types", "list")
    assert "rich" not in modules
    assert out.splitlines()[0].split()[:2] == ["TYPE", "CATEGORY"]


def test_completing_a_command_name_imports_no_command_but_completion(tmp_path: Path) -> None:
    modules, out = modules_after(tmp_path, "__complete", "zsh", line="integ ")
    assert modules & COMMAND_MODULES == {"conductor_integrations.cli.completion"}
    lines = out.splitlines()
    assert lines[0] == ":"
    root = get_command(app)
    visible = [e.name for e in COMMANDS if not e.hidden]
    assert lines[1:] == [f"{name}\t{root.commands[name].get_short_help_str()}" for name in visible]


@pytest.mark.parametrize(
    ("line", "wanted", "candidate"),
    [
        ("integ provider ", PROVIDER_GROUP, "put"),
        ("integ provider put demo -t ", PROVIDER_GROUP, "openai"),
        ("integ types show ", {"conductor_integrations.cli.types"}, "anthropic"),
        ("integ model ", {"conductor_integrations.cli.model"}, "put"),
    ],
)
def test_completing_under_a_command_imports_that_command_only(
    tmp_path: Path, line: str, wanted: set[str], candidate: str
) -> None:
    modules, out = modules_after(tmp_path, "__complete", "bash", line=line)
    assert modules & COMMAND_MODULES == wanted | {"conductor_integrations.cli.completion"}
    assert candidate in out.splitlines()[1:]


def test_a_mistyped_command_is_still_offered_the_closest_without_importing(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(["provder", "list"])],
        capture_output=True,
        text=True,
        timeout=120,
        env={"MODULES_OUT": str(out), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert "No such command 'provder'. Did you mean 'provider'?" in proc.stderr
    assert set(json.loads(out.read_text())) & COMMAND_MODULES == set()


def test_version_is_answered_before_typer_is_imported(tmp_path: Path) -> None:
    from conductor_integrations import __version__

    modules, out = modules_after(tmp_path, "__main__", "--version")
    assert out == f"integ {__version__}\n"
    assert "typer" not in modules
    ours = {m for m in modules if m.startswith("conductor_integrations.")}
    assert ours == {"conductor_integrations.__main__"}


def test_the_console_script_is_the_entry_that_answers_version_first() -> None:
    (script,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == "integ"]
    assert script.value == "conductor_integrations.__main__:main"
    assert 'integ = "conductor_integrations.__main__:main"' in (ROOT / "pyproject.toml").read_text()


def test_version_with_other_words_goes_through_the_tree(integ: Any) -> None:
    from conductor_integrations import __version__

    r = integ("--version", "--bogus")
    assert r.exit_code == 2 and "--bogus" in r.stderr
    assert integ("--version", "types").stdout == f"integ {__version__}\n"


# -- the group itself, on a root with an option of its own ----------------------------------


class DemoGroup(lazy.LazyGroup):
    entries = (lazy.Entry("hello", "tests.cli.lazy_demo", "Say hello."),)


def demo_app() -> typer.Typer:
    demo = typer.Typer(cls=DemoGroup, rich_markup_mode=None, add_completion=False)

    @demo.callback()
    def root(loud: bool = typer.Option(False, "--loud", help="Shout.")) -> None:
        from tests.cli import lazy_demo

        lazy_demo.LOUD["on"] = loud

    return demo


def test_options_of_the_root_callback_reach_a_lazy_command(capsys: pytest.CaptureFixture[str]) -> None:
    command = get_command(demo_app())
    command.main(["--loud", "hello", "ann"], standalone_mode=False)
    assert capsys.readouterr().out == "HELLO ANN\n"
    command.main(["hello", "bob"], standalone_mode=False)
    assert capsys.readouterr().out == "hello bob\n"


def test_the_group_builds_an_entry_on_first_lookup_only() -> None:
    command = get_command(demo_app())
    assert isinstance(command, DemoGroup)
    ctx = command.make_context("demo", [], resilient_parsing=True)
    assert "Say hello." in command.get_help(ctx) and command.lazy.built() == []
    assert [i.value for i in command.shell_complete(ctx, "he")] == ["hello"]
    assert command.lazy.built() == []
    hello = command.get_command(ctx, "hello")
    assert hello is not None and hello.get_short_help_str(10**6) == "Say hello."
    assert command.lazy.built() == ["hello"] and command.get_command(ctx, "nope") is None
