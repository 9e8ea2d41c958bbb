"""MediaConvert as the job submitter (AWS footprint): one job per upload.

The job is built from the same plan the FFmpeg transcoder runs: one CMAF
group writes the HLS and the DASH manifest over one set of segments (every
rung, and the audio renditions, in CMFC), a FILE group writes the MP4
preview, and frame-capture groups the poster's candidates and the sprite's
tiles (judged and sheeted when the job completes, by ``MediaConvertThumbnails``); text
tracks are WebVTT in the CMAF group and FILE groups of their own (``mediaconvert_captions``).
An audio-only plan makes the CMAF group's audio renditions and an M4A FILE group per
download, nothing else: its waveform poster is drawn from that M4A when the job completes.
Rungs carry the plan's sizes (display aspect kept, never upscaled, portrait
for rotated phone video with ``Rotate: AUTO``), a fixed GOP without scene-cut
keyframes so rungs switch cleanly, and 5.1/7.1 sources are remixed to stereo.
Rate control follows the presets: QVBR at the presets' ``qvbrQualityLevel`` with each
rung's cap as ``MaxBitrate`` (the per-title analysis does not run here: an ingest
Lambda's time and CPU are too small), or CBR at the cap; ``automatedAbr`` hands the ladder
to MediaConvert's Automated ABR instead (one video output, ``MaxAbrBitrate`` and
``MaxRenditions`` from the presets). HDR sources are converted to Rec.709 with MediaConvert's
HDR-to-SDR tone mapper (an HDR10 source is read as HDR10 with the mastering display and
light levels the probe found, ``Hdr10Metadata``, so the mapper starts from the content's own
peak; ``VIBRANT``, AWS's advice for HDR10); sources that declare themselves interlaced (or
were found woven) go through its deinterlacer in ADAPTIVE mode; progressive ones never do.
Every output is at the plan's constant rate, which keeps every frame of a variable-rate
source (``domain.frame_rate``).
A long source (over ``chunk_seconds`` x 2, as the cluster chunks) asks for accelerated
transcoding, MediaConvert's own split-and-stitch, in ``PREFERRED`` mode (``_acceleration``).
``ClientRequestToken`` is the job id, but MediaConvert honours a token for one
minute only: a redelivery later than that would create (and bill) a second
job. The orchestrator records the id ``CreateJob`` returns and never submits a
job that has one; for the window between ``CreateJob`` and that write (a crash,
a failed catalog write), ``find`` looks for the job among those created since it
was planned.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from ...domain import layout
from ...domain.chunks import DEFAULT_CHUNK_SECONDS, worth_chunking
from ...domain.interlace import declared
from ...domain.jobs import TranscodeJob
from ...domain.plan import QVBR, AudioRendition, TranscodePlan, VideoRendition
from ...domain.tracks import UNDETERMINED, Role, Track, TrackType, language_alpha3
from ..aws import aws_call
from .mediaconvert_captions import caption_selectors, cmaf_caption_outputs, download_groups
from .mediaconvert_manifests import DESTINATION

log = logging.getLogger(__name__)
CLOCK_SKEW = timedelta(minutes=5)  # between this host's clock and MediaConvert's
LOOKUP_PAGES = 100  # of 20 jobs, newest first: how far back ``find`` may look
AUDIO_SELECTOR = "Audio Selector 1"
STREAM_NAME_UNSAFE = re.compile(r"[^\w\s]")  # MediaConvert takes letters, digits, spaces
SILENT_DB = -60  # MediaConvert's "off" in a remix matrix
# Stereo downmix gains (dB) per input channel, in SMPTE order (L R C LFE Ls Rs [Lb Rb]):
# centre and surrounds at -3 dB, LFE dropped, as ITU-R BS.775 folds 5.1 down.
DOWNMIX = {
    6: ([0, SILENT_DB, -3, SILENT_DB, -3, SILENT_DB], [SILENT_DB, 0, -3, SILENT_DB, SILENT_DB, -3]),
    8: (
        [0, SILENT_DB, -3, SILENT_DB, -3, SILENT_DB, -3, SILENT_DB],
        [SILENT_DB, 0, -3, SILENT_DB, SILENT_DB, -3, SILENT_DB, -3],
    ),
}


def _rate_control(plan: TranscodePlan, rung: VideoRendition | None) -> dict[str, Any]:
    if rung is None:  # Automated ABR: MediaConvert chooses every rung's rate
        return {"RateControlMode": QVBR}
    if plan.rate_control == QVBR:
        return {
            "RateControlMode": QVBR,
            "QvbrSettings": {"QvbrQualityLevel": plan.qvbr_quality_level},
            "MaxBitrate": rung.bitrate,
        }
    return {"RateControlMode": "CBR", "Bitrate": rung.bitrate}


# MediaConvert's names for HDR10's static metadata (``domain.media.Hdr10Metadata``'s fields,
# in the same units).
HDR10_METADATA = {
    "red_x": "RedPrimaryX", "red_y": "RedPrimaryY", "green_x": "GreenPrimaryX",
    "green_y": "GreenPrimaryY", "blue_x": "BluePrimaryX", "blue_y": "BluePrimaryY",
    "white_x": "WhitePointX", "white_y": "WhitePointY", "max_luminance": "MaxLuminance",
    "min_luminance": "MinLuminance", "max_cll": "MaxContentLightLevel",
    "max_fall": "MaxFrameAverageLightLevel",
}  # fmt: skip


def _video_selector(plan: TranscodePlan) -> dict[str, Any]:
    """Phone video: portrait renditions. HDR10: read as HDR10, with its mastering metadata
    (``FALLBACK``: what the stream itself carries wins; these are the probe's reading of it);
    HLG: its colour read from the source's tags."""
    selector: dict[str, Any] = {"Rotate": "AUTO"}
    if plan.tonemap == "pq":
        selector |= {"ColorSpace": "HDR10", "ColorSpaceUsage": "FALLBACK"}
        given = {
            HDR10_METADATA[name]: value
            for name, value in asdict(plan.hdr10).items()
            if value and name in HDR10_METADATA
        } if plan.hdr10 else {}  # fmt: skip
        if given:
            selector["Hdr10Metadata"] = given
    elif plan.tonemap:
        selector["ColorSpace"] = "FOLLOW"
    return selector


def _preprocessors(plan: TranscodePlan) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if plan.tonemap:
        found["ColorCorrector"] = {
            "ColorSpaceConversion": "FORCE_709",
            # HDR10: AWS's recommended mapper (PRESERVE_DETAILS dims it); HLG: the only one
            # MediaConvert applies
            "HdrToSdrToneMapper": "VIBRANT" if plan.tonemap == "pq" else "PRESERVE_DETAILS",
        }
    if plan.interlaced:  # declared, or detected (no analysis runs before a MediaConvert job)
        found["Deinterlacer"] = {
            "Algorithm": "INTERPOLATE",
            "Mode": "ADAPTIVE",  # MediaConvert's own detection, frame by frame
            # NORMAL converts the frames tagged interlaced; woven frames tagged progressive
            # (detected from the pictures, not declared) are the case its docs force for.
            "Control": "NORMAL" if declared(plan.field_order) else "FORCE_ALL_FRAMES",
        }
    return {"VideoPreprocessors": found} if found else {}


def _frame_rate(plan: TranscodePlan) -> dict[str, Any]:
    """The plan's rate, never the source's header's: for a variable-rate source that is the
    average, and ``INITIALIZE_FROM_SOURCE`` would drop the fast parts' frames. The plan's rate
    is at or above every sustained part, or an exact divisor of a faster source, so
    ``DUPLICATE_DROP`` only repeats a slower part's frames or keeps every n-th one; it never
    invents a frame (``INTERPOLATE`` and ``FRAMEFORMER`` blend neighbours into new ones)."""
    rate = plan.frame_rate
    return {
        "FramerateControl": "SPECIFIED",
        "FramerateConversionAlgorithm": "DUPLICATE_DROP",
        "FramerateNumerator": rate.numerator,
        "FramerateDenominator": rate.denominator,
    }


def _video(plan: TranscodePlan, rung: VideoRendition | None) -> dict[str, Any]:
    size = {"Width": rung.width, "Height": rung.height} if rung else {}
    return {
        **size,
        "ScalingBehavior": "DEFAULT",  # the plan's size already keeps the display aspect
        "AntiAlias": "ENABLED",
        "Sharpness": 50,
        **_preprocessors(plan),
        "CodecSettings": {
            "Codec": "H_264",
            "H264Settings": {
                **_rate_control(plan, rung),
                "GopSize": float(plan.gop_seconds),
                "GopSizeUnits": "SECONDS",
                "GopClosedCadence": 1,
                "SceneChangeDetect": "DISABLED",  # keyframes aligned across rungs
                "NumberBFramesBetweenReferenceFrames": 2,
                "CodecProfile": "HIGH",
                "CodecLevel": "AUTO",
                "QualityTuningLevel": "SINGLE_PASS_HQ",
                **_frame_rate(plan),
                "ParControl": "SPECIFIED",
                "ParNumerator": 1,
                "ParDenominator": 1,
            },
        },
    }


def _audio_tracks(plan: TranscodePlan) -> list[Track]:
    return [t for t in plan.tracks if t.type is TrackType.AUDIO and t.index is not None]


def _selector(plan: TranscodePlan, rendition: AudioRendition) -> str:
    """The audio selector of the source track a rendition encodes (one per kept track)."""
    indices = [t.index for t in _audio_tracks(plan)]
    if rendition.track not in indices:
        return AUDIO_SELECTOR  # a plan from before tracks: the source's default audio
    return f"Audio Selector {indices.index(rendition.track) + 1}"


def _audio_selectors(plan: TranscodePlan) -> dict[str, dict[str, Any]]:
    """One selector per kept audio track, by its track number among the source's audio
    tracks (1 = the first; skipped ones count too), with its language."""
    tracks = _audio_tracks(plan)
    if not tracks:
        return {AUDIO_SELECTOR: {"DefaultSelection": "DEFAULT"}}
    found = {t.index for t in tracks} | {s.index for s in plan.skipped if s.type == "audio"}
    every = sorted(i for i in found if i is not None)
    selectors = {}
    for k, track in enumerate(tracks):
        selector: dict[str, Any] = {
            "SelectorType": "TRACK",
            "Tracks": [every.index(track.index) + 1 if track.index in every else k + 1],
            "DefaultSelection": "DEFAULT" if track.default else "NOT_DEFAULT",
        }
        if track.language != UNDETERMINED:
            selector["CustomLanguageCode"] = language_alpha3(track.language)
        selectors[f"Audio Selector {k + 1}"] = selector
    return selectors


def _audio(plan: TranscodePlan, rendition: AudioRendition) -> dict[str, Any]:
    track = plan.track(rendition)
    channels = (track.channels or 2) if track else plan.source_channels
    description: dict[str, Any] = {
        "AudioSourceName": _selector(plan, rendition),
        "CodecSettings": {
            "Codec": "AAC",
            "AacSettings": {
                "Bitrate": rendition.bitrate,
                "CodingMode": "CODING_MODE_2_0",
                "SampleRate": rendition.sample_rate,
                "CodecProfile": "LC",
                "RateControlMode": "CBR",
            },
        },
    }
    if track is not None and track.language != UNDETERMINED:
        description["CustomLanguageCode"] = track.language  # RFC 5646 in streaming outputs
        description["LanguageCodeControl"] = "USE_CONFIGURED"
    if track is not None:
        description["StreamName"] = STREAM_NAME_UNSAFE.sub("", track.name)[:64].strip() or "Audio"
    if channels == 1:
        description["CodecSettings"]["AacSettings"]["CodingMode"] = "CODING_MODE_1_0"
    elif channels in DOWNMIX:
        left, right = DOWNMIX[channels]
        description["RemixSettings"] = {
            "ChannelsIn": channels,
            "ChannelsOut": 2,
            "ChannelMapping": {
                "OutputChannels": [{"InputChannels": left}, {"InputChannels": right}]
            },
        }
    return description


def _audio_cmfc(plan: TranscodePlan, audio: AudioRendition, grouped: bool) -> dict[str, Any]:
    """An audio output's place in the HLS groups: its group, whether it is the default,
    whether it describes the video."""
    track = plan.track(audio)
    if not grouped or track is None:
        return {}
    return {
        "CmfcSettings": {
            "AudioGroupId": audio.group_id,
            "AudioTrackType": "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT"
            if track.default
            else "ALTERNATE_AUDIO_AUTO_SELECT",
            "DescriptiveVideoServiceFlag": "FLAG"
            if Role.DESCRIPTION in track.roles
            else "DONT_FLAG",
        }
    }


def _audio_only_cmfc(plan: TranscodePlan, audio: AudioRendition, _grouped: bool) -> dict[str, Any]:
    """An audio-only asset's HLS master: the default track's renditions are the variants
    (``EXT-X-STREAM-INF``, one per bitrate, as FFmpeg's master has them); another track's
    are alternates in their bitrate's group. MediaConvert documents linking groups to
    video variants only (``AudioRenditionSets``): its DASH manifest lists every track, its
    HLS master may offer only the default one."""
    track = plan.track(audio)
    if track is None or track.default:
        return {"CmfcSettings": {"AudioTrackType": "AUDIO_ONLY_VARIANT_STREAM"}}
    return {
        "CmfcSettings": {
            "AudioGroupId": audio.group_id,
            "AudioTrackType": "ALTERNATE_AUDIO_AUTO_SELECT",
            "DescriptiveVideoServiceFlag": "DONT_FLAG",
        }
    }


def _m4a_groups(plan: TranscodePlan, base: str) -> list[dict[str, Any]]:
    """An audio-only asset's downloads: audio-only MP4 files (MediaConvert's MP4 container
    takes AAC alone) named ``.m4a``, one FILE group each so that each lands exactly on
    ``layout.m4a`` (a group's single output needs no name modifier, and MediaConvert would
    otherwise name the file after the source)."""
    return [
        {
            "Name": f"M4A {download.name}",
            "OutputGroupSettings": {
                "Type": "FILE_GROUP_SETTINGS",
                "FileGroupSettings": {
                    "Destination": f"{base}{layout.m4a(download.name).removesuffix('.m4a')}"
                },
            },
            "Outputs": [
                {
                    "Extension": "m4a",
                    "ContainerSettings": {
                        "Container": "MP4",
                        "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"},
                    },
                    "AudioDescriptions": [_audio(plan, download.audio)],
                }
            ],
        }
        for download in plan.downloads
    ]


