"""The Conductor client: URLs, auth, retries, error mapping, TLS and the debug log.

Exact server replies come from ``responses``; every stub must be used. The only real
network is a closed port on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from conductor_integrations import __version__, config, output
from conductor_integrations.client import api, replies
from conductor_integrations.errors import (
    AuthError,
    ExitCode,
    InputError,
    NotFoundError,
    RejectedError,
    ServerUnavailable,
    UsageError,
)
from conductor_integrations.secrets import redact

ROOT = "https://conductor.example.com"
API = ROOT + "/api"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries pause through ``api.sleep``: recorded here instead of waited for."""
    waited: list[float] = []
    monkeypatch.setattr(api, "sleep", waited.append)
    return waited


def client(**kwargs: Any) -> api.Client:
    kwargs.setdefault("token", "tok-123456")
    return api.Client(ROOT, **kwargs)


def settings(**values: Any) -> config.Settings:
    flags = {"server": ROOT, **values}
    return config.resolve(flags, env={})


# -- URL and headers -------------------------------------------------------------------


@pytest.mark.parametrize("given", [ROOT, ROOT + "/", API, API + "/"])
def test_server_url_with_or_without_api(given: str, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/a", json={"name": "a", "type": "openai"})
    c = api.Client(given)
    assert c.base_url == ROOT
    assert c.get_provider("a") == {"name": "a", "type": "openai"}


def test_headers_user_agent_accept_and_raw_token(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider/a",
        json={"name": "a"},
        match=[
            matchers.header_matcher(
                {"User-Agent": f"integ/{__version__}", "Accept": "*/*", "X-Authorization": "tok-123456"}
            )
        ],
    )
    client().get_provider("a")


def test_no_credentials_sends_no_auth_header(mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/a", json={"name": "a"})
    api.Client(ROOT).get_provider("a")
    assert "X-Authorization" not in mock.calls[0].request.headers


def test_name_is_percent_encoded(mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/a%20b%2Fc%3F", json={"name": "a b/c?"})
    assert client().get_provider("a b/c?") == {"name": "a b/c?"}
    assert mock.calls[0].request.url == f"{API}/integrations/provider/a%20b%2Fc%3F"


def test_timeout_and_verification_are_passed_on(mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/a", json={"name": "a"})
    client(timeout=4.5).get_provider("a")
    kwargs = mock.calls[0].request.req_kwargs
    assert kwargs["timeout"] == (4.5, 4.5)
    assert kwargs["verify"] is True


# -- the provider calls ------------------------------------------------------------------


def test_list_sends_active_only_false_by_default(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider",
        json=[{"name": "a"}],
        match=[matchers.query_param_matcher({"activeOnly": "false"})],
    )
    assert client().list_providers() == [{"name": "a"}]


def test_list_active_only_and_category(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider",
        json=[],
        match=[matchers.query_param_matcher({"activeOnly": "true", "category": "VECTOR_DB"})],
    )
    assert client().list_providers("VECTOR_DB", active_only=True) == []


def test_get_missing_is_none_and_delete_missing_raises(mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider/gone", status=404, json={"message": "not found"})
    mock.delete(
        f"{API}/integrations/provider/gone", status=404, json={"message": "Integration gone not found"}
    )
    c = client()
    assert c.get_provider("gone") is None
    with pytest.raises(NotFoundError, match="Integration gone not found"):
        c.delete_provider("gone")


def test_put_returns_saved_object_or_none(mock: responses.RequestsMock) -> None:
    mock.post(f"{API}/integrations/provider/a", json={"name": "a", "type": "openai"})
    mock.post(f"{API}/integrations/provider/b", body="")
    c = client()
    assert c.put_provider("a", {"type": "openai"}) == {"name": "a", "type": "openai"}
    assert c.put_provider("b", {"type": "openai"}) is None


# -- auth ----------------------------------------------------------------------------------


def test_key_is_exchanged_for_a_token(mock: responses.RequestsMock) -> None:
    mock.post(
        f"{API}/token",
        json={"token": "minted-token-1"},
        match=[matchers.json_params_matcher({"keyId": "key-1", "keySecret": "key-secret-1"})],
    )
    mock.get(
        f"{API}/integrations/provider/a",
        json={"name": "a"},
        match=[matchers.header_matcher({"X-Authorization": "minted-token-1"})],
    )
    api.Client(ROOT, key_id="key-1", key_secret="key-secret-1").get_provider("a")
    assert "X-Authorization" not in mock.calls[0].request.headers
    assert {"minted-token-1", "key-secret-1"} <= redact.registered()


def test_token_404_means_no_auth(mock: responses.RequestsMock) -> None:
    mock.post(f"{API}/token", status=404)
    mock.get(f"{API}/integrations/provider/a", json={"name": "a"})
    api.Client(ROOT, key_id="key-1", key_secret="key-secret-1").get_provider("a")
    assert "X-Authorization" not in mock.calls[1].request.headers


def test_token_refused_is_auth_error_with_hint(mock: responses.RequestsMock) -> None:
    mock.post(f"{API}/token", status=401, json={"message": "Invalid key"})
    with pytest.raises(AuthError) as info:
        api.Client(ROOT, key_id="key-1", key_secret="key-secret-1").get_provider("a")
    assert "Invalid key" in info.value.message
    assert any("integ auth login --key-id key-1" in h for h in info.value.hints)


def test_key_without_secret_is_input_error_before_sending(mock: responses.RequestsMock) -> None:
    with pytest.raises(InputError) as info:
        api.Client(ROOT, key_id="key-1", key_secret=lambda: None).get_provider("a")
    assert info.value.exit_code == ExitCode.INVALID
    assert "integ auth login --key-id key-1" in info.value.hints[0]
    assert not mock.calls


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("code", ["EXPIRED_TOKEN", "INVALID_TOKEN"])
def test_expired_token_is_refreshed_once(status: int, code: str, mock: responses.RequestsMock) -> None:
    url = f"{API}/integrations/provider/a"
    mock.post(f"{API}/token", json={"token": "token-one"})
    mock.get(url, status=status, json={"error": code, "message": "Token expired"})
    mock.post(f"{API}/token", json={"token": "token-two"})
    mock.get(url, json={"name": "a"}, match=[matchers.header_matcher({"X-Authorization": "token-two"})])
    c = api.Client(ROOT, key_id="key-1", key_secret="key-secret-1")
    assert c.get_provider("a") == {"name": "a"}
    assert [call.request.method for call in mock.calls] == ["POST", "GET", "POST", "GET"]


def test_refresh_happens_once_only(mock: responses.RequestsMock) -> None:
    url = f"{API}/integrations/provider/a"
    mock.post(f"{API}/token", json={"token": "token-one"})
    mock.get(url, status=401, json={"error": "EXPIRED_TOKEN"})
    mock.post(f"{API}/token", json={"token": "token-two"})
    mock.get(url, status=401, json={"error": "EXPIRED_TOKEN"})
    with pytest.raises(AuthError) as info:
        api.Client(ROOT, key_id="key-1", key_secret="key-secret-1").get_provider("a")
    assert len(mock.calls) == 4
    assert "fresh token was refused too" in info.value.hints[0]


def test_expired_ready_token_without_key_is_auth_error(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/integrations/provider/a", status=401, json={"error": "EXPIRED_TOKEN", "message": "expired"}
    )
    with pytest.raises(AuthError) as info:
        client().get_provider("a")
    assert len(mock.calls) == 1
    assert "token expired" in info.value.hints[0]


def test_403_without_token_error_is_not_refreshed(mock: responses.RequestsMock) -> None:
    mock.post(f"{API}/token", json={"token": "token-one"})
    mock.post(f"{API}/integrations/provider/a", status=403, json={"message": "no permission"})
    with pytest.raises(AuthError, match="no permission"):
        api.Client(ROOT, key_id="key-1", key_secret="s3cret-key").put_provider("a", {})
    assert len(mock.calls) == 2


# -- retries ---------------------------------------------------------------------------------


def test_503_then_200_succeeds_after_one_retry(mock: responses.RequestsMock, sleeps: list[float]) -> None:
    url = f"{API}/integrations/provider/a"
    mock.get(url, status=503)
    mock.get(url, json={"name": "a"})
    assert client().get_provider("a") == {"name": "a"}
    assert len(mock.calls) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_are_retried_until_the_limit(
    status: int, mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    url = f"{API}/integrations/provider/a"
    for _ in range(4):
        mock.get(url, status=status)
    with pytest.raises(ServerUnavailable, match=r"after 3 retries"):
        client(retries=3).get_provider("a")
    assert len(mock.calls) == 4
    assert len(sleeps) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422])
def test_other_4xx_are_never_retried(status: int, mock: responses.RequestsMock, sleeps: list[float]) -> None:
    mock.post(f"{API}/integrations/provider/a", status=status, json={"message": "no"})
    with pytest.raises(Exception) as info:
        client().put_provider("a", {"type": "openai"})
    assert len(mock.calls) == 1
    assert sleeps == []
    assert getattr(info.value, "status", None) == status


def test_backoff_grows_with_jitter(mock: responses.RequestsMock, sleeps: list[float]) -> None:
    url = f"{API}/integrations/provider/a"
    for _ in range(4):
        mock.get(url, status=502)
    mock.get(url, json={"name": "a"})
    client(retries=4, backoff=api.Backoff(base=1.0, cap=100)).get_provider("a")
    for attempt, waited in enumerate(sleeps):
        ceiling = 2.0**attempt
        assert ceiling / 2 <= waited <= ceiling


def test_retry_after_is_honoured(mock: responses.RequestsMock, sleeps: list[float]) -> None:
    url = f"{API}/integrations/provider/a"
    mock.get(url, status=429, headers={"Retry-After": "7"})
    mock.get(url, json={"name": "a"})
    client().get_provider("a")
    assert sleeps == [7.0]


def test_retry_after_at_the_cap_is_waited_for(mock: responses.RequestsMock, sleeps: list[float]) -> None:
    url = f"{API}/integrations/provider/a"
    mock.get(url, status=503, headers={"Retry-After": f"{api.MAX_RETRY_AFTER:g}"})
    mock.get(url, json={"name": "a"})
    client().get_provider("a")
    assert sleeps == [api.MAX_RETRY_AFTER]


def test_retry_after_beyond_the_cap_fails_at_once_and_says_so(
    mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    """Retrying sooner than the server asked would not honour it; sleeping for a day is not
    what a pipeline wants: exit 7 now, with how long the server asked for."""
    url = f"{API}/integrations/provider/a"
    mock.get(url, status=503, headers={"Retry-After": "86400"})
    with pytest.raises(ServerUnavailable) as caught:
        client().get_provider("a")
    assert sleeps == []
    assert "asked to wait 86400 s" in caught.value.hints[0]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_retry_after_that_is_no_number_of_seconds_falls_back_to_backoff(
    value: str, mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    url = f"{API}/integrations/provider/a"
    mock.get(url, status=429, headers={"Retry-After": value})
    mock.get(url, json={"name": "a"})
    assert client().get_provider("a") == {"name": "a"}
    assert len(sleeps) == 1 and 0 < sleeps[0] <= api.Backoff().cap


@pytest.mark.parametrize(
    "raised", [requests.exceptions.ConnectionError("reset"), requests.exceptions.ReadTimeout("slow")]
)
def test_connection_errors_and_timeouts_are_retried(
    raised: Exception, mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    url = f"{API}/integrations/provider/a"
    mock.post(url, body=raised)
    mock.post(url, json={"name": "a"})
    assert client().put_provider("a", {"type": "openai"}) == {"name": "a"}
    assert len(sleeps) == 1


def test_timeouts_after_retries_say_so(mock: responses.RequestsMock, sleeps: list[float]) -> None:
    url = f"{API}/integrations/provider/a"
    for _ in range(3):
        mock.get(url, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ServerUnavailable) as info:
        client(retries=2, timeout=3).get_provider("a")
    assert info.value.message == f"no reply from {ROOT} within 3 s (after 2 retries)"
    assert "--timeout" in info.value.hints[0]


def test_tls_errors_are_not_retried(mock: responses.RequestsMock, sleeps: list[float]) -> None:
    mock.get(
        f"{API}/integrations/provider/a",
        body=requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
    )
    with pytest.raises(ServerUnavailable) as info:
        client().get_provider("a")
    assert "certificate verify failed" in info.value.message
    assert "--ca-bundle" in info.value.hints[0]
    assert sleeps == []


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_server_is_unavailable(sleeps: list[float]) -> None:
    port = closed_port()
    c = api.Client(f"http://127.0.0.1:{port}", retries=2)
    with pytest.raises(ServerUnavailable) as info:
        c.list_providers()
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert info.value.message == (
        f"cannot reach the server at http://127.0.0.1:{port}: connection refused (after 2 retries)"
    )
    assert len(sleeps) == 2


# -- error bodies and replies that are not the API -----------------------------------------


def test_conductor_error_body_is_shown(mock: responses.RequestsMock) -> None:
    mock.post(
        f"{API}/integrations/provider/a",
        status=400,
        json={
            "status": 400,
            "message": "Validation failed, check below errors for detail.",
            "instance": "pod-1",
            "retryable": False,
            "validationErrors": [
                {"path": "configuration.dimensions", "message": "must be a number", "invalidValue": "abc"},
                {"path": "configuration.api_key", "message": "too short", "invalidValue": "sk-leaky"},
            ],
        },
    )
    with pytest.raises(RejectedError) as info:
        client().put_provider("a", {"type": "pgvectordb"})
    err = info.value
    assert err.exit_code == ExitCode.REJECTED
    assert err.message == (
        f"HTTP 400 from POST {API}/integrations/provider/a: Validation failed, check below errors for detail."
    )
    assert err.details == [
        "configuration.dimensions: must be a number (got 'abc')",
        "configuration.api_key: too short",
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "expected", "html_hint"),
    [
        ("", "application/json", "Internal Server Error", False),
        ("<html><body><h1>Bad gateway</h1></body></html>", "text/html", "Internal Server Error", True),
        ("upstream   connect error\n", "text/plain", "upstream connect error", False),
        ('{"status": 500}', "application/json", "Internal Server Error", False),
        ("[1, 2]", "application/json", "Internal Server Error", False),
    ],
)
def test_error_bodies_that_are_not_conductor_ones(
    body: str, content_type: str, expected: str, html_hint: bool, mock: responses.RequestsMock
) -> None:
    mock.get(f"{API}/integrations/provider/a", status=500, body=body, content_type=content_type)
    with pytest.raises(ServerUnavailable) as info:
        client().get_provider("a")
    assert info.value.message == f"HTTP 500 from GET {API}/integrations/provider/a: {expected}"
    assert any("HTML page" in h for h in info.value.hints) is html_hint


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<!DOCTYPE html><html>login</html>", "text/html"), ("ok", "text/plain")],
)
def test_200_that_is_not_json_on_get_is_unavailable(
    body: str, content_type: str, mock: responses.RequestsMock
) -> None:
    mock.get(f"{API}/integrations/provider", body=body, content_type=content_type)
    with pytest.raises(ServerUnavailable) as info:
        client().list_providers()
    assert "not what the Conductor API returns" in info.value.message
    assert info.value.exit_code == 7


def test_200_html_on_post_is_unavailable(mock: responses.RequestsMock) -> None:
    mock.post(f"{API}/integrations/provider/a", body="<html>UI</html>", content_type="text/html")
    with pytest.raises(ServerUnavailable, match="an HTML page"):
        client().put_provider("a", {})


@pytest.mark.parametrize(
    "reply", [{"name": "a"}, ["a"], "text"], ids=["object-for-list", "strings", "string"]
)
def test_list_of_the_wrong_shape_is_unavailable(reply: Any, mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/integrations/provider", json=reply)
    with pytest.raises(ServerUnavailable, match="expected a list of providers"):
        client().list_providers()


# -- connect: settings, TLS, the sandbox ----------------------------------------------------


def test_connect_needs_a_server() -> None:
    with pytest.raises(UsageError) as info, api.connect(config.resolve({}, env={})):
        pass
    assert info.value.exit_code == ExitCode.USAGE
    assert any("--server local" in h for h in info.value.hints)


@pytest.mark.parametrize("url", ["conductor.example.com", "ftp://x.example.com", "https://"])
def test_connect_refuses_urls_that_are_not_http(url: str) -> None:
    with (
        pytest.raises(UsageError, match="not an http:// or https:// URL"),
        api.connect(config.resolve({"server": url}, env={})),
    ):
        pass


def test_insecure_warns_and_skips_verification(
    mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.get(f"{API}/integrations/provider/a", json={"name": "a"})
    with api.connect(settings(insecure=True)) as c:
        c.get_provider("a")
    assert mock.calls[0].request.req_kwargs["verify"] is False
    assert "warning: --insecure" in capsys.readouterr().err


def test_ca_bundle_is_used_for_verification(mock: responses.RequestsMock, tmp_path: Any) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    mock.get(f"{API}/integrations/provider/a", json={"name": "a"})
    with api.connect(settings(ca_bundle=str(bundle))) as c:
        c.get_provider("a")
    assert mock.calls[0].request.req_kwargs["verify"] == str(bundle)


def test_missing_ca_bundle_is_usage_error() -> None:
    with pytest.raises(UsageError, match="no such file"), api.connect(settings(ca_bundle="/nonexistent.pem")):
        pass


def test_connect_reads_key_secret_from_environment(
    mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "env-key-secret")
    mock.post(
        f"{API}/token",
        json={"token": "minted"},
        match=[matchers.json_params_matcher({"keyId": "k1", "keySecret": "env-key-secret"})],
    )
    mock.get(f"{API}/integrations/provider", json=[])
    with api.connect(settings(key_id="k1")) as c:
        assert c.list_providers() == []


def test_connect_reads_key_secret_from_keyring(mock: responses.RequestsMock, memory_keyring: Any) -> None:
    from conductor_integrations.secrets import credentials

    memory_keyring.set_password(credentials.AUTH_SERVICE, f"{ROOT}|k1", "ring-key-secret")
    mock.post(
        f"{API}/token",
        json={"token": "minted"},
        match=[matchers.json_params_matcher({"keyId": "k1", "keySecret": "ring-key-secret"})],
    )
    mock.get(f"{API}/integrations/provider", json=[])
    with api.connect(settings(server=API + "/", key_id="k1")) as c:
        c.list_providers()


def test_ready_token_wins_over_key(mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "env-key-secret")
    mock.get(
        f"{API}/integrations/provider",
        json=[],
        match=[matchers.header_matcher({"X-Authorization": "ready-token"})],
    )
    with api.connect(settings(key_id="k1", token="ready-token")) as c:
        c.list_providers()


class StandIn:
    """Plays ``sandbox.open_in_process`` until the real one is there: answers every
    request with an empty list and records what it was sent."""

    def __init__(self) -> None:
        self.url = "http://local.invalid"
        self.events: list[str] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, **kwargs: Any) -> StandIn:
        self.events.append("start")
        return self

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.headers.append(dict(headers))
        return 200, {"Content-Type": "application/json"}, b"[]"

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.events.append("stop")


def test_local_starts_the_sandbox_for_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import conductor_integrations.sandbox as sandbox

    stand_in = StandIn()
    monkeypatch.setattr(sandbox, "open_in_process", stand_in, raising=False)
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", "not-for-the-sandbox")
    with api.connect(config.resolve({"server": "local", "key_id": "k1"}, env={})) as c:
        assert stand_in.events == ["start"]
        assert c.list_providers() == []
    assert stand_in.events == ["start", "stop"]
    assert "X-Authorization" not in stand_in.headers[0]


# -- the debug log ----------------------------------------------------------------------------


def test_debug_log_masks_credentials_and_secrets(
    mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    output.configure(debug=True)
    mock.post(f"{API}/token", json={"token": "minted-token-xyz"})
    mock.post(
        f"{API}/integrations/provider/a",
        json={"name": "a", "configuration": {"api_key": "sk-echoed-back", "endpoint": "https://e"}},
    )
    c = api.Client(ROOT, key_id="key-1", key_secret="key-secret-abc")
    c.put_provider(
        "a", {"type": "openai", "configuration": {"api_key": "sk-live-value", "endpoint": "https://e"}}
    )
    err = capsys.readouterr().err
    assert f"> POST {API}/token" in err
    assert "> X-Authorization: ********" in err
    assert '"keySecret": "********"' in err
    assert '"api_key": "********"' in err
    assert '"endpoint": "https://e"' in err
    for secret in ("minted-token-xyz", "key-secret-abc", "sk-live-value", "sk-echoed-back"):
        assert secret not in err


# -- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("not a date", None),
    ],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert replies.retry_after_seconds(value, now=now) == seconds


def test_error_body_tolerates_odd_shapes() -> None:
    body = replies.error_body(json.dumps({"message": "  two\n lines ", "validationErrors": ["plain", {}]}))
    assert body.message == "two lines"
    assert body.validation_errors == ["plain"]
    assert replies.error_body("not json").message == ""


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(status: int, mock: responses.RequestsMock) -> None:
    # requests would replay a redirected POST as a GET and the provider would never be saved.
    mock.post(
        f"{API}/integrations/provider/a",
        status=status,
        headers={"Location": "https://other.example.com/api/integrations/provider/a"},
    )
    with pytest.raises(ServerUnavailable) as info:
        client().put_provider("a", {"type": "openai"})
    assert info.value.message == (
        f"HTTP {status} from POST {API}/integrations/provider/a: the server redirects to "
        "https://other.example.com/api/integrations/provider/a"
    )
    assert len(mock.calls) == 1


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("loacl", "did you mean --server local (the built-in sandbox)?"),
        ("Locla", "did you mean --server local (the built-in sandbox)?"),
        ("lcoal", "did you mean --server local (the built-in sandbox)?"),
        ("conductor.example.com", "did you mean https://conductor.example.com?"),
        ("localhost:8080", "did you mean https://localhost:8080?"),
    ],
)
def test_a_mistyped_server_gets_the_closest_hint(url: str, hint: str) -> None:
    with pytest.raises(UsageError) as info:
        config.server_root(url)
    assert info.value.hints[0] == hint
    if "local (" in hint:
        assert not any("https://" + url in h for h in info.value.hints)
        assert sum("--server local" in h for h in info.value.hints) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "INVALID_TOKEN", "message": "invalid token"}), (401, {}), (403, {"message": "no"})],
)
def test_refused_with_no_credentials_at_all_says_how_to_give_them(
    mock: responses.RequestsMock, status: int, body: dict[str, Any]
) -> None:
    mock.get(f"{API}/integrations/provider/a", status=status, json=body)
    with pytest.raises(AuthError) as info:
        api.Client(ROOT).get_provider("a")
    assert info.value.exit_code == 4
    first = info.value.hints[0]
    assert first.startswith("no credentials were given")
    assert (
        "`integ auth login`" in first and "CONDUCTOR_AUTH_KEY" in first and "CONDUCTOR_AUTH_SECRET" in first
    )
    assert not any("expired" in h for h in info.value.hints)


def test_https_to_a_plain_http_port_says_so_and_suggests_http(tmp_path: Any) -> None:
    from conductor_integrations.sandbox import serve_in_background

    with serve_in_background(tmp_path / "sandbox.db") as running:
        plain = running.url.rstrip("/")
        wrong = plain.replace("http://", "https://", 1)
        with pytest.raises(ServerUnavailable) as info:
            api.Client(wrong, retries=0, timeout=5).get_provider("a")
    error = info.value
    assert error.exit_code == 7
    assert error.message == f"the server at {wrong} does not speak TLS (https) on that port"
    assert error.hints[0] == f"if it is a plain-HTTP server, use --server {plain}"
    assert not any("--ca-bundle" in h for h in error.hints)
    assert "WRONG_VERSION" not in error.message and "_TLSPool" not in error.message
