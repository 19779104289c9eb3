"""One time limit for the whole of an HTTP attempt, enforced at the socket.

``--timeout`` is a promise about each attempt: connect, send, status line, headers and body
all done within that many seconds. Socket timeouts alone do not keep it: they bound each
``recv``, and a server that sends a byte a second keeps every one of them short. So the
client opens a deadline for each attempt (``within``), and the connections of its session
honour it:

- connecting and sending get what is left of the attempt as their socket timeout;
- the reply (status line and headers as well as the body) is read through a reader that
  sets the socket's timeout to what is left before each ``recv``, and raises
  ``DeadlinePassed`` (a ``TimeoutError``, which urllib3 reports as a read timeout) once
  nothing is left.

The deadline belongs to the thread that sends (``provider apply`` sends from several), and
it is taken by each reply when its reading starts, so a connection reused from the pool
(keep-alive) gets the deadline of the attempt that reuses it. ``api`` gives these
connections to requests (``POOL_CLASSES``). Ctrl-C is not affected: a
blocked ``recv`` is interrupted as before. Not covered: name resolution, and the TLS
handshake, whose reads are each bounded by the socket timeout (not the deadline).
"""

from __future__ import annotations

import io
import threading
import time
from http.client import HTTPResponse
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_local = threading.local()


class DeadlinePassed(TimeoutError):
    """The attempt's time ran out while its reply was still arriving."""


class within:
    """Everything this thread sends and receives in the block is done within ``seconds``
    (a class rather than a generator: it is entered for every request of a large apply)."""

    __slots__ = ("_previous", "_seconds")

    def __init__(self, seconds: float):
        self._seconds = seconds
        self._previous: float | None = None

    def __enter__(self) -> None:
        self._previous = getattr(_local, "deadline", None)
        _local.deadline = time.monotonic() + self._seconds

    def __exit__(self, *exc: object) -> None:
        _local.deadline = self._previous


def current() -> float | None:
    """This thread's deadline (``time.monotonic()`` time), or None outside ``within``."""
    deadline: float | None = getattr(_local, "deadline", None)
    return deadline


def _left(deadline: float) -> float:
    """Seconds left before ``deadline`` (a little above 0: a socket timeout of 0 would
    make the socket non-blocking instead of timing out)."""
    return max(deadline - time.monotonic(), 0.001)


class _Reader(io.RawIOBase):
    """The socket's reader (``sock.makefile("rb", buffering=0)``), each read bounded by
    what is left of ``deadline``."""

    def __init__(self, raw: Any, sock: Any, deadline: float):
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._deadline = deadline
        self._received = 0

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        fileno: int = self._raw.fileno()
        return fileno

    def readinto(self, buffer: Any) -> int | None:
        if time.monotonic() >= self._deadline:
            raise DeadlinePassed("the reply did not arrive within the time of the attempt")
        self._sock.settimeout(_left(self._deadline))
        try:
            count: int | None = self._raw.readinto(buffer)
        except TimeoutError:
            if self._received:  # part of the reply came, the rest not in time
                raise DeadlinePassed("the reply did not arrive within the time of the attempt") from None
            raise
        self._received += count or 0
        return count

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _TimedSocket:
    """What ``http.client.HTTPResponse`` is given instead of the socket: it only calls
    ``makefile("rb")``."""

    def __init__(self, sock: Any, deadline: float):
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        # The socket's own raw reader keeps the socket open while the reply is read (it
        # counts as a reference), as http.client relies on when the connection closes.
        raw = self._sock.makefile(mode, buffering=0)
        return io.BufferedReader(_Reader(raw, self._sock, self._deadline))


class _Response(HTTPResponse):
    def __init__(self, sock: Any, *args: Any, **kwargs: Any):
        deadline = current()
        if deadline is not None and hasattr(sock, "settimeout"):
            sock = _TimedSocket(sock, deadline)
        super().__init__(sock, *args, **kwargs)


class _DeadlineConnection(HTTPConnection):
    """A connection whose timeout (used to connect, and to send) is never more than what
    is left of the attempt, and whose replies are read within it."""

    response_class = _Response

    @property
    def timeout(self) -> Any:
        deadline = current()
        if deadline is None:
            return self._timeout
        left = _left(deadline)
        return left if self._timeout is None else min(self._timeout, left)

    @timeout.setter
    def timeout(self, value: Any) -> None:
        self._timeout = value


class _DeadlineTLSConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineTLSConnection


#: The connection pools whose connections honour the deadline, by scheme: a pool
#: manager's ``pool_classes_by_scheme`` (``api`` gives them to requests' adapter).
POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {"http": _Pool, "https": _TLSPool}
