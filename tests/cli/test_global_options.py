"""Global options before or after the subcommand, one declaration per setting, and help
that shows plain value names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from conductor_integrations import config
from conductor_integrations.cli import app, options
from docgen import manpage


def show(integ: Any, *args: str) -> dict[str, Any]:
    r = integ(*args)
    assert r.exit_code == 0, r.stderr
    data: dict[str, Any] = r.json()
    return data


@pytest.mark.parametrize(
    "argv",
    [
        ["--server", "https://a.example.com", "-o", "json", "config", "show"],
        ["config", "show", "--server", "https://a.example.com", "-o", "json"],
        ["--server", "https://a.example.com", "config", "show", "-o", "json"],
        ["-o", "json", "config", "show", "--server", "https://a.example.com"],
    ],
)
def test_global_flags_mean_the_same_before_and_after_the_subcommand(integ: Any, argv: list[str]) -> None:
    data = show(integ, *argv)
    assert data["server"] == {"value": "https://a.example.com", "source": "flag --server"}
    assert data["output"] == {"value": "json", "source": "flag --output"}


def test_given_in_both_places_the_one_after_the_subcommand_wins(integ: Any) -> None:
    data = show(
        integ,
        "--server", "https://before.example.com", "--timeout", "3", "-o", "yaml",
        "config", "show",
        "--server", "https://after.example.com", "-o", "json",
    )  # fmt: skip
    assert data["server"]["value"] == "https://after.example.com"
    assert data["timeout"] == {"value": 3.0, "source": "flag --timeout"}  # given once: kept
    assert data["output"]["value"] == "json"


def test_every_global_flag_is_accepted_before_the_subcommand(integ: Any, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used by config show")
    config.write_profile(config.config_file(), "work", {"server": "https://work.example.com"})
    data = show(
        integ,
        "--profile", "work", "--key-id", "kid-1", "--token", "tok-before-0001", "-o", "json",
        "--timeout", "4", "--retries", "1", "--ca-bundle", str(bundle), "--insecure",
        "--no-color", "--debug",
        "config", "show",
    )  # fmt: skip
    assert data["profile"] == {"value": "work", "source": "flag --profile"}
    assert data["server"] == {"value": "https://work.example.com", "source": "profile work"}
    assert data["key_id"] == {"value": "kid-1", "source": "flag --key-id"}
    assert data["token"] == {"value": "********", "source": "flag --token"}
    assert data["timeout"]["value"] == 4.0 and data["retries"]["value"] == 1
    assert data["ca_bundle"]["value"] == str(bundle)
    for name in ("insecure", "no_color", "debug"):
        assert data[name] == {"value": True, "source": f"flag --{name.replace('_', '-')}"}


def test_a_bad_global_flag_before_the_subcommand_is_a_usage_error(integ: Any) -> None:
    wrong = integ("-o", "xml", "config", "show")
    assert wrong.exit_code == 2
    assert "choose from table, json, yaml" in wrong.stderr
    missing = integ("--profile", "nope", "provider", "list")
    assert missing.exit_code == 2
    assert "no profile 'nope'" in missing.stderr
    not_a_number = integ("--timeout", "soon", "config", "show")
    assert not_a_number.exit_code == 2


def test_a_command_that_does_not_take_a_flag_still_refuses_it_after_the_subcommand(integ: Any) -> None:
    r = integ("types", "show", "openai", "--server", "https://x.example.com")
    assert r.exit_code == 2
    assert "No such option: --server" in r.stderr


def test_output_flag_before_an_offline_command(integ: Any) -> None:
    r = integ("-o", "json", "types", "show", "openai")
    assert r.exit_code == 0, r.stderr
    assert r.json()["type"] == "openai"


def test_bare_server_flag_of_types_list_after_global_flags(
    integ: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", "local")
    listed = integ("-o", "json", "types", "list", "--server")
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.json()) == 30
    before = integ("--server", "local", "-o", "json", "types", "list")
    assert before.exit_code == 0, before.stderr
    assert listed.json() == before.json()


def test_command_start_skips_the_global_flags_and_their_values() -> None:
    assert options.command_start(["-o", "json", "--debug", "--server", "x", "types", "list"]) == 5
    assert options.command_start(["types", "list", "--server"]) == 0
    assert options.command_start(["--timeout"]) == 1


# -- one declaration -----------------------------------------------------------------------


def test_every_setting_with_a_flag_is_an_option_of_the_root_and_of_a_server_command() -> None:
    root = get_command(app)
    flags = {f for spec in config.SETTINGS for f in spec.flags}
    ctx = root.context_class(root, info_name="integ")
    root_flags = {f for p in root.get_params(ctx) for f in p.opts}
    assert flags <= root_flags
    put = root.commands["provider"].commands["list"]  # type: ignore[attr-defined]
    put_flags = {f for p in put.get_params(ctx) for f in p.opts}
    assert flags <= put_flags
    show_cmd = root.commands["types"].commands["show"]  # type: ignore[attr-defined]
    every = {f for spec in config.SETTINGS if spec.everywhere for f in spec.flags}
    assert {f for p in show_cmd.get_params(ctx) for f in p.opts} & flags == every


def test_the_man_page_environment_comes_from_the_settings() -> None:
    from docgen import man_text

    documented = dict(man_text.ENVIRONMENT)
    for spec in config.SETTINGS:
        if spec.env:
            assert spec.help in documented[spec.env], spec.name
            if spec.flag:
                assert f"As `{spec.flag}`." in documented[spec.env]


def test_config_show_lists_every_setting_in_the_table_order(integ: Any) -> None:
    data = show(integ, "config", "show", "-o", "json")
    assert list(data) == ["config_file", *(s.name for s in config.SETTINGS)]


# -- help ------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\{[^}]*\}")


def _commands() -> list[list[str]]:
    return [list(node.path[1:]) for node in manpage.walk(get_command(app))]


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "integ")
def test_help_shows_plain_value_names(integ: Any, path: list[str]) -> None:
    r = integ(*path, "--help")
    assert r.exit_code == 0, r.stderr
    usage = r.stdout.splitlines()[0]
    assert usage.startswith("Usage: integ")
    assert "{" not in usage and "}" not in usage, usage
    text = _REFERENCE.sub("", r.stdout)  # ${env:VAR} references in prose are the syntax
    assert "{" not in text, text
    for bare in ("<str>", "<int", "<float", "<list[", "<path>", "<text>"):
        assert bare not in text, (bare, text)
