"""Audio-only on AWS: the MediaConvert job for a sound file (valid for botocore's model: an
audio-only CMAF ladder and an M4A, nothing with pictures), the outputs its completion
records, and the waveform poster the status function adds (drawing faked here)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from tests.aws_stack import template
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.transcoder import mediaconvert_thumbs
from vodkit.adapters.transcoder.mediaconvert import build_job
from vodkit.adapters.transcoder.mediaconvert_thumbs import MediaConvertThumbnails
from vodkit.domain.asset import Job
from vodkit.domain.errors import ErrorCode, TranscodeFailed
from vodkit.domain.events import JobState, JobStateChanged
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.media import AudioInfo, MediaInfo, StreamInfo
from vodkit.domain.plan import MEDIACONVERT, TranscodePlan

PRESETS = load_presets()
RULES = PlanningRules(encoder=MEDIACONVERT)
CREATE_JOB = (
    botocore.session.get_session().get_service_model("mediaconvert").operation_model("CreateJob")
)
MP3 = MediaInfo(
    container="mp3",
    duration=181.5,
    size=3_000_000,
    bitrate=128_000,
    video=None,
    audio=AudioInfo(codec="mp3float", channels=2, sample_rate=44100, bitrate=128_000),
    streams=(StreamInfo(0, "audio", "mp3", default=True, channels=2),),
)
# an MKV of two languages (English default, French 5.1) and a subtitle it cannot keep
BILINGUAL = MediaInfo(
    container="matroska,webm",
    duration=60.0,
    size=5_000_000,
    bitrate=None,
    video=None,
    audio=AudioInfo(codec="flac", channels=2, sample_rate=48000),
    streams=(
        StreamInfo(1, "audio", "flac", "en", "English", default=True, channels=2),
        StreamInfo(2, "audio", "flac", "fr", "Fran\u00e7ais", channels=6),
        StreamInfo(3, "subtitle", "subrip", "en"),
    ),
)


def job(media: MediaInfo) -> TranscodeJob:
    plan = plan_transcode(media, PRESETS, RULES)
    return TranscodeJob("job-1", "asset-1", "uploads-bucket", "uploads/alice/song.mp3", plan)


def params(media: MediaInfo) -> dict[str, Any]:
    return build_job(
        job(media), role_arn="arn:aws:iam::123456789012:role/MediaConvertRole-dev",
        outputs_bucket="outputs-bucket", stack="vodkit",
    )  # fmt: skip


@pytest.mark.parametrize("media", [MP3, BILINGUAL], ids=["mp3", "bilingual"])
def test_an_audio_only_job_validates_against_botocores_model(media: MediaInfo) -> None:
    validate_parameters(params(media), CREATE_JOB.input_shape)  # raises if invalid


def test_an_audio_only_job_makes_the_ladder_and_the_m4a_and_nothing_with_pictures() -> None:
    settings = params(MP3)["Settings"]
    (source,) = settings["Inputs"]
    assert "VideoSelector" not in source and "CaptionSelectors" not in source
    assert source["AudioSelectors"] == {
        "Audio Selector 1": {"SelectorType": "TRACK", "Tracks": [1], "DefaultSelection": "DEFAULT"}
    }
    cmaf, m4a = settings["OutputGroups"]  # no MP4 preview, no frame captures
    assert cmaf["OutputGroupSettings"]["Type"] == "CMAF_GROUP_SETTINGS"
    assert cmaf["OutputGroupSettings"]["CmafGroupSettings"]["Destination"] == (
        "s3://outputs-bucket/asset-1/stream/master"
    )
    outputs = cmaf["Outputs"]
    assert [o["NameModifier"] for o in outputs] == ["_audio_128k", "_audio_96k"]
    assert all("VideoDescription" not in o for g in settings["OutputGroups"] for o in g["Outputs"])
    for output, bitrate in zip(outputs, (128_000, 96_000), strict=True):
        (audio,) = output["AudioDescriptions"]
        assert audio["CodecSettings"]["AacSettings"]["Bitrate"] == bitrate
        # a variant of its own in the HLS master, as FFmpeg's master has it
        assert output["ContainerSettings"]["CmfcSettings"] == {
            "AudioTrackType": "AUDIO_ONLY_VARIANT_STREAM"
        }
    assert m4a["OutputGroupSettings"] == {
        "Type": "FILE_GROUP_SETTINGS",
        "FileGroupSettings": {"Destination": "s3://outputs-bucket/asset-1/mp4/preview"},
    }
    (file,) = m4a["Outputs"]  # lands on mp4/preview.m4a: no name modifier, its own extension
    assert "NameModifier" not in file and file["Extension"] == "m4a"
    assert file["ContainerSettings"]["Container"] == "MP4"
    assert file["AudioDescriptions"][0]["CodecSettings"]["AacSettings"]["Bitrate"] == 128_000


def test_every_track_is_encoded_the_default_as_the_variants_the_others_as_alternates() -> None:
    settings = params(BILINGUAL)["Settings"]
    (source,) = settings["Inputs"]
    assert [s["Tracks"] for s in source["AudioSelectors"].values()] == [[1], [2]]
    assert source["AudioSelectors"]["Audio Selector 2"]["CustomLanguageCode"] == "fra"
    cmaf = settings["OutputGroups"][0]
    assert "CaptionSelectors" not in source  # text is skipped on an audio-only asset
    found = {
        o["NameModifier"]: (
            o["AudioDescriptions"][0]["AudioSourceName"],
            o["AudioDescriptions"][0].get("CustomLanguageCode"),
            o["ContainerSettings"]["CmfcSettings"]["AudioTrackType"],
            o["ContainerSettings"]["CmfcSettings"].get("AudioGroupId"),
        )
        for o in cmaf["Outputs"]
    }
    assert found == {
        "_audio_128k": ("Audio Selector 1", "en", "AUDIO_ONLY_VARIANT_STREAM", None),
        "_audio_128k_fr": ("Audio Selector 2", "fr", "ALTERNATE_AUDIO_AUTO_SELECT", "audio_128k"),
        "_audio_96k": ("Audio Selector 1", "en", "AUDIO_ONLY_VARIANT_STREAM", None),
        "_audio_96k_fr": ("Audio Selector 2", "fr", "ALTERNATE_AUDIO_AUTO_SELECT", "audio_96k"),
    }
    # the French 5.1 is folded to stereo, as for video
    french = cmaf["Outputs"][1]["AudioDescriptions"][0]
    assert french["RemixSettings"]["ChannelsIn"] == 6


def test_a_completed_audio_job_records_the_stream_and_the_m4a() -> None:
    event = {
        "source": "aws.mediaconvert",
        "detail-type": "MediaConvert Job State Change",
        "detail": {
            "jobId": "1-abc",
            "status": "COMPLETE",
            "userMetadata": {"assetId": "asset-1", "jobId": "job-1"},
            "outputGroupDetails": [
                {
                    "type": "CMAF_GROUP",
                    "playlistFilePaths": [
                        "s3://outputs-bucket/asset-1/stream/master.m3u8",
                        "s3://outputs-bucket/asset-1/stream/master.mpd",
                    ],
                    "outputDetails": [
                        {"outputFilePaths": ["s3://outputs-bucket/asset-1/stream/master_audio_128k.m3u8"]}
                    ],
                },
                {
                    "type": "FILE_GROUP",
                    "outputDetails": [
                        {"outputFilePaths": ["s3://outputs-bucket/asset-1/mp4/preview.m4a"]}
                    ],
                },
            ],
        },
    }  # fmt: skip
    parsed = JobStateChanged.from_eventbridge(event)
    assert parsed.status is JobState.COMPLETE
    assert parsed.outputs == {
        "hls": "asset-1/stream/master.m3u8",
        "dash": "asset-1/stream/master.mpd",
        "m4a": "asset-1/mp4/preview.m4a",
    }


def completed(plan: TranscodePlan) -> Job:
    request = TranscodeJob("job-1", "asset-1", "uploads", "uploads/alice/song.mp3", plan)
    return Job("job-1", JobState.COMPLETE, request=request.to_dict())


def test_the_status_function_draws_the_waveform_from_the_jobs_m4a(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[tuple[bytes, tuple[int, int], float]] = []

    def draw(m4a: Path, png: Path, size: tuple[int, int], duration: float) -> None:
        drawn.append((m4a.read_bytes(), size, duration))
        png.write_bytes(b"\x89PNG waveform")

    monkeypatch.setattr(mediaconvert_thumbs, "draw_waveform", draw)
    outputs = MemoryObjectStore("outputs")
    outputs.put_bytes("asset-1/mp4/preview.m4a", b"the job's m4a")
    plan = plan_transcode(MP3, PRESETS, RULES)
    finished = MediaConvertThumbnails(outputs).finish("asset-1", completed(plan))
    assert finished == {"poster": "asset-1/thumbs/poster.png"}
    assert drawn == [(b"the job's m4a", (1280, 240), plan.duration)]
    assert outputs.open("asset-1/thumbs/poster.png").read() == b"\x89PNG waveform"


def test_without_its_m4a_or_a_drawing_the_asset_completes_without_a_poster(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(m4a: Path, png: Path, size: tuple[int, int], duration: float) -> None:
        raise TranscodeFailed(
            "the waveform could not be drawn: x", code=ErrorCode.VERIFICATION_FAILED
        )

    monkeypatch.setattr(mediaconvert_thumbs, "draw_waveform", fail)
    outputs = MemoryObjectStore("outputs")
    plan = plan_transcode(MP3, PRESETS, RULES)
    assert MediaConvertThumbnails(outputs).finish("asset-1", completed(plan)) == {}  # no M4A
    outputs.put_bytes("asset-1/mp4/preview.m4a", b"the job's m4a")
    assert MediaConvertThumbnails(outputs).finish("asset-1", completed(plan)) == {}
    assert "could not be drawn" in caplog.text
    assert "asset-1/thumbs/poster.png" not in outputs.objects


def test_the_status_function_has_room_for_an_hours_waveform() -> None:
    """showwavespic holds the sound whole: 16-bit mono at 48 kHz is 350 MB an hour, beside
    the function's own Python and the child's PyAV."""
    status = template()["Resources"]["JobStatusProcessorFunction"]["Properties"]
    assert status["MemorySize"] >= 1024
    assert status["Timeout"] >= 120  # draw_waveform's own floor


def test_each_download_is_a_file_group_of_its_own_landing_on_its_m4a() -> None:
    (preview,) = PRESETS.mp4.outputs
    small = replace(
        preview,
        name_modifier="_small",
        audio=replace(preview.audio, bitrate=96_000) if preview.audio else None,
    )
    presets = replace(PRESETS, mp4=replace(PRESETS.mp4, outputs=(preview, small)))
    plan = plan_transcode(MP3, presets, RULES)
    request = TranscodeJob("job-1", "asset-1", "uploads", "uploads/alice/song.mp3", plan)
    built = build_job(request, role_arn="arn:aws:iam::123456789012:role/mc", outputs_bucket="out")
    validate_parameters(built, CREATE_JOB.input_shape)
    files = built["Settings"]["OutputGroups"][1:]
    assert [
        (
            g["OutputGroupSettings"]["FileGroupSettings"]["Destination"],
            g["Outputs"][0]["AudioDescriptions"][0]["CodecSettings"]["AacSettings"]["Bitrate"],
        )
        for g in files
    ] == [("s3://out/asset-1/mp4/preview", 128_000), ("s3://out/asset-1/mp4/small", 96_000)]
