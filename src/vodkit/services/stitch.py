"""The stitch of a chunked transcode (issue 28): the pieces' outputs made one asset's.

Run once, by the task the last piece sent. It fetches each piece's outputs from the keys
of the run that finished it, joins every rung's segments (``stitch_rung``: their numbers
and decode times already continue the title's), puts the audio and the thumbnails in
place, remuxes the preview, writes the HLS master and the DASH manifest, verifies the
whole as a single pass is verified, publishes it with the manifests last, records the
job COMPLETE, and removes the scratch keys.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ..adapters.chunks.base import AUDIO, THUMBS, ChunkLedger
from ..adapters.transcoder.base import TranscodeOutput
from ..adapters.transcoder.chunk import stitch_rung
from ..adapters.transcoder.pieces import ENCODE, FfmpegPieces, write_manifests
from ..adapters.transcoder.verify import verify_outputs
from ..domain import layout
from ..domain.asset import AssetStatus, JobState
from ..domain.chunks import ChunkTask, scratch_prefix, scratch_root
from ..domain.errors import ErrorCode, Failure, TransientError
from .transcode import TranscodeService, measured, publish

log = logging.getLogger(__name__)
FRAGMENTS = "fragments"  # the preview's video, stitched, before its remux


class Stitcher:
    def __init__(self, service: TranscodeService, ledger: ChunkLedger, pieces: FfmpegPieces):
        self.service = service
        self.ledger = ledger
        self.pieces = pieces

    def _fetch(self, prefix: str, target: Path) -> None:
        store = self.service.outputs
        for info in store.list(prefix):
            relative = info.key[len(prefix) :]
            if not relative or ".." in relative.split("/"):
                continue  # our own keys; never a path out of the work directory
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with store.open(info.key) as stream, path.open("wb") as out:
                shutil.copyfileobj(stream, out)

    def stitch(self, task: ChunkTask) -> None:
        job, service = task.job, self.service
        asset = service.catalog.get(job.asset_id)
        record = next(
            (j for j in service.catalog.jobs(job.asset_id) if j.job_id == job.job_id), None
        )
        if asset is None or asset.status is not AssetStatus.PROCESSING or record is None:
            self._drop_scratch(task)
            return
        if record.state.terminal:  # stitched already: this message was redelivered
            self._drop_scratch(task)  # in case its worker died before it removed it
            return
        pieces = self.ledger.pieces(job.job_id)
        if not pieces or any(p.state != "done" for p in pieces):
            raise TransientError(f"job {job.job_id}: a piece is not done yet")
        stitches = self.ledger.stitched(job.job_id)
        log.info("job %s: stitch %d of %d pieces", job.job_id, stitches, len(pieces))
        plan = job.plan
        service._emit(job, JobState.PROGRESSING, percent=99.0, phase="packaging")
        try:
            with service._workdir(job) as workdir:
                got = workdir / "pieces"
                for p in pieces:
                    prefix = scratch_prefix(job.asset_id, job.job_id, p.piece, p.attempt)
                    self._fetch(prefix, got / str(p.piece))
                chunks = [got / str(p.piece) for p in pieces if p.piece >= 0]
                for rung in plan.video:
                    stitch_rung([c / rung.name for c in chunks], workdir / layout.rung(rung.name))
                audio = got / str(AUDIO)
                for j, sound_rendition in enumerate(plan.audio):
                    os.replace(
                        audio / ENCODE.format(index=j), workdir / layout.rung(sound_rendition.name)
                    )
                (workdir / layout.MP4).mkdir()
                for rendition in plan.files:
                    video = workdir / FRAGMENTS / rendition.name
                    stitch_rung([c / rendition.video.name for c in chunks], video)
                    index = plan.audio_source(rendition)
                    sound = None
                    if index is not None:
                        source = plan.audio_encodes[index]
                        stream = next(
                            (a for a in plan.audio if a.encoding == source.encoding), None
                        )
                        sound = (
                            workdir / layout.rung(stream.name)
                            if stream is not None
                            else audio / ENCODE.format(index=index)
                        )
                    self.pieces.preview(video, sound, workdir / layout.mp4(rendition.name))
                shutil.rmtree(workdir / FRAGMENTS, ignore_errors=True)
                os.replace(got / str(THUMBS) / layout.THUMBS, workdir / layout.THUMBS)
                shutil.rmtree(got)
                write_manifests(plan, workdir)
                verify_outputs(plan, workdir)
                files = [
                    p.relative_to(workdir).as_posix()
                    for p in sorted(workdir.rglob("*"))
                    if p.is_file() and p.parts[len(workdir.parts)] in layout.DIRECTORIES
                ]
                output = TranscodeOutput(layout.publish_order(files), layout.outputs(plan))
                made = measured(service.transcoder, plan, workdir)
                keys = publish(service.outputs, workdir, output, job.output_prefix)
        except Failure as exc:
            log.warning("job %s: the stitch failed: %s", job.job_id, exc)
            service._emit(job, JobState.ERROR, code=exc.code, message=str(exc))
            self._drop_scratch(task)
            return
        except (FileNotFoundError, KeyError) as exc:  # a piece's outputs are not all there
            message = f"the chunks' outputs are incomplete: {exc}"
            log.warning("job %s: %s", job.job_id, message)
            service._emit(job, JobState.ERROR, code=ErrorCode.VERIFICATION_FAILED, message=message)
            self._drop_scratch(task)
            return
        if service._deleted(job):  # deleted while publishing: what was published goes too
            for info in list(service.outputs.list(job.output_prefix)):
                service.outputs.delete(info.key)
            self._drop_scratch(task)
            return
        service._record(job, made.summary(), None)
        service._emit(job, JobState.COMPLETE, percent=100.0, outputs=keys)
        self._drop_scratch(task)

    def _drop_scratch(self, task: ChunkTask) -> None:
        store = self.service.outputs
        for info in list(store.list(scratch_root(task.job.asset_id, task.job.job_id))):
            store.delete(info.key)
