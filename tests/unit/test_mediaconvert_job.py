"""The MediaConvert job built from a plan: valid for botocore's model, and what the issue asks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.transcoder.mediaconvert import build_job
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.media import AudioInfo, Hdr10Metadata, MediaInfo, StreamInfo, VideoInfo

PRESETS = load_presets(default_presets_path())
CREATE_JOB = (
    botocore.session.get_session().get_service_model("mediaconvert").operation_model("CreateJob")
)
PHONE = replace(HD, video=VideoInfo(codec="h264", width=1920, height=1080, fps=30.0, rotation=90))
SURROUND = replace(HD, audio=AudioInfo(codec="aac", channels=6, sample_rate=48000))
SILENT = replace(HD, audio=None)
TINY = replace(HD, video=VideoInfo(codec="h264", width=320, height=240, fps=25.0))
# An MKV's streams: English 5.1 (default), a data stream, French stereo, a bitmap subtitle.
BILINGUAL = replace(
    HD,
    container="matroska,webm",
    streams=(
        StreamInfo(1, "audio", "ac3", "en", "English", default=True, channels=6),
        StreamInfo(2, "data", "bin_data"),
        StreamInfo(3, "audio", "aac", "fr", 'Fran\u00e7ais "VF"', channels=2),
        StreamInfo(4, "subtitle", "hdmv_pgs_subtitle", "en"),
    ),
)
SOURCES = {"hd": HD, "phone": PHONE, "surround": SURROUND, "silent": SILENT, "tiny": TINY,
           "bilingual": BILINGUAL}  # fmt: skip


def job_for(media: MediaInfo) -> dict[str, Any]:
    plan = plan_transcode(media, PRESETS)
    job = TranscodeJob("job-1", "asset-1", "uploads-bucket", "uploads/alice/clip.mp4", plan)
    return build_job(
        job,
        role_arn="arn:aws:iam::123456789012:role/MediaConvertRole-dev",
        outputs_bucket="outputs-bucket",
        stack="vodkit",
    )


def groups(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["OutputGroupSettings"]["Type"]: g for g in params["Settings"]["OutputGroups"]}


@pytest.mark.parametrize("name", SOURCES)
def test_every_job_validates_against_botocores_model(name: str) -> None:
    validate_parameters(job_for(SOURCES[name]), CREATE_JOB.input_shape)  # raises if invalid


def test_one_job_cmaf_for_hls_and_dash_an_mp4_preview_a_poster_and_sprite_tiles() -> None:
    params = job_for(HD)
    assert params["ClientRequestToken"] == "job-1"  # a redelivery cannot make a second job
    assert params["UserMetadata"] == {"assetId": "asset-1", "jobId": "job-1", "stack": "vodkit"}
    by_type = groups(params)
    assert set(by_type) == {"CMAF_GROUP_SETTINGS", "FILE_GROUP_SETTINGS"}
    cmaf = by_type["CMAF_GROUP_SETTINGS"]
    settings = cmaf["OutputGroupSettings"]["CmafGroupSettings"]
    assert settings["WriteHlsManifest"] == settings["WriteDashManifest"] == "ENABLED"
    assert settings["Destination"] == "s3://outputs-bucket/asset-1/stream/master"
    assert settings["SegmentLength"] == 6 and settings["FragmentLength"] == 2
    assert {o["ContainerSettings"]["Container"] for o in cmaf["Outputs"]} == {"CMFC"}
    audio = [o for o in cmaf["Outputs"] if "AudioDescriptions" in o]
    assert audio, "the adaptive group carries audio when the source has it"
    files = [g for g in params["Settings"]["OutputGroups"] if g["Name"] != "CMAF"]
    containers = {
        g["Name"]: {o["ContainerSettings"]["Container"] for o in g["Outputs"]} for g in files
    }
    assert containers == {"MP4 preview": {"MP4"}, "Poster": {"RAW"}, "Sprite tiles": {"RAW"}}
    (tiles,) = next(g for g in files if g["Name"] == "Sprite tiles")["Outputs"]
    sprite, capture = plan_transcode(HD, PRESETS).sprite, tiles["VideoDescription"]
    assert (capture["Width"], capture["Height"]) == (sprite.tile_width, sprite.tile_height)
    every = capture["CodecSettings"]["FrameCaptureSettings"]
    assert (every["FramerateDenominator"], every["MaxCaptures"]) == (sprite.interval, sprite.count)
    (candidates,) = next(g for g in files if g["Name"] == "Poster")["Outputs"]
    plan = plan_transcode(HD, PRESETS)
    capture = candidates["VideoDescription"]["CodecSettings"]["FrameCaptureSettings"]
    assert capture["MaxCaptures"] == plan.poster.candidates  # judged when the job completes
    preview = files[0]["Outputs"][0]
    assert "AudioDescriptions" in preview
    for output in cmaf["Outputs"]:
        if "VideoDescription" in output:
            h264 = output["VideoDescription"]["CodecSettings"]["H264Settings"]
            assert (h264["GopSize"], h264["GopSizeUnits"], h264["SceneChangeDetect"]) == (
                2.0,
                "SECONDS",
                "DISABLED",
            )


def test_the_dash_profile_is_the_one_the_model_allows_with_segmented_files() -> None:
    cmaf_shape = CREATE_JOB.input_shape.members["Settings"].members["OutputGroups"].member
    cmaf_shape = cmaf_shape.members["OutputGroupSettings"].members["CmafGroupSettings"]
    rule = cmaf_shape.members["MpdProfile"].documentation
    assert "When you choose On-demand, you must also set" in rule and "Single file" in rule
    settings = groups(job_for(HD))["CMAF_GROUP_SETTINGS"]["OutputGroupSettings"]
    settings = settings["CmafGroupSettings"]
    # segments shared by HLS and DASH: segmented files, so DASH's main profile
    assert (settings["SegmentControl"], settings["MpdProfile"]) == (
        "SEGMENTED_FILES",
        "MAIN_PROFILE",
    )


def test_the_ladder_follows_the_source() -> None:
    def sizes(media: MediaInfo) -> list[tuple[int, int]]:
        cmaf = groups(job_for(media))["CMAF_GROUP_SETTINGS"]
        return [
            (o["VideoDescription"]["Width"], o["VideoDescription"]["Height"])
            for o in cmaf["Outputs"]
            if "VideoDescription" in o
        ]

    assert sizes(HD) == [(1280, 720), (854, 480)]
    assert sizes(PHONE) == [(720, 1280), (480, 854)]  # portrait, as the phone shows it
    assert sizes(TINY) == [(320, 240)]  # never upscaled
    assert job_for(PHONE)["Settings"]["Inputs"][0]["VideoSelector"]["Rotate"] == "AUTO"


def test_audio_surround_is_downmixed_and_silence_has_no_audio() -> None:
    cmaf = groups(job_for(SURROUND))["CMAF_GROUP_SETTINGS"]
    (remix,) = {
        str(d.get("RemixSettings")) for o in cmaf["Outputs"] for d in o.get("AudioDescriptions", [])
    }
    assert "'ChannelsIn': 6" in remix and "'ChannelsOut': 2" in remix
    silent = job_for(SILENT)
    assert "AudioSelectors" not in silent["Settings"]["Inputs"][0]
    assert all(
        "AudioDescriptions" not in o
        for g in silent["Settings"]["OutputGroups"]
        for o in g["Outputs"]
    )


def presets_with(**fields: Any) -> Any:
    import copy
    import json

    from vodkit.domain.presets import parse_presets

    document = copy.deepcopy(json.loads(default_presets_path().read_text()))
    document["presets"].update(fields)
    return parse_presets(document)


def job_with(media: MediaInfo, **fields: Any) -> dict[str, Any]:
    plan = plan_transcode(media, presets_with(**fields))
    job = TranscodeJob("job-1", "asset-1", "uploads-bucket", "uploads/alice/clip.mp4", plan)
    params = build_job(job, role_arn="arn:aws:iam::123456789012:role/R", outputs_bucket="out")
    validate_parameters(params, CREATE_JOB.input_shape)  # raises if invalid
    return params


def h264_of(params: dict[str, Any]) -> list[dict[str, Any]]:
    cmaf = groups(params)["CMAF_GROUP_SETTINGS"]
    return [
        o["VideoDescription"]["CodecSettings"]["H264Settings"]
        for o in cmaf["Outputs"]
        if "VideoDescription" in o
    ]


def test_qvbr_takes_its_quality_level_from_the_presets_and_each_cap_as_max_bitrate() -> None:
    rungs = h264_of(job_with(HD, qvbrQualityLevel=8))
    assert [(h["RateControlMode"], h["QvbrSettings"]["QvbrQualityLevel"]) for h in rungs] == [
        ("QVBR", 8),
        ("QVBR", 8),
    ]
    assert [h["MaxBitrate"] for h in rungs] == [2_000_000, 1_000_000]
    assert [h["MaxBitrate"] for h in h264_of(job_for(HD))] == [2_000_000, 1_000_000]


def test_cbr_spends_the_cap() -> None:
    rungs = h264_of(job_with(HD, rateControl="CBR"))
    assert [(h["RateControlMode"], h["Bitrate"]) for h in rungs] == [
        ("CBR", 2_000_000),
        ("CBR", 1_000_000),
    ]
    assert all("MaxBitrate" not in h and "QvbrSettings" not in h for h in rungs)


def test_automated_abr_is_a_preset_choice() -> None:
    params = job_with(
        HD, automatedAbr={"maxAbrBitrate": 5_000_000, "maxRenditions": 4, "minAbrBitrate": 300_000}
    )
    cmaf = groups(params)["CMAF_GROUP_SETTINGS"]
    assert cmaf["AutomatedEncodingSettings"] == {
        "AbrSettings": {"MaxAbrBitrate": 5_000_000, "MaxRenditions": 4, "MinAbrBitrate": 300_000}
    }
    (video,) = [o["VideoDescription"] for o in cmaf["Outputs"] if "VideoDescription" in o]
    assert "Width" not in video and video["CodecSettings"]["H264Settings"]["RateControlMode"] == (
        "QVBR"
    )
    assert "MaxBitrate" not in video["CodecSettings"]["H264Settings"]
    assert any("AudioDescriptions" in o for o in cmaf["Outputs"])
    assert "AutomatedEncodingSettings" not in groups(job_for(HD))["CMAF_GROUP_SETTINGS"]


def test_hdr_is_tone_mapped_to_rec709_and_interlace_deinterlaced() -> None:
    hdr = replace(
        HD,
        video=VideoInfo(
            codec="hevc", width=1920, height=1080, fps=30.0, color_transfer="arib-std-b67"
        ),
    )
    params = job_with(hdr)
    assert params["Settings"]["Inputs"][0]["VideoSelector"]["ColorSpace"] == "FOLLOW"
    for group in params["Settings"]["OutputGroups"][:2]:
        for output in group["Outputs"]:
            if "VideoDescription" in output:
                corrector = output["VideoDescription"]["VideoPreprocessors"]["ColorCorrector"]
                assert corrector == {
                    "ColorSpaceConversion": "FORCE_709",
                    "HdrToSdrToneMapper": "PRESERVE_DETAILS",
                }
    interlaced = replace(
        HD, video=VideoInfo(codec="h264", width=1920, height=1080, fps=25.0, field_order="tt")
    )
    (first, _) = [
        o["VideoDescription"]
        for o in groups(job_with(interlaced))["CMAF_GROUP_SETTINGS"]["Outputs"]
        if "VideoDescription" in o
    ]
    assert first["VideoPreprocessors"]["Deinterlacer"] == {
        "Algorithm": "INTERPOLATE",
        "Mode": "ADAPTIVE",  # not forced on: MediaConvert converts the frames tagged interlaced
        "Control": "NORMAL",
    }
    validate_parameters(job_with(interlaced), CREATE_JOB.input_shape)
    # found woven though tagged progressive: the tags lie, so every frame is looked at
    woven = replace(plan_transcode(HD, PRESETS), interlaced=True, field_order="progressive")
    job = build_job(
        TranscodeJob("job-1", "asset-1", "uploads-bucket", "uploads/a/clip.mp4", woven),
        role_arn="arn:aws:iam::123456789012:role/MediaConvertRole-dev",
        outputs_bucket="outputs-bucket",
        stack="vodkit",
    )
    validate_parameters(job, CREATE_JOB.input_shape)
    forced = groups(job)["CMAF_GROUP_SETTINGS"]["Outputs"][0]["VideoDescription"]
    assert forced["VideoPreprocessors"]["Deinterlacer"]["Control"] == "FORCE_ALL_FRAMES"
    assert forced["VideoPreprocessors"]["Deinterlacer"]["Mode"] == "ADAPTIVE"
    plain = groups(job_for(HD))["CMAF_GROUP_SETTINGS"]["Outputs"][0]["VideoDescription"]
    assert "VideoPreprocessors" not in plain


def every_h264(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        output["VideoDescription"]["CodecSettings"]["H264Settings"]
        for group in params["Settings"]["OutputGroups"]
        for output in group["Outputs"]
        if output.get("VideoDescription", {}).get("CodecSettings", {}).get("Codec") == "H_264"
    ]


@pytest.mark.parametrize(
    ("video", "rate"),
    [
        # a phone's 24-then-60 fps clip: its fastest part's rate, never the 41.8 average
        (VideoInfo(codec="h264", width=1920, height=1080, fps=41.791, peak_fps=60.0), (60, 1)),
        (
            VideoInfo(codec="h264", width=1920, height=1080, fps=29.97, peak_fps=29.97),
            (30000, 1001),
        ),
        (VideoInfo(codec="h264", width=1920, height=1080, fps=120.0, peak_fps=120.0), (60, 1)),
    ],
)
def test_every_output_keeps_a_variable_rate_sources_frames(
    video: VideoInfo, rate: tuple[int, int]
) -> None:
    params = job_with(replace(HD, video=video))
    validate_parameters(params, CREATE_JOB.input_shape)  # raises if invalid
    settings = every_h264(params)
    assert settings
    for h264 in settings:
        assert h264["FramerateControl"] == "SPECIFIED"  # not the header's (average) rate
        assert h264["FramerateConversionAlgorithm"] == "DUPLICATE_DROP"  # no blended frames
        assert (h264["FramerateNumerator"], h264["FramerateDenominator"]) == rate


def test_hdr10_is_read_with_its_mastering_metadata_and_the_vibrant_mapper() -> None:
    """HDR10's tone mapping starts from the content's own peak: the probe's MaxCLL and
    mastering display go to the input (the stream's own win where it carries them)."""
    metadata = Hdr10Metadata(
        red_x=34000, red_y=16000, green_x=13250, green_y=34500, blue_x=7500, blue_y=3000,
        white_x=15635, white_y=16450, max_luminance=10_000_000, min_luminance=1,
        max_cll=400, max_fall=120,
    )  # fmt: skip

    def source(hdr10: Hdr10Metadata | None, transfer: str = "smpte2084") -> MediaInfo:
        video = VideoInfo(
            codec="hevc", width=1920, height=1080, fps=30.0, color_transfer=transfer, hdr10=hdr10
        )
        return replace(HD, video=video)

    def correctors(params: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            output["VideoDescription"]["VideoPreprocessors"]["ColorCorrector"]
            for group in params["Settings"]["OutputGroups"][:2]
            for output in group["Outputs"]
            if "VideoDescription" in output
        ]

    params = job_for(source(metadata))
    validate_parameters(params, CREATE_JOB.input_shape)
    selector = params["Settings"]["Inputs"][0]["VideoSelector"]
    assert selector["ColorSpace"] == "HDR10" and selector["ColorSpaceUsage"] == "FALLBACK"
    assert selector["Hdr10Metadata"] == {
        "RedPrimaryX": 34000, "RedPrimaryY": 16000, "GreenPrimaryX": 13250,
        "GreenPrimaryY": 34500, "BluePrimaryX": 7500, "BluePrimaryY": 3000,
        "WhitePointX": 15635, "WhitePointY": 16450, "MaxLuminance": 10_000_000,
        "MinLuminance": 1, "MaxContentLightLevel": 400, "MaxFrameAverageLightLevel": 120,
    }  # fmt: skip
    assert {c["HdrToSdrToneMapper"] for c in correctors(params)} == {"VIBRANT"}
    assert {c["ColorSpaceConversion"] for c in correctors(params)} == {"FORCE_709"}

    # Light levels alone: only what is known is said.
    light = job_for(source(Hdr10Metadata(max_cll=1000, max_fall=300)))
    validate_parameters(light, CREATE_JOB.input_shape)
    assert light["Settings"]["Inputs"][0]["VideoSelector"]["Hdr10Metadata"] == {
        "MaxContentLightLevel": 1000,
        "MaxFrameAverageLightLevel": 300,
    }
    # No metadata: HDR10 all the same, MediaConvert's own assumption for the peak.
    bare = job_for(source(None))
    validate_parameters(bare, CREATE_JOB.input_shape)
    assert "Hdr10Metadata" not in bare["Settings"]["Inputs"][0]["VideoSelector"]
    assert bare["Settings"]["Inputs"][0]["VideoSelector"]["ColorSpace"] == "HDR10"
    # HLG as before: its tags followed, the mapper MediaConvert applies to HLG anyway.
    hlg = job_for(source(metadata, "arib-std-b67"))
    validate_parameters(hlg, CREATE_JOB.input_shape)
    assert hlg["Settings"]["Inputs"][0]["VideoSelector"] == {
        "Rotate": "AUTO",
        "ColorSpace": "FOLLOW",
    }
    assert {c["HdrToSdrToneMapper"] for c in correctors(hlg)} == {"PRESERVE_DETAILS"}


def test_one_audio_selector_and_one_cmaf_rendition_per_track_with_its_language() -> None:
    params = job_for(BILINGUAL)
    validate_parameters(params, CREATE_JOB.input_shape)
    assert params["Settings"]["Inputs"][0]["AudioSelectors"] == {
        "Audio Selector 1": {"SelectorType": "TRACK", "Tracks": [1],
                             "DefaultSelection": "DEFAULT", "CustomLanguageCode": "eng"},
        "Audio Selector 2": {"SelectorType": "TRACK", "Tracks": [2],
                             "DefaultSelection": "NOT_DEFAULT", "CustomLanguageCode": "fra"},
    }  # fmt: skip
    cmaf = groups(params)["CMAF_GROUP_SETTINGS"]["Outputs"]
    audio = [o for o in cmaf if "AudioDescriptions" in o]
    plan = plan_transcode(BILINGUAL, PRESETS)
    assert len(audio) == 2 * len({a.group_id for a in plan.audio})  # both tracks, every rate
    for output in audio:
        (description,) = output["AudioDescriptions"]
        french = description["AudioSourceName"] == "Audio Selector 2"
        assert description["CustomLanguageCode"] == ("fr" if french else "en")
        assert description["LanguageCodeControl"] == "USE_CONFIGURED"
        assert description["StreamName"] == ("Français VF" if french else "English")
        assert ("RemixSettings" in description) is not french  # 5.1 down to stereo
        settings = output["ContainerSettings"]["CmfcSettings"]
        assert settings["AudioTrackType"] == (
            "ALTERNATE_AUDIO_AUTO_SELECT" if french else "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT"
        )
        assert settings["AudioGroupId"].startswith("audio_")
    rungs = [o for o in cmaf if "VideoDescription" in o]
    assert {o["ContainerSettings"]["CmfcSettings"]["AudioRenditionSets"] for o in rungs} == {
        v.audio for v in plan.video
    }
    (preview,) = [g for g in params["Settings"]["OutputGroups"] if g["Name"] == "MP4 preview"]
    assert [d["AudioSourceName"] for o in preview["Outputs"] for d in o["AudioDescriptions"]] == [
        "Audio Selector 1"
    ]  # the preview keeps the default track
