"""The production wiring (``footprints.base.wire``) over the shipped in-memory fakes."""

from __future__ import annotations

import json
from pathlib import Path

from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.memory import MemoryProber
from vodkit.adapters.queue.memory import MemoryQueue
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.transcoder.base import NothingToFinish
from vodkit.adapters.transcoder.memory import MemoryTranscoder
from vodkit.adapters.transcoder.queued import QueuedJobSubmitter
from vodkit.config import Settings
from vodkit.domain.events import ObjectCreated
from vodkit.domain.media import AudioInfo, MediaInfo, VideoInfo
from vodkit.footprints.base import App, Ports, local_processing, wire
from vodkit.services.ingest import QueueAnnouncer
from vodkit.services.retries import Retries

VIDEO = b"a video"
HD = MediaInfo(
    container="mov,mp4,m4a,3gp,3g2,mj2",
    duration=12.0,
    size=len(VIDEO),
    bitrate=5_000_000,
    video=VideoInfo(codec="h264", width=1920, height=1080, fps=25.0),
    audio=AudioInfo(codec="aac", channels=2, sample_rate=48000),
)


def fake_app(tmp_path: Path, transcoder: MemoryTranscoder | None = None) -> App:
    settings = Settings(data_dir=tmp_path)
    ingest_queue, transcode_queue = MemoryQueue("ingest"), MemoryQueue("transcode")
    queues = {"ingest": ingest_queue, "transcode": transcode_queue}
    ports = Ports(
        presets=load_presets(),
        uploads=MemoryObjectStore("uploads"),
        outputs=MemoryObjectStore("outputs"),
        catalog=MemoryCatalog(),
        bus=RecordingEventBus(),
        metrics=MemoryMetrics(),
        prober=MemoryProber({VIDEO: HD}),
        submitter=QueuedJobSubmitter(transcode_queue),
    )
    return wire(
        settings,
        ports,
        ingest_queue=ingest_queue,
        queues=queues,
        announcer=QueueAnnouncer(ingest_queue),
        processing=lambda ports, ingest, assets: local_processing(
            ports,
            ingest,
            ingest_queue=ingest_queue,
            transcode_queue=transcode_queue,
            queues=queues,
            transcoder=transcoder or MemoryTranscoder(),
            work_root=tmp_path / "work",
            retries=Retries(backoff=0),
        ),
        make_sample=lambda target: target,
        serve_metrics=lambda port: None,
        finisher=NothingToFinish(),
    )


def upload(app: App, key: str = "uploads/alice/clip.mp4", content: bytes = VIDEO) -> ObjectCreated:
    """Put an object and return the event S3 would send (as it arrives: through JSON)."""
    store = app.uploads
    assert isinstance(store, MemoryObjectStore)
    info = store.put_bytes(key, content)
    event = ObjectCreated(bucket=store.bucket, key=key, size=info.size, etag=info.etag)
    return ObjectCreated.from_eventbridge(json.loads(json.dumps(event.to_eventbridge())))
