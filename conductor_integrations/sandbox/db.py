"""The SQLite file under the sandbox's store: schema, connections and transactions.

Concurrency, written once here:

- the file is in WAL mode, so readers never block the writer and the writer never blocks
  readers, across threads and across processes (an ``integ server`` and a ``--server local``
  command may share the default file);
- every request thread borrows its own connection from a small pool (a connection is never
  used by two threads at once);
- every change is one short ``BEGIN IMMEDIATE`` transaction (``Database.write``): it takes the
  write lock before reading, so a read-modify-write (the type-change check, the kept secrets)
  cannot interleave with another writer. Writers of one process queue first on an
  in-process lock per data file (``_writer_lock``), so SQLite's busy handler, which polls
  by sleeping, is never what a waiting request thread sleeps in; writers of other processes
  sharing the file still queue on SQLite's lock through the busy timeout instead of failing;
- reads that take several queries run in one read transaction (``Database.read``), so they
  see one snapshot.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conductor_integrations.sandbox.errors import SandboxError

SCHEMA_VERSION = 2
#: How long a writer waits for the write lock before giving up (ms).
BUSY_TIMEOUT_MS = 15_000
#: How long a thread that must not wait long (``serving_thread``) waits for the write lock
#: before the write fails as busy (seconds).
SHORT_WAIT = 0.25
#: Idle connections kept for reuse; more are closed when returned.
POOL_SIZE = 16

SCHEMA = """
CREATE TABLE IF NOT EXISTS provider (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    configuration TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model (
    provider TEXT NOT NULL,
    api TEXT NOT NULL,
    description TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    configuration TEXT NOT NULL,
    max_tokens INTEGER,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (provider, api)
);
CREATE TABLE IF NOT EXISTS tag (
    provider TEXT NOT NULL,
    api TEXT NOT NULL,  -- '' for the provider's own tags
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (provider, api, key, value)  -- a key may carry several values
);
CREATE TABLE IF NOT EXISTS prompt (
    provider TEXT NOT NULL,
    api TEXT NOT NULL,
    name TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (provider, api, name)
);
CREATE TABLE IF NOT EXISTS token_limit (
    provider TEXT PRIMARY KEY,
    body TEXT NOT NULL,  -- the TokenLimit object as saved, without its audit fields
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
"""

#: Schema 1 keyed tags by (provider, api, key), one value per key: rebuilt with the value in
#: the key, every stored pair kept.
_FROM_1 = """
ALTER TABLE tag RENAME TO tag_1;
CREATE TABLE tag (
    provider TEXT NOT NULL,
    api TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (provider, api, key, value)
);
INSERT INTO tag (provider, api, key, value) SELECT provider, api, key, value FROM tag_1 ORDER BY rowid;
DROP TABLE tag_1;
"""


_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(path: Path) -> threading.RLock:
    """The lock the writers of this process take before SQLite's write lock on ``path``:
    one per file, whichever ``Database`` opened it."""
    key = os.path.realpath(path)
    with _writer_locks_guard:
        return _writer_locks.setdefault(key, threading.RLock())


class StoreError(SandboxError):
    """Raised when the data file cannot be opened or used (not a database, made by a newer
    version, unwritable folder)."""


def _refuse_link(path: Path) -> None:
    """A ``StoreError`` when ``path`` is a symbolic link: the sandbox would change the mode
    of (and write to) whatever it points to."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise StoreError(
            f"{path} is a symbolic link; the sandbox keeps secrets in its data file and does "
            "not follow links for it (pass the file itself)"
        )


def _make_private(path: Path, fd: int | None = None) -> None:
    """Bring the file at ``path`` (open as ``fd``, else by name when it exists, never
    through a symbolic link) to 0600; a ``StoreError`` when it belongs to another user or
    its mode cannot be changed."""
    if os.name != "posix":
        return
    if fd is None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return
        try:
            _make_private(path, fd)
        finally:
            os.close(fd)
        return
    info = os.fstat(fd)
    if info.st_uid != os.geteuid():
        raise StoreError(
            f"{path} belongs to another user (uid {info.st_uid}); the sandbox keeps secrets in "
            "its data file, so it must be a file of your own"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        try:
            os.fchmod(fd, 0o600)
        except OSError as exc:
            raise StoreError(
                f"{path} is readable by others or writable by them (mode {mode:04o}) and cannot "
                f"be made 0600: {exc.strerror}"
            ) from None


_short = threading.local()


def serving_thread() -> None:
    """Mark the calling thread as one that serves every client: its writes wait at most
    ``SHORT_WAIT`` for the write lock (held by another process, or by a thread of this one),
    then fail busy (a 503 the client retries), instead of ``BUSY_TIMEOUT_MS``."""
    _short.on = True


class Database:
    """The SQLite file at ``path`` (created when missing, in a folder that must exist),
    with a pool of connections. Safe to share between threads; ``close()`` when done."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._writer = _writer_lock(self.path)
        if not self.path.parent.is_dir():
            raise StoreError(
                f"{self.path}: no such folder {self.path.parent} (the sandbox does not create it)"
            )
        try:
            # The file holds secret values in plain text: owner-only, like a credentials
            # file (SQLite gives its -wal and -shm files the same mode). An existing file
            # open to others is brought to 0600, or refused.
            # Nothing here follows a symbolic link: a link as the file (or as its -wal or
            # -shm) is refused, so no file elsewhere has its mode changed or gets written.
            for suffix in ("", "-wal", "-shm"):
                _refuse_link(Path(f"{self.path}{suffix}"))
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                _make_private(self.path, fd)
            finally:
                os.close(fd)
            for suffix in ("-wal", "-shm"):
                _make_private(Path(f"{self.path}{suffix}"))
            conn = self._connect()
            try:
                self._migrate(conn)
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.path}: cannot use the sandbox data file: {exc}") from exc

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE for writes
            check_same_thread=False,  # pooled: used by one thread at a time, never two
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")  # durable across process restarts in WAL
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch the file to WAL mode (got {mode})")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer integ (schema {version}); "
                    "upgrade integ or pass another --data file"
                )
            if version == 1:
                for statement in _FROM_1.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreError("the sandbox is stopping")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            with self._lock:
                keep = not self._closed and len(self._idle) < POOL_SIZE
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, holding the write lock from its first statement
        (taken in-process first: the threads of this process wait on a lock, not in SQLite's
        sleeping busy handler)."""
        short = getattr(_short, "on", False)
        with self._borrow() as conn:
            if not self._writer.acquire(timeout=SHORT_WAIT if short else -1):
                raise StoreError("the store is busy: another write holds it")
            try:
                if short:
                    conn.execute(f"PRAGMA busy_timeout = {int(SHORT_WAIT * 1000)}")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                finally:
                    if short:
                        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                self._writer.release()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query in it sees the same snapshot."""
        with self._borrow() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        """Close the pooled connections; connections in use close when returned."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