def _cmaf_group(plan: TranscodePlan, destination: str) -> dict[str, Any]:
    automated = plan.automated_abr
    outputs: list[dict[str, Any]] = [
        {
            "NameModifier": f"_{rung.name}",
            "ContainerSettings": {"Container": "CMFC"},
            "VideoDescription": _video(plan, rung),
        }
        for rung in plan.video
    ]
    if automated:  # one video output: MediaConvert makes the ladder from it
        outputs = [
            {
                "NameModifier": "_video",
                "ContainerSettings": {"Container": "CMFC"},
                "VideoDescription": _video(plan, None),
            }
        ]
    grouped = bool(_audio_tracks(plan))
    if grouped and not automated:  # each rung plays with its group, as in FFmpeg's master
        for output, rung in zip(outputs, plan.video, strict=True):
            if rung.audio:
                output["ContainerSettings"]["CmfcSettings"] = {"AudioRenditionSets": rung.audio}
    cmfc = _audio_only_cmfc if plan.audio_only else _audio_cmfc
    outputs += [
        {
            "NameModifier": f"_{audio.name}",
            "ContainerSettings": {"Container": "CMFC", **cmfc(plan, audio, grouped)},
            "AudioDescriptions": [_audio(plan, audio)],
        }
        for audio in plan.audio
    ]
    group: dict[str, Any] = {"Name": "CMAF"}
    if automated:
        abr: dict[str, Any] = {
            "MaxAbrBitrate": automated["max_abr_bitrate"],
            "MaxRenditions": automated["max_renditions"],
        }
        if automated.get("min_abr_bitrate"):
            abr["MinAbrBitrate"] = automated["min_abr_bitrate"]
        group["AutomatedEncodingSettings"] = {"AbrSettings": abr}
    return {
        **group,
        "OutputGroupSettings": {
            "Type": "CMAF_GROUP_SETTINGS",
            "CmafGroupSettings": {
                "Destination": destination,
                "SegmentLength": plan.segment_seconds,
                "FragmentLength": plan.gop_seconds,
                "SegmentControl": "SEGMENTED_FILES",
                "WriteHlsManifest": "ENABLED",
                "WriteDashManifest": "ENABLED",
                "CodecSpecification": "RFC_6381",
                "StreamInfResolution": "INCLUDE",
                "ManifestDurationFormat": "FLOATING_POINT",
                # the on-demand profile requires SINGLE_FILE (botocore's model); segments
                # shared by HLS and DASH are the main profile's
                "MpdProfile": "MAIN_PROFILE",
                "ClientCache": "ENABLED",
            },
        },
        "Outputs": outputs,
    }


