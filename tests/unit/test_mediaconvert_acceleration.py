"""A long source's MediaConvert job asks for accelerated transcoding; a short one does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from tests.fakes import HD
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.transcoder.mediaconvert import MediaConvertJobSubmitter, build_job
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.media import AudioInfo, MediaInfo, StreamInfo
from vodkit.domain.plan import MEDIACONVERT

PRESETS = load_presets()
RULES = PlanningRules(encoder=MEDIACONVERT)
CREATE_JOB = (
    botocore.session.get_session().get_service_model("mediaconvert").operation_model("CreateJob")
)
ROLE = "arn:aws:iam::123456789012:role/MediaConvertRole-dev"
SOUND = MediaInfo(
    container="mp3",
    duration=3600.0,
    size=60_000_000,
    bitrate=128_000,
    video=None,
    audio=AudioInfo(codec="mp3float", channels=2, sample_rate=44100, bitrate=128_000),
    streams=(StreamInfo(0, "audio", "mp3", default=True, channels=2),),
)


def job(media: MediaInfo) -> TranscodeJob:
    plan = plan_transcode(media, PRESETS, RULES)
    return TranscodeJob("job-1", "asset-1", "uploads-bucket", "uploads/alice/film.mp4", plan)


def params(media: MediaInfo, **chunking: int) -> dict[str, Any]:
    return build_job(job(media), role_arn=ROLE, outputs_bucket="outputs-bucket", **chunking)


@pytest.mark.parametrize("duration", [120.1, 300.0, 7200.0])
def test_a_source_longer_than_two_chunks_asks_for_acceleration_preferred(duration: float) -> None:
    built = params(replace(HD, duration=duration))
    assert built["AccelerationSettings"] == {"Mode": "PREFERRED"}
    # what MediaConvert requires of an accelerated job: zero-based timecodes, no queue named
    # (Default is on-demand; reserved queues cannot accelerate)
    assert built["Settings"]["TimecodeConfig"] == {"Source": "ZEROBASED"}
    assert built["Settings"]["Inputs"][0]["TimecodeSource"] == "ZEROBASED"
    assert "Queue" not in built
    validate_parameters(built, CREATE_JOB.input_shape)  # raises if invalid


@pytest.mark.parametrize("duration", [12.0, 60.0, 120.0])
def test_a_source_of_two_chunks_or_less_runs_at_standard_speed(duration: float) -> None:
    built = params(replace(HD, duration=duration))
    assert "AccelerationSettings" not in built
    validate_parameters(built, CREATE_JOB.input_shape)


def test_the_threshold_follows_chunk_seconds() -> None:
    source = replace(HD, duration=300.0)
    assert "AccelerationSettings" not in params(source, chunk_seconds=150)
    assert params(source, chunk_seconds=30)["AccelerationSettings"] == {"Mode": "PREFERRED"}


def test_a_long_sound_does_not_ask_accelerated_needs_a_video_output() -> None:
    built = params(SOUND)
    assert "AccelerationSettings" not in built
    validate_parameters(built, CREATE_JOB.input_shape)


class Client:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def create_job(self, **kwargs: Any) -> dict[str, Any]:
        self.created.append(kwargs)
        return {"Job": {"Id": "1234-abcd"}}


def test_the_submitter_passes_its_chunk_seconds_on() -> None:
    client = Client()
    submitter = MediaConvertJobSubmitter(
        client, role_arn=ROLE, outputs_bucket="outputs-bucket", chunk_seconds=150
    )
    submitter.submit(job(replace(HD, duration=300.0)))
    submitter.submit(job(replace(HD, duration=301.0)))
    assert ["AccelerationSettings" in c for c in client.created] == [False, True]
