"""The PostgreSQL chunk ledger (issue 28): runs numbered per piece, and the last piece of a
job found exactly once, even when the last two finish at the same moment, many times."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from vodkit.adapters.catalog.postgres import catalog_database
from vodkit.adapters.chunks.base import AUDIO, THUMBS, progress_of
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


def test_runs_are_numbered_and_progress_counts_chunk_seconds(
    ledger: PostgresChunkLedger,
) -> None:
    assert ledger.start("a1", "j1", {0: 30.0, 1: 30.0, 2: 40.0, AUDIO: 0, THUMBS: 0})
    assert not ledger.start("a1", "j1", {0: 30.0})  # a redelivered fan-out changes nothing
    assert ledger.begin("j1", 0, 100.0) == 1
    assert ledger.begin("j1", 0, 110.0) == 2  # its worker died: rerun, under new keys
    assert ledger.begin("j1", 1, 100.0) == 1
    assert not ledger.finish("j1", 0, 2, 130.0)
    assert ledger.begin("j1", 0, 140.0) is None  # done: a late redelivery does nothing
    pieces = ledger.pieces("j1")
    assert [p.piece for p in pieces] == [0, 1, 2, AUDIO, THUMBS]
    assert pieces[0].attempt == 2 and pieces[0].state == "done"
    shown = progress_of(pieces, now=160.0)
    assert (shown.count, shown.done, shown.running, shown.retried) == (3, 1, 1, 1)
    assert shown.seconds_done / shown.seconds == pytest.approx(0.3)
    assert shown.eta_seconds == pytest.approx(70 * 60 / 30)  # 30 s of media in 60 s
    assert ledger.latest("a1") == "j1" and ledger.latest("other") is None
    assert ledger.stitched("j1") == 1
    ledger.forget("j1")
    assert ledger.pieces("j1") == []
