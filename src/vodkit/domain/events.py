"""Events, in the JSON shapes of the original design's EventBridge events.

``ObjectCreated`` is S3's "Object Created" event (keys URL-encoded in JSON,
decoded exactly once here); ``JobStateChanged`` is MediaConvert's "Job State
Change" event. Parsing treats every field as hostile: wrong types, missing
fields and absurd sizes raise ``InvalidEvent``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from .asset import PHASES, AssetStatus, JobState
from .errors import InvalidEvent
from .layout import format_of

S3_SOURCE = "aws.s3"
S3_DETAIL_TYPE = "Object Created"
MEDIACONVERT_SOURCE = "aws.mediaconvert"
MEDIACONVERT_DETAIL_TYPE = "MediaConvert Job State Change"
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
MAX_ERROR_MESSAGE = 1000


def _field(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise InvalidEvent(f"the event has no {'.'.join(path)}")
        data = data[name]
    return data


def _text(data: Any, *path: str, pattern: re.Pattern[str] | None = None) -> str:
    value = _field(data, *path)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"the event's {'.'.join(path)} must be a non-empty string")
    if pattern is not None and not pattern.fullmatch(value):
        raise InvalidEvent(f"the event's {'.'.join(path)} is not a valid identifier")
    return value


def _optional_text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _envelope(source: str, detail_type: str, time: str, resources: list[str]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "000000000000",
        "time": time,
        "region": "local",
        "resources": resources,
    }


def _check_envelope(event: Any, source: str, detail_type: str) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidEvent("the event must be a JSON object")
    if event.get("source") != source or event.get("detail-type") != detail_type:
        raise InvalidEvent(f"expected a {source} '{detail_type}' event")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("the event has no detail object")
    return detail


@dataclass(frozen=True)
class ObjectCreated:
    """An object landed in the uploads store. ``key`` is decoded."""

    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None = None
    sequencer: str = ""
    time: str = ""

    @property
    def version(self) -> str:
        """What identifies this exact object: the version id, else the etag."""
        return self.version_id or self.etag

    def to_eventbridge(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "key": quote_plus(self.key, safe="/"),
            "size": self.size,
            "etag": self.etag,
            "sequencer": self.sequencer,
        }
        if self.version_id:
            obj["version-id"] = self.version_id
        event = _envelope(S3_SOURCE, S3_DETAIL_TYPE, self.time, [f"arn:aws:s3:::{self.bucket}"])
        event["detail"] = {
            "version": "0",
            "bucket": {"name": self.bucket},
            "object": obj,
            "reason": "PutObject",
        }
        return event

    @classmethod
    def from_eventbridge(cls, event: Any) -> ObjectCreated:
        detail = _check_envelope(event, S3_SOURCE, S3_DETAIL_TYPE)
        bucket = _text(detail, "bucket", "name")
        raw_key = _text(detail, "object", "key")
        size = _field(detail, "object", "size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidEvent("the event's object.size must be a non-negative integer")
        obj = detail["object"]
        version_id = obj.get("version-id")
        if version_id is not None and not isinstance(version_id, str):
            raise InvalidEvent("the event's object.version-id must be a string")
        return cls(
            bucket=bucket,
            key=unquote_plus(raw_key),  # S3 URL-encodes keys in events: decode exactly once
            size=size,
            etag=_optional_text(obj, "etag"),
            version_id=version_id or None,
            sequencer=_optional_text(obj, "sequencer"),
            time=_optional_text(event, "time"),
        )


@dataclass(frozen=True)
class JobStateChanged:
    """A transcode job moved: PROGRESSING (with percent), COMPLETE, ERROR or CANCELED."""

    job_id: str
    status: JobState
    asset_id: str
    preset: str = ""
    percent: float | None = None  # of its phase
    eta_seconds: float | None = None
    phase: str = ""  # probing, analysing, encoding or packaging
    outputs: dict[str, str] = field(default_factory=dict)  # format -> object key
    error_code: str = ""
    error_message: str = ""
    time: str = ""

    def to_eventbridge(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "jobId": self.job_id,
            "status": str(self.status),
            "userMetadata": {"assetId": self.asset_id, "jobId": self.job_id, "preset": self.preset},
        }
        if self.percent is not None:
            progress: dict[str, Any] = {"jobPercentComplete": round(self.percent, 1)}
            if self.eta_seconds is not None:
                progress["etaSeconds"] = round(self.eta_seconds, 1)
            if self.phase:
                progress["currentPhase"] = self.phase
            detail["jobProgress"] = progress
        if self.status is JobState.COMPLETE:
            detail["outputGroupDetails"] = _output_group_details(self.outputs)
        if self.status in (JobState.ERROR, JobState.CANCELED):
            detail["errorCode"] = self.error_code
            detail["errorMessage"] = self.error_message
        event = _envelope(MEDIACONVERT_SOURCE, MEDIACONVERT_DETAIL_TYPE, self.time, [])
        event["detail"] = detail
        return event

    @classmethod
    def from_eventbridge(cls, event: Any) -> JobStateChanged:
        detail = _check_envelope(event, MEDIACONVERT_SOURCE, MEDIACONVERT_DETAIL_TYPE)
        raw_status = _text(detail, "status")
        if raw_status == "STATUS_UPDATE":  # MediaConvert's progress event
            raw_status = "PROGRESSING"
        try:
            status = JobState(raw_status)
        except ValueError as exc:
            raise InvalidEvent("the event's status is not a MediaConvert job status") from exc
        progress = detail.get("jobProgress")
        percent = eta = None
        phase = ""
        if isinstance(progress, dict):
            percent = _number(progress.get("jobPercentComplete"), 0, 100)
            eta = _number(progress.get("etaSeconds"), 0, 10**7)
            phase = _phase(progress.get("currentPhase"))
        metadata = _field(detail, "userMetadata")
        # vodkit's job id travels in userMetadata: MediaConvert's own jobId is another id
        ours = "jobId" in metadata if isinstance(metadata, dict) else False
        return cls(
            job_id=_text(metadata if ours else detail, "jobId", pattern=TOKEN),
            status=status,
            asset_id=_text(detail, "userMetadata", "assetId", pattern=TOKEN),
            preset=_optional_text(detail["userMetadata"], "preset")[:64],
            percent=percent,
            eta_seconds=eta,
            phase=phase,
            outputs=_outputs_from_details(detail.get("outputGroupDetails")),
            error_code=str(detail.get("errorCode", ""))[:64],
            error_message=str(detail.get("errorMessage", ""))[:MAX_ERROR_MESSAGE],
            time=_optional_text(event, "time"),
        )


# MediaConvert's phases, as vodkit names its own (which pass unchanged)
MEDIACONVERT_PHASES = {"PROBING": "probing", "TRANSCODING": "encoding", "UPLOADING": "packaging"}


def _phase(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return MEDIACONVERT_PHASES.get(value, value if value in PHASES else "")


def _number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(min(max(value, low), high))


def _output_group_details(outputs: dict[str, str]) -> list[dict[str, Any]]:
    playlists = [outputs[k] for k in ("hls", "dash") if k in outputs]
    files = [outputs[k] for k in ("mp4", "m4a", "poster", "sprite") if k in outputs]
    groups: list[dict[str, Any]] = []
    if playlists:
        groups.append({"type": "CMAF_GROUP", "playlistFilePaths": playlists, "outputDetails": []})
    if files:
        groups.append(
            {"type": "FILE_GROUP", "outputDetails": [{"outputFilePaths": [p]} for p in files]}
        )
    return groups


def _outputs_from_details(groups: Any) -> dict[str, str]:
    paths: list[str] = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict):
            continue
        paths += [p for p in group.get("playlistFilePaths") or [] if isinstance(p, str)]
        for detail in group.get("outputDetails") or []:
            if isinstance(detail, dict):
                paths += [p for p in detail.get("outputFilePaths") or [] if isinstance(p, str)]
    outputs: dict[str, str] = {}
    for path in paths:
        key = re.sub(r"^s3://[^/]+/", "", path)
        kind = format_of(key)
        if kind is not None and (kind == "poster" or kind not in outputs):
            outputs[kind] = key  # the first of each kind; the last frame capture
    return outputs


@dataclass(frozen=True)
class AssetStatusChanged:
    """An asset reached a new status (observers: metrics, webhooks, the UI)."""

    asset_id: str
    status: AssetStatus
    uploader_id: str = ""
    error_code: str = ""
    error_message: str = ""
