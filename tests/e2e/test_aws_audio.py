"""An audio-only upload through the AWS stack on moto: the real ingest handler probes an MP3
and submits the audio-only MediaConvert job (validated against botocore's model by the fake),
the test writes the M4A MediaConvert would, and the real status handler draws the waveform
from it (PyAV's showwavespic, in a sandboxed child) before the asset turns COMPLETED."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import av

from tests.aws_stack import FakeMediaConvert
from tests.conftest import FFMPEG
from tests.e2e.test_aws_stack import (  # noqa: F401 (fixtures)
    LAMBDA_BOOTSTRAP,
    Stack,
    lambda_task,
    packaged,
    stack,
)
from vodkit.domain.asset import AssetStatus
from vodkit.entrypoints import aws_lambda


def tone(path: Path, codec: str, seconds: int = 6) -> Path:
    """A tone that swells and fades (a waveform with a shape), as MP3 or M4A."""
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=330:duration={seconds}", "-af", "afade=t=out:st=2:d=4",
         *codec.split(), str(path)],
        check=True,
    )  # fmt: skip
    return path


def submitted(st: Stack, mediaconvert: FakeMediaConvert, tmp_path: Path) -> tuple[Any, Any, Any]:
    """An MP3 uploaded, planned and submitted by the ingest handler; the M4A its job writes
    put where MediaConvert would; (the asset, the job, the COMPLETE event's group details)."""
    song = tone(tmp_path / "song.mp3", "-c:a libmp3lame -b:a 128k")
    event = st.upload(song, "uploads/alice/song.mp3")
    st.emit(event.to_eventbridge())
    assert st.deliver("ProcessingQueueUrl", aws_lambda.ingest) == []
    (asset,) = st.catalog.query(status=AssetStatus.PROCESSING)
    assert asset.kind == "audio" and asset.formats == ("hls", "dash", "m4a", "poster")
    (job,) = mediaconvert.jobs.values()
    names = [g["Name"] for g in job["Settings"]["OutputGroups"]]
    assert names == ["CMAF", "M4A preview"]  # no MP4, no frame captures

    # what MediaConvert writes for the M4A group: its destination, ".m4a"
    m4a_group = job["Settings"]["OutputGroups"][1]
    destination = m4a_group["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
    written = f"{destination}.{m4a_group['Outputs'][0]['Extension']}"
    bucket, key = written.removeprefix("s3://").split("/", 1)
    st.s3.upload_file(str(tone(tmp_path / "out.m4a", "-c:a aac -b:a 128k -f ipod")), bucket, key)
    base = f"s3://{bucket}/{asset.asset_id}"
    details = [
        {"type": "CMAF_GROUP",
         "playlistFilePaths": [f"{base}/stream/master.m3u8", f"{base}/stream/master.mpd"]},
        {"type": "FILE_GROUP", "outputDetails": [{"outputFilePaths": [written]}]},
    ]  # fmt: skip
    return asset, job, details


def test_a_sound_upload_goes_through_the_stack_to_completed_with_its_waveform(
    stack: tuple[Stack, FakeMediaConvert],  # noqa: F811
    tmp_path: Path,
) -> None:
    st, mediaconvert = stack
    asset, job, details = submitted(st, mediaconvert, tmp_path)
    bucket = st.outputs["OutputsBucketName"]
    st.emit(st.job_event(job, "COMPLETE", outputGroupDetails=details))
    while st.depth("JobEventsQueueUrl"):
        assert st.deliver("JobEventsQueueUrl", aws_lambda.status) == []
    done = st.catalog.get(asset.asset_id)
    assert done is not None and done.status is AssetStatus.COMPLETED
    prefix = asset.asset_id
    assert done.outputs == {
        "hls": f"{prefix}/stream/master.m3u8",
        "dash": f"{prefix}/stream/master.mpd",
        "m4a": f"{prefix}/mp4/preview.m4a",
        "poster": f"{prefix}/thumbs/poster.png",
    }
    poster = tmp_path / "poster.png"
    st.s3.download_file(bucket, f"{prefix}/thumbs/poster.png", str(poster))
    with av.open(str(poster)) as container:
        pixels = next(container.decode(video=0)).to_ndarray(format="rgba")
    assert pixels.shape == (240, 1280, 4)
    heights = (pixels[..., 3] > 0).sum(axis=0)
    assert heights[:300].mean() > 2 * heights[-300:].mean()  # loud, then fading out


def test_the_packaged_status_function_draws_the_waveform_on_lambdas_python(
    stack: tuple[Stack, FakeMediaConvert],  # noqa: F811
    lambda_task: tuple[str, Path, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The artifact as Lambda runs it (python3.12, its own PyAV, no FFmpeg program)."""
    python, task, runtime = lambda_task
    st, mediaconvert = stack
    assert not list(task.glob("imageio_ffmpeg*")), "the functions carry no FFmpeg program"
    asset, job, details = submitted(st, mediaconvert, tmp_path)
    st.emit(st.job_event(job, "COMPLETE", outputGroupDetails=details))
    url = st.outputs["JobEventsQueueUrl"]
    messages = st.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    batch = {"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]}
    environment = {k: v for k, v in os.environ.items() if k.startswith("AWS_")} | st.status_env
    environment |= {
        "PYTHONPATH": str(runtime),
        "LAMBDA_TASK_ROOT": str(task),
        "PATH": "/usr/bin:/bin",
    }
    ran = subprocess.run(
        [python, "-s", "-c", LAMBDA_BOOTSTRAP, str(task), "status"],
        input=json.dumps(batch), env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.splitlines()[-1])["batchItemFailures"] == [], ran.stderr[-3000:]
    done = st.catalog.get(asset.asset_id)
    assert done is not None and done.status is AssetStatus.COMPLETED, ran.stderr[-3000:]
    assert done.outputs["poster"] == f"{asset.asset_id}/thumbs/poster.png"
    head = st.s3.get_object(Bucket=st.outputs["OutputsBucketName"], Key=done.outputs["poster"])
    assert head["Body"].read(8) == b"\x89PNG\r\n\x1a\n"
