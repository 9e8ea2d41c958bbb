"""The cluster footprint under test: its own schema, vhost and buckets; real worker processes.

Workers run as ``vodkit worker`` in process groups of their own (so a test can SIGKILL
one whole, Celery's children and FFmpeg with it), each with a data directory of its
own (workers share no file system). A private RabbitMQ node, on ports of its own, is
there for the tests that restart the broker or shorten its ``consumer_timeout``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from vodkit.config import load_settings
from vodkit.domain.asset import Asset, AssetStatus
from vodkit.footprints.base import App
from vodkit.footprints.cluster import ClusterSettings, bootstrap

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
ENDED = (AssetStatus.COMPLETED, AssetStatus.FAILED)
VODKIT = str(Path(sys.executable).with_name("vodkit"))  # the console script beside Python


def unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(what)
    pytest.skip(what)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rabbitmqctl(*args: str, node: str | None = None, home: Path | None = None) -> str:
    ctl = shutil.which("rabbitmqctl") if node is None else str(RABBIT_BIN / "rabbitmqctl")
    if ctl is None:
        unavailable("rabbitmqctl is not installed (Debian's rabbitmq-server)")
    env = {**os.environ, **({"HOME": str(home)} if home else {})}
    command = [str(ctl), *(["-n", node] if node else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def vhost(port: int = 5672, **ctl: Any) -> Iterator[str]:
    """A vhost of its own on a broker; its AMQP URL."""
    if not _port_open(port):
        unavailable(f"RabbitMQ is not listening on 127.0.0.1:{port}")
    name = f"t_{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", name, **ctl)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*", **ctl)
    try:
        yield f"amqp://guest:guest@127.0.0.1:{port}/{name}"
    finally:
        with suppress(RuntimeError, subprocess.TimeoutExpired):  # a node already gone
            rabbitmqctl("delete_vhost", name, **ctl)


class PrivateRabbit:
    """A RabbitMQ node of the test's own (ports, files, cookie), which it may restart."""

    def __init__(self, root: Path, *, consumer_timeout_ms: int = 1_800_000) -> None:
        if not (RABBIT_BIN / "rabbitmq-server").exists():
            unavailable("RabbitMQ's server is not installed (Debian's rabbitmq-server)")
        self.root = root
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"vk{uuid.uuid4().hex[:8]}@localhost"
        for sub in ("mnesia", "log"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "enabled_plugins").write_text("[].\n")
        (root / "env.conf").write_text("")
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            f"consumer_timeout = {consumer_timeout_ms}\n"
            "loopback_users = none\nlog.console = true\nlog.file = false\n"
        )
        # the timeout is checked on the channel's tick: every second, not every minute
        (root / "advanced.config").write_text("[{rabbit, [{channel_tick_interval, 1000}]}].\n")
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        r = self.root
        return {
            **os.environ,
            "HOME": str(r),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(r / "mnesia"),
            "RABBITMQ_LOG_BASE": str(r / "log"),
            "RABBITMQ_CONFIG_FILE": str(r / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(r / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(r / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(r / "env.conf"),
            "RABBITMQ_PID_FILE": str(r / "node.pid"),
            "ERL_CRASH_DUMP": str(r / "log" / "erl_crash.dump"),
        }

    def start(self) -> None:
        log = self.root / "log" / "console.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(RABBIT_BIN / "rabbitmq-server")],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the private RabbitMQ did not start: see {log}")
            time.sleep(0.2)
        rabbitmqctl("await_startup", node=self.node, home=self.root)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @contextmanager
    def vhost(self) -> Iterator[str]:
        with vhost(self.port, node=self.node, home=self.root) as url:
            yield url


class Cluster:
    """The settings of one isolated cluster, its worker processes, and its app in-process."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.workers: list[subprocess.Popen[bytes]] = []
        self._app: App | None = None
        self.logs: list[Path] = []

    @property
    def settings(self) -> ClusterSettings:
        values = {
            k[len("VODKIT_") :].lower(): v for k, v in self.env.items() if k.startswith("VODKIT_")
        }
        return load_settings(ClusterSettings, **values)

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = bootstrap(self.settings)
        return self._app

    def worker_env(self, name: str, **extra: str) -> dict[str, str]:
        data = self.root / "workers" / name
        (data / "tmp").mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            **self.env,
            "VODKIT_DATA_DIR": str(data),
            "TMPDIR": str(data / "tmp"),
            **extra,
        }

    def start_worker(self, name: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        self.logs.append(log)
        with log.open("ab") as out:  # the child keeps its own copy of the descriptor
            worker = subprocess.Popen(
                [VODKIT, "worker", *args],
                env=self.worker_env(name, **extra),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Celery's children and FFmpeg
            )
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, sig)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # its children (Celery's pool, FFmpeg) too
            try:
                os.killpg(worker.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                self.kill(worker, signal.SIGTERM)
        self.workers.clear()

    def vodkit(
        self, *args: str, timeout: float = 300, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VODKIT, *args],
            env=self.worker_env("cli", **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def wait_until(
        self, done: Callable[[], bool], timeout: float, what: str, poll: float = 0.5
    ) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.tail()}")
            time.sleep(poll)

    def wait_ended(self, asset_ids: list[str], timeout: float = 240) -> list[Asset]:
        def ended() -> bool:
            return all(
                (a := self.app.catalog.get(i)) is not None and a.status in ENDED for i in asset_ids
            )

        self.wait_until(ended, timeout, f"{len(asset_ids)} assets to end")
        return [a for i in asset_ids if (a := self.app.catalog.get(i)) is not None]

    def tail(self, lines: int = 30) -> str:
        out = []
        for log in self.logs:
            if log.exists():
                text = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def scratch_left(self) -> list[Path]:
        """What the workers left in their scratch (work roots and temporary directories)."""
        left: list[Path] = []
        for data in (self.root / "workers").glob("*"):
            for sub in ("work", "tmp"):
                if (data / sub).is_dir():
                    left += [p for p in (data / sub).iterdir() if not p.name.startswith("pymp-")]
        return left

    def close(self) -> None:
        self.stop_workers()
        if self._app is not None:
            db = getattr(self._app.catalog, "db", None)
            if db is not None:
                db.close()


def cluster_env(*, database_url: str, broker_url: str, s3_endpoint: str) -> dict[str, str]:
    """Everything a cluster's processes need: settings, and credentials for the store."""
    suffix = uuid.uuid4().hex[:10]
    return {
        "VODKIT_BACKEND": "cluster",
        "VODKIT_DATABASE_URL": database_url,
        "VODKIT_BROKER_URL": broker_url,
        "VODKIT_S3_ENDPOINT_URL": s3_endpoint,
        "VODKIT_UPLOADS_BUCKET": f"up-{suffix}",
        "VODKIT_OUTPUTS_BUCKET": f"out-{suffix}",
        "VODKIT_RETRY_BACKOFF": "0.2",
        "VODKIT_LEASE_SECONDS": "6",
        "VODKIT_REAP_PERIOD": "1",
        "VODKIT_LOG_LEVEL": "INFO",
        "VODKIT_X264_PRESET": "ultrafast",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def make_buckets(env: dict[str, str]) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env["VODKIT_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for name in ("VODKIT_UPLOADS_BUCKET", "VODKIT_OUTPUTS_BUCKET"):
        s3.create_bucket(Bucket=env[name])


@contextmanager
def running_cluster(
    root: Path, postgres_dsn: str, s3_endpoint: str, broker_url: str
) -> Iterator[Cluster]:
    """A cluster footprint on the test's schema (``postgres_dsn``), broker URL and buckets
    of its own (no workers yet), closed after."""
    schema = postgres_dsn.rsplit("search_path=", 1)[1].rstrip("'")
    env = cluster_env(
        database_url=f"{postgres_dsn} application_name={schema}",
        broker_url=broker_url,
        s3_endpoint=s3_endpoint,
    )
    make_buckets(env)
    running = Cluster(root, env)
    try:
        yield running
    finally:
        running.close()


@contextmanager
def private_broker_cluster(
    root: Path, postgres_dsn: str, s3_endpoint: str, **broker: Any
) -> Iterator[Cluster]:
    """``running_cluster`` on a RabbitMQ node of the test's own (``PrivateRabbit(**broker)``,
    as ``cluster.broker``), which the test may restart."""
    node = PrivateRabbit(root / "rabbit", **broker)
    node.start()
    try:
        with node.vhost() as url, running_cluster(root, postgres_dsn, s3_endpoint, url) as running:
            running.broker = node  # type: ignore[attr-defined]
            yield running
    finally:
        node.stop()
