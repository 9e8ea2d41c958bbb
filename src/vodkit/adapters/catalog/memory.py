"""An in-memory catalog for unit tests: the pure transitions, applied under a lock."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from typing import TypeVar

from ...domain.asset import Asset, AssetStatus, Job
from ...domain.errors import AssetNotFound
from ...domain.outbox import AssetEvent, event_for
from ...domain.transitions import AssetRecord
from .records import Change, RecordCatalog

T = TypeVar("T")


class MemoryCatalog(RecordCatalog):
    def __init__(self) -> None:
        self.records: dict[str, AssetRecord] = {}
        self.outbox: list[AssetEvent] = []
        self._lock = threading.RLock()

    def _record_event(self, before: Asset | None, after: Asset) -> None:
        if (event := event_for(before, after)) is not None:
            self.outbox.append(replace(event, seq=len(self.outbox) + 1))

    def counts(self) -> dict[str, int]:
        with self._lock:
            found: dict[str, int] = {}
            for r in self.records.values():
                found[str(r.asset.status)] = found.get(str(r.asset.status), 0) + 1
            return found

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(e.type for e in self.outbox))

    def events_after(self, seq: int, limit: int = 100) -> list[AssetEvent]:
        with self._lock:
            return [e for e in self.outbox if e.seq > seq][:limit]

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        with self._lock:
            if asset.asset_id in self.records:
                return self.records[asset.asset_id].asset, False
            self.records[asset.asset_id] = AssetRecord(asset)
            self._record_event(None, asset)
            return asset, True

    def get(self, asset_id: str) -> Asset | None:
        with self._lock:
            record = self.records.get(asset_id)
            return record.asset if record else None

    def has_source(self, bucket: str, key: str) -> bool:
        with self._lock:
            return any(
                (r.asset.source_bucket, r.asset.source_key) == (bucket, key)
                for r in self.records.values()
            )

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
        before: tuple[str, str] | None = None,
    ) -> list[Asset]:
        with self._lock:
            rows = [
                r.asset
                for r in self.records.values()
                if (status is None or r.asset.status == status)
                and (uploader_id is None or r.asset.uploader_id == uploader_id)
                and (before is None or (r.asset.created_at, r.asset.asset_id) < before)
            ]
        rows.sort(key=lambda a: (a.created_at, a.asset_id), reverse=True)
        return rows[:limit]

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
                self._record_event(record.asset, updated.asset)
            return result
