"""Wire compatibility with the official JavaScript SDK (``@io-orkes/conductor-javascript``):
``tests/sdk_js/integrations.cjs`` drives its ``IntegrationClient`` against a real ``integ
server`` process with ``--auth`` (the SDK mints its token from the key): providers (create,
update, disable, list with and without disabled, delete), models, provider and model tags
(two values of one key), definitions, available models, the name list, prompt association
and bulk save.

The SDK is installed once with npm, pinned, into ``INTEG_JS_SDK_DIR`` (default
``.cache/js-sdk`` in the repository, git-ignored; ``.ci/run`` installs it before the tests).
The test is skipped only when node or npm is not installed; a failing install fails it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import DEADLINE, ServerProcess, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.sdk]

PACKAGE = "@io-orkes/conductor-javascript"
VERSION = "4.0.0"
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "sdk_js" / "integrations.cjs"
#: Printed by the script once per SDK call that passed.
CALLS = [
    "saveIntegrationProvider (create)",
    "getIntegrationProvider",
    "saveIntegrationProvider (update)",
    "saveIntegrationProvider (disable)",
    "getIntegrationProviders (active only)",
    "getIntegrations (activeOnly false)",
    "saveIntegrationApi",
    "getIntegrationApi",
    "getIntegrationApis",
    "getIntegrationAvailableApis",
    "getProvidersAndIntegrations",
    "getIntegrations (with apis)",
    "setProviderTags / getProviderTags (two values of one key)",
    "deleteProviderTags",
    "setIntegrationTags / getIntegrationTags",
    "deleteIntegrationTags",
    "getIntegrationProviderDefs",
    "associatePromptWithIntegration",
    "getPromptsWithIntegration",
    "saveAllIntegrations (POST /api/integrations/ through the client)",
    "deleteIntegrationApi",
    "deleteIntegrationProvider",
    "getIntegrationProvider of a deleted provider rejects",
]


def sdk_dir() -> Path:
    return Path(os.environ.get("INTEG_JS_SDK_DIR") or REPO / ".cache" / "js-sdk")


def installed_version(folder: Path) -> str | None:
    manifest = folder / "node_modules" / PACKAGE / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return str(version).lstrip("v") if version else None


@pytest.fixture(scope="module")
def js_sdk() -> Path:
    """The folder holding the pinned SDK, installed with npm when it is not there yet."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the JavaScript SDK test needs node and npm")
    folder = sdk_dir()
    if installed_version(folder) != VERSION:
        folder.mkdir(parents=True, exist_ok=True)
        # --legacy-peer-deps: the SDK's optional peers (langchain, zod) conflict with each
        # other, and the integration client needs none of them.
        done = subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(folder),
                "--no-audit",
                "--no-fund",
                "--legacy-peer-deps",
                "--loglevel=error",
                f"{PACKAGE}@{VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm install {PACKAGE}@{VERSION} failed:\n{done.stderr}"
        assert installed_version(folder) == VERSION
    return folder


def test_js_sdk_integration_client_against_integ_server(
    js_sdk: Path, start_server: Callable[..., ServerProcess]
) -> None:
    server = start_server("--quiet", "--auth", "ci:s3cret-js")
    env = base_env(
        CONDUCTOR_SERVER_URL=f"{server.url}/api",
        CONDUCTOR_AUTH_KEY="ci",
        CONDUCTOR_AUTH_SECRET="s3cret-js",
    )
    done = subprocess.run(
        ["node", str(SCRIPT), str(js_sdk)],
        capture_output=True,
        text=True,
        env=env,
        timeout=DEADLINE * 2,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\nserver:\n{server.stderr}"
    assert done.stdout.splitlines() == [f"ok {call}" for call in CALLS]
    assert "sk-js-sdk-0001" not in done.stdout + done.stderr + server.stderr
