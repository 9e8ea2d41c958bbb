"""Leased transcodes and the reaper, on the memory catalog with a clock the test moves."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import HD
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.inprocess import InProcessEventBus
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.domain.asset import Asset, AssetStatus, Job, JobState
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import plan_transcode
from vodkit.services.leases import LeasedRuns, Reaper

T0 = datetime(2026, 12, 1, tzinfo=UTC)
JOB = TranscodeJob(
    "job-1", "a1", "b", "uploads/u/a1.mp4", plan_transcode(HD, load_presets(default_presets_path()))
)


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def now(self) -> float:
        return self.seconds

    def clock(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds)


class Submitted:
    def __init__(self) -> None:
        self.jobs: list[TranscodeJob] = []

    def submit(self, job: TranscodeJob) -> str:
        self.jobs.append(job)
        return job.job_id

    def find(self, job: TranscodeJob) -> str | None:
        return None


def catalog_with_job(clock: Clock) -> MemoryCatalog:
    catalog = MemoryCatalog()
    catalog.create(
        Asset.new(asset_id="a1", uploader_id="u", source_key="uploads/u/a1.mp4", source_bucket="b",
                  source_version="v", filename="a1.mp4", file_size=1, now=clock.clock())
    )  # fmt: skip
    catalog.start_processing(
        "a1",
        [Job("job-1", JobState.SUBMITTED, request=JOB.to_dict())],
        formats=["hls"],
        renditions=[],
        now=clock.clock(),
    )
    return catalog


def reaper(catalog: MemoryCatalog, clock: Clock, submitted: Submitted, **options: object) -> Reaper:
    return Reaper(catalog, submitted, InProcessEventBus(), now=clock.now, clock=clock.clock,
                  **options)  # type: ignore[arg-type]  # fmt: skip


def test_a_run_holds_the_job_and_frees_it_at_once_when_it_fails() -> None:
    clock = Clock()
    catalog = catalog_with_job(clock)
    runs = LeasedRuns(catalog, owner="w1", lease=60, now=clock.now, clock=clock.clock)
    other = LeasedRuns(catalog, owner="w2", lease=60, now=clock.now, clock=clock.clock)
    inside: list[bool] = []
    assert runs.run(JOB, lambda: inside.append(other.run(JOB, lambda: None)))
    assert inside == [False]  # held by w1 while it ran
    with pytest.raises(RuntimeError):
        runs.run(JOB, lambda: (_ for _ in ()).throw(RuntimeError("ffmpeg died")))
    assert other.run(JOB, lambda: None)  # freed at once for the retry


def test_the_reaper_hands_out_again_a_job_whose_worker_died_then_fails_the_asset() -> None:
    clock = Clock()
    catalog = catalog_with_job(clock)
    submitted = Submitted()
    reap = reaper(catalog, clock, submitted, max_restarts=2)
    assert catalog.claim_job("a1", "job-1", "dead-worker", clock.now() + 60, clock.now(), T0)
    assert reap.sweep() == 0  # the lease is live
    for restart in (1, 2):
        clock.seconds += 61
        assert reap.sweep() == 1
        assert [j.job_id for j in submitted.jobs] == ["job-1"] * restart
        assert catalog.claim_job("a1", "job-1", "w", clock.now() + 60, clock.now(), T0)
    clock.seconds += 61
    assert reap.sweep() == 0
    asset = catalog.get("a1")
    assert asset is not None and asset.status is AssetStatus.FAILED
    assert asset.errors[-1].code == "WorkerLost"


def test_a_job_never_claimed_is_handed_out_again_sooner_only_when_nothing_is_queued() -> None:
    clock = Clock()
    catalog = catalog_with_job(clock)
    submitted = Submitted()
    idle = threading.Event()
    reap = reaper(catalog, clock, submitted, lost_after=3600, idle_lost_after=120, idle=idle.is_set)
    clock.seconds += 300
    assert reap.sweep() == 0  # its message may still wait in the queue
    idle.set()
    assert reap.sweep() == 1  # nothing queued, never claimed: its message was lost
    assert reap.sweep() == 0  # handed out: it waits its turn again
    idle.clear()
    clock.seconds += 3601
    assert reap.sweep() == 1  # however busy the queue, not forever


def test_a_reaper_that_cannot_ask_the_broker_assumes_work_is_waiting() -> None:
    clock = Clock()
    catalog = catalog_with_job(clock)

    def broken() -> bool:
        raise OSError("connection refused")

    reap = reaper(catalog, clock, Submitted(), idle_lost_after=1, idle=broken)
    clock.seconds += 300
    assert reap.sweep() == 0
