"""One retry policy: the SQLite consumer and the cluster's Celery tasks both follow it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vodkit.adapters.queue.celery import celery_app
from vodkit.services.processing import BrokerWork
from vodkit.services.retries import Retries


def test_the_backoff_doubles_to_its_cap_and_the_last_attempt_dead_letters() -> None:
    policy = Retries(backoff=2.0, max_backoff=10.0, attempts=3)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 10.0]
    assert [policy.exhausted(n) for n in (1, 2, 3)] == [False, False, True]


def celery_tasks(policy: Retries, dead: list[tuple[Any, ...]]) -> Any:
    from celery.exceptions import Retry

    from vodkit.entrypoints.celery_worker import register

    def boom(body: str) -> None:
        raise ValueError(f"bad {body}")

    app = celery_app("memory://", ["ingest", "transcode"])
    work = BrokerWork(
        broker=app,
        queues=("ingest", "transcode"),
        concurrency=1,
        handlers=lambda: {"ingest": boom, "transcode": boom},
        retries=policy,
        dead_letter=lambda *letter: dead.append(letter),
        background=(),
        work_root=Path("/nonexistent"),
        prepare=lambda: None,
        finish=lambda: None,
    )
    register(work)
    return app, Retry


@pytest.mark.parametrize("attempts", [2, 5])
def test_a_celery_task_retries_with_the_policys_delay_and_dead_letters_on_its_last_attempt(
    attempts: int,
) -> None:
    dead: list[tuple[Any, ...]] = []
    policy = Retries(backoff=4.0, attempts=attempts)
    app, retry = celery_tasks(policy, dead)
    transcode = app.tasks["vodkit.transcode"]
    countdowns = []
    for done in range(attempts - 1):  # request.retries: the failures so far
        with pytest.raises(retry) as again:
            transcode.apply(args=["x"], retries=done, throw=True)
        countdowns.append(again.value.when)
        assert dead == []
    assert countdowns == [round(policy.delay(n)) for n in range(1, attempts)]
    transcode.apply(args=["x"], retries=attempts - 1, throw=True)
    ((queue, _, body, error, count),) = dead
    assert (queue, body, error, count) == ("transcode", "x", "ValueError: bad x", attempts)


def test_a_worker_started_while_the_broker_is_down_waits_for_it() -> None:
    """The broker restarting as a worker (re)starts: its declare is refused twice, then
    goes through; the worker waits instead of exiting (and stops waiting when stopped)."""
    import threading

    from vodkit.domain.errors import TransientError
    from vodkit.entrypoints.celery_worker import prepared

    refusals = [TransientError("RabbitMQ is unavailable: refused")] * 2

    def prepare() -> None:
        if refusals:
            raise refusals.pop()

    work = BrokerWork(
        broker=None, queues=("ingest",), concurrency=1, handlers=dict, retries=Retries(),
        dead_letter=lambda *_: None, background=(), work_root=Path("/nonexistent"),
        prepare=prepare, finish=lambda: None,
    )  # fmt: skip
    waits: list[float] = []

    class Clock(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            return False

    assert prepared(work, Clock(), most=3.0)
    assert waits == [2.0, 3.0] and refusals == []

    refusals.append(TransientError("refused"))
    stopped = threading.Event()
    stopped.set()
    assert not prepared(work, stopped)  # stopped while it waited: no worker starts
