"""tus uploads over the HTTP API, as clients really make them: a real tus client (tuspy)
killed half-way and resumed by another, whose asset then plays in hls.js; and a 2 GiB
upload that the server takes in without holding it in memory."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api_server import free_port, serve
from tests.conftest import make_clip
from tests.e2e import test_playback as playback
from tests.e2e.conftest import VODKIT

pytestmark = pytest.mark.e2e
# the playback tests' fixtures (they skip without Chromium, and fail so under CI=true)
site = playback.site
browser = playback.browser
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = {**TUS, "Content-Type": "application/offset+octet-stream"}
MiB = 1024 * 1024

# The client that gets killed: tuspy in a process of its own, one 1 MiB PATCH at a time,
# paced so that the test sees it half-way (it prints the upload's URL, then each offset).
KILLED_CLIENT = """
import sys, time
from tusclient.client import TusClient

url, token, path, pause = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
client = TusClient(url + "/v1/uploads", headers={"Authorization": "Bearer " + token})
with open(path, "rb") as stream:
    uploader = client.uploader(
        file_stream=stream, chunk_size=1024 * 1024, metadata={"filename": "clip.mp4"}
    )
    uploader.set_url(uploader.create_url())
    print("url", uploader.url, flush=True)
    while uploader.offset < uploader.stop_at:
        uploader.upload_chunk()
        print("offset", uploader.offset, flush=True)
        time.sleep(pause)
print("done", flush=True)
"""


class Recording(io.FileIO):
    """A file that remembers what was read from it: (where, how many bytes)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self.reads: list[tuple[int, int]] = []

    def read(self, size: int = -1) -> bytes:
        where = self.tell()
        data = super().read(size)
        self.reads.append((where, len(data)))
        return data


def _sha256(stream: Any) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MiB):
        digest.update(chunk)
    return digest.hexdigest()


