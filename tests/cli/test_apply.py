"""`integ provider apply|diff|export` against a real sandbox on loopback, and against
shaped replies (`responses`) where a server must misbehave for one provider only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from conductor_integrations.sandbox import serve_in_background

FLEET = """\
name: openai-a
type: openai
configuration:
  api_key: ${env:TEST_KEY_A}
---
- name: anth-b
  type: anthropic
  description: claude
  configuration: {api_key: "${env:TEST_KEY_A}", endpoint: "https://api.anthropic.com/v1"}
- name: kafka-c
  type: kafka
  enabled: false
  configuration: {endpoint: "k:9092", connectionType: PLAINTEXT, protocol: plaintext, groupId: 7}
"""
SECRET = "sk-apply-secret-0451"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    with serve_in_background(tmp_path / "sandbox.db") as running:
        yield running.url


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_KEY_A", SECRET)
    f = tmp_path / "fleet.yaml"
    f.write_text(FLEET)
    return f


def names_on(integ: Any, server: str) -> list[str]:
    r = integ("provider", "list", "--server", server, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return sorted(p["name"] for p in r.json())


def test_apply_creates_then_is_unchanged_then_updates(integ: Any, sandbox: str, fleet: Path) -> None:
    r = integ("provider", "apply", "-f", str(fleet), "--server", sandbox, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == [
        {"name": "openai-a", "type": "openai", "action": "created", "error": None},
        {"name": "anth-b", "type": "anthropic", "action": "created", "error": None},
        {"name": "kafka-c", "type": "kafka", "action": "created", "error": None},
    ]
    assert names_on(integ, sandbox) == ["anth-b", "kafka-c", "openai-a"]
    again = integ("provider", "apply", "-f", str(fleet), "--server", sandbox, "-o", "json")
    assert [x["action"] for x in again.json()] == ["unchanged"] * 3
    fleet.write_text(FLEET.replace("description: claude", "description: claude v2"))
    third = integ("provider", "apply", "-f", str(fleet), "--server", sandbox, "-o", "json")
    assert [x["action"] for x in third.json()] == ["unchanged", "updated", "unchanged"]
    for result in (r, again, third):
        assert SECRET not in result.output


def test_changed_secret_is_sent_and_reported_updated(
    integ: Any, sandbox: str, fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert integ("provider", "apply", "-f", str(fleet), "--server", sandbox).exit_code == 0
    monkeypatch.setenv("TEST_KEY_A", "sk-rotated-9911")
    r = integ("provider", "apply", "-f", str(fleet), "--server", sandbox, "-o", "json")
    assert [x["action"] for x in r.json()] == ["updated", "updated", "unchanged"]


def test_diff_shows_fields_and_never_secrets(integ: Any, sandbox: str, fleet: Path) -> None:
    r = integ("provider", "diff", "-f", str(fleet), "--server", sandbox)
    assert r.exit_code == 1
    assert "+ openai-a (openai): will be created" in r.stdout
    assert "    configuration.api_key: (none) -> (secret)  [set]" in r.stdout
    assert "3 of 3 providers differ\n" in r.stderr
    assert SECRET not in r.output
    integ("provider", "apply", "-f", str(fleet), "--server", sandbox)
    same = integ("provider", "diff", "-f", str(fleet), "--server", sandbox)
    assert (same.exit_code, same.stderr) == (0, "no differences (3 providers)\n")
    fleet.write_text(FLEET.replace("k:9092", "k2:9092"))
    one = integ("provider", "diff", "-f", str(fleet), "--server", sandbox)
    assert one.stderr.endswith("1 of 3 providers differs\n")
    changed = integ("provider", "diff", "-f", str(fleet), "--server", sandbox, "-o", "json")
    assert changed.exit_code == 1
    [kafka] = [p for p in changed.json() if p["action"] != "unchanged"]
    assert kafka == {
        "name": "kafka-c",
        "type": "kafka",
        "action": "update",
        "changes": [{"path": "configuration.endpoint", "old": "k:9092", "new": "k2:9092"}],
    }


def test_invalid_document_means_nothing_sent(integ: Any, sandbox: str, fleet: Path) -> None:
    fleet.write_text(FLEET + "---\nname: bad\ntype: openai\nconfiguration: {apiKey: x, api_key: ''}\n")
    r = integ("provider", "apply", "-f", str(fleet), "--server", sandbox)
    assert r.exit_code == 3
    assert "openai requires 'api_key'" in r.stderr
    assert names_on(integ, sandbox) == []


def test_duplicate_names_mean_nothing_sent(integ: Any, sandbox: str, fleet: Path, tmp_path: Path) -> None:
    other = tmp_path / "more"
    other.mkdir()
    (other / "dup.yaml").write_text("name: openai-a\ntype: grok\nconfiguration: {api_key: k}\n")
    r = integ("provider", "apply", "-f", str(fleet), "-f", str(other), "--server", sandbox)
    assert r.exit_code == 3
    assert "'openai-a' is defined twice" in r.stderr
    assert names_on(integ, sandbox) == []


def test_type_change_is_refused_for_that_provider(integ: Any, sandbox: str, fleet: Path) -> None:
    integ("provider", "apply", "-f", str(fleet), "--server", sandbox)
    fleet.write_text(FLEET.replace("type: openai", "type: grok").replace("claude", "claude v3"))
    r = integ("provider", "apply", "-f", str(fleet), "--server", sandbox, "-o", "json")
    assert r.exit_code == 6
    assert [x["action"] for x in r.json()] == ["failed", "updated", "unchanged"]
    assert "type cannot be changed from openai to grok" in r.json()[0]["error"]
    got = integ("provider", "get", "openai-a", "--server", sandbox, "-o", "json")
    assert got.json()["type"] == "openai"


def test_export_apply_to_fresh_server_then_diff_is_empty(
    integ: Any, sandbox: str, fleet: Path, tmp_path: Path, memory_keyring: Any
) -> None:
    assert integ("provider", "apply", "-f", str(fleet), "--server", sandbox).exit_code == 0
    exported = integ("provider", "export", "--server", sandbox)
    assert exported.exit_code == 0
    assert SECRET not in exported.output
    assert "api_key: ${keyring}" in exported.stdout
    dump = tmp_path / "export.yaml"
    dump.write_text(exported.stdout)
    for name in ("openai-a", "anth-b"):
        assert integ("secret", "set", name, "api_key", input=SECRET + "\n").exit_code == 0
    with serve_in_background(tmp_path / "fresh.db") as fresh:
        applied = integ("provider", "apply", "-f", str(dump), "--server", fresh.url, "-o", "json")
        assert applied.exit_code == 0, applied.stderr
        assert {x["action"] for x in applied.json()} == {"created"}
        assert integ("provider", "diff", "-f", str(dump), "--server", fresh.url).exit_code == 0
        assert integ("provider", "diff", "-f", str(fleet), "--server", fresh.url).exit_code == 0


def test_export_with_env_secrets_and_json(integ: Any, sandbox: str, fleet: Path) -> None:
    integ("provider", "apply", "-f", str(fleet), "--server", sandbox)
    r = integ("provider", "export", "openai-a", "--secrets", "env", "--server", sandbox, "-o", "json")
    assert r.json()[0]["configuration"] == {"api_key": "${env:OPENAI_A_API_KEY}"}
    missing = integ("provider", "export", "nope", "--server", sandbox)
    assert missing.exit_code == 5


def test_dry_run_needs_no_server_and_masks(integ: Any, fleet: Path) -> None:
    r = integ("provider", "apply", "-f", str(fleet), "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    requests_ = r.json()
    assert [x["url"] for x in requests_] == [
        "<server>/api/integrations/provider/openai-a",
        "<server>/api/integrations/provider/anth-b",
        "<server>/api/integrations/provider/kafka-c",
    ]
    assert requests_[0]["body"]["configuration"]["api_key"] == "********"
    assert requests_[2]["body"]["configuration"]["groupId"] == "7"
    assert SECRET not in r.output


def test_put_and_apply_dry_runs_name_the_missing_server_alike(integ: Any, fleet: Path) -> None:
    """With no server configured, `put --dry-run` and `apply --dry-run` print the same
    placeholder where the server's root goes."""
    put = integ("provider", "put", "openai-a", "-t", "openai", "-c", "api_key=${env:TEST_KEY_A}", "--dry-run")
    apply = integ("provider", "apply", "-f", str(fleet), "--dry-run")
    assert put.exit_code == 0, put.stderr
    assert apply.exit_code == 0, apply.stderr
    put_line = put.stdout.splitlines()[0]
    apply_line = apply.stdout.splitlines()[0]
    assert put_line == apply_line == "POST <server>/api/integrations/provider/openai-a"


