"""Where the HTTP API runs a catalog read: on the event loop for SQLite, in a thread else,
and in a thread too when SQLite makes a read wait for a lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import anyio
import pytest
from fastapi import Request

from vodkit.adapters.postgresdb import PostgresDatabase
from vodkit.adapters.sqlitedb import QUICK_WAIT, SqliteDatabase
from vodkit.config import load_settings
from vodkit.domain.errors import TransientError
from vodkit.entrypoints.http.auth import reading
from vodkit.footprints.embedded import EmbeddedSettings, api


def request_for(read_now: Callable[[Callable[[], Any]], Any]) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(api=SimpleNamespace(read_now=read_now)))
    return cast(Request, SimpleNamespace(app=app))


def _locked(read: Callable[[], Any]) -> Any:
    raise TransientError("the database is busy")


@pytest.mark.parametrize(
    ("read_now", "on_loop"),
    [
        (lambda read: read(), True),
        (PostgresDatabase.read_now.__get__(object()), False),  # never on the loop
        (_locked, False),
    ],
    ids=["quick", "no quick reads (PostgreSQL)", "locked for a moment"],
)
def test_a_read_runs_on_the_loop_only_where_it_is_quick_and_does_not_wait(
    read_now: Callable[[Callable[[], Any]], Any], on_loop: bool
) -> None:
    async def read_from_loop() -> tuple[int, int]:
        here = threading.get_ident()
        return here, await reading(request_for(read_now), threading.get_ident)

    loop_thread, read_thread = anyio.run(read_from_loop)
    assert (loop_thread == read_thread) is on_loop


def test_reads_are_quick_on_sqlite_only(tmp_path: Path) -> None:
    with pytest.raises(TransientError, match="read it in a thread"):
        PostgresDatabase.read_now(cast(PostgresDatabase, object()), lambda: 1)
    quick = api(load_settings(EmbeddedSettings, data_dir=tmp_path)).read_now
    assert isinstance(getattr(quick, "__self__", None), SqliteDatabase)


def test_a_sqlite_read_that_would_wait_for_a_lock_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    db = SqliteDatabase(path, ["CREATE TABLE t (x INTEGER)"], busy_timeout=0.3)

    def prepare() -> None:  # then no connection of this process has the file open
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        db.connection().close()

    preparing = threading.Thread(target=prepare)
    preparing.start()
    preparing.join()

    def rows() -> list[Any]:
        return list(db.read().execute("SELECT x FROM t").fetchall())

    # a connection in exclusive locking mode (another process) keeps every reader out
    with subprocess.Popen(
        [sys.executable, "-c", EXCLUSIVE_HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(TransientError, match="busy"):
                db.read_now(rows)  # waits a moment (QUICK_WAIT), not the busy timeout
            with pytest.raises(TransientError, match="busy"), db.reading() as conn:
                conn.execute("SELECT x FROM t")
        finally:
            holder.stdin.write("\n")  # the holder lets go; leaving the block waits for it
    assert [tuple(row) for row in db.read_now(rows)] == [(1,), (2,)]
    with pytest.raises(sqlite3.OperationalError, match="no such table"):  # not transient
        db.read_now(lambda: db.read().execute("SELECT x FROM absent"))
    with db.reading() as conn:
        assert len(conn.execute("SELECT x FROM t").fetchall()) == 2
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 300
    waits = db.read_now(lambda: db.read().execute("PRAGMA busy_timeout").fetchone()[0])
    assert waits == QUICK_WAIT * 1000  # the loop's own connection: a moment, then a thread


EXCLUSIVE_HOLDER = """
import sqlite3, sys
holder = sqlite3.connect(sys.argv[1], isolation_level=None)
holder.execute("PRAGMA locking_mode=EXCLUSIVE")
holder.execute("BEGIN EXCLUSIVE")
holder.execute("INSERT INTO t VALUES (2)")
holder.execute("COMMIT")
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize(
    ("code", "transient"),
    [(5, True), (261, True), (517, True), (6, True), (262, True), (1, False), (11, False)],
    ids=[
        "BUSY",
        "BUSY_RECOVERY",
        "BUSY_SNAPSHOT",
        "LOCKED",
        "LOCKED_SHAREDCACHE",
        "ERROR",
        "CORRUPT",
    ],
)
def test_every_busy_or_locked_code_is_transient_and_nothing_else(
    tmp_path: Path, code: int, transient: bool
) -> None:
    db = SqliteDatabase(tmp_path / "catalog.db", ["CREATE TABLE t (x INTEGER)"])
    db.read()  # the schema is ready

    def refused() -> None:
        error = sqlite3.OperationalError("refused")
        error.sqlite_errorcode = code
        raise error

    expected = TransientError if transient else sqlite3.OperationalError
    with pytest.raises(expected):
        db.read_now(refused)
    with pytest.raises(expected), db.reading():
        refused()


def test_a_quick_read_nests_writes_on_its_own_connection_and_waits_for_the_schema(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "catalog.db", ["CREATE TABLE t (x INTEGER)"])
    with pytest.raises(TransientError, match="being prepared"):  # a migration may be long
        db.read_now(lambda: None)
    normal = db.read()

    def nested() -> tuple[Any, Any, Any]:
        inner = db.read_now(db.read)
        with db.write() as conn:
            return inner, db.read(), conn

    inner, after, written = db.read_now(nested)
    assert inner is after is not normal  # the nested read left the outer one hurried
    assert written is normal  # a write never takes the connection that hardly waits
    assert db.read() is normal