def _lines(proc: subprocess.Popen[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """The process's stdout, line by line, without blocking the test."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


def test_tuspy_killed_half_way_resumes_and_the_asset_plays_in_hls_js(
    tmp_path: Path,
    browser: Any,
    site: tuple[str, Path],
) -> None:
    from tusclient.client import TusClient

    clip = make_clip(tmp_path / "clip.mp4", size="1280x720", seconds=10)
    size = clip.stat().st_size
    assert size > 4 * MiB  # a few chunks before half-way, a few after
    with clip.open("rb") as stream:
        source_sha256 = _sha256(stream)

    with serve(tmp_path / "data") as served:
        alice = served.client("alice")
        token = served.key("alice")

        # the first client: tuspy in its own process, SIGKILLed once the server has half
        errors = tmp_path / "killed-client.stderr"
        with errors.open("w") as sink:
            killed = subprocess.Popen(
                [sys.executable, "-c", KILLED_CLIENT, served.url, token, str(clip), "0.4"],
                stdout=subprocess.PIPE, stderr=sink, text=True,
            )  # fmt: skip
        lines, pump = _lines(killed)
        try:
            first = lines.get(timeout=30)
            assert first.startswith("url "), (first, errors.read_text())
            url = first.split(" ", 1)[1]
            assert url.startswith(f"{served.url}/v1/uploads/")
            deadline = time.monotonic() + 60
            while True:
                head = alice.head(url, headers=TUS)
                assert head.status_code == 200, head.text
                if int(head.headers["upload-offset"]) >= size // 2:
                    break
                assert killed.poll() is None, errors.read_text()
                assert time.monotonic() < deadline, "the first client never got half-way"
                time.sleep(0.02)
            killed.send_signal(signal.SIGKILL)
            assert killed.wait(timeout=10) == -signal.SIGKILL
        finally:
            if killed.poll() is None:
                killed.kill()
                killed.wait()
            pump.join(timeout=10)  # at EOF now: the process is gone
            assert killed.stdout is not None
            killed.stdout.close()
        reported = []
        while not lines.empty():
            reported.append(lines.get())
        assert "done" not in reported, reported  # it really died before the end

        # what the server holds now (the kill may have landed mid-PATCH: let it settle)
        def offset_now() -> int:
            reply = alice.head(url, headers=TUS)
            assert reply.status_code == 200, reply.text
            assert "vodkit-asset-id" not in reply.headers  # not finished
            assert int(reply.headers["upload-length"]) == size
            return int(reply.headers["upload-offset"])

        held, previous = offset_now(), -1
        while held != previous:
            time.sleep(0.5)
            previous, held = held, offset_now()
        assert size // 2 <= held < size, (held, size)

        # a new client resumes at the server's offset and sends only the rest
        resumer = TusClient(
            f"{served.url}/v1/uploads", headers={"Authorization": f"Bearer {token}"}
        )
        with Recording(clip) as stream:
            uploader = resumer.uploader(
                file_stream=stream, url=url, chunk_size=MiB, metadata={"filename": "clip.mp4"}
            )
            assert uploader.offset == held  # it asked the server (HEAD), not the start
            uploader.upload()
            reads = list(stream.reads)
        sent = sum(n for _, n in reads)
        assert sent == size - held, (sent, size, held)
        assert reads[0][0] == held and all(
            where + n == after for (where, n), (after, _) in pairwise(reads)
        )
        assert uploader.offset == size
        asset_id = uploader.request.response_headers.get("vodkit-asset-id")
        assert asset_id, uploader.request.response_headers  # the last PATCH names the asset
        assert alice.head(url, headers=TUS).headers["vodkit-asset-id"] == asset_id

        done = served.wait_for(alice, asset_id, "COMPLETED", timeout=240)
        assert done["filename"] == "clip.mp4" and done["fileSize"] == size
        source_key = served.api.app.assets.get(asset_id).source_key
        with served.api.app.uploads.open(source_key) as stored:
            assert _sha256(stored) == source_sha256  # byte for byte what the clip is

        # and it plays: hls.js on another origin, from the served /play/... URL
        hls = done["playback"]["hls"]
        assert hls.startswith(f"{served.url}/play/") and hls.endswith("/stream/master.m3u8")
        base = hls.removesuffix("/stream/master.m3u8")
        result = playback._page_result(
            browser, f"{site[0]}/index.html?player=hls&seek=3.2&base={quote(base, safe='')}"
        )
        assert result.get("ok"), result
        assert result["time"] >= 3.2 and result["levels"]


# 2 GiB --------------------------------------------------------------------------------

BIG = 2 * 1024**3
PATCH = 64 * MiB
PEAK_RSS = 300 * 1000 * 1000  # bytes: 300 MB


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@pytest.fixture
def big_server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes], Path]]:
    """``vodkit serve --no-worker`` in a process of its own, and a key for uploader u."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("peak RSS is read from /proc/<pid>/status (Linux)")
    data = tmp_path / "data"
    env = {
        **os.environ,
        "VODKIT_DATA_DIR": str(data),
        "VODKIT_LOG_LEVEL": "INFO",
    }
    made = subprocess.run(
        [VODKIT, "keys", "create", "--uploader", "u", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["uploaderId"] == "u" and not key["admin"]
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [VODKIT, "serve", "--no-worker", "--port", str(port)],
            env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"vodkit serve did not start\n{log.read_text()}"
            time.sleep(0.1)
        assert "vodkit" in Path(f"/proc/{proc.pid}/cmdline").read_text()  # the server itself
        yield url, key["key"], proc, data
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(data, ignore_errors=True)  # 2 GiB of it


def test_a_2_gib_tus_upload_keeps_the_servers_memory_flat(
    tmp_path: Path, big_server: tuple[str, str, subprocess.Popen[bytes], Path]
) -> None:
    url, token, proc, data = big_server
    source = tmp_path / "big.bin"
    with source.open("wb") as sink:  # sparse: free to make, but not all zeros
        sink.truncate(BIG)
        for at in range(0, BIG, PATCH):
            sink.seek(at)
            sink.write(f"vodkit {at:>12}\n".encode())
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            start_hwm = _status_kib(proc.pid, "VmHWM")
            created = client.post(
                "/v1/uploads",
                headers={
                    **TUS,
                    "Upload-Length": str(BIG),
                    "Upload-Metadata": "filename " + base64.b64encode(b"big.mp4").decode(),
                },
            )
            assert created.status_code == 201, created.text
            location = created.headers["location"]

            def body(stream: Any, at: int) -> Iterator[bytes]:
                stream.seek(at)
                left = PATCH
                while left:
                    chunk = stream.read(min(MiB, left))
                    assert chunk
                    left -= len(chunk)
                    yield chunk

            peak_rss = 0
            last: httpx.Response | None = None
            with source.open("rb") as stream:
                for at in range(0, BIG, PATCH):
                    last = client.patch(
                        location,
                        headers={**OFFSET, "Upload-Offset": str(at), "Content-Length": str(PATCH)},
                        content=body(stream, at),
                    )
                    assert last.status_code == 204, (at, last.status_code, last.text)
                    assert int(last.headers["upload-offset"]) == at + PATCH
                    peak_rss = max(peak_rss, _status_kib(proc.pid, "VmRSS"))
            assert last is not None and last.headers.get("vodkit-asset-id"), last.headers
            head = client.head(location, headers=TUS)
            assert int(head.headers["upload-offset"]) == BIG
            assert head.headers["vodkit-asset-id"] == last.headers["vodkit-asset-id"]
        hwm = _status_kib(proc.pid, "VmHWM") * 1024
        assert proc.poll() is None
        stored = [p for p in (data / "uploads").rglob("*") if p.is_file()]
        assert [p.stat().st_size for p in stored] == [BIG], stored  # moved into the store
        print(
            f"vodkit serve: peak RSS {hwm / MiB:.0f} MiB (before the upload "
            f"{start_hwm / 1024:.0f} MiB; largest RSS after a PATCH {peak_rss / 1024:.0f} MiB)"
        )
        assert hwm < PEAK_RSS, f"the server's peak RSS was {hwm / MiB:.0f} MiB"
        # streamed, not buffered: the server never held even one whole PATCH in memory
        assert hwm - start_hwm * 1024 < PATCH, (hwm, start_hwm)
    finally:
        source.unlink(missing_ok=True)
