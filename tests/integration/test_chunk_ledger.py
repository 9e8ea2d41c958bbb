"""The PostgreSQL chunk ledger (issue 28): the last piece of a job found exactly once, even
when the last two finish at the same moment (and one of them twice), many times."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from vodkit.adapters.catalog.postgres import catalog_database
from vodkit.adapters.chunks.base import AUDIO, THUMBS
from vodkit.adapters.chunks.postgres import PostgresChunkLedger

pytestmark = pytest.mark.integration
RACES = 30


@pytest.fixture
def ledger(postgres_dsn: str) -> Iterator[PostgresChunkLedger]:
    db = catalog_database(postgres_dsn, max_size=4)  # the catalog's migrations make the tables
    try:
        yield PostgresChunkLedger(db)
    finally:
        db.close()


def together(*calls: Callable[[], bool]) -> list[bool]:
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


def test_the_last_two_pieces_racing_find_the_last_exactly_once(
    ledger: PostgresChunkLedger,
) -> None:
    for race in range(RACES):
        job = f"job-{race}"
        assert ledger.start("asset", job, {0: 30.0, 1: 30.0, 2: 12.0, AUDIO: 0, THUMBS: 0})
        for piece in (0, 1, 2, AUDIO, THUMBS):
            assert ledger.begin(job, piece, 1.0) == 1
        assert not ledger.finish(job, 0, 1, 2.0)
        assert not ledger.finish(job, AUDIO, 1, 2.0)
        assert not ledger.finish(job, THUMBS, 1, 2.0)
        # the last two, and a redelivery of one of them, at the same moment
        results = together(
            lambda j=job: ledger.finish(j, 1, 1, 3.0),  # type: ignore[misc]
            lambda j=job: ledger.finish(j, 2, 1, 3.0),  # type: ignore[misc]
            lambda j=job: ledger.finish(j, 2, 1, 3.0),  # type: ignore[misc]
        )
        assert results.count(True) == 1, (race, results)
        assert not ledger.finish(job, 1, 1, 4.0)  # a late redelivery: never a second stitch
