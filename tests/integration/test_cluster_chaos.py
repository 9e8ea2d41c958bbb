"""The cluster survives crashes with nothing lost: workers SIGKILLed (whole process groups),
the broker restarted, the database's connections terminated, a broker that closes
channels whose deliveries wait past a few seconds."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.cluster import Cluster, PrivateRabbit, private_broker_cluster
from tests.conftest import POSTGRES, AwsSession, make_clip
from vodkit.adapters.queue.base import DeadLetter
from vodkit.domain.asset import AssetStatus

UPLOADS = 12
WORKERS = 3
MIN_KILLS = 6
CHAOS = {"VODKIT_MAX_RESTARTS": "50", "VODKIT_LOST_AFTER": "8"}
DEFAULT_PRESETS = Path(__file__).parents[2] / "src" / "vodkit" / "presets" / "default.json"


def _without_analysis(cluster: Cluster) -> dict[str, str]:
    """The default presets without the per-title analysis: it multiplies a 4 s clip's job
    time, and a job must outlive its worker between kills every few seconds to finish."""
    presets = json.loads(DEFAULT_PRESETS.read_text())
    presets["presets"]["perTitle"] = False
    path = cluster.root / "presets-without-analysis.json"
    path.write_text(json.dumps(presets))
    return {"VODKIT_PRESETS": str(path)}


def _ingest(cluster: Cluster, tmp_path: Path, count: int, seconds: float = 4) -> list[str]:
    clip = make_clip(tmp_path / "clip.mp4", seconds=seconds)
    return [cluster.app.assets.upload_file(clip, "chaos", f"clip-{i:02d}.mp4").asset_id
            for i in range(count)]  # fmt: skip


def _settled(cluster: Cluster, ids: list[str], timeout: float = 300) -> None:
    """Every asset COMPLETED exactly once, 12 in the catalog, the queues and scratch empty."""
    assets = cluster.wait_ended(ids, timeout)
    assert [a.status for a in assets] == [AssetStatus.COMPLETED] * len(ids), [
        (a.asset_id, a.errors) for a in assets if a.status is not AssetStatus.COMPLETED
    ]
    catalog = cluster.app.catalog
    assert len(catalog.query(limit=100)) == len(ids)
    completions = Counter(
        e.asset_id for e in catalog.events_after(0, limit=10_000) if e.type == "asset.completed"
    )  # type: ignore[attr-defined]
    assert completions == dict.fromkeys(ids, 1)

    def drained() -> bool:
        depths = [q.depth() for q in cluster.app.queues.values()]
        return all(d.visible == 0 and d.dead == 0 for d in depths)

    cluster.wait_until(drained, 60, "the queues to drain")
    cluster.stop_workers()  # each reaped what its killed predecessor left, at its start
    assert cluster.scratch_left() == []


def _all_ended(cluster: Cluster, ids: list[str]) -> bool:
    ended = (AssetStatus.COMPLETED, AssetStatus.FAILED)
    return all((a := cluster.app.catalog.get(i)) is not None and a.status in ended for i in ids)


def _dead_lettered(cluster: Cluster) -> list[DeadLetter]:
    return [letter for q in cluster.app.queues.values() for letter in q.dead_letters()]


def _all_ended_or_dead_lettered(cluster: Cluster, ids: list[str]) -> bool:
    """Nothing left in flight: every asset ended, or its message is in a dead-letter queue."""
    if _all_ended(cluster, ids):
        return True
    return bool(_dead_lettered(cluster)) and all(
        q.depth().visible == 0 and q.depth().in_flight == 0 for q in cluster.app.queues.values()
    )


def _redrive_worker_deaths(cluster: Cluster) -> int:
    """What an operator does after a bad night (``vodkit dlq redrive``): a message whose
    worker was killed on every one of its deliveries (the broker's restart counts one) is
    dead-lettered by design, since a message that kills its worker must not loop forever.
    Nothing is lost if the redrive then completes it exactly once. Any other reason fails."""
    letters = _dead_lettered(cluster)
    for letter in letters:
        assert letter.last_error.startswith("its worker stopped"), letter
    for queue in cluster.app.queues.values():
        queue.redrive()
    return len(letters)


def _chaos(
    cluster: Cluster, ids: list[str], *, during: Callable[[int], None] = lambda kills: None
) -> int:
    """Kill a worker's whole process group every few seconds until every asset has ended (at
    least MIN_KILLS times), restarting each; how many kills there were. Every other kill
    goes to a worker running a transcode, where one is: purely random kills of short jobs can
    all land between jobs, and then prove nothing about leases."""
    rng = random.Random(13)
    names = [f"w{i}" for i in range(WORKERS)]
    env = CHAOS | _without_analysis(cluster)
    running = {name: cluster.start_worker(name, **env) for name in names}
    kills = 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(2.0, 4.0))
        if kills >= MIN_KILLS and _all_ended_or_dead_lettered(cluster, ids):
            break
        name = (kills % 2 == 0 and _transcoding(cluster, ids, running)) or rng.choice(names)
        cluster.kill(running[name])
        cluster.workers.remove(running[name])
        kills += 1
        during(kills)
        running[name] = cluster.start_worker(name, **env)
    return kills


def _transcoding(cluster: Cluster, ids: list[str], running: dict[str, Any]) -> str | None:
    """A worker whose pool child holds a running transcode's lease (its owner is
    host:pid; the worker leads the child's process group)."""
    groups = {worker.pid: name for name, worker in running.items()}
    for asset_id in ids:
        for job in cluster.app.catalog.jobs(asset_id):
            if job.state.terminal or not job.lease_owner:
                continue
            with suppress(ProcessLookupError, ValueError):
                group = os.getpgid(int(job.lease_owner.rsplit(":", 1)[1]))
                if group in groups:
                    return groups[group]
    return None


