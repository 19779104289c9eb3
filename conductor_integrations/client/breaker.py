"""The breaker of bulk work: a server that has stopped answering ends the run.

Every request attempt counts (the first one and each retry, from any worker thread):
one that got no reply (connection refused or reset, a timeout, a reply cut off) adds one
to the count, one that got any reply at all sets it back to zero. At ``FAILURES`` in a row
the breaker opens and stays open: the client starts no request and no retry after that
(``NotSent``), so ``apply`` reports what is left as ``not sent`` instead of retrying each
provider on its own against a dead server.
"""

from __future__ import annotations

import threading

#: Connection failures in a row that open the breaker.
FAILURES = 5


class Breaker:
    """Counts consecutive attempts without a reply; thread-safe."""

    def __init__(self, failures: int = FAILURES):
        self.failures = max(1, failures)
        self._lock = threading.Lock()
        self._count = 0
        self._open = threading.Event()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def record(self, answered: bool) -> bool:
        """Count one attempt (``answered``: the server sent a reply); True once open."""
        with self._lock:
            if self._open.is_set():
                return True
            self._count = 0 if answered else self._count + 1
            if self._count >= self.failures:
                self._open.set()
            return self._open.is_set()

    def reason(self, server: str) -> str:
        """What the error line says about the server."""
        return f"the server at {server} stopped answering ({self.failures} connection failures in a row)"
