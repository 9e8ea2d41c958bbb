import json

import pytest

from vodkit.domain.asset import JobState
from vodkit.domain.errors import InvalidEvent
from vodkit.domain.events import JobStateChanged, ObjectCreated

# As S3 sends it through EventBridge: the key is URL-encoded.
S3_EVENT = {
    "version": "0",
    "id": "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "123456789012",
    "time": "2021-11-12T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:s3:::media-uploads"],
    "detail": {
        "version": "0",
        "bucket": {"name": "media-uploads"},
        "object": {
            "key": "uploads/alice/My+Clip+%281%29%2B%25.mp4",
            "size": 1234,
            "etag": "b1946ac92492d2347c6235b4d2611184",
            "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mc8cs",
            "sequencer": "617f08299329d189",
        },
        "reason": "PutObject",
    },
}


def test_object_created_decodes_the_key_exactly_once() -> None:
    event = ObjectCreated.from_eventbridge(S3_EVENT)
    assert event.key == "uploads/alice/My Clip (1)+%.mp4"
    assert (event.bucket, event.size) == ("media-uploads", 1234)
    assert event.version == "IYV3p45BT0ac8hjHg1houSdS1a.Mc8cs"
    again = ObjectCreated.from_eventbridge(json.loads(json.dumps(event.to_eventbridge())))
    assert again == event


def test_without_a_version_the_etag_identifies_the_object() -> None:
    event = ObjectCreated(bucket="b", key="uploads/a/x.mp4", size=1, etag="e")
    assert event.version == "e"
    body = event.to_eventbridge()
    assert body["detail-type"] == "Object Created" and body["source"] == "aws.s3"
    assert "version-id" not in body["detail"]["object"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(source="aws.ec2"),
        lambda e: e.update(detail="nope"),
        lambda e: e["detail"]["object"].update(size=-1),
        lambda e: e["detail"]["object"].update(size="12"),
        lambda e: e["detail"]["object"].pop("key"),
        lambda e: e["detail"]["bucket"].update(name=""),
        lambda e: e["detail"]["object"].update({"version-id": 7}),
    ],
)
def test_malformed_s3_events_are_refused(mutate: object) -> None:
    event = json.loads(json.dumps(S3_EVENT))
    mutate(event)  # type: ignore[operator]
    with pytest.raises(InvalidEvent):
        ObjectCreated.from_eventbridge(event)


def test_job_state_change_matches_mediaconvert_shape() -> None:
    mediaconvert = {
        "version": "0",
        "id": "x",
        "detail-type": "MediaConvert Job State Change",
        "source": "aws.mediaconvert",
        "time": "2026-01-01T00:00:00Z",
        "detail": {
            "timestamp": 1539284232123,
            "jobId": "1539284213095-ss3x7v",
            "status": "COMPLETE",
            "userMetadata": {"assetId": "a-1", "preset": "vodkit"},
            "outputGroupDetails": [
                {
                    "type": "CMAF_GROUP",
                    "playlistFilePaths": [
                        "s3://out/a-1/stream/master.m3u8",
                        "s3://out/a-1/stream/manifest.mpd",
                    ],
                    "outputDetails": [
                        {"outputFilePaths": ["s3://out/a-1/stream/master_en.vtt"]},  # captions
                        {"outputFilePaths": ["s3://out/a-1/stream/720p.m3u8"]},
                    ],
                },
                {  # a text track's plain download
                    "type": "FILE_GROUP",
                    "outputDetails": [{"outputFilePaths": ["s3://out/a-1/captions/en.vtt"]}],
                },
                {
                    "type": "FILE_GROUP",
                    "outputDetails": [
                        {"outputFilePaths": ["s3://out/a-1/mp4/preview.mp4"], "durationInMs": 3000},
                        {"outputFilePaths": ["s3://out/a-1/thumbs/poster.0000000.jpg"]},
                    ],
                },
                {  # the sprite's tiles: frame captures too, but not the poster
                    "type": "FILE_GROUP",
                    "outputDetails": [
                        {"outputFilePaths": ["s3://out/a-1/thumbs/tiles/tile.0000009.jpg"]}
                    ],
                },
            ],
        },
    }
    event = JobStateChanged.from_eventbridge(mediaconvert)
    assert event.status is JobState.COMPLETE and event.asset_id == "a-1"
    assert event.outputs == {
        "hls": "a-1/stream/master.m3u8",
        "dash": "a-1/stream/manifest.mpd",
        "mp4": "a-1/mp4/preview.mp4",
        "poster": "a-1/thumbs/poster.0000000.jpg",
    }
    assert JobStateChanged.from_eventbridge(event.to_eventbridge()).outputs == event.outputs


def test_progress_and_errors_round_trip() -> None:
    progress = JobStateChanged("j1", JobState.PROGRESSING, "a1", percent=42.5, eta_seconds=3.0)
    parsed = JobStateChanged.from_eventbridge(progress.to_eventbridge())
    assert (parsed.percent, parsed.eta_seconds) == (42.5, 3.0)
    update = progress.to_eventbridge()
    update["detail"]["status"] = "STATUS_UPDATE"
    assert JobStateChanged.from_eventbridge(update).status is JobState.PROGRESSING
    error = JobStateChanged("j1", JobState.ERROR, "a1", error_code="1010", error_message="bad")
    body = error.to_eventbridge()["detail"]
    assert (body["errorCode"], body["errorMessage"]) == ("1010", "bad")
    assert JobStateChanged.from_eventbridge(error.to_eventbridge()).error_message == "bad"


@pytest.mark.parametrize(
    "detail",
    [
        {"jobId": "j", "status": "DONE", "userMetadata": {"assetId": "a"}},
        {"jobId": "j", "status": "COMPLETE", "userMetadata": {}},
        {"jobId": "../../x", "status": "COMPLETE", "userMetadata": {"assetId": "a"}},
        {"status": "COMPLETE", "userMetadata": {"assetId": "a"}},
    ],
)
def test_malformed_job_events_are_refused(detail: dict[str, object]) -> None:
    event = {
        "source": "aws.mediaconvert",
        "detail-type": "MediaConvert Job State Change",
        "detail": detail,
    }
    with pytest.raises(InvalidEvent):
        JobStateChanged.from_eventbridge(event)
