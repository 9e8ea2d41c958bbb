"""Running ``vodkit`` as a user would: the installed executable, in its own processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vodkit.adapters.catalog.sqlite import SqliteCatalog
from vodkit.domain.asset import Asset

VODKIT = str(Path(sys.executable).parent / "vodkit")


class Vodkit:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.env = {
            **os.environ,
            "VODKIT_DATA_DIR": str(data),
            "VODKIT_POLL_INTERVAL": "0.2",
            "VODKIT_SETTLE_SECONDS": "0.5",
            "VODKIT_RETRY_BACKOFF": "0",
            "VODKIT_LOG_LEVEL": "INFO",
        }
        self.workers: list[subprocess.Popen[bytes]] = []

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VODKIT, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def json(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        done = self.run(*args, "--json", env=env)
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 1, f"stdout must be one JSON object: {done.stdout!r} {done.stderr}"
        return done.returncode, json.loads(lines[0])

    def worker(
        self, *args: str, env: dict[str, str] | None = None, log: Path | None = None
    ) -> subprocess.Popen[bytes]:
        log = log or self.data.parent / f"worker-{len(self.workers)}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [VODKIT, "worker", *args], env={**self.env, **(env or {})}, stdout=sink, stderr=sink
            )
        self.workers.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def catalog(self) -> SqliteCatalog:
        return SqliteCatalog(self.data / "catalog.sqlite3")

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-6000:]}"
            for log in sorted(self.data.parent.glob("*.log"))
        )

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 90.0, what: str = "condition"
    ) -> Any:
        """Poll until ``predicate`` is truthy; on timeout, fail with the workers' logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")


def assets_where(vodkit: Vodkit, check: Callable[[Asset], bool]) -> list[Asset]:
    if not (vodkit.data / "catalog.sqlite3").exists():
        return []
    return [a for a in vodkit.catalog.query() if check(a)]


@pytest.fixture
def vodkit(tmp_path: Path) -> Iterator[Vodkit]:
    kit = Vodkit(tmp_path / "data")
    yield kit
    for proc in kit.workers:
        kit.stop(proc)
