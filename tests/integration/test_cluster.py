"""The cluster footprint end to end: PostgreSQL, moto's S3 server, Celery workers on RabbitMQ."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from tests.cluster import Cluster
from tests.conftest import make_clip


def _s3(cluster: Cluster) -> object:
    return boto3.client(
        "s3", endpoint_url=cluster.env["VODKIT_S3_ENDPOINT_URL"], region_name="us-east-1"
    )


def test_an_upload_runs_through_separate_ingest_and_transcode_workers(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=3)
    cluster.start_worker("ingest", "--queues", "ingest")
    cluster.start_worker("transcode", "--queues", "transcode")
    done = cluster.vodkit("ingest", str(clip), "--uploader", "alice", "--wait", "--json")
    assert done.returncode == 0, done.stderr + cluster.tail()
    asset = json.loads(done.stdout)
    assert asset["status"] == "COMPLETED"
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
    assert cluster.scratch_left() == []
