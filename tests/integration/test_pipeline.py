"""The embedded pipeline with its real adapters: SQLite, local files, PyAV, FFmpeg."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vodkit.config import load_settings
from vodkit.domain.asset import AssetStatus
from vodkit.domain.events import ObjectCreated
from vodkit.domain.keys import upload_key
from vodkit.footprints.base import App
from vodkit.footprints.embedded import EmbeddedSettings, bootstrap
from vodkit.services.ingest import enqueue

pytestmark = pytest.mark.integration


@pytest.fixture
def app(tmp_path: Path) -> App:
    return bootstrap(load_settings(EmbeddedSettings, data_dir=tmp_path / "data", retry_backoff=0))


def put(app: App, path: Path, uploader: str = "alice", name: str | None = None) -> str:
    return app.assets.upload_file(path, uploader, name).asset_id


def test_the_same_object_created_twice_gives_one_asset_and_one_transcode(
    app: App, clips: dict[str, Path]
) -> None:
    runs: list[object] = []
    transcoder = app.processing.transcode.transcoder  # type: ignore[attr-defined]
    real = transcoder.transcode

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(args)
        return real(*args, **kwargs)

    transcoder.transcode = counting
    key = upload_key("alice", "clip.mp4")
    info = app.uploads.put_file(key, clips["small"])
    event = ObjectCreated(app.uploads.bucket, key, info.size, info.etag)
    app.ingest_queue.send(json.dumps(event.to_eventbridge()))
    app.ingest_queue.send(json.dumps(event.to_eventbridge()))  # a redelivery
    app.processing.worker().drain()
    app.orchestrator.handle(event)  # and one more after completion
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.COMPLETED
    assert len(runs) == 1
    for path in asset.outputs.values():
        assert Path(app.outputs.locate(path)).is_file()


def hostile_files(directory: Path, clips: dict[str, Path]) -> dict[str, Path]:
    files = {
        "empty.mp4": b"",
        "text.mp4": b"This is not a video, just some text.\n" * 20,
        "random.mp4": os.urandom(64 * 1024),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = directory / name
        paths[name].write_bytes(content)
    truncated = directory / "truncated.mp4"
    data = clips["hd"].read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    paths["truncated.mp4"] = truncated
    return paths


def test_bad_uploads_fail_with_reasons_and_the_worker_goes_on(
    app: App, clips: dict[str, Path], tmp_path: Path
) -> None:
    expected = {
        "empty.mp4": "EmptyFile",
        "text.mp4": "NotMedia",
        "random.mp4": "NotMedia",
        "truncated.mp4": "NotMedia",  # the moov atom is at the end: nothing to read
    }
    ids = {name: put(app, path) for name, path in hostile_files(tmp_path, clips).items()}
    # keys outside the layout, arriving as events (a direct S3 put, say)
    stray = tmp_path / "stray.mp4"
    shutil.copy(clips["tiny"], stray)
    for key in ("uploads/stray.mp4", "uploads/alice/../../../etc/passwd"):
        event = ObjectCreated(app.uploads.bucket, key, stray.stat().st_size, "etag")
        ids[key] = enqueue(app.ingest_queue, event)
        expected[key] = "InvalidKey"
    ids["good"] = put(app, clips["tiny"])
    app.processing.worker().drain()
    for name, asset_id in ids.items():
        asset = app.catalog.get(asset_id)
        assert asset is not None, name
        if name == "good":
            assert asset.status is AssetStatus.COMPLETED
            continue
        assert asset.status is AssetStatus.FAILED, name
        (error,) = asset.errors
        assert error.code == expected[name], (name, error)
        assert error.message and len(error.message) < 300
    assert not app.ingest_queue.dead_letters() and not app.queues["transcode"].dead_letters()


def test_a_truncated_fragmented_file_fails_at_transcode_with_a_reason(
    app: App, tmp_path: Path, clips: dict[str, Path]
) -> None:
    from tests.conftest import make_clip

    # faststart puts the moov first, so the header probes fine and the cut shows mid-decode
    whole = make_clip(
        tmp_path / "whole.mp4", size="640x360", seconds=4, extra=("-movflags", "+faststart")
    )
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    asset_id = put(app, cut)
    app.processing.worker().drain()
    asset = app.catalog.get(asset_id)
    assert asset is not None and asset.status is AssetStatus.FAILED
    (error,) = asset.errors
    assert error.code == "Truncated" and "truncated" in error.message
    assert not list(app.outputs.list(asset_id))  # nothing half-made was published
