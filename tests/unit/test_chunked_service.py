"""The chunked strategy's pieces on fakes (issue 28): runs under their own keys, the last
one queues the stitch, a second run or a redelivery changes nothing, a deleted asset and a
piece out of retries leave nothing behind."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_app, upload
from vodkit.adapters.chunks.base import AUDIO, THUMBS
from vodkit.adapters.chunks.memory import MemoryChunkLedger
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.transcoder.memory import MemoryTranscoder
from vodkit.domain.asset import JobState
from vodkit.domain.chunks import ChunkTask
from vodkit.domain.errors import TransientError
from vodkit.domain.events import JobStateChanged
from vodkit.domain.jobs import TranscodeJob
from vodkit.footprints.base import App
from vodkit.services.chunked import ChunkedTranscoding
from vodkit.services.leases import LeasedRuns
from vodkit.services.messages import decode
from vodkit.services.transcode import TranscodeService


@dataclass
class Writer:
    """Writes one file where FFmpeg would write a piece's; fails while ``failing`` is set."""

    failing: Exception | None = None
    runs: list[str] = field(default_factory=list)

    def _write(self, what: str, workdir: Path) -> None:
        self.runs.append(what)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / f"{what}.bin").write_bytes(b"x")
        if self.failing is not None:
            raise self.failing

    def encode(self, plan: Any, chunk: Any, source: Path, workdir: Path) -> None:
        self._write(f"chunk{chunk.index}", workdir)

    def audio(self, plan: Any, source: Path, workdir: Path) -> None:
        self._write("audio", workdir)

    def thumbs(self, plan: Any, source: Path, workdir: Path) -> None:
        self._write("thumbs", workdir)


@dataclass
class Rig:
    app: App
    job: TranscodeJob
    chunked: ChunkedTranscoding
    ledger: MemoryChunkLedger
    writer: Writer
    sent: list[str]
    renewed: list[str]
    bus: RecordingEventBus
    metrics: MemoryMetrics

    def task(self, piece: int | None) -> ChunkTask:
        return ChunkTask(self.job, 6, piece)

    def scratch(self) -> list[str]:
        return sorted(i.key for i in self.app.outputs.list("scratch/"))


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    app = fake_app(tmp_path)
    asset = app.orchestrator.handle(upload(app))
    (message,) = app.queues["transcode"].receive()
    job = TranscodeJob.from_dict(decode(message.body))
    assert job.asset_id == asset.asset_id
    bus, metrics = RecordingEventBus(), MemoryMetrics()
    service = TranscodeService(
        uploads=app.uploads, outputs=app.outputs, catalog=app.catalog,
        transcoder=MemoryTranscoder(), bus=bus, metrics=metrics, work_root=tmp_path / "work",
    )  # fmt: skip
    (tmp_path / "work").mkdir()
    ledger, writer, sent, renewed = MemoryChunkLedger(), Writer(), [], []
    chunked = ChunkedTranscoding(
        service, ledger, encoder=writer, pieces=writer,  # type: ignore[arg-type]
        send=sent.append, chunk_seconds=6, now=lambda: 100.0,
        renew=lambda job: renewed.append(job.job_id),
    )  # fmt: skip
    ledger.start(job.asset_id, job.job_id, {0: 12.0, AUDIO: 0.0, THUMBS: 0.0})  # 12 s: 1 chunk
    return Rig(app, job, chunked, ledger, writer, sent, renewed, bus, metrics)


def test_each_piece_writes_under_its_run_and_the_last_queues_the_stitch(rig: Rig) -> None:
    rig.chunked.run_piece(rig.task(AUDIO))
    rig.chunked.run_piece(rig.task(0))
    assert rig.sent == []  # not yet: the thumbnails are still to come
    rig.chunked.run_piece(rig.task(THUMBS))
    (stitch,) = rig.sent
    assert ChunkTask.from_dict(json.loads(stitch)).piece is None
    root = f"scratch/{rig.job.asset_id}/{rig.job.job_id}/"
    assert rig.scratch() == [
        f"{root}audio/a1/audio.bin", f"{root}chunks/0/a1/chunk0.bin", f"{root}thumbs/a1/thumbs.bin"
    ]  # fmt: skip
    assert rig.metrics.value("ChunkRuns", outcome="done") == 3
    assert rig.renewed == [rig.job.job_id] * 6  # the job's lease, as each piece began and ended
    # the share of chunk-seconds done, as each piece ends (99 at most before the stitch)
    progress = [e for e in rig.bus.of_type(JobStateChanged) if e.phase == "encoding"]  # type: ignore[attr-defined]
    assert [e.percent for e in progress] == [0.0, 99.0]