def test_no_paths_is_usage(integ: Any) -> None:
    assert integ("provider", "apply", "--server", "http://127.0.0.1:9").exit_code == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_a_403_on_one_provider_is_reported_and_others_applied(integ: Any, fleet: Path) -> None:
    base = "http://conductor.test/api/integrations/provider"
    responses.get(base, json=[], match=[responses.matchers.query_param_matcher({"activeOnly": "false"})])
    responses.post(f"{base}/openai-a", json={})
    responses.post(f"{base}/anth-b", status=403, json={"status": 403, "message": "no UPDATE on anth-b"})
    responses.post(f"{base}/kafka-c", json={})
    r = integ("provider", "apply", "-f", str(fleet), "--server", "http://conductor.test", "-o", "json")
    assert r.exit_code == 4
    assert [(x["name"], x["action"]) for x in r.json()] == [
        ("openai-a", "created"),
        ("anth-b", "failed"),
        ("kafka-c", "created"),
    ]
    assert "no UPDATE on anth-b" in r.json()[1]["error"]
    assert "anth-b: " in r.stderr
    sent = [json.loads(c.request.body) for c in responses.calls if c.request.method == "POST"]
    assert all("name" not in body for body in sent)


@responses.activate(assert_all_requests_are_fired=True)
def test_fail_fast_stops_sending(integ: Any, fleet: Path) -> None:
    base = "http://conductor.test/api/integrations/provider"
    responses.get(base, json=[])
    responses.post(f"{base}/openai-a", status=403, json={"message": "denied"})
    r = integ(
        "provider", "apply", "-f", str(fleet), "--server", "http://conductor.test",
        "--fail-fast", "--concurrency", "1", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 4
    assert [x["action"] for x in r.json()] == ["failed", "skipped", "skipped"]


# -- models and tags ----------------------------------------------------------------------------

TEAM = """\
name: openai-team
type: openai
category: AI_MODEL
description: OpenAI for the team
enabled: true
configuration:
  api_key: ${env:TEST_KEY_A}
  endpoint: https://api.openai.com/v1
models:
- name: gpt-4o
  description: GPT-4o
  enabled: true
  configuration: {}
- name: gpt-4o-mini
  description: GPT-4o mini
  enabled: false
  configuration: {}
tags:
  team: ml
"""


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_KEY_A", SECRET)
    f = tmp_path / "openai-team.yaml"
    f.write_text(TEAM)
    return f


def test_apply_two_models_and_a_tag_then_export_gives_the_document_back_and_diff_is_empty(
    integ: Any, sandbox: str, team: Path, tmp_path: Path, memory_keyring: Any
) -> None:
    import yaml

    applied = integ("provider", "apply", "-f", str(team), "--server", sandbox, "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    assert applied.json() == [
        {
            "name": "openai-team",
            "type": "openai",
            "action": "created",
            "error": None,
            "models": [
                {"name": "gpt-4o", "action": "created", "error": None},
                {"name": "gpt-4o-mini", "action": "created", "error": None},
            ],
            "tags": "updated",
        }
    ]
    exported = integ("provider", "export", "openai-team", "--server", sandbox)
    assert exported.exit_code == 0, exported.stderr
    expected = yaml.safe_load(TEAM.replace("${env:TEST_KEY_A}", "${keyring}"))
    assert yaml.safe_load(exported.stdout) == expected
    assert integ("provider", "diff", "-f", str(team), "--server", sandbox).exit_code == 0
    # The export applies to a fresh server, and neither document differs from it there.
    dump = tmp_path / "export.yaml"
    dump.write_text(exported.stdout)
    assert integ("secret", "set", "openai-team", "api_key", input=SECRET + "\n").exit_code == 0
    with serve_in_background(tmp_path / "fresh.db") as fresh:
        again = integ("provider", "apply", "-f", str(dump), "--server", fresh.url, "-o", "json")
        assert again.exit_code == 0, again.stderr
        assert again.json()[0]["action"] == "created"
        assert integ("provider", "diff", "-f", str(dump), "--server", fresh.url).exit_code == 0
        assert integ("provider", "diff", "-f", str(team), "--server", fresh.url).exit_code == 0
    for result in (applied, exported):
        assert SECRET not in result.output


def test_second_apply_is_unchanged_and_a_model_change_updates_the_provider(
    integ: Any, sandbox: str, team: Path
) -> None:
    assert integ("provider", "apply", "-f", str(team), "--server", sandbox).exit_code == 0
    again = integ("provider", "apply", "-f", str(team), "--server", sandbox, "-o", "json").json()[0]
    assert (again["action"], again["tags"]) == ("unchanged", "unchanged")
    assert [m["action"] for m in again["models"]] == ["unchanged", "unchanged"]
    team.write_text(TEAM.replace("GPT-4o mini", "GPT-4o mini v2"))
    third = integ("provider", "apply", "-f", str(team), "--server", sandbox, "-o", "json").json()[0]
    assert third["action"] == "updated"
    assert [m["action"] for m in third["models"]] == ["unchanged", "updated"]
    table = integ("provider", "apply", "-f", str(team), "--server", sandbox)
    assert "2 models: 2 unchanged; tags unchanged" in table.stdout


def test_diff_shows_model_and_tag_changes_field_by_field(integ: Any, sandbox: str, team: Path) -> None:
    integ("provider", "apply", "-f", str(team), "--server", sandbox)
    integ("provider", "tag", "set", "openai-team", "owner=someone", "--server", sandbox)
    team.write_text(TEAM.replace("enabled: false", "enabled: true").replace("team: ml", "team: platform"))
    r = integ("provider", "diff", "-f", str(team), "--server", sandbox)
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        "~ openai-team (openai): will be updated",
        "    models[gpt-4o-mini].enabled: false -> true",
        "    tags.team: ml -> platform",
        "    tags.owner: someone -> (none)",
    ]
    as_json = integ("provider", "diff", "-f", str(team), "--server", sandbox, "-o", "json").json()
    assert as_json[0]["changes"][0] == {"path": "models[gpt-4o-mini].enabled", "old": False, "new": True}
    applied = integ("provider", "apply", "-f", str(team), "--server", sandbox)
    assert applied.exit_code == 0, applied.stderr
    tags = integ("provider", "tag", "list", "openai-team", "--server", sandbox, "-o", "json").json()
    assert tags == [{"key": "team", "value": "platform"}]


