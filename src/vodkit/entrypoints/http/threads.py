"""Blocking work that must finish even when its request is cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anyio import CancelScope, to_thread

T = TypeVar("T")


async def settle(work: Callable[[], T]) -> T:
    """Run ``work`` (an fsync, a thread join) in a worker thread, shielded: a cancelled
    request's cleanup still runs there, never on the event loop, and the file it uses
    stays open until it is done. The shield holds against anyio's cancellation (a client
    gone, a task group cancelled), not against asyncio's own ``Task.cancel``, which uvicorn
    uses only when a graceful shutdown times out."""
    with CancelScope(shield=True):
        done = await to_thread.run_sync(work)
    return done  # noqa: RET504 (for mypy: a CancelScope could swallow a return inside)
