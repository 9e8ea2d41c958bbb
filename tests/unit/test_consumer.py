from __future__ import annotations

import threading
import time

import pytest

from vodkit.adapters.queue.base import QueueDepth
from vodkit.adapters.queue.memory import MemoryQueue
from vodkit.services.consumer import Consumer
from vodkit.services.retries import Retries


def test_a_message_is_deleted_only_after_the_handler_returns() -> None:
    queue = MemoryQueue(visibility_timeout=30)
    queue.send("m")
    seen: list[int] = []

    def handler(body: str) -> None:
        seen.append(queue.depth().in_flight)

    assert Consumer(queue, handler).poll()
    assert seen == [1]
    assert queue.depth() == QueueDepth(0, 0, 0)
    assert not Consumer(queue, handler).poll()


def test_failures_back_off_exponentially_then_dead_letter() -> None:
    now = [1000.0]
    queue = MemoryQueue(visibility_timeout=30, clock=lambda: now[0])
    queue.send("poison")

    def handler(body: str) -> None:
        raise RuntimeError("boom")

    consumer = Consumer(queue, handler, Retries(backoff=2.0))
    delays = []
    for _ in range(3):
        assert consumer.poll()
        assert not consumer.poll()  # invisible during the backoff
        delays.append(min(e.visible_at for e in queue._entries.values()) - now[0])
        now[0] += 100
    assert delays == [2.0, 4.0, 8.0]
    assert not consumer.poll()  # the fourth receive moves it to the DLQ
    (letter,) = queue.dead_letters()
    assert letter.receive_count == 3 and letter.last_error == "RuntimeError: boom"


def test_the_lease_is_extended_while_the_handler_runs() -> None:
    queue = MemoryQueue(visibility_timeout=0.3)
    queue.send("long job")
    stolen: list[int] = []

    def handler(body: str) -> None:
        for _ in range(8):  # 1.2 s, four visibility timeouts
            time.sleep(0.15)
            stolen.extend(m.receive_count for m in queue.receive())

    Consumer(queue, handler).poll()
    assert stolen == []
    assert queue.depth() == QueueDepth(0, 0, 0)


def test_an_interrupted_handler_gives_the_message_straight_back() -> None:
    queue = MemoryQueue(visibility_timeout=60)
    queue.send("m")

    def handler(body: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Consumer(queue, handler).poll()
    assert queue.depth().visible == 1


def test_a_worker_that_lost_its_lease_cannot_delete_the_new_delivery() -> None:
    queue = MemoryQueue(visibility_timeout=0.05)
    queue.send("m")
    done = threading.Event()

    def handler(body: str) -> None:
        (again,) = queue.receive(wait=1)  # the message came back to someone else meanwhile
        assert again.receive_count == 2
        done.set()

    consumer = Consumer(queue, handler)
    queue_extend = queue.extend
    queue.extend = lambda receipt, seconds: None  # type: ignore[method-assign]  # a stalled heartbeat
    consumer.poll()
    queue.extend = queue_extend  # type: ignore[method-assign]
    assert done.is_set()
    assert queue.depth().dead == 0
    assert queue.depth().in_flight == 1  # the second delivery still holds it
