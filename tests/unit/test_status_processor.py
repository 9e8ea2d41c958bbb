"""The original design's defects, each pinned by a test on the status processor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.domain.asset import Asset, AssetStatus, Job, JobState
from vodkit.domain.errors import AssetNotFound, Conflict
from vodkit.domain.events import AssetStatusChanged, JobStateChanged
from vodkit.services.status import StatusProcessor

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def processing(jobs: int = 2) -> tuple[StatusProcessor, MemoryCatalog, RecordingEventBus]:
    catalog, bus = MemoryCatalog(), RecordingEventBus()
    catalog.create(
        Asset.new(
            asset_id="a1", uploader_id="u", source_key="uploads/u/x.mp4", source_bucket="b",
            source_version="v", filename="x.mp4", file_size=1, now=NOW,
        )
    )  # fmt: skip
    catalog.start_processing(
        "a1",
        [Job(f"j{i}", JobState.SUBMITTED) for i in range(jobs)],
        formats=["hls"],
        renditions=[],
        now=NOW,
    )
    return StatusProcessor(catalog=catalog, bus=bus, clock=lambda: NOW), catalog, bus


def event(job: str, status: JobState, **kw: object) -> JobStateChanged:
    return JobStateChanged(job_id=job, status=status, asset_id="a1", **kw)  # type: ignore[arg-type]


def status_of(catalog: MemoryCatalog) -> AssetStatus:
    asset = catalog.get("a1")
    assert asset is not None
    return asset.status


def test_a_duplicated_completion_does_not_complete_an_unfinished_asset() -> None:
    processor, catalog, _ = processing(2)
    processor.handle(event("j0", JobState.COMPLETE, outputs={"hls": "a1/h.m3u8"}))
    processor.handle(event("j0", JobState.COMPLETE, outputs={"hls": "a1/h.m3u8"}))
    assert status_of(catalog) is AssetStatus.PROCESSING
    processor.handle(event("j1", JobState.COMPLETE, outputs={"mp4": "a1/p.mp4"}))
    assert status_of(catalog) is AssetStatus.COMPLETED
    asset = catalog.get("a1")
    assert asset is not None and asset.outputs == {"hls": "a1/h.m3u8", "mp4": "a1/p.mp4"}


def test_completion_is_announced_exactly_once() -> None:
    processor, _, bus = processing(1)
    for _ in range(3):
        processor.handle(event("j0", JobState.COMPLETE))
    assert [e.status for e in bus.of_type(AssetStatusChanged)] == [AssetStatus.COMPLETED]  # type: ignore[attr-defined]


def test_an_error_is_never_overwritten() -> None:
    processor, catalog, bus = processing(2)
    processor.handle(event("j0", JobState.ERROR, error_code="1010", error_message="bad input"))
    processor.handle(event("j1", JobState.COMPLETE))
    processor.handle(event("j1", JobState.PROGRESSING, percent=50))
    assert status_of(catalog) is AssetStatus.FAILED
    asset = catalog.get("a1")
    assert asset is not None and asset.errors[0].code == "1010" and asset.errors[0].job_id == "j0"
    with pytest.raises(Conflict):  # a late "start" cannot move it back to PROCESSING
        catalog.start_processing("a1", [], formats=[], renditions=[], now=NOW)
    assert [e.status for e in bus.of_type(AssetStatusChanged)] == [AssetStatus.FAILED]  # type: ignore[attr-defined]


def test_progress_is_recorded_but_never_revives_an_ended_job() -> None:
    processor, catalog, _ = processing(1)
    processor.handle(event("j0", JobState.PROGRESSING, percent=40.0))
    assert catalog.jobs("a1")[0].percent == 40.0
    processor.handle(event("j0", JobState.COMPLETE))
    processor.handle(event("j0", JobState.PROGRESSING, percent=10.0))
    (job,) = catalog.jobs("a1")
    assert (job.state, job.percent) == (JobState.COMPLETE, 100.0)


def test_an_error_after_completion_changes_nothing() -> None:
    processor, catalog, _ = processing(1)
    processor.handle(event("j0", JobState.COMPLETE))
    processor.handle(event("j0", JobState.ERROR, error_code="X"))
    assert status_of(catalog) is AssetStatus.COMPLETED
    asset = catalog.get("a1")
    assert asset is not None and asset.errors == ()


def test_events_for_an_unknown_asset_raise_so_the_transport_retries() -> None:
    processor, _, _ = processing(1)
    with pytest.raises(AssetNotFound):
        processor.handle(JobStateChanged("j0", JobState.COMPLETE, "nope"))


def test_finishing_adds_outputs_before_completion_and_never_after() -> None:
    _, catalog, bus = processing(1)
    finished: list[str] = []

    class Finisher:
        makes = ("sprite",)

        def finish(self, asset_id: str, job: Job) -> dict[str, str]:
            finished.append(job.job_id)
            return {"sprite": "a1/thumbs/sprite.vtt"}

    processor = StatusProcessor(catalog=catalog, bus=bus, clock=lambda: NOW, finisher=Finisher())
    processor.handle(event("j0", JobState.COMPLETE, outputs={"hls": "a1/h.m3u8"}))
    asset = catalog.get("a1")
    assert asset is not None and asset.status is AssetStatus.COMPLETED
    assert asset.outputs == {"hls": "a1/h.m3u8", "sprite": "a1/thumbs/sprite.vtt"}
    processor.handle(event("j0", JobState.COMPLETE, outputs={"hls": "a1/h.m3u8"}))  # late
    assert finished == ["j0"]