def _preview_group(plan: TranscodePlan, destination: str) -> dict[str, Any]:
    outputs = []
    for file in plan.files:
        output: dict[str, Any] = {
            "NameModifier": f"_{file.name}",
            "ContainerSettings": {
                "Container": "MP4",
                "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"},  # plays while loading
            },
            "VideoDescription": _video(plan, file.video),
        }
        if file.audio:
            output["AudioDescriptions"] = [_audio(plan, file.audio)]
        outputs.append(output)
    return {
        "Name": "MP4 preview",
        "OutputGroupSettings": {
            "Type": "FILE_GROUP_SETTINGS",
            "FileGroupSettings": {"Destination": destination},
        },
        "Outputs": outputs,
    }


def _frame_capture_group(
    name: str, destination: str, size: tuple[int, int], every: int, count: int, quality: int
) -> dict[str, Any]:
    """JPEGs of ``size``, one every ``every`` seconds, at most ``count``."""
    return {
        "Name": name,
        "OutputGroupSettings": {
            "Type": "FILE_GROUP_SETTINGS",
            "FileGroupSettings": {"Destination": destination},
        },
        "Outputs": [
            {
                "ContainerSettings": {"Container": "RAW"},
                "VideoDescription": {
                    "Width": size[0],
                    "Height": size[1],
                    "CodecSettings": {
                        "Codec": "FRAME_CAPTURE",
                        "FrameCaptureSettings": {
                            "FramerateNumerator": 1,
                            "FramerateDenominator": every,
                            "MaxCaptures": count,
                            "Quality": quality,
                        },
                    },
                },
            }
        ],
    }