def test_apply_over_several_values_of_a_key_leaves_the_documents_value_alone(
    integ: Any, sandbox: str, team: Path
) -> None:
    integ("provider", "apply", "-f", str(team), "--server", sandbox)
    integ("provider", "tag", "set", "openai-team", "team=docs", "team=marketing", "--server", sandbox)
    diff = integ("provider", "diff", "-f", str(team), "--server", sandbox)
    assert "    tags.team: docs, marketing -> ml" in diff.stdout.splitlines()
    applied = integ("provider", "apply", "-f", str(team), "--server", sandbox)
    assert applied.exit_code == 0, applied.stderr
    tags = integ("provider", "tag", "list", "openai-team", "--server", sandbox, "-o", "json").json()
    assert tags == [{"key": "team", "value": "ml"}]
    assert integ("provider", "diff", "-f", str(team), "--server", sandbox).exit_code == 0


def test_models_not_listed_are_left_alone_and_no_tags_key_leaves_tags(
    integ: Any, sandbox: str, team: Path
) -> None:
    integ("provider", "apply", "-f", str(team), "--server", sandbox)
    integ("model", "put", "openai-team", "extra", "--server", sandbox)
    integ("provider", "tag", "set", "openai-team", "owner=someone", "--server", sandbox)
    team.write_text(TEAM.split("tags:")[0])
    assert integ("provider", "diff", "-f", str(team), "--server", sandbox).exit_code == 0
    models = integ("model", "list", "openai-team", "--server", sandbox, "-o", "json").json()
    assert [m["api"] for m in models] == ["extra", "gpt-4o", "gpt-4o-mini"]


