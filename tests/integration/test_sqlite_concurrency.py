"""Concurrent status updates on real SQLite, each through its own connection."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vodkit.adapters.catalog.sqlite import SqliteCatalog
from vodkit.adapters.queue.sqlite import SqliteQueue
from vodkit.domain.asset import Asset, AssetStatus, Job, JobState

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_last_two_jobs_completing_at_once_complete_the_asset_exactly_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.sqlite3"
    setup = SqliteCatalog(path)
    rounds = 40
    for n in range(rounds):
        asset_id = f"a{n}"
        setup.create(
            Asset.new(
                asset_id=asset_id, uploader_id="u", source_key=f"uploads/u/{n}.mp4",
                source_bucket="b", source_version="v", filename="x", file_size=1, now=NOW,
            )
        )  # fmt: skip
        setup.start_processing(
            asset_id,
            [Job(f"{asset_id}-j{i}", JobState.SUBMITTED) for i in range(3)],
            formats=[],
            renditions=[],
            now=NOW,
        )
        setup.complete_job(asset_id, f"{asset_id}-j0", {}, NOW)

    # two workers, two connections, racing on the last two jobs of every asset
    transitions: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def worker(index: int) -> None:
        catalog = SqliteCatalog(path)
        for n in range(rounds):
            barrier.wait()
            if catalog.complete_job(f"a{n}", f"a{n}-j{index + 1}", {f"k{index}": "v"}, NOW):
                transitions[index].append(f"a{n}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    completed = sorted(transitions[0] + transitions[1])
    assert completed == sorted(f"a{n}" for n in range(rounds))  # each exactly once
    for n in range(rounds):
        asset = setup.get(f"a{n}")
        assert asset is not None and asset.status is AssetStatus.COMPLETED
        assert asset.outputs == {"k0": "v", "k1": "v"}


def test_competing_consumers_never_share_a_delivery(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    SqliteQueue(path, "q").send("warm-up")
    producer = SqliteQueue(path, "q")
    for i in range(200):
        producer.send(f"m{i}")
    got: list[list[str]] = [[], [], []]

    def consume(index: int) -> None:
        queue = SqliteQueue(path, "q", visibility_timeout=600)
        while messages := queue.receive(max_messages=3):
            for m in messages:
                got[index].append(m.body)
                queue.delete(m.receipt)

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = got[0] + got[1] + got[2]
    assert sorted(everything) == sorted(["warm-up"] + [f"m{i}" for i in range(200)])
