"""``vodkit watch``: find objects written straight into an uploads bucket, and ingest them.

For stores that announce nothing themselves (an S3-compatible server without event
notifications). Each pass pages through the bucket's listing (never all of it in
memory) and announces every object the catalog does not know. Announcing is
idempotent: an asset's id is derived from the bucket, the key and the object's
version, so two watchers at once, or a watcher racing ``vodkit ingest``, queue the
same asset twice at worst, and ingest keeps one. Keys already known are remembered,
so later passes cost one listing and no catalog reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..adapters.catalog.base import SourceIndex
from ..adapters.storage.base import ObjectInfo, ObjectStore
from ..domain.errors import ConfigError, InvalidKey, ObjectNotFound, TransientError
from ..domain.keys import validate_key

log = logging.getLogger(__name__)
PREFIX = "uploads/"


@dataclass
class Pass:
    listed: int = 0
    announced: int = 0


class BucketWatch:
    def __init__(
        self,
        store: ObjectStore,
        catalog: object,
        *,
        announce: Callable[[ObjectInfo], str],
        interval: float = 10.0,
        prefix: str = PREFIX,
        on_pass: Callable[[Pass], None] = lambda done: None,
    ) -> None:
        if not isinstance(catalog, SourceIndex):
            raise ConfigError("this footprint's catalog cannot look uploads up by their key")
        self.store = store
        self.catalog = catalog
        self.announce = announce
        self.interval = interval
        self.prefix = prefix
        self.on_pass = on_pass
        self.known: set[str] = set()

    def scan(self) -> Pass:
        """One pass over the bucket: announce what the catalog does not know yet."""
        done = Pass()
        for listed in self.store.list(self.prefix):
            done.listed += 1
            key = listed.key
            if key in self.known:
                continue
            try:
                validate_key(key)
            except InvalidKey as exc:
                log.warning("ignoring %s in the uploads bucket: %s", ascii(key), exc)
                self.known.add(key)
                continue
            if self.catalog.has_source(self.store.bucket, key):
                self.known.add(key)
                continue
            try:
                info = self.store.head(key)  # the version id, which listings leave out
            except ObjectNotFound:
                continue  # deleted since it was listed
            asset_id = self.announce(info)
            self.known.add(key)
            done.announced += 1
            log.info("upload %s found in the bucket: asset %s", ascii(key), asset_id)
        return done

    def run(self, stop: threading.Event) -> None:
        """Scan every ``interval`` seconds until ``stop``; an unreachable store is retried."""
        while not stop.is_set():
            try:
                done = self.scan()
            except TransientError as exc:
                log.warning("the uploads bucket could not be listed, trying again: %s", exc)
            else:
                self.on_pass(done)
            stop.wait(self.interval)
