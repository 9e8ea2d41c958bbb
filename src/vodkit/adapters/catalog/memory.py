"""An in-memory catalog for unit tests: the pure transitions, applied under a lock."""

from __future__ import annotations

import threading
from typing import TypeVar

from ...domain.asset import Asset, AssetStatus, Job
from ...domain.errors import AssetNotFound
from ...domain.transitions import AssetRecord
from .records import Change, RecordCatalog

T = TypeVar("T")


class MemoryCatalog(RecordCatalog):
    def __init__(self) -> None:
        self.records: dict[str, AssetRecord] = {}
        self._lock = threading.RLock()

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        with self._lock:
            if asset.asset_id in self.records:
                return self.records[asset.asset_id].asset, False
            self.records[asset.asset_id] = AssetRecord(asset)
            return asset, True

    def get(self, asset_id: str) -> Asset | None:
        with self._lock:
            record = self.records.get(asset_id)
            return record.asset if record else None

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
    ) -> list[Asset]:
        with self._lock:
            rows = [
                r.asset
                for r in self.records.values()
                if (status is None or r.asset.status == status)
                and (uploader_id is None or r.asset.uploader_id == uploader_id)
            ]
        rows.sort(key=lambda a: (a.created_at, a.asset_id), reverse=True)
        return rows[:limit]

    def has_source(self, bucket: str, key: str) -> bool:
        with self._lock:
            return any(
                r.asset.source_bucket == bucket and r.asset.source_key == key
                for r in self.records.values()
            )

    def jobs(self, asset_id: str) -> list[Job]:
        with self._lock:
            record = self.records.get(asset_id)
            return list(record.jobs) if record else []

    def _apply(self, asset_id: str, change: Change[T]) -> T:
        with self._lock:
            record = self.records.get(asset_id)
            if record is None:
                raise AssetNotFound(f"no asset {asset_id}")
            updated, result = change(record)
            if updated is not None:
                self.records[asset_id] = updated
            return result
