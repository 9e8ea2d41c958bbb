"""Where jobs run is a strategy on ``App``: every footprint answers the same calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.fakes import fake_app
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.queue.memory import MemoryQueue
from vodkit.domain.errors import ConfigError
from vodkit.footprints.base import Ports, nothing_to_watch
from vodkit.services.follow import Follower
from vodkit.services.processing import BrokerWork, RemoteProcessing, Runnable, runs_on
from vodkit.services.retries import Retries

WORK = BrokerWork(
    broker=object(),
    queues=("ingest", "transcode"),
    concurrency=2,
    handlers=dict,
    retries=Retries(),
    dead_letter=lambda *letter: None,
    background=(),
    work_root=Path("/nonexistent"),
    prepare=lambda: None,
    finish=lambda: None,
)


class Started:
    def __init__(self, work: Callable[[], BrokerWork], queues: Sequence[str]) -> None:
        self.work, self.queues = work(), list(queues)

    def run(self, stop: threading.Event) -> None:
        pass


def remote() -> RemoteProcessing:
    return RemoteProcessing(Follower(MemoryCatalog(), MemoryQueue()), work=lambda: WORK)


def test_a_broker_footprints_worker_is_the_runtime_vodkit_worker_hands_in() -> None:
    loop: Runnable = remote().worker(queues=["transcode"], broker=Started)
    assert isinstance(loop, Started)
    assert loop.work is WORK and loop.queues == ["transcode"]


def test_a_broker_footprints_worker_needs_a_process_of_its_own() -> None:
    built: list[BrokerWork] = []
    processing = RemoteProcessing(
        Follower(MemoryCatalog(), MemoryQueue()), work=lambda: built.append(WORK) or WORK
    )
    with pytest.raises(ConfigError, match="process of their own: vodkit worker"):
        processing.worker(watch=True)  # `vodkit serve --worker`: no broker runtime in a thread
    assert not built  # nothing of a worker's (metrics files, scratch) made where none runs


def test_a_footprint_whose_jobs_run_on_a_service_has_no_worker() -> None:
    processing = RemoteProcessing(
        Follower(MemoryCatalog(), MemoryQueue()), work=runs_on("MediaConvert")
    )
    processing.check()
    with pytest.raises(ConfigError, match="on MediaConvert: there is no local worker"):
        processing.worker(broker=Started)


def test_watching_the_bucket_is_a_strategy(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    assert app.watch_bucket(10.0, lambda done: None).scan().listed == 0
    refuse = nothing_to_watch(Ports(*([None] * 8)), app.assets)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="announces its uploads itself"):
        refuse(10.0, lambda done: None)