def test_model_of_a_failed_provider_is_not_sent(integ: Any, sandbox: str, team: Path) -> None:
    integ("provider", "put", "openai-team", "-t", "grok", "-c", "api_key=k", "--server", sandbox)
    r = integ("provider", "apply", "-f", str(team), "--server", sandbox, "-o", "json")
    assert r.exit_code == 6
    [record] = r.json()
    assert record["action"] == "failed"
    assert [m["action"] for m in record["models"]] == ["skipped", "skipped"]
    assert record["tags"] == "skipped"
    assert integ("model", "list", "openai-team", "--server", sandbox, "-o", "json").json() == []


def test_invalid_models_mean_nothing_sent(integ: Any, sandbox: str, team: Path) -> None:
    team.write_text(TEAM.replace("  enabled: false", "  enabled: nope"))
    r = integ("provider", "apply", "-f", str(team), "--server", sandbox)
    assert r.exit_code == 3
    assert f"{team}:16 openai-team models[1].enabled: enabled must be true or false" in r.stderr
    assert names_on(integ, sandbox) == []


def test_dry_run_lists_model_and_tag_requests(integ: Any, team: Path) -> None:
    r = integ("provider", "apply", "-f", str(team), "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [(x["method"], x["url"]) for x in r.json()] == [
        ("POST", "<server>/api/integrations/provider/openai-team"),
        ("POST", "<server>/api/integrations/provider/openai-team/integration/gpt-4o"),
        ("POST", "<server>/api/integrations/provider/openai-team/integration/gpt-4o-mini"),
        ("PUT", "<server>/api/integrations/provider/openai-team/tags"),
    ]
    assert r.json()[3]["body"] == [{"key": "team", "value": "ml"}]
    assert SECRET not in r.output


