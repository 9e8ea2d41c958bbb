"""Text tracks on the AWS footprint, on S3 (a moto server) with the DynamoDB catalog: a caption
added to a COMPLETED asset republishes MediaConvert's own manifests (``stream/master.m3u8``
and ``stream/master.mpd``, with its WebVTT track) with no second MediaConvert job and no media
touched; the issue's MKV's ASS track is made WebVTT by the ingest, where the job reads it."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import validate_parameters

from tests.aws_stack import dynamodb_catalog
from tests.conftest import AwsSession
from tests.integration.test_mediaconvert_job_sources import _issue_mkv
from tests.unit.test_mediaconvert_captions import CREATE_JOB, MKV, plan_of, strictly_valid
from vodkit.adapters.events.inprocess import InProcessEventBus
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.storage.s3 import S3ObjectStore
from vodkit.adapters.transcoder.base import Finishers
from vodkit.adapters.transcoder.mediaconvert import build_job
from vodkit.adapters.transcoder.mediaconvert_manifests import MediaConvertManifests
from vodkit.adapters.transcoder.mediaconvert_thumbs import MediaConvertThumbnails
from vodkit.adapters.transcoder.memory import MemoryJobSubmitter
from vodkit.adapters.transcoder.pyav_text import PyavTextConverter
from vodkit.domain import layout
from vodkit.domain.asset import Asset, AssetStatus, Job, JobState
from vodkit.domain.captions import parse_captions
from vodkit.domain.events import JobStateChanged, ObjectCreated
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import PlanningRules
from vodkit.domain.plan import MEDIACONVERT
from vodkit.domain.subtitles import MPD_NS
from vodkit.domain.tracks import Tracks, TrackType
from vodkit.services.captions import CaptionService, sidecar
from vodkit.services.ingest import IngestOrchestrator
from vodkit.services.status import StatusProcessor
from vodkit.services.text_conversion import TextConversion, unconverted

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 7, tzinfo=UTC)
SRT = b"1\n00:00:01,000 --> 00:00:02,000\nBonjour <img src=x onerror=alert(1)>\n"
# What a MediaConvert CMAF group writes with one WebVTT caption output (its shape: names
# after the destination ``master``, the caption track in its own SUBTITLES group and text
# AdaptationSet, the media in numbered .cmfv/.cmfa segments).
MC_MASTER = """#EXTM3U
#EXT-X-VERSION:4
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_128k",LANGUAGE="en",NAME="English",AUTOSELECT=YES,\
DEFAULT=YES,CHANNELS="2",URI="master_audio_128k_en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_128k",LANGUAGE="fr",NAME="Francais",AUTOSELECT=YES,\
DEFAULT=NO,CHANNELS="2",URI="master_audio_128k_fr.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",AUTOSELECT=YES,\
DEFAULT=YES,FORCED=NO,URI="master_en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=3200000,AVERAGE-BANDWIDTH=2800000,CODECS="avc1.64001f,mp4a.40.2",\
RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio_128k",SUBTITLES="subs"
master_720p.m3u8
"""
MC_MPD = """<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xmlns:cenc="urn:mpeg:cenc:2013" type="static" minBufferTime="PT12S" \
profiles="urn:mpeg:dash:profile:isoff-main:2011" mediaPresentationDuration="PT12.000S">
  <Period start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true">
      <Representation id="1" width="1280" height="720" bandwidth="3200000" codecs="avc1.64001f">
        <SegmentTemplate timescale="90000" media="master_720p_$Number%09d$.cmfv" \
initialization="master_720p_init.cmfv" duration="540000" startNumber="1"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" lang="en" mimeType="audio/mp4">
      <Representation id="2" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000">
        <SegmentTemplate timescale="48000" media="master_audio_128k_en_$Number%09d$.cmfa" \
initialization="master_audio_128k_en_init.cmfa" duration="288000" startNumber="1"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="3" contentType="text" lang="en" mimeType="text/vtt">
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>
      <Representation id="3" bandwidth="0"><BaseURL>master_en.vtt</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>
