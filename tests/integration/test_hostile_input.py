"""A hostile corpus through the real pipeline: each upload fails fast, with a specific
reason, without touching what it points at; the next valid upload completes."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import FFMPEG, make_clip
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.config import load_settings
from vodkit.domain.asset import AssetStatus
from vodkit.domain.errors import InvalidInput
from vodkit.footprints.base import App
from vodkit.footprints.embedded import EmbeddedSettings, bootstrap

pytestmark = pytest.mark.integration
CANARY = f"CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def http_canary() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every connection made to it."""
    connections: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(CANARY.encode())

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def verify_request(self, request: object, client_address: object) -> bool:
            connections.append(str(client_address))
            return True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", connections
    server.shutdown()
    server.server_close()


def playlist(*uris: str) -> bytes:
    body = "".join(f"#EXTINF:10,\n{uri}\n" for uri in uris)
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n{body}#EXT-X-ENDLIST\n".encode()


def corpus(directory: Path, http: str) -> dict[str, tuple[bytes | Path, str]]:
    """name -> (content or file, the failure code it must end with)."""
    canary_text = directory / "canary.txt"
    canary_text.write_text(CANARY)
    canary_video = make_clip(directory / "canary.mp4", size="320x240", seconds=1)
    huge_h264 = directory / "huge-h264.bin"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "color=c=gray:size=16000x9000:rate=1", "-frames:v", "1", "-c:v", "libx264",
         "-preset", "ultrafast", "-x264-params", "level=6.2", "-f", "mp4", str(huge_h264)],
        check=True,
    )  # fmt: skip
    whole = make_clip(directory / "whole.mp4", size="640x360", seconds=4)
    faststart = make_clip(
        directory / "faststart.mp4", size="640x360", seconds=4, extra=("-movflags", "+faststart")
    )
    local = playlist(f"file://{canary_text}", str(canary_text))
    return {
        "hls-local.mp4": (local, "Playlist"),
        "hls-local.m3u8": (local, "Playlist"),
        "hls-concat.mp4": (playlist(f"concat:{canary_text}|{canary_text}"), "Playlist"),
        "hls-http.mp4": (playlist(f"{http}/segment.ts"), "Playlist"),
        "hls-http.m3u8": (playlist(f"{http}/segment.ts"), "Playlist"),
        "list.ffconcat": (f"ffconcat version 1.0\nfile '{canary_video}'\n".encode(), "Playlist"),
        "list.mp4": (f"ffconcat version 1.0\nfile '{canary_video}'\n".encode(), "Playlist"),
        # sound files are read by their own demuxers now: a playlist so named is still refused
        "hls-local.mp3": (local, "Playlist"),
        "hls-http.flac": (playlist(f"{http}/segment.ts"), "Playlist"),
        "list.ogg": (f"ffconcat version 1.0\nfile '{canary_video}'\n".encode(), "Playlist"),
        "paths.mp3": (f"{canary_text}\n{http}/a.mp3\n".encode() * 50, "NotMedia"),
        "random.mp3": (os.urandom(256 * 1024), "NotMedia"),
        "huge.y4m": (
            b"YUV4MPEG2 W60000 H60000 F30:1 Ip A1:1 C420jpeg\nFRAME\n" + os.urandom(4096),
            "UnsupportedContainer",
        ),
        "huge-h264.mp4": (huge_h264, "LimitExceeded"),
        "empty.mp4": (b"", "EmptyFile"),
        "random.mp4": (os.urandom(256 * 1024), "NotMedia"),
        "text.mp4": (b"Dear reader,\nthis is not a video.\n" * 100, "NotMedia"),
        "truncated.mp4": (whole.read_bytes()[: whole.stat().st_size // 3], "NotMedia"),
        "truncated-faststart.mp4": (
            faststart.read_bytes()[: faststart.stat().st_size // 2],
            "Truncated",
        ),
    }


def upload(app: App, directory: Path, name: str, content: bytes | Path) -> str:
    path = content if isinstance(content, Path) else directory / "upload"
    if not isinstance(content, Path):
        path.write_bytes(content)
    return app.assets.upload_file(path, "mallory", name).asset_id


def test_the_hostile_corpus(
    tmp_path: Path,
    http_canary: tuple[str, list[str]],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    url, connections = http_canary
    files = tmp_path / "files"
    files.mkdir()
    app = bootstrap(load_settings(EmbeddedSettings, data_dir=tmp_path / "data", retry_backoff=0))
    worker = app.processing.worker()
    for name, (content, code) in corpus(files, url).items():
        asset_id = upload(app, files, name, content)
        started = time.monotonic()
        worker.drain()
        elapsed = time.monotonic() - started
        asset = app.catalog.get(asset_id)
        assert asset is not None, name
        assert asset.status is AssetStatus.FAILED, name
        (error,) = asset.errors
        assert error.code == code, (name, error)
        assert error.message, name
        assert elapsed < 30, (name, elapsed)

    good = upload(app, files, "fine.mp4", make_clip(files / "fine.mp4", seconds=1))
    worker.drain()
    done = app.catalog.get(good)
    assert done is not None and done.status is AssetStatus.COMPLETED

    assert connections == []  # nothing ever dialled the HTTP canary
    captured = capfd.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert CANARY not in text
    for path in (tmp_path / "data").rglob("*"):  # outputs, catalog, queue, work files
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
    assert not app.ingest_queue.dead_letters() and not app.queues["transcode"].dead_letters()


@pytest.mark.parametrize(("name", "codec"), [("still.png", "png"), ("still.jpg", "mjpeg"),
                                            ("still.gif", "gif")])  # fmt: skip
def test_a_still_image_is_refused_as_one_not_as_damaged(
    tmp_path: Path, name: str, codec: str
) -> None:
    image = tmp_path / name
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1",
         "-c:v", codec, "-pix_fmt", "rgb8" if codec == "gif" else "yuvj420p" if codec == "mjpeg"
         else "rgb24", str(image)],
        check=True,
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="still images are not supported") as refused:
        PyavProber().probe(image)
    assert refused.value.code == "NotMedia" and "damaged" not in str(refused.value)
