"""Shell completion: the value callbacks, the engine behind ``integ __complete`` and the
``integ completion SHELL`` command. Real shells are driven in test_completion_shells.py."""

import os
from pathlib import Path
from typing import Annotated, Any, Optional

import pytest
import typer
from typer.main import get_command

from conductor_integrations import config as cfg
from conductor_integrations.cli import complete_values, completion
from conductor_integrations.types import builtin

ANTHROPIC_KEYS = ["api_key=", "endpoint=", "completionsPath=", "version=", "betaVersion="]


# -- configuration keys: a pure function ------------------------------------------------


def test_keys_of_the_type_on_the_line() -> None:
    assert complete_values.config_key_candidates("anthropic") == ANTHROPIC_KEYS


def test_keys_of_openai_include_organization_id() -> None:
    assert "organizationId=" in complete_values.config_key_candidates("openai")
    assert "organizationId=" not in complete_values.config_key_candidates("anthropic")


@pytest.mark.parametrize("type_name", [None, "", "no-such-type"])
def test_without_a_known_type_every_key_once(type_name: Optional[str]) -> None:
    table = builtin.table()
    every = {f"{k}=" for t in table.types.values() for k in t.all_keys}
    found = complete_values.config_key_candidates(type_name)
    assert sorted(found) == found
    assert set(found) == every
    assert {"organizationId=", "api_key=", "connectionType=", "queueManager="} <= set(found)


def test_keys_already_given_are_not_offered_again() -> None:
    found = complete_values.config_key_candidates("anthropic", ["api_key=@key.txt", "endpoint=https://x"])
    assert found == ["completionsPath=", "version=", "betaVersion="]


@pytest.mark.parametrize("type_name", sorted(builtin.table().types))
def test_every_type_offers_exactly_its_keys(type_name: str) -> None:
    ptype = builtin.table().types[type_name]
    assert complete_values.config_key_candidates(type_name) == [f"{k}=" for k in ptype.all_keys]


class _Ctx:
    def __init__(self, **params: Any) -> None:
        self.params = params


def test_config_key_callback_reads_the_type_and_keys_from_the_context() -> None:
    ctx = _Ctx(type_name="anthropic", config=["version=1"])
    assert complete_values.complete_config_key(ctx, "") == [k for k in ANTHROPIC_KEYS if k != "version="]
    assert complete_values.complete_config_key(ctx, "e") == ["endpoint="]
    assert complete_values.complete_config_key(ctx, "api_key=") == []
    assert "organizationId=" in complete_values.complete_config_key(_Ctx(), "")
    assert "organizationId=" in complete_values.complete_config_key(object(), "")


def test_file_names_after_key_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sa.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ca.pem").write_text("")
    (tmp_path / ".hidden").write_text("")
    ctx = _Ctx(type_name="gcp")
    assert complete_values.complete_config_key(ctx, "file=@") == ["file=@sa.json", "file=@sub/"]
    assert complete_values.complete_config_key(ctx, "file=@su") == ["file=@sub/"]
    assert complete_values.complete_config_key(ctx, "file=@sub/") == ["file=@sub/ca.pem"]
    assert complete_values.complete_config_key(ctx, "file=@.h") == ["file=@.hidden"]
    assert complete_values.complete_config_key(ctx, "file=@nothing/") == []
    assert complete_values.complete_config_key(ctx, "file=plain") == []


# -- other values -------------------------------------------------------------------------


def test_types_categories_and_formats() -> None:
    assert complete_values.complete_type(None, "anth") == ["anthropic"]
    assert "aws_bedrock_titan" in complete_values.complete_type(None, "aws_")
    assert complete_values.complete_category(None, "VEC") == ["VECTOR_DB"]
    assert complete_values.complete_category(None, "vec") == ["vector_db"]
    assert complete_values.complete_category(None, "") == list(builtin.table().categories)
    assert complete_values.complete_output(None, "") == ["table", "json", "yaml"]
    assert complete_values.complete_output(None, "y") == ["yaml"]


