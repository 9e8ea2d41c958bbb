"""The embedded worker: drains the ingest and transcode queues, watches uploads.

Any number of workers may share one data directory: queues hand each message
to one worker at a time, and every handler is idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..adapters.storage.base import ObjectInfo
from ..adapters.storage.local import LocalObjectStore
from ..adapters.storage.watcher import UploadWatcher
from ..bootstrap import App
from ..services.consumer import Consumer
from ..services.transcode import remove_stale_workdirs

log = logging.getLogger(__name__)
GAUGE_PERIOD = 5.0


class Worker:
    def __init__(self, app: App) -> None:
        self.app = app
        backoff = app.settings.retry_backoff
        transcode_queue, self.transcode_service = app.local_transcoding()
        self.consumers = [
            Consumer(app.ingest_queue, app.orchestrator.handle_message, backoff=backoff),
            Consumer(transcode_queue, self.transcode_service.handle_message, backoff=backoff),
        ]
        self._gauges_at = 0.0

    def run_once(self) -> bool:
        """Process at most one message per queue; False when every queue was empty."""
        worked = False
        for consumer in self.consumers:
            worked = consumer.poll() or worked
        self._update_gauges()
        return worked

    def drain(self) -> None:
        while self.run_once():
            pass

    def run(
        self,
        stop: threading.Event,
        *,
        until: Callable[[], bool] | None = None,
        watch: bool = True,
    ) -> None:
        remove_stale_workdirs(self.transcode_service.work_root)
        watcher_thread = self._start_watcher(stop) if watch else None
        try:
            while not stop.is_set() and not (until and until()):
                if not self.run_once():
                    stop.wait(self.app.settings.poll_interval)
        finally:
            if watcher_thread is not None:
                stop.set()
                watcher_thread.join(timeout=5)

    def _start_watcher(self, stop: threading.Event) -> threading.Thread | None:
        store = self.app.uploads
        if not isinstance(store, LocalObjectStore):
            return None  # a remote store notifies through its own events

        def announce(info: ObjectInfo) -> None:
            asset_id = self.app.enqueue_upload(
                self.app.object_created(info.key, info.size, info.etag)
            )
            log.info("upload %s detected: asset %s", ascii(info.key), asset_id)

        watcher = UploadWatcher(
            store,
            announce,
            seen=lambda key: self.app.catalog.has_source(store.bucket, key),
            settle=self.app.settings.settle_seconds,
        )
        thread = threading.Thread(
            target=watcher.run, args=(stop,), name="upload-watcher", daemon=True
        )
        thread.start()
        return thread

    def _update_gauges(self) -> None:
        now = time.monotonic()
        if now - self._gauges_at < GAUGE_PERIOD:
            return
        self._gauges_at = now
        for name, queue in self.app.queues.items():
            depth = queue.depth()
            self.app.metrics.gauge("QueueDepth", depth.visible, queue=name)
            self.app.metrics.gauge("DeadLetters", depth.dead, queue=name)
