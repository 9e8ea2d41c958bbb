"""The record a catalog keeps of every status change, written with the change itself.

Whoever must not miss one (webhooks) reads these in order, later: a crash between a
status change and its notification then loses nothing. A retry (FAILED -> PENDING)
records nothing of its own; the processing that follows it does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .asset import Asset, AssetStatus
from .tracks import TrackSource

UPDATED = "asset.updated"  # its sidecar captions changed, its status did not

EVENT_TYPES = {
    AssetStatus.PENDING: "asset.created",
    AssetStatus.PROCESSING: "asset.processing",
    AssetStatus.COMPLETED: "asset.completed",
    AssetStatus.FAILED: "asset.failed",
    AssetStatus.DELETED: "asset.deleted",
}


@dataclass(frozen=True)
class AssetEvent:
    type: str
    asset_id: str
    uploader_id: str
    at: str
    asset: dict[str, Any]  # the asset's item as the change left it
    event_id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")
    seq: int = 0  # the catalog's order, once recorded


def event_for(before: Asset | None, after: Asset) -> AssetEvent | None:
    """What a change from ``before`` (None: the asset is new) to ``after`` records."""
    kind = EVENT_TYPES[after.status]
    if before is not None and before.status is after.status:
        if _sidecars(before) == _sidecars(after):
            return None
        kind = UPDATED
    elif before is not None and after.status is AssetStatus.PENDING:
        return None
    return AssetEvent(
        type=kind,
        asset_id=after.asset_id,
        uploader_id=after.uploader_id,
        at=after.updated_at,
        asset=after.to_item(),
    )


def _sidecars(asset: Asset) -> list[object]:
    return [t for t in asset.tracks if t.source is TrackSource.SIDECAR]