def _poster_group(plan: TranscodePlan, destination: str) -> dict[str, Any]:
    # Candidates spread over the video; MediaConvertThumbnails keeps the most telling one.
    poster = (plan.poster.width, plan.poster.height)
    every = max(1, int(plan.duration / plan.poster.candidates))
    return _frame_capture_group(
        "Poster", destination, poster, every, count=plan.poster.candidates, quality=85
    )


def _tiles_group(plan: TranscodePlan, destination: str) -> dict[str, Any]:
    # The scrub sprite's tiles, one every interval; MediaConvertThumbnails sheets them.
    sprite = plan.sprite
    assert sprite is not None  # audio-only plans have no tiles group (build_job)
    return _frame_capture_group(
        "Sprite tiles",
        destination,
        (sprite.tile_width, sprite.tile_height),
        sprite.interval,
        count=sprite.count,
        quality=80,
    )


def _acceleration(plan: TranscodePlan, chunk_seconds: int) -> dict[str, Any]:
    """Accelerated transcoding for a long video, as the cluster would chunk it. ``PREFERRED``:
    MediaConvert checks the job against its documented requirements (supported input and
    output codecs and containers, zero-based timecodes, which ``build_job`` sets, an
    on-demand queue, which ``Default`` is) and runs an ineligible one at standard speed
    instead of failing it (``ENABLED`` would fail it). An audio-only job never qualifies
    (MediaConvert needs a video output), so it does not ask. It bills at the professional
    tier, which is why a short video, quick anyway, does not ask either."""
    if plan.audio_only or not worth_chunking(plan.duration, chunk_seconds):
        return {}
    return {"AccelerationSettings": {"Mode": "PREFERRED"}}