def test_profile_names_come_from_the_profiles_file() -> None:
    assert complete_values.complete_profile(None, "") == []
    path = cfg.config_file()
    cfg.write_profile(path, "staging", {"server": "https://staging.example"})
    cfg.write_profile(path, "prod", {"server": "https://prod.example"})
    cfg.write_profile(path, "default", {"server": "https://dev.example"})
    assert complete_values.complete_profile(None, "") == ["default", "prod", "staging"]
    assert complete_values.complete_profile(None, "s") == ["staging"]


def test_a_broken_profiles_file_completes_nothing() -> None:
    path = cfg.config_file()
    path.parent.mkdir(parents=True)
    path.write_text("profiles: [not, a, mapping]\n")
    assert complete_values.complete_profile(None, "") == []


def test_provider_names_are_remembered_in_the_data_folder() -> None:
    assert complete_values.complete_provider_name(None, "") == []
    complete_values.remember_providers(["openai-prod", "anthropic-prod"])
    complete_values.remember_providers(["openai-dev", "openai-prod", ""])
    assert (cfg.data_dir() / complete_values.KNOWN_PROVIDERS_FILE).exists()
    assert complete_values.complete_provider_name(None, "") == ["anthropic-prod", "openai-dev", "openai-prod"]
    assert complete_values.complete_provider_name(None, "openai-p") == ["openai-prod"]
    complete_values.forget_providers(["openai-dev"])
    assert complete_values.complete_provider_name(None, "openai") == ["openai-prod"]


def test_the_remembered_list_is_capped_keeping_the_latest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(complete_values, "MAX_KNOWN", 3)
    complete_values.remember_providers(["a", "b", "c"])
    complete_values.remember_providers(["d", "a"])
    assert complete_values.known_providers() == ["c", "d", "a"]


def test_remembering_never_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("INTEG_DATA_DIR", str(blocker / "data"))
    complete_values.remember_providers(["openai-prod"])  # cannot write: no error
    complete_values.forget_providers(["openai-prod"])
    assert complete_values.complete_provider_name(None, "") == []


def test_names_with_stored_secrets_are_offered() -> None:
    from conductor_integrations.secrets import credentials

    credentials.set_secret("vault-only", "api_key", "s3cret-value")
    assert "vault-only" in complete_values.complete_provider_name(None, "")


# -- the engine, on a small app shaped like `provider put` ------------------------------

demo = typer.Typer()


