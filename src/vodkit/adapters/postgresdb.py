"""PostgreSQL plumbing for the stores of the catalog's database (cluster footprint).

psycopg 3 with a connection pool that checks a connection before handing it out,
so a backend that was terminated (a restart, ``pg_terminate_backend``) costs a
reconnect, not an error. The stores' SQL is written once with ``?`` placeholders,
as for SQLite; connections here rewrite them to psycopg's ``%s``. Migrations are
versioned in ``schema_migrations`` and applied under an advisory lock, so the
server and every worker may run them at start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..domain.errors import ConfigError, TransientError

MIGRATIONS_LOCK = 4_206_661  # pg_advisory_xact_lock key: one migrator at a time
ROW_LOCK = " FOR UPDATE SKIP LOCKED"  # what a claim adds to hold its row


class _Qmark:
    """A psycopg connection that takes ``?`` placeholders (no ``%`` in vodkit's SQL)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), tuple(args))


@contextmanager
def postgres_errors() -> Iterator[None]:
    """psycopg's errors as vodkit's: a lost or refused connection is transient."""
    import psycopg

    try:
        yield
    except (psycopg.OperationalError, psycopg.errors.AdminShutdown) as exc:
        raise TransientError(f"PostgreSQL is unavailable: {str(exc).strip()[:300]}") from exc
    except psycopg.errors.SerializationFailure as exc:
        raise TransientError("PostgreSQL could not serialise two writers: try again") from exc


class PostgresDatabase:
    dialect = "postgres"
    row_lock = ROW_LOCK

    def __init__(
        self,
        dsn: str,
        migrations: Sequence[str],
        *,
        min_size: int = 1,
        max_size: int = 8,
        upgrade: bool = True,
    ) -> None:
        try:
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"PostgreSQL needs {exc.name}: pip install 'vodkit[cluster]'"
            ) from exc
        self.migrations = tuple(migrations)
        self.pool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            check=ConnectionPool.check_connection,
            open=False,
            name="vodkit",
        )
        self._opened = False
        self._opening = threading.Lock()
        self._upgrade = upgrade

    def read_now(self, read: Callable[[], Any]) -> Any:
        """Never on the calling thread: a read is a round trip over the network, and may wait
        for a pooled connection."""
        raise TransientError("a PostgreSQL read may wait: read it in a thread")

    def _open(self) -> None:
        if self._opened:
            return
        with self._opening:  # on first use (nothing connects at wiring time), by one thread
            if not self._opened:  # the others wait until the schema is there
                with postgres_errors():
                    self.pool.open(wait=True, timeout=10)
                if self._upgrade:
                    self._migrate()
                self._opened = True

    @contextmanager
    def write(self) -> Iterator[_Qmark]:
        """A transaction: committed on leaving, rolled back on an error."""
        self._open()
        with postgres_errors(), self.pool.connection() as conn, conn.transaction():
            yield _Qmark(conn)

    @contextmanager
    def reading(self) -> Iterator[_Qmark]:
        self._open()
        with postgres_errors(), self.pool.connection() as conn:
            yield _Qmark(conn)

    def upgrade(self) -> int:
        """Apply the migrations not yet applied, in order; how many were."""
        self._open()
        return self._migrate()

    def _migrate(self) -> int:
        with postgres_errors(), self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATIONS_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            found: Any = conn.execute(
                "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations"
            ).fetchone()
            applied = int(found["v"])
            for number, migration in enumerate(self.migrations[applied:], start=applied + 1):
                for statement in migration.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
        return len(self.migrations) - applied

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False
