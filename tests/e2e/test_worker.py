"""``vodkit worker`` processes: upload-triggered work, crashes, dead letters, many workers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import make_clip
from tests.e2e.conftest import VODKIT, Vodkit, assets_where
from vodkit.adapters.queue.sqlite import SqliteQueue
from vodkit.domain.asset import AssetStatus, JobState

pytestmark = pytest.mark.e2e


def slow_copy(source: Path, target: Path, pieces: int = 5, pause: float = 0.3) -> None:
    """Write a file the way a slow upload does: in pieces, with pauses."""
    data = source.read_bytes()
    step = len(data) // pieces + 1
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as sink:
        for i in range(0, len(data), step):
            sink.write(data[i : i + step])
            sink.flush()
            time.sleep(pause)


def test_a_file_dropped_into_uploads_is_processed(vodkit: Vodkit, clips: dict[str, Path]) -> None:
    worker = vodkit.worker()
    vodkit.wait_for(lambda: (vodkit.data / "uploads").is_dir(), what="the worker to start")
    slow_copy(clips["small"], vodkit.data / "uploads" / "bob" / "dropped.mp4")
    shutil.copy(clips["tiny"], vodkit.data / "uploads" / "stray.mp4")  # outside the layout
    (done,) = vodkit.wait_for(
        lambda: assets_where(vodkit, lambda a: a.filename == "dropped.mp4" and a.status.terminal),
        what="the dropped file to be processed",
    )
    assert done.status is AssetStatus.COMPLETED and done.uploader_id == "bob"
    assert done.file_size == clips["small"].stat().st_size  # the whole file, not a part
    (stray,) = vodkit.wait_for(
        lambda: assets_where(vodkit, lambda a: a.source_key == "uploads/stray.mp4")
    )
    assert stray.status is AssetStatus.FAILED and stray.errors[0].code == "InvalidKey"
    assert len(vodkit.catalog.query()) == 2
    assert worker.poll() is None  # still serving


def test_uploads_that_arrived_while_no_worker_ran_are_caught_up(
    vodkit: Vodkit, clips: dict[str, Path]
) -> None:
    target = vodkit.data / "uploads" / "dave" / "early.mp4"
    target.parent.mkdir(parents=True)
    shutil.copy(clips["tiny"], target)
    vodkit.worker()
    (done,) = vodkit.wait_for(lambda: assets_where(vodkit, lambda a: a.status.terminal))
    assert done.status is AssetStatus.COMPLETED and done.filename == "early.mp4"


def ffmpeg_of(pid: int) -> list[int]:
    """FFmpeg processes started for worker ``pid`` (their work directory names it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ffmpeg" in cmdline and f".{pid}.".encode() in cmdline:
                found.append(int(proc.name))
    return found


def test_a_worker_killed_mid_transcode_loses_nothing(vodkit: Vodkit, tmp_path: Path) -> None:
    env = {"VODKIT_VISIBILITY_TIMEOUT": "3", "VODKIT_X264_PRESET": "medium"}
    clip = make_clip(tmp_path / "long.mp4", size="1280x720", seconds=12)
    first = vodkit.worker("--no-watch", env=env)
    asset_id = vodkit.run("ingest", str(clip), "--uploader", "erin").stdout.strip()
    vodkit.wait_for(
        lambda: any(j.percent > 5 for j in vodkit.catalog.jobs(asset_id)),
        what="the transcode to be under way",
    )
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()
    stalled_at = vodkit.catalog.jobs(asset_id)[0].percent
    second = vodkit.worker("--no-watch", env=env)
    # The lease was extended at most a heartbeat (1 s) before the kill, so the message stays
    # invisible for at least 2 more seconds; then the second worker restarts the job from 0 %.
    vodkit.wait_for(
        lambda: vodkit.catalog.jobs(asset_id)[0].percent < stalled_at,
        what="the job to be redelivered",
    )
    redelivered_after = time.monotonic() - killed_at
    assert 2.0 <= redelivered_after < 20, redelivered_after
    vodkit.wait_for(
        lambda: not ffmpeg_of(first.pid), timeout=10, what="the orphaned FFmpeg to exit"
    )
    (done,) = vodkit.wait_for(
        lambda: assets_where(vodkit, lambda a: a.asset_id == asset_id and a.status.terminal),
        timeout=180,
    )
    assert done.status is AssetStatus.COMPLETED
    assert vodkit.catalog.jobs(asset_id)[0].state is JobState.COMPLETE
    shown = json.loads(vodkit.run("assets", "show", asset_id, "--json").stdout)
    assert Path(shown["outputs"]["hls"]).is_file()
    vodkit.stop(second)
    assert not list((vodkit.data / "work").iterdir())  # the dead worker's files were cleaned up


@pytest.mark.parametrize(
    ("command", "stop_signal"),
    [(("worker", "--no-watch"), signal.SIGTERM), (("ingest", "--wait"), signal.SIGINT)],
    ids=["worker-sigterm", "ingest-wait-ctrl-c"],
)
def test_a_stopped_worker_hands_its_job_straight_back(
    vodkit: Vodkit, tmp_path: Path, command: tuple[str, ...], stop_signal: int
) -> None:
    env = {**vodkit.env, "VODKIT_VISIBILITY_TIMEOUT": "600", "VODKIT_X264_PRESET": "medium"}
    clip = make_clip(tmp_path / "long.mp4", size="1280x720", seconds=12)
    if command[0] == "worker":
        proc = vodkit.worker(*command[1:], env=env)
        vodkit.run("ingest", str(clip), "--uploader", "erin")
    else:
        proc = subprocess.Popen(
            [VODKIT, "ingest", str(clip), "--uploader", "erin", "--wait"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    (asset,) = vodkit.wait_for(lambda: assets_where(vodkit, lambda a: True))
    vodkit.wait_for(lambda: any(j.percent > 5 for j in vodkit.catalog.jobs(asset.asset_id)))
    proc.send_signal(stop_signal)
    code = proc.wait(timeout=20)
    assert code == (0 if command[0] == "worker" else 130)  # 130: interrupted, as shells expect
    # visible again at once, not after the 600 s lease
    assert SqliteQueue(vodkit.data / "queue.sqlite3", "transcode").depth().visible == 1
    vodkit.wait_for(lambda: not ffmpeg_of(proc.pid), timeout=10, what="FFmpeg to stop")
    vodkit.worker("--no-watch")
    vodkit.wait_for(
        lambda: assets_where(vodkit, lambda a: a.status is AssetStatus.COMPLETED), timeout=180
    )


def test_a_message_failing_three_times_is_dead_lettered_and_redriven(vodkit: Vodkit) -> None:
    vodkit.run("assets", "list")  # creates the data directory
    SqliteQueue(vodkit.data / "queue.sqlite3", "ingest").send('{"not": "an S3 event"}')
    worker = vodkit.worker("--no-watch")
    vodkit.wait_for(
        lambda: json.loads(vodkit.run("dlq", "list", "--json").stdout)["deadLetters"],
        what="the message to be dead-lettered",
    )
    vodkit.stop(worker)
    (letter,) = json.loads(vodkit.run("dlq", "list", "--json").stdout)["deadLetters"]
    assert (letter["queue"], letter["receiveCount"]) == ("ingest", 3)
    assert "InvalidEvent" in letter["lastError"]
    assert "receives=3" in vodkit.run("dlq", "list").stdout
    redriven = vodkit.run("dlq", "redrive")
    assert redriven.returncode == 0 and "1 message(s) redriven" in redriven.stdout
    assert json.loads(vodkit.run("dlq", "list", "--json").stdout)["deadLetters"] == []
    assert SqliteQueue(vodkit.data / "queue.sqlite3", "ingest").depth().visible == 1


def test_several_workers_share_one_data_directory(
    vodkit: Vodkit, clips: dict[str, Path], tmp_path: Path
) -> None:
    logs = [vodkit.data.parent / f"w{i}.log" for i in range(2)]
    for log in logs:
        vodkit.worker("--no-watch", log=log)
    ids = []
    for i in range(4):
        copy = tmp_path / f"clip{i}.mp4"
        shutil.copy(clips["tiny"], copy)
        with copy.open("ab") as sink:
            sink.write(os.urandom(16))  # distinct content: distinct assets
        ids.append(vodkit.run("ingest", str(copy), "--uploader", "team").stdout.strip())
    vodkit.wait_for(
        lambda: len(assets_where(vodkit, lambda a: a.status is AssetStatus.COMPLETED)) == 4,
        timeout=120,
    )
    for proc in vodkit.workers:
        vodkit.stop(proc)
    runs = sum(log.read_text().count("complete in") for log in logs)
    assert runs == 4  # every asset transcoded exactly once


def test_the_worker_serves_prometheus_metrics(vodkit: Vodkit, clips: dict[str, Path]) -> None:
    port = 19000 + os.getpid() % 1000
    vodkit.worker("--metrics-port", str(port))
    vodkit.run("ingest", str(clips["tiny"]), "--uploader", "m")
    vodkit.wait_for(lambda: assets_where(vodkit, lambda a: a.status is AssetStatus.COMPLETED))

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return str(response.read().decode())

    text = vodkit.wait_for(lambda: "vodkit_processed_assets_total 1.0" in scrape() and scrape())
    assert "vodkit_completed_jobs_total 1.0" in text
    assert "vodkit_job_processing_seconds_count 1.0" in text
