"""The text tracks of a MediaConvert job: caption selectors, WebVTT in the CMAF group and the
plain downloads, valid for botocore's model (its enums and patterns too, which
``validate_parameters`` leaves to the service)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import validate_parameters

from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.transcoder.mediaconvert import build_job
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import NO_608_HERE, NO_ASS_HERE, PlanningRules, plan_transcode
from vodkit.domain.media import MediaInfo, StreamInfo
from vodkit.domain.plan import MEDIACONVERT, TranscodePlan
from vodkit.domain.tracks import TextKind, TrackType
from vodkit.services.captions import sidecar
from vodkit.services.text_conversion import unconverted

PRESETS = load_presets(default_presets_path())
CREATE_JOB = (
    botocore.session.get_session().get_service_model("mediaconvert").operation_model("CreateJob")
)
AWS = PlanningRules(encoder=MEDIACONVERT)
# The MKV: English (default) and French audio, an English SubRip and a French ASS track.
MKV = replace(
    HD,
    container="matroska,webm",
    streams=(
        StreamInfo(1, "audio", "aac", "en", "English", default=True, channels=2),
        StreamInfo(2, "audio", "aac", "fr", channels=2),
        StreamInfo(3, "subtitle", "subrip", "en"),
        StreamInfo(4, "subtitle", "ass", "fr", "Français"),
    ),
)
# An MP4 whose H.264 carries CEA-608 (the probe's text track on the video stream, index 0)
# and a mov_text track.
MP4_608 = replace(
    HD,
    streams=(
        StreamInfo(0, "subtitle", "eia_608", hearing_impaired=True),
        StreamInfo(1, "audio", "aac", "en", channels=2),
        StreamInfo(2, "subtitle", "mov_text", "es-419", 'Español "LatAm"'),
    ),
)


def plan_of(media: MediaInfo) -> TranscodePlan:
    return plan_transcode(media, PRESETS, AWS)


def job_of(plan: TranscodePlan) -> dict[str, Any]:
    job = TranscodeJob("job-1", "asset-1", "uploads-bucket", "uploads/alice/clip.mkv", plan)
    params = build_job(job, role_arn="arn:aws:iam::123456789012:role/MC", outputs_bucket="out")
    validate_parameters(params, CREATE_JOB.input_shape)  # raises if invalid
    strictly_valid(params, CREATE_JOB.input_shape)
    return params


def strictly_valid(value: Any, shape: Shape, path: str = "") -> None:
    """Every string in an enum of the model is one of its values, and every pattern holds."""
    if shape.type_name == "structure":
        for name, member in value.items():
            strictly_valid(member, shape.members[name], f"{path}.{name}")  # type: ignore[attr-defined]
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            strictly_valid(item, shape.member, f"{path}[{i}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        for key, item in value.items():
            strictly_valid(item, shape.value, f"{path}.{key}")  # type: ignore[attr-defined]
    elif shape.type_name == "string":
        assert not shape.enum or value in shape.enum, f"{path}: {value!r} not in its enum"
        pattern = shape.metadata.get("pattern")
        assert not pattern or re.search(pattern, value), f"{path}: {value!r} !~ {pattern}"


def captions_in(params: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    selectors = params["Settings"]["Inputs"][0].get("CaptionSelectors", {})
    (cmaf,) = [g for g in params["Settings"]["OutputGroups"] if g["Name"] == "CMAF"]
    return selectors, [o for o in cmaf["Outputs"] if "CaptionDescriptions" in o]


def downloads(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        g["OutputGroupSettings"]["FileGroupSettings"]["Destination"]: g["Outputs"][0]
        for g in params["Settings"]["OutputGroups"]
        if g["Name"].startswith("Captions")
    }


def test_the_mkv_gets_two_audio_and_two_caption_selectors_and_a_webvtt_output_per_language() -> (
    None
):
    plan = plan_of(MKV)
    assert plan.skipped == ()
    params = job_of(plan)  # validated against botocore's model, enums and patterns too
    assert len(params["Settings"]["Inputs"][0]["AudioSelectors"]) == 2
    selectors, outputs = captions_in(params)
    assert selectors == {
        # libavformat's index 3: the file's fourth stream
        "Captions Selector 1": {
            "SourceSettings": {"SourceType": "SRT", "TrackSourceSettings": {"StreamNumber": 4}}
        },
        # ASS, which MediaConvert cannot read: the WebVTT the ingest made of it
        "Captions Selector 2": {
            "SourceSettings": {
                "SourceType": "WEBVTT",
                "FileSourceSettings": {"SourceFile": "s3://out/asset-1/captions/fr.vtt"},
            }
        },
    }
    assert [o["ContainerSettings"] for o in outputs] == [{"Container": "CMFC"}] * 2
    descriptions = [d for o in outputs for d in o["CaptionDescriptions"]]
    assert [(d["CaptionSelectorName"], d["CustomLanguageCode"]) for d in descriptions] == [
        ("Captions Selector 1", "en"),
        ("Captions Selector 2", "fr"),
    ]
    assert {d["DestinationSettings"]["DestinationType"] for d in descriptions} == {"WEBVTT"}
    assert [d.get("LanguageDescription") for d in descriptions] == ["English", "Français"]
    # the SubRip track's download is the job's; the French one is already the ingest's file
    assert list(downloads(params)) == ["s3://out/asset-1/captions/en"]


def test_where_no_converter_runs_the_ass_track_is_skipped_with_why() -> None:
    plan = unconverted(plan_of(MKV))
    selectors, outputs = captions_in(job_of(plan))
    assert [s["SourceSettings"]["SourceType"] for s in selectors.values()] == ["SRT"]
    assert len(outputs) == 1
    assert [(s.language, s.codec, s.reason) for s in plan.skipped] == [("fr", "ass", NO_ASS_HERE)]


def test_the_mkv_with_its_french_track_added_as_a_sidecar_has_a_webvtt_output_per_language() -> (
    None
):
    plan = unconverted(plan_of(MKV))  # its ASS track not read: French comes as a sidecar
    french = sidecar("fr", label="Français")
    params = job_of(replace(plan, tracks=(*plan.tracks, french)))
    assert len(params["Settings"]["Inputs"][0]["AudioSelectors"]) == 2
    selectors, outputs = captions_in(params)
    assert selectors["Captions Selector 2"] == {
        "SourceSettings": {
            "SourceType": "WEBVTT",
            "FileSourceSettings": {"SourceFile": "s3://out/asset-1/captions/sidecar/fr.vtt"},
        }
    }  # the sanitised WebVTT the captions service stored
    assert len(selectors) == 2
    by_language = {d["CustomLanguageCode"]: d for o in outputs for d in o["CaptionDescriptions"]}
    assert set(by_language) == {"en", "fr"}
    assert {d["DestinationSettings"]["DestinationType"] for d in by_language.values()} == {"WEBVTT"}
    assert [o["NameModifier"] for o in outputs] == ["_en", "_sidecar_fr"]
    # the embedded track's download is made by the job; the sidecar's is already stored
    assert list(downloads(params)) == ["s3://out/asset-1/captions/en"]


def test_cea_608_in_an_mp4_is_an_embedded_selector_and_mov_text_is_3gpp_text() -> None:
    plan = plan_of(MP4_608)
    assert not plan.skipped
    params = job_of(plan)
    selectors, outputs = captions_in(params)
    assert selectors == {
        "Captions Selector 1": {
            "SourceSettings": {
                "SourceType": "EMBEDDED",
                "EmbeddedSourceSettings": {
                    "Source608ChannelNumber": 1,
                    "Source608TrackNumber": 1,
                    "Convert608To708": "DISABLED",
                },
            }
        },
        "Captions Selector 2": {
            "SourceSettings": {"SourceType": "TT_3GPP", "TrackSourceSettings": {"StreamNumber": 3}}
        },
    }
    cc, spanish = (o["CaptionDescriptions"][0] for o in outputs)
    assert cc["DestinationSettings"]["WebvttDestinationSettings"] == {
        "Accessibility": "ENABLED",  # SDH: HLS CHARACTERISTICS, DASH's caption role
        "StylePassthrough": "DISABLED",
    }
    assert "CustomLanguageCode" not in cc  # und: no language claimed
    assert spanish["CustomLanguageCode"] == "es"  # es-419 is not in the model's pattern
    assert spanish["LanguageDescription"] == "Español LatAm"  # no quote in a manifest
    assert spanish["DestinationSettings"]["WebvttDestinationSettings"]["Accessibility"] == (
        "DISABLED"
    )
    assert set(downloads(params)) == {
        "s3://out/asset-1/captions/und",
        "s3://out/asset-1/captions/es-419",
    }
    for output in downloads(params).values():
        assert output["Extension"] == "vtt" and "NameModifier" not in output


def test_cea_608_in_a_matroska_source_is_skipped_with_why() -> None:
    plan = plan_of(replace(MP4_608, container="matroska,webm", streams=MP4_608.streams[:2]))
    assert [t for t in plan.tracks if t.type is TrackType.TEXT] == []
    assert [s.reason for s in plan.skipped] == [f"{NO_608_HERE}, not matroska"]
    selectors, outputs = captions_in(job_of(plan))
    assert selectors == {} and outputs == []


def test_two_tracks_of_one_language_keep_distinct_names_and_a_sidecar_caption_is_sdh() -> None:
    media = replace(
        HD,
        streams=(
            StreamInfo(1, "audio", "aac", "en", channels=2),
            StreamInfo(2, "subtitle", "subrip", "en"),
        ),
    )
    plan = plan_of(media)
    sdh = sidecar("en", label="English SDH", kind=TextKind.CAPTIONS)
    params = job_of(replace(plan, tracks=(*plan.tracks, sdh)))
    selectors, outputs = captions_in(params)
    assert selectors["Captions Selector 2"]["SourceSettings"]["FileSourceSettings"] == {
        "SourceFile": "s3://out/asset-1/captions/sidecar/en.vtt"
    }
    assert [o["NameModifier"] for o in outputs] == ["_en", "_sidecar_en"]
    sdh_output = outputs[1]["CaptionDescriptions"][0]
    assert sdh_output["DestinationSettings"]["WebvttDestinationSettings"]["Accessibility"] == (
        "ENABLED"
    )
    defaulted = replace(sdh, default=True)
    _, outputs = captions_in(job_of(replace(plan, tracks=(*plan.tracks, defaulted))))
    # MediaConvert signals its first caption output as HLS's default: the default one
    assert [o["NameModifier"] for o in outputs] == ["_sidecar_en", "_en"]


def test_the_ffmpeg_footprint_still_keeps_ass() -> None:
    plan = plan_transcode(MKV, PRESETS)  # x264: its text helper converts ASS itself
    assert [t.codec for t in plan.tracks if t.type is TrackType.TEXT] == ["subrip", "ass"]
