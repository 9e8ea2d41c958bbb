"""Every install works: the wheel that ``python -m build`` makes, in a fresh venv per extra set.

The wheel is built once (sdist, then the wheel from the sdist, as PyPI's would be) and
installed with pip into four venvs at once: no extra, ``[api]``, ``[cluster]`` and
``[aws]``. Each runs its footprint's smoke command, ``--version``, and one command that
needs an extra it lacks, which must say in one line which extra to install.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.cluster import free_port, unavailable
from tests.conftest import make_clip

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "src/vodkit/entrypoints/http/static/index.html"
EXTRA_SETS = ["none", "api", "cluster", "aws"]
HINT = re.compile(r"error: .+ needs \S+, which is not installed: pip install 'vodkit\[(\w+)\]'")


class Install:
    """A venv being made with ``pip install WHEEL[EXTRA]``; ``ready()`` waits for it."""

    def __init__(self, root: Path, wheel: Path, extra: str) -> None:
        self.root, self.extra = root, extra
        self.log = root.with_suffix(".log")
        target = str(wheel) if extra == "none" else f"{wheel}[{extra}]"
        pip = "-m pip install --quiet --disable-pip-version-check --no-compile"  # CPU
        script = f"'{sys.executable}' -m venv '{root}' && '{root}/bin/python' {pip} '{target}'"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                ["sh", "-c", script], stdout=sink, stderr=sink, env=self.env()
            )

    def env(self, **extra: str) -> dict[str, str]:
        """The machine's environment, less whatever would put another vodkit on the path."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return {**env, "VODKIT_DATA_DIR": str(self.root.parent / f"data-{self.extra}"), **extra}

    def ready(self) -> Install:
        if self.process.wait(timeout=900) != 0:
            pytest.fail(f"pip install for {self.extra} failed:\n{self.log.read_text()[-3000:]}")
        return self

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.root / "bin/vodkit"), *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            cwd=self.root.parent,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("build") is None:
        unavailable("the build package is a test dependency: pip install -e '.[dev]'")
    if not BUNDLE.is_file():
        unavailable(f"the web page is not built ({BUNDLE} is missing): make web")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = out.glob("vodkit-*.whl")
    return built


@pytest.fixture(scope="session")
def installs(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Install]:
    root = tmp_path_factory.mktemp("venvs")
    return {extra: Install(root / extra, wheel, extra) for extra in EXTRA_SETS}  # all at once


@pytest.fixture(params=EXTRA_SETS)
def install(request: pytest.FixtureRequest, installs: dict[str, Install]) -> Install:
    return installs[request.param].ready()


def test_the_wheel_carries_the_web_page(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    page = BUNDLE.read_text()
    assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', page)
    assert assets, page
    for name in ["index.html", *assets]:
        assert f"vodkit/entrypoints/http/static/{name}" in names, name


def test_each_install_tells_its_version(install: Install, wheel: Path) -> None:
    done = install.run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == wheel.name.split("-")[1]


MISSING = {  # extra set -> a command that needs an extra it lacks, and that extra
    "none": (["aws", "package", "--bucket", "b"], {}, "aws"),
    "api": (["db", "upgrade"], {"VODKIT_BACKEND": "cluster"}, "cluster"),
    "cluster": (["serve"], {}, "api"),
    "aws": (["serve"], {}, "api"),
}


def test_a_command_needing_a_missing_extra_names_it_in_one_line(install: Install) -> None:
    args, env, extra = MISSING[install.extra]
    done = install.run(*args, **env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    hint = HINT.fullmatch(lines[0])
    assert hint is not None and hint[1] == extra, lines[0]


def test_no_extra_runs_the_embedded_cli(installs: dict[str, Install], tmp_path: Path) -> None:
    bare = installs["none"].ready()
    python = str(bare.root / "bin/python")
    for module in ("httpx", "standardwebhooks", "fastapi", "boto3", "psycopg", "celery"):
        found = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
        assert found.returncode != 0, f"{module} came without an extra"
    clip = make_clip(tmp_path / "clip.mp4", size="160x90", seconds=1, rate=10)
    done = bare.run("transcode", str(clip), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((tmp_path / "out").rglob("*.m3u8")) and list((tmp_path / "out").rglob("*.mpd"))
    for command in (["assets", "list"], ["keys", "list"], ["dlq", "list"]):
        done = bare.run(*command)
        assert done.returncode == 0, (command, done.stderr)


def test_the_api_extra_serves_the_api_and_the_page(installs: dict[str, Install]) -> None:
    api = installs["api"].ready()
    port = free_port()
    log = api.root.with_name("serve.log")
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(api.root / "bin/vodkit"), "serve", "--port", str(port)],
            stdout=sink,
            stderr=sink,
            env=api.env(),
            cwd=api.root.parent,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        with urllib.request.urlopen(f"{base}/", timeout=10) as reply:
            page = reply.read().decode()
        (script,) = re.findall(r'<script type="module"[^>]* src="(/assets/[^"]+)"', page)
        with urllib.request.urlopen(f"{base}{script}", timeout=10) as reply:
            assert reply.status == 200 and reply.read()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def test_the_cluster_extra_upgrades_postgresql(
    installs: dict[str, Install], postgres_dsn: str
) -> None:
    import psycopg

    cluster = installs["cluster"].ready()
    env = {"VODKIT_BACKEND": "cluster", "VODKIT_DATABASE_URL": postgres_dsn}
    done = cluster.run("db", "upgrade", **env)
    assert done.returncode == 0, done.stderr
    first = int(done.stderr.split()[0])
    assert first > 0, done.stderr
    again = cluster.run("db", "upgrade", **env)
    assert again.returncode == 0 and again.stderr.startswith("0 migration(s)"), again.stderr
    schema = postgres_dsn.rsplit("search_path=", 1)[1].rstrip("'")
    with psycopg.connect(postgres_dsn) as conn:
        (tables,) = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone() or (0,)
    assert tables > 0


def test_the_aws_extra_packages_the_stack(installs: dict[str, Install], tmp_path: Path) -> None:
    aws = installs["aws"].ready()
    done = aws.run(
        "aws", "package", "--bucket", "artifacts", "--out", str(tmp_path),
        "--no-dependencies", "--template", str(ROOT / "infra/aws/template.yaml"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "lambda.zip") as artifact:
        assert "vodkit/entrypoints/aws_lambda.py" in artifact.namelist()
