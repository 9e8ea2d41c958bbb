"""An S3 bucket (AWS, or any S3-compatible server) as the object store.

Writes are streamed: a small object is one PutObject, a larger one a multipart
upload of ``PART``-sized parts, read ``CHUNK`` bytes at a time, so memory stays
flat whatever the size; S3 makes an object visible whole or not at all.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from ...domain.errors import LimitExceeded, ObjectNotFound, TransientError
from ...domain.keys import validate_key
from ..aws import aws_call, error_code
from .base import CHUNK, ObjectInfo

PART = 8 * 1024 * 1024  # S3 wants parts of at least 5 MiB (but the last)
MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}


def _read_part(stream: BinaryIO) -> bytes:
    buffer = bytearray()
    while len(buffer) < PART and (chunk := stream.read(min(CHUNK, PART - len(buffer)))):
        buffer += chunk
    return bytes(buffer)


def _missing(exc: ClientError) -> bool:
    return error_code(exc) in MISSING


class S3ObjectStore:
    def __init__(self, client: Any, bucket: str, *, scratch: Path | None = None) -> None:
        self.client = client
        self.bucket = bucket  # encryption is the bucket's default (the stack's KMS key)
        # where local_file downloads: a worker's work root, whose stale entries it reaps
        self.scratch = scratch

    @aws_call
    def put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        validate_key(key)
        first = _read_part(stream)
        if len(first) < PART:
            reply = self.client.put_object(Bucket=self.bucket, Key=key, Body=first)
            return self._info(key, len(first), reply)
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            size, part = 0, first
            while part:
                number = len(parts) + 1
                reply = self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=number, Body=part
                )
                parts.append({"ETag": reply["ETag"], "PartNumber": number})
                size += len(part)
                part = _read_part(stream)
            reply = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            raise
        return self._info(key, size, reply)

    @staticmethod
    def _info(key: str, size: int, reply: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=size,
            etag=str(reply.get("ETag", "")).strip('"'),
            version_id=reply.get("VersionId") or None,
        )

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        with path.open("rb") as stream:
            return self.put_stream(key, stream)

    def move_file(self, key: str, path: Path, *, etag: str | None = None) -> ObjectInfo:
        info = self.put_file(key, path)
        path.unlink()
        return info

    def size(self, key: str) -> int:
        return self.head(key).size

    @aws_call
    def head(self, key: str) -> ObjectInfo:
        validate_key(key)
        try:
            reply = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise ObjectNotFound(f"no object {key}") from exc
            raise
        return self._info(key, int(reply["ContentLength"]), reply)

    def _body(self, key: str, **request: Any) -> Any:
        """GetObject's streaming body; ObjectNotFound if there is no such object."""
        validate_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key, **request)["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise ObjectNotFound(f"no object {key}") from exc
            raise

    @aws_call
    def open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(_Body(self._body(key)), buffer_size=CHUNK))

    @aws_call
    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            validate_key(key)
            return b""
        try:
            body = self._body(key, Range=f"bytes={start}-{start + length - 1}")
        except ClientError as exc:
            if error_code(exc) == "InvalidRange":
                return b""  # starts past the end
            raise
        data: bytes = body.read()
        return data

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        if self.scratch is not None:
            self.scratch.mkdir(parents=True, exist_ok=True)
        # named as work directories are ({what}.{pid}.{random}), so a killed process's is reaped
        with tempfile.TemporaryDirectory(prefix=f"source.{os.getpid()}.", dir=self.scratch) as tmp:
            size, disk = self.head(key).size, shutil.disk_usage(tmp)
            if size > disk.total:  # a retry cannot help: the disk (Lambda's /tmp) is that small
                raise LimitExceeded(
                    f"the upload is {size / 1e9:.1f} GB, more than the {disk.total / 1e9:.1f} GB "
                    "of local storage where it must be read whole"
                )
            if size > disk.free:  # other jobs' scratch: another worker, or later, has room
                raise TransientError(
                    f"the upload is {size / 1e9:.1f} GB and only {disk.free / 1e9:.1f} GB "
                    "of local storage is free"
                )
            path = Path(tmp) / "object"
            with self.open(key) as source, path.open("wb") as sink:
                while chunk := source.read(CHUNK):
                    sink.write(chunk)
            path.chmod(0o400)
            yield path

    @aws_call
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield ObjectInfo(
                    key=item["Key"], size=int(item["Size"]), etag=item["ETag"].strip('"')
                )

    @aws_call
    def delete(self, key: str) -> None:
        validate_key(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def locate(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


class _Body(io.RawIOBase):
    """botocore's StreamingBody as a raw stream, so it can be buffered and closed."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    @aws_call  # a read of the streamed body can fail like any call
    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.body.close()
        super().close()
