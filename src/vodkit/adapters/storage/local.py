"""A local directory as an object store (the embedded footprint).

A key maps to ``root/key`` only after ``validate_key`` and a check that the
resolved path stays inside ``root`` (no traversal, no symlink escape). Writes
go to a hidden temporary file that is renamed into place, so a reader (or the
upload watcher) never sees a half-written object.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ...domain.errors import InvalidKey, ObjectNotFound, TransientError
from ...domain.keys import validate_key
from .base import ObjectInfo, copy_hashing, file_etag

TEMP_PREFIX = ".vodkit-part-"


class LocalObjectStore:
    def __init__(self, root: Path, *, bucket: str = "local", key_prefix: str = "") -> None:
        self.root = root.resolve()
        self.bucket = bucket
        self.key_prefix = key_prefix  # when set, only keys under it are allowed

    def path_for(self, key: str) -> Path:
        validate_key(key)
        if not key.startswith(self.key_prefix):
            raise InvalidKey(f"keys in this store must start with {self.key_prefix!r}")
        if any(part.startswith(TEMP_PREFIX) for part in key.split("/")):
            raise InvalidKey("the object key uses a reserved name")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey("the object key points outside the store")
        return path

    def key_for(self, path: Path) -> str:
        """The key of a file inside the store (for the upload watcher)."""
        relative = path.resolve().relative_to(self.root).as_posix()
        self.path_for(relative)
        return relative

    def put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        path = self.path_for(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as sink:
                    size, etag = copy_hashing(stream, sink)
                    sink.flush()
                    os.fsync(sink.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TransientError(f"cannot write object {key}: {exc.strerror or exc}") from exc
        return ObjectInfo(key=key, size=size, etag=etag)

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        with path.open("rb") as stream:
            return self.put_stream(key, stream)

    def move_file(self, key: str, path: Path, *, etag: str | None = None) -> ObjectInfo:
        target = self.path_for(key)
        try:
            size, etag = (path.stat().st_size, etag) if etag else file_etag(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(path, target)
            except OSError:  # another file system: copy, then remove
                self.put_file(key, path)
                path.unlink()
        except OSError as exc:
            raise TransientError(f"cannot write object {key}: {exc.strerror or exc}") from exc
        return ObjectInfo(key=key, size=size, etag=etag)

    def size(self, key: str) -> int:
        try:
            path = self.path_for(key)
            if not path.is_file():
                raise ObjectNotFound(f"no object {key}")
            return path.stat().st_size
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no object {key}") from exc

    def head(self, key: str) -> ObjectInfo:
        try:
            size, etag = file_etag(self.path_for(key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key}") from exc
        except OSError as exc:
            raise TransientError(f"cannot read object {key}: {exc.strerror or exc}") from exc
        return ObjectInfo(key=key, size=size, etag=etag)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path_for(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key}") from exc

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with self.open(key) as stream:
            stream.seek(start)
            return stream.read(length)

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        path = self.path_for(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key}")
        yield path

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root / self.key_prefix
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            if not path.is_file() or path.is_symlink() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                stat = path.stat()
                yield ObjectInfo(key=key, size=stat.st_size, etag="")

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def locate(self, key: str) -> str:
        return str(self.path_for(key))
