"""The stitch's exactly-once trigger (issue 28), as ``domain/chunks.py`` writes it down,
on the machine's PostgreSQL: the last two chunks race to finish, many times."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from vodkit.domain.chunks import CHUNKS_TABLE, CLAIM_STITCH, MARK_DONE

pytestmark = pytest.mark.integration
RACES = 40


def mark(connection: Any, asset: str, index: int) -> bool:
    """A chunk's task at its end sets its bit: whether that completed the set."""
    key = {"asset": asset, "attempt": 1, "index": index}
    row = connection.execute(MARK_DONE, key).fetchone()
    return bool(row and row[0])


def claim(connection: Any, asset: str) -> bool:
    """Whether this caller is the one to stitch."""
    key = {"asset": asset, "attempt": 1}
    return connection.execute(CLAIM_STITCH, key).fetchone() is not None


def finish(connection: Any, asset: str, index: int) -> bool:
    return mark(connection, asset, index) and claim(connection, asset)


def together(*calls: Callable[[], bool]) -> list[bool]:
    """Run ``calls`` at the same moment, each in its own thread; their results in order."""
    start = threading.Barrier(len(calls))
    results: dict[int, bool] = {}

    def run(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == list(range(len(calls))), "a racer never finished"
    return [results[i] for i in range(len(calls))]


def test_the_last_two_chunks_racing_stitch_exactly_once(postgres_dsn: str) -> None:
    import psycopg

    with (
        psycopg.connect(postgres_dsn, autocommit=True) as setup,
        psycopg.connect(postgres_dsn, autocommit=True) as first,
        psycopg.connect(postgres_dsn, autocommit=True) as second,
    ):
        setup.execute(CHUNKS_TABLE)
        for _ in range(RACES):
            asset = uuid.uuid4().hex
            setup.execute(
                "INSERT INTO chunks (asset_id, attempt, total) VALUES (%s, 1, 3)", (asset,)
            )
            assert not finish(setup, asset, 0)
            stitched = together(partial(finish, first, asset, 1), partial(finish, second, asset, 2))
            assert sorted(stitched) == [False, True]  # one stitch, every time
            row = setup.execute(
                "SELECT done, stitching FROM chunks WHERE asset_id = %s", (asset,)
            ).fetchone()
            assert row == (0b111, True)


def test_when_both_see_every_chunk_done_only_one_claims(postgres_dsn: str) -> None:
    """The claim's guard, alone: two callers that both saw ``complete`` race to claim."""
    import psycopg

    with (
        psycopg.connect(postgres_dsn, autocommit=True) as first,
        psycopg.connect(postgres_dsn, autocommit=True) as second,
    ):
        first.execute(CHUNKS_TABLE)
        for _ in range(RACES):
            asset = uuid.uuid4().hex
            first.execute(
                "INSERT INTO chunks (asset_id, attempt, total, done) VALUES (%s, 1, 2, 3)",
                (asset,),
            )
            claimed = together(partial(claim, first, asset), partial(claim, second, asset))
            assert sorted(claimed) == [False, True]


def test_a_redelivered_chunk_counts_once(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(CHUNKS_TABLE)
        connection.execute("INSERT INTO chunks (asset_id, attempt, total) VALUES ('a', 1, 3)")
        assert [finish(connection, "a", i) for i in (0, 1, 1, 0)] == [False] * 4
        assert finish(connection, "a", 2)  # the last distinct chunk stitches
        assert not finish(connection, "a", 2)  # ...once
        assert not finish(connection, "a", 7)  # no such chunk: nothing changes
        assert connection.execute("SELECT done FROM chunks").fetchone() == (0b111,)


def test_a_title_of_more_chunks_than_the_bits_is_refused(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(CHUNKS_TABLE)
        with pytest.raises(psycopg.errors.CheckViolation):
            connection.execute("INSERT INTO chunks (asset_id, attempt, total) VALUES ('b', 1, 63)")
        connection.execute("INSERT INTO chunks (asset_id, attempt, total) VALUES ('c', 1, 62)")
        assert [finish(connection, "c", i) for i in range(62)] == [False] * 61 + [True]
