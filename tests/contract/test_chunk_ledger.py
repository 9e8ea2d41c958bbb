"""One contract, every chunk ledger (issue 28): the in-memory fake and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vodkit.adapters.catalog.postgres import catalog_database
from vodkit.adapters.chunks.base import AUDIO, THUMBS, ChunkLedger, progress_of
from vodkit.adapters.chunks.memory import MemoryChunkLedger
from vodkit.adapters.chunks.postgres import PostgresChunkLedger


@pytest.fixture(params=["memory", "postgres"])
def ledger(request: pytest.FixtureRequest) -> Iterator[ChunkLedger]:
    if request.param == "memory":
        yield MemoryChunkLedger()
        return
    db = catalog_database(request.getfixturevalue("postgres_dsn"), max_size=2)
    try:
        yield PostgresChunkLedger(db)
    finally:
        db.close()


def test_runs_are_numbered_and_progress_counts_chunk_seconds(
    ledger: ChunkLedger,
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


def test_the_last_piece_is_found_once_in_any_order(ledger: ChunkLedger) -> None:
    ledger.start("a", "j", {1: 6.0, 0: 6.0, AUDIO: 0, THUMBS: 0})
    last = []
    for piece in (THUMBS, 1, AUDIO, 0):
        attempt = ledger.begin("j", piece, 1.0)
        assert attempt == 1
        last.append(ledger.finish("j", piece, attempt, 2.0))
        assert not ledger.finish("j", piece, attempt, 3.0)  # delivered twice: counted once
    assert last == [False, False, False, True]


def test_unknown_jobs_and_pieces_do_nothing(ledger: ChunkLedger) -> None:
    assert ledger.begin("nope", 0, 1.0) is None
    assert not ledger.finish("nope", 0, 1, 1.0)
    assert ledger.pieces("nope") == []
    ledger.start("a", "j", {0: 6.0})
    assert ledger.begin("j", 7, 1.0) is None
    assert not ledger.finish("j", 7, 1, 1.0)
