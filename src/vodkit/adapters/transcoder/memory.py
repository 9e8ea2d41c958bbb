"""Fakes for unit tests: a transcoder that writes placeholder outputs, a submitter that
records, a text converter that answers given cues."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...domain import layout
from ...domain.captions import Cue
from ...domain.errors import TranscodeFailed
from ...domain.jobs import TranscodeJob
from ...domain.plan import TranscodePlan
from ...domain.tracks import Skipped, Track
from .base import Progress, ProgressCallback, TextCues, TranscodeOutput


class MemoryTranscoder:
    def __init__(self, *, fail_with: Exception | None = None, fail_times: int = 1_000_000) -> None:
        self.runs: list[TranscodePlan] = []
        self.fail_with = fail_with
        self.fail_times = fail_times  # fail only the first N runs

    def check(self) -> None:
        pass

    def transcode(
        self, plan: TranscodePlan, source: Path, workdir: Path, on_progress: ProgressCallback
    ) -> TranscodeOutput:
        self.runs.append(plan)
        on_progress(Progress(percent=50.0, eta_seconds=1.0))
        if self.fail_with is not None and len(self.runs) <= self.fail_times:
            raise self.fail_with
        if not source.is_file():
            raise TranscodeFailed("the source is missing")
        outputs = layout.outputs(plan)
        files = [*outputs.values()]
        for rung in plan.video:
            rung_dir = layout.rung(rung.name)
            files += [rung_dir + layout.RUNG_INIT, rung_dir + layout.RUNG_PLAYLIST]
        for relative in files:
            path = workdir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"fake {relative}\n")
        on_progress(Progress(percent=100.0, eta_seconds=0.0))
        return TranscodeOutput(files=layout.publish_order(files), outputs=outputs)


class MemoryJobSubmitter:
    def __init__(self) -> None:
        self.jobs: dict[str, TranscodeJob] = {}
        self.submissions = 0

    def submit(self, job: TranscodeJob) -> str:
        self.submissions += 1
        self.jobs.setdefault(job.job_id, job)
        return f"memory-{job.job_id}"

    def find(self, job: TranscodeJob) -> str | None:
        return f"memory-{job.job_id}" if job.job_id in self.jobs else None


class MemoryTextConverter:
    """Answers ``cues`` by stream index; any other track is skipped as unreadable."""

    def __init__(self, cues: dict[int, list[Cue]]) -> None:
        self.cues = cues
        self.reads: list[tuple[bytes, str, list[int | None]]] = []

    def convert(self, source: Path, demuxer: str, tracks: Sequence[Track]) -> TextCues:
        self.reads.append((source.read_bytes(), demuxer, [t.index for t in tracks]))
        found = {t.index: self.cues[t.index] for t in tracks if t.index in self.cues}
        skipped = tuple(
            Skipped("text", t.codec, t.language, "its text could not be read", t.index)
            for t in tracks
            if t.index not in self.cues
        )
        return TextCues({i: c for i, c in found.items() if i is not None}, skipped)
