"""Fakes for unit tests: a transcoder that writes placeholder outputs, a submitter that records."""

from __future__ import annotations

from pathlib import Path

from ...domain import layout
from ...domain.errors import TranscodeFailed
from ...domain.jobs import TranscodeJob
from ...domain.plan import TranscodePlan
from .base import Progress, ProgressCallback, TranscodeOutput


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
