"""One contract, every queue: the in-memory fake and SQLite, with SQS semantics; SQS (moto);
the part a Celery queue on RabbitMQ keeps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws_stack import sqs_queue
from tests.conftest import AwsSession
from vodkit.adapters.queue.base import Queue, QueueDepth
from vodkit.adapters.queue.memory import MemoryQueue
from vodkit.adapters.queue.sqlite import SqliteQueue
from vodkit.domain.errors import LeaseLost, TransientError


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite"])
def queue(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Queue:
    if request.param == "memory":
        return MemoryQueue("q", visibility_timeout=30, clock=clock)
    return SqliteQueue(tmp_path / "q.sqlite3", "q", visibility_timeout=30, clock=clock)


def test_send_receive_delete(queue: Queue) -> None:
    first = queue.send("one")
    queue.send("two")
    (message,) = queue.receive()
    assert (message.id, message.body, message.receive_count) == (first, "one", 1)
    queue.delete(message.receipt)
    assert [m.body for m in queue.receive(max_messages=5)] == ["two"]
    assert queue.receive() == []


def test_an_unacknowledged_message_returns_after_the_visibility_timeout(
    queue: Queue, clock: Clock
) -> None:
    queue.send("m")
    (first,) = queue.receive()
    assert queue.receive() == []
    assert queue.depth() == QueueDepth(visible=0, in_flight=1, dead=0)
    clock.now += 31
    (second,) = queue.receive()
    assert second.receive_count == 2 and second.receipt != first.receipt
    with pytest.raises(LeaseLost):
        queue.delete(first.receipt)  # the first worker's receipt is stale
    queue.delete(second.receipt)


def test_extend_and_release(queue: Queue, clock: Clock) -> None:
    queue.send("m")
    (message,) = queue.receive()
    clock.now += 25
    queue.extend(message.receipt, 30)
    clock.now += 25
    assert queue.receive() == []  # still leased thanks to the extension
    queue.release(message.receipt, delay=10, error="boom")
    assert queue.receive() == []
    clock.now += 10
    (again,) = queue.receive()
    assert again.receive_count == 2
    with pytest.raises(LeaseLost):
        queue.extend(message.receipt, 30)


def test_dead_letter_after_three_receives_and_redrive(queue: Queue, clock: Clock) -> None:
    queue.send("poison")
    for _ in range(3):
        (message,) = queue.receive()
        queue.release(message.receipt, error="ValueError: bad")
    assert queue.receive() == []  # the fourth receive dead-letters it
    (letter,) = queue.dead_letters()
    assert (letter.body, letter.receive_count, letter.last_error) == (
        "poison",
        3,
        "ValueError: bad",
    )
    assert queue.depth() == QueueDepth(visible=0, in_flight=0, dead=1)
    assert queue.redrive(["not-an-id"]) == 0
    assert queue.redrive([letter.id]) == 1
    (message,) = queue.receive()
    assert message.receive_count == 1 and queue.dead_letters() == []


def test_dedup_ids_suppress_duplicates_while_the_message_lives(queue: Queue) -> None:
    first = queue.send("a", dedup_id="job-1")
    assert queue.send("a again", dedup_id="job-1") == first
    (message,) = queue.receive()
    assert message.body == "a"
    queue.delete(message.receipt)
    assert queue.send("a later", dedup_id="job-1") != first


def test_delayed_messages(queue: Queue, clock: Clock) -> None:
    queue.send("later", delay=5)
    assert queue.receive() == []
    clock.now += 5
    assert [m.body for m in queue.receive()] == ["later"]


# --- SQS (moto), in real time: the part of the contract SQS itself keeps -------------


def test_sqs_send_receive_release_delete(aws: AwsSession) -> None:
    queue = sqs_queue(aws)
    sent = queue.send("one")
    (message,) = queue.receive()
    assert (message.id, message.body, message.receive_count) == (sent, "one", 1)
    assert queue.receive() == []  # leased
    assert queue.depth() == QueueDepth(visible=0, in_flight=1, dead=0)
    queue.release(message.receipt)
    (again,) = queue.receive()
    assert again.receive_count == 2 and again.receipt != message.receipt
    queue.extend(again.receipt, 30)
    queue.delete(again.receipt)
    assert queue.depth() == QueueDepth(visible=0, in_flight=0, dead=0)


def test_sqs_delayed_messages(aws: AwsSession) -> None:
    queue = sqs_queue(aws)
    queue.send("later", delay=1)
    assert queue.receive() == []
    time.sleep(1.2)
    assert [m.body for m in queue.receive()] == ["later"]


def test_sqs_dead_letters_after_three_receives_are_listed_and_redriven(aws: AwsSession) -> None:
    queue = sqs_queue(aws)
    queue.send("poison")
    queue.send("fine")
    for _ in range(3):
        for message in queue.receive(max_messages=10):
            if message.body == "poison":
                queue.release(message.receipt)
            else:
                queue.release(message.receipt, delay=60)  # out of the way
    assert queue.receive(max_messages=10) == []  # the fourth receive dead-letters "poison"
    (letter,) = queue.dead_letters()
    assert (letter.body, letter.receive_count) == ("poison", 3)
    assert [(d.id, d.body) for d in queue.dead_letters()] == [(letter.id, "poison")]  # still there
    assert queue.depth().dead == 1
    assert queue.redrive(["not-an-id"]) == 0
    assert queue.redrive([letter.id]) == 1
    (message,) = queue.receive()
    assert message.body == "poison" and message.receive_count == 1
    assert queue.dead_letters() == []


# --- Celery on RabbitMQ (a vhost of this session's own): the part of the contract ------
# a queue that vodkit only sends to keeps. Celery's workers consume it (receive, extend,
# release and delete are theirs, with RabbitMQ's acknowledgements), so those points do
# not apply. RabbitMQ cannot deduplicate (handlers are idempotent by the ids in the
# body), and a delayed send goes through Celery's delayed-delivery exchanges, which a
# worker declares as it starts (only the tasks' own retries delay): both are pinned
# below as they are, so that a change of either is seen.


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    from tests.cluster import vhost

    with vhost() as url:
        yield url


@pytest.fixture
def celery_queue(broker_url: str) -> Iterator[Any]:
    from vodkit.adapters.queue.celery import CeleryQueue, celery_app, topology

    app = celery_app(broker_url, ["ingest"])
    yield CeleryQueue(app, "ingest")
    queues, dlqs = topology(["ingest"])
    with app.connection_for_write() as conn:  # the next test starts from empty queues
        for queue in (*queues, *dlqs):
            queue.bind(conn.default_channel).delete()


def celery_bodies(queue: Any) -> list[str]:
    """The bodies of the tasks on the queue, taken off it."""
    from kombu import Queue as KombuQueue

    bodies = []
    with queue.app.connection_for_write() as conn:
        on_broker = KombuQueue("ingest", no_declare=True).bind(conn.default_channel)
        while (message := on_broker.get(no_ack=True)) is not None:
            args = json.loads(message.body)[0]
            bodies.append(args[0])
    return bodies


def test_celery_send_and_depth(celery_queue: Any) -> None:
    assert celery_queue.depth() == QueueDepth(visible=0, in_flight=0, dead=0)
    first = celery_queue.send("one")
    second = celery_queue.send("two")
    assert first != second
    assert celery_queue.depth() == QueueDepth(visible=2, in_flight=0, dead=0)
    assert celery_bodies(celery_queue) == ["one", "two"]


def test_celery_dead_letters_are_listed_with_their_error_and_redriven(celery_queue: Any) -> None:
    from vodkit.adapters.queue.celery import dead_letter

    assert celery_queue.depth().dead == 0  # declared, as a worker does before its tasks run
    dead_letter(celery_queue.app, "ingest", "task-1", "poison", "ValueError: bad", 3)
    (letter,) = celery_queue.dead_letters()
    assert (letter.id, letter.body, letter.receive_count, letter.last_error) == (
        "task-1",
        "poison",
        3,
        "ValueError: bad",
    )
    assert celery_queue.dead_letters() == [letter]  # listing takes nothing away
    assert celery_queue.depth() == QueueDepth(visible=0, in_flight=0, dead=1)
    assert celery_queue.redrive(["not-an-id"]) == 0
    assert celery_queue.redrive([letter.id]) == 1
    assert celery_queue.dead_letters() == []
    assert celery_bodies(celery_queue) == ["poison"]


def test_celery_cannot_deduplicate(celery_queue: Any) -> None:
    assert celery_queue.send("a", dedup_id="job-1") != celery_queue.send("b", dedup_id="job-1")
    assert celery_queue.depth().visible == 2
    assert celery_bodies(celery_queue) == ["a", "b"]


def test_celery_delays_only_once_a_worker_made_its_delayed_delivery(celery_queue: Any) -> None:
    with pytest.raises(TransientError, match="celery_delayed"):
        celery_queue.send("later", delay=60)
