"""The object store port: S3's model (bucket, keys, etags), streamed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024  # every copy is streamed in chunks of this size


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    version_id: str | None = None


class ObjectStore(Protocol):
    bucket: str

    def put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        """Store ``stream`` under ``key`` in chunks; readers see all of it or nothing."""
        ...

    def put_file(self, key: str, path: Path) -> ObjectInfo: ...

    def head(self, key: str) -> ObjectInfo:
        """Raise ObjectNotFound if absent."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def local_file(self, key: str) -> AbstractContextManager[Path]:
        """A local, read-only path to the object for as long as the context lasts."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def delete(self, key: str) -> None: ...

    def locate(self, key: str) -> str:
        """Where a person finds the object: a file path or a URL."""
        ...


def file_md5(path: Path) -> tuple[int, str]:
    """Size and md5 hex of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def copy_hashing(source: BinaryIO, sink: BinaryIO) -> tuple[int, str]:
    """Copy in chunks; return (size, md5 hex), which is S3's etag of a simple put."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        sink.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()