@responses.activate(assert_all_requests_are_fired=True)
def test_apply_reads_with_one_bulk_call_and_tags_only_where_documents_have_them(
    integ: Any, team: Path
) -> None:
    base = "http://conductor.test/api/integrations"
    live_team = {
        "name": "openai-team", "type": "openai", "category": "AI_MODEL", "description": "OpenAI for the team",
        "enabled": True, "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://api.openai.com/v1"},
        "modelsCount": 1,
        "apis": [{"api": "gpt-4o", "description": "GPT-4o", "enabled": True, "configuration": {}}],
    }  # fmt: skip
    responses.get(
        f"{base}/", json=[live_team], match=[responses.matchers.query_param_matcher({"activeOnly": "false"})]
    )
    responses.get(f"{base}/provider/openai-team/tags", json=[{"key": "team", "value": "ml"}])
    # the secret cannot be compared: sent; the reply is the saved object, whose updateTime is kept
    responses.post(f"{base}/provider/openai-team", json={**live_team, "updateTime": 1764326700001})
    responses.post(f"{base}/provider/openai-team/integration/gpt-4o-mini", body="")
    r = integ("provider", "apply", "-f", str(team), "--server", "http://conductor.test", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [m["action"] for m in r.json()[0]["models"]] == ["unchanged", "created"]
    assert r.json()[0]["tags"] == "unchanged"
    assert [c.request.method for c in responses.calls] == ["GET", "GET", "POST", "POST"]


@responses.activate(assert_all_requests_are_fired=True)
def test_export_warns_when_a_key_has_several_tag_values(integ: Any) -> None:
    base = "http://conductor.test/api/integrations"
    provider = {"name": "p", "type": "grok", "category": "AI_MODEL", "configuration": {}, "apis": []}
    responses.get(f"{base}/", json=[provider])
    responses.get(
        f"{base}/provider/p/tags", json=[{"key": "team", "value": "a"}, {"key": "team", "value": "b"}]
    )
    r = integ("provider", "export", "--server", "http://conductor.test", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()[0]["tags"] == {"team": "b"}
    assert "provider p has several tags 'team'" in r.stderr


def test_a_model_secret_is_unchanged_only_when_this_machine_applied_it(
    integ: Any, sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_KEY_A", SECRET)
    monkeypatch.setenv("TEST_MODEL_KEY", "sk-model-fingerprint-1")
    doc = tmp_path / "m.yaml"
    doc.write_text(
        "name: p\ntype: grok\nconfiguration: {api_key: '${env:TEST_KEY_A}'}\n"
        "models:\n- name: m\n  configuration: {api_key: '${env:TEST_MODEL_KEY}'}\n"
    )
    first = integ("provider", "apply", "-f", str(doc), "--server", sandbox, "-o", "json")
    assert first.exit_code == 0, first.stderr
    again = integ("provider", "apply", "-f", str(doc), "--server", sandbox, "-o", "json").json()[0]
    assert (again["action"], again["models"][0]["action"]) == ("unchanged", "unchanged")
    monkeypatch.setenv("TEST_MODEL_KEY", "sk-model-fingerprint-2")
    diff = integ("provider", "diff", "-f", str(doc), "--server", sandbox)
    assert (
        "models[m].configuration.api_key: (secret) -> (secret)  [will be sent (cannot be compared)]"
        in diff.stdout
    )
    rotated = integ("provider", "apply", "-f", str(doc), "--server", sandbox, "-o", "json").json()[0]
    assert (rotated["action"], rotated["models"][0]["action"]) == ("updated", "updated")
    for result in (first, diff):
        assert "sk-model-fingerprint" not in result.output


def test_a_crash_in_diff_is_not_read_as_drift(
    integ: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected internal error exits 70, never 1 (which `diff` uses for differences)."""
    from conductor_integrations.fleet import planning

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr(planning, "plan_all", broken)
    monkeypatch.setattr(planning, "read_live", lambda *a, **k: None)
    doc = tmp_path / "p.yaml"
    doc.write_text("name: p\ntype: openai\nconfiguration:\n  api_key: sk-abcd\n")
    r = integ("provider", "diff", "-f", str(doc), "--server", "https://conductor.example.com")
    assert "unexpected internal error: KeyError" in r.stderr
    assert r.exit_code == 70
