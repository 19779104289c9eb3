"""The shipped completion scripts, run by real shells against this checkout's ``integ``.

bash is required. zsh and fish are driven when they are installed and skipped otherwise.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COMPLETIONS = REPO / "completions"
ANTHROPIC_KEYS = ["api_key=", "endpoint=", "completionsPath=", "version=", "betaVersion="]


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a shell in which ``integ`` is this checkout's entry point."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "integ"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m conductor_integrations "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(REPO)
    return env


BASH_DRIVER = r"""
source "$1"; shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
if [[ -n ${LINE+set} ]]; then COMP_LINE=$LINE; COMP_POINT=${#LINE}; fi
_integ_completion integ
printf '%s\n' "${COMPREPLY[@]}"
"""


def bash_complete(env: dict[str, str], words: list[str], line: "str | None" = None) -> list[str]:
    """COMPREPLY after the completion function ran on COMP_WORDS=``words`` (the last word is
    the one under the cursor); with ``line``, COMP_LINE and COMP_POINT are set as bash does."""
    assert shutil.which("bash"), "bash is required"
    run_env = dict(env)
    if line is not None:
        run_env["LINE"] = line
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "bash", str(COMPLETIONS / "integ.bash"), *words],
        env=run_env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return [x for x in result.stdout.split("\n") if x]


def test_bash_completes_the_type(shell_env: dict[str, str]) -> None:
    words = ["integ", "provider", "put", "x", "-t", "anth"]
    assert bash_complete(shell_env, words) == ["anthropic"]


def test_bash_offers_only_the_keys_of_the_type_on_the_line(shell_env: dict[str, str]) -> None:
    words = ["integ", "provider", "put", "x", "-t", "anthropic", "-c", ""]
    found = bash_complete(shell_env, words)
    assert found == ANTHROPIC_KEYS
    assert "organizationId=" not in found


def test_bash_offers_openai_keys_for_openai(shell_env: dict[str, str]) -> None:
    words = ["integ", "provider", "put", "x", "--type", "openai", "--config", "o"]
    assert bash_complete(shell_env, words) == ["organizationId="]


def test_bash_with_the_line_split_at_equals_as_bash_does(shell_env: dict[str, str]) -> None:
    line = "integ provider put x --type=anth"
    words = ["integ", "provider", "put", "x", "--type", "=", "anth"]
    assert bash_complete(shell_env, words, line=line) == ["anthropic"]


def test_bash_completes_commands_and_formats(shell_env: dict[str, str]) -> None:
    assert bash_complete(shell_env, ["integ", "ty"]) == ["types"]
    assert bash_complete(shell_env, ["integ", "types", "list", "-o", ""]) == ["table", "json", "yaml"]


def test_bash_script_is_what_integ_completion_prints(shell_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["integ", "completion", "bash"], env=shell_env, capture_output=True, text=True, check=True
    )
    assert result.stdout == (COMPLETIONS / "integ.bash").read_text()


ZSH_DRIVER = r"""
compdef() { : }
_describe() { print -rl -- "${(@P)4}" }
_files() { print -r -- '<files>' }
source "$1"; shift
words=("$@")
CURRENT=$#words
PREFIX=${words[-1]}
_integ
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_types_and_keys(shell_env: dict[str, str]) -> None:
    def run(*words: str) -> list[str]:
        result = subprocess.run(
            ["zsh", "-f", "-c", ZSH_DRIVER, "zsh", str(COMPLETIONS / "_integ"), *words],
            env=shell_env,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        return result.stdout.split("\n")[:-1]

    assert run("integ", "provider", "put", "x", "-t", "anth") == ["anthropic"]
    assert run("integ", "provider", "put", "x", "-t", "anthropic", "-c", "") == ANTHROPIC_KEYS
    assert run("integ", "validate", "") == ["<files>"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_types_and_keys(shell_env: dict[str, str]) -> None:
    def run(line: str) -> list[str]:
        script = f'source {COMPLETIONS / "integ.fish"}; complete -C"{line}"'
        result = subprocess.run(
            ["fish", "--no-config", "-c", script], env=shell_env, capture_output=True, text=True, cwd=REPO
        )
        return [x.split("\t")[0] for x in result.stdout.split("\n") if x]

    assert run("integ provider put x -t anth") == ["anthropic"]
    assert sorted(run("integ provider put x -t anthropic -c ")) == sorted(ANTHROPIC_KEYS)


def test_completion_imports_neither_requests_nor_keyring(shell_env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "from conductor_integrations.cli import run\n"
        "run(['__complete', 'bash'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('requests', 'keyring', 'urllib3'))\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    env = dict(shell_env, _INTEG_COMPLETE_LINE="integ provider get ")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[0] == ":"
    assert "heavy: []" in result.stderr
