"""Assets as a user sees them: upload, list, view, retry. Every front door calls these.

An upload is stored under ``uploads/{uploaderId}/{filename}`` and announced the
way its footprint announces uploads (queued for ingest here, S3's own event on
AWS); its asset id is known at once, derived like the orchestrator derives it.
A retry always queues: no store announces an object that did not change.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from ..adapters.catalog.base import Catalog
from ..adapters.queue.base import Queue
from ..adapters.storage.base import ObjectInfo, ObjectStore, names_object
from ..domain import layout
from ..domain.asset import Asset, AssetStatus
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import (
    AssetNotFound,
    InvalidInput,
    NotRetryable,
    ObjectNotFound,
)
from ..domain.events import ObjectCreated
from ..domain.keys import asset_id_for, parse_upload_key, upload_key
from ..domain.view import AssetView
from .ingest import enqueue


def encode_cursor(asset: Asset) -> str:
    raw = json.dumps([asset.created_at, asset.asset_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, asset_id = json.loads(raw)
        if not (isinstance(created_at, str) and isinstance(asset_id, str)):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("the cursor is not one this API gave out") from exc
    return created_at, asset_id


class Announcer(Protocol):
    def announce(self, event: ObjectCreated) -> None:
        """Make sure the ingest orchestrator hears of a stored upload."""
        ...


@dataclass(frozen=True)
class Upload:
    asset_id: str
    key: str  # where it is in the uploads store
    size: int = 0


class AssetService:
    def __init__(
        self,
        *,
        uploads: ObjectStore,
        outputs: ObjectStore,
        catalog: Catalog,
        ingest_queue: Queue,
        announcer: Announcer,
        register: Callable[[ObjectCreated], object] = lambda event: None,
        clock: Clock = utcnow,
        chunks: Callable[[str], dict[str, int] | None] = lambda asset_id: None,
    ) -> None:
        self.uploads = uploads
        self.outputs = outputs
        self.catalog = catalog
        self.ingest_queue = ingest_queue
        self.announcer = announcer
        self.register = register  # records the asset PENDING at once
        self.clock = clock
        self.chunks = chunks  # a chunked transcode's chunks, by asset (the cluster's ledger)

    def upload_file(self, path: Path, uploader_id: str, filename: str | None = None) -> Upload:
        """Store a local file for ``uploader_id`` and announce it."""
        with path.open("rb") as stream:
            return self.upload_stream(stream, uploader_id, filename or path.name)

    def upload_stream(self, stream: BinaryIO, uploader_id: str, filename: str) -> Upload:
        key = upload_key(uploader_id, filename)  # InvalidKey: refused before anything is stored
        info = self.uploads.put_stream(key, stream)
        return Upload(self.announce(info), key, info.size)

    def move_in(
        self, path: Path, uploader_id: str, filename: str, upload_id: str, etag: str | None = None
    ) -> Upload:
        """Move a received file into the uploads store under a key of its own (the HTTP API:
        two uploads of one name are two assets) and announce it; ``etag``, if the caller
        hashed the file as it arrived, spares a store reading it again."""
        key = upload_key(uploader_id, filename, upload_id)
        info = self.uploads.move_file(key, path, etag=etag)
        return Upload(self.announce(info), key, info.size)

    def expected(self, upload: Upload) -> Asset:
        """The asset an upload becomes once ingest records it (moments after, as a rule)."""
        found = self.catalog.get(upload.asset_id)
        if found is not None:
            return found
        named = parse_upload_key(upload.key)
        return Asset.new(
            asset_id=upload.asset_id,
            uploader_id=named.uploader_id,
            source_key=upload.key,
            source_bucket=self.uploads.bucket,
            source_version="",
            filename=named.filename,
            file_size=upload.size,
            now=self.clock(),
        )

    def announce(self, info: ObjectInfo) -> str:
        """Tell ingest of an object in the uploads store; return its asset id."""
        event = ObjectCreated(
            bucket=self.uploads.bucket,
            key=info.key,
            size=info.size,
            etag=info.etag,
            version_id=info.version_id,
            time=isoformat(self.clock()),
        )
        self.announcer.announce(event)  # first: a PENDING asset is never left without its message
        self.register(event)
        return asset_id_for(event.bucket, event.key, event.version)

    def get(self, asset_id: str, *, deleted: bool = False) -> Asset:
        """The asset; a deleted one is as absent, unless ``deleted`` asks for tombstones."""
        asset = self.catalog.get(asset_id)
        if asset is None or (asset.status is AssetStatus.DELETED and not deleted):
            raise AssetNotFound(f"no asset {asset_id}")
        return asset

    def view(self, asset: Asset, *, internal: bool = True) -> AssetView:
        """The asset as shown; ``internal=False`` (the HTTP API): without the jobs but for
        the progress they give, and without the outputs' locations in the store."""
        processing = asset.status is AssetStatus.PROCESSING
        chunks = self.chunks(asset.asset_id) if processing else None
        if not internal:
            jobs = tuple(self.catalog.jobs(asset.asset_id)) if processing else ()
            return AssetView(asset, jobs, chunks=chunks)
        return AssetView(
            asset=asset,
            jobs=tuple(self.catalog.jobs(asset.asset_id)),
            locations={kind: self.outputs.locate(key) for kind, key in asset.outputs.items()},
            chunks=chunks,
        )

    def page(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[Asset], str | None]:
        """Newest first, deleted ones left out; and the cursor of the next page, if any.
        A cursor names the last asset shown, so pages stay put while assets are added."""
        before = decode_cursor(cursor) if cursor else None
        found: list[Asset] = []
        while len(found) <= limit:
            batch = self.catalog.query(
                status=status, uploader_id=uploader_id, limit=limit + 1, before=before
            )
            found += [a for a in batch if a.status is not AssetStatus.DELETED]
            if len(batch) <= limit:
                break
            before = (batch[-1].created_at, batch[-1].asset_id)
        shown = found[:limit]
        more = len(found) > limit
        return shown, encode_cursor(shown[-1]) if more and shown else None

    def delete(self, asset_id: str) -> None:
        """Forget the asset and remove its outputs and its upload; again, it does nothing new.
        A transcode still running sees the tombstone and removes what it published."""
        asset = self.get(asset_id, deleted=True)
        self.catalog.delete(asset_id, self.clock())
        for info in self.outputs.list(layout.prefix(asset_id)):
            self.outputs.delete(info.key)
        with contextlib.suppress(ObjectNotFound):
            stored = self.uploads.head(asset.source_key)
            version = asset.source_version
            if version and (
                version == stored.version_id or names_object(self.uploads, stored, version)
            ):
                self.uploads.delete(asset.source_key)  # not a newer upload under its key

    def retry(self, asset_id: str) -> Asset:
        """FAILED -> PENDING, and its upload queued for ingest again (same asset id).
        NotRetryable after a verdict on the file itself: the same reason would come back."""
        failed = self.catalog.get(asset_id)
        if failed is not None and failed.status is AssetStatus.FAILED and not failed.retryable:
            last = failed.errors[-1]  # the reason of its latest attempt
            raise NotRetryable(
                f"asset {asset_id} cannot be retried: {last.code}: {last.message}; "
                "a retry would read the same upload, so upload a new file instead"
            )
        asset = self.catalog.retry(asset_id, self.clock())
        event = ObjectCreated(
            bucket=asset.source_bucket,
            key=asset.source_key,
            size=asset.file_size,
            etag="",
            version_id=asset.source_version,
            time=isoformat(self.clock()),
        )
        enqueue(self.ingest_queue, event, attempt=asset.attempt)
        return asset
