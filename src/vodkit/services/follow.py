"""Following an asset until it is COMPLETED or FAILED, with its progress on the way: one
(``follow``, for a command that waits), or several as a stream of changes (``changes``,
for the HTTP API's server-sent events, resumable with ``Last-Event-ID``)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..adapters.catalog.base import Catalog
from ..adapters.queue.base import Queue
from ..domain.asset import Asset, AssetStatus, phase_of, progress_of
from ..domain.errors import VodkitError


@dataclass(frozen=True)
class Progress:
    """What a follower sees of an asset that has not ended."""

    stage: str  # QUEUED (no asset yet), PENDING or PROCESSING
    percent: float = 0.0  # of its phase
    eta_seconds: float | None = None
    phase: str = ""  # while PROCESSING: probing, analysing, encoding or packaging


ProgressCallback = Callable[[Progress], None]
T = TypeVar("T")
CURSOR = "v1"  # a stream cursor's version: one another server version may not understand
# what a cursor says of an asset besides its state's token; SHOWN: before the stream began
MISSING, DELETED, UNSEEN, SHOWN = "m", "d", "-", "s"


@dataclass(frozen=True)
class Seen(Generic[T]):
    """An asset as a stream reader may see it now: ``state`` is what a change of is an event
    (status and progress), ``shown`` what the front door sends of it."""

    asset: Asset
    state: Hashable
    shown: T
    progressing: bool = False  # its state has a progress figure (a ``progress`` event)


@dataclass(frozen=True)
class Change(Generic[T]):
    """One event of a stream: ``status`` or ``progress`` (with ``seen``), ``missing`` or
    ``deleted``; ``cursor`` is its id, which names what the reader has been sent of every
    asset it follows, so that a reader resuming after it misses nothing and gets nothing
    twice."""

    kind: str
    asset_id: str
    seen: Seen[T] | None
    cursor: str


def _token(seen: Seen[T]) -> str:
    """A short, stable fingerprint of one state of an asset (the same in every process)."""
    text = repr((seen.asset.attempt, seen.state))  # a write that changes neither is no event
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()[:6]).decode()


def _resumed(ids: Sequence[str], cursor: str | None) -> dict[str, str]:
    """What a cursor says the reader was sent of each asset; nothing if it does not fit
    these assets (another stream's, or garbled): then everything is sent again."""
    if not cursor:
        return {}
    version, *tokens = cursor.split(".")
    if version != CURSOR or len(tokens) != len(ids):
        return {}
    return {i: t for i, t in zip(ids, tokens, strict=True) if t != UNSEEN}


class Follower:
    def __init__(
        self,
        catalog: Catalog,
        ingest_queue: Queue,
        *,
        delivery_grace: float = 0.0,
        poll: float = 0.3,
    ) -> None:
        self.catalog = catalog
        self.ingest_queue = ingest_queue
        # How long an upload may have neither an asset nor a queued message: none where it
        # was queued before we started; the store's event delivery time where it announces.
        self.delivery_grace = delivery_grace
        self.poll = poll

    def follow(
        self,
        asset_id: str,
        on_progress: ProgressCallback = lambda progress: None,
        stop: threading.Event | None = None,
    ) -> Asset | None:
        """The asset once it has ended; None if ``stop`` was set first.

        Raises VodkitError if no asset will come: its ingest message was dead-lettered.
        """
        stop = stop or threading.Event()
        started = time.monotonic()
        while not stop.is_set():
            asset = self.catalog.get(asset_id)
            if asset is None:
                if self._lost(asset_id, time.monotonic() - started):
                    raise VodkitError(
                        f"the ingest message of {asset_id} was dead-lettered or never "
                        "delivered: see `vodkit dlq list`"
                    )
                on_progress(Progress("QUEUED"))
            elif asset.status.terminal:
                return asset
            elif asset.status is AssetStatus.PROCESSING and (jobs := self.catalog.jobs(asset_id)):
                on_progress(Progress("PROCESSING", *progress_of(jobs), phase_of(jobs)))
            else:
                on_progress(Progress(str(asset.status)))
            stop.wait(self.poll)
        return None

    def _lost(self, asset_id: str, waited: float) -> bool:
        depth = self.ingest_queue.depth()
        return (
            depth.visible == depth.in_flight == 0
            and waited >= self.delivery_grace
            and self.catalog.get(asset_id) is None  # not created while we looked at the queue
        )


async def changes(
    ids: Sequence[str],
    read: Callable[[tuple[str, ...]], Awaitable[list[Seen[T] | None]]],
    *,
    seen: bool = False,
    resume: str | None = None,
    poll: float = 0.5,
) -> AsyncIterator[Change[T]]:
    """Each asset's changes until every one has ended (COMPLETED, FAILED or deleted).

    ``read`` gives each asset as the reader may see it (None: absent to it). ``seen``:
    the reader was shown them already (one not found is then deleted, never missing).
    ``resume``: the cursor of the last event the reader got (``Last-Event-ID``); what
    it says was sent is not sent again."""
    ids = list(dict.fromkeys(ids))
    sent = _resumed(ids, resume)
    if seen:
        for asset_id in ids:
            sent.setdefault(asset_id, SHOWN)
    left = [i for i in ids if sent.get(i) != DELETED]
    while left:
        found = await read(tuple(left))
        for asset_id, current in zip(left, found, strict=True):
            was = sent.get(asset_id)
            if current is None:
                kind = "missing" if was is None else "deleted" if was != MISSING else ""
                if kind:
                    sent[asset_id] = MISSING if kind == "missing" else DELETED
                    yield Change(kind, asset_id, None, _cursor(ids, sent))
                continue
            if (token := _token(current)) != was:
                sent[asset_id] = token
                ended = current.asset.status.terminal
                kind = "progress" if current.progressing and not ended else "status"
                yield Change(kind, asset_id, current, _cursor(ids, sent))
        left = [
            i
            for i, current in zip(left, found, strict=True)
            if sent.get(i) != DELETED and not (current and current.asset.status.terminal)
        ]
        if left:
            await asyncio.sleep(poll)


def _cursor(ids: Sequence[str], sent: dict[str, str]) -> str:
    return ".".join([CURSOR, *(sent.get(i, UNSEEN) for i in ids)])
