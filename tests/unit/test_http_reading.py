"""Where the HTTP API runs a catalog read: on the event loop for SQLite, in a thread else."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import anyio
import pytest
from fastapi import Request

from vodkit.adapters.postgresdb import PostgresDatabase
from vodkit.adapters.sqlitedb import SqliteDatabase
from vodkit.config import load_settings
from vodkit.entrypoints.http.auth import reading
from vodkit.footprints.embedded import EmbeddedSettings, api


def request_for(quick_reads: bool) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(api=SimpleNamespace(quick_reads=quick_reads)))
    return cast(Request, SimpleNamespace(app=app))


@pytest.mark.parametrize(("quick", "on_loop"), [(True, True), (False, False)])
def test_a_read_runs_on_the_loop_only_where_reads_are_quick(quick: bool, on_loop: bool) -> None:
    async def read_from_loop() -> tuple[int, int]:
        here = threading.get_ident()
        return here, await reading(request_for(quick), threading.get_ident)

    loop_thread, read_thread = anyio.run(read_from_loop)
    assert (loop_thread == read_thread) is on_loop


def test_reads_are_quick_on_sqlite_only(tmp_path: Path) -> None:
    databases: list[Any] = [SqliteDatabase, PostgresDatabase]
    assert [db.quick_reads for db in databases] == [True, False]
    assert api(load_settings(EmbeddedSettings, data_dir=tmp_path)).quick_reads
