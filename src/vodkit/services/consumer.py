"""Consuming a queue at least once: lease, heartbeat, acknowledge after commit.

The handler runs while a heartbeat thread extends the message's lease every
third of the visibility timeout, so a long transcode is never redelivered
while its worker lives, and is redelivered soon after its worker dies. The
message is deleted only after the handler returned, i.e. after its catalog
writes committed. A failure gives the message back after the retry policy's backoff
(``services.retries``); the queue dead-letters it after its receive limit, which the
footprint sets to the policy's attempts.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..adapters.queue.base import ConsumableQueue, Message
from ..domain.errors import LeaseLost
from .retries import DEFAULT, Retries

log = logging.getLogger(__name__)


class Interrupted(BaseException):
    """The worker is stopping: the message in hand goes straight back, as on Ctrl-C."""


@contextmanager
def lease(queue: ConsumableQueue, message: Message) -> Iterator[None]:
    timeout = queue.visibility_timeout
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(timeout / 3):
            try:
                queue.extend(message.receipt, timeout)
            except LeaseLost:
                log.warning("lost the lease on message %s", message.id)
                return
            except Exception:  # a busy database: try again next beat
                log.exception("could not extend the lease on message %s", message.id)

    thread = threading.Thread(target=heartbeat, name=f"lease-{message.id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class Consumer:
    def __init__(
        self,
        queue: ConsumableQueue,
        handler: Callable[[str], object],
        retries: Retries = DEFAULT,
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.retries = retries

    def poll(self, wait: float = 0) -> bool:
        """Process at most one message; False if there was none."""
        messages = self.queue.receive(max_messages=1, wait=wait)
        for message in messages:
            self.process(message)
        return bool(messages)

    def process(self, message: Message) -> None:
        try:
            with lease(self.queue, message):
                self.handler(message.body)
        except Exception as exc:
            attempt = message.receive_count
            error = self.retries.failed(self.queue.name, message.id, attempt, exc)
            self._release(message, self.retries.delay(attempt), error)
            return
        except BaseException:  # interrupted: hand the message straight back
            self._release(message, 0, "interrupted")
            raise
        try:
            self.queue.delete(message.receipt)
        except LeaseLost:
            log.warning("message %s was redelivered before it was acknowledged", message.id)

    def _release(self, message: Message, delay: float, error: str) -> None:
        with contextlib.suppress(LeaseLost):  # someone else holds it now: nothing to give back
            self.queue.release(message.receipt, delay=delay, error=error)