"""
MEDIA = (
    "stream/master_720p_000000001.cmfv",
    "stream/master_audio_128k_en_000000001.cmfa",
    "stream/master_en.vtt",
    "captions/en.vtt",  # the embedded track's download, the job's FILE group
)


def _completed(aws: AwsSession) -> tuple[CaptionService, S3ObjectStore, Asset]:
    client = aws.client("s3")
    bucket = f"outputs-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    # versioned, as the stack's: a rewrite gets a new version id even with the same bytes
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    store, catalog = S3ObjectStore(client, bucket), dynamodb_catalog(aws)
    # English and French audio, English SubRip kept, French ASS skipped (not converted)
    plan = unconverted(plan_of(MKV))
    asset = Asset.new(
        asset_id="a-1", uploader_id="u", source_key="uploads/u/a.mkv", source_bucket="up",
        source_version="v", filename="a.mkv", file_size=1, now=T0,
    )  # fmt: skip
    catalog.create(asset)
    catalog.start_processing(
        "a-1", [Job("j-1", JobState.SUBMITTED, request={})], formats=["hls", "dash"],
        renditions=[], now=T0, duration=plan.duration, tracks=Tracks(plan.tracks, plan.skipped),
    )  # fmt: skip
    for key, text in (("stream/master.m3u8", MC_MASTER), ("stream/master.mpd", MC_MPD)):
        store.put_stream(f"a-1/{key}", io.BytesIO(text.encode()))
    for key in MEDIA:
        store.put_stream(f"a-1/{key}", io.BytesIO(b"WEBVTT\n" if key.endswith(".vtt") else b"m"))
    completed = JobStateChanged.from_eventbridge(
        {
            "detail-type": "MediaConvert Job State Change",
            "source": "aws.mediaconvert",
            "detail": {
                "jobId": "1700000000000-abcdef",
                "status": "COMPLETE",
                "userMetadata": {"assetId": "a-1", "jobId": "j-1"},
                "outputGroupDetails": [
                    {
                        "type": "CMAF_GROUP",
                        "playlistFilePaths": [
                            f"s3://{bucket}/a-1/stream/master.m3u8",
                            f"s3://{bucket}/a-1/stream/master.mpd",
                        ],
                        "outputDetails": [
                            {"outputFilePaths": [f"s3://{bucket}/a-1/stream/master_en.vtt"]}
                        ],
                    },
                    {
                        "type": "FILE_GROUP",
                        "outputDetails": [
                            {"outputFilePaths": [f"s3://{bucket}/a-1/captions/en.vtt"]}
                        ],
                    },
                ],
            },
        }
    )
    assert completed.outputs == {"hls": "a-1/stream/master.m3u8", "dash": "a-1/stream/master.mpd"}
    catalog.complete_job("a-1", "j-1", completed.outputs, T0)
    found = catalog.get("a-1")
    assert found is not None
    return CaptionService(store, catalog, clock=lambda: T0), store, found


def _read(store: S3ObjectStore, key: str) -> str:
    with store.open(key) as stream:
        return stream.read().decode()


def _text_sets(mpd: str) -> list[tuple[str | None, str | None]]:
    sets = ET.fromstring(mpd).iter(f"{{{MPD_NS}}}AdaptationSet")
    return [
        (a.get("lang"), a.findtext(f".//{{{MPD_NS}}}BaseURL"))
        for a in sets
        if a.get("contentType") == "text"
    ]


def test_a_sidecar_on_a_completed_mediaconvert_asset_republishes_its_own_manifests(
    aws: AwsSession,
) -> None:
    service, store, asset = _completed(aws)
    before = {key: store.head(f"a-1/{key}") for key in MEDIA}
    assert all(info.version_id for info in before.values())

    service.put(asset, sidecar("fr", label="Français"), SRT)

    master = _read(store, "a-1/stream/master.m3u8")
    subtitles = [line for line in master.splitlines() if "TYPE=SUBTITLES" in line]
    assert [('LANGUAGE="en"' in s, "../captions/en.m3u8" in s) for s in subtitles[:1]] == [
        (True, True)
    ]  # MediaConvert's own track, now served from its download beside the sidecar's
    assert 'LANGUAGE="fr"' in subtitles[1] and 'URI="../captions/sidecar/fr.m3u8"' in subtitles[1]
    assert len(subtitles) == 2 and "master_en.m3u8" not in master
    (variant,) = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert variant.count("SUBTITLES=") == 1 and 'AUDIO="audio_128k"' in variant
    assert master.count("TYPE=AUDIO") == 2  # the audio renditions untouched
    mpd = _read(store, "a-1/stream/master.mpd")
    assert _text_sets(mpd) == [("en", "../captions/en.vtt"), ("fr", "../captions/sidecar/fr.vtt")]
    assert "master_720p_$Number%09d$.cmfv" in mpd  # the media's templates kept
    assert "WEBVTT" in _read(store, "a-1/captions/sidecar/fr.vtt")
    assert "&lt;img" in _read(store, "a-1/captions/sidecar/fr.vtt")  # the cue text is inert
    assert "#EXTINF:" in _read(store, "a-1/captions/sidecar/fr.m3u8")
    assert {key: store.head(f"a-1/{key}") for key in MEDIA} == before  # no re-encode

    changed = service.catalog.get("a-1")
    assert changed is not None
    service.remove(changed, "fr")
    mpd = _read(store, "a-1/stream/master.mpd")
    assert _text_sets(mpd) == [("en", "../captions/en.vtt")]
    assert "captions/fr" not in _read(store, "a-1/stream/master.m3u8")
    assert sorted(o.key for o in store.list("a-1/captions/")) == [
        "a-1/captions/en.m3u8",  # the embedded track's playlist, written at the first change
        "a-1/captions/en.vtt",
    ]
    assert layout.format_of("stream/master_en.vtt") is None  # never taken for the sprite


def _bucket(aws: AwsSession, name: str) -> S3ObjectStore:
    client = aws.client("s3")
    bucket = f"{name}-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3ObjectStore(client, bucket)


def _ingest(aws: AwsSession, source: Path, max_source_bytes: int) -> tuple[Asset, Any]:
    uploads, outputs = _bucket(aws, "uploads"), _bucket(aws, "outputs")
    info = uploads.put_file("uploads/alice/issue.mkv", source)
    submitter = MemoryJobSubmitter()
    orchestrator = IngestOrchestrator(
        uploads=uploads, catalog=dynamodb_catalog(aws), prober=PyavProber(),
        submitter=submitter, presets=load_presets(default_presets_path()),
        bus=InProcessEventBus(), rules=PlanningRules(encoder=MEDIACONVERT),
        text_conversion=TextConversion(
            uploads=uploads, outputs=outputs, converter=PyavTextConverter(),
            max_source_bytes=max_source_bytes,
        ),
    )  # fmt: skip
    asset = orchestrator.handle(
        ObjectCreated(uploads.bucket, info.key, info.size, info.etag, time="2026-12-07T00:00Z")
    )
    assert asset.status is AssetStatus.PROCESSING, asset.errors
    (job,) = submitter.jobs.values()
    params = build_job(
        job, role_arn="arn:aws:iam::123456789012:role/MC", outputs_bucket=outputs.bucket
    )
    validate_parameters(params, CREATE_JOB.input_shape)
    strictly_valid(params, CREATE_JOB.input_shape)
    return asset, (outputs, params)


def test_the_ingest_makes_the_mkvs_ass_track_webvtt_where_the_job_reads_it(
    aws: AwsSession, tmp_path: Path
) -> None:
    asset, (outputs, params) = _ingest(aws, _issue_mkv(tmp_path), max_source_bytes=1024**3)
    assert [
        (t.language, t.codec) for t in [t for t in asset.tracks if t.type is TrackType.TEXT]
    ] == [
        ("en", "subrip"),
        ("fr", "ass"),
    ]
    assert asset.skipped == ()
    french = f"{asset.asset_id}/captions/fr.vtt"
    vtt = _read(outputs, french)
    assert vtt.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
    ((start, end, text),) = [(c.start, c.end, c.text) for c in parse_captions(vtt.encode())]
    assert (start, end, text) == (1.5, 3.0, "Bonjour\nle monde")  # tests.captioned.ASS's cue
    selectors = params["Settings"]["Inputs"][0]["CaptionSelectors"]
    assert selectors == {
        "Captions Selector 1": {
            "SourceSettings": {"SourceType": "SRT", "TrackSourceSettings": {"StreamNumber": 4}}
        },
        "Captions Selector 2": {
            "SourceSettings": {
                "SourceType": "WEBVTT",
                "FileSourceSettings": {"SourceFile": f"s3://{outputs.bucket}/{french}"},
            }
        },
    }
    assert len(params["Settings"]["Inputs"][0]["AudioSelectors"]) == 2
    (cmaf,) = [g for g in params["Settings"]["OutputGroups"] if g["Name"] == "CMAF"]
    languages = [
        d["CustomLanguageCode"] for o in cmaf["Outputs"] for d in o.get("CaptionDescriptions", [])
    ]
    assert languages == ["en", "fr"]  # a WebVTT output per language
    # only the English download is left to the job: the French one is the ingest's file
    assert [o.key for o in outputs.list(f"{asset.asset_id}/")] == [french]


def test_an_upload_too_large_to_read_for_its_text_completes_without_the_track(
    aws: AwsSession, tmp_path: Path
) -> None:
    asset, (outputs, params) = _ingest(aws, _issue_mkv(tmp_path), max_source_bytes=1000)
    (skipped,) = asset.skipped
    assert (skipped.language, skipped.codec, skipped.index) == ("fr", "ass", 4)
    assert "read only from uploads of up to" in skipped.reason
    assert [t.codec for t in [t for t in asset.tracks if t.type is TrackType.TEXT]] == ["subrip"]
    assert list(outputs.list(f"{asset.asset_id}/")) == []
    assert len(params["Settings"]["Inputs"][0]["CaptionSelectors"]) == 1


def test_a_completed_job_s_manifests_get_vodkits_text_track_policy_once(
    aws: AwsSession,
) -> None:
    client = aws.client("s3")
    bucket = f"outputs-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    store, catalog = S3ObjectStore(client, bucket), dynamodb_catalog(aws)
    plan = plan_of(MKV)  # English SubRip and French ASS (made WebVTT at ingest), no default
    transcode = TranscodeJob("j-1", "a-1", "up", "uploads/u/a.mkv", plan)
    asset = Asset.new(
        asset_id="a-1", uploader_id="u", source_key="uploads/u/a.mkv", source_bucket="up",
        source_version="v", filename="a.mkv", file_size=1, now=T0,
    )  # fmt: skip
    catalog.create(asset)
    catalog.start_processing(
        "a-1", [Job("j-1", JobState.SUBMITTED, request=transcode.to_dict())],
        formats=["hls", "dash"], renditions=[], now=T0, duration=plan.duration,
        tracks=Tracks(plan.tracks, plan.skipped),
    )  # fmt: skip
    # MediaConvert marks its first caption output DEFAULT=YES, whatever the source said
    french = (
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Français",'
        'AUTOSELECT=YES,DEFAULT=NO,FORCED=NO,URI="master_fr.m3u8"\n'
    )
    master = MC_MASTER.replace("#EXT-X-STREAM-INF", french + "#EXT-X-STREAM-INF")
    for key, text in (("stream/master.m3u8", master), ("stream/master.mpd", MC_MPD)):
        store.put_stream(f"a-1/{key}", io.BytesIO(text.encode()))
    for key in ("captions/en.vtt", "captions/fr.vtt"):
        store.put_stream(f"a-1/{key}", io.BytesIO(b"WEBVTT\n"))
    finisher = Finishers(MediaConvertThumbnails(store), MediaConvertManifests(store))
    status = StatusProcessor(catalog=catalog, bus=InProcessEventBus(), finisher=finisher)
    completed = JobStateChanged(
        "j-1", JobState.COMPLETE, "a-1",
        outputs={"hls": "a-1/stream/master.m3u8", "dash": "a-1/stream/master.mpd"},
    )  # fmt: skip

    status.handle(completed)

    found = catalog.get("a-1")
    assert found is not None and found.status is AssetStatus.COMPLETED
    written = _read(store, "a-1/stream/master.m3u8")
    subtitles = [line for line in written.splitlines() if "TYPE=SUBTITLES" in line]
    assert [('URI="../captions/en.m3u8"' in s, "DEFAULT=NO" in s) for s in subtitles[:1]] == [
        (True, True)
    ]  # no text track is default in the source: none is in the master
    assert 'LANGUAGE="fr"' in subtitles[1] and 'URI="../captions/fr.m3u8"' in subtitles[1]
    assert len(subtitles) == 2 and "DEFAULT=YES" not in "".join(subtitles)
    assert _text_sets(_read(store, "a-1/stream/master.mpd")) == [
        ("en", "../captions/en.vtt"),
        ("fr", "../captions/fr.vtt"),
    ]
    assert "#EXTINF:" in _read(store, "a-1/captions/fr.m3u8")
    # idempotent: a redelivered event (or a later republish) writes the same manifests
    (job,) = catalog.jobs("a-1")
    MediaConvertManifests(store).finish("a-1", job)
    assert _read(store, "a-1/stream/master.m3u8") == written
