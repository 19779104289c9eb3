"""A lean way to send for bulk work (``provider apply``): urllib3's connection pools used
directly, one kept-alive connection per worker thread.

requests spends about a millisecond of CPU on each request around the exchange itself
(adapters, hooks, cookie jars, building the reply), several times what sending one small
request over a kept-alive connection costs; in a fleet of thousands that was most of the
run. A ``Transport`` set on a client (``client.transport``) takes its place for the single
exchange of each attempt, and nothing else changes: the client still prepares the request
(headers, token, JSON body), counts attempts for the breaker, retries, honours Ctrl-C and
``Retry-After``, logs with secrets masked, and reads the reply with ``Client._read_body``
(every attempt within ``--timeout`` through ``deadline``, at most ``MAX_REPLY_BYTES``).

Its pools are the ``deadline`` ones, so a kept-alive connection gets the deadline of the
attempt that reuses it. A request the transport cannot send as requests would (through a
proxy, with a client certificate) goes through the session as before.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
import urllib3.exceptions as u3
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from conductor_integrations.client import deadline

if TYPE_CHECKING:
    from conductor_integrations.client.api import Client


class Transport:
    """Pools of kept-alive connections, one pool per server, ``workers`` connections each
    (one per worker thread of the bulk work; more are opened when needed, and closed after
    use)."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._pools: dict[tuple[str, str, int | None, Any], urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def takes(self, env: dict[str, Any]) -> bool:
        """True for a request sent directly (no proxy, no client certificate)."""
        return not env.get("proxies") and not env.get("cert")

    def _pool(self, url: str, verify: Any) -> urllib3.HTTPConnectionPool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        key = (scheme, parts.hostname or "", parts.port, verify if scheme == "https" else None)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                options: dict[str, Any] = {"maxsize": self.workers, "block": False, "retries": False}
                if scheme == "https":
                    # As requests does: certifi's bundle unless given one; verify=False is --insecure.
                    options["cert_reqs"] = "CERT_REQUIRED" if verify is not False else "CERT_NONE"
                    if verify is not False:
                        options["ca_certs" if not _is_dir(verify) else "ca_cert_dir"] = (
                            verify if isinstance(verify, str) else certifi.where()
                        )
                    else:
                        options["assert_hostname"] = False
                pool = deadline.POOL_CLASSES[scheme](parts.hostname or "", parts.port, **options)
                self._pools[key] = pool
        return pool

    def exchange(
        self,
        client: Client,
        prepared: requests.PreparedRequest,
        env: dict[str, Any],
        started: float,
        method: str,
        path: str,
    ) -> requests.Response:
        """Send ``prepared`` and read its whole reply, as ``Client._exchange`` does through
        the session; failures are requests' exceptions, as the client expects them."""
        url = prepared.url or ""
        pool = self._pool(url, env.get("verify", True))
        try:
            raw = pool.urlopen(
                prepared.method or method,
                prepared.path_url,
                body=prepared.body,
                headers=dict(prepared.headers),
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(connect=client.timeout, read=client.timeout),
                preload_content=False,
                decode_content=False,
            )
        except u3.SSLError as exc:
            raise requests.exceptions.SSLError(exc, request=prepared) from exc
        except u3.ConnectTimeoutError as exc:
            raise requests.exceptions.ConnectTimeout(exc, request=prepared) from exc
        except (u3.ReadTimeoutError, TimeoutError) as exc:
            raise requests.exceptions.ReadTimeout(exc, request=prepared) from exc
        except (u3.HTTPError, OSError) as exc:
            raise requests.exceptions.ConnectionError(exc, request=prepared) from exc
        response = requests.Response()
        response.status_code = raw.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = raw.reason or ""
        response.url = url
        response.request = prepared
        client._read_body(response, started, method, path)
        return response

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def _is_dir(path: Any) -> bool:
    import os

    return isinstance(path, str) and os.path.isdir(path)
