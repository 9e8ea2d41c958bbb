"""Celery tasks on RabbitMQ (cluster footprint): quorum queues, a dead-letter queue each.

Each queue (``ingest``, ``transcode``, ``chunks``: a chunked transcode's pieces) is a quorum
queue whose messages are dead-lettered (at least once) to ``{queue}.dlq`` by the broker
after 3 deliveries: RabbitMQ 3.10's ``x-delivery-limit`` of N allows N+1 (measured), and
sets no limit by default, so without one a message that kills its worker would loop forever.
A task that fails three times in a row dead-letters its message itself, with the error as
the reason (``dead_letter``); the broker's limit catches workers that die on a message.

``celery_app`` makes the Celery app and holds its settings; the tasks, the worker
process and its hooks are an entrypoint's (``entrypoints.celery_worker``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...domain.errors import ConfigError, TransientError
from .base import DeadLetter, QueueDepth

DELIVERIES = 3  # a message's deliveries before it is dead-lettered
EXCHANGE = "vodkit"
DLX = "vodkit.dlx"
TASKS = {"ingest": "vodkit.ingest", "transcode": "vodkit.transcode", "chunks": "vodkit.chunk"}
ERROR_HEADER = "vodkit-error"
PEEK_TIMEOUT = 5.0


def celery_app(broker_url: str, queues: Sequence[str]) -> Any:
    """The Celery app: late acknowledgement, prefetch 1, quorum queues, confirmed publishes;
    a task goes to the queue named as it is (``TASKS``). Nothing connects yet."""
    try:
        from celery import Celery
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the cluster needs {exc.name}: pip install 'vodkit[cluster]'") from exc

    app = Celery("vodkit", broker=broker_url, set_as_current=False)
    task_queues, _ = topology(queues)
    app.conf.update(
        task_queues=task_queues,
        task_default_queue=queues[0],
        task_default_exchange=EXCHANGE,
        task_default_exchange_type="topic",
        task_create_missing_queues=False,
        task_routes={task: {"queue": queue} for queue, task in TASKS.items()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=False,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_detect_quorum_queues=True,  # quorum queues take no global QoS
        worker_hijack_root_logger=False,
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
    )
    return app


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


def topology(names: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """The task queues and their dead-letter queues, as kombu declares them."""
    from kombu import Exchange, Queue  # type: ignore[attr-defined]

    tasks = Exchange(EXCHANGE, type="topic", durable=True)  # topic: Celery's delayed delivery
    dead = Exchange(DLX, type="direct", durable=True)
    queues = [
        Queue(name, exchange=tasks, routing_key=name, durable=True, queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERIES - 1,
            "x-dead-letter-exchange": DLX,
            "x-dead-letter-routing-key": dlq_name(name),
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",  # at-least-once dead-lettering requires it
        })
        for name in names
    ]  # fmt: skip
    dlqs = [
        Queue(dlq_name(name), exchange=dead, routing_key=dlq_name(name), durable=True,
              queue_arguments={"x-queue-type": "quorum"})
        for name in names
    ]  # fmt: skip
    return queues, dlqs


@contextmanager
def amqp_errors() -> Iterator[None]:
    """The broker's errors as vodkit's: one that cannot be reached is transient."""
    try:
        yield
    except OSError as exc:  # refused, reset: kombu raises the socket's errors
        raise TransientError(f"RabbitMQ is unavailable: {exc}") from exc
    except Exception as exc:
        from amqp.exceptions import AMQPError

        if isinstance(exc, AMQPError):
            raise TransientError(f"RabbitMQ refused: {exc}") from exc
        raise


def declare(app: Any, names: Sequence[str]) -> None:
    """Declare the queues and their dead-letter queues (idempotent; Celery declares no DLQ,
    and a message dead-lettered to a DLQ that does not exist is dropped)."""
    queues, dlqs = topology(names)
    with amqp_errors(), app.connection_for_write() as conn:
        for queue in (*queues, *dlqs):
            queue.bind(conn.default_channel).declare()


class CeleryQueue:
    def __init__(self, app: Any, name: str) -> None:
        if name not in TASKS:
            raise ConfigError(f"no Celery queue {name!r}: there are {', '.join(TASKS)}")
        self.app = app
        self.name = name
        self._topology_ready = False

    def _declare(self) -> None:
        """Before this process's first use: whoever comes first (a worker, the API, the
        CLI) makes the queue and its DLQ exist."""
        if not self._topology_ready:
            declare(self.app, [self.name])
            self._topology_ready = True

    def send(self, body: str, *, dedup_id: str | None = None, delay: float = 0) -> str:
        """Publish a task with ``body``, confirmed by the broker (``confirm_publish``);
        RabbitMQ cannot deduplicate: handlers are idempotent by the ids in the body."""
        self._declare()
        with amqp_errors():
            result = self.app.send_task(
                TASKS[self.name], args=[body], queue=self.name, countdown=delay or None
            )
        return str(result.id)

    def _declared(self, channel: Any, queue: str) -> int:
        _, count, _ = channel.queue_declare(queue=queue, passive=True)
        return int(count)

    def depth(self) -> QueueDepth:
        self._declare()
        with amqp_errors(), self.app.connection_for_read() as conn:
            channel = conn.default_channel
            visible = self._declared(channel, self.name)
            dead = self._declared(channel, dlq_name(self.name))
        return QueueDepth(visible=visible, in_flight=0, dead=dead)

    @contextmanager
    def _dead(self) -> Iterator[list[Any]]:
        """Every message in the DLQ, held unacknowledged by this channel: those not acked
        go back to it when the channel closes (a quorum DLQ has no delivery limit)."""
        self._declare()
        with amqp_errors(), self.app.connection_for_write() as conn:
            channel = conn.channel()
            held: list[Any] = []
            deadline = time.monotonic() + PEEK_TIMEOUT
            while time.monotonic() < deadline:
                message = channel.basic_get(dlq_name(self.name), no_ack=False)
                if message is None:
                    break
                held.append(message)
            try:
                yield held
            finally:
                channel.close()

    def dead_letters(self) -> list[DeadLetter]:
        with self._dead() as held:
            return [_letter(self.name, m) for m in held]

    def redrive(self, ids: list[str] | None = None) -> int:
        moved = 0
        with self._dead() as held:
            for message in held:
                letter = _letter(self.name, message)
                if ids is not None and letter.id not in ids:
                    continue
                self.send(letter.body)
                message.channel.basic_ack(message.delivery_tag)
                moved += 1
        return moved


def _letter(queue: str, message: Any) -> DeadLetter:
    """A dead-lettered message: one a task dead-lettered itself (with its error), or a
    Celery task message the broker dead-lettered (its worker died on it, or it was refused)."""
    headers = dict(message.headers or {})
    payload = message.body if isinstance(message.body, bytes | str) else b""
    if ERROR_HEADER in headers:
        data = json.loads(payload)
        return DeadLetter(
            id=str(data["id"]),
            queue=queue,
            body=str(data["body"]),
            receive_count=int(data.get("deliveries", DELIVERIES)),
            sent_at=float(data.get("sent_at", 0)),
            dead_at=float(data.get("dead_at", 0)),
            last_error=str(headers[ERROR_HEADER]),
        )
    deaths = [d for d in headers.get("x-death") or [] if d.get("queue") == queue]
    death = deaths[0] if deaths else {}
    args = json.loads(payload)[0] if payload else [""]
    reason = {"delivery_limit": f"its worker stopped {DELIVERIES} times while handling it"}
    return DeadLetter(
        id=str(headers.get("id", "")),
        queue=queue,
        body=str(args[0] if args else ""),
        receive_count=int(death.get("count", DELIVERIES)),
        sent_at=0.0,
        dead_at=float(death["time"].timestamp())
        if hasattr(death.get("time"), "timestamp")
        else 0.0,
        last_error=reason.get(str(death.get("reason")), str(death.get("reason", "dead-lettered"))),
    )


def dead_letter(app: Any, queue: str, task_id: str, body: str, error: str, deliveries: int) -> None:
    """A task's own dead-lettering of a message that failed ``deliveries`` times."""
    now = time.time()
    letter = {"id": task_id, "body": body, "deliveries": deliveries, "dead_at": now}
    with amqp_errors(), app.producer_or_acquire() as producer:
        producer.publish(
            json.dumps(letter),
            exchange=DLX,
            routing_key=dlq_name(queue),
            headers={ERROR_HEADER: error[:2000]},
            content_type="application/json",
            delivery_mode=2,
        )
