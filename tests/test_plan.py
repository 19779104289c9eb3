"""Plans (what apply would change), secret fingerprints and export documents."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.fleet import export, plan
from conductor_integrations.secrets import fingerprints

LIVE = {
    "name": "p",
    "type": "openai",
    "category": "AI_MODEL",
    "description": "d",
    "enabled": True,
    "configuration": {"api_key": "xxxxxxxxxx", "endpoint": "https://e"},
    "createTime": 1,
    "tags": [],
}


def never(name: str, key: str, value: str) -> bool:
    return False


def always(name: str, key: str, value: str) -> bool:
    return True


def test_create_lists_every_given_field() -> None:
    body = {"type": "openai", "category": "AI_MODEL", "configuration": {"api_key": "sk-zq9", "endpoint": "e"}}
    p = plan.compare("p", body, None, {"api_key"}, never)
    assert p.action == "create"
    assert [(c.path, c.secret) for c in p.changes] == [
        ("type", False),
        ("category", False),
        ("configuration.api_key", True),
        ("configuration.endpoint", False),
    ]
    assert p.changes[2].render() == "configuration.api_key: (none) -> (secret)  [set]"


def test_unchanged_when_fields_match_and_secret_fingerprint_matches() -> None:
    body = {
        "type": "openai",
        "description": "d",
        "enabled": True,
        "configuration": {"api_key": "s", "endpoint": "https://e"},
    }
    assert plan.compare("p", body, LIVE, {"api_key"}, always).action == "unchanged"


def test_secret_without_fingerprint_is_an_update_that_never_shows_values() -> None:
    body = {"type": "openai", "configuration": {"api_key": "sk-new", "endpoint": "https://e"}}
    p = plan.compare("p", body, LIVE, {"api_key"}, never)
    assert p.action == "update"
    [change] = p.changes
    assert (
        change.render() == "configuration.api_key: (secret) -> (secret)  [will be sent (cannot be compared)]"
    )
    assert change.record() == {
        "path": "configuration.api_key",
        "old": "(secret)",
        "new": "(secret)",
        "unverifiable": True,
    }


def test_field_changes_and_removed_keys() -> None:
    body = {"description": "new", "enabled": False, "configuration": {"api_key": "s"}}
    p = plan.compare("p", body, LIVE, {"api_key"}, always)
    assert [c.render() for c in p.changes] == [
        "description: d -> new",
        "enabled: true -> false",
        "configuration.endpoint: https://e -> (none)",
    ]


def test_fields_not_given_are_not_compared() -> None:
    assert plan.compare("p", {"type": "openai"}, LIVE, set(), never).action == "unchanged"


def test_type_change_is_its_own_action() -> None:
    p = plan.compare("p", {"type": "anthropic"}, LIVE, set(), never)
    assert (p.action, p.live_type) == ("type-change", "openai")


def test_masked_unknown_key_is_treated_as_secret() -> None:
    live = {**LIVE, "configuration": {"customToken": "xxxxxxxxxx"}}
    assert plan.live_secret_keys(live) == {"customToken"}


def test_fingerprints_round_trip_and_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "state" / fingerprints.FILE_NAME
    fp = fingerprints.Fingerprints(path, "http://s1")
    fp.record("p", {"api_key": "sk-1", "endpoint": "e"}, {"api_key"})
    fp.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "sk-1" not in path.read_text()
    again = fingerprints.Fingerprints(path, "http://s1")
    assert again.matches("p", "api_key", "sk-1")
    assert not again.matches("p", "api_key", "sk-2")
    assert not again.matches("p", "endpoint", "e")
    assert not fingerprints.Fingerprints(path, "http://other").matches("p", "api_key", "sk-1")
    again.forget("p")
    again.save()
    assert not fingerprints.Fingerprints(path, "http://s1").matches("p", "api_key", "sk-1")


def test_fingerprints_of_a_file_written_earlier_still_match(tmp_path: Path) -> None:
    # The file's format: HMAC-SHA256 under the file's own key of server NUL name NUL key
    # NUL value, in hex. A file written by an earlier integ must keep matching.
    key = bytes(range(32))
    message = "\0".join(("http://s1", "p", "api_key", "sk-1")).encode()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    path = tmp_path / fingerprints.FILE_NAME
    data = {"key": base64.b64encode(key).decode(), "servers": {"http://s1": {"p": {"api_key": digest}}}}
    path.write_text(json.dumps(data))
    found = fingerprints.Fingerprints(path, "http://s1")
    assert found.matches("p", "api_key", "sk-1")
    assert not found.matches("p", "api_key", "sk-2")
    found.record("q", {"api_key": "sk-1"}, {"api_key"})
    found.save()
    saved = json.loads(path.read_text())
    assert saved["key"] == data["key"]
    again = "\0".join(("http://s1", "q", "api_key", "sk-1")).encode()
    assert saved["servers"]["http://s1"]["q"]["api_key"] == hmac.new(key, again, hashlib.sha256).hexdigest()


def test_corrupt_state_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / fingerprints.FILE_NAME
    path.write_text("{not json")
    assert not fingerprints.Fingerprints(path, "s").matches("p", "k", "v")


@pytest.mark.parametrize(
    ("mode", "expected"), [("keyring", "${keyring}"), ("env", "${env:OPENAI_PROD_API_KEY}")]
)
def test_export_document_never_writes_secrets(mode: str, expected: str) -> None:
    live: dict[str, Any] = {**LIVE, "name": "openai-prod", "description": "uses ${x}"}
    doc = export.document(live, mode)
    assert doc == {
        "name": "openai-prod",
        "type": "openai",
        "category": "AI_MODEL",
        "description": "uses $${x}",
        "enabled": True,
        "configuration": {"api_key": expected, "endpoint": "https://e"},
    }


# -- models and tags ----------------------------------------------------------------------------

LIVE_MODEL = {"api": "gpt-4o", "description": "GPT-4o", "enabled": True, "configuration": {}}


def test_new_model_is_created_with_the_defaults_the_body_carries() -> None:
    mp = plan.compare_model("p", "gpt-4o", {"description": "GPT-4o"}, None, set(), never)
    assert mp.action == "create"
    assert mp.body == {"description": "GPT-4o", "enabled": True, "configuration": {}}
    assert [c.render() for c in mp.changes] == ["description: (none) -> GPT-4o", "enabled: (none) -> true"]


def test_model_fields_not_given_are_neither_compared_nor_changed() -> None:
    mp = plan.compare_model("p", "gpt-4o", {}, {**LIVE_MODEL, "configuration": {"x": "1"}}, set(), never)
    assert mp.action == "unchanged"
    assert mp.body == {"description": "GPT-4o", "enabled": True}  # no configuration: kept


def test_model_changes_field_by_field() -> None:
    given = {"enabled": False, "configuration": {"x": "2"}}
    mp = plan.compare_model(
        "p", "gpt-4o", given, {**LIVE_MODEL, "configuration": {"x": "1", "y": "3"}}, set(), never
    )
    assert mp.action == "update"
    assert [c.render() for c in mp.changes] == [
        "enabled: true -> false",
        "configuration.x: 1 -> 2",
        "configuration.y: 3 -> (none)",
    ]
    assert mp.body == {"description": "GPT-4o", "enabled": False, "configuration": {"x": "2"}}


def test_model_secrets_use_their_own_fingerprints() -> None:
    live = {**LIVE_MODEL, "configuration": {"api_key": "xxxxxxxxxx"}}
    asked: list[str] = []

    def matches(name: str, key: str, value: str) -> bool:
        asked.append(name)
        return True

    mp = plan.compare_model("p", "gpt-4o", {"configuration": {"api_key": "s"}}, live, {"api_key"}, matches)
    assert mp.action == "unchanged"
    assert asked == [plan.model_key("p", "gpt-4o")]
    assert plan.model_key("p", "gpt-4o") != "p"


@pytest.mark.parametrize(
    ("desired", "live", "put", "delete", "rendered"),
    [
        ({"team": "ml"}, [], [("team", "ml")], [], ["tags.team: (none) -> ml"]),
        ({"team": "ml"}, [("team", "ml")], [], [], []),
        ({"team": "ml"}, [("team", "ops")], [("team", "ml")], [("team", "ops")], ["tags.team: ops -> ml"]),
        ({}, [("env", "prod")], [], [("env", "prod")], ["tags.env: prod -> (none)"]),
        (
            {"team": "ml"},
            [("team", "ml"), ("team", "ops")],
            [],
            [("team", "ops")],
            ["tags.team: ml, ops -> ml"],
        ),
    ],
)
def test_tags_are_the_whole_set(
    desired: dict[str, str],
    live: list[tuple[str, str]],
    put: list[tuple[str, str]],
    delete: list[tuple[str, str]],
    rendered: list[str],
) -> None:
    tp = plan.compare_tags(desired, live)
    assert (tp.put, tp.delete) == (put, delete)
    assert [c.render() for c in tp.changes] == rendered
    assert tp.differs == bool(rendered)


def test_unchanged_provider_with_a_changed_model_is_an_update() -> None:
    own = plan.compare("p", {"type": "openai"}, LIVE, set(), never)
    mp = plan.compare_model("p", "gpt-4o", {"enabled": False}, LIVE_MODEL, set(), never)
    pl = plan.with_children(own, [mp], plan.compare_tags({"team": "ml"}, [("team", "ml")]))
    assert (pl.action, pl.own_action) == ("update", "unchanged")
    assert [c.render() for c in pl.changes] == ["models[gpt-4o].enabled: true -> false"]


def test_unchanged_everything_stays_unchanged() -> None:
    own = plan.compare("p", {"type": "openai"}, LIVE, set(), never)
    mp = plan.compare_model("p", "gpt-4o", {"description": "GPT-4o"}, LIVE_MODEL, set(), never)
    pl = plan.with_children(own, [mp], plan.compare_tags({}, []))
    assert (pl.action, pl.changes, pl.differs) == ("unchanged", [], False)


def test_type_change_keeps_only_the_type_change() -> None:
    own = plan.compare("p", {"type": "anthropic"}, LIVE, set(), never)
    mp = plan.compare_model("p", "m", {}, None, set(), never)
    pl = plan.with_children(own, [mp], None)
    assert pl.action == "type-change"
    assert [c.path for c in pl.changes] == ["type"]


def test_export_writes_models_and_tags() -> None:
    models = [
        {"api": "b", "description": "B ${x}", "enabled": False, "configuration": {"api_key": "xxxxxxxxxx"}},
        {"api": "a", "description": None, "enabled": True, "configuration": None},
    ]
    doc = export.document({**LIVE, "name": "p"}, "env", models, [("team", "ml"), ("n", "${raw}")])
    assert doc["models"] == [
        {"name": "a", "description": "", "enabled": True, "configuration": {}},
        {
            "name": "b",
            "description": "B $${x}",
            "enabled": False,
            "configuration": {"api_key": "${env:P_B_API_KEY}"},
        },
    ]
    assert doc["tags"] == {"team": "ml", "n": "${raw}"}  # tags are taken as written
    assert list(doc) == [
        "name",
        "type",
        "category",
        "description",
        "enabled",
        "configuration",
        "models",
        "tags",
    ]


def test_export_leaves_out_empty_models_and_tags() -> None:
    doc = export.document({**LIVE, "name": "p"}, "keyring", [], [])
    assert "models" not in doc and "tags" not in doc


# -- a mask is never a value; stale fingerprints ----------------------------------------------


@pytest.mark.parametrize("mask", ["********", "xxxxxxxxxx", "***"])
def test_a_masked_secret_keeps_the_server_value_and_sends_the_server_s_mask(mask: str) -> None:
    body = {"type": "openai", "configuration": {"api_key": mask, "endpoint": "https://e"}}
    same = plan.compare("p", body, LIVE, {"api_key"}, never)
    assert same.action == "unchanged"
    edited = plan.compare("p", {**body, "description": "new"}, LIVE, {"api_key"}, never)
    assert edited.action == "update"
    assert [c.path for c in edited.changes] == ["description"]
    assert edited.body is not None
    assert edited.body["configuration"] == {"api_key": "xxxxxxxxxx", "endpoint": "https://e"}


def test_a_mask_on_create_or_for_a_key_the_server_lacks_is_invalid() -> None:
    body = {"type": "openai", "configuration": {"api_key": "********"}}
    created = plan.compare("p", body, None, {"api_key"}, never)
    assert created.action == "invalid"
    assert created.error is not None and "configuration.api_key" in created.error
    missing = plan.compare("p", body, {**LIVE, "configuration": {"endpoint": "e"}}, {"api_key"}, never)
    assert missing.action == "invalid"


def test_a_masked_model_secret_keeps_the_model_s_value() -> None:
    live_model = {"api": "m", "description": "", "enabled": True, "configuration": {"api_key": "xxxxxxxxxx"}}
    given = {"description": "d", "configuration": {"api_key": "********"}}
    mp = plan.compare_model("p", "m", given, live_model, {"api_key"}, never)
    assert mp.action == "update"
    assert [c.path for c in mp.changes] == ["description"]
    assert mp.body["configuration"] == {"api_key": "xxxxxxxxxx"}
    new = plan.compare_model("p", "m", given, None, {"api_key"}, never)
    assert new.action == "invalid"
    provider = plan.with_children(plan.compare("p", {"type": "openai"}, LIVE, set(), always), [new], None)
    assert provider.action == "invalid"
    assert provider.error is not None and "models[m].configuration.api_key" in provider.error


def test_stale_fingerprints_make_secrets_changed() -> None:
    body = {"type": "openai", "configuration": {"api_key": "sk-zq9", "endpoint": "https://e"}}
    assert plan.compare("p", body, LIVE, {"api_key"}, always).action == "unchanged"
    stale = plan.compare("p", body, LIVE, {"api_key"}, always, stale="changed on the server")
    assert stale.action == "update"
    [change] = stale.changes
    assert change.secret and change.unverifiable
    assert "changed on the server" in change.render()
    assert "sk-zq9" not in change.render()


def test_fingerprints_keep_the_update_time_read_after_the_write(tmp_path: Path) -> None:
    path = tmp_path / fingerprints.FILE_NAME
    fp = fingerprints.Fingerprints(path, "http://s1")
    fp.record("p", {"api_key": "sk-1", "other": "********"}, {"api_key", "other"}, update_time=1700)
    fp.save()
    again = fingerprints.Fingerprints(path, "http://s1")
    assert again.fresh("p", 1700)
    assert not again.fresh("p", 1701)
    assert not again.matches("p", "other", "********")
    legacy = fingerprints.Fingerprints(tmp_path / "legacy.json", "http://s1")
    legacy.record("q", {"api_key": "sk-1"}, {"api_key"})
    assert legacy.fresh("q", None)
    assert not legacy.fresh("q", 1700)


def test_export_writes_non_text_values_as_their_json_text() -> None:
    config = {"port": 5672, "flag": True, "ratio": 1.5, "arr": [1, "x"], "nested": {"a": None, "b": "${x}"}}
    doc = export.document({**LIVE, "name": "p", "configuration": config}, "keyring")
    assert {k: doc["configuration"][k] for k in config} == {
        "port": "5672",
        "flag": "true",
        "ratio": "1.5",
        "arr": '[1, "x"]',
        "nested": '{"a": null, "b": "$${x}"}',
    }
