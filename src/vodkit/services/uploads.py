"""Resumable uploads (tus 1.0's model): create, append at an offset, finish into an asset.

A part lives in a local directory (``{id}.part`` and its record ``{id}.json``)
until its last byte arrives; it is then moved into the uploads store under a key
of its own (``uploads/{uploader}/{uploadId}/{filename}``: two uploads of one
name are two assets) and announced like any upload. The offset that counts is
the recorded one: an append first cuts the part back to it, so the bytes of an
append that died half-way never corrupt a resumed upload, and an append cut
short (a lost connection) records what did arrive, synced to disk first.

The part's digest (for the etag its object gets) is kept up to date as bytes arrive,
read back from the page cache by a thread beside the event loop, so the last append
never reads the whole file again; the same thread puts them on disk as they come. A
digest is kept in this process only, for the offset it covers; an upload resumed in
another process, or after a failed checksum, is hashed whole when it completes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..adapters.storage.base import CHUNK, Digest, etag_of, new_digest
from ..domain.access import Principal
from ..domain.asset import Asset
from ..domain.errors import Conflict, InvalidInput, LimitExceeded, NotFound, VodkitError
from ..domain.keys import UPLOAD_ID, safe_filename, upload_key
from .assets import AssetService

CHECKSUMS: dict[str, Callable[[], Any]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}
LIFETIME = 24 * 3600.0
HAND_OVER = 1 << 20  # written bytes go to the follower this many at a time
KNOWN_DIGESTS = 10_000  # running digests kept (the oldest go first; that upload is re-read)


class UploadLocked(Conflict):
    """Another append to the same upload is under way."""


class OffsetMismatch(Conflict):
    """The append does not start where the upload stands."""


class UnsupportedVersion(VodkitError):
    """The client speaks another version of the upload protocol (tus)."""

    def __init__(self, supported: str) -> None:
        super().__init__(f"Tus-Resumable must be {supported}")
        self.supported = supported


class WrongContentType(VodkitError):
    """A body of a type the route does not take."""


class UploadGone(NotFound):
    """The upload expired (its part is removed)."""


class ChecksumMismatch(InvalidInput):
    """The bytes that arrived are not those the client hashed."""


@dataclass(frozen=True)
class PartialUpload:
    upload_id: str
    uploader_id: str
    length: int
    offset: int
    filename: str
    metadata: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    expires_at: float = 0.0
    asset_id: str = ""

    @property
    def done(self) -> bool:
        return self.offset == self.length


class Sink:
    """Where one append's bytes go: never past the upload's length. A thread of its own
    follows the writes: it hashes them into the running digest (``whole``), reading them
    back from the page cache, and puts them on disk while later bytes arrive, so the sync
    that ends the append waits for little. Both drop the GIL, so it runs beside the event
    loop; the disk then writes as the network receives instead of after it."""

    def __init__(
        self,
        stream: Any,
        start: int,
        room: int,
        checksum: Any,
        whole: Digest | None,
        overflow: str = "the append runs past the upload's length",
    ) -> None:
        self.stream = stream
        self.start = start
        self.room = room
        self.overflow = overflow  # what a write past ``room`` is refused with (413)
        self.hash = checksum
        self.whole = whole  # the digest of the part up to ``start + hashed`` (None: unknown)
        self.written = 0
        self.synced = 0  # how much of what was written is known to be on disk
        self.flushed = 0  # handed to the OS, so the follower may read it
        self.hashed = 0
        self.followed = 0  # read back (and hashed) by the follower, and put on disk
        self.failed: OSError | None = None
        self._turn = threading.Condition()
        self._follower: threading.Thread | None = None
        self._draining = False
        self._abandoned = False  # the follower stops where it is, and none starts again

    def write(self, chunk: bytes) -> None:
        if len(chunk) > self.room - self.written:
            raise LimitExceeded(self.overflow)
        self.stream.write(chunk)
        if self.hash is not None:
            self.hash.update(chunk)
        self.written += len(chunk)
        if self.written - self.flushed >= HAND_OVER:
            self._hand_over()

    def sync(self) -> None:
        """Put what was written on disk, and finish hashing it meanwhile. Callers run it off
        their event loop, where one fsync of a large append would stall every other request.
        A failed fsync fails every later sync too: the kernel may have dropped the pages
        and a second fsync would report success (PostgreSQL's fsyncgate)."""
        if self.failed is not None:
            raise self.failed
        try:
            self._hand_over(start=False)  # to a follower that runs; a small append starts none
            os.fsync(self.stream.fileno())
        except OSError as exc:  # a flush (ENOSPC) or the fsync: the follower is stopped too
            self.failed = exc
            raise
        finally:
            self.drain()
        if self.failed is not None:  # the follower's fdatasync failed before this fsync
            raise self.failed
        self._hash(self.written)  # what no follower read: all of a small append
        self.synced = self.written

    def digest(self) -> Digest | None:
        """The running digest of the part as written, where all of it was hashed (after a
        ``sync``); None where it is not known."""
        return self.whole if self.hashed == self.written else None

    def etag(self) -> str | None:
        """The etag of the part as written (see ``digest``); None where a store must hash it."""
        digest = self.digest()
        return etag_of(digest) if digest is not None else None

    def drain(self, *, abandon: bool = False) -> None:
        """Wait for the follower to finish with all it was handed, and stop it. ``abandon``
        (the append failed, and an event loop may be the one waiting): it stops after the
        piece it is on, the digest stays short of the written bytes, and none starts again."""
        with self._turn:
            self._draining = True
            self._abandoned = self._abandoned or abandon
            self._turn.notify()
        if self._follower is not None:
            self._follower.join()
        self._follower, self._draining = None, False

    def _hand_over(self, *, start: bool = True) -> None:
        self.stream.flush()
        with self._turn:
            self.flushed = self.written
            self._turn.notify()
        if start and self._follower is None and not self._abandoned:
            self._follower = threading.Thread(target=self._follow, name="upload-follower")
            self._follower.daemon = True
            self._follower.start()

    def _follow(self) -> None:
        while True:
            with self._turn:
                while self.followed >= self.flushed and not self._draining:
                    self._turn.wait()
                if self.followed >= self.flushed or self._abandoned:
                    return
                until = self.flushed
            self._hash(until)
            try:
                os.fdatasync(self.stream.fileno())  # all handed over so far, in one go
            except OSError as exc:
                self.failed = exc
                return
            self.followed = until

    def _hash(self, until: int) -> None:
        """Read the part back into the running digest up to ``until``, if one is kept."""
        whole = self.whole
        while whole is not None and self.hashed < until and not self._abandoned:
            size = min(CHUNK, until - self.hashed)  # memory stays flat
            piece = os.pread(self.stream.fileno(), size, self.start + self.hashed)
            if not piece:  # the part shrank under us: leave it to a hash of the whole
                self.whole = None
                return
            whole.update(piece)
            self.hashed += len(piece)


def whole_file_sink(stream: Any, limit: int) -> Sink:
    """A sink for a whole file in one request (the simple upload), hashed as it arrives."""
    return Sink(stream, 0, limit, None, new_digest(), larger_than(limit))


def larger_than(limit: int) -> str:
    """Why an upload over the size limit is refused (413)."""
    return f"the upload is larger than the {limit} bytes allowed"


class WholeUpload:
    """A file sent whole in one request (the simple upload): written to a part as it comes,
    hashed on the way and never held in memory, then moved into the uploads store. The
    front door feeds ``write`` from its event loop and runs the rest off it."""

    def __init__(self, work: Path, assets: AssetService, limit: int, declared: str = "") -> None:
        if declared.isdigit() and int(declared) > limit:  # refused before a byte is read
            raise LimitExceeded(larger_than(limit))
        work.mkdir(parents=True, exist_ok=True)
        self._stream = tempfile.NamedTemporaryFile(dir=work, prefix="simple-", delete=False)  # noqa: SIM115 (closed by finish or abandon)
        self.part = Path(self._stream.name)
        self.sink = whole_file_sink(self._stream, limit)
        self.assets = assets

    def write(self, chunk: bytes) -> None:
        self.sink.write(chunk)  # LimitExceeded past the limit

    def sync(self) -> None:
        """Put it on disk (blocking): durable before it becomes an object."""
        self.sink.sync()

    def abandon(self) -> None:
        """The request failed or went: the part goes (blocking: the follower is joined)."""
        try:
            self.sink.drain(abandon=True)
        finally:
            self._stream.close()
            self.part.unlink(missing_ok=True)

    def finish(self, uploader_id: str, filename: str) -> Asset:
        """Move the synced part into the uploads store and announce it: the asset it becomes."""
        self._stream.close()
        try:
            upload = self.assets.move_in(
                self.part, uploader_id, safe_filename(filename), uuid.uuid4().hex, self.sink.etag()
            )
        finally:
            self.part.unlink(missing_ok=True)
        return self.assets.expected(upload)


class ResumableUploads:
    def __init__(
        self,
        directory: Path,
        assets: AssetService,
        *,
        max_size: int,
        lifetime: float = LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.assets = assets
        self.max_size = max_size
        self.lifetime = lifetime
        self.clock = clock
        self._digests: dict[str, tuple[int, Digest]] = {}  # upload id -> (offset, its digest)
        self._digests_lock = threading.Lock()  # appends to different uploads run in threads

    # the records -------------------------------------------------------

    def _part(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.part"

    def _info(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.json"

    def _save(self, upload: PartialUpload) -> PartialUpload:
        temporary = self._info(upload.upload_id).with_suffix(".json.tmp")
        temporary.write_text(json.dumps(asdict(upload)))
        os.replace(temporary, self._info(upload.upload_id))
        return upload

    def _load(self, upload_id: str) -> PartialUpload | None:
        if not UPLOAD_ID.fullmatch(upload_id):
            return None  # never a path built from what a client sent
        try:
            return PartialUpload(**json.loads(self._info(upload_id).read_text()))
        except FileNotFoundError:
            return None

    def _digest_at(self, upload: PartialUpload) -> Digest | None:
        """The running digest of the part as recorded, or None where it is not known here."""
        offset, digest = self._forget(upload.upload_id)
        if upload.offset == 0:
            return new_digest()
        return digest if offset == upload.offset else None

    def _remember(self, upload: PartialUpload, digest: Digest) -> None:
        with self._digests_lock:
            self._digests[upload.upload_id] = (upload.offset, digest)
            while len(self._digests) > KNOWN_DIGESTS:
                self._digests.pop(next(iter(self._digests)))

    def _forget(self, upload_id: str) -> tuple[int, Digest | None]:
        with self._digests_lock:
            return self._digests.pop(upload_id, (-1, None))

    # the use cases -----------------------------------------------------

    def whole(self, declared: str = "") -> WholeUpload:
        """Receive a file sent whole (``declared``: its Content-Length, if sent)."""
        return WholeUpload(self.directory, self.assets, self.max_size, declared)

    def create(self, uploader_id: str, length: int, metadata: dict[str, str]) -> PartialUpload:
        if length > self.max_size:
            raise LimitExceeded(larger_than(self.max_size))
        if length < 0:
            raise InvalidInput("Upload-Length must not be negative")
        self.directory.mkdir(parents=True, exist_ok=True)
        now = self.clock()
        upload = PartialUpload(
            upload_id=uuid.uuid4().hex,
            uploader_id=uploader_id,
            length=length,
            offset=0,
            filename=safe_filename(metadata.get("filename", "")),
            metadata=metadata,
            created_at=now,
            expires_at=now + self.lifetime,
        )
        self._part(upload.upload_id).touch()
        return self._save(upload)

    def find(self, upload_id: str, principal: Principal) -> PartialUpload:
        """The upload, if ``principal`` may see it; another uploader's is as absent."""
        upload = self._load(upload_id)
        if upload is None or not principal.may_see(upload.uploader_id):
            raise NotFound(f"no upload {upload_id}")
        if self.clock() >= upload.expires_at and not upload.asset_id:
            raise UploadGone(f"the upload {upload_id} expired")
        return upload

    @contextlib.contextmanager
    def appending(
        self, upload: PartialUpload, offset: int, checksum: tuple[str, bytes] | None = None
    ) -> Iterator[Sink]:
        """A sink for bytes from ``offset``; on leaving, what arrived is recorded (all of it,
        or, with a checksum, all of it only if it matches). A caller on an event loop calls
        ``sink.sync`` in a thread before it leaves, however the append ended; the sync here
        is for those that did not."""
        if checksum is not None and checksum[0] not in CHECKSUMS:
            raise InvalidInput(f"the checksum algorithm {checksum[0]} is not supported")
        try:
            stream = self._part(upload.upload_id).open("r+b")
        except FileNotFoundError as exc:
            raise NotFound(f"no upload {upload.upload_id}") from exc
        with stream:
            try:
                fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)  # across processes, too
            except BlockingIOError as exc:
                raise UploadLocked(f"the upload {upload.upload_id} is being appended to") from exc
            current = self._load(upload.upload_id) or upload  # as it stands under the lock
            if offset != current.offset:
                raise OffsetMismatch(f"the upload is at {current.offset}, not at {offset}")
            stream.truncate(current.offset)  # what a dead append left beyond the record
            stream.seek(current.offset)
            sink = Sink(
                stream,
                current.offset,
                current.length - current.offset,
                checksum and CHECKSUMS[checksum[0]](),
                self._digest_at(current),
            )
            try:
                yield sink
            finally:
                sink.drain(abandon=True)  # reads nothing cut back: done unless it failed
                if checksum is not None and sink.hash.digest() != checksum[1]:
                    sink.written = 0  # cut back below; nothing of this append counts
                    stream.truncate(current.offset)
                    self._save(current)
                    raise ChecksumMismatch("the append's checksum does not match its bytes")
                if sink.synced != sink.written:
                    sink.sync()  # the bytes are on disk before the offset says so
                saved = self._save(replace(current, offset=current.offset + sink.written))
                digest = sink.digest()
                if digest is not None:
                    self._remember(saved, digest)

    def finish(self, upload_id: str) -> PartialUpload:
        """Move a complete upload into the uploads store and announce it, once."""
        upload = self._load(upload_id)
        if upload is None:
            raise NotFound(f"no upload {upload_id}")
        if not upload.done or upload.asset_id:
            return upload
        part = self._part(upload_id)
        offset, digest = self._forget(upload_id)
        etag = etag_of(digest) if digest is not None and offset == upload.length else None
        if part.exists():
            stored = self.assets.move_in(
                part, upload.uploader_id, upload.filename, upload_id, etag=etag
            )
            asset_id = stored.asset_id
        else:  # moved already, by a finish that died before recording it
            key = upload_key(upload.uploader_id, upload.filename, upload_id)
            asset_id = self.assets.announce(self.assets.uploads.head(key))
        return self._save(replace(upload, asset_id=asset_id))

    def terminate(self, upload: PartialUpload) -> None:
        self._forget(upload.upload_id)
        self._part(upload.upload_id).unlink(missing_ok=True)
        self._info(upload.upload_id).unlink(missing_ok=True)

    def sweep(self) -> int:
        """Remove expired uploads' parts and records; how many."""
        removed = 0
        for info in self.directory.glob("*.json") if self.directory.is_dir() else []:
            upload = self._load(info.stem)
            if upload is not None and self.clock() >= upload.expires_at:
                self.terminate(upload)
                removed += 1
        return removed
