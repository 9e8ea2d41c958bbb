"""One contract, every object store: the in-memory fake, the local directory, S3 (moto)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import xxhash

from tests.conftest import AwsSession
from vodkit.adapters.storage.base import CHUNK, ObjectStore, sampled_copy
from vodkit.adapters.storage.local import LocalObjectStore
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.storage.s3 import PART, S3ObjectStore
from vodkit.domain.errors import InvalidKey, LimitExceeded, ObjectNotFound, TransientError


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore("b")
    if request.param == "s3":
        return s3_store(request.getfixturevalue("aws"))
    return LocalObjectStore(tmp_path / "root", bucket="b")


def etag_of(store: ObjectStore, data: bytes) -> str:
    """The etag a store gives these bytes: S3's md5, or the local stores' xxh3-128."""
    if isinstance(store, S3ObjectStore):
        return hashlib.md5(data).hexdigest()
    return "xxh3-" + xxhash.xxh3_128(data).hexdigest()


def s3_store(aws: AwsSession) -> S3ObjectStore:
    client = aws.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3ObjectStore(client, bucket)


class CountingStream(io.RawIOBase):
    """A stream that records how much each read asked for."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.requests: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.requests.append(n)
        take = self.left if n < 0 else min(n, self.left)
        self.left -= take
        return b"v" * take


def test_put_head_open_round_trip(store: ObjectStore) -> None:
    info = store.put_stream("uploads/a/x.mp4", io.BytesIO(b"hello"))
    assert (info.size, info.etag) == (5, etag_of(store, b"hello"))
    assert store.head("uploads/a/x.mp4").etag == info.etag
    assert store.put_stream("uploads/a/y.mp4", io.BytesIO(b"hellO")).etag != info.etag
    with store.open("uploads/a/x.mp4") as stream:
        assert stream.read() == b"hello"
    with store.local_file("uploads/a/x.mp4") as path:
        assert path.read_bytes() == b"hello"


def test_a_file_moved_in_is_stored_whole_and_gone_from_where_it_was(
    store: ObjectStore, tmp_path: Path
) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"v" * 3000)
    info = store.move_file("uploads/a/0123456789abcdef0123456789abcdef/x.mp4", source)
    assert not source.exists()
    assert (info.size, info.etag) == (3000, etag_of(store, b"v" * 3000))
    key = "uploads/a/0123456789abcdef0123456789abcdef/x.mp4"
    assert store.size(key) == 3000 and store.read_range(key, 2990, 100) == b"v" * 10
    with pytest.raises(ObjectNotFound):
        store.size("uploads/a/none.mp4")


def test_writes_are_streamed_in_chunks(store: ObjectStore) -> None:
    stream = CountingStream(5 * CHUNK + 7)
    info = store.put_stream("big/object", stream)  # type: ignore[arg-type]
    assert info.size == 5 * CHUNK + 7
    assert all(0 < n <= CHUNK for n in stream.requests) and len(stream.requests) >= 6


def test_ranges_of_an_object(store: ObjectStore) -> None:
    data = bytes(range(256)) * 4
    store.put_stream("uploads/a/r.bin", io.BytesIO(data))
    assert store.read_range("uploads/a/r.bin", 0, 10) == data[:10]
    assert store.read_range("uploads/a/r.bin", 1000, 100) == data[1000:]  # short at the end
    assert store.read_range("uploads/a/r.bin", 5000, 10) == b""
    with pytest.raises(ObjectNotFound):
        store.read_range("uploads/a/none.bin", 0, 10)


def test_a_large_object_is_sampled_at_both_ends(store: ObjectStore) -> None:
    data = bytes(range(256)) * 64  # 16 KiB
    store.put_stream("uploads/a/big.bin", io.BytesIO(data))
    with sampled_copy(store, "uploads/a/big.bin", len(data), edge=1024) as (path, sampled):
        copy = path.read_bytes()
    assert sampled and len(copy) == len(data)
    assert copy[:1024] == data[:1024] and copy[-1024:] == data[-1024:]
    assert copy[1024:-1024] == bytes(len(data) - 2048)  # the hole reads as zeros
    with sampled_copy(store, "uploads/a/big.bin", len(data), edge=4096) as (path, sampled):
        assert not sampled and path.read_bytes() == data  # small: the whole object


