"""The pull-request checks as a CI job runs them (the real ``integ`` process): ``validate
--offline`` with no secret at hand, ``types show --example`` placeholders, and GitHub
annotations from ``validate``, ``apply`` and ``diff`` (against the real server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Run, run_integ

pytestmark = pytest.mark.e2e

FLEET = {
    "openai.yaml": "name: p-openai\ntype: openai\nconfiguration:\n  api_key: ${env:PR_OPENAI_KEY}\n",
    "bedrock.yaml": (
        "name: p-bedrock\ntype: aws_bedrock_titan\nconfiguration:\n  connectionType: ACCESS_KEY\n"
        "  region: us-east-1\n  user: ${env:PR_AWS_USER}\n  api_key: ${keyring}\n"
    ),
    "vertex.yaml": (
        "name: p-vertex\ntype: vertex_ai_gemini\nconfiguration:\n  projectName: proj\n"
        "  environment: us-central1\n  file: ${file:creds/vertex.json}\n"
    ),
}
BROKEN = (
    "name: p-kafka\ntype: kafka\ndescription: events\n"
    "configuration:\n  endpoint: broker:9092\n  connectionType: SASL\n"
)


def fleet(tmp_path: Path) -> Path:
    folder = tmp_path / "fleet"
    folder.mkdir()
    for name, text in FLEET.items():
        (folder / name).write_text(text)
    return folder


def error_lines(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("error: ")]


def test_offline_validate_passes_a_fleet_whose_secrets_are_not_here(tmp_path: Path) -> None:
    r = run_integ("validate", "--offline", str(fleet(tmp_path)))
    assert r.code == 0, r.stderr
    assert "3 providers checked: all valid" in r.stderr
    assert error_lines(r) == [] and "warning" not in r.stderr


def test_without_offline_each_missing_secret_is_reported_once(tmp_path: Path) -> None:
    folder = fleet(tmp_path)
    (folder / "vertex.yaml").unlink()
    (folder / "bedrock.yaml").unlink()
    r = run_integ("validate", str(folder))
    assert r.code == 3
    assert error_lines(r) == [
        f"error: {folder / 'openai.yaml'}:4 p-openai configuration.api_key: "
        "environment variable PR_OPENAI_KEY is not set (referenced as ${env:PR_OPENAI_KEY}) "
        "(export PR_OPENAI_KEY, or give api_key as `api_key: ${keyring}` after "
        "`integ secret set p-openai api_key`, or with -c api_key=@file)"
    ]
    assert "1 provider checked: 1 invalid, 1 error" in r.stderr


def test_apply_dry_run_still_resolves(tmp_path: Path, integ: Callable[..., Run]) -> None:
    folder = fleet(tmp_path)
    r = integ("provider", "apply", "-f", str(folder / "openai.yaml"), "--dry-run")
    assert r.code == 3
    assert "PR_OPENAI_KEY is not set" in r.stderr


def test_offline_still_refuses_a_broken_document(tmp_path: Path) -> None:
    f = tmp_path / "k.yaml"
    f.write_text(BROKEN)
    r = run_integ("validate", "--offline", str(f))
    assert r.code == 3
    assert "p-kafka configuration.protocol: kafka requires 'protocol'" in r.stderr


@pytest.mark.parametrize("offline", [[], ["--offline"]])
def test_example_placeholders_are_invalid_until_filled(tmp_path: Path, offline: list[str]) -> None:
    shown = run_integ("types", "show", "kafka", "--example")
    assert shown.code == 0
    f = tmp_path / "k.yaml"
    f.write_text(shown.stdout)
    r = run_integ("validate", *offline, str(f))
    assert r.code == 3
    assert "configuration.endpoint: endpoint still holds the placeholder <HOST>: fill it in" in r.stderr
    assert "connectionType still holds the placeholder <CONNECTION-TYPE>" in r.stderr
    f.write_text(shown.stdout.replace("<HOST>", "broker").replace('"<CONNECTION-TYPE>"', "SASL"))
    f.write_text(f.read_text().replace('"<PROTOCOL>"', "TLS"))
    assert run_integ("validate", *offline, str(f)).code == 0


def test_validate_annotates_each_problem_under_github_actions(tmp_path: Path) -> None:
    f = tmp_path / "k.yaml"
    f.write_text(BROKEN + "  grupId: g\n")
    r = run_integ("validate", "--offline", str(f), GITHUB_ACTIONS="true")
    assert r.code == 3
    assert r.stdout.splitlines() == [
        f"::error file={f},line=4,title=integ::provider p-kafka: configuration.protocol: "
        "kafka requires 'protocol' (-c protocol=VALUE or `protocol:` under configuration)",
        f"::warning file={f},line=7,title=integ::provider p-kafka: configuration.grupId: "
        "unknown key 'grupId' for kafka (did you mean 'groupId'?)",
    ]
    # the plain lines are still there for a person reading the log
    assert "p-kafka configuration.protocol: kafka requires 'protocol'" in r.stderr
    quiet = run_integ("validate", "--offline", str(f), GITHUB_ACTIONS="true", INTEG_ANNOTATIONS="0")
    assert "::" not in quiet.stdout + quiet.stderr
    assert "::" not in run_integ("validate", "--offline", str(f)).stdout


def test_json_output_stays_json_and_annotations_go_to_stderr(tmp_path: Path) -> None:
    f = tmp_path / "k.yaml"
    f.write_text(BROKEN)
    r = run_integ("validate", "--offline", str(f), "-o", "json", GITHUB_ACTIONS="true")
    assert r.code == 3
    assert json.loads(r.stdout)["valid"] is False
    assert f"::error file={f},line=4,title=integ::provider p-kafka" in r.stderr


def test_control_characters_from_a_document_do_not_reach_the_log_raw(tmp_path: Path) -> None:
    f = tmp_path / "evil.yaml"
    f.write_text('name: "evil\\e[31m\\nx"\ntype: nosuch\n')
    r = run_integ("validate", "--offline", str(f), GITHUB_ACTIONS="true")
    assert r.code == 3
    [line] = [x for x in r.stdout.splitlines() if x.startswith("::error")]
    assert "\x1b" not in r.stdout and "\\x1b" in line
    assert len(r.stdout.splitlines()) == 1  # the newline in the name did not start a second command


@pytest.mark.parametrize("command", ["apply", "diff"])
def test_apply_and_diff_annotate_too(tmp_path: Path, integ: Callable[..., Run], command: str) -> None:
    f = tmp_path / "k.yaml"
    f.write_text(BROKEN)
    r = integ("provider", command, "-f", str(f), GITHUB_ACTIONS="true")
    assert r.code == 3
    assert f"::error file={f},line=4,title=integ::provider p-kafka: configuration.protocol:" in r.stdout


def test_types_schema_checks_what_types_show_example_prints(tmp_path: Path) -> None:
    import yaml
    from jsonschema import Draft202012Validator

    r = run_integ("types", "schema")
    assert r.code == 0, r.stderr
    check = Draft202012Validator(json.loads(r.stdout))
    text = run_integ("types", "show", "aws_bedrock_titan", "--example").stdout
    assert not check.is_valid(yaml.safe_load(text))  # <USER> is still a placeholder
    assert check.is_valid(yaml.safe_load(text.replace("<USER>", "AKIA0000")))


def test_pre_commit_hook_runs_offline_validate() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    [hook] = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "integ-validate"
    assert hook["entry"].split() == ["integ", "validate", "--offline"]
    assert hook["language"] == "python"
    assert hook["files"] == r"\.(ya?ml|json)$"


def test_pre_commit_style_run_on_files(tmp_path: Path) -> None:
    """pre-commit runs the hook's entry with the changed files as arguments."""
    folder = fleet(tmp_path)
    files = sorted(str(p) for p in folder.iterdir())
    assert run_integ("validate", "--offline", *files).code == 0
    (folder / "openai.yaml").write_text(
        "name: p\ntype: openai\nconfiguration:\n  api_key: '<YOUR-API-KEY>'\n"
    )
    assert run_integ("validate", "--offline", *files).code == 3
