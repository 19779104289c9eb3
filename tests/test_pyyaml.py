"""PyYAML imported with its import-time regular expressions deferred reads, rejects and
writes exactly as PyYAML imported plainly (each checked in a fresh process, where PyYAML
is not imported yet)."""

from __future__ import annotations

import json
import subprocess
import sys

SAMPLES = [
    "a: 1\\nb: 1.5\\nc: 0x1f\\nd: 1_000\\ne: .inf\\nf: -.NaN\\n",
    "when: 2023-06-01\\nat: 2001-12-14t21:59:43.10-05:00\\n",
    "on: yes\\noff: No\\nt: TRUE\\nn: ~\\nnull2: null\\nempty:\\n",
    "base: &b {x: 1, y: 2}\\nmerged:\\n  <<: *b\\n  y: 3\\n",
    "s: 'quoted'\\nplain: text, with spaces\\nlist: [1, two, 3.0]\\n",
    "bin: !!binary aGVsbG8=\\n",
]
BAD = ["a: \\x07\\n", "\\x1f", "a: [1, 2\\n", "a: b: c\\n"]

DRIVER = """
import json, sys
if sys.argv[1] == "deferred":
    from conductor_integrations import pyyaml
    pyyaml.prepare()
import yaml
out = {"deferred": type(yaml.reader.Reader.NON_PRINTABLE).__name__}
samples, bad = json.loads(sys.argv[2]), json.loads(sys.argv[3])
loaders = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])
out["loaded"] = [[repr(yaml.load(s, Loader=L)) for s in samples] for L in loaders]
errors = []
for L in loaders:
    for s in bad:
        try:
            yaml.load(s, Loader=L)
            errors.append(None)
        except yaml.YAMLError as exc:
            errors.append(str(exc))
out["errors"] = errors
out["dumped"] = yaml.safe_dump({"d": yaml.safe_load(samples[1]), "s": "2023-06-01", "n": "1.5", "b": "yes"})
texts = ("ok\\u00e9", "a\\x07", "\\ufffe")
out["printable"] = [bool(yaml.reader.Reader.NON_PRINTABLE.search(t)) for t in texts]
print(json.dumps(out))
"""


def run(mode: str) -> dict[str, object]:
    samples = [s.encode().decode("unicode_escape") for s in SAMPLES]
    bad = [s.encode().decode("unicode_escape") for s in BAD]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, mode, json.dumps(samples), json.dumps(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_deferred_expressions_read_reject_and_write_as_plain_pyyaml() -> None:
    plain, deferred = run("plain"), run("deferred")
    assert deferred.pop("deferred") == "DeferredPattern"
    assert plain.pop("deferred") == "Pattern"
    assert deferred == plain
    assert plain["printable"] == [False, True, True]
    assert all(plain["errors"])  # every bad sample was refused, by both loaders
