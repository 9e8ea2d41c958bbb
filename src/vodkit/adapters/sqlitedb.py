"""SQLite plumbing shared by the SQLite catalog and queue.

One connection per thread (sqlite3 objects must not cross threads), WAL so
readers never block the writer, a generous busy timeout so several worker
processes can share one file, and ``BEGIN IMMEDIATE`` for every write so a
transaction takes the write lock before it reads what it will decide on.
The schema is a list of migrations; ``PRAGMA user_version`` counts those applied.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypeVar

from ..domain.errors import TransientError

T = TypeVar("T")
QUICK_WAIT = 0.05  # s: how long a read on an event loop waits for a lock, before a thread does
LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteDatabase:
    dialect = "sqlite"
    row_lock = ""  # a write transaction holds the whole database already

    def __init__(
        self, path: Path | str, migrations: Sequence[str], *, busy_timeout: float = 30.0
    ) -> None:
        self.path = str(path)
        self.migrations = tuple(migrations)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def connection(self, *, hurried: bool = False) -> sqlite3.Connection:
        """This thread's connection; ``hurried``: its own that hardly waits (``read_now``)."""
        name = "hurried_conn" if hurried else "conn"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            wait = QUICK_WAIT if hurried else self.busy_timeout
            conn = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            with self._schema_lock:
                if not self._schema_ready:
                    self._prepare(conn)
                    self._schema_ready = True
            setattr(self._local, name, conn)
        return conn

    def read_now(self, read: Callable[[], T]) -> T:
        """Run ``read`` on this thread (an event loop's), where it takes microseconds: WAL
        readers do not wait for the writer. A lock they do wait for (a checkpoint at a last
        close, a crash's recovery, an exclusive connection) is waited on for QUICK_WAIT at
        most, then raises TransientError, for the caller to read again where waiting is
        harmless."""
        if not self._schema_ready:  # a migration may hold the lock for long: not here
            raise TransientError(f"the database {self.path} is being prepared")
        local = self._local
        outer = getattr(local, "hurried", False)
        local.hurried = True
        try:
            with self._locks_transient():
                return read()
        finally:
            local.hurried = outer

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (persistent, so once per file) and migrate the schema.

        Changing the journal mode does not wait on the busy handler, so a second
        process opening the file while another writes must retry it by hand.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise TransientError(f"cannot open {self.path}: {exc}") from exc
                time.sleep(0.05)
        with self._transaction(conn):  # under the write lock: one process migrates
            applied = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(self.migrations[applied:], start=applied + 1):
                for statement in migration.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number:d}")

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction that holds the lock from its first statement."""
        return self._transaction(self.connection())

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransientError(f"the database {self.path} is busy: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            raise TransientError(f"commit to {self.path} failed: {exc}") from exc

    def read(self) -> sqlite3.Connection:
        """The connection a read uses here (writes never take the hurried one)."""
        return self.connection(hurried=getattr(self._local, "hurried", False))

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._locks_transient():
            yield self.read()

    @contextmanager
    def _locks_transient(self) -> Iterator[None]:
        """A lock not granted in time (any BUSY_* or LOCKED_* extended code) is transient
        (503, a retry); any other error is not."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if (exc.sqlite_errorcode & 0xFF) in LOCKED:
                raise TransientError(f"the database {self.path} is busy: {exc}") from exc
            raise