def build_job(
    job: TranscodeJob,
    *,
    role_arn: str,
    outputs_bucket: str,
    stack: str = "",
    chunk_seconds: int = DEFAULT_CHUNK_SECONDS,
) -> dict[str, Any]:
    """CreateJob's parameters for ``job``: what botocore's MediaConvert model accepts."""
    plan = job.plan
    base = f"s3://{outputs_bucket}/{job.output_prefix}"
    source: dict[str, Any] = {
        "FileInput": f"s3://{job.source_bucket}/{job.source_key}",
        "TimecodeSource": "ZEROBASED",
    }
    if not plan.audio_only:
        source["VideoSelector"] = _video_selector(plan)
    if plan.audio:
        source["AudioSelectors"] = _audio_selectors(plan)
    cmaf = _cmaf_group(plan, f"{base}{layout.STREAM}{DESTINATION}")
    if captions := caption_selectors(plan, base):  # text tracks: mediaconvert_captions
        source["CaptionSelectors"] = captions
        cmaf["Outputs"] += cmaf_caption_outputs(plan)
    if plan.audio_only:  # no pictures: the waveform is drawn when the job completes
        groups = [cmaf, *_m4a_groups(plan, base)]
    else:
        groups = [
            cmaf,
            _preview_group(plan, f"{base}{layout.MP4}"),
            _poster_group(plan, f"{base}{layout.POSTER_CANDIDATES}poster"),
            _tiles_group(plan, f"{base}{layout.SPRITE_TILES}tile"),
            *download_groups(plan, base),
        ]
    metadata = {"assetId": job.asset_id, "jobId": job.job_id}
    if stack:
        metadata["stack"] = stack
    return {
        "Role": role_arn,
        "ClientRequestToken": job.job_id,
        "UserMetadata": metadata,
        "StatusUpdateInterval": "SECONDS_10",
        **_acceleration(plan, chunk_seconds),
        "Settings": {
            "TimecodeConfig": {"Source": "ZEROBASED"},
            "Inputs": [source],
            "OutputGroups": groups,
        },
    }


