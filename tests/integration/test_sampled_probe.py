"""Probing a large upload from its two ends gives what probing all of it gives.

Real files from FFmpeg and real footage; the sample edge is shrunk so that small
files count as large. The store counts the bytes the probe read.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from tests.conftest import AwsSession, make_clip, real_clip
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.inprocess import InProcessEventBus
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.storage.base import ObjectInfo, ObjectStore
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.storage.s3 import S3ObjectStore
from vodkit.adapters.transcoder.memory import MemoryJobSubmitter
from vodkit.domain.asset import Asset, AssetStatus
from vodkit.domain.events import ObjectCreated
from vodkit.domain.ladder import plan_transcode
from vodkit.services.ingest import IngestOrchestrator

EDGE = 64 * 1024


class CountingStore(MemoryObjectStore):
    def __init__(self) -> None:
        super().__init__("uploads")
        self.ranged = 0
        self.whole = 0

    def read_range(self, key: str, start: int, length: int) -> bytes:
        data = super().read_range(key, start, length)
        self.ranged += len(data)
        return data

    def local_file(self, key: str):  # type: ignore[no-untyped-def]
        self.whole += 1
        return super().local_file(key)


def _clip(tmp_path: Path, kind: str) -> Path:
    long_gop = ("-g", "60")
    return {
        "mp4 (moov at the end)": lambda: make_clip(tmp_path / "a.mp4", seconds=6),
        "mp4 (fast start)": lambda: make_clip(
            tmp_path / "b.mp4", seconds=6, extra=("-movflags", "+faststart")
        ),
        "matroska": lambda: make_clip(tmp_path / "c.mkv", seconds=6, extra=long_gop),
        "mpeg-ts": lambda: make_clip(tmp_path / "d.ts", seconds=6, extra=long_gop),
        "bigbuckbunny (5.1)": lambda: real_clip("bigbuckbunny.mp4"),
        "bikes (no audio)": lambda: real_clip("bikes.mp4"),
    }[kind]()


@pytest.mark.parametrize(
    "kind",
    ["mp4 (moov at the end)", "mp4 (fast start)", "matroska", "mpeg-ts",
     "bigbuckbunny (5.1)", "bikes (no audio)"],
)  # fmt: skip
def test_the_ends_of_an_upload_tell_what_all_of_it_tells(tmp_path: Path, kind: str) -> None:
    source = _clip(tmp_path, kind)
    size = source.stat().st_size
    assert size > 4 * EDGE, "the clip must be large enough to be sampled"
    store = CountingStore()
    info = store.put_stream("uploads/u/clip", io.BytesIO(source.read_bytes()))
    presets = load_presets(default_presets_path())
    prober, submitter = PyavProber(), MemoryJobSubmitter()
    orchestrator = IngestOrchestrator(
        uploads=store, catalog=MemoryCatalog(), prober=prober, submitter=submitter,
        presets=presets, bus=InProcessEventBus(), sample_edge=EDGE,
    )  # fmt: skip
    asset = orchestrator.handle(
        ObjectCreated("uploads", "uploads/u/clip", size, info.etag, time="2026-11-24T00:00:00Z")
    )
    assert asset.status is AssetStatus.PROCESSING, asset.errors
    assert store.whole == 0, "the two ends were enough: nothing else was read"
    assert store.ranged == 2 * EDGE
    (job,) = submitter.jobs.values()
    assert job.plan == plan_transcode(prober.probe(source), presets)  # as if all was read


def _ingest(
    store: ObjectStore, submitter: MemoryJobSubmitter, key: str, info: ObjectInfo, edge: int
) -> Asset:
    orchestrator = IngestOrchestrator(
        uploads=store, catalog=MemoryCatalog(), prober=PyavProber(), submitter=submitter,
        presets=load_presets(default_presets_path()), bus=InProcessEventBus(), sample_edge=edge,
    )  # fmt: skip
    return orchestrator.handle(
        ObjectCreated("uploads", key, info.size, info.etag, time="2026-11-24T00:00Z")
    )


@pytest.mark.parametrize(
    ("edge", "ranged", "whole"),
    [
        (1024, 2 * 1024 + 2 * 8 * 1024, 0),  # the moov (over 1 KiB) fits in the wider ends
        (64, 2 * 64 + 2 * 8 * 64, 1),  # it fits in neither: all of the upload is read
    ],
)
def test_when_the_ends_are_not_enough_wider_ends_then_the_whole_upload_are_probed(
    tmp_path: Path, edge: int, ranged: int, whole: int
) -> None:
    source = make_clip(tmp_path / "a.mp4", seconds=6)  # its moov is at the end
    store = CountingStore()
    info = store.put_stream("uploads/u/clip", io.BytesIO(source.read_bytes()))
    submitter = MemoryJobSubmitter()
    asset = _ingest(store, submitter, "uploads/u/clip", info, edge)
    assert asset.status is AssetStatus.PROCESSING, asset.errors
    assert (store.ranged, store.whole) == (ranged, whole) and len(submitter.jobs) == 1


def test_an_upload_too_big_to_read_whole_here_fails_with_the_reason(
    tmp_path: Path, aws: AwsSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ends were not enough and the upload outgrows the local disk (Lambda's /tmp):
    the asset ends FAILED saying so, rather than the event being retried to the DLQ."""
    source = make_clip(tmp_path / "a.mp4", seconds=6)
    client = aws.client("s3")
    client.create_bucket(Bucket="uploads")
    store = S3ObjectStore(client, "uploads")
    info = store.put_file("uploads/u/clip.mp4", source)
    disk = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        "vodkit.adapters.storage.s3.shutil.disk_usage",
        lambda path: disk._replace(total=info.size - 1),
    )
    submitter = MemoryJobSubmitter()
    asset = _ingest(store, submitter, "uploads/u/clip.mp4", info, edge=64)
    assert asset.status is AssetStatus.FAILED and not submitter.jobs
    assert asset.errors[-1].code == "LimitExceeded"
    assert "local storage" in asset.errors[-1].message
