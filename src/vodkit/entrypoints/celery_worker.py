"""The cluster's worker process: a Celery worker, its hooks and its tasks, thin over services.

``vodkit worker`` on the cluster runs it (``CeleryWorker``): a prefork pool, one job per
child, on the chosen queues; in its main process, the footprint's background work (the
reaper, the webhook sender). The tasks, ``vodkit.ingest``, ``vodkit.transcode`` and
``vodkit.chunk``, call the footprint's handlers under the one retry policy
(``services.retries``): a failed task is tried again after its backoff (its message
requeued, counted by the broker), and dead-lettered by the task itself with the error as its
reason on its last failure; bad input is no failure here (the asset ends FAILED with the
reason, the message is acknowledged). ``ingest`` and ``chunk`` are acknowledged once done;
``transcode`` as it starts, its job held by a lease in the catalog instead
(``services.leases``).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..domain.errors import ConfigError, TransientError
from ..services.processing import BrokerWork, Handler
from ..services.transcode import process_dir_name

log = logging.getLogger(__name__)


class CeleryWorker:
    def __init__(self, work: BrokerWork, queues: Sequence[str]) -> None:
        unknown = sorted(set(queues) - set(work.queues))
        if unknown:
            raise ConfigError(
                f"no queue {', '.join(unknown)}; the queues are {', '.join(work.queues)}"
            )
        self.work = work
        self.queues = list(queues) or list(work.queues)

    def run(self, stop: threading.Event) -> None:
        from celery.signals import worker_process_init, worker_process_shutdown, worker_ready

        work = self.work
        register(work)
        if not prepared(work, stop):
            return
        worker_process_init.connect(lambda **_: private_tempdir(work.work_root), weak=False)
        worker_process_shutdown.connect(lambda **_: drop_tempdir(), weak=False)

        def start_background(**_: Any) -> None:  # once the pool's children are forked
            for task in work.background:
                threading.Thread(target=task, args=(stop,), daemon=True).start()

        worker_ready.connect(start_background, weak=False)
        name = f"{'+'.join(self.queues)}-{os.getpid()}@{socket.gethostname()}"
        worker = work.broker.Worker(
            queues=self.queues, concurrency=work.concurrency, pool="prefork", hostname=name,
            without_gossip=True, without_mingle=True, loglevel="WARNING", quiet=True,
        )  # fmt: skip
        try:
            worker.start()
        finally:
            stop.set()
            work.finish()
        if worker.exitcode:  # Celery gave up (the broker refused it...): say so to a supervisor
            raise SystemExit(worker.exitcode)


def prepared(work: BrokerWork, stop: threading.Event, *, most: float = 30.0) -> bool:
    """Prepare (declare the queues...), waiting out a broker that is down, as Celery's own
    start does: a worker (re)started during the broker's restart must not exit, or nothing
    restarts it but a supervisor. False if stopped first."""
    attempt = 0
    while True:
        try:
            work.prepare()
            return True
        except TransientError as exc:
            attempt += 1
            delay = min(most, 2.0 * attempt)
            log.warning("%s; trying again in %.0f s", exc, delay)
            if stop.wait(delay):
                return False


def private_tempdir(work_root: Path) -> Path:
    """A pool child's temporary files (probes, samples) inside the work root, named as work
    directories are, so that what a killed child left is reaped with them."""
    path = work_root / process_dir_name("tmp")
    path.mkdir(parents=True)
    tempfile.tempdir = str(path)
    return path


def drop_tempdir() -> None:
    if tempfile.tempdir is not None:
        shutil.rmtree(tempfile.tempdir, ignore_errors=True)
        tempfile.tempdir = None


def register(work: BrokerWork) -> None:
    """Define the tasks on the broker's app; the handlers are built once per pool child."""
    from celery import Celery
    from celery.exceptions import Reject

    app: Celery = work.broker
    retries = work.retries
    built: dict[str, Handler] = {}

    def run(task: Any, queue: str, body: str, attempt: int) -> None:
        """Handle ``body``; on its last allowed failure, dead-letter it with the error."""
        if not built:
            built.update(work.handlers())
        try:
            built[queue](body)
        except Exception as exc:
            error = retries.failed(queue, task.request.id, attempt, exc)
            if retries.exhausted(attempt):
                work.dead_letter(queue, task.request.id, body, error, attempt)
                work.gave_up(queue, body, error)
                return
            raise Retry(error, retries.delay(attempt)) from exc

    @app.task(
        name="vodkit.ingest", bind=True, shared=False, acks_late=True, reject_on_worker_lost=True
    )
    def ingest(self: Any, body: str) -> None:
        # acknowledged once the catalog has it: a worker that dies hands it back, counted
        try:
            run(self, "ingest", body, int(self.request.get("x-delivery-count") or 0) + 1)
        except Retry as again:
            time.sleep(again.delay)
            raise Reject(again.error, requeue=True) from again

    @app.task(
        name="vodkit.chunk", bind=True, shared=False, acks_late=True, reject_on_worker_lost=True
    )
    def chunk(self: Any, body: str) -> None:
        # a piece of a chunked transcode: acknowledged once done, so a worker that dies
        # mid-chunk hands that chunk back (counted: the queue's delivery limit holds)
        try:
            run(self, "chunks", body, int(self.request.get("x-delivery-count") or 0) + 1)
        except Retry as again:
            time.sleep(again.delay)
            raise Reject(again.error, requeue=True) from again

    @app.task(name="vodkit.transcode", bind=True, shared=False, acks_late=False)
    def transcode(self: Any, body: str) -> None:
        # acknowledged as it starts: the job's lease, not the delivery, keeps it (leases.py)
        try:
            run(self, "transcode", body, self.request.retries + 1)
        except Retry as again:
            # whole seconds: the broker's delayed delivery (on quorum queues) takes no less
            countdown = max(1, round(again.delay))
            raise self.retry(countdown=countdown, max_retries=retries.attempts) from again


class Retry(Exception):
    def __init__(self, error: str, delay: float) -> None:
        super().__init__(error)
        self.error = error
        self.delay = delay
