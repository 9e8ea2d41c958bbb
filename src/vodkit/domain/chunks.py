"""Split-and-stitch: a long title cut into chunks at segment boundaries (issue 28).

Each chunk is encoded on its own (``adapters/transcoder/chunk.py``) into CMAF segments whose
numbers and decode times continue the whole title's, so the stitched rung is the one pass's.
A source longer than ``chunk_seconds`` x 2 is chunked; a shorter one is one chunk (today's
single pass). ``chunk_seconds`` is a multiple of the segment length, so every chunk starts
on a segment boundary (and so on a forced keyframe). A remainder shorter than half a chunk
joins the last chunk rather than making a short one that costs a process for little work.

The stitch is triggered exactly once, by the last piece to finish, whichever it is, with a
conditional update in PostgreSQL (``adapters/chunks/postgres.py``: one row per piece, so
any number of chunks up to ``MAX_CHUNKS``), not a count read and then written.

A chunked job's pieces are its chunks (their index), its audio and its thumbnails
(``AUDIO``, ``THUMBS`` in ``adapters/chunks/base.py``); each is a message (``ChunkTask``)
whose outputs go to keys of its own run (``scratch_prefix``), seen by nobody but the stitch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, ErrorCode, InvalidEvent, InvalidInput, LimitExceeded
from .jobs import TranscodeJob

DEFAULT_CHUNK_SECONDS = 60
MAX_CHUNKS = 10_000  # a bound on hostile durations: 10,000 minutes at the default


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int  # seconds: a segment boundary
    end: float  # seconds: the next chunk's start, or the title's duration
    first_segment: int  # the number of its first segment (vodkit numbers them from 1)

    @property
    def seconds(self) -> float:
        return self.end - self.start


def check_chunk_seconds(chunk_seconds: int, segment_seconds: int) -> None:
    """``chunk_seconds`` must be a whole number of segments, or chunks would cut one."""
    if segment_seconds < 1:
        raise ConfigError(f"the segment length must be at least 1 s, not {segment_seconds}")
    if chunk_seconds < segment_seconds or chunk_seconds % segment_seconds:
        raise ConfigError(
            f"chunkSeconds: {chunk_seconds} s is not a multiple of the {segment_seconds} s "
            "segment length"
        )


def worth_chunking(duration: float, chunk_seconds: int = DEFAULT_CHUNK_SECONDS) -> bool:
    """A title longer than two chunks: the cluster splits it, MediaConvert accelerates it."""
    return duration > chunk_seconds * 2


def plan_chunks(
    duration: float, segment_seconds: int, chunk_seconds: int = DEFAULT_CHUNK_SECONDS
) -> tuple[Chunk, ...]:
    """The chunks of a title of ``duration`` seconds, in order, covering it exactly."""
    check_chunk_seconds(chunk_seconds, segment_seconds)
    if not math.isfinite(duration) or duration <= 0:
        raise InvalidInput("the video has no usable duration", code=ErrorCode.NO_DURATION)
    if not worth_chunking(duration, chunk_seconds):
        return (Chunk(0, 0, duration, 1),)
    count = int(duration // chunk_seconds)
    if duration - count * chunk_seconds >= chunk_seconds / 2:
        count += 1  # a remainder of at least half a chunk is a chunk of its own
    if count > MAX_CHUNKS:
        raise LimitExceeded(f"the video is too long to cut into {chunk_seconds} s chunks")
    per_chunk = chunk_seconds // segment_seconds
    return tuple(
        Chunk(
            index=i,
            start=i * chunk_seconds,
            end=duration if i == count - 1 else (i + 1) * chunk_seconds,
            first_segment=1 + i * per_chunk,
        )
        for i in range(count)
    )


SCRATCH = "scratch/"  # in the outputs' store, never under an asset's published prefix
STITCH = "stitch"


def scratch_root(asset_id: str, job_id: str) -> str:
    return f"{SCRATCH}{asset_id}/{job_id}/"


def scratch_prefix(asset_id: str, job_id: str, piece: int, attempt: int) -> str:
    """Where one run of one piece puts its outputs: a rerun never mixes with a lost run."""
    name = f"chunks/{piece}" if piece >= 0 else {-1: "audio", -2: "thumbs"}[piece]
    return f"{scratch_root(asset_id, job_id)}{name}/a{attempt}/"


@dataclass(frozen=True)
class ChunkTask:
    """A message of the chunks' queue: one piece of a job (``piece``) or its stitch
    (``piece`` None). The job carries the plan as the per-title analysis left it."""

    job: TranscodeJob
    chunk_seconds: int
    piece: int | None

    def to_json(self) -> str:
        data = {"job": self.job.to_dict(), "chunkSeconds": self.chunk_seconds}
        data["piece"] = STITCH if self.piece is None else self.piece
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkTask:
        try:
            piece = data["piece"]
            if piece != STITCH and (type(piece) is not int or not -2 <= piece < MAX_CHUNKS):
                raise ValueError(f"no piece {piece!r}")
            seconds = data["chunkSeconds"]
            if type(seconds) is not int or seconds < 1:
                raise ValueError(f"chunkSeconds {seconds!r}")
            return cls(
                TranscodeJob.from_dict(data["job"]), seconds, None if piece == STITCH else piece
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"malformed chunk task: {exc!r}") from exc

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        plan = self.job.plan
        return plan_chunks(plan.duration, plan.segment_seconds, self.chunk_seconds)
