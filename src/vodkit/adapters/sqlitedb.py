"""SQLite plumbing shared by the SQLite catalog and queue.

One connection per thread (sqlite3 objects must not cross threads), WAL so
readers never block the writer, a generous busy timeout so several worker
processes can share one file, and ``BEGIN IMMEDIATE`` for every write so a
transaction takes the write lock before it reads what it will decide on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..domain.errors import TransientError


class SqliteDatabase:
    def __init__(self, path: Path | str, schema: str, *, busy_timeout: float = 30.0) -> None:
        self.path = str(path)
        self.schema = schema
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            with self._schema_lock:
                if not self._schema_ready:
                    conn.executescript(self.schema)
                    self._schema_ready = True
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the lock from its first statement."""
        conn = self.connection()
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
        return self.connection()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