def test_a_redelivered_piece_that_is_done_does_nothing(rig: Rig) -> None:
    rig.chunked.run_piece(rig.task(0))
    rig.chunked.run_piece(rig.task(0))
    assert rig.writer.runs == ["chunk0"]
    assert len(rig.scratch()) == 1 and rig.sent == []


def test_a_run_that_fails_transiently_removes_its_keys_and_is_retried(rig: Rig) -> None:
    rig.writer.failing = TransientError("the store is busy")
    with pytest.raises(TransientError):
        rig.chunked.run_piece(rig.task(0))
    assert rig.scratch() == []
    assert rig.metrics.value("ChunkRuns", outcome="retried") == 1
    rig.writer.failing = None
    rig.chunked.run_piece(rig.task(0))  # the retry: run 2, keys of its own
    (key,) = rig.scratch()
    assert "/chunks/0/a2/" in key


def test_a_deleted_asset_s_pieces_stop_and_leave_nothing(rig: Rig) -> None:
    rig.chunked.run_piece(rig.task(AUDIO))
    rig.app.assets.delete(rig.job.asset_id)
    rig.chunked.run_piece(rig.task(0))
    assert rig.writer.runs == ["audio"]  # the chunk never ran
    assert rig.scratch() == [] and rig.sent == []
    assert rig.ledger.pieces(rig.job.job_id) == []


def test_a_piece_out_of_retries_fails_the_asset_with_its_reason(rig: Rig) -> None:
    rig.chunked.run_piece(rig.task(AUDIO))
    rig.chunked.gave_up(rig.task(0).to_json(), "TransientError: the disk is full")
    errors = [e for e in rig.bus.of_type(JobStateChanged) if e.status is JobState.ERROR]  # type: ignore[attr-defined]
    (error,) = errors
    assert error.error_message == "piece 0 failed: TransientError: the disk is full"  # type: ignore[attr-defined]
    assert rig.scratch() == []
    assert rig.metrics.value("ChunkRuns", outcome="failed") == 1


def test_the_transcode_hands_the_job_s_lease_to_its_pieces(rig: Rig) -> None:
    at = [1000.0]
    worker = LeasedRuns(rig.app.catalog, owner="host:1", lease=60, now=lambda: at[0])
    pieces = LeasedRuns(rig.app.catalog, owner="chunks", lease=3600, now=lambda: at[0])
    assert worker.run(rig.job, lambda: None)
    assert worker.hand_over(rig.job, pieces)
    (job,) = rig.app.catalog.jobs(rig.job.asset_id)
    assert (job.lease_owner, job.lease_until) == ("chunks", 4600.0)
    at[0] = 2000.0
    assert pieces.renew(rig.job)  # a piece began: the lease runs an hour from now
    (job,) = rig.app.catalog.jobs(rig.job.asset_id)
    assert job.lease_until == 5600.0
    assert not worker.run(rig.job, lambda: None)  # a second delivery of the transcode waits


def test_the_fan_out_analyses_once_and_a_restart_requeues_only_unfinished_pieces(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.ledger.forget(rig.job.job_id)
    assert rig.chunked.fan_out(rig.job)
    queued = [ChunkTask.from_dict(json.loads(body)) for body in rig.sent]
    assert [t.piece for t in queued] == [0, AUDIO, THUMBS]
    assert all(t.job.job_id == rig.job.job_id and t.chunk_seconds == 6 for t in queued)
    rig.chunked.run_piece(queued[0])
    rig.sent.clear()

    def again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the title was analysed again")

    monkeypatch.setattr(rig.chunked.service.analysis, "prepare", again)
    assert rig.chunked.fan_out(rig.job)  # the reaper started the job again
    assert [ChunkTask.from_dict(json.loads(b)).piece for b in rig.sent] == [AUDIO, THUMBS]
