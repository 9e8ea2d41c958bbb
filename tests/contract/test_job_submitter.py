"""The job submitter's contract: a job id submitted twice is one job to run, as planned.

Over the queue the embedded and cluster workers drain, the in-memory fake, and
MediaConvert (botocore validates each CreateJob against MediaConvert's model; a
fake behind botocore answers with MediaConvert's idempotency by ClientRequestToken,
since no MediaConvert runs without an AWS account).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.aws_stack import FakeMediaConvert
from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.queue.sqlite import SqliteQueue
from vodkit.adapters.transcoder.base import JobSubmitter
from vodkit.adapters.transcoder.mediaconvert import MediaConvertJobSubmitter
from vodkit.adapters.transcoder.memory import MemoryJobSubmitter
from vodkit.adapters.transcoder.queued import QueuedJobSubmitter
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import plan_transcode

PLAN = plan_transcode(HD, load_presets(default_presets_path()))
# What a job runner received, job by job: (job id, asset id, source, the ladder's sizes).
Received = list[tuple[str, str, str, list[tuple[int, int]]]]


def _as_received(jobs: list[TranscodeJob]) -> Received:
    return [
        (
            j.job_id,
            j.asset_id,
            f"s3://{j.source_bucket}/{j.source_key}",
            [(v.width, v.height) for v in j.plan.video],
        )
        for j in jobs
    ]


def _mediaconvert() -> tuple[JobSubmitter, Callable[[], Received]]:
    import boto3

    client = boto3.session.Session().client(
        "mediaconvert",
        region_name="us-east-1",
        endpoint_url="https://mediaconvert.invalid",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    fake = FakeMediaConvert()
    fake.install(client.meta.events)
    submitter = MediaConvertJobSubmitter(
        client, role_arn="arn:aws:iam::123456789012:role/mc", outputs_bucket="out"
    )

    def received() -> Received:
        result: Received = []
        for request in fake.jobs.values():
            (cmaf, *_) = request["Settings"]["OutputGroups"]
            sizes = [
                (o["VideoDescription"]["Width"], o["VideoDescription"]["Height"])
                for o in cmaf["Outputs"]
                if "VideoDescription" in o
            ]
            metadata = request["UserMetadata"]
            result.append(
                (
                    metadata["jobId"],
                    metadata["assetId"],
                    request["Settings"]["Inputs"][0]["FileInput"],
                    sizes,
                )
            )
        return result

    return submitter, received


@pytest.fixture(params=["memory", "queued", "mediaconvert"])
def submitter(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[JobSubmitter, Callable[[], Received]]:
    if request.param == "memory":
        memory = MemoryJobSubmitter()
        return memory, lambda: _as_received(list(memory.jobs.values()))
    if request.param == "mediaconvert":
        return _mediaconvert()
    queue = SqliteQueue(tmp_path / "q.sqlite3", "transcode")

    def pending() -> Received:
        messages = queue.receive(max_messages=10)
        for m in messages:
            queue.release(m.receipt)
        return _as_received([TranscodeJob.from_dict(json.loads(m.body)) for m in messages])

    return QueuedJobSubmitter(queue), pending


def test_a_job_submitted_twice_is_one_job_as_planned(
    submitter: tuple[JobSubmitter, Callable[[], Received]],
) -> None:
    port, received = submitter
    job = TranscodeJob("job-1", "asset-1", "uploads", "uploads/a/x.mp4", PLAN)
    port.submit(job)
    port.submit(job)
    port.submit(TranscodeJob("job-2", "asset-2", "uploads", "uploads/a/y.mp4", PLAN))
    jobs = sorted(received())
    assert [j[0] for j in jobs] == ["job-1", "job-2"]
    ladder = [(v.width, v.height) for v in PLAN.video]
    assert jobs[0] == ("job-1", "asset-1", "s3://uploads/uploads/a/x.mp4", ladder)


def test_mediaconvert_honours_a_request_token_for_a_minute_only() -> None:
    """Why vodkit records the job's id: the same token, a minute later, is another job."""
    import boto3

    client = boto3.session.Session().client(
        "mediaconvert",
        region_name="us-east-1",
        endpoint_url="https://mediaconvert.invalid",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    fake = FakeMediaConvert()
    fake.install(client.meta.events)
    port = MediaConvertJobSubmitter(client, role_arn="arn:aws:iam::1:role/mc", outputs_bucket="o")
    job = TranscodeJob("job-1", "asset-1", "uploads", "uploads/a/x.mp4", PLAN)
    first = port.submit(job)
    fake.advance(30)
    assert port.submit(job) == first and len(fake.jobs) == 1  # within the minute: deduplicated
    fake.advance(60)
    assert port.submit(job) != first and len(fake.jobs) == 2  # after it: billed twice
    assert port.find(job) in fake.jobs  # which find() is there to prevent
    client.close()
