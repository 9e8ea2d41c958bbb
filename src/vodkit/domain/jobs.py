"""The transcode job: what the ingest orchestrator submits and a transcoder runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import layout
from .errors import InvalidEvent
from .plan import TranscodePlan


@dataclass(frozen=True)
class TranscodeJob:
    job_id: str
    asset_id: str
    source_bucket: str
    source_key: str
    plan: TranscodePlan
    created_at: str = ""  # when the orchestrator planned it: a runner's own ids are younger

    @property
    def output_prefix(self) -> str:
        return layout.prefix(self.asset_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobId": self.job_id,
            "assetId": self.asset_id,
            "source": {"bucket": self.source_bucket, "key": self.source_key},
            "plan": self.plan.to_dict(),
            "createdAt": self.created_at,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscodeJob:
        try:
            return cls(
                job_id=str(data["jobId"]),
                asset_id=str(data["assetId"]),
                source_bucket=str(data["source"]["bucket"]),
                source_key=str(data["source"]["key"]),
                plan=TranscodePlan.from_dict(data["plan"]),
                created_at=str(data.get("createdAt", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"malformed transcode job: {exc!r}") from exc
