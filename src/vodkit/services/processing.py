"""Where transcode jobs run, as a command sees it: in a worker here, or elsewhere.

Embedded (and cluster) footprints run workers: ``vodkit worker`` runs one, and
``ingest --wait`` processes the upload in this very process while it follows
the asset. On AWS, MediaConvert runs the jobs: there is no worker to run, and
waiting only follows the catalog while the stack works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from ..domain.asset import Asset
from ..domain.errors import ConfigError, VodkitError
from .follow import Follower, ProgressCallback
from .transcode import TranscodeService
from .worker import Worker


class Runnable(Protocol):
    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set (or the process is told to stop)."""
        ...


class Processing(Protocol):
    def check(self) -> None:
        """Fail fast, saying what to do, if jobs cannot run where they would."""
        ...

    def worker(self, *, watch: bool = True, queues: Sequence[str] = ()) -> Runnable:
        """What ``vodkit worker`` runs (``watch``: pick up files dropped into the store;
        ``queues``: only these, where queues are separate)."""
        ...

    def wait(self, asset_id: str, on_progress: ProgressCallback) -> Asset:
        """See the asset through to COMPLETED or FAILED."""
        ...

    def interrupt(self) -> None:
        """Stop the job in hand (a worker in a thread of a server that is stopping)."""
        ...


class LocalProcessing:
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

    def worker(self, *, watch: bool = True, queues: Sequence[str] = ()) -> Worker:
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


class RemoteProcessing:
    def __init__(self, follower: Follower, *, runner: str) -> None:
        self.follower = follower
        self.runner = runner  # who runs the jobs, for the message

    def check(self) -> None:
        pass

    def interrupt(self) -> None:
        pass

    def worker(self, *, watch: bool = True, queues: Sequence[str] = ()) -> Worker:
        raise ConfigError(
            f"this footprint runs transcode jobs on {self.runner}: there is no local worker to run"
        )

    def wait(self, asset_id: str, on_progress: ProgressCallback) -> Asset:
        asset = self.follower.follow(asset_id, on_progress)
        assert asset is not None  # no stop event: it returns only once the asset ended
        return asset
