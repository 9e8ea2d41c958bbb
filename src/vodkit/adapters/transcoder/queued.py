"""Submitting a job onto a queue that workers drain (embedded and cluster)."""

from __future__ import annotations

from ...domain.jobs import TranscodeJob
from ..queue.base import Queue


class QueuedJobSubmitter:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def submit(self, job: TranscodeJob) -> str:
        # The job id is the dedup id: a resubmission while the job is queued is a no-op.
        return self.queue.send(job.to_json(), dedup_id=job.job_id)

    def find(self, job: TranscodeJob) -> str | None:
        return None  # a resubmission while the job is queued is a no-op anyway
