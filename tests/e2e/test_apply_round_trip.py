"""A provider document with two models and a tag: apply it to the real ``integ server``,
export it back (secrets as references), and diff finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .conftest import Run

pytestmark = pytest.mark.e2e

KEY = {"OPENAI_KEY": "sk-e2e-secret-value"}


DOCUMENT = """\
name: openai-team
type: openai
category: AI_MODEL
description: OpenAI for the team
enabled: true
configuration:
  api_key: ${keyring}
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


def test_apply_export_diff_round_trip(integ: Callable[..., Run], tmp_path: Path) -> None:
    doc = tmp_path / "openai-team.yaml"
    doc.write_text(DOCUMENT.replace("${keyring}", "${env:OPENAI_KEY}"))
    applied = integ("provider", "apply", "-f", str(doc), **KEY)
    assert applied.code == 0, applied.stderr
    exported = integ("provider", "export", "openai-team")
    assert exported.code == 0, exported.stderr
    assert yaml.safe_load(exported.stdout) == yaml.safe_load(DOCUMENT)
    diff = integ("provider", "diff", "-f", str(doc), **KEY)
    assert diff.code == 0, diff.stdout + diff.stderr
