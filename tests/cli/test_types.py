"""`integ types list|show` and `integ validate` through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.types import builtin


def test_types_list_table(integ: Any) -> None:
    r = integ("types", "list")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["TYPE", "CATEGORY", "NAME", "REQUIRED", "KEYS"]
    assert len(lines) == 31
    assert any(line.startswith("pineconedb ") and "api_key, environment" in line for line in lines)


def test_types_list_json_by_category(integ: Any) -> None:
    r = integ("types", "list", "--category", "cloud", "-o", "json")
    assert r.exit_code == 0
    assert [t["type"] for t in r.json()] == ["aws", "gcp"]
    assert r.json()[0]["conditional"]["connectionType"]["EXTERNAL_ROLE"] == ["roleArn", "externalId"]


def test_types_list_bad_category_is_usage(integ: Any) -> None:
    r = integ("types", "list", "--category", "nope")
    assert r.exit_code == 2
    assert "AI_MODEL" in r.stderr


def test_types_show(integ: Any) -> None:
    r = integ("types", "show", "anthropic")
    assert r.exit_code == 0
    assert "completionsPath" in r.stdout
    assert "api_key" in r.stdout


def test_types_show_unknown_exits_3_with_closest(integ: Any) -> None:
    r = integ("types", "show", "antropic")
    assert r.exit_code == 3
    assert "anthropic" in r.stderr
    assert r.stderr.startswith("error: unknown type 'antropic'")


@pytest.mark.parametrize("name", list(builtin.table().types))
def test_every_example_validates_once_filled(name: str, integ: Any, tmp_path: Path, monkeypatch: Any) -> None:
    r = integ("types", "show", name, "--example")
    assert r.exit_code == 0
    (tmp_path / "service-account.json").write_text('{"type": "service_account"}')
    example = tmp_path / f"{name}.yaml"
    example.write_text(r.stdout.replace("<", "").replace(">", ""))
    for line in r.stdout.splitlines():
        if "${env:" in line:
            var = line.split("${env:")[1].split("}")[0]
            monkeypatch.setenv(var, "filled-in")
    v = integ("validate", "--strict", str(example))
    assert v.exit_code == 0, v.stderr
    assert "all valid" in v.stderr


def test_validate_reports_all_problems_and_exits_3(integ: Any, tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        "name: a\ntype: openai\nconfiguration:\n  apiKey: x\n---\n"
        "name: b\ntype: aws_bedrock_titan\nconfiguration:\n"
        "  connectionType: ACCESS_KEY\n  region: r\n  api_key: s\n"
    )
    r = integ("validate", str(f))
    assert r.exit_code == 3
    assert (
        f"{f}#1:4 a configuration.apiKey: unknown key 'apiKey' for openai (did you mean 'api_key'?)"
        in r.stderr
    )
    assert f"{f}#2:8 b configuration.user: connectionType ACCESS_KEY requires 'user'" in r.stderr
    assert "2 providers checked: 2 invalid" in r.stderr


def test_validate_json_report(integ: Any, tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("name: a\ntype: grok\nconfiguration: {api_key: k}\n")
    r = integ("validate", "-o", "json", str(f))
    assert r.exit_code == 0
    assert r.json()["valid"] is True
    assert r.json()["documents"][0]["name"] == "a"


def test_validate_broken_yaml_gives_file_and_line(integ: Any, tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text("name: a\ntype: [grok\n")
    r = integ("validate", str(f))
    assert r.exit_code == 3
    assert f"{f}:3: cannot parse YAML" in r.stderr


def test_validate_never_prints_a_secret(integ: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("SECRET_FOR_TEST", "sk-very-secret-value")
    f = tmp_path / "p.yaml"
    f.write_text("name: a\ntype: openai\nconfiguration:\n  api_key: ${env:SECRET_FOR_TEST}\n  bogus: 1\n")
    for fmt in ("table", "json", "yaml"):
        r = integ("validate", "-o", fmt, str(f))
        assert "sk-very-secret-value" not in r.output


def test_version(integ: Any) -> None:
    from conductor_integrations import __version__

    r = integ("--version")
    assert (r.exit_code, r.stdout) == (0, f"integ {__version__}\n")


def test_unknown_command_is_usage_error(integ: Any) -> None:
    r = integ("frobnicate")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ")


@pytest.mark.parametrize("args", [["--help"], ["types", "list"], ["validate", "--help"]])
def test_offline_commands_do_not_import_requests_or_keyring(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from conductor_integrations.cli import run\n"
        f"code = run({args!r})\n"
        "heavy = sorted(m for m in ('requests', 'keyring', 'urllib3') if m in sys.modules)\n"
        "print('HEAVY', heavy, code, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY [] 0" in proc.stderr, proc.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conductor_integrations", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("integ ")
