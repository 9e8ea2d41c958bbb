"""The worker loop: drain queues through their consumers, run background watchers.

Any number of workers may share one set of queues: a queue hands each message
to one worker at a time, and every handler is idempotent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from ..adapters.catalog.base import EventLog
from ..adapters.metrics.base import Metrics
from ..adapters.queue.base import Queue
from .consumer import Consumer
from .health import Health

log = logging.getLogger(__name__)
GAUGE_PERIOD = 5.0
WORKER = f"{socket.gethostname()}:{os.getpid()}"
Background = Callable[[threading.Event], None]  # runs until the event is set


class Worker:
    def __init__(
        self,
        consumers: Sequence[Consumer],
        *,
        queues: Mapping[str, Queue],
        metrics: Metrics,
        catalog: EventLog | None = None,
        poll_interval: float = 0.5,
        background: Sequence[Background] = (),
        prepare: Callable[[], object] = lambda: None,
    ) -> None:
        self.consumers = consumers
        # the queues' gauges and the catalog's counters, as the API reports them
        self.health = Health(queues, metrics, catalog=catalog)
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.background = background  # the upload watcher, where a store needs one
        self.prepare = prepare  # run once before the first message (clean stale work)
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

    def run(self, stop: threading.Event, *, until: Callable[[], bool] | None = None) -> None:
        self.prepare()
        threads = [
            threading.Thread(target=task, args=(stop,), name="worker-background", daemon=True)
            for task in self.background
        ]
        for thread in threads:
            thread.start()
        try:
            while not stop.is_set() and not (until and until()):
                if not self.run_once():
                    stop.wait(self.poll_interval)
        finally:
            if threads:
                stop.set()
                for thread in threads:
                    thread.join(timeout=5)

    def _update_gauges(self) -> None:
        now = time.monotonic()
        if now - self._gauges_at < GAUGE_PERIOD:
            return
        self._gauges_at = now
        self.metrics.gauge("WorkerLastSeen", time.time(), worker=WORKER)
        self.health.report()
