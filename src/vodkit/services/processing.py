"""Where transcode jobs run, as a command sees it: in a worker here, or elsewhere.

The embedded footprint runs its workers here (``LocalProcessing``): ``vodkit worker``
runs one, and ``ingest --wait`` processes the upload in this very process while it
follows the asset. Elsewhere jobs run remotely (``RemoteProcessing``): on AWS,
MediaConvert runs them and there is no worker to run; on the cluster, Celery workers
run them, started by ``vodkit worker`` through the broker's runtime that its
entrypoint hands in (``BrokerWork``, run by ``entrypoints.celery_worker``). Either
way, waiting only follows the catalog.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..domain.asset import Asset
from ..domain.errors import ConfigError, VodkitError
from .follow import Follower, ProgressCallback
from .retries import Retries
from .transcode import TranscodeService
from .worker import Background, Worker

Handler = Callable[[str], object]


class Runnable(Protocol):
    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set (or the process is told to stop)."""
        ...


@dataclass(frozen=True)
class BrokerWork:
    """What a worker process of a message broker's own runtime runs (the cluster's Celery
    workers): the footprint's services, for the entrypoint that starts the runtime."""

    broker: Any  # the broker's app (Celery's), opaque to the services
    queues: Sequence[str]  # every queue there is
    concurrency: int  # handlers at once, each in a pool child of its own
    handlers: Callable[[], Mapping[str, Handler]]  # by queue; built in each child, after fork
    retries: Retries
    # a message's last failure: queue, message id, body, error, attempts
    dead_letter: Callable[[str, str, str, str, int], None]
    background: Sequence[Background]  # in the main process, once the pool is up
    work_root: Path  # this machine's scratch
    prepare: Callable[[], object]  # before the pool starts (the queues exist, stale work gone)
    finish: Callable[[], object]  # once it stopped
    # a message's retries are spent (queue, body, error): what it was for fails with it
    gave_up: Callable[[str, str, str], object] = lambda queue, body, error: None


# an entrypoint's; handed how to build the work, so nothing is built where none can run
BrokerRuntime = Callable[[Callable[[], BrokerWork], Sequence[str]], Runnable]


def no_runtime(work: Callable[[], BrokerWork], queues: Sequence[str]) -> Runnable:
    raise ConfigError("this footprint's workers run in a process of their own: vodkit worker")


class Processing(Protocol):
    # whether a server may run a worker in a thread of its own (`vodkit serve`'s default)
    in_process: bool

    def check(self) -> None:
        """Fail fast, saying what to do, if jobs cannot run where they would."""
        ...

    def worker(
        self, *, watch: bool = True, queues: Sequence[str] = (), broker: BrokerRuntime = no_runtime
    ) -> Runnable:
        """What ``vodkit worker`` runs (``watch``: pick up files dropped into the store;
        ``queues``: only these, where queues are separate; ``broker``: the runtime that runs
        a broker's workers, where the footprint's are)."""
        ...

    def wait(self, asset_id: str, on_progress: ProgressCallback) -> Asset:
        """See the asset through to COMPLETED or FAILED."""
        ...

    def interrupt(self) -> None:
        """Stop the job in hand (a worker in a thread of a server that is stopping)."""
        ...


class LocalProcessing:
    in_process = True

    def __init__(
        self,
        transcode: TranscodeService,
        follower: Follower,
        make_worker: Callable[[bool], Worker],
    ) -> None:
        self.transcode = transcode
        self.follower = follower
        self.make_worker = make_worker

    def check(self) -> None:
        self.transcode.transcoder.check()

    def interrupt(self) -> None:
        self.transcode.interrupted.set()

    def worker(
        self, *, watch: bool = True, queues: Sequence[str] = (), broker: BrokerRuntime = no_runtime
    ) -> Worker:
        if queues:
            raise ConfigError("the embedded worker drains every queue: --queues is the cluster's")
        return self.make_worker(watch)

    def wait(self, asset_id: str, on_progress: ProgressCallback) -> Asset:
        """Process the queues here until the asset ends.

        The worker runs in this (the main) thread, so Ctrl-C stops FFmpeg and hands the
        message back exactly as in ``vodkit worker``; a thread follows the asset.
        """
        done = threading.Event()
        outcome: list[Asset | VodkitError] = []

        def follow() -> None:
            try:
                if (asset := self.follower.follow(asset_id, on_progress, done)) is not None:
                    outcome.append(asset)
            except VodkitError as exc:
                outcome.append(exc)
            finally:
                done.set()

        follower = threading.Thread(target=follow, name="follower", daemon=True)
        follower.start()
        try:
            self.worker(watch=False).run(threading.Event(), until=done.is_set)
        finally:
            done.set()
            follower.join()
        (result,) = outcome
        if isinstance(result, VodkitError):
            raise result
        return result


def runs_on(runner: str) -> Callable[[], BrokerWork]:
    """The ``work`` of a footprint whose jobs run on a service (MediaConvert): none here."""

    def no_worker() -> BrokerWork:
        raise ConfigError(
            f"this footprint runs transcode jobs on {runner}: there is no local worker to run"
        )

    return no_worker


class RemoteProcessing:
    """Jobs run elsewhere; waiting follows the catalog. ``work``: what a worker process of
    the footprint runs, where ``vodkit worker`` starts one (the cluster's Celery workers),
    built when one starts; ``runs_on(service)`` where none does."""

    in_process = False  # its workers are processes of their own (`vodkit worker`)

    def __init__(
        self,
        follower: Follower,
        *,
        work: Callable[[], BrokerWork],
        check: Callable[[], None] = lambda: None,
    ) -> None:
        self.follower = follower
        self.work = work
        self._check = check

    def check(self) -> None:
        self._check()

    def interrupt(self) -> None:
        pass  # a worker process stops on its own signals

    def worker(
        self, *, watch: bool = True, queues: Sequence[str] = (), broker: BrokerRuntime = no_runtime
    ) -> Runnable:
        return broker(self.work, queues)

    def wait(self, asset_id: str, on_progress: ProgressCallback) -> Asset:
        asset = self.follower.follow(asset_id, on_progress)
        assert asset is not None  # no stop event: it returns only once the asset ended
        return asset
