"""HTTP API speed: tus uploads against cp, asset reads under load against /healthz.

Measured in one run, against a real `vodkit serve --no-worker` on a temporary
data directory:

  1. a tus upload of one large file (tuspy, tus's own Python client, 64 MiB and
     8 MiB chunks), timed from the creation POST to the last PATCH's response
     (which moves the file into the uploads store), against `cp` of the same
     file into the same data directory. Timed alongside, as floors: `cp` then
     fsync of the copy (the server syncs every PATCH), the store's etag of the
     file (the server hashes the bytes as they arrive) and tuspy into a sink that
     answers tus and discards the bytes (the client and loopback TCP alone),
     and a client that sends each PATCH body with sendfile(2) (the server alone).
     Runs are interleaved in rounds; each figure is the median of its rounds.
  2. `GET /v1/assets/{id}` of a COMPLETED asset under N concurrent keep-alive
     clients (wrk, or a Python asyncio generator where wrk is missing), in a
     process of its own, against `GET /healthz` under the same load (the
     server's floor): requests per second, p50 and p99 latency, and the
     server's CPU time per request.

The ratios are what count on a shared machine; the absolute targets (req/s,
p99) are checked as well. Every figure goes to bench/api-results.json. The
exit status is 0 when a target is missed (the report says MISSED), non-zero
only when the benchmark itself could not run.

    python bench/api.py                      # 1 GiB upload, 10 s of load per route
    python bench/api.py --size-mib 64 --seconds 3 --rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
from tusclient.client import TusClient

from vodkit.adapters.storage.base import file_etag

VODKIT = str(Path(sys.executable).parent / "vodkit")
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
RESULTS = Path(__file__).with_name("api-results.json")
MIB = 1024 * 1024
UPLOAD_TARGET = 0.5  # cp time / upload time: the upload takes at most twice as long as cp
RPS_TARGET = 500.0
P99_TARGET_MS = 100.0
WARM_UP = 2.0

# wrk sets the key on every request and prints its figures as one JSON line.
WRK_SCRIPT = textwrap.dedent(
    """
    wrk.headers["Authorization"] = os.getenv("VODKIT_BENCH_AUTHORIZATION")
    function done(summary, latency, requests)
      local e = summary.errors
      io.write(string.format(
        '{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "max_ms": %f, '
        .. '"non2xx": %d, "errors": %d}\\n',
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
        latency:percentile(99) / 1e3, latency.max / 1e3, e.status,
        e.connect + e.read + e.write + e.timeout))
    end
    """
)

# Where wrk is missing: keep-alive clients on raw asyncio streams, in a process of
# their own. Not httpx: its CPU per request would be taken from the server's 2 cores.
LOADGEN = textwrap.dedent(
    """
    import asyncio, json, os, sys, time
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    clients, seconds = int(sys.argv[4]), float(sys.argv[5])
    auth = os.environ["VODKIT_BENCH_AUTHORIZATION"]
    request = (f"GET {path} HTTP/1.1\\r\\nHost: {host}:{port}\\r\\n"
               f"Authorization: {auth}\\r\\n\\r\\n").encode()
    latencies, counts = [], {"non2xx": 0, "errors": 0}

    async def client(deadline):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            counts["errors"] += 1
            return
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\\r\\n\\r\\n")
                length = 0
                for line in head.split(b"\\r\\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                counts["non2xx"] += head[9:10] != b"2"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            counts["errors"] += 1
        finally:
            writer.close()

    async def main():
        started = time.perf_counter()
        await asyncio.gather(*(client(started + seconds) for _ in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    ordered = sorted(latencies) or [0.0]
    def pct(p):
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1e3
    print(json.dumps({"requests": len(latencies), "seconds": elapsed, "p50_ms": pct(50),
                      "p99_ms": pct(99), "max_ms": ordered[-1] * 1e3, **counts}))
    """
)


# The client's own floor: tus's answers and nothing else (no file, no hash, no
# framework), so tuspy's reading, loopback TCP and HTTP framing are all that remain.
TUS_SINK = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def drain(self):
            left = int(self.headers.get("Content-Length") or 0)
            buffer = memoryview(bytearray(1 << 20))
            while left and (got := self.rfile.readinto(buffer[: min(left, len(buffer))])):
                left -= got

        def answer(self, status, **headers):
            self.send_response(status)
            for name, value in {"Tus-Resumable": "1.0.0", **headers}.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            self.drain()
            self.answer(201, Location="/v1/uploads/sink", Upload_Offset="0")

        def do_PATCH(self):
            offset = int(self.headers["Upload-Offset"]) + int(self.headers["Content-Length"])
            self.drain()
            self.answer(204, Upload_Offset=str(offset), Vodkit_Asset_Id="sink")

    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
    """
)


# -- processes and the server ---------------------------------------------------


def stop(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """Ctrl-C first (vodkit's own way out: a job in hand goes back), then SIGKILL for
    whatever is left of the process group (a worker's FFmpeg and prober included)."""
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)
    finally:  # also when a second Ctrl-C or a SIGTERM cuts the grace short
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and exec keeps that: the
    # children must hear the SIGINT that stop() sends.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        # A session of its own, so the terminal's Ctrl-C reaches it only through stop():
        # cleanup happens in order, once.
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_sigint,
        )
    try:
        yield process
    finally:
        stop(process)


def vodkit_env(data: Path) -> dict[str, str]:
    return {**os.environ, "VODKIT_DATA_DIR": str(data), "VODKIT_LOG_LEVEL": "WARNING"}


def create_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        [VODKIT, "keys", "create", "--uploader", "bench", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key: str = json.loads(done.stdout)["key"]
    return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(log: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    env: dict[str, str]
    key: str
    pid: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@contextlib.contextmanager
def serving(data: Path, logs: Path) -> Iterator[Server]:
    env = vodkit_env(data)
    key = create_key(env)  # before the server starts: the key is in the catalog's database
    port = free_port()
    log = logs / f"serve-{port}.log"
    command = [VODKIT, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    with running(command, env, log) as process:
        base = f"http://127.0.0.1:{port}"
        answering(process, f"{base}/healthz", log)
        yield Server(base, port, env, key, process.pid)


def answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}:\n{tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.head(url, timeout=2)
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer within 60 s:\n{tail(log)}")
        time.sleep(0.1)


@contextlib.contextmanager
def tus_sink(logs: Path) -> Iterator[str]:
    port = free_port()
    log = logs / f"sink-{port}.log"
    with running([sys.executable, "-c", TUS_SINK, str(port)], dict(os.environ), log) as process:
        answering(process, f"http://127.0.0.1:{port}/", log)
        yield f"http://127.0.0.1:{port}/v1/uploads"


# -- 1. tus upload against cp -----------------------------------------------------


def make_source(path: Path, size: int) -> None:
    """Random bytes (nothing along the way can shortcut them), synced to disk so that
    the first runs do not pay for writing them back."""
    block = 16 * MIB
    with path.open("wb") as sink:
        for offset in range(0, size, block):
            sink.write(os.urandom(min(block, size - offset)))
        sink.flush()
        os.fsync(sink.fileno())


def timed(action: Callable[[], object]) -> float:
    os.sync()  # the previous run's writeback must not land on this one
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def cp(source: Path, target: Path, *, fsync: bool) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(["cp", str(source), str(target)], check=True)
        if fsync:
            subprocess.run(["sync", str(target)], check=True)  # fsync(2) of this file only

    return run


def etag(source: Path) -> Callable[[], None]:
    def run() -> None:  # as the uploads store hashes a file
        file_etag(source)

    return run


def tus(url: str, headers: dict[str, str], source: Path, chunk: int) -> Callable[[], None]:
    uploader = TusClient(url, headers=headers).uploader(
        file_path=str(source), chunk_size=chunk, metadata={"filename": source.name}
    )  # sends nothing yet

    def run() -> None:
        uploader.upload()  # the creation POST, then PATCHes of `chunk` bytes
        response: dict[str, str] = uploader.request.response_headers if uploader.request else {}
        if not response.get("vodkit-asset-id"):
            raise SystemExit(f"the last PATCH named no asset: {response}")

    return run


def tus_sendfile(server: Server, source: Path, chunk: int) -> Callable[[], None]:
    """A tus client whose bytes never pass through Python: the creation POST with httpx,
    then one PATCH a chunk whose body goes from the file to the socket with sendfile(2),
    as a C client (curl, a browser) sends it. It measures the server, where tuspy's
    `requests` reads each chunk into memory first and is itself the limit (see the sink)."""
    size = source.stat().st_size
    host, port, headers = "127.0.0.1", server.port, server.auth
    name = base64.b64encode(source.name.encode()).decode()

    def patch(path: str, stream: Any, offset: int, length: int) -> dict[str, str]:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {length}\r\n{head}Connection: close\r\n\r\n"
        )
        with socket.create_connection((host, port)) as sock:
            sock.sendall(request.encode())
            sock.sendfile(stream, offset, length)
            response = http.client.HTTPResponse(sock)
            response.begin()
            if response.status != 204:
                raise SystemExit(f"PATCH at {offset} answered {response.status}")
            return {k.lower(): v for k, v in response.getheaders()}

    def run() -> None:
        created = httpx.post(
            f"{server.base}/v1/uploads",
            headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                     "Upload-Metadata": f"filename {name}"},
        )  # fmt: skip
        created.raise_for_status()
        path = httpx.URL(created.headers["location"]).path
        answer: dict[str, str] = {}
        with source.open("rb") as stream:
            for offset in range(0, size, chunk):
                answer = patch(path, stream, offset, min(chunk, size - offset))
        if not answer.get("vodkit-asset-id"):
            raise SystemExit(f"the last PATCH named no asset: {answer}")

    return run


def remove_stored(data: Path, source: Path) -> None:
    """Check the uploaded file arrived whole, then remove it (one copy on disk at a time)."""
    size = source.stat().st_size
    stored = [p for p in (data / "uploads").rglob(source.name) if p.is_file()]
    if [p.stat().st_size for p in stored] != [size]:
        raise SystemExit(f"expected one stored upload of {size} bytes, found {stored}")
    stored[0].unlink()


RUNS = {
    "cp": "cp (baseline)",
    "cp_fsync": "cp, then fsync the copy",
    "etag": "the store's etag of the file",
    "sink_64": "tuspy into a sink, 64 MiB chunks",
    "tus_64": "tus upload, 64 MiB chunks",
    "tus_8": "tus upload, 8 MiB chunks",
    "sendfile_64": "tus, sendfile client, 64 MiB chunks",
}


def upload_bench(root: Path, size_mib: int, rounds: int) -> dict[str, Any]:
    data, logs = root / "upload-data", root / "logs"
    source = root / "source.bin"
    print(f"\n1. tus upload of {size_mib} MiB against cp, {rounds} interleaved rounds")
    make_source(source, size_mib * MIB)
    times: dict[str, list[float]] = {name: [] for name in RUNS}
    with serving(data, logs) as server, tus_sink(logs) as sink:
        copy = data / "cp-baseline.bin"  # the data directory's own file system
        uploads = f"{server.base}/v1/uploads"
        for _ in range(rounds):  # interleaved: a drift of the machine hits every run alike
            times["cp"].append(timed(cp(source, copy, fsync=False)))
            copy.unlink()
            times["tus_64"].append(timed(tus(uploads, server.auth, source, 64 * MIB)))
            remove_stored(data, source)
            times["sink_64"].append(timed(tus(sink, {}, source, 64 * MIB)))
            times["cp_fsync"].append(timed(cp(source, copy, fsync=True)))
            copy.unlink()
            times["tus_8"].append(timed(tus(uploads, server.auth, source, 8 * MIB)))
            remove_stored(data, source)
            times["etag"].append(timed(etag(source)))
            times["sendfile_64"].append(timed(tus_sendfile(server, source, 64 * MIB)))
            remove_stored(data, source)
    source.unlink()
    median = {name: statistics.median(runs) for name, runs in times.items()}
    best = {name: min(runs) for name, runs in times.items()}  # noise only ever adds time
    print(f"  {'run':<34} {'median s':>9} {'MiB/s':>8}   rounds (s)")
    for name, title in RUNS.items():
        runs = " ".join(f"{t:.2f}" for t in times[name])
        print(f"  {title:<34} {median[name]:9.2f} {size_mib / median[name]:8.0f}   {runs}")
    ratio_64 = median["cp"] / median["tus_64"]
    ratio_8 = median["cp"] / median["tus_8"]
    print(f"  cp/upload, 64 MiB chunks: {ratio_64:.2f}  (target >= {UPLOAD_TARGET}): "
          f"{verdict(ratio_64 >= UPLOAD_TARGET)};  best against best: "
          f"{best['cp'] / best['tus_64']:.2f}")  # fmt: skip
    print(f"  cp/upload,  8 MiB chunks: {ratio_8:.2f}  (reported, no target);  best against "
          f"best: {best['cp'] / best['tus_8']:.2f}")  # fmt: skip
    ratio_sendfile = median["cp"] / median["sendfile_64"]
    print(
        f"  cp/upload, sendfile client, 64 MiB chunks: {ratio_sendfile:.2f}  (the server "
        f"alone; cp/etag {median['cp'] / median['etag']:.2f} bounds it)"
    )
    # Ceilings: what the ratio could at best be, given what each run cannot avoid. The
    # server answers a PATCH once its bytes are on disk, so no upload beats cp + fsync.
    ceilings = {
        "client": median["cp"] / median["sink_64"],
        "durable": median["cp"] / median["cp_fsync"],
        "durable_then_hash": median["cp"] / (median["cp_fsync"] + median["etag"]),
    }
    print(f"  ceilings: cp/sink {ceilings['client']:.2f} (this client and loopback alone); "
          f"cp/(cp + fsync) {ceilings['durable']:.2f} (a durable copy: the floor of an "
          "upload that is on disk when answered)")  # fmt: skip
    durable = {
        name: median["cp_fsync"] / median[name] for name in ("tus_64", "tus_8", "sendfile_64")
    }
    print("  (cp + fsync)/upload: " + ", ".join(f"{n} {r:.2f}" for n, r in durable.items()))
    return {
        "size_mib": size_mib,
        "rounds": rounds,
        "client": f"tuspy {importlib.metadata.version('tuspy')} (requests, one PATCH a chunk)",
        "seconds": times,
        "median_seconds": median,
        "best_seconds": best,
        "ratio_cp_over_upload_64mib": ratio_64,
        "ratio_cp_over_upload_8mib": ratio_8,
        "ratio_cp_over_upload_sendfile_64mib": ratio_sendfile,
        "ceilings": ceilings,
        "ratio_durable_copy_over_upload": durable,
        "target_ratio": UPLOAD_TARGET,
        "met": ratio_64 >= UPLOAD_TARGET,
    }


# -- 2. GET /v1/assets/{id} under load ---------------------------------------------


def make_clip(path: Path) -> None:
    subprocess.run(
        [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=2",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip


def completed_asset(server: Server, root: Path) -> str:
    """POST a 2 s clip, then one worker pass (stopped before any measuring) to make it
    COMPLETED: the GET then reads an asset with renditions and playback URLs."""
    clip = root / "clip.mp4"
    make_clip(clip)
    with httpx.Client(base_url=server.base, headers=server.auth, timeout=60) as http:
        posted = http.post("/v1/assets", params={"filename": "clip.mp4"}, content=clip.read_bytes())
        if posted.status_code != 201:
            raise SystemExit(f"POST /v1/assets: {posted.status_code} {posted.text}")
        asset_id: str = posted.json()["assetId"]
        log = root / "logs" / "worker.log"
        with running([VODKIT, "worker", "--no-watch"], server.env, log) as worker:
            deadline = time.monotonic() + 300
            while (status := http.get(f"/v1/assets/{asset_id}").json()["status"]) not in (
                "COMPLETED",
                "FAILED",
            ):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the worker did not complete the asset:\n{tail(log)}")
                time.sleep(0.2)
        if status != "COMPLETED":
            raise SystemExit(f"the asset ended {status}:\n{tail(log)}")
    return asset_id


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non2xx: int
    errors: int
    cpu_ms: float  # the server's CPU time (user + system, every thread) per request


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (less noisy than wall time on a shared host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_version() -> str | None:
    if shutil.which("wrk") is None:
        return None
    shown = subprocess.run(["wrk", "-v"], capture_output=True, text=True)  # exits 1
    return (shown.stdout or shown.stderr).split("[")[0].strip() or "wrk"


def load(server: Server, path: str, clients: int, seconds: float, generator: str) -> Load:
    env = {**os.environ, "VODKIT_BENCH_AUTHORIZATION": f"Bearer {server.key}"}
    if generator == "wrk":
        script = Path(server.env["VODKIT_DATA_DIR"]).parent / "bench.lua"
        script.write_text(WRK_SCRIPT)
        # One thread: enough for 64 connections, and the second core stays the server's.
        command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "5s",
                   "-s", str(script), f"{server.base}{path}"]  # fmt: skip
    else:
        command = [sys.executable, "-c", LOADGEN, "127.0.0.1", str(server.port), path,
                   str(clients), str(seconds)]  # fmt: skip
    cpu = cpu_seconds(server.pid)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    cpu = cpu_seconds(server.pid) - cpu
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")
    figures = json.loads(lines[-1])
    return Load(
        rps=figures["requests"] / figures["seconds"],
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        max_ms=figures["max_ms"],
        requests=figures["requests"],
        non2xx=figures["non2xx"],
        errors=figures["errors"],
        cpu_ms=cpu * 1e3 / max(1, figures["requests"]),
    )


def middle(runs: list[Load]) -> Load:
    """Each figure's median over the rounds (counts: summed)."""
    return Load(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        max_ms=max(r.max_ms for r in runs),
        requests=sum(r.requests for r in runs),
        non2xx=sum(r.non2xx for r in runs),
        errors=sum(r.errors for r in runs),
        cpu_ms=statistics.median(r.cpu_ms for r in runs),
    )


def get_bench(root: Path, clients: int, seconds: float, rounds: int, choice: str) -> dict[str, Any]:
    wrk = wrk_version() if choice != "python" else None
    if choice == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --generator python")
    generator = "wrk" if wrk else "python"
    shown = f"{wrk}, 1 thread" if wrk else "Python asyncio streams, 1 process"
    print(f"\n2. GET under {clients} concurrent clients ({shown}), {seconds:g} s each after "
          f"{WARM_UP:g} s of warm-up, {rounds} interleaved rounds")  # fmt: skip
    with serving(root / "get-data", root / "logs") as server:
        asset_id = completed_asset(server, root)
        routes = {"healthz": "/healthz", "asset": f"/v1/assets/{asset_id}"}
        runs: dict[str, list[Load]] = {name: [] for name in routes}
        for _ in range(rounds):
            for name, path in routes.items():
                load(server, path, clients, WARM_UP, generator)
                runs[name].append(load(server, path, clients, seconds, generator))
    figures = {name: middle(r) for name, r in runs.items()}
    titles = {"healthz": "GET /healthz (the floor)", "asset": "GET /v1/assets/{id}"}
    print(f"  {'route':<26} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'CPU ms/req':>10}   req/s by round; non-2xx; errors")  # fmt: skip
    for name, f in figures.items():
        by_round = " ".join(f"{r.rps:.0f}" for r in runs[name])
        print(f"  {titles[name]:<26} {f.rps:7.0f} {f.p50_ms:7.1f} {f.p99_ms:7.1f} "
              f"{f.max_ms:7.1f} {f.cpu_ms:10.2f}   {by_round}; {f.non2xx}; {f.errors}")  # fmt: skip
    asset, floor = figures["asset"], figures["healthz"]
    clean = asset.non2xx == 0 and asset.errors == 0
    rps_met = asset.rps >= RPS_TARGET and clean
    p99_met = asset.p99_ms <= P99_TARGET_MS and clean
    print(f"  asset/healthz: req/s {asset.rps / floor.rps:.2f}, "
          f"server CPU per request {asset.cpu_ms / floor.cpu_ms:.2f}x")  # fmt: skip
    print(f"  asset req/s {asset.rps:.0f} (target >= {RPS_TARGET:.0f}): {verdict(rps_met)}")
    print(f"  asset p99 {asset.p99_ms:.1f} ms (target <= {P99_TARGET_MS:.0f} ms): "
          f"{verdict(p99_met)}")  # fmt: skip
    if not clean:
        print(f"  MISSED: {asset.non2xx} non-2xx answers and {asset.errors} socket errors")
    return {
        "clients": clients,
        "seconds": seconds,
        "warm_up_seconds": WARM_UP,
        "rounds": rounds,
        "generator": shown,
        "runs": {name: [asdict(r) for r in rs] for name, rs in runs.items()},
        "median": {name: asdict(f) for name, f in figures.items()},
        "ratio_asset_over_healthz_rps": asset.rps / floor.rps,
        "ratio_asset_over_healthz_cpu_per_request": asset.cpu_ms / floor.cpu_ms,
        "targets": {"rps": RPS_TARGET, "p99_ms": P99_TARGET_MS},
        "met": {"rps": rps_met, "p99": p99_met},
    }


# -- the report ---------------------------------------------------------------------


def busy(part: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run a part; say how busy the machine was (neighbours included) while it ran."""
    before = os.getloadavg()[0]
    figures = part(*args)
    figures["load_average"] = [round(before, 2), round(os.getloadavg()[0], 2)]
    print(f"  1-minute load average: {before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return figures


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def machine(root: Path) -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    fs = subprocess.run(
        ["findmnt", "-n", "-o", "FSTYPE,SOURCE", "--target", str(root)],
        capture_output=True,
        text=True,
    )
    # What the server runs on: uvicorn's "auto" parser (httptools where it is installed,
    # else h11), on the loop that `vodkit serve` names.
    from vodkit.entrypoints.http import LOOP as loop

    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    stack = (
        f"uvicorn {importlib.metadata.version('uvicorn')} ({parser}, {loop} loop), "
        f"fastapi {importlib.metadata.version('fastapi')}"
    )
    return {
        "cpu": f"{platform.machine()}, {os.cpu_count()} cores, {model}",
        "python": platform.python_version(),
        "server": stack,
        "temp_dir": f"{root} ({' on '.join(fs.stdout.split()) or 'unknown file system'})",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="upload size (MiB)")
    parser.add_argument("--seconds", type=float, default=10, help="load per route and round")
    parser.add_argument("--clients", type=int, default=64, help="concurrent GET clients")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each part")
    parser.add_argument("--part", choices=("all", "upload", "get"), default="all")
    parser.add_argument(
        "--generator", choices=("auto", "wrk", "python"), default="auto", help="GET load"
    )
    parser.add_argument("--dir", type=Path, default=None, help="temp dir (default: $TMPDIR)")
    parser.add_argument("--json-out", type=Path, default=RESULTS, help="where figures go")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C: every server, worker and temp file goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="vodkit-bench-api-", dir=args.dir) as tmp:
        root = Path(tmp)
        (root / "logs").mkdir()
        results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), **machine(root)}
        for name in ("cpu", "python", "server", "temp_dir"):
            print(f"{name}: {results[name]}")
        if args.part in ("all", "upload"):
            results["upload"] = busy(upload_bench, root, args.size_mib, args.rounds)
        if args.part in ("all", "get"):
            results["get"] = busy(
                get_bench, root, args.clients, args.seconds, args.rounds, args.generator
            )
    args.json_out.write_text(json.dumps(results, indent=2) + "\n")
    missed = [
        name
        for name, met in (
            ("upload ratio", results.get("upload", {}).get("met", True)),
            ("asset req/s", results.get("get", {}).get("met", {}).get("rps", True)),
            ("asset p99", results.get("get", {}).get("met", {}).get("p99", True)),
        )
        if not met
    ]
    print(f"\nfigures in {args.json_out}")
    print(f"MISSED: {', '.join(missed)}" if missed else "every target met")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything it started is gone by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
