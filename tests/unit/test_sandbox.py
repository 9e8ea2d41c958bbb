"""The cage every FFmpeg and probe run lives in: a deadline and a memory ceiling."""

from __future__ import annotations

import sys
import time

import pytest

from vodkit.adapters import sandbox


def test_a_run_past_its_deadline_is_killed() -> None:
    started = time.monotonic()
    finished = sandbox.run(
        [sys.executable, "-c", "import time; time.sleep(60)"], sandbox.Limits(timeout=1)
    )
    assert finished.timed_out and not finished.ok
    assert time.monotonic() - started < 10


def test_memory_beyond_the_limit_is_refused() -> None:
    hungry = "b = bytearray(1024 * 1024 * 1024); print('got it')"
    caged = sandbox.run(
        [sys.executable, "-c", hungry], sandbox.Limits(60, memory_bytes=512 * 1024**2)
    )
    assert not caged.ok and "MemoryError" in caged.stderr and "got it" not in caged.stdout
    free = sandbox.run([sys.executable, "-c", hungry], sandbox.Limits(60, memory_bytes=4 * 1024**3))
    assert free.ok and "got it" in free.stdout


def test_stdout_lines_stream_to_the_callback() -> None:
    lines: list[str] = []
    finished = sandbox.run(
        [sys.executable, "-c", "print('a=1'); print('b=2')"],
        sandbox.Limits(30),
        on_line=lines.append,
    )
    assert finished.ok and lines == ["a=1", "b=2"] and finished.stdout == ""


def test_the_child_sees_no_credentials_only_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-secret")
    monkeypatch.setenv("VODKIT_DATABASE_URL", "postgresql://user:pw@db/vodkit")
    show = "import os, sys; print(sorted(os.environ)); print(sys.path)"
    finished = sandbox.run(
        [sys.executable, "-c", show], sandbox.Limits(30), env={"PYTHONPATH": "/extra/path"}
    )
    names, path = finished.stdout.splitlines()
    assert finished.ok and "canary" not in finished.stdout and "VODKIT" not in names
    assert "PATH" in names and "/extra/path" in path
