"""Safe writes of ``apply`` and ``diff`` (contract section 7) with the real ``integ`` process
against the real ``integ server`` process: a mask is never a value, ``get`` output is an
apply document, secret drift is seen, and ``apply --dry-run`` is a plan that writes nothing.

Stored values are read from the sandbox's own SQLite file, never from integ's output."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.sandbox.store import Store

from .conftest import Run, ServerProcess, run_integ

pytestmark = pytest.mark.e2e

PASSWORD = "pg-stored-password-0711"
ROTATED = "pg-rotated-elsewhere-0712"
MODEL_KEY = "sk-model-stored-0713"
DOCUMENT = f"""\
name: pg1
type: relational_db
description: orders database
configuration:
  jdbcDriver: org.postgresql.Driver
  datasourceURL: jdbc:postgresql://db.internal:5432/orders
  user: orders_app
  password: {PASSWORD}
tags:
  env: prod
  team: data
"""
ACCESS = re.compile(r'"(GET|POST|PUT|DELETE) (/api/\S*) HTTP')


def stored(server: ServerProcess, name: str) -> dict[str, Any]:
    """The provider as the sandbox stored it: real secret values, tags as pairs."""
    store = Store(server.data)
    try:
        row = store.get_provider(name)
        assert row is not None, f"{name} is not stored"
        return {
            "type": row.type,
            "category": row.category,
            "description": row.description,
            "enabled": row.enabled,
            "configuration": row.configuration,
            "tags": sorted(row.tags),
        }
    finally:
        store.close()


def stored_model_config(server: ServerProcess, provider: str, model: str) -> dict[str, Any]:
    store = Store(server.data)
    try:
        return store.get_model(provider, model).configuration
    finally:
        store.close()


def writes(server: ServerProcess, since: int = 0) -> list[str]:
    """The write requests in the server's access log after line ``since``."""
    found = (ACCESS.search(line) for line in server.stderr_lines[since:])
    return [f"{m.group(1)} {m.group(2)}" for m in found if m and m.group(1) != "GET"]


def methods(server: ServerProcess, since: int = 0) -> set[str]:
    found = (ACCESS.search(line) for line in server.stderr_lines[since:])
    return {m.group(1) for m in found if m}


