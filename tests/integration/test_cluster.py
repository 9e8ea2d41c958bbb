"""The cluster footprint end to end: PostgreSQL, moto's S3 server, Celery workers on RabbitMQ."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import boto3
import httpx
import pytest

from tests.cluster import VODKIT, Cluster, free_port
from tests.conftest import make_clip
from vodkit.domain.asset import AssetStatus


def _s3(cluster: Cluster) -> object:
    return boto3.client(
        "s3", endpoint_url=cluster.env["VODKIT_S3_ENDPOINT_URL"], region_name="us-east-1"
    )


def test_an_upload_runs_through_separate_ingest_and_transcode_workers(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=3)
    port = free_port()
    cluster.start_worker("ingest", "--queues", "ingest")
    cluster.start_worker("transcode", "--queues", "transcode", "--metrics-port", str(port))
    done = cluster.vodkit("ingest", str(clip), "--uploader", "alice", "--wait", "--json")
    assert done.returncode == 0, done.stderr + cluster.tail()
    asset = json.loads(done.stdout)
    assert asset["status"] == "COMPLETED"
    # the job ran in a pool child; its main process serves what the job recorded
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert "vodkit_transcode_realtime_factor_count 1.0" in metrics, metrics
    assert "vodkit_worker_last_seen_timestamp_seconds{" in metrics, metrics
    # the catalog's counters, reported by the main process at each sweep (1 s here)
    deadline = time.monotonic() + 10
    while "vodkit_processed_assets_total 1.0" not in metrics and time.monotonic() < deadline:
        time.sleep(0.5)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert "vodkit_processed_assets_total 1.0" in metrics.splitlines(), metrics
    assert metrics.count("# TYPE vodkit_processed_assets_total counter") == 1, metrics
    assert asset["outputs"]["hls"].startswith(f"s3://{cluster.env['VODKIT_OUTPUTS_BUCKET']}/")
    s3 = _s3(cluster)
    keys = {
        o["Key"]
        for o in s3.list_objects_v2(Bucket=cluster.env["VODKIT_OUTPUTS_BUCKET"])["Contents"]  # type: ignore[attr-defined]
    }
    assert f"{asset['assetId']}/stream/master.m3u8" in keys
    assert any(k.endswith(".m4s") for k in keys)
    # every other command on the same footprint
    shown = cluster.vodkit("assets", "show", asset["assetId"], "--json")
    assert json.loads(shown.stdout)["status"] == "COMPLETED", shown.stderr
    listed = cluster.vodkit("assets", "list", "--json")
    assert asset["assetId"] in listed.stdout, listed.stderr
    assert cluster.vodkit("dlq", "list").returncode == 0
    key = cluster.vodkit("keys", "create", "--uploader", "alice", "--json")
    assert key.returncode == 0, key.stderr
    cluster.stop_workers()
    assert cluster.scratch_left() == []


def _put(cluster: Cluster, key: str, path: Path) -> None:
    _s3(cluster).upload_file(str(path), cluster.env["VODKIT_UPLOADS_BUCKET"], key)  # type: ignore[attr-defined]


def test_watch_ingests_objects_written_straight_into_the_bucket_once_even_twice_at_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2)
    for name in ("a.mp4", "b.mp4"):
        _put(cluster, f"uploads/bob/{name}", clip)
    _put(cluster, "stray/not-an-upload.mp4", clip)  # outside uploads/: never listed
    cluster.start_worker("w1")
    watchers = [
        subprocess.Popen(
            [VODKIT, "watch", "--once"],
            env=cluster.worker_env(f"watch{i}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for watcher in watchers:
        _, err = watcher.communicate(timeout=120)
        assert watcher.returncode == 0, err
    cluster.wait_until(
        lambda: len(cluster.app.catalog.query(limit=10)) == 2, 60, "two assets", poll=0.5
    )
    ids = [a.asset_id for a in cluster.app.catalog.query(limit=10)]
    assets = cluster.wait_ended(ids)
    assert {a.source_key for a in assets} == {"uploads/bob/a.mp4", "uploads/bob/b.mp4"}
    assert all(a.status is AssetStatus.COMPLETED for a in assets), [a.errors for a in assets]
    again = cluster.vodkit("watch", "--once")  # nothing new: nothing queued
    assert again.returncode == 0 and "queued" not in again.stderr, again.stderr
    assert len(cluster.app.catalog.query(limit=10)) == 2


def test_a_message_that_keeps_failing_is_dead_lettered_after_3_attempts_and_redriven(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2)
    # a worker that cannot reach the store: every attempt at the ingest fails
    broken = cluster.start_worker(
        "broken", VODKIT_S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"
    )
    queued = cluster.vodkit("ingest", str(clip))
    assert queued.returncode == 0, queued.stderr
    asset_id = queued.stdout.strip()

    def letters() -> list[dict[str, object]]:
        listed = cluster.vodkit("dlq", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        return list(json.loads(listed.stdout)["deadLetters"])

    cluster.wait_until(lambda: bool(letters()), 120, "the message in the DLQ", poll=2)
    cluster.kill(broken)
    (letter,) = letters()
    assert letter["queue"] == "ingest" and letter["receiveCount"] == 3
    assert "reach" in str(letter["lastError"]) or "connect" in str(letter["lastError"]).lower()
    log = (cluster.root / "broken.log").read_text()
    assert log.count("failed (attempt") == 2 and log.count("failed 3 times, dead-lettered") == 1
    pending = cluster.app.catalog.get(asset_id)  # registered by the upload, never ingested
    assert pending is not None and pending.status is AssetStatus.PENDING
    cluster.start_worker("healthy")
    redriven = cluster.vodkit("dlq", "redrive")
    assert redriven.returncode == 0 and "1 message" in redriven.stdout, redriven.stderr
    (asset,) = cluster.wait_ended([asset_id])
    assert asset.status is AssetStatus.COMPLETED
    assert letters() == []


def test_the_broker_dead_letters_a_message_after_exactly_3_deliveries(cluster: Cluster) -> None:
    """What catches a message its workers die on (no task code runs to count it): the
    quorum queue's delivery limit, counted by RabbitMQ on every return to the queue."""
    from kombu import Connection, Queue

    from vodkit.adapters.queue.celery import CeleryQueue

    app = cluster.app
    queue = app.queues["ingest"]
    assert isinstance(queue, CeleryQueue)
    queue.send('{"poison": true}')
    deliveries = 0
    with Connection(cluster.env["VODKIT_BROKER_URL"]) as conn:
        ingest = Queue("ingest", no_declare=True).bind(conn.default_channel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = ingest.get(no_ack=False)
            if message is None:
                if app.queues["ingest"].depth().dead:
                    break
                time.sleep(0.1)
                continue
            deliveries += 1
            message.reject(requeue=True)  # as a worker that died on it hands it back
    assert deliveries == 3
    (letter,) = queue.dead_letters()
    assert letter.body == '{"poison": true}' and "stopped 3 times" in letter.last_error
    assert queue.depth().visible == 0


def test_the_http_api_serves_the_cluster_uploads_and_playback_from_the_store(
    cluster: Cluster, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import httpx

    clip = make_clip(tmp_path / "clip.mp4", seconds=2)
    key = cluster.vodkit("keys", "create", "--uploader", "carol", "--json")
    assert key.returncode == 0, key.stderr
    token = json.loads(key.stdout)["key"]
    port = free_port()
    with (cluster.root / "api.log").open("ab") as log:
        server = subprocess.Popen(
            [VODKIT, "serve", "--port", str(port)],
            env=cluster.worker_env("api", VODKIT_PUBLIC_URL=f"http://127.0.0.1:{port}"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    cluster.workers.append(server)
    cluster.logs.append(cluster.root / "api.log")
    cluster.start_worker("w1")
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    )
    request.addfinalizer(api.close)

    def up() -> bool:
        try:
            return api.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    cluster.wait_until(up, 60, "the API")
    made = api.post("/v1/assets", params={"filename": "clip.mp4"}, content=clip.read_bytes())
    assert made.status_code == 201, made.text
    asset_id = made.json()["assetId"]
    (asset,) = cluster.wait_ended([asset_id])
    assert asset.status is AssetStatus.COMPLETED
    done = api.get(f"/v1/assets/{asset_id}").json()
    master = httpx.get(done["playback"]["hls"])  # the token is in the path
    assert master.status_code == 200 and master.text.startswith("#EXTM3U"), master.text
    ranged = httpx.get(done["playback"]["mp4"], headers={"Range": "bytes=10-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 90
    metrics = api.get("/metrics").text
    assert "vodkit_" in metrics