class MediaConvertJobSubmitter:
    def __init__(
        self,
        client: Any,
        *,
        role_arn: str,
        outputs_bucket: str,
        stack: str = "",
        chunk_seconds: int = DEFAULT_CHUNK_SECONDS,
    ) -> None:
        self.client = client
        self.role_arn = role_arn
        self.outputs_bucket = outputs_bucket
        self.stack = stack
        self.chunk_seconds = chunk_seconds

    @aws_call
    def submit(self, job: TranscodeJob) -> str:
        params = build_job(
            job,
            role_arn=self.role_arn,
            outputs_bucket=self.outputs_bucket,
            stack=self.stack,
            chunk_seconds=self.chunk_seconds,
        )
        runner_id = str(self.client.create_job(**params)["Job"]["Id"])
        log.info("asset %s: MediaConvert job %s", job.asset_id, runner_id)
        return runner_id

    @aws_call
    def find(self, job: TranscodeJob) -> str | None:
        """The MediaConvert job an earlier delivery created for ``job``, if any: the newest
        jobs first, back to when ``job`` was planned."""
        since = _parse(job.created_at) - CLOCK_SKEW if job.created_at else None
        request: dict[str, Any] = {"Order": "DESCENDING", "MaxResults": 20}
        for _ in range(LOOKUP_PAGES):
            page = self.client.list_jobs(**request)
            for listed in page.get("Jobs", []):
                if (listed.get("UserMetadata") or {}).get("jobId") == job.job_id:
                    log.info("asset %s: found MediaConvert job %s", job.asset_id, listed["Id"])
                    return str(listed["Id"])
                created = listed.get("CreatedAt")
                if since is not None and isinstance(created, datetime) and created < since:
                    return None
            if not page.get("NextToken"):
                return None
            request["NextToken"] = page["NextToken"]
        log.warning("asset %s: no MediaConvert job found in %d pages", job.asset_id, LOOKUP_PAGES)
        return None


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
