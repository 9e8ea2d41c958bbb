"""The cluster footprint on this machine, end to end (``make cluster-demo``).

Starts a moto S3 server, makes a schema of its own on the local PostgreSQL and a vhost on
the local RabbitMQ, two buckets, runs ``vodkit db upgrade``, starts two workers
(``vodkit worker --queues ingest`` and ``--queues transcode``, each with a scratch
directory of its own, as on two machines), makes a short clip and runs
``vodkit ingest CLIP --wait`` against that cluster; then prints where the outputs are and
which worker did what, and removes everything it started, on failure or Ctrl-C too.
Exits 0 if the asset is COMPLETED, 1 if not.

    python bench/cluster_demo.py                      # outputs removed with the rest
    python bench/cluster_demo.py --download out/      # a copy of the outputs kept in out/

It needs PostgreSQL (VODKIT_TEST_POSTGRES, as the tests) and RabbitMQ on 127.0.0.1:5672
(guest, ``rabbitmqctl`` on PATH). The cluster's pieces are bench/cluster.py's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from cluster import VODKIT, Rig, cluster, say, synthetic


def ingest(rig: Rig, clip: Path) -> dict[str, Any]:
    """``vodkit ingest CLIP --wait --json`` on the cluster: its progress on this terminal."""
    done = subprocess.run(
        [VODKIT, "ingest", str(clip), "--uploader", "demo", "--wait", "--json"],
        env=rig.data_env("cli"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        asset: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        asset = {"status": f"none (vodkit ingest exited {done.returncode})"}
    return asset


def show(rig: Rig, asset: dict[str, Any]) -> None:
    say(f"\nasset {asset.get('assetId')}: {asset['status']}")
    for error in asset.get("errors", []):
        say(f"  error {error['code']}: {error['message']}")
    for kind, where in asset.get("outputs", {}).items():
        say(f"  {kind:<8} {where}")
    for rendition in asset.get("renditions", []):
        say(
            f"  rendition {rendition.get('name')}: {rendition.get('width')}x"
            f"{rendition.get('height')} {rendition.get('videoBitrate')} b/s"
        )
    bucket = rig.env["VODKIT_OUTPUTS_BUCKET"]
    keys = objects(rig, bucket, f"{asset.get('assetId')}/")
    size = sum(keys.values())
    say(f"  {len(keys)} objects, {size / 1e6:.1f} MB, in s3://{bucket}/ at {rig.endpoint}")
    say("\nwho did what (the workers' logs):")
    for name in rig.workers:
        for line in (rig.root / f"{name}.log").read_text(errors="replace").splitlines():
            if " INFO vodkit." in line and "rendition {" not in line:
                say(f"  [{name}] {line.split(' INFO ', 1)[1]}")


def objects(rig: Rig, bucket: str, prefix: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for page in rig.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update({o["Key"]: int(o["Size"]) for o in page.get("Contents", [])})
    return found


def download(rig: Rig, asset_id: str, into: Path) -> None:
    s3, bucket = rig.s3(), rig.env["VODKIT_OUTPUTS_BUCKET"]
    for key in objects(rig, bucket, f"{asset_id}/"):
        target = into / key
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))
    say(f"  a copy of the outputs is in {into / asset_id}/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--download", type=Path, help="keep a copy of the outputs here")
    parser.add_argument("--seconds", type=float, default=6.0, help="the clip's length")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vodkit-cluster-demo-") as tmp:
        root = Path(tmp)
        say("1. the cluster's services, all of the demo's own:")
        with cluster(root) as rig:
            say("2. two workers, as on two machines (scratch of their own):")
            for queue in ("ingest", "transcode"):
                worker = rig.start_worker(queue, "--queues", queue)
                say(f"  vodkit worker --queues {queue}  (pid {worker.pid})")
            rig.wait_consumed(("ingest", "transcode"))
            say("  both are consuming")
            clip = synthetic(root / "demo.mp4", "1280x720", 30, 2, seconds=args.seconds)
            say(f"3. a {args.seconds:g} s clip (testsrc2 + sine, 1280x720): {clip.name}")
            say(f"4. vodkit ingest {clip.name} --uploader demo --wait")
            asset = ingest(rig, clip)
            show(rig, asset)
            if args.download and asset.get("status") == "COMPLETED":
                download(rig, asset["assetId"], args.download.resolve())
            say("\n5. stopping the workers, removing the buckets, vhost, schema, moto server")
        say("   done: nothing left running")
    return 0 if asset.get("status") == "COMPLETED" else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted: everything the demo started is stopped and removed")
        sys.exit(130)
