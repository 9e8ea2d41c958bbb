"""The job submitter's contract: a job id submitted twice is one job to run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes import HD
from vodkit.adapters.queue.sqlite import SqliteQueue
from vodkit.adapters.transcoder.base import JobSubmitter
from vodkit.adapters.transcoder.memory import MemoryJobSubmitter
from vodkit.adapters.transcoder.queued import QueuedJobSubmitter
from vodkit.bootstrap import default_presets_path
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.planning import plan_transcode
from vodkit.domain.presets import load_presets

PLAN = plan_transcode(HD, load_presets(default_presets_path()))


@pytest.fixture(params=["memory", "queued"])
def submitter(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[JobSubmitter, Callable[[], list[TranscodeJob]]]:
    if request.param == "memory":
        memory = MemoryJobSubmitter()
        return memory, lambda: list(memory.jobs.values())
    queue = SqliteQueue(tmp_path / "q.sqlite3", "transcode")

    def pending() -> list[TranscodeJob]:
        messages = queue.receive(max_messages=10)
        for m in messages:
            queue.release(m.receipt)
        return [TranscodeJob.from_dict(json.loads(m.body)) for m in messages]

    return QueuedJobSubmitter(queue), pending


def test_a_job_submitted_twice_is_one_job(
    submitter: tuple[JobSubmitter, Callable[[], list[TranscodeJob]]],
) -> None:
    port, pending = submitter
    job = TranscodeJob("job-1", "asset-1", "uploads", "uploads/a/x.mp4", PLAN)
    port.submit(job)
    port.submit(job)
    port.submit(TranscodeJob("job-2", "asset-2", "uploads", "uploads/a/y.mp4", PLAN))
    jobs = pending()
    assert sorted(j.job_id for j in jobs) == ["job-1", "job-2"]
    assert next(j for j in jobs if j.job_id == "job-1") == job  # the plan survives the trip