@demo.command("put")
def _put(
    name: Annotated[str, typer.Argument(autocompletion=complete_values.complete_provider_name)],
    type_name: Annotated[
        Optional[str], typer.Option("--type", "-t", autocompletion=complete_values.complete_type)
    ] = None,
    config: Annotated[
        Optional[list[str]],
        typer.Option("--config", "-c", autocompletion=complete_values.complete_config_key),
    ] = None,
    file: Annotated[Optional[str], typer.Option("--file", "-f")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
) -> None:
    """Put a provider."""


@demo.command("other")
def _other() -> None:
    """Another command."""


def _demo_candidates(line: str, breaks: str = "") -> tuple[list[str], list[str]]:
    directive, items = completion.candidates(get_command(demo), line, breaks)
    return directive, [value for value, _ in items]


def test_engine_offers_the_keys_of_the_type_on_the_line() -> None:
    directive, values = _demo_candidates("integ put x -t anthropic -c ")
    assert values == ANTHROPIC_KEYS
    assert directive == ["nospace"]


def test_engine_keys_follow_a_type_given_with_equals_and_skip_given_keys() -> None:
    _, values = _demo_candidates("integ put x --type=openai -c api_key=k -c ")
    assert values == ["endpoint=", "organizationId="]


def test_engine_without_a_type_offers_every_key() -> None:
    _, values = _demo_candidates("integ put x -c org")
    assert values == ["organizationId="]


def test_engine_types_subcommands_and_options() -> None:
    assert _demo_candidates("integ put x -t anth")[1] == ["anthropic"]
    assert _demo_candidates("integ ")[1] == ["put", "other"]
    assert _demo_candidates("integ o")[1] == ["other"]
    assert _demo_candidates("integ put x --d")[1] == ["--dry-run"]


def test_engine_offers_nothing_after_an_unknown_command_or_for_words_after_dashes() -> None:
    assert _demo_candidates("integ nosuch ") == ([], [])
    assert _demo_candidates("integ put x -- -c ") == ([], [])


def test_engine_falls_back_to_files_only_for_free_values() -> None:
    assert _demo_candidates("integ put x -f ") == (["files"], [])
    assert _demo_candidates("integ put x -t zzz") == ([], [])


def test_engine_answers_relative_to_the_shells_word_breaks() -> None:
    assert _demo_candidates("integ put x --type=anth")[1] == ["--type=anthropic"]
    assert _demo_candidates("integ put x --type=anth", completion.DEFAULT_BREAKS)[1] == ["anthropic"]


def test_engine_completes_files_after_key_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sa.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    breaks = completion.DEFAULT_BREAKS
    assert _demo_candidates("integ put x -c file=@s", breaks) == (["nospace"], ["@sa.json", "@sub/"])
    assert _demo_candidates("integ put x -c file=@sa", breaks) == ([], ["@sa.json"])


@pytest.mark.parametrize(
    ("line", "words", "incomplete"),
    [
        ("integ ", ["integ"], ""),
        ("integ pro", ["integ"], "pro"),
        ("integ put 'my name' -c ", ["integ", "put", "my name", "-c"], ""),
        ("integ put 'my na", ["integ", "put"], "my na"),
        ("integ put my\\ ", ["integ", "put"], "my "),
        ("", [], ""),
    ],
)
def test_split_line(line: str, words: list[str], incomplete: str) -> None:
    assert completion.split_line(line) == (words, incomplete)


# -- the commands ---------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_named_shells_script(integ: Any, shell: str) -> None:
    result = integ("completion", shell)
    assert result.exit_code == 0
    assert result.stdout == completion.script(shell)
    assert "__complete" in result.stdout


def test_each_shell_gets_its_own_script() -> None:
    assert "complete -o default -F _integ_completion integ" in completion.script("bash")
    assert completion.script("zsh").startswith("#compdef integ\n")
    assert "complete -c integ" in completion.script("fish")


def test_completion_of_an_unknown_shell_is_a_usage_error(integ: Any) -> None:
    result = integ("completion", "tcsh")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_hidden_complete_command(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(completion.LINE_VAR, "integ types show anth")
    result = integ("__complete", "bash")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [":", "anthropic"]


def test_hidden_complete_command_gives_help_to_zsh(integ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(completion.LINE_VAR, "integ types list --no")
    result = integ("__complete", "zsh")
    assert result.stdout.splitlines() == [":", "--no-color\tNo colour. [env: NO_COLOR]"]


def test_hidden_complete_command_is_not_listed(integ: Any) -> None:
    result = integ("--help")
    assert "__complete" not in result.stdout
    assert "completion" in result.stdout


# -- names from servers and files are hostile ---------------------------------------------

HOSTILE_NAME = "zzq;id>/tmp/x"


def _complete(integ: Any, monkeypatch: pytest.MonkeyPatch, shell: str, line: str) -> list[str]:
    monkeypatch.setenv(completion.LINE_VAR, line)
    monkeypatch.delenv(completion.BREAKS_VAR, raising=False)
    result = integ("__complete", shell)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[1:]


@pytest.mark.parametrize(
    ("typed", "inserted"),
    [
        ("zz", "zzq\\;id\\>/tmp/x"),
        ("'zz", "zzq;id>/tmp/x"),
        ('"zz', "zzq;id>/tmp/x"),
        ("zzq\\;i", "zzq\\;id\\>/tmp/x"),
    ],
)
def test_bash_gets_names_quoted_for_the_word_being_completed(
    integ: Any, monkeypatch: pytest.MonkeyPatch, typed: str, inserted: str
) -> None:
    complete_values.remember_providers([HOSTILE_NAME, "other"])
    assert _complete(integ, monkeypatch, "bash", f"integ provider get {typed}") == [inserted]


@pytest.mark.parametrize(
    ("name", "quote", "inserted"),
    [
        ("a$(id)`id`", "", "a\\$\\(id\\)\\`id\\`"),
        ("a$(id)`id`", '"', "a\\$(id)\\`id\\`"),
        ("a'b", "'", "a'\\''b"),
        ("a'", "'", "a'\\'''"),  # ends in the quote: readline would not close it
        ('a"b\\c!', '"', 'a\\"b\\\\c"\'!\'""'),
        ("a b&c|d<e*f?[g]{h,i}~j#k", "", "a\\ b\\&c\\|d\\<e\\*f\\?\\[g\\]\\{h,i\\}\\~j\\#k"),
        ("ok-name_1.2:3@4%5+6=7/8,é", "", "ok-name_1.2:3@4%5+6=7/8,é"),
    ],
)
def test_bash_quoting_of_every_special_character(
    integ: Any, monkeypatch: pytest.MonkeyPatch, name: str, quote: str, inserted: str
) -> None:
    complete_values.remember_providers([name])
    assert _complete(integ, monkeypatch, "bash", f"integ provider get {quote}{name[0]}") == [inserted]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_the_name_as_it_is_and_quote_it_themselves(
    integ: Any, monkeypatch: pytest.MonkeyPatch, shell: str
) -> None:
    complete_values.remember_providers([HOSTILE_NAME])
    assert _complete(integ, monkeypatch, shell, "integ provider get zz") == [HOSTILE_NAME]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("bad", ["\n", "\r", "\t", "\x1b[2J", "\x00", "\x9b", "\u202e", "\u2066", "\u2028"])
def test_names_that_cannot_be_shown_or_quoted_are_left_out(
    integ: Any, monkeypatch: pytest.MonkeyPatch, shell: str, bad: str
) -> None:
    from conductor_integrations.secrets import private_files

    cfg.write_profile(cfg.config_file(), f"zz-profile{bad}x", {"server": "https://x.example"})
    cfg.write_profile(cfg.config_file(), "zz-good", {"server": "https://x.example"})
    index = {"secrets": {f"zz-secret{bad}x": ["api_key"], "zz-kept": ["api_key"]}}
    private_files.write_private(private_files.index_path(), index)
    path = cfg.data_dir() / complete_values.KNOWN_PROVIDERS_FILE
    known = "" if bad == "\n" else f"zz-known{bad}x\n"  # a line is a name: the file has no \n in one
    path.write_text(f"{known}zz-fine\n", "utf-8")
    assert _complete(integ, monkeypatch, shell, "integ provider get zz") == ["zz-fine", "zz-kept"]
    assert _complete(integ, monkeypatch, shell, "integ provider list --profile zz") == ["zz-good"]


def test_a_known_providers_file_that_is_not_a_file_completes_nothing() -> None:
    import subprocess
    import sys

    path = cfg.data_dir() / complete_values.KNOWN_PROVIDERS_FILE
    path.parent.mkdir(parents=True)
    os.mkfifo(path)  # reading a FIFO waits for a writer: TAB would hang
    env = dict(os.environ, **{completion.LINE_VAR: "integ provider get "})
    done = subprocess.run(
        [sys.executable, "-m", "conductor_integrations", "__complete", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a safety net for the hang, not a speed check
    )
    assert done.stdout.splitlines() == [":"]
    path.unlink()
    path.write_text("x" * complete_values.MAX_KNOWN_BYTES + "\nzz-late\n")  # over the size limit
    assert complete_values.known_providers() == []
