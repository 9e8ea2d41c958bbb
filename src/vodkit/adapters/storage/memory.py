"""An in-memory object store for unit tests."""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ...domain.errors import ObjectNotFound
from ...domain.keys import validate_key
from .base import ObjectInfo, copy_hashing, etag_of, new_digest


class MemoryObjectStore:
    def __init__(self, bucket: str = "memory") -> None:
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        validate_key(key)
        sink = io.BytesIO()
        size, etag = copy_hashing(stream, sink)
        with self._lock:
            self.objects[key] = sink.getvalue()
        return ObjectInfo(key=key, size=size, etag=etag)

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        with path.open("rb") as stream:
            return self.put_stream(key, stream)

    def move_file(self, key: str, path: Path, *, etag: str | None = None) -> ObjectInfo:
        info = self.put_file(key, path)
        path.unlink()
        return info

    def size(self, key: str) -> int:
        return len(self._get(key))

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        return self.put_stream(key, io.BytesIO(data))

    def _get(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            if key not in self.objects:
                raise ObjectNotFound(f"no object {key}")
            return self.objects[key]

    def head(self, key: str) -> ObjectInfo:
        data = self._get(key)
        digest = new_digest()
        digest.update(data)
        return ObjectInfo(key=key, size=len(data), etag=etag_of(digest))

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self._get(key))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        return self._get(key)[start : start + length]

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        data = self._get(key)
        with tempfile.TemporaryDirectory(prefix="vodkit-mem-") as tmp:
            path = Path(tmp) / "object"
            path.write_bytes(data)
            yield path

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._lock:
            items = sorted(self.objects.items())
        for key, data in items:
            if key.startswith(prefix):
                yield ObjectInfo(key=key, size=len(data), etag="")

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def locate(self, key: str) -> str:
        return f"memory://{self.bucket}/{key}"
