"""The embedded flow on fakes: ingest -> transcode -> status, with every bad path."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import HD, VIDEO, fake_app, upload
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.probe.memory import MemoryProber
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.transcoder.memory import MemoryTranscoder
from vodkit.domain.asset import AssetStatus, JobState
from vodkit.domain.errors import (
    ErrorCode,
    NotRetryable,
    ObjectNotFound,
    TranscodeFailed,
    TransientError,
)
from vodkit.domain.events import AssetStatusChanged, ObjectCreated
from vodkit.domain.keys import asset_id_for
from vodkit.services.ingest import enqueue


def test_an_upload_is_planned_submitted_transcoded_and_completed(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    asset = app.orchestrator.handle(upload(app))
    assert asset.status is AssetStatus.PROCESSING
    assert asset.uploader_id == "alice" and asset.filename == "clip.mp4"
    assert [r["name"] for r in asset.renditions] == ["720p", "480p", "preview"]
    (job,) = app.catalog.jobs(asset.asset_id)
    assert job.state is JobState.SUBMITTED
    assert app.queues["transcode"].depth().visible == 1

    app.processing.worker().drain()
    done = app.catalog.get(asset.asset_id)
    assert done is not None and done.status is AssetStatus.COMPLETED
    assert set(done.outputs) == {"hls", "dash", "mp4", "poster", "sprite"}
    outputs = app.outputs
    assert isinstance(outputs, MemoryObjectStore)
    for key in done.outputs.values():
        assert key.startswith(f"{asset.asset_id}/") and key in outputs.objects
    assert app.metrics.value("ProcessedAssets") == 1
    assert app.metrics.value("CompletedJobs") == 1
    assert app.metrics.value("ProcessingStarted") == 1
    assert app.metrics.value("JobProcessingTime") == 1
    assert app.ingest_queue.depth().visible == app.queues["transcode"].depth().visible == 0


def test_outputs_are_published_with_manifests_last(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    order: list[str] = []
    outputs = app.outputs
    original = outputs.put_file

    def recording_put(key: str, path: Path):  # type: ignore[no-untyped-def]
        order.append(key)
        return original(key, path)

    outputs.put_file = recording_put  # type: ignore[method-assign]
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    assert order[-2:] == sorted(k for k in order if k.endswith(("master.m3u8", "manifest.mpd")))
    naming_others = (".m3u8", ".mpd", ".vtt")  # files that point at other files
    first_manifest = min(i for i, k in enumerate(order) if k.endswith(naming_others))
    assert all(not k.endswith(naming_others) for k in order[:first_manifest])
    assert all(k.endswith(naming_others) for k in order[first_manifest:])


def test_the_same_event_twice_gives_one_asset_and_one_transcode(tmp_path: Path) -> None:
    transcoder = MemoryTranscoder()
    app = fake_app(tmp_path, transcoder)
    event = upload(app)
    first = app.orchestrator.handle(event)
    second = app.orchestrator.handle(event)  # redelivered before the transcode ran
    assert first.asset_id == second.asset_id
    app.processing.worker().drain()
    app.orchestrator.handle(event)  # and again after it completed
    app.processing.worker().drain()
    assert len(app.catalog.query()) == 1
    assert len(transcoder.runs) == 1
    assert app.metrics.value("ProcessedAssets") == 1


def test_a_crash_between_recording_and_submitting_resubmits_once(tmp_path: Path) -> None:
    transcoder = MemoryTranscoder()
    app = fake_app(tmp_path, transcoder)
    submitter = app.orchestrator.submitter
    calls = {"n": 0}
    real_submit = submitter.submit

    def flaky_submit(job):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("queue unavailable")
        real_submit(job)

    submitter.submit = flaky_submit  # type: ignore[method-assign]
    enqueue(app.ingest_queue, upload(app))
    (message,) = app.ingest_queue.receive()
    with pytest.raises(TransientError):  # the catalog recorded the job, the submit failed
        app.orchestrator.handle_message(message.body)
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.PROCESSING
    app.ingest_queue.release(message.receipt)
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.COMPLETED
    assert calls["n"] == 2 and len(transcoder.runs) == 1


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("uploads/clip.mp4", "uploads/{uploaderId}/{filename}"),
        ("other/alice/clip.mp4", "uploads/{uploaderId}/{filename}"),
        ("uploads/alice/../../etc/passwd", "'..'"),
        ("uploads/alice/a/b.mp4", "uploads/{uploaderId}/{filename}"),
    ],
)
def test_keys_outside_the_layout_end_failed_with_a_reason(
    tmp_path: Path, key: str, reason: str
) -> None:
    app = fake_app(tmp_path)
    event = ObjectCreated(bucket="uploads", key=key, size=5, etag="e")
    asset = app.orchestrator.handle(event)
    assert asset.status is AssetStatus.FAILED
    assert asset.errors[0].code == "InvalidKey" and reason in asset.errors[0].message
    assert app.queues["transcode"].depth().visible == 0
    assert app.metrics.value("FailedAssets") == 1


def test_bad_media_fails_and_the_next_upload_completes(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    for name, content in [("text.mp4", b"hello"), ("empty.mp4", b"x")]:
        enqueue(app.ingest_queue, upload(app, f"uploads/bob/{name}", content))
    enqueue(app.ingest_queue, upload(app, "uploads/bob/good.mp4", VIDEO))
    app.processing.worker().drain()
    by_name = {a.filename: a for a in app.catalog.query()}
    assert by_name["text.mp4"].status is AssetStatus.FAILED
    assert by_name["text.mp4"].errors[0].code == "NotMedia"
    assert by_name["good.mp4"].status is AssetStatus.COMPLETED


def test_a_vanished_or_replaced_upload_fails_with_a_reason(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    store = app.uploads
    assert isinstance(store, MemoryObjectStore)
    gone = upload(app, "uploads/a/gone.mp4")
    store.delete(gone.key)
    replaced = upload(app, "uploads/a/replaced.mp4")
    store.put_bytes(replaced.key, b"something else")
    assert app.orchestrator.handle(gone).errors[0].code == "SourceMissing"
    assert app.orchestrator.handle(replaced).errors[0].code == "SourceChanged"


def test_an_event_with_an_etag_of_the_old_scheme_is_not_taken_for_a_replaced_upload(
    tmp_path: Path,
) -> None:
    """Events queued before the local stores' etags became xxh3 carry an md5: processed,
    and deleting the asset still removes its upload (the md5 is checked against the bytes)."""
    app = fake_app(tmp_path)
    queued = replace(upload(app), etag=hashlib.md5(VIDEO).hexdigest())
    assert app.uploads.head(queued.key).etag.startswith("xxh3-")
    asset = app.orchestrator.handle(queued)
    assert asset.status is AssetStatus.PROCESSING and asset.source_version == queued.etag
    app.processing.worker().drain()
    assert app.assets.get(asset.asset_id).status is AssetStatus.COMPLETED
    app.assets.delete(asset.asset_id)
    with pytest.raises(ObjectNotFound):
        app.uploads.head(queued.key)


def test_an_md5_etag_that_no_longer_names_the_bytes_is_seen_as_replaced(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    store = app.uploads
    assert isinstance(store, MemoryObjectStore)
    queued = replace(upload(app), etag=hashlib.md5(VIDEO).hexdigest())
    old = app.orchestrator.handle(queued)
    app.processing.worker().drain()
    newer = upload(app, queued.key, VIDEO + b"a newer upload under the same key")
    app.assets.delete(old.asset_id)  # the old asset goes; the newer upload under its key stays
    assert store.head(newer.key).etag == newer.etag
    stale = replace(queued, key="uploads/alice/other.mp4")
    store.put_bytes(stale.key, b"not the bytes the event announced")
    assert app.orchestrator.handle(stale).errors[0].code == "SourceChanged"


def test_a_transcode_error_fails_the_asset_with_code_and_message(tmp_path: Path) -> None:
    app = fake_app(tmp_path, MemoryTranscoder(fail_with=TranscodeFailed("corrupt frame")))
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.FAILED
    assert (asset.errors[0].code, asset.errors[0].message) == ("TranscodeFailed", "corrupt frame")
    (job,) = app.catalog.jobs(asset.asset_id)
    assert job.state is JobState.ERROR
    assert app.metrics.value("FailedJobs") == 1 and app.metrics.value("FailedAssets") == 1


def test_a_transient_transcode_fault_is_retried(tmp_path: Path) -> None:
    transcoder = MemoryTranscoder(fail_with=TransientError("disk full"), fail_times=1)
    app = fake_app(tmp_path, transcoder)
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.COMPLETED and not asset.errors
    assert len(transcoder.runs) == 2
    assert not app.queues["transcode"].dead_letters()


def test_a_poison_message_is_dead_lettered_after_three_receives_and_redriven(
    tmp_path: Path,
) -> None:
    app = fake_app(tmp_path)
    app.ingest_queue.send("this is not an event")
    worker = app.processing.worker()
    for _ in range(5):
        worker.drain()
    (letter,) = app.ingest_queue.dead_letters()
    assert letter.receive_count == 3 and "InvalidEvent" in letter.last_error
    assert app.ingest_queue.redrive() == 1
    assert app.ingest_queue.depth().visible == 1 and not app.ingest_queue.dead_letters()


def test_a_failed_asset_can_be_retried(tmp_path: Path) -> None:
    bad_outputs = TranscodeFailed(
        "the outputs failed their checks", code=ErrorCode.VERIFICATION_FAILED
    )
    app = fake_app(tmp_path, MemoryTranscoder(fail_with=bad_outputs, fail_times=1))
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.FAILED  # vodkit's own fault: a retry may succeed
    app.assets.retry(asset.asset_id)
    (message,) = app.ingest_queue.receive()
    again = ObjectCreated.from_eventbridge(json.loads(message.body))
    assert asset_id_for(again.bucket, again.key, again.version) == asset.asset_id
    app.ingest_queue.release(message.receipt)
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert (asset.status, asset.attempt) == (AssetStatus.COMPLETED, 2)
    assert len(asset.errors) == 1  # the history of the first attempt is kept


def test_a_failure_of_the_upload_itself_is_not_retried(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    prober = app.orchestrator.prober
    assert isinstance(prober, MemoryProber)
    del prober.answers[VIDEO]  # the upload is not media: every attempt would say so
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.FAILED and asset.errors[-1].code == "NotMedia"
    assert not asset.retryable
    with pytest.raises(NotRetryable, match="NotMedia: the upload is not a video file"):
        app.assets.retry(asset.asset_id)
    assert not app.ingest_queue.receive()  # nothing queued
    (still,) = app.catalog.query()
    assert (still.status, still.attempt) == (AssetStatus.FAILED, 1)


def test_a_failure_settings_or_load_may_undo_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vodkit.domain.errors import LimitExceeded

    app = fake_app(tmp_path)
    prober = app.orchestrator.prober

    def too_long(path: Path) -> object:
        raise LimitExceeded("the video is longer than VODKIT_MAX_DURATION allows")

    monkeypatch.setattr(prober, "probe", too_long)
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    (asset,) = app.catalog.query()
    assert asset.errors[-1].code == "LimitExceeded" and asset.retryable
    monkeypatch.undo()  # the operator raised the limit
    retried = app.assets.retry(asset.asset_id)
    assert retried.status is AssetStatus.PENDING and not retried.retryable
    app.processing.worker().drain()
    (done,) = app.catalog.query()
    assert done.status is AssetStatus.COMPLETED


def test_status_announcements_happen_once(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    enqueue(app.ingest_queue, upload(app))
    app.processing.worker().drain()
    bus = app.bus
    assert isinstance(bus, RecordingEventBus)
    statuses = [e.status for e in bus.of_type(AssetStatusChanged)]  # type: ignore[attr-defined]
    assert statuses == [AssetStatus.PENDING, AssetStatus.PROCESSING, AssetStatus.COMPLETED]


def test_the_ingest_message_is_the_eventbridge_s3_event(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    enqueue(app.ingest_queue, upload(app, "uploads/alice/a b+c.mp4"))
    (message,) = app.ingest_queue.receive()
    body = json.loads(message.body)
    assert body["detail-type"] == "Object Created"
    assert body["detail"]["object"]["key"] == "uploads/alice/a+b%2Bc.mp4"


def test_a_publish_cut_short_leaves_no_manifest_behind(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    outputs = app.outputs
    assert isinstance(outputs, MemoryObjectStore)
    real_put = outputs.put_file
    puts = {"n": 0}

    def dying_put(key: str, path: Path):  # type: ignore[no-untyped-def]
        puts["n"] += 1
        if puts["n"] == 4:  # the worker dies in the middle of publishing
            raise TransientError("connection reset")
        return real_put(key, path)

    outputs.put_file = dying_put  # type: ignore[method-assign]
    enqueue(app.ingest_queue, upload(app))
    (message,) = app.ingest_queue.receive()
    app.orchestrator.handle_message(message.body)
    app.ingest_queue.delete(message.receipt)
    (job,) = app.queues["transcode"].receive()
    with pytest.raises(TransientError):
        app.processing.transcode.handle_message(job.body)
    published = list(outputs.objects)
    assert published and not [k for k in published if k.endswith((".m3u8", ".mpd", ".vtt"))]
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.PROCESSING  # not COMPLETED on a partial publish
    app.queues["transcode"].release(job.receipt)
    app.processing.worker().drain()  # the retry publishes everything, manifests last
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.COMPLETED
    assert all(key in outputs.objects for key in asset.outputs.values())


def test_a_file_transcode_names_each_phase_as_a_job_does(tmp_path: Path) -> None:
    """``vodkit transcode``'s bar: probing, analysing, encoding (with its percent), packaging."""
    from vodkit.adapters.presets.file import load_presets
    from vodkit.adapters.storage.local import LocalObjectStore
    from vodkit.services.transcode import FileTranscoding

    source = tmp_path / "clip.mp4"
    source.write_bytes(VIDEO)
    heard: list[tuple[str, float]] = []
    FileTranscoding(
        prober=MemoryProber({VIDEO: HD}), transcoder=MemoryTranscoder(), presets=load_presets()
    ).run(
        source,
        LocalObjectStore(tmp_path / "out"),
        tmp_path,
        on_phase=lambda phase, percent: heard.append((phase, percent)),
        on_progress=lambda p: heard.append(("encoding", p.percent)),
    )
    assert heard == [("probing", 0.0), ("analysing", 0.0), ("encoding", 0.0), ("encoding", 50.0),
                     ("encoding", 100.0), ("packaging", 0.0)]  # fmt: skip
