"""The reference page's two curl examples, sent with curl, answer 200; a GET then shows the
provider disabled and its secret masked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conductor_integrations.sandbox import RunningSandbox
from conductor_integrations.sandbox.shapes import MASK

from .conftest import Client
from .curl_examples import CURL, page_examples, send

pytestmark = pytest.mark.skipif(CURL is None, reason="curl is not installed")


def test_the_page_has_the_two_examples() -> None:
    create, update = page_examples()
    assert create[:3] == ["curl", "-X", "POST"]
    assert '"enabled": true' in create[-1]
    assert '"enabled": false' in update[-1]


def test_curl_examples_against_the_sandbox(client: Client, sandbox: RunningSandbox) -> None:
    for example in page_examples():
        status, body = send(example, sandbox.url)
        assert status == 200, body
    got = client.get("/integrations/provider/openAI-marketing").json()
    assert got["enabled"] is False
    assert got["configuration"] == {"api_key": MASK}
    assert (got["type"], got["category"]) == ("openai", "AI_MODEL")


def test_curl_examples_with_a_real_token(start_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = start_sandbox(auth=["ci:s3cret"])
    create, update = page_examples()
    assert send(create, sandbox.url)[0] == 401  # the page's placeholder is not a token
    token = Client(sandbox.url).token("ci", "s3cret")
    assert send(create, sandbox.url, token)[0] == 200
    assert send(update, sandbox.url, token)[0] == 200
    got = Client(sandbox.url, token).get("/integrations/provider/openAI-marketing").json()
    assert (got["enabled"], got["configuration"]["api_key"], got["createdBy"]) == (False, MASK, "ci")
