"""The Conductor client: one ``requests.Session`` per command, retries, time limits and the
mapping of replies to typed errors. Only ``client/`` imports requests and urllib3, and
nothing here prints: the ``--debug`` log goes to the sink the client is given (``http_log``).
The endpoints (paths, shapes of replies) are ``endpoints``'s; the methods here that name
one are that module's functions. Bulk work sets a lean exchange on the client as its
``transport`` (``bulk``).

How a request is made (written once, here):

1. URL: the server root (given with or without ``/api``) + ``/api`` + the path; names in
   paths are percent-encoded by ``endpoints.segment`` (``.`` and ``..`` refused).
2. Auth (``tokens``): a ready token (``--token``, ``CONDUCTOR_AUTH_TOKEN``) sent as it is in
   ``X-Authorization`` (no "Bearer"); else, with an application key id, the token cached for
   it, or one minted at ``POST /api/token`` (a 404 there: the server has no auth); else none.
3. Each attempt ends within ``--timeout``: connecting, sending, the status line, the
   headers and the body, not each read (``deadline``, at the socket), and reads at most
   ``MAX_REPLY_BYTES``. Connection errors, timeouts, 429, 502, 503 and 504 are retried
   (``--retries``, default 3) with exponential backoff and jitter, honouring ``Retry-After``
   up to ``MAX_RETRY_AFTER`` (a longer one fails at once); other 4xx never are. After
   ``stop_retrying()`` (Ctrl-C) no request or retry starts; nor once the ``breaker`` bulk
   work sets on the client has opened (the server stopped answering: ``NotSent``).
4. A 401/403 whose body's ``error`` is ``EXPIRED_TOKEN`` or ``INVALID_TOKEN`` (or a 401 to a
   cached token) for a token integ got from the key: a new token is minted once and the
   request retried once. A ready token that is refused is an error (exit 4), never replaced.
5. Any other error status becomes ``errors.ServerError.from_status`` with the server's
   ``message`` and ``validationErrors``; a reply that is not what the API returns (not
   JSON, the wrong shape, nested deeper than ``safe_json.MAX_DEPTH``) is exit 7.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from conductor_integrations import __version__, config
from conductor_integrations.client import deadline, endpoints, http_log, replies, tokens
from conductor_integrations.client.breaker import Breaker
from conductor_integrations.errors import (
    IntegError,
    Interrupted,
    NotSent,
    ServerError,
    ServerUnavailable,
    UsageError,
)
from conductor_integrations.secrets import redact, safe_json

USER_AGENT = f"integ/{__version__}"
#: The reference page's curl examples send ``accept: */*``; so does integ.
ACCEPT = "*/*"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Longest wait a ``Retry-After`` may ask for; a CLI does not sleep for minutes: a longer
#: one is not retried (the command fails at once and says how long the server asked for).
MAX_RETRY_AFTER = 60.0
#: Largest reply read; anything bigger is not what the integrations API returns.
MAX_REPLY_BYTES = 64 * 2**20


def sleep(seconds: float) -> None:
    """The pause between retries (tests replace it to run without waiting); the client
    ends the real one early on ``stop_retrying()``."""
    time.sleep(seconds)


_REAL_SLEEP = sleep


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt ``n`` waits between half and all of
    ``min(cap, base * 2**n)``; a ``Retry-After`` from the server wins (up to a minute)."""

    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        ceiling = min(self.cap, self.base * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class Client:
    """A Conductor server reached through one ``requests.Session``."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        token: str | None = None,
        key_id: str | None = None,
        key_secret: Callable[[], str | None] | str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        verify: bool | str = True,
        backoff: Backoff | None = None,
        debug_log: http_log.Sink | None = None,
    ):
        """``debug_log``: where the ``--debug`` log of requests, responses, retries and
        tokens goes, secrets masked (None: no log)."""
        #: the server root, without ``/api``
        self.base_url = config.normalize_server(base_url)
        self.api_url = self.base_url + "/api"
        self.session = session or new_session()
        self.timeout = timeout
        self.retries = max(0, retries)
        self.verify = verify
        if verify is False:  # asked for (--insecure, warned about by the caller): not per request
            _quiet_unverified_tls()
        self.backoff = backoff or Backoff()
        self.key_id = key_id
        #: a token or an application key was given (else a refusal says how to give one)
        self.has_credentials = token is not None or key_id is not None
        self.log = http_log.HttpLog(debug_log)
        self.tokens = tokens.KeyTokens(
            self.base_url, key_id, key_secret, self.mint_token, token, log=self.log.note
        )
        self._stopped = threading.Event()
        #: set by bulk work (``apply``): counts attempts, and stops them when it opens
        self.breaker: Breaker | None = None
        #: set by bulk work (``bulk.Transport``): sends over kept-alive connections
        self.transport: Any = None
        self._env_by_host: dict[str, dict[str, Any]] = {}

    # -- the integrations API (``endpoints``) --------------------------------------------

    def get_provider(self, name: str) -> dict[str, Any] | None:
        """The provider called ``name``, or None when the server answers 404."""
        return endpoints.get_provider(self, name)

    def list_providers(self, category: str | None = None, active_only: bool = False) -> list[dict[str, Any]]:
        """Every provider (``activeOnly`` is always sent: the server's default is true)."""
        return endpoints.list_providers(self, category, active_only)

    def put_provider(self, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create or update (the server upserts); the saved provider when the server sends it."""
        return endpoints.put_provider(self, name, body)

    def delete_provider(self, name: str) -> None:
        """Delete ``name``; ``NotFoundError`` when there is no such provider."""
        endpoints.delete_provider(self, name)

    # -- auth --------------------------------------------------------------------------

    def mint_token(self, key_id: str, key_secret: str) -> str | None:
        """A token for the application key, or None when the server has no auth (404)."""
        token = endpoints.mint_token(self, key_id, key_secret)
        if token is None:
            self.log.note("POST /api/token answered 404: the server has no auth; going on without a token")
        return token

    def stop_retrying(self) -> None:
        """Ctrl-C: an attempt on the wire finishes, but no request or retry starts after it
        (a pause before a retry ends at once); those raise ``Interrupted``."""
        self._stopped.set()

    # -- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        """Send ``method`` to ``/api`` + ``path``: the reply's JSON, or None for an empty body.
        ``auth=False`` sends no token (and mints none): for ``POST /api/token`` itself."""
        # Secret values sent or received under secret keys are masked wherever else they show.
        redact.register_keyed(json)
        refreshed = False
        while True:
            token = self.tokens.current() if auth else None
            response, retries = self._send(method, path, json=json, params=params, token=token)
            if (
                auth
                and response.status_code in (401, 403)
                and not refreshed
                and self.tokens.refresh(
                    token, response.status_code, replies.error_body(_text(response)).error
                )
            ):
                refreshed = True
                continue
            found = self._result(method, path, response, retries)
            redact.register_keyed(found)
            return found

    def _environment(self, url: str) -> dict[str, Any]:
        """Proxy and TLS settings from the environment (``HTTPS_PROXY``, ``NO_PROXY``,
        ``REQUESTS_CA_BUNDLE`` ...) for ``url``, worked out once per host: requests does it
        by walking the whole environment twice, which cost more than the request itself in a
        large ``apply``."""
        parts = url.split("/", 3)  # scheme:, "", host, path: as urlsplit finds the host, faster
        plain = len(parts) > 2 and parts[0].endswith(":") and not parts[1] and "?" not in parts[2]
        host = parts[2] if plain and "#" not in parts[2] else urlsplit(url).netloc
        cached = self._env_by_host.get(host)
        if cached is None:
            cached = dict(self.session.merge_environment_settings(url, {}, None, self.verify, None))
            self._env_by_host[host] = cached
        return dict(cached)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        token: str | None,
    ) -> tuple[requests.Response, int]:
        """One request with its retries: the last response, whatever its status, and the
        number of retries it took."""
        if token and not header_safe(token):
            if token != self.tokens.given:  # minted: the server's doing
                raise self._not_the_api("POST", "/token", "a token that cannot be sent in a header")
            raise UsageError(
                "the token holds characters that cannot be sent in a header (spaces at its ends, "
                "line breaks, or characters outside Latin-1)",
                hints=["check CONDUCTOR_AUTH_TOKEN or --token"],
            )
        headers = dict(self.session.headers)
        if token:
            headers["X-Authorization"] = token
        # Prepared directly rather than through Session.prepare_request, whose merging of
        # session settings (auth, hooks, cookie jars) integ does not use and which cost a
        # fifth of each request's time in a large apply; the session's headers and cookies
        # are still sent.
        prepared: Any = None
        if self.transport is not None:
            # The bulk transport sends it, as requests would have prepared it, when it can.
            prepared = self.transport.prepare(self, method, path, headers, json, params)
            if prepared is not None:
                url = prepared.url
                env = self._environment(url)
                if not self.transport.takes(env) or not _own_adapter(self.session, url):
                    prepared = None
        if prepared is None:
            prepared = requests.PreparedRequest()
            prepared.prepare(
                method=method,
                url=self.api_url + path,
                headers=headers,
                json=json,
                params=params,
                cookies=self.session.cookies,
            )
            url = prepared.url or self.api_url + path
            env = self._environment(url)
        env["stream"] = True  # the body is read by ``_read_body``, within the attempt's time
        attempt = 0
        while True:
            if self._stopped.is_set() and attempt == 0:
                raise self._not_started()
            self.log.request(method, url, prepared.headers, prepared.body)
            started = time.monotonic()
            try:
                with deadline.within(self.timeout):
                    response = self._exchange(prepared, env, started, method, path)
                    self._attempted(answered=True)
            except requests.exceptions.SSLError as exc:
                if replies.not_tls(replies.chain_text(exc)):
                    plain = "http://" + self.base_url.split("://", 1)[-1]
                    raise ServerUnavailable(
                        f"the server at {self.base_url} does not speak TLS (https) on that port",
                        0,
                        hints=[f"if it is a plain-HTTP server, use --server {plain}"],
                    ) from None
                raise ServerUnavailable(
                    f"TLS error talking to {self.base_url}: {_reason(exc)}",
                    0,
                    hints=[
                        "give the server's CA certificates with --ca-bundle PATH (or REQUESTS_CA_BUNDLE)",
                        "or, only for a server you trust, --insecure",
                    ],
                ) from None
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                self._attempted(answered=False)
                if attempt < self.retries and self._pause(attempt, None, f"{method} {url}", _reason(exc)):
                    attempt += 1
                    continue
                raise self._unreachable(exc, attempt) from None
            except requests.exceptions.InvalidHeader:
                raise UsageError(
                    "the token holds characters that cannot be sent in a header",
                    hints=["check CONDUCTOR_AUTH_TOKEN or --token"],
                ) from None
            except requests.exceptions.RequestException as exc:
                raise ServerUnavailable(f"request to {url} failed: {_reason(exc)}", 0) from None
            except ValueError as exc:  # urllib3: a host it cannot connect to (a label too long)
                raise UsageError(
                    f"server URL {self.base_url!r} is not a valid URL: {replies.first_line(str(exc))}"
                ) from None
            elapsed = (time.monotonic() - started) * 1000
            self.log.response(
                response.status_code, response.reason or "", response.headers, response.content, elapsed
            )
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                wait = replies.retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    # Retrying sooner than asked would not honour it; waiting longer is not
                    # what a command in a pipeline should do. Fail now and say so.
                    self.log.note(f"Retry-After {wait:g} s is longer than integ waits: not retried")
                    return response, attempt
                if self._pause(attempt, wait, f"{method} {url}", f"HTTP {response.status_code}"):
                    attempt += 1
                    continue
            return response, attempt

    def _exchange(
        self, prepared: Any, env: dict[str, Any], started: float, method: str, path: str
    ) -> requests.Response:
        """One attempt: the request sent and its whole reply read, through the bulk
        ``transport`` when it prepared the request (``_send``: when one is set and takes
        it; a session whose adapter is not integ's own, or whose sending was replaced, is
        always used as it is), else through the session."""
        if not isinstance(prepared, requests.PreparedRequest):
            found: requests.Response = self.transport.exchange(self, prepared, env, started, method, path)
            return found
        # Redirects are not followed: requests would turn a redirected POST into a GET.
        response = self.session.send(
            prepared, timeout=(self.timeout, self.timeout), allow_redirects=False, **env
        )
        self._read_body(response, started, method, path)
        return response

    def _read_body(self, response: requests.Response, started: float, method: str, path: str) -> None:
        """Read the whole body of ``response`` within the attempt's time (``--timeout``
        bounds each read; this bounds them all, against a server that sends a byte at a
        time) and up to ``MAX_REPLY_BYTES``."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
            response.close()
            raise self._too_large(method, path)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _body_chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise self._too_large(method, path)
                if time.monotonic() - started > self.timeout:
                    raise _SlowReply(f"the reply took longer than {self.timeout:g} s")
        finally:
            response.close()
        response._content = b"".join(chunks)

    def _too_large(self, method: str, path: str) -> ServerUnavailable:
        return self._not_the_api(method, path, f"a reply larger than {MAX_REPLY_BYTES // 2**20} MiB")

    def _attempted(self, answered: bool) -> None:
        """Count one attempt for the breaker; once it is open no request or retry starts."""
        if self.breaker is not None and self.breaker.record(answered):
            self._stopped.set()

    def _stopped_by_breaker(self) -> bool:
        return self.breaker is not None and self.breaker.is_open

    def _not_started(self) -> IntegError:
        if self.breaker is not None and self.breaker.is_open:
            return NotSent(f"not sent: {self.breaker.reason(self.base_url)}", 0)
        return Interrupted("not sent: interrupted")

    def _pause(self, attempt: int, retry_after: float | None, request: str, why: str) -> bool:
        """Wait before retry ``attempt + 1``: True to retry, False when the breaker opened
        (no retry: the last result stands); ``Interrupted`` when Ctrl-C came first."""
        if not self._stopped.is_set():
            delay = self.backoff.delay(attempt, retry_after)
            self.log.note(f"{request}: {why}; retry {attempt + 1} of {self.retries} in {delay:.1f} s")
            if sleep is _REAL_SLEEP:
                self._stopped.wait(delay)
            else:
                sleep(delay)
        if self._stopped_by_breaker():
            self.log.note(f"{request}: {why}; not retried: the server stopped answering")
            return False
        if self._stopped.is_set():
            maybe = "" if request.startswith("GET ") else "; the server may or may not have applied it"
            raise Interrupted(f"not retried after Ctrl-C (the last attempt: {why}){maybe}")
        return True

    def _unreachable(self, exc: Exception, retries: int) -> ServerUnavailable:
        kind = "timeout" if isinstance(exc, requests.exceptions.Timeout) else "connection"
        if isinstance(exc, _SlowReply) or "DeadlinePassed" in replies.chain_text(exc):
            kind = "slow"  # part of the reply came, not all of it in time
        message, hints = replies.no_reply(self.base_url, self.timeout, retries, kind, replies.chain_text(exc))
        if retries < self.retries and self._stopped_by_breaker():
            message += "; not retried: the server stopped answering"
        return ServerUnavailable(message, 0, hints=hints)

    def _result(self, method: str, path: str, response: requests.Response, retries: int = 0) -> Any:
        if not response.ok:
            raise self._error(method, path, response, retries)
        if response.is_redirect or 300 <= response.status_code < 400:
            target = response.headers.get("Location", "")
            raise ServerUnavailable(
                f"HTTP {response.status_code} from {method} {self.api_url}{path}: the server redirects"
                + (f" to {target}" if target else ""),
                response.status_code,
                hints=["give the URL it redirects to with --server (https:// rather than http://?)"],
            )
        text = _text(response)
        if not text.strip():
            return None
        try:
            return safe_json.loads(text)
        except safe_json.TooDeep as exc:  # no shape of the API is that deep
            raise self._not_the_api(method, path, str(exc)) from None
        except ValueError:
            content_type = response.headers.get("Content-Type", "")
            if method == "GET" or replies.is_html(content_type, text):
                raise self._not_the_api(method, path, replies.kind(content_type, text)) from None
            return None

    def _error(self, method: str, path: str, response: requests.Response, retries: int = 0) -> ServerError:
        status = response.status_code
        text = _text(response)
        content_type = response.headers.get("Content-Type", "")
        body = replies.error_body(text)
        message = replies.error_message(status, response.reason or "", content_type, text, body)
        after = replies.plural_retries(retries)
        error = ServerError.from_status(
            status, f"HTTP {status} from {method} {self.api_url}{path}: {message}{after}", body
        )
        html = not body.message and replies.is_html(content_type, text)
        error.hints = replies.status_hints(status, body, self.key_id is not None, html, self.has_credentials)
        wait = replies.retry_after_seconds(response.headers.get("Retry-After"))
        if status in RETRY_STATUSES and wait is not None and wait > MAX_RETRY_AFTER:
            error.hints.insert(
                0,
                f"the server asked to wait {wait:.0f} s before trying again (Retry-After), longer "
                f"than integ waits ({MAX_RETRY_AFTER:.0f} s): try again later",
            )
        return error

    def _not_the_api(self, method: str, path: str, what: str) -> ServerUnavailable:
        return endpoints.not_the_api(self, method, path, what)


def _text(response: requests.Response) -> str:
    return (response.content or b"").decode("utf-8", "replace")


def _reason(exc: BaseException) -> str:
    return replies.connection_reason(replies.chain_text(exc), type(exc).__name__)


def _body_chunks(response: requests.Response, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body as it arrives. ``iter_content`` waits for a whole chunk of ``size`` bytes,
    which a server sending a byte at a time makes last for ever; ``read1`` (urllib3 2)
    returns what is there. Errors are requests' own, as ``iter_content`` raises them."""
    import urllib3.exceptions as u3

    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None or getattr(raw, "chunked", False):
        yield from response.iter_content(size)
        return
    while True:
        try:
            chunk = read1(size, decode_content=True)
        except u3.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except u3.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        except u3.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except (u3.ProtocolError, OSError) as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        if not chunk:
            return
        yield chunk


def _own_adapter(session: requests.Session, url: str) -> bool:
    """True when ``session`` sends to ``url`` through integ's adapter as it was defined."""
    adapter = session.get_adapter(url)
    return isinstance(adapter, _DeadlineAdapter) and type(adapter).send is _GENUINE_SEND


class _SlowReply(requests.exceptions.Timeout):
    """The body did not arrive within the attempt's time (retried like a timeout)."""


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter, its connections bounded by the attempt's deadline (``deadline``):
    direct and through an http(s) proxy; SOCKS proxies keep urllib3's own connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(deadline.POOL_CLASSES)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        fresh = proxy not in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if fresh and not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(deadline.POOL_CLASSES)
        return manager


def new_session(trust_env: bool = True) -> requests.Session:
    """A session that bounds each connection by the attempt's deadline. ``trust_env=False``:
    no proxy, CA bundle or netrc from the environment (the sandbox, on loopback)."""
    session = requests.Session()
    session.trust_env = trust_env
    for scheme in ("http://", "https://"):
        session.mount(scheme, _DeadlineAdapter())
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = ACCEPT
    return session


def _quiet_unverified_tls() -> None:
    """No ``InsecureRequestWarning`` per request once verification was turned off on purpose."""
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def check_url(root: str) -> None:
    """Raise ``UsageError`` when requests cannot send to ``root`` (a bad host or port)."""
    try:
        requests.Request("GET", root + "/api").prepare()
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise UsageError(
            f"server URL {root!r} is not a valid URL: {replies.first_line(str(exc))}",
            hints=["give the full URL, for example --server https://play.orkes.io"],
        ) from None


def header_safe(value: str) -> bool:
    """True when ``value`` can be sent as an HTTP header value as it is."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return value == value.strip() and not any(c in value for c in "\r\n\0")


#: ``HTTPAdapter.send`` as requests defines it (a test double may replace it later).
_GENUINE_SEND = HTTPAdapter.send
