"""The tus routes keep the event loop free (an append's fsync runs in a worker thread),
and a finished upload's etag comes from a digest kept as it arrived, not a re-read."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import xxhash

from vodkit.adapters.storage import local
from vodkit.config import load_settings
from vodkit.domain.keys import asset_id_for, upload_key
from vodkit.entrypoints.http import create_app
from vodkit.footprints.embedded import EmbeddedSettings, api
from vodkit.services.uploads import HAND_OVER, Sink

TUS = {"Tus-Resumable": "1.0.0"}


def _fsyncs_recorded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The threads that call ``os.fsync`` from now on."""
    synced_on: list[int] = []
    fsync = os.fsync

    def recorded(fd: int) -> None:
        synced_on.append(threading.get_ident())
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recorded)
    return synced_on


def test_an_appends_fsync_runs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    synced_on = _fsyncs_recorded(monkeypatch)

    async def upload() -> tuple[int, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=create_app(served))
        auth = {**TUS, "Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            created = await http.post("/v1/uploads", headers={**auth, "Upload-Length": "6"})
            patch = {**auth, "Content-Type": "application/offset+octet-stream"}
            first = await http.patch(
                created.headers["location"], headers={**patch, "Upload-Offset": "0"}, content=b"abc"
            )
            return threading.get_ident(), [created, first]

    loop_thread, (created, first) = anyio.run(upload)
    assert (created.status_code, first.status_code) == (201, 204)
    assert first.headers["upload-offset"] == "3"
    assert synced_on and loop_thread not in synced_on


async def _patch_streamed(
    http: httpx.AsyncClient, token: str, length: int, body: AsyncIterator[bytes]
) -> tuple[str, httpx.Response]:
    auth = {**TUS, "Authorization": f"Bearer {token}"}
    created = await http.post("/v1/uploads", headers={**auth, "Upload-Length": str(length)})
    url = created.headers["location"]
    patch = {**auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    return url, await http.patch(url, headers=patch, content=body)


def test_an_append_past_the_length_keeps_what_fit_synced_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    synced_on = _fsyncs_recorded(monkeypatch)
    piece = HAND_OVER // 2

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):  # the fourth runs past the length
            yield os.urandom(piece)

    async def upload() -> tuple[int, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(served))
        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            url, answer = await _patch_streamed(http, token, 4 * piece - 10, body())
            auth = {**TUS, "Authorization": f"Bearer {token}"}
            return threading.get_ident(), answer, await http.head(url, headers=auth)

    loop_thread, answer, head = anyio.run(upload)
    assert answer.status_code == 413
    assert head.headers["upload-offset"] == str(3 * piece)
    assert synced_on and loop_thread not in synced_on
    assert not [t for t in threading.enumerate() if t.name == "upload-follower"]


def test_a_cancelled_append_keeps_what_arrived_synced_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    synced_on = _fsyncs_recorded(monkeypatch)
    sent = os.urandom(3 * HAND_OVER)

    async def upload() -> tuple[int, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(served))
        arrived, where = anyio.Event(), {}

        async def body() -> AsyncIterator[bytes]:
            yield sent
            arrived.set()  # the server asks for more: what was sent is written
            await anyio.sleep_forever()
            yield b""

        async def append(http: httpx.AsyncClient) -> None:
            where["url"], _ = await _patch_streamed(http, token, 2 * len(sent), body())

        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            async with anyio.create_task_group() as group:
                group.start_soon(append, http)
                await arrived.wait()
                group.cancel_scope.cancel()  # the request's task, the server's with it
            upload_id = served.uploads.directory.glob("*.part").__next__().stem
            url = f"/v1/uploads/{upload_id}"
            auth = {**TUS, "Authorization": f"Bearer {token}"}
            return threading.get_ident(), await http.head(url, headers=auth)

    loop_thread, head = anyio.run(upload)
    assert head.headers["upload-offset"] == str(len(sent))
    assert synced_on and loop_thread not in synced_on
    assert not [t for t in threading.enumerate() if t.name == "upload-follower"]


def _post_simple(
    served: Any, token: str, content: Any, query: str = ""
) -> tuple[int, httpx.Response]:
    """``POST /v1/assets?filename=clip.mp4`` in process; the event loop's thread, and the
    answer."""

    async def upload() -> tuple[int, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(served))
        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            answer = await http.post(
                f"/v1/assets?filename=clip.mp4{query}",
                headers={"Authorization": f"Bearer {token}"},
                content=content,
            )
            return threading.get_ident(), answer

    return anyio.run(upload)


def test_a_simple_upload_is_synced_off_the_event_loop_before_it_becomes_an_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    events: list[tuple[str, int]] = []
    fsync, move_in = os.fsync, served.app.assets.move_in

    def synced(fd: int) -> None:
        events.append(("fsync", threading.get_ident()))
        fsync(fd)

    def moved(*args: Any, **kwargs: Any) -> Any:
        events.append(("move_in", threading.get_ident()))
        return move_in(*args, **kwargs)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(served.app.assets, "move_in", moved)

    loop_thread, answer = _post_simple(served, token, b"not really a video")
    assert answer.status_code == 201
    names = [name for name, _ in events]
    assert names[0] == "fsync" and "move_in" in names  # synced before it is handed over
    assert loop_thread not in [thread for name, thread in events if name == "fsync"]


def test_a_simple_upload_is_hashed_as_it_arrives_and_never_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    reread = _count_rereads(monkeypatch)
    body = os.urandom(3 * HAND_OVER + 5)

    _, answer = _post_simple(served, token, body)
    assert answer.status_code == 201 and not reread
    asset = served.app.catalog.get(answer.json()["assetId"])
    assert asset is not None and asset.source_version == "xxh3-" + xxhash.xxh3_128(body).hexdigest()


def test_a_simple_upload_past_the_limit_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path, max_file_size_mb=1))
    _, token = served.keys.create("u1")

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse it by
        for _ in range(3):
            yield os.urandom(HAND_OVER // 2)

    _, answer = _post_simple(served, token, body())
    assert answer.status_code == 413 and "larger than" in answer.json()["detail"]
    assert not list((tmp_path / "tus").iterdir()) and not served.app.catalog.query()
    assert not [t for t in threading.enumerate() if t.name == "upload-follower"]


def test_a_simple_upload_for_a_bad_uploader_is_refused_before_its_body_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("ops", admin=True)

    _, answer = _post_simple(served, token, os.urandom(100_000), "&uploader=bad/name")
    assert answer.status_code == 400 and "uploader id" in answer.json()["detail"]
    tus = tmp_path / "tus"
    assert not (tus.exists() and list(tus.iterdir())) and not served.app.catalog.query()


def _tus_upload(
    served: Any, token: str, parts: list[bytes], *, bad_checksum_at: int = -1
) -> tuple[str, list[httpx.Response]]:
    """Create an upload of ``parts`` and PATCH them one by one; the part numbered
    ``bad_checksum_at`` is first sent once with a wrong checksum (460) and then again."""

    async def upload() -> tuple[str, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=create_app(served))
        auth = {**TUS, "Authorization": f"Bearer {token}"}
        length = str(sum(map(len, parts)))
        metadata = "filename " + base64.b64encode(b"clip.mp4").decode()
        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            created = await http.post(
                "/v1/uploads",
                headers={**auth, "Upload-Length": length, "Upload-Metadata": metadata},
            )
            url = created.headers["location"]
            answers, offset = [], 0
            patch = {**auth, "Content-Type": "application/offset+octet-stream"}
            for number, part in enumerate(parts):
                at = {**patch, "Upload-Offset": str(offset)}
                if number == bad_checksum_at:
                    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
                    answers.append(
                        await http.patch(
                            url, headers={**at, "Upload-Checksum": f"md5 {wrong}"}, content=part
                        )
                    )
                answers.append(await http.patch(url, headers=at, content=part))
                offset += len(part)
            return url.rsplit("/", 1)[1], answers

    return anyio.run(upload)


def _expected_asset(served: Any, upload_id: str, data: bytes) -> str:
    key = upload_key("u1", "clip.mp4", upload_id)
    etag = "xxh3-" + xxhash.xxh3_128(data).hexdigest()
    return asset_id_for(served.uploads.assets.uploads.bucket, key, etag)


def _count_rereads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    reread: list[Path] = []
    whole = local.file_etag

    def counted(path: Path) -> tuple[int, str]:
        reread.append(path)
        return whole(path)

    monkeypatch.setattr(local, "file_etag", counted)
    return reread


def test_an_upload_is_hashed_as_it_arrives_and_never_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    reread = _count_rereads(monkeypatch)
    parts = [os.urandom(9 << 20), os.urandom(5), os.urandom(1 << 20)]  # pieces and leftovers
    upload_id, answers = _tus_upload(served, token, parts)
    assert [a.status_code for a in answers] == [204, 204, 204]
    assert "vodkit-asset-id" not in answers[1].headers
    assert answers[-1].headers["vodkit-asset-id"] == _expected_asset(
        served, upload_id, b"".join(parts)
    )
    assert reread == []
    assert (
        served.uploads.assets.uploads.read_range(upload_key("u1", "clip.mp4", upload_id), 0, 9)
        == parts[0][:9]
    )


def test_an_upload_resumed_elsewhere_or_after_a_bad_checksum_is_hashed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(EmbeddedSettings, data_dir=tmp_path)
    served = api(settings)
    _, token = served.keys.create("u1")
    reread = _count_rereads(monkeypatch)
    parts = [b"a" * 1000, b"b" * 2000, b"c" * 3000]
    upload_id, answers = _tus_upload(served, token, parts, bad_checksum_at=1)
    assert [a.status_code for a in answers] == [204, 460, 204, 204]
    assert answers[-1].headers["vodkit-asset-id"] == _expected_asset(
        served, upload_id, b"".join(parts)
    )
    assert len(reread) == 1  # the failed append left the running digest behind

    # another process (a second app over the same directory) finishes what this one began
    first, rest = parts[0], parts[1:]
    upload = served.uploads.create("u1", sum(map(len, parts)), {"filename": "clip.mp4"})
    with served.uploads.appending(upload, 0) as sink:
        sink.write(first)
    other = api(settings)
    offset = len(first)
    for part in rest:
        with other.uploads.appending(
            other.uploads._load(upload.upload_id) or upload, offset
        ) as sink:
            sink.write(part)
        offset += len(part)
    finished = other.uploads.finish(upload.upload_id)
    assert finished.asset_id == _expected_asset(served, upload.upload_id, b"".join(parts))
    assert len(reread) == 2


def test_a_sinks_bytes_are_hashed_while_they_arrive(tmp_path: Path) -> None:
    data = [os.urandom(HAND_OVER // 4) for _ in range(6)]  # handed over once, half left
    with (tmp_path / "part").open("w+b") as stream:
        stream.write(b"before")  # an earlier append's bytes, already in the digest
        sink = Sink(stream, 6, 1 << 30, None, xxhash.xxh3_128(b"before"))
        for chunk in data:
            sink.write(chunk)
        assert sink._follower is not None and sink._follower.is_alive()  # before any sync
        assert sink.flushed == HAND_OVER
        sink.sync()
    assert sink._follower is None and sink.hashed == sink.written == 6 * (HAND_OVER // 4)
    assert sink.whole.hexdigest() == xxhash.xxh3_128(b"before" + b"".join(data)).hexdigest()


def test_a_sinks_bytes_go_to_disk_while_later_ones_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fdatasync

    def recorded(fd: int) -> None:
        real(fd)
        synced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fdatasync", recorded)
    with (tmp_path / "part").open("w+b") as stream:
        sink = Sink(stream, 0, 1 << 30, None, None)  # no digest kept: still written back
        sink.write(os.urandom(HAND_OVER))
        deadline = time.monotonic() + 10
        while sink.followed < HAND_OVER and time.monotonic() < deadline:
            time.sleep(0.01)
        assert synced and sink.followed == HAND_OVER  # on disk before the append ends
        sink.write(b"tail")
        sink.sync()
    assert sink.synced == sink.written == HAND_OVER + 4 and sink.hashed == 0


def test_a_small_append_is_synced_once_and_hashed_without_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    fsync = os.fsync
    monkeypatch.setattr(os, "fdatasync", lambda fd: calls.append("fdatasync"))
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), fsync(fd)))
    with (tmp_path / "part").open("w+b") as stream:
        sink = Sink(stream, 0, 1 << 30, None, xxhash.xxh3_128())
        sink.write(b"small")
        sink.sync()
    assert calls == ["fsync"] and sink._follower is None
    assert sink.etag() == "xxh3-" + xxhash.xxh3_128(b"small").hexdigest()


def test_an_abandoned_append_stops_its_follower_after_the_piece_it_is_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def slow(fd: int) -> None:
        calls.append(fd)
        time.sleep(0.3)

    monkeypatch.setattr(os, "fdatasync", slow)
    with (tmp_path / "part").open("w+b") as stream:
        sink = Sink(stream, 0, 1 << 30, None, xxhash.xxh3_128())
        for _ in range(4):
            sink.write(os.urandom(HAND_OVER))
        sink.drain(abandon=True)  # the append failed: its bytes are to be cut back
        assert sink._follower is None and len(calls) <= 1 and sink.followed < sink.written
        assert sink.etag() is None  # the digest is short of the bytes: a store hashes them
        sink.write(os.urandom(HAND_OVER))
        assert sink._follower is None  # none starts again


def test_a_failed_writeback_fails_the_sync_though_the_last_fsync_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    with (tmp_path / "part").open("w+b") as stream:
        sink = Sink(stream, 0, 1 << 30, None, xxhash.xxh3_128())
        sink.write(os.urandom(HAND_OVER))
        with pytest.raises(OSError, match="Input/output"):
            sink.sync()  # the real fsync after it reports success: it must not count
        assert sink.synced == 0
        with pytest.raises(OSError, match="Input/output"):
            sink.sync()


def test_a_failed_fsync_fails_the_sync_and_every_later_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def failing(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)
    with (tmp_path / "part").open("w+b") as stream:
        sink = Sink(stream, 0, 10, None, xxhash.xxh3_128())
        sink.write(b"abc")
        for _ in range(2):
            with pytest.raises(OSError, match="Input/output"):
                sink.sync()
        assert len(calls) == 1 and sink.synced == 0  # never asked again, never counted


def test_a_failed_flush_stops_the_follower_and_fails_every_later_sync(tmp_path: Path) -> None:
    class FullDisk:  # a buffered file whose flush meets a full disk (ENOSPC)
        def __init__(self, stream: Any) -> None:
            self.stream, self.full = stream, False

        def write(self, chunk: bytes) -> int:
            return int(self.stream.write(chunk))

        def flush(self) -> None:
            if self.full:
                raise OSError(28, "No space left on device")
            self.stream.flush()

        def fileno(self) -> int:
            return int(self.stream.fileno())

    with (tmp_path / "part").open("w+b") as raw:
        stream = FullDisk(raw)
        sink = Sink(stream, 0, 4 * HAND_OVER, None, xxhash.xxh3_128())
        sink.write(os.urandom(HAND_OVER))  # a follower starts
        stream.full = True
        sink.write(b"more")
        for _ in range(2):
            with pytest.raises(OSError, match="No space"):
                sink.sync()
        assert sink.synced == 0
        assert not [t for t in threading.enumerate() if t.name == "upload-follower"]
