"""The AWS footprint end to end on moto: the packaged stack, its queues, the real handlers.

moto has no MediaConvert: CreateJob is answered by a fake hooked into botocore
(after botocore has validated the request against MediaConvert's model), which
keeps MediaConvert's idempotency by ClientRequestToken. The test plays Lambda's
SQS event source mapping: it receives a batch, calls the handler, deletes what
succeeded and gives back what the handler reported as failed.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws_stack import FakeMediaConvert
from tests.conftest import FFMPEG, AwsSession, make_clip
from vodkit.adapters.catalog.dynamodb import DynamoDbCatalog
from vodkit.adapters.transcoder.mediaconvert import build_job
from vodkit.adapters.transcoder.thumbs import frame_score
from vodkit.domain.asset import AssetStatus, JobState
from vodkit.domain.events import JobStateChanged, ObjectCreated
from vodkit.domain.jobs import TranscodeJob
from vodkit.entrypoints import aws_lambda
from vodkit.footprints.aws.package import package, stack_outputs

Handler = Callable[[Any], dict[str, list[dict[str, str]]]]
VODKIT = str(Path(sys.executable).with_name("vodkit"))


class Stack:
    def __init__(
        self, aws: AwsSession, name: str, outputs: dict[str, str], env: dict[str, dict[str, str]]
    ) -> None:
        self.aws = aws
        self.name = name
        self.status_env = env["JobStatusProcessor"]
        self.outputs = outputs
        self.env = env["IngestOrchestrator"]
        self.s3 = aws.client("s3")
        self.sqs = aws.client("sqs")
        self.events = aws.client("events")
        self.catalog = DynamoDbCatalog(aws.client("dynamodb"), outputs["MediaAssetsTableName"])

    def upload(self, path: Path, key: str) -> ObjectCreated:
        bucket = self.outputs["UploadsBucketName"]
        self.s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        return self.object_created(key)

    def object_created(self, key: str) -> ObjectCreated:
        """The event S3 sends EventBridge for the object now under ``key``."""
        bucket = self.outputs["UploadsBucketName"]
        head = self.s3.head_object(Bucket=bucket, Key=key)
        return ObjectCreated(
            bucket=bucket,
            key=key,
            size=head["ContentLength"],
            etag=head["ETag"].strip('"'),
            version_id=head.get("VersionId"),
            time="2026-11-24T00:00:00Z",
        )

    def emit(self, event: dict[str, Any]) -> None:
        """What S3 and MediaConvert do: put the event on EventBridge (the stack's rules route it)."""
        reply = self.events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                }
            ]
        )
        assert reply["FailedEntryCount"] == 0

    def deliver(self, queue_output: str, handler: Handler) -> list[str]:
        """One event-source-mapping poll: returns the bodies the handler reported as failed."""
        url = self.outputs[queue_output]
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        records = [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
            for m in messages
        ]
        failed = {f["itemIdentifier"] for f in handler({"Records": records})["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return [m["Body"] for m in messages if m["MessageId"] in failed]

    def run(self, job: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
        """Write the frame captures MediaConvert would (NAME.NNNNNNN.jpg): poster candidates,
        the first two black as after a fade-in, and sprite tiles; return the COMPLETE event's
        outputGroupDetails for the job's groups."""
        written = {}
        for group, black in (("Poster", 2), ("Sprite tiles", 0)):
            settings = next(g for g in job["Settings"]["OutputGroups"] if g["Name"] == group)
            destination = settings["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
            capture = settings["Outputs"][0]["VideoDescription"]
            count = capture["CodecSettings"]["FrameCaptureSettings"]["MaxCaptures"]
            size = f"{capture['Width']}x{capture['Height']}"
            pictures = tmp / group.replace(" ", "-")
            pictures.mkdir()
            name = destination.rsplit("/", 1)[1]
            subprocess.run(
                [FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i",
                 f"color=black:size={size}:rate=1:duration={black}", "-f", "lavfi", "-i",
                 f"testsrc2=size={size}:rate=1", "-filter_complex", "[0:v][1:v]concat=n=2",
                 "-frames:v", str(count), "-start_number", "0",
                 str(pictures / f"{name}.%07d.jpg")],
                check=True,
            )  # fmt: skip
            bucket, key = destination.removeprefix("s3://").split("/", 1)
            for picture in sorted(pictures.iterdir()):
                self.s3.upload_file(str(picture), bucket, f"{key.rsplit('/', 1)[0]}/{picture.name}")
            written[group] = f"{destination}.{count - 1:07d}.jpg"  # the event names the last
        base = written["Poster"].rsplit("/thumbs/", 1)[0]
        return [
            {"type": "CMAF_GROUP",
             "playlistFilePaths": [f"{base}/stream/master.m3u8", f"{base}/stream/master.mpd"]},
            {"type": "FILE_GROUP",
             "outputDetails": [{"outputFilePaths": [f"{base}/mp4/master_preview.mp4"]}]},
        ] + [
            {"type": "FILE_GROUP", "outputDetails": [{"outputFilePaths": [path]}]}
            for path in written.values()
        ]  # fmt: skip

    def job_event(self, job: dict[str, Any], status: str, **detail: Any) -> dict[str, Any]:
        metadata = job["UserMetadata"]
        state = JobState.PROGRESSING if status == "STATUS_UPDATE" else JobState(status)
        event = JobStateChanged(
            job_id=metadata["jobId"], status=state, asset_id=metadata["assetId"]
        ).to_eventbridge()
        event["detail"].update(status=status, jobId=job["Id"], userMetadata=metadata, **detail)
        event["resources"] = [f"arn:aws:mediaconvert:us-east-1:123456789012:jobs/{job['Id']}"]
        return event

    def depth(self, output: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.outputs[output],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    # dependencies=False: moto never runs the code; the artifact's layout is what matters here
    return package(tmp_path_factory.mktemp("package"), "vodkit-artifacts", dependencies=False)


@pytest.fixture
def stack(
    aws: AwsSession, packaged: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Stack, FakeMediaConvert]]:
    artifact, template, key = packaged
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="vodkit-artifacts")
    s3.upload_file(str(artifact), "vodkit-artifacts", key)
    name = f"vodkit-{uuid.uuid4().hex[:8]}"
    suffix = name.replace("-", "")
    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=template.read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": "EnvironmentSuffix", "ParameterValue": suffix}],
    )
    outputs = stack_outputs(cfn, name)
    # moto's CloudFormation ignores VersioningConfiguration (test_aws_template checks the
    # template's); versioning on, S3 events carry a version-id, as they do on AWS.
    s3.put_bucket_versioning(
        Bucket=outputs["UploadsBucketName"], VersioningConfiguration={"Status": "Enabled"}
    )
    # The handlers get exactly the environment the stack gave each function.
    lam = aws.client("lambda")
    env = {
        fn: lam.get_function_configuration(FunctionName=outputs[f"{fn}FunctionArn"])["Environment"][
            "Variables"
        ]
        for fn in ("IngestOrchestrator", "JobStatusProcessor")
    }
    # The test plays the event source mappings itself (moto would try to run the code in Docker).
    # (moto filters mappings by the FunctionName they were created with: look them up by queue)
    sqs = aws.client("sqs")
    for fn, queue in (("IngestOrchestrator", "ProcessingQueueUrl"),
                      ("JobStatusProcessor", "JobEventsQueueUrl")):  # fmt: skip
        attributes = sqs.get_queue_attributes(QueueUrl=outputs[queue], AttributeNames=["QueueArn"])
        queue_arn = attributes["Attributes"]["QueueArn"]
        (mapping,) = lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
        assert mapping["FunctionArn"] == outputs[f"{fn}FunctionArn"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    mediaconvert = FakeMediaConvert()
    boto3.setup_default_session(region_name="us-east-1")
    assert boto3.DEFAULT_SESSION is not None
    mediaconvert.install(boto3.DEFAULT_SESSION.events)  # type: ignore[attr-defined]
    for variables in env.values():
        for k, v in variables.items():
            monkeypatch.setenv(k, v)
    aws_lambda._ingest.cache_clear()
    aws_lambda._status.cache_clear()
    yield Stack(aws, name, outputs, env), mediaconvert
    aws_lambda._ingest.cache_clear()
    aws_lambda._status.cache_clear()
    boto3.DEFAULT_SESSION = None


def test_an_upload_goes_through_the_stack_to_completed(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    event = st.upload(
        make_clip(tmp_path / "clip.mp4", size="320x180", seconds=12), "uploads/alice/my clip.mp4"
    )
    st.emit(event.to_eventbridge())
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    (asset,) = st.catalog.query(status=AssetStatus.PROCESSING)
    assert (asset.uploader_id, asset.source_key) == ("alice", "uploads/alice/my clip.mp4")
    (job,) = mediaconvert.jobs.values()
    assert job["UserMetadata"]["assetId"] == asset.asset_id
    assert asset.formats == ("hls", "dash", "mp4", "poster", "sprite")

    st.emit(event.to_eventbridge())  # S3 and EventBridge deliver at least once
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    assert len(mediaconvert.jobs) == 1 and len(st.catalog.query()) == 1

    st.emit(st.job_event(job, "STATUS_UPDATE", jobProgress={"jobPercentComplete": 40}))
    written = st.run(job, tmp_path)  # what MediaConvert writes, as it would name it
    st.emit(st.job_event(job, "COMPLETE", outputGroupDetails=written))
    while st.depth("JobEventsQueueUrl"):
        assert st.deliver("JobEventsQueueUrl", aws_lambda.status) == []
    (done,) = st.catalog.query(uploader_id="alice")
    assert done.status is AssetStatus.COMPLETED
    prefix = asset.asset_id
    assert done.outputs == {
        "hls": f"{prefix}/stream/master.m3u8",
        "dash": f"{prefix}/stream/master.mpd",
        "mp4": f"{prefix}/mp4/master_preview.mp4",
        "poster": f"{prefix}/thumbs/poster.jpg",
        "sprite": f"{prefix}/thumbs/sprite.vtt",
    }
    assert st.catalog.query(status=AssetStatus.COMPLETED) == [done]
    # the sprite sheeted from MediaConvert's three tiles (12 s, one every 5 s), and its cues
    bucket = st.outputs["OutputsBucketName"]
    sheet = tmp_path / "sprite.jpg"
    st.s3.download_file(bucket, f"{prefix}/thumbs/sprite.jpg", str(sheet))
    with av.open(str(sheet)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (3 * 160, 90)
    cues = st.s3.get_object(Bucket=bucket, Key=f"{prefix}/thumbs/sprite.vtt")["Body"].read()
    assert cues.decode().count("sprite.jpg#xywh=") == 3
    # the poster is the candidate with a picture, not one of the black ones
    poster = tmp_path / "poster.jpg"
    st.s3.download_file(bucket, f"{prefix}/thumbs/poster.jpg", str(poster))
    assert frame_score(poster) > 30

    st.emit(st.job_event(job, "COMPLETE"))  # a late duplicate writes nothing
    st.deliver("JobEventsQueueUrl", aws_lambda.status)
    assert st.catalog.get(asset.asset_id) == done


def test_metrics_are_the_ones_the_alarms_and_dashboard_read(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    clip = make_clip(tmp_path / "clip.mp4", size="320x180", seconds=1)
    for key in ("uploads/bob/ok.mp4", "uploads/bob/bad.mp4", "uploads/not-a-video.txt"):
        st.emit(st.upload(clip, key).to_eventbridge())
        assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    for job in list(mediaconvert.jobs.values()):
        ok = "ok.mp4" in job["Settings"]["Inputs"][0]["FileInput"]
        st.emit(
            st.job_event(job, "COMPLETE")
            if ok
            else st.job_event(job, "ERROR", errorCode=1010, errorMessage="bad")
        )
    while st.depth("JobEventsQueueUrl"):
        st.deliver("JobEventsQueueUrl", aws_lambda.status)

    emitted = {
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for m in st.aws.client("cloudwatch").list_metrics(Namespace="MediaPipeline")["Metrics"]
    }
    environment = st.env["VODKIT_ENVIRONMENT"]
    wanted = {("UploadsAccepted",), ("ProcessingStarted",), ("ProcessedAssets",), ("FailedAssets",)}
    for (name,) in wanted:
        assert (name, (("Environment", environment),)) in emitted, name
    # ...and the template's readers ask for exactly these names and dimensions
    from tests.aws_stack import custom_metrics_read_by_the_template

    read = custom_metrics_read_by_the_template()
    assert {name for name, _ in read} >= {name for (name,) in wanted}
    assert all(dims == ("Environment",) for _, dims in read)
    assert {name for name, _ in read} <= {name for name, _ in emitted}


class DynamoDbFault:
    """Fails the next ``times`` PutItem calls, as a throttled or unreachable table would."""

    def __init__(self, times: int) -> None:
        self.times = times

    def __call__(self, **_: Any) -> None:
        if self.times:
            self.times -= 1
            error = {"Error": {"Code": "InternalServerError", "Message": "injected fault"}}
            raise ClientError(error, "PutItem")


def _drain_job_events(st: Stack) -> None:
    while st.depth("JobEventsQueueUrl"):
        assert st.deliver("JobEventsQueueUrl", aws_lambda.status) == []


def test_an_error_during_submission_is_never_overwritten(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    clip = make_clip(tmp_path / "clip.mp4", size="320x180", seconds=1)
    event = st.upload(clip, "uploads/carol/early-error.mp4")

    def fail_at_once(job: dict[str, Any]) -> None:
        # MediaConvert rejects the input while CreateJob has not yet returned to ingest
        st.emit(st.job_event(job, "ERROR", errorCode=1030, errorMessage="unreadable input"))
        _drain_job_events(st)

    mediaconvert.during_submit = fail_at_once
    st.emit(event.to_eventbridge())
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    (asset,) = st.catalog.query(uploader_id="carol")
    assert asset.status is AssetStatus.FAILED
    assert [(e.code, e.message) for e in asset.errors] == [("1030", "unreadable input")]

    mediaconvert.during_submit = None
    st.emit(event.to_eventbridge())  # a redelivered upload event resubmits nothing
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    st.emit(st.job_event(next(iter(mediaconvert.jobs.values())), "STATUS_UPDATE"))
    _drain_job_events(st)
    assert len(mediaconvert.jobs) == 1
    assert st.catalog.get(asset.asset_id) == asset


def test_an_upload_replaced_before_ingest_fails_and_its_successor_is_processed(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    first = st.upload(make_clip(tmp_path / "a.mp4", seconds=1), "uploads/ivan/clip.mp4")
    second = st.upload(make_clip(tmp_path / "b.mp4", seconds=2), "uploads/ivan/clip.mp4")
    assert first.version_id and second.version_id != first.version_id  # a versioned bucket
    for event in (first, second):
        st.emit(event.to_eventbridge())
        assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    by_status = {a.status: a for a in st.catalog.query(uploader_id="ivan")}
    assert by_status[AssetStatus.FAILED].errors[0].code == "SourceChanged"
    assert by_status[AssetStatus.PROCESSING].source_version == second.version_id
    assert len(mediaconvert.jobs) == 1  # only the object the job will read


def test_a_catalog_write_fault_is_reported_and_the_retry_completes(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    session = boto3.DEFAULT_SESSION
    assert session is not None
    fault = DynamoDbFault(times=1)
    session.events.register("before-call.dynamodb.PutItem", fault)
    try:
        event = st.upload(make_clip(tmp_path / "c.mp4", seconds=1), "uploads/dave/c.mp4")
        st.emit(event.to_eventbridge())
        (failed,) = st.deliver("ProcessingQueueUrl", aws_lambda.ingest)
        assert json.loads(failed)["detail"]["object"]["key"] == "uploads/dave/c.mp4"
        assert st.catalog.query(uploader_id="dave") == [] and not mediaconvert.jobs
        assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []  # SQS redelivers it
        (job,) = mediaconvert.jobs.values()

        fault.times = 1
        st.emit(st.job_event(job, "COMPLETE"))
        (kept,) = st.deliver("JobEventsQueueUrl", aws_lambda.status)
        assert json.loads(kept)["detail"]["status"] == "COMPLETE"
        assert st.catalog.query(uploader_id="dave")[0].status is AssetStatus.PROCESSING
        assert st.deliver("JobEventsQueueUrl", aws_lambda.status) == []
        (done,) = st.catalog.query(uploader_id="dave")
        assert done.status is AssetStatus.COMPLETED and st.depth("JobEventsQueueUrl") == 0
    finally:
        session.events.unregister("before-call.dynamodb.PutItem", fault)


def test_a_create_job_fault_keeps_the_message_until_the_job_is_submitted(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    mediaconvert.fail_next = 1
    event = st.upload(make_clip(tmp_path / "c.mp4", seconds=1), "uploads/erin/c.mp4")
    st.emit(event.to_eventbridge())
    assert len(st.deliver("ProcessingQueueUrl", aws_lambda.ingest)) == 1
    assert not mediaconvert.jobs and st.depth("ProcessingQueueUrl") == 1
    (recorded,) = st.catalog.query(uploader_id="erin")  # the job is recorded before CreateJob
    assert recorded.status is AssetStatus.PROCESSING

    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    (job,) = mediaconvert.jobs.values()
    assert job["UserMetadata"]["assetId"] == recorded.asset_id
    assert st.depth("ProcessingQueueUrl") == 0


# MediaConvert honours a ClientRequestToken for one minute: a redelivery within it, after it.
REDELIVERED_AFTER = [pytest.param(10, id="within-the-minute"), pytest.param(120, id="after-it")]


@pytest.mark.parametrize("later", REDELIVERED_AFTER)
def test_a_redelivered_upload_event_never_submits_its_job_again(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path, later: float
) -> None:
    st, mediaconvert = stack
    event = st.upload(make_clip(tmp_path / "c.mp4", seconds=1), "uploads/hana/c.mp4")
    st.emit(event.to_eventbridge())
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    (job,) = mediaconvert.jobs.values()
    (asset,) = st.catalog.query(uploader_id="hana")
    assert [j.runner_id for j in st.catalog.jobs(asset.asset_id)] == [job["Id"]]

    mediaconvert.advance(later)
    st.emit(event.to_eventbridge())  # S3 sends it again, or SQS redelivers it
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    assert list(mediaconvert.jobs) == [job["Id"]] and mediaconvert.calls["CreateJob"] == 1


@pytest.mark.parametrize("later", REDELIVERED_AFTER)
def test_a_crash_between_create_job_and_the_catalog_write_submits_nothing_more(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path, later: float
) -> None:
    st, mediaconvert = stack
    session = boto3.DEFAULT_SESSION
    assert session is not None
    fault = DynamoDbFault(times=0)
    session.events.register("before-call.dynamodb.PutItem", fault)

    def crash_after_create_job(job: dict[str, Any]) -> None:
        fault.times = 1  # the write of the job's MediaConvert id fails

    mediaconvert.during_submit = crash_after_create_job
    try:
        event = st.upload(make_clip(tmp_path / "c.mp4", seconds=1), "uploads/ivan/c.mp4")
        st.emit(event.to_eventbridge())
        assert len(st.deliver("ProcessingQueueUrl", aws_lambda.ingest)) == 1  # kept for a retry
        (job,) = mediaconvert.jobs.values()
        (asset,) = st.catalog.query(uploader_id="ivan")
        assert [j.runner_id for j in st.catalog.jobs(asset.asset_id)] == [""]  # not recorded

        mediaconvert.advance(later)
        assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []  # SQS redelivers it
        assert list(mediaconvert.jobs) == [job["Id"]]  # found, not created again
        assert [j.runner_id for j in st.catalog.jobs(asset.asset_id)] == [job["Id"]]
        assert mediaconvert.calls["CreateJob"] == 1 and st.depth("ProcessingQueueUrl") == 0
    finally:
        session.events.unregister("before-call.dynamodb.PutItem", fault)


@pytest.mark.parametrize(
    ("queue", "dlq", "handler", "body"),
    [
        ("ProcessingQueueUrl", "ProcessingDLQUrl", "ingest", "not json at all"),
        ("ProcessingQueueUrl", "ProcessingDLQUrl", "ingest", '{"source": "aws.s3", "detail": 7}'),
        ("JobEventsQueueUrl", "JobEventsDLQUrl", "status", '{"detail": {"status": "COMPLETE"}}'),
    ],
)
def test_a_poison_message_reaches_the_dlq_after_three_receives(
    stack: tuple[Stack, FakeMediaConvert], queue: str, dlq: str, handler: str, body: str
) -> None:
    st, _ = stack
    st.sqs.send_message(QueueUrl=st.outputs[queue], MessageBody=body)
    for receive in range(3):
        assert st.deliver(queue, getattr(aws_lambda, handler)) == [body], receive
    assert st.deliver(queue, getattr(aws_lambda, handler)) == []  # a 4th receive: SQS moves it
    assert st.depth(queue) == 0
    (letter,) = st.sqs.receive_message(QueueUrl=st.outputs[dlq]).get("Messages", [])
    assert letter["Body"] == body
    assert st.catalog.query() == []


def _vodkit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(
        [VODKIT, *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    return ran


def test_the_cli_speaks_to_the_deployed_stack(
    stack: tuple[Stack, FakeMediaConvert], tmp_path: Path
) -> None:
    st, mediaconvert = stack
    # Configured only by what `vodkit aws outputs` prints (plus the AWS credentials).
    env = {k: v for k, v in os.environ.items() if not k.startswith("VODKIT_")}
    for line in _vodkit(env, "aws", "outputs", "--stack", st.name).stdout.splitlines():
        name, value = shlex.split(line.removeprefix("export "))[0].split("=", 1)
        env[name] = value
    assert env["VODKIT_BACKEND"] == "aws"
    clip = make_clip(tmp_path / "clip one.mp4", size="320x180", seconds=1)

    queued = json.loads(_vodkit(env, "ingest", str(clip), "--uploader", "frank", "--json").stdout)
    assert queued["sourceKey"] == "uploads/frank/clip one.mp4"
    assert st.depth("ProcessingQueueUrl") == 0  # only stored: the stack's rule announces it
    st.emit(st.object_created(queued["sourceKey"]).to_eventbridge())
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    listed = json.loads(_vodkit(env, "assets", "list", "--uploader", "frank", "--json").stdout)
    assert [(a["assetId"], a["status"]) for a in listed["assets"]] == [
        (queued["assetId"], "PROCESSING")
    ]

    # `ingest --wait` follows the asset while the stack (played here) processes it
    waiting = subprocess.Popen(
        [VODKIT, "ingest", str(clip), "--uploader", "gina", "--wait", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    key = "uploads/gina/clip one.mp4"
    for _ in range(300):
        if st.s3.list_objects_v2(Bucket=st.outputs["UploadsBucketName"], Prefix=key)["KeyCount"]:
            break
        time.sleep(0.1)
    st.emit(st.object_created(key).to_eventbridge())
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    job = next(j for j in mediaconvert.jobs.values() if "gina" in str(j["Settings"]["Inputs"]))
    asset_id = job["UserMetadata"]["assetId"]
    st.emit(st.job_event(job, "STATUS_UPDATE", jobProgress={"jobPercentComplete": 50}))
    st.emit(
        st.job_event(
            job,
            "COMPLETE",
            outputGroupDetails=[
                {
                    "type": "CMAF_GROUP",
                    "playlistFilePaths": [f"s3://o/{asset_id}/stream/master.m3u8"],
                }
            ],
        )
    )
    _drain_job_events(st)
    stdout, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, stderr
    done = json.loads(stdout)
    assert (done["assetId"], done["status"]) == (asset_id, "COMPLETED")
    assert done["outputs"]["hls"] == (
        f"s3://{st.outputs['OutputsBucketName']}/{asset_id}/stream/master.m3u8"
    )
    shown = json.loads(_vodkit(env, "assets", "show", asset_id, "--json").stdout)
    assert shown == done
    completed = json.loads(_vodkit(env, "assets", "list", "--status", "COMPLETED", "--json").stdout)
    assert [a["assetId"] for a in completed["assets"]] == [asset_id]

    # a poison message dead-letters; the CLI lists it and redrives it
    st.sqs.send_message(QueueUrl=st.outputs["ProcessingQueueUrl"], MessageBody="{poison")
    for _ in range(4):
        st.deliver("ProcessingQueueUrl", aws_lambda.ingest)
    letters = json.loads(_vodkit(env, "dlq", "list", "--json").stdout)["deadLetters"]
    assert [(d["queue"], d["body"]) for d in letters] == [("ingest", "{poison")]
    assert _vodkit(env, "dlq", "redrive").stdout.strip() == "1 message(s) redriven"
    assert st.depth("ProcessingDLQUrl") == 0 and st.depth("ProcessingQueueUrl") == 1


def lambda_python() -> str:
    """An interpreter of the functions' runtime (python3.12), to run the packaged artifact."""
    candidates = [os.environ.get("VODKIT_LAMBDA_PYTHON", ""), "python3.12"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv.glob("versions/3.12*/bin/python3.12"))
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        version = found and subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
        if found and version == "True":
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("no python3.12 to run the Lambda artifact (set VODKIT_LAMBDA_PYTHON)")
    pytest.skip("no python3.12 to run the Lambda artifact")


# What Lambda's Python bootstrap does before importing the handler: the function's code
# (/var/task) goes first on sys.path; boto3 comes from the runtime's own PYTHONPATH.
LAMBDA_BOOTSTRAP = """
import json, sys
sys.path.insert(0, sys.argv[1])
import vodkit_lambda
print(json.dumps(getattr(vodkit_lambda, sys.argv[2])(json.load(sys.stdin), None)))
"""


@pytest.fixture(scope="module")
def lambda_task(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """The artifact WITH its runtime dependencies for Lambda's platform, unzipped; boto3."""
    python = lambda_python()
    root = tmp_path_factory.mktemp("lambda")
    artifact, _, _ = package(root / "build", "art", dependencies=True)
    again, _, _ = package(root / "again", "art", dependencies=True)
    assert again.read_bytes() == artifact.read_bytes(), "with dependencies, still deterministic"
    size = sum(i.file_size for i in zipfile.ZipFile(artifact).infolist())
    assert size < 250 * 1024**2, f"Lambda refuses code over 250 MiB unzipped: {size}"
    zipfile.ZipFile(artifact).extractall(root / "task")
    runtime = root / "runtime"  # Lambda's python3.12 runtime ships boto3
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(runtime), "--platform", "manylinux2014_x86_64",
         "--python-version", "3.12", "--only-binary=:all:", "boto3"],
        check=True, capture_output=True,
    )  # fmt: skip
    return python, root / "task", runtime


def test_the_packaged_artifact_runs_on_lambdas_python(
    stack: tuple[Stack, FakeMediaConvert],
    lambda_task: tuple[str, Path, Path],
    tmp_path: Path,
) -> None:
    python, task, runtime = lambda_task
    st, _ = stack
    for name in ("av", "pydantic_core"):  # compiled for Lambda's platform and Python
        assert list((task / name).glob("*cpython-312-x86_64-linux-gnu.so")), name
    video = make_clip(tmp_path / "v.mp4", size="320x180", seconds=6)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    for path, key in ((video, "uploads/hana/v.mp4"), (text, "uploads/hana/notes.mp4")):
        st.emit(st.upload(path, key).to_eventbridge())

    def run(handler: str, queue: str, env: dict[str, str]) -> tuple[list[str], list[str], str]:
        """One invocation of the packaged handler on python3.12: (ids sent, ids failed, log)."""
        url = st.outputs[queue]
        messages = st.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        batch = {"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]}
        environment = {k: v for k, v in os.environ.items() if k.startswith("AWS_")} | env
        environment |= {
            "PYTHONPATH": str(runtime),
            "LAMBDA_TASK_ROOT": str(task),
            "PATH": "/usr/bin:/bin",
        }
        ran = subprocess.run(
            [python, "-s", "-c", LAMBDA_BOOTSTRAP, str(task), handler],
            input=json.dumps(batch), env=environment, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-3000:]
        failed = json.loads(ran.stdout.splitlines()[-1])["batchItemFailures"]
        sent = [m["MessageId"] for m in messages if "v.mp4" in m["Body"] or handler == "status"]
        return sent, [f["itemIdentifier"] for f in failed], ran.stderr[-3000:]

    # moto has no MediaConvert: CreateJob fails, so the video's record is reported for retry,
    # after the packaged code probed and planned it on python3.12.
    video_ids, failed, log = run("ingest", "ProcessingQueueUrl", st.env)
    assert failed == video_ids
    by_key = {a.source_key: a for a in st.catalog.query(uploader_id="hana")}
    planned, rejected = by_key["uploads/hana/v.mp4"], by_key["uploads/hana/notes.mp4"]
    assert planned.status is AssetStatus.PROCESSING, log
    assert next((r["width"], r["height"]) for r in planned.renditions) == (320, 180)
    assert (rejected.status, rejected.errors[0].code) == (AssetStatus.FAILED, "NotMedia")

    # The job (as it would have been submitted) completes: the status handler sheets its tiles.
    (recorded,) = st.catalog.jobs(planned.asset_id)
    job = build_job(
        TranscodeJob.from_dict(recorded.request),
        role_arn="arn:aws:iam::123456789012:role/mc",
        outputs_bucket=st.outputs["OutputsBucketName"],
        stack=st.name,  # the stack's rule routes only its own jobs' events
    ) | {"Id": "1700000000000-abcdef"}
    st.emit(st.job_event(job, "COMPLETE", outputGroupDetails=st.run(job, tmp_path)))
    _, failed, log = run("status", "JobEventsQueueUrl", st.status_env)
    assert failed == []
    done = st.catalog.get(planned.asset_id)
    assert done is not None and done.status is AssetStatus.COMPLETED, log
    assert done.outputs["sprite"] == f"{planned.asset_id}/thumbs/sprite.vtt"


def test_vodkit_aws_deploy_creates_then_updates_the_stack(aws: AwsSession, tmp_path: Path) -> None:
    aws.client("s3").create_bucket(Bucket="deploy-artifacts")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VODKIT_")}
    deploy = [
        "aws", "deploy", "--stack", "vodkit-deployed", "--bucket", "deploy-artifacts",
        "--out", str(tmp_path / "build"), "--no-dependencies",
    ]  # fmt: skip
    created = _vodkit(env, *deploy)  # no parameter given: every one has a default
    exports = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in created.stdout.splitlines()
    )
    assert exports["VODKIT_BACKEND"] == "aws"
    assert exports["VODKIT_CATALOG_TABLE"] == "MediaAssets-dev"
    cfn = aws.client("cloudformation")

    def deployed() -> tuple[str, dict[str, str]]:
        (stack,) = cfn.describe_stacks(StackName="vodkit-deployed")["Stacks"]
        return stack["StackStatus"], {
            p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]
        }

    assert deployed()[0] == "CREATE_COMPLETE"

    # Updates change what is given and keep the rest (not the template's defaults).
    _vodkit(env, *deploy, "--parameter", "NotificationEmail=ops@example.com")
    updated = _vodkit(env, *deploy, "--parameter", "ProcessingConcurrency=3")
    status, parameters = deployed()
    assert status == "UPDATE_COMPLETE", status
    assert parameters["ProcessingConcurrency"] == "3"
    assert parameters["NotificationEmail"] == "ops@example.com"
    assert parameters["EnvironmentSuffix"] == "dev"
    assert updated.stdout == created.stdout  # same stack, same outputs
    lam = aws.client("lambda")
    config = lam.get_function_configuration(FunctionName="vodkit-ingest-orchestrator-dev")
    assert config["Environment"]["Variables"]["VODKIT_CATALOG_TABLE"] == "MediaAssets-dev"
    assert _vodkit(env, "aws", "outputs", "--stack", "vodkit-deployed").stdout == created.stdout

    refused = subprocess.run(
        [VODKIT, *deploy, "--parameter", "NoSuchParameter=1"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "no parameter NoSuchParameter" in refused.stderr


def test_the_artifact_is_deterministic_and_holds_the_handler_and_vodkit(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        result = subprocess.run(
            [VODKIT, "aws", "package", "--bucket", "art",
             "--out", str(tmp_path / name), "--no-dependencies"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append((tmp_path / name / "lambda.zip").read_bytes())
        assert result.stdout.splitlines()[2].startswith("s3://art/vodkit/lambda-")
    assert runs[0] == runs[1]
    names = zipfile.ZipFile(tmp_path / "a" / "lambda.zip").namelist()
    assert "vodkit_lambda.py" in names and "vodkit/entrypoints/aws_lambda.py" in names
    assert names == sorted(names)


def test_package_from_another_template_and_a_clear_error_without_one(tmp_path: Path) -> None:
    from vodkit.footprints.aws.package import TEMPLATE

    copy = tmp_path / "stack"
    shutil.copytree(TEMPLATE.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "lambda" / "extra.txt").write_text("shipped with the handler")
    made = _vodkit(dict(os.environ), "aws", "package", "--bucket", "art", "--out",
                   str(tmp_path / "out"), "--no-dependencies", "--template",
                   str(copy / "template.yaml"))  # fmt: skip
    assert "extra.txt" in zipfile.ZipFile(made.stdout.splitlines()[0]).namelist()
    missing = subprocess.run(
        [VODKIT, "aws", "package", "--bucket", "art", "--out", str(tmp_path / "x"),
         "--template", str(tmp_path / "none.yaml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "no template at" in missing.stderr
