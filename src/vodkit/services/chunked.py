"""Split-and-stitch on the cluster (issue 28): a long title's transcode as pieces on many workers.

A strategy of the cluster footprint, not another transcoder: the transcode task runs the
per-title analysis once, for the whole title, then fans out (``fan_out``) one task per
chunk (every rung and the preview's video over its time range), one for the audio,
encoded once, whole, and one for the poster and sprite, and returns: no task waits for
another. Each piece (``run_piece``) writes to keys of its own run, then marks itself done
in the ledger; the one that finishes the last piece, whichever it is, sends the stitch
(``stitch.Stitcher``), exactly once. A piece that fails for good fails the asset with its
reason; a deleted asset's pieces stop and remove what they wrote.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..adapters.chunks.base import AUDIO, THUMBS, ChunkLedger, progress_of
from ..adapters.storage.base import ObjectStore
from ..adapters.transcoder.chunk import SAFE_NAME, ChunkEncoder, encodes
from ..adapters.transcoder.pieces import FfmpegPieces
from ..domain.asset import AssetStatus, JobState
from ..domain.chunks import ChunkTask, check_chunk_seconds, scratch_prefix, scratch_root
from ..domain.errors import ConfigError, ErrorCode, Failure, InvalidEvent, ObjectNotFound
from ..domain.jobs import TranscodeJob
from ..domain.plan import TranscodePlan
from ..domain.tracks import TrackType
from .messages import decode
from .stitch import Stitcher
from .transcode import TranscodeService

log = logging.getLogger(__name__)
PLANNED = "task.json"  # the chunked plan, beside the pieces' runs in the scratch


def chunkable(plan: TranscodePlan, chunk_seconds: int) -> bool:
    """Whether a plan is worth chunking and can be: a video with a constant rate, longer
    than two chunks, without text tracks (their extraction needs the whole source: they
    keep the single pass for now), its rungs and files named apart in plain names."""
    if not plan.video or not plan.fps or plan.automated_abr:
        return False
    if any(t.type is TrackType.TEXT for t in plan.tracks):
        return False
    names = [video.name for video in encodes(plan)]  # as the chunk encoder can name them
    if len(set(names)) != len(names) or not all(map(SAFE_NAME.fullmatch, names)):
        return False
    try:
        check_chunk_seconds(chunk_seconds, plan.segment_seconds)
    except ConfigError:
        return False
    return plan.duration > chunk_seconds * 2


def upload_tree(store: ObjectStore, root: Path, prefix: str) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        store.put_file(prefix + path.relative_to(root).as_posix(), path)


def delete_prefix(store: ObjectStore, prefix: str) -> None:
    for info in list(store.list(prefix)):
        store.delete(info.key)


class ChunkedTranscoding:
    def __init__(
        self,
        service: TranscodeService,
        ledger: ChunkLedger,
        *,
        encoder: ChunkEncoder,
        pieces: FfmpegPieces,
        send: Callable[[str], object],
        chunk_seconds: int,
        now: Callable[[], float] = time.time,
        renew: Callable[[TranscodeJob], object] = lambda job: None,
    ) -> None:
        self.service = service
        self.ledger = ledger
        self.encoder = encoder
        self.pieces = pieces
        self.send = send  # a task body onto the chunks' queue
        self.chunk_seconds = chunk_seconds
        self.now = now
        self.renew = renew  # the job's lease, held for its pieces (leases.LeasedRuns.renew)
        self.stitcher = Stitcher(service, ledger, pieces)

    def applies(self, job: TranscodeJob) -> bool:
        return chunkable(job.plan, self.chunk_seconds)

    def handle_message(self, body: str) -> None:
        task = ChunkTask.from_dict(decode(body))
        if task.piece is None:
            self.stitcher.stitch(task)
        else:
            self.run_piece(task)

    # -- the fan-out, in the transcode task -------------------------------------------------

    def fan_out(self, job: TranscodeJob) -> bool:
        """Analyse the title once, record its pieces and queue every unfinished one; False
        if the job is not to run (ended, superseded, deleted) or failed for good."""
        service = self.service
        if not service._should_run(job):
            return False

        def report(phase: str, percent: float, eta: float | None = None) -> None:
            service._emit(job, JobState.PROGRESSING, percent=percent, eta=eta, phase=phase)

        planned = self._planned(job)
        if planned is not None:  # the job started again: its pieces keep their plan
            return self._queue(planned)
        report("probing", 0.0)
        try:
            with (
                service.uploads.local_file(job.source_key) as source,
                service._workdir(job) as workdir,
            ):
                plan = service.analysis.prepare(job.plan, source, workdir, report=report)
        except ObjectNotFound:
            service._emit(
                job, JobState.ERROR, code=ErrorCode.SOURCE_MISSING,
                message="the upload no longer exists",
            )  # fmt: skip
            return False
        except Failure as exc:
            service._emit(job, JobState.ERROR, code=exc.code, message=str(exc))
            return False
        task = ChunkTask(replace(job, plan=plan), self.chunk_seconds, None)
        # kept before the pieces are recorded: whenever they are, their plan can be read
        key = scratch_root(job.asset_id, job.job_id) + PLANNED
        self.service.outputs.put_stream(key, io.BytesIO(task.to_json().encode()))
        pieces = {c.index: c.seconds for c in task.chunks} | {AUDIO: 0.0, THUMBS: 0.0}
        self.ledger.start(job.asset_id, job.job_id, pieces)
        return self._queue(task)

    def _planned(self, job: TranscodeJob) -> ChunkTask | None:
        """The job's chunked plan (analysed, cut) if its pieces were recorded already."""
        if not self.ledger.pieces(job.job_id):
            return None
        key = scratch_root(job.asset_id, job.job_id) + PLANNED
        try:
            with self.service.outputs.open(key) as stream:
                return ChunkTask.from_dict(json.loads(stream.read()))
        except (ObjectNotFound, InvalidEvent, ValueError):
            return None

    def _queue(self, task: ChunkTask) -> bool:
        """Queue every unfinished piece: again after a crash before all were sent, or after
        the reaper started the job again. A piece run twice at once is wasted work, never a
        wrong output (the first run to finish counts, see run_piece)."""
        job = task.job
        unfinished = [p.piece for p in self.ledger.pieces(job.job_id) if p.state != "done"]
        for piece in unfinished:
            self.send(replace(task, piece=piece).to_json())
        self.service._emit(job, JobState.PROGRESSING, percent=0.0, phase="encoding")
        log.info("job %s: %d of its pieces queued", job.job_id, len(unfinished))
        return True

    # -- one piece ---------------------------------------------------------------------------

    def _gone(self, job: TranscodeJob) -> bool:
        """The asset was deleted, or no longer waits for this job (failed, retried)."""
        asset = self.service.catalog.get(job.asset_id)
        if asset is None or asset.status is not AssetStatus.PROCESSING:
            return True
        record = next(
            (j for j in self.service.catalog.jobs(job.asset_id) if j.job_id == job.job_id), None
        )
        return record is None or record.state.terminal

    def abandon(self, job: TranscodeJob) -> None:
        """The job ended without a stitch (its asset deleted or failed): its pieces' outputs
        and rows go, and a piece still queued or running finds nothing to continue."""
        self.ledger.forget(job.job_id)
        delete_prefix(self.service.outputs, scratch_root(job.asset_id, job.job_id))
        log.info("job %s: abandoned, its chunks' outputs removed", job.job_id)

    def run_piece(self, task: ChunkTask) -> None:
        job, piece = task.job, task.piece
        assert piece is not None
        if self._gone(job):
            self.abandon(job)
            return
        attempt = self.ledger.begin(job.job_id, piece, self.now())
        if attempt is None:  # done already (a redelivery), or its job forgotten
            return
        self.renew(job)
        prefix = scratch_prefix(job.asset_id, job.job_id, piece, attempt)
        outputs = self.service.outputs
        try:
            with (
                self.service.uploads.local_file(job.source_key) as source,
                self.service._workdir(job) as workdir,
            ):
                written = workdir / "out"
                if piece == AUDIO:
                    self.pieces.audio(job.plan, source, written)
                elif piece == THUMBS:
                    self.pieces.thumbs(job.plan, source, written)
                else:
                    self.encoder.encode(job.plan, task.chunks[piece], source, written)
                upload_tree(outputs, written, prefix)
        except ObjectNotFound:
            delete_prefix(outputs, prefix)
            self.fail(job, ErrorCode.SOURCE_MISSING, "the upload no longer exists")
            return
        except Failure as exc:  # the input's fault or vodkit's own: retrying will not help
            delete_prefix(outputs, prefix)
            self.fail(job, exc.code, f"chunk {piece}: {exc}" if piece >= 0 else str(exc))
            return
        except Exception:
            self.service.metrics.increment("ChunkRuns", outcome="retried")
            delete_prefix(outputs, prefix)  # this run's part; the retry writes its own
            raise
        if self._gone(job):  # deleted while it ran: what it wrote goes too
            self.abandon(job)
            return
        last = self.ledger.finish(job.job_id, piece, attempt, self.now())
        self.renew(job)
        self.service.metrics.increment("ChunkRuns", outcome="done")
        pieces = self.ledger.pieces(job.job_id)
        mine = next((p for p in pieces if p.piece == piece), None)
        if mine is not None and mine.attempt != attempt:  # another run of it finished first
            delete_prefix(outputs, prefix)
        shown = progress_of(pieces, self.now())
        if not last:
            percent = 100.0 * shown.seconds_done / max(shown.seconds, 1e-9)
            self.service._emit(
                job, JobState.PROGRESSING, percent=min(percent, 99.0),
                eta=shown.eta_seconds, phase="encoding",
            )  # fmt: skip
            return
        log.info("job %s: its last piece is done; stitching", job.job_id)
        self.send(replace(task, piece=None).to_json())

    def fail(self, job: TranscodeJob, code: str, message: str) -> None:
        """A piece failed for good: the asset fails with its reason; its scratch goes."""
        self.service.metrics.increment("ChunkRuns", outcome="failed")
        self.service._emit(job, JobState.ERROR, code=code, message=message)
        self.abandon(job)

    def gave_up(self, body: str, error: str) -> None:
        """A piece's retries are spent (its message is dead-lettered): the asset fails."""
        try:
            task = ChunkTask.from_dict(decode(body))
        except Failure:
            return
        what = "the stitch" if task.piece is None else f"piece {task.piece}"
        self.fail(task.job, ErrorCode.INTERNAL_ERROR, f"{what} failed: {error}")
