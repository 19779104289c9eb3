"""The pull-request loop end to end: the real ``integ`` process against the real ``integ
server`` process. Paths as arguments, folders with hidden files and foreign documents,
``--prune`` with ``-l`` selectors (apply, ``--dry-run``, ``diff``), ``-l`` on ``list`` and
``export``, and ``export --secrets env`` refusing two secrets that share one variable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Run, ServerProcess

pytestmark = pytest.mark.e2e

KEY = {"OPENAI_KEY": "sk-e2e-prune-secret"}


def _put(integ: Callable[..., Run], name: str, *tags: str) -> None:
    put = integ("provider", "put", name, "-t", "openai", "-c", "api_key=${env:OPENAI_KEY}", **KEY)
    assert put.code == 0, put.stderr
    if tags:
        tagged = integ("provider", "tag", "set", name, *tags)
        assert tagged.code == 0, tagged.stderr


def _doc(name: str, team: str | None = "x", models: list[str] | None = None) -> str:
    text = f"name: {name}\ntype: openai\nconfiguration:\n  api_key: ${{env:OPENAI_KEY}}\n"
    if team is not None:
        text += f"tags:\n  team: {team}\n"
    if models is not None:
        text += "models:\n" + "".join(f"  - name: {m}\n" for m in models)
    return text


def _names(integ: Callable[..., Run]) -> list[str]:
    listed = integ("provider", "list", "-o", "json")
    assert listed.code == 0, listed.stderr
    return sorted(p["name"] for p in listed.json())


def test_paths_as_arguments_skip_hidden_and_foreign_documents(
    integ: Callable[..., Run], server: ServerProcess, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet"
    (fleet / ".github" / "workflows").mkdir(parents=True)
    (fleet / ".github" / "workflows" / "ci.yml").write_text("on:\n  push: {}\njobs: {}\n")
    (fleet / ".hidden.yaml").write_text("name: hidden\ntype: openai\n")
    (fleet / "one.yaml").write_text("kind: Provider\n" + _doc("one", team=None))
    (fleet / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
    checked = integ("validate", str(fleet), **KEY)
    assert checked.code == 0, checked.stderr
    assert "1 provider checked" in checked.stderr
    assert "Deployment" in checked.stderr and "skipped" in checked.stderr
    assert integ("validate", "-f", str(fleet), **KEY).code == 0
    applied = integ("provider", "apply", str(fleet), **KEY)
    assert applied.code == 0, applied.stderr
    assert "unknown field" not in applied.stderr  # kind: Provider is integ's own
    assert _names(integ) == ["one"]
    got = integ("provider", "get", "one", "-o", "json").json()
    assert "kind" not in got
    assert integ("provider", "diff", str(fleet), **KEY).code == 0
    assert integ("provider", "diff", "--file", str(fleet), **KEY).code == 0
    assert integ("provider", "apply", "--filename", str(fleet / "one.yaml"), **KEY).code == 0


def test_prune_with_selectors(integ: Callable[..., Run], tmp_path: Path) -> None:
    _put(integ, "keep", "team=x")
    for model in ("m1", "m2"):
        assert integ("model", "put", "keep", model).code == 0
    _put(integ, "stale", "team=x", "env=prod")
    _put(integ, "other", "team=y")
    _put(integ, "untagged")
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "keep.yaml").write_text(_doc("keep", models=["m1"]))
    (fleet / "new.yaml").write_text(_doc("new"))

    no_selector = integ("provider", "apply", str(fleet), "--prune", **KEY)
    assert no_selector.code == 2, no_selector.stderr
    no_prune = integ("provider", "diff", str(fleet), "-l", "team=x", **KEY)
    assert no_prune.code == 2, no_prune.stderr

    (fleet / "loose.yaml").write_text(_doc("loose", team=None))
    missing = integ("provider", "apply", str(fleet), "--prune", "-l", "team=x", **KEY)
    assert missing.code == 3, missing.stderr
    assert "loose" in missing.stderr and "team=x" in missing.stderr
    assert _names(integ) == ["keep", "other", "stale", "untagged"]  # nothing sent
    (fleet / "loose.yaml").unlink()

    diff = integ("provider", "diff", str(fleet), "--prune", "-l", "team=x", **KEY)
    assert diff.code == 1, diff.stderr
    assert "stale" in diff.stdout and "deleted" in diff.stdout
    assert "models[m2]" in diff.stdout

    dry = integ("provider", "apply", str(fleet), "--prune", "-l", "team=x", "--dry-run", "-o", "json", **KEY)
    assert dry.code == 0, dry.stderr
    actions = {r["name"]: r["action"] for r in dry.json()}
    assert actions == {"keep": "updated", "new": "created", "stale": "deleted"}
    assert _names(integ) == ["keep", "other", "stale", "untagged"]  # nothing sent

    applied = integ("provider", "apply", str(fleet), "--prune", "-l", "team=x", "-o", "json", **KEY)
    assert applied.code == 0, applied.stderr
    records = {r["name"]: r for r in applied.json()}
    assert records["stale"]["action"] == "deleted"
    assert {m["name"]: m["action"] for m in records["keep"]["models"]} == {"m1": "unchanged", "m2": "deleted"}
    assert _names(integ) == ["keep", "new", "other", "untagged"]
    models = integ("model", "list", "keep", "-o", "json")
    assert [m["api"] for m in models.json()] == ["m1"]

    again = integ("provider", "diff", str(fleet), "--prune", "-l", "team=x", **KEY)
    assert again.code == 0, again.stdout + again.stderr


def test_selectors_filter_list_and_export(integ: Callable[..., Run]) -> None:
    _put(integ, "a", "team=x", "env=prod")
    _put(integ, "b", "team=x")
    _put(integ, "c", "team=y", "env=prod")
    listed = integ("provider", "list", "-l", "team=x", "-o", "json")
    assert listed.code == 0, listed.stderr
    assert sorted(p["name"] for p in listed.json()) == ["a", "b"]
    both = integ("provider", "list", "-l", "team=x", "-l", "env=prod", "-o", "json")
    assert [p["name"] for p in both.json()] == ["a"]
    exported = integ("provider", "export", "-l", "env=prod", "-o", "json")
    assert exported.code == 0, exported.stderr
    assert sorted(d["name"] for d in exported.json()) == ["a", "c"]
    assert integ("provider", "list", "-l", "team").code == 2


def test_export_env_refuses_two_secrets_on_one_variable(integ: Callable[..., Run]) -> None:
    _put(integ, "a-b")
    _put(integ, "a_b")
    exported = integ("provider", "export", "--secrets", "env")
    assert exported.code == 3, exported.stderr
    assert "A_B_API_KEY" in exported.stderr
    assert "a-b" in exported.stderr and "a_b" in exported.stderr
    assert exported.stdout == ""
    assert integ("provider", "export", "--secrets", "keyring").code == 0


def test_pull_request_script(integ: Callable[..., Run], tmp_path: Path) -> None:
    """What a CI pipeline runs: validate on the pull request, diff, apply --prune on merge,
    then diff finds nothing left to do."""
    _put(integ, "retired", "team=x")
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "openai.yaml").write_text(_doc("openai", models=["gpt-4o"]))
    # On the pull request: no secret in the environment, offline checks only.
    assert integ("validate", "--offline", str(fleet)).code == 0
    before = integ("provider", "diff", str(fleet), "--prune", "-l", "team=x", **KEY)
    assert before.code == 1, before.stderr
    applied = integ("provider", "apply", str(fleet), "--prune", "-l", "team=x", "-o", "json", **KEY)
    assert applied.code == 0, applied.stderr
    assert {r["name"]: r["action"] for r in applied.json()} == {"openai": "created", "retired": "deleted"}
    after = integ("provider", "diff", str(fleet), "--prune", "-l", "team=x", **KEY)
    assert after.code == 0, after.stdout + after.stderr
    assert json.loads(integ("provider", "list", "-o", "json").stdout)[0]["name"] == "openai"
