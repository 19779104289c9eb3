"""Reading YAML and JSON documents: several per file, lists, folders, lines."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import yaml

from conductor_integrations.documents import reader
from conductor_integrations.errors import InputError

LOADERS = {"libyaml": getattr(yaml, "CSafeLoader", None), "pure": yaml.SafeLoader}


@pytest.fixture(autouse=True, params=sorted(LOADERS))
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    """Every test here runs with libyaml's loader and with the pure Python one (the one
    used where PyYAML has no libyaml)."""
    chosen = LOADERS[request.param]
    if chosen is None:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(reader, "_loader_class", lambda: chosen)
    return chosen


def write(tmp_path: Path, name: str, text: str) -> str:
    f = tmp_path / name
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    return str(f)


def test_several_documents_and_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.yaml", "name: a\ntype: grok\n---\n\n---\nname: b\nconfiguration:\n  api_key: x\n"
    )
    docs = reader.load(path)
    assert [d.data["name"] for d in docs] == ["a", "b"]
    assert [d.label for d in docs] == [f"{path}#1", f"{path}#2"]
    assert docs[1].line_of(("configuration", "api_key")) == 8
    assert docs[1].line_of(("configuration", "nothing")) == 7


def test_top_level_list_gives_one_provider_per_item(tmp_path: Path) -> None:
    path = write(tmp_path, "l.yaml", "- name: a\n  type: grok\n- name: b\n  type: grok\n")
    docs = reader.load_all([path])
    assert [d.data["name"] for d in docs] == ["a", "b"]
    assert docs[1].line_of(("type",)) == 4


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: a\ntype: grok\nconfiguration:\n  api_key: x\n bad: indent\n")
    with pytest.raises(InputError) as info:
        reader.load(path)
    assert info.value.message.startswith(f"{path}:5: cannot parse YAML")


def test_json_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{\n  "name": "a",\n  "type": \n}\n')
    with pytest.raises(InputError) as info:
        reader.load(path)
    assert info.value.message.startswith(f"{path}:4: cannot parse JSON")


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", "name: a\nname: b\n")
    with pytest.raises(InputError, match=r"d\.yaml:2: duplicate key 'name'"):
        reader.load(path)


def test_folder_is_read_recursively_in_order(tmp_path: Path) -> None:
    write(tmp_path, "dir/b.yaml", "name: b\n")
    write(tmp_path, "dir/sub/a.json", '{"name": "a"}')
    write(tmp_path, "dir/readme.txt", "ignored")
    docs = reader.load_all([str(tmp_path / "dir")])
    assert [d.data["name"] for d in docs] == ["b", "a"]


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.yaml"):
        reader.load_all([str(tmp_path / "empty")])


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"name": "s", "type": "grok"}'))
    [doc] = reader.load_all(["-"])
    assert doc.data == {"name": "s", "type": "grok"} and doc.source == "<stdin>"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        reader.load(str(tmp_path / "nope.yaml"))


def test_raw_scalar_text_is_kept(tmp_path: Path) -> None:
    [doc] = reader.load(
        write(tmp_path, "r.yaml", "configuration:\n  port: 0x1F\n  v: 2023-06-01\n  s: '5'\n")
    )
    assert doc.raw_text(("configuration", "port")) == "0x1F"
    assert doc.raw_text(("configuration", "v")) == "2023-06-01"
    assert doc.raw_text(("configuration", "s")) is None


# -- JSON keeps the line of every key, as YAML does --------------------------------------------

JSON_FLEET = """\
[
  {
    "name": "a",
    "description": "tricky \\"quoted\\": {text} [with] , brackets",
    "configuration": {"api_key": "k", "port": 5672, "ratio": 1.50},
    "models": [
      {"name": "m1"},
      {"name": "m2", "description": "x:"}
    ]
  },
  {"name": "b",
   "type": "grok"}
]
"""


def test_json_lines_of_every_key(tmp_path: Path) -> None:
    path = write(tmp_path, "f.json", JSON_FLEET)
    a, b = reader.load_all([path])
    assert a.line_of(("name",)) == 3
    assert a.line_of(("configuration",)) == 5
    assert a.line_of(("configuration", "port")) == 5
    assert a.line_of(("configuration", "missing")) == 5  # the closest known parent
    assert a.line_of(("models", 1, "description")) == 8
    assert a.line_of(("models", 1)) == 8
    assert b.line_of(("type",)) == 12
    assert b.line_of(()) == 11


def test_json_numbers_keep_their_text(tmp_path: Path) -> None:
    path = write(tmp_path, "f.json", JSON_FLEET)
    a, _ = reader.load_all([path])
    assert a.data["configuration"] == {"api_key": "k", "port": 5672, "ratio": 1.5}
    assert a.raw_text(("configuration", "ratio")) == "1.50"
    assert a.raw_text(("configuration", "port")) == "5672"


def test_json_data_is_what_json_decodes(tmp_path: Path) -> None:
    import json

    path = write(tmp_path, "f.json", JSON_FLEET)
    [doc] = reader.load(path)
    assert doc.data == json.loads(JSON_FLEET)
    assert all(type(v) in (int, float) for v in doc.data[0]["configuration"].values() if v not in ("k",))


def test_json_duplicate_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = '[\n  {"name": "a", "type": "grok"},\n  {"name": "b",\n   "type": "grok",\n   "name": "c"}\n]\n'
    path = write(tmp_path, "d.json", text)
    with pytest.raises(InputError, match=r"d\.json:5: duplicate key 'name'"):
        reader.load(path)


def test_json_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "one.json", '{"name": "a", "configuration": {"x": "y"}}')
    [doc] = reader.load(path)
    assert doc.line_of(("configuration", "x")) == 1


def test_a_folder_skips_hidden_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: {push: {}}\n")
    (tmp_path / ".draft.yaml").write_text("name: draft\n")
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "a.yaml").write_text("name: a\n")
    assert reader.expand_paths([str(tmp_path)]) == [str(tmp_path / "team" / "a.yaml")]
    # a hidden file given by name is read: only folders skip them
    assert reader.expand_paths([str(tmp_path / ".draft.yaml")]) == [str(tmp_path / ".draft.yaml")]


def test_documents_of_another_kind_are_skipped_with_a_note(tmp_path: Path) -> None:
    f = tmp_path / "mixed.yaml"
    f.write_text("kind: Deployment\nmetadata: {name: web}\n---\nkind: Provider\nname: a\n---\nname: b\n")
    notes: list[str] = []
    docs = reader.load_all([str(f)], note=notes.append)
    assert [d.data["name"] for d in docs] == ["a", "b"]
    assert len(notes) == 1 and "'Deployment'" in notes[0] and "mixed.yaml#1:1" in notes[0]


RICH_YAML = """\
base: &base
  endpoint: https://e.example
  port: 5672
name: rich
type: relational_db
when: 2023-06-01
enabled: yes
ratio: 1.5
nothing: ~
configuration:
  <<: *base
  user: "quoted: text"
  hosts:
    - a
    - {host: b, port: 1}
  folded: >
    two
    lines
"""


def test_both_loaders_read_the_same_data_lines_and_raw_text(tmp_path: Path, loader: type) -> None:
    path = write(tmp_path, "rich.yaml", RICH_YAML)
    (doc,) = reader.load(path)
    assert doc.data == yaml.safe_load(RICH_YAML)
    assert doc.line_of(("configuration", "user")) == 12
    assert doc.line_of(("configuration", "hosts", 1, "port")) == 15
    assert doc.line_of(("configuration", "folded")) == 16
    assert doc.line_of(("ratio",)) == 8
    assert doc.raw_text(("when",)) == "2023-06-01"
    assert doc.raw_text(("base", "port")) == "5672"
    assert doc.raw_text(("name",)) is None