def test_workers_killed_at_random_lose_nothing_and_complete_each_asset_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    ids = _ingest(cluster, tmp_path, UPLOADS)
    kills = _chaos(cluster, ids)
    assert kills >= MIN_KILLS
    _redrive_worker_deaths(cluster)
    _settled(cluster, ids)
    restarted = [j for i in ids for j in cluster.app.catalog.jobs(i) if j.restarts]
    assert restarted, "no kill hit a running transcode: the test proved nothing about leases"


@pytest.fixture
def private_cluster(tmp_path: Path, postgres_dsn: str, aws: AwsSession) -> Iterator[Cluster]:
    """A cluster on a RabbitMQ node of the test's own, which it may restart."""
    with private_broker_cluster(
        tmp_path, postgres_dsn, aws.endpoint, consumer_timeout_ms=3000
    ) as running:
        yield running


def test_a_broker_restart_mid_run_loses_nothing(private_cluster: Cluster, tmp_path: Path) -> None:
    cluster = private_cluster
    ids = _ingest(cluster, tmp_path, UPLOADS)
    broker: PrivateRabbit = cluster.broker  # type: ignore[attr-defined]
    kills = _chaos(cluster, ids, during=lambda kills: broker.restart() if kills == 3 else None)
    assert kills >= MIN_KILLS
    _redrive_worker_deaths(cluster)
    _settled(cluster, ids)


def test_transcodes_longer_than_the_brokers_consumer_timeout_complete(
    private_cluster: Cluster, tmp_path: Path
) -> None:
    """The broker closes a channel whose delivery waits unacknowledged past 3 s here; the
    transcode is acknowledged as it starts and leased in the catalog, so it holds."""
    cluster = private_cluster
    clip = make_clip(tmp_path / "long.mp4", size="1280x720", seconds=20)
    worker = cluster.start_worker("slow", VODKIT_X264_PRESET="medium")
    asset_id = cluster.app.assets.upload_file(clip, "slow", "long.mp4").asset_id
    started = time.monotonic()
    (asset,) = cluster.wait_ended([asset_id], timeout=400)
    took = time.monotonic() - started
    assert asset.status is AssetStatus.COMPLETED, asset.errors
    assert took > 3 * 3, f"the transcode took {took:.1f} s: too short to prove anything"
    assert worker.poll() is None, "the worker died: " + cluster.tail()
    log = (cluster.root / "slow.log").read_text()
    assert "PreconditionFailed" not in log and "timed out" not in log, log[-3000:]
    (job,) = cluster.app.catalog.jobs(asset_id)
    assert job.restarts == 0


def test_the_databases_connections_terminated_mid_run_lose_and_double_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    ids = _ingest(cluster, tmp_path, 6)
    for name in ("w0", "w1"):
        cluster.start_worker(name)
    application = cluster.env["VODKIT_DATABASE_URL"].rsplit("application_name=", 1)[1]
    terminated = 0
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(1.5)
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application,),
            ).fetchall()
            terminated += len(rows)
            if _all_ended(cluster, ids):
                break
    assert terminated >= 6, terminated
    _settled(cluster, ids)