@pytest.fixture
def logged(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """A server with its access log on (every request is counted by method)."""
    return start_server()


def against(server: ServerProcess) -> Callable[..., Run]:
    def run(*args: str, input: str | None = None, **env: str) -> Run:
        return run_integ(*args, input=input, CONDUCTOR_SERVER_URL=server.url, **env)

    return run


def applied(server: ServerProcess, tmp_path: Path) -> Path:
    doc = tmp_path / "pg1.yaml"
    doc.write_text(DOCUMENT)
    first = against(server)("provider", "apply", "-f", str(doc), "-o", "json")
    assert first.code == 0, first.stderr
    assert first.json()[0]["action"] == "created"
    return doc


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_get_output_applied_unedited_keeps_every_key_and_secret(
    logged: ServerProcess, tmp_path: Path, fmt: str
) -> None:
    integ = against(logged)
    applied(logged, tmp_path)
    before = stored(logged, "pg1")
    got = integ("provider", "get", "pg1", "-o", fmt)
    assert got.code == 0, got.stderr
    assert PASSWORD not in got.stdout
    mark = len(logged.stderr_lines)
    again = integ("provider", "apply", "-f", "-", "-o", "json", input=got.stdout)
    assert again.code == 0, again.stderr
    assert [(r["name"], r["action"]) for r in again.json()] == [("pg1", "unchanged")]
    assert "unknown field" not in again.stderr
    assert writes(logged, mark) == []
    assert stored(logged, "pg1") == before
    assert stored(logged, "pg1")["configuration"]["password"] == PASSWORD


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_get_output_with_one_field_edited_sends_the_mask_back_and_the_secret_stays(
    logged: ServerProcess, tmp_path: Path, fmt: str
) -> None:
    integ = against(logged)
    applied(logged, tmp_path)
    before = stored(logged, "pg1")
    got = integ("provider", "get", "pg1", "-o", fmt)
    edited = got.stdout.replace("orders database", "orders database (primary)")
    assert edited != got.stdout
    mark = len(logged.stderr_lines)
    again = integ("provider", "apply", "-f", "-", "-o", "json", input=edited)
    assert again.code == 0, again.stderr
    assert again.json()[0]["action"] == "updated"
    assert writes(logged, mark) == ["POST /api/integrations/provider/pg1"]
    after = stored(logged, "pg1")
    assert after["configuration"] == before["configuration"]
    assert after["configuration"]["password"] == PASSWORD
    assert after["tags"] == before["tags"]
    assert after["description"] == "orders database (primary)"
    diff = integ("provider", "diff", "-f", "-", input=edited)
    assert diff.code == 0, diff.stdout + diff.stderr


def test_a_mask_in_a_new_provider_is_refused_and_nothing_is_sent(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = tmp_path / "new.yaml"
    doc.write_text(DOCUMENT.replace(PASSWORD, "'********'").replace("pg1", "pg2"))
    mark = len(logged.stderr_lines)
    r = integ("provider", "apply", "-f", str(doc), "-o", "json")
    assert r.code == 3, r.stdout + r.stderr
    assert r.json()[0]["action"] == "failed"
    assert "configuration.password" in r.json()[0]["error"]
    assert writes(logged, mark) == []
    dry = integ("provider", "apply", "-f", str(doc), "--dry-run", "-o", "json")
    assert dry.code == 3
    assert dry.json()[0]["action"] == "failed"


def test_a_mask_in_a_model_keeps_the_model_secret(logged: ServerProcess, tmp_path: Path) -> None:
    integ = against(logged)
    doc = tmp_path / "m.yaml"
    body = "name: oa\ntype: openai\nconfiguration: {api_key: sk-provider-0714}\n"
    doc.write_text(body + f"models:\n- name: gpt\n  configuration: {{api_key: {MODEL_KEY}}}\n")
    assert integ("provider", "apply", "-f", str(doc)).code == 0
    doc.write_text(
        body + "models:\n- name: gpt\n  description: edited\n  configuration: {api_key: '********'}\n"
    )
    r = integ("provider", "apply", "-f", str(doc), "-o", "json")
    assert r.code == 0, r.stderr
    assert r.json()[0]["models"][0]["action"] == "updated"
    assert stored_model_config(logged, "oa", "gpt")["api_key"] == MODEL_KEY


def test_a_secret_changed_by_another_client_is_seen_and_put_back(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = applied(logged, tmp_path)
    assert integ("provider", "diff", "-f", str(doc)).code == 0
    current = stored(logged, "pg1")
    logged.post_provider(
        "pg1", {**current, "configuration": {**current["configuration"], "password": ROTATED}}
    )
    assert stored(logged, "pg1")["configuration"]["password"] == ROTATED
    diff = integ("provider", "diff", "-f", str(doc))
    assert diff.code == 1, diff.stdout + diff.stderr
    assert "configuration.password" in diff.stdout
    assert ROTATED not in diff.stdout + diff.stderr
    fixed = integ("provider", "apply", "-f", str(doc), "-o", "json")
    assert fixed.code == 0, fixed.stderr
    assert fixed.json()[0]["action"] == "updated"
    assert stored(logged, "pg1")["configuration"]["password"] == PASSWORD
    settled = integ("provider", "apply", "-f", str(doc), "-o", "json")
    assert settled.json()[0]["action"] == "unchanged"


def test_resend_secrets_sends_secrets_the_fingerprints_call_unchanged(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = applied(logged, tmp_path)
    assert integ("provider", "apply", "-f", str(doc), "-o", "json").json()[0]["action"] == "unchanged"
    mark = len(logged.stderr_lines)
    r = integ("provider", "apply", "-f", str(doc), "--resend-secrets", "-o", "json")
    assert r.code == 0, r.stderr
    assert r.json()[0]["action"] == "updated"
    assert writes(logged, mark) == ["POST /api/integrations/provider/pg1"]
    assert stored(logged, "pg1")["configuration"]["password"] == PASSWORD


def test_ignore_secrets_makes_a_drift_gate_possible_on_a_fresh_machine(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = applied(logged, tmp_path)
    fresh = str(tmp_path / "fresh-runner-data")
    plain = integ("provider", "diff", "-f", str(doc), INTEG_DATA_DIR=fresh)
    assert plain.code == 1, plain.stdout + plain.stderr
    gate = integ("provider", "diff", "-f", str(doc), "--ignore-secrets", INTEG_DATA_DIR=fresh)
    assert gate.code == 0, gate.stdout + gate.stderr
    assert "configuration.password" in gate.stdout
    assert "unverifiable" in gate.stdout
    doc.write_text(DOCUMENT.replace("orders database", "orders"))
    changed = integ("provider", "diff", "-f", str(doc), "--ignore-secrets", INTEG_DATA_DIR=fresh)
    assert changed.code == 1


def member(i: int) -> str:
    return (
        f"---\nname: fleet-{i:03d}\ntype: openai\ndescription: member {i}\n"
        f"configuration: {{api_key: sk-fleet-{i:03d}}}\ntags: {{fleet: f}}\n"
    )


def fleet(count: int) -> str:
    return "".join(member(i) for i in range(count))


def test_dry_run_against_a_server_is_a_plan_that_writes_nothing(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = tmp_path / "fleet.yaml"
    doc.write_text(fleet(50))
    assert integ("provider", "apply", "-f", str(doc)).code == 0
    mark = len(logged.stderr_lines)
    dry = integ("provider", "apply", "-f", str(doc), "--dry-run", "-o", "json")
    assert dry.code == 0, dry.stderr
    assert {r["action"] for r in dry.json()} == {"unchanged"}
    assert len(dry.json()) == 50
    assert methods(logged, mark) == {"GET"}
    doc.write_text(fleet(50).replace("member 7\n", "member seven\n") + member(50))
    mark = len(logged.stderr_lines)
    planned = integ("provider", "apply", "-f", str(doc), "--dry-run", "-o", "json")
    assert planned.code == 0, planned.stderr
    actions = {r["name"]: r["action"] for r in planned.json()}
    assert (actions["fleet-007"], actions["fleet-050"], actions["fleet-001"]) == (
        "updated",
        "created",
        "unchanged",
    )
    changes = next(r["changes"] for r in planned.json() if r["name"] == "fleet-007")
    assert changes == [{"path": "description", "old": "member 7", "new": "member seven"}]
    assert methods(logged, mark) == {"GET"}
    assert "sk-fleet" not in planned.stdout + planned.stderr


def test_dry_run_reports_a_type_change_as_failed_with_apply_s_exit_code(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = applied(logged, tmp_path)
    doc.write_text(DOCUMENT.replace("relational_db", "openai").replace("password", "api_key"))
    mark = len(logged.stderr_lines)
    dry = integ("provider", "apply", "-f", str(doc), "--dry-run", "--no-validate", "-o", "json")
    assert dry.code == 6, dry.stdout + dry.stderr
    assert dry.json()[0]["action"] == "failed"
    assert methods(logged, mark) == {"GET"}


def test_dry_run_without_a_server_prints_requests_and_says_it_could_not_compare(tmp_path: Path) -> None:
    doc = tmp_path / "pg1.yaml"
    doc.write_text(DOCUMENT)
    r = run_integ("provider", "apply", "-f", str(doc), "--dry-run")
    assert r.code == 0, r.stderr
    assert "POST <server>/api/integrations/provider/pg1" in r.stdout
    assert "could not compare" in r.stderr
    assert PASSWORD not in r.stdout + r.stderr


def test_a_model_secret_changed_by_another_client_is_seen_and_put_back(
    logged: ServerProcess, tmp_path: Path
) -> None:
    integ = against(logged)
    doc = tmp_path / "m.yaml"
    doc.write_text(
        "name: oa\ntype: openai\nconfiguration: {api_key: sk-provider-0715}\n"
        f"models:\n- name: gpt\n  configuration: {{api_key: {MODEL_KEY}}}\n"
    )
    assert integ("provider", "apply", "-f", str(doc)).code == 0
    assert integ("provider", "diff", "-f", str(doc)).code == 0
    request = urllib.request.Request(
        f"{logged.url}/api/integrations/provider/oa/integration/gpt",
        data=json.dumps({"description": "", "enabled": True, "configuration": {"api_key": ROTATED}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=30).close()
    diff = integ("provider", "diff", "-f", str(doc))
    assert diff.code == 1, diff.stdout + diff.stderr
    assert "models[gpt].configuration.api_key" in diff.stdout
    fixed = integ("provider", "apply", "-f", str(doc), "-o", "json")
    assert fixed.json()[0]["models"][0]["action"] == "updated"
    assert stored_model_config(logged, "oa", "gpt")["api_key"] == MODEL_KEY