def test_a_wide_sample_is_fetched_in_bounded_pieces(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytes(range(256)) * 64  # 16 KiB
    store.put_stream("uploads/a/big.bin", io.BytesIO(data))
    monkeypatch.setattr("vodkit.adapters.storage.base.SAMPLE_EDGE", 256)  # a piece's size
    asked: list[int] = []
    read_range = store.read_range

    def counted(key: str, start: int, length: int) -> bytes:
        asked.append(length)
        return read_range(key, start, length)

    monkeypatch.setattr(store, "read_range", counted)
    with sampled_copy(store, "uploads/a/big.bin", len(data), edge=1024) as (path, sampled):
        copy = path.read_bytes()
    assert sampled and copy[:1024] == data[:1024] and copy[-1024:] == data[-1024:]
    assert asked == [256] * 8  # four pieces an end, never the whole end at once


def test_missing_objects(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.head("nope")
    with pytest.raises(ObjectNotFound):
        store.open("nope")
    with pytest.raises(ObjectNotFound), store.local_file("nope"):
        pass


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "a\\..\\b", "x\x00y"]
)
def test_traversal_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put_stream(key, io.BytesIO(b"x"))
    with pytest.raises(InvalidKey):
        store.head(key)


def test_list_and_delete(store: ObjectStore) -> None:
    for key in ("p/a", "p/b/c", "q/d"):
        store.put_stream(key, io.BytesIO(b"1"))
    assert [o.key for o in store.list("p/")] == ["p/a", "p/b/c"]
    store.delete("p/a")
    store.delete("p/a")  # deleting twice is fine
    assert [o.key for o in store.list("p/")] == ["p/b/c"]
    assert store.locate("q/d")


# --- local directory specifics ------------------------------------------------


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, bucket="b")

    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            raise OSError("the client went away")

    with pytest.raises(TransientError, match="the client went away"):
        store.put_stream("uploads/a/x.mp4", Broken())  # type: ignore[arg-type]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_symlinks_cannot_escape_the_root(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("canary")
    root = tmp_path / "root"
    (root / "uploads").mkdir(parents=True)
    os.symlink(secret, root / "uploads" / "link.mp4")
    os.symlink(tmp_path, root / "uploads" / "dir")
    store = LocalObjectStore(root, bucket="b")
    for key in ("uploads/link.mp4", "uploads/dir/secret.txt"):
        with pytest.raises(InvalidKey):
            store.head(key)


def test_a_key_prefix_confines_the_store(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, bucket="b", key_prefix="uploads/")
    store.put_stream("uploads/a/x", io.BytesIO(b"1"))
    with pytest.raises(InvalidKey):
        store.put_stream("catalog.sqlite3", io.BytesIO(b"1"))
    with pytest.raises(InvalidKey):
        store.put_stream("uploads/a/.vodkit-part-x", io.BytesIO(b"1"))


# --- S3 specifics ---------------------------------------------------------------


def test_s3_large_objects_go_up_in_parts_and_come_back_whole(aws: AwsSession) -> None:
    store = s3_store(aws)
    stream = CountingStream(2 * PART + 3)
    info = store.put_stream("uploads/a/big.mp4", stream)  # type: ignore[arg-type]
    assert info.size == 2 * PART + 3 and info.etag.endswith("-3")  # a three-part upload
    assert all(0 < n <= CHUNK for n in stream.requests)
    assert store.head("uploads/a/big.mp4").size == info.size
    with store.local_file("uploads/a/big.mp4") as path:
        assert path.stat().st_size == info.size


def test_s3_a_failed_multipart_write_leaves_nothing_behind(aws: AwsSession) -> None:
    store = s3_store(aws)

    class BreaksLate(CountingStream):
        def read(self, n: int = -1) -> bytes:
            if self.left < PART // 2:
                raise OSError("the client went away")
            return super().read(n)

    with pytest.raises(OSError, match="went away"):
        store.put_stream("uploads/a/x.mp4", BreaksLate(2 * PART))  # type: ignore[arg-type]
    assert list(store.list()) == []
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_s3_an_object_larger_than_the_local_disk_is_refused_before_downloading(
    aws: AwsSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Lambda /tmp is at most 10 GB: a bigger upload must fail with a reason, not fill the
    disk, fail transiently and be retried into the dead-letter queue."""
    store = s3_store(aws)
    store.put_stream("uploads/a/big.mp4", io.BytesIO(b"x" * 4096))
    disk = shutil.disk_usage(tempfile.gettempdir())
    monkeypatch.setattr(
        "vodkit.adapters.storage.s3.shutil.disk_usage", lambda path: disk._replace(total=4095)
    )
    with pytest.raises(LimitExceeded, match="local storage"), store.local_file("uploads/a/big.mp4"):
        pytest.fail("no local file may be offered")
    monkeypatch.undo()
    with store.local_file("uploads/a/big.mp4") as path:
        assert path.stat().st_size == 4096
