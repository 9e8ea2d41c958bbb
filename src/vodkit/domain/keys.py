"""Object keys: what a safe key is, the upload layout, deterministic ids.

Keys are untrusted strings. They are validated here once, by rules every
object store shares, and they never reach a local path or an FFmpeg argument
without passing through ``validate_key``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass

from .errors import InvalidKey

UPLOAD_PREFIX = "uploads/"
MAX_KEY_BYTES = 1024  # S3's limit
MAX_SEGMENT_BYTES = 255  # a file name on common file systems
UPLOADER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
UPLOAD_ID = re.compile(r"[0-9a-f]{32}")  # makes two uploads of one name two objects
MAX_FILENAME_BYTES = 200
# Namespace of asset ids: uuid5(namespace, bucket, key, version) is stable forever.
ASSET_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4f7b-9a8e-2f6a9c4d1b7e")


def validate_key(key: str) -> str:
    """Refuse keys that could escape a directory or confuse a tool; return it unchanged."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("the object key is empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(f"the object key is longer than {MAX_KEY_BYTES} bytes")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        raise InvalidKey("the object key contains control characters")
    if key.startswith("/") or "\\" in key:
        raise InvalidKey("the object key must be relative and use '/' separators")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey("the object key has an empty, '.' or '..' path segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(
                f"a segment of the object key is longer than {MAX_SEGMENT_BYTES} bytes"
            )
    return key


@dataclass(frozen=True)
class UploadKey:
    key: str
    uploader_id: str
    filename: str


def parse_upload_key(key: str) -> UploadKey:
    """Split ``uploads/{uploaderId}/{filename}`` (or ``uploads/{uploaderId}/{uploadId}/
    {filename}``, as the HTTP API stores them); anything else is refused with a reason."""
    validate_key(key)
    parts = key.split("/")
    if len(parts) == 4 and UPLOAD_ID.fullmatch(parts[2]):
        del parts[2]
    if len(parts) != 3 or parts[0] + "/" != UPLOAD_PREFIX:
        raise InvalidKey("the object key must look like uploads/{uploaderId}/{filename}")
    _, uploader_id, filename = parts
    check_uploader_id(uploader_id)
    if filename.startswith("."):
        raise InvalidKey("the file name must not start with '.'")
    return UploadKey(key=key, uploader_id=uploader_id, filename=filename)


def check_uploader_id(uploader_id: str) -> str:
    """Refuse an uploader id that is not ``UPLOADER_ID`` (one key segment); return it."""
    if not UPLOADER_ID.fullmatch(uploader_id):
        raise InvalidKey(
            "the uploader id must be 1-128 letters, digits or . _ @ - and start with a letter "
            "or digit"
        )
    return uploader_id


def upload_key(uploader_id: str, filename: str, upload_id: str | None = None) -> str:
    """The key an upload of ``filename`` by ``uploader_id`` is stored under; with an
    ``upload_id``, one of its own, whatever else bears that name."""
    where = f"{upload_id}/" if upload_id else ""
    return parse_upload_key(f"{UPLOAD_PREFIX}{uploader_id}/{where}{filename}").key


def safe_filename(name: str) -> str:
    """A name a user sent, made fit to be a key's last segment: no directories, no control
    characters, no leading dots, at most MAX_FILENAME_BYTES (the extension kept)."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cs", "Cf"))
    base = base.strip().lstrip(".").strip() or "upload"
    stem, dot, extension = base.rpartition(".")
    if not dot or len(extension) > 16:
        stem, extension = base, ""
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode()) > MAX_FILENAME_BYTES:
        stem = stem[:-1]
    return (stem + suffix) if stem else f"upload{suffix}"


def asset_id_for(bucket: str, key: str, version: str) -> str:
    """Deterministic: the same object version always maps to the same asset."""
    return str(uuid.uuid5(ASSET_NAMESPACE, "\x00".join((bucket, key, version))))


def job_id_for(asset_id: str, attempt: int) -> str:
    """Deterministic too, so a resubmission after a crash is recognised as the same job.
    (The ``/0`` keeps the ids of assets made when an asset could have several jobs.)"""
    digest = hashlib.sha256(f"{asset_id}/{attempt}/0".encode()).hexdigest()
    return f"job-{digest[:20]}"
