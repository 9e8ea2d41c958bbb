"""A caption added to a COMPLETED asset of the AWS footprint: MediaConvert's own manifests
(``stream/master.m3u8`` and ``stream/master.mpd``, with its WebVTT track) republished on S3
(a moto server) with the DynamoDB catalog, no second MediaConvert job and no media touched."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from tests.aws_stack import dynamodb_catalog
from tests.conftest import AwsSession
from tests.unit.test_mediaconvert_captions import MKV, plan_of
from vodkit.adapters.storage.s3 import S3ObjectStore
from vodkit.domain import layout
from vodkit.domain.asset import Asset, Job, JobState
from vodkit.domain.events import JobStateChanged
from vodkit.domain.subtitles import MPD_NS
from vodkit.domain.tracks import Tracks
from vodkit.services.captions import CaptionService, sidecar

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
    plan = plan_of(MKV)  # English and French audio, English SubRip kept, French ASS skipped
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
    assert 'LANGUAGE="fr"' in subtitles[1] and 'URI="../captions/fr.m3u8"' in subtitles[1]
    assert len(subtitles) == 2 and "master_en.m3u8" not in master
    (variant,) = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert variant.count("SUBTITLES=") == 1 and 'AUDIO="audio_128k"' in variant
    assert master.count("TYPE=AUDIO") == 2  # the audio renditions untouched
    mpd = _read(store, "a-1/stream/master.mpd")
    assert _text_sets(mpd) == [("en", "../captions/en.vtt"), ("fr", "../captions/fr.vtt")]
    assert "master_720p_$Number%09d$.cmfv" in mpd  # the media's templates kept
    assert "WEBVTT" in _read(store, "a-1/captions/fr.vtt")
    assert "&lt;img" in _read(store, "a-1/captions/fr.vtt")  # the cue text is inert
    assert "#EXTINF:" in _read(store, "a-1/captions/fr.m3u8")
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
