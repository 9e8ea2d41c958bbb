"""Split-and-stitch: a long title cut into chunks at segment boundaries (issue 28).

Each chunk is encoded on its own (``adapters/transcoder/chunk.py``) into CMAF segments whose
numbers and decode times continue the whole title's, so the stitched rung is the one pass's.
A source longer than ``chunk_seconds`` x 2 is chunked; a shorter one is one chunk (today's
single pass). ``chunk_seconds`` is a multiple of the segment length, so every chunk starts
on a segment boundary (and so on a forced keyframe). A remainder shorter than half a chunk
joins the last chunk rather than making a short one that costs a process for little work.

The stitch is triggered exactly once, by the last chunk to finish, whichever it is, with a
conditional update in PostgreSQL (not a count read and then written, which two chunks
finishing together would both see as "all done"). The statements below are the design for
the next step (a catalog adapter and the cluster's tasks; nothing in vodkit runs them yet),
proven by ``tests/integration/test_stitch_trigger.py`` racing the last two chunks:

1. ``CHUNKS_TABLE``: one row per (asset, attempt), made when the chunks are queued.
2. ``MARK_DONE``: a chunk's task, once its outputs are stored under (asset, chunk, attempt)
   keys, sets its bit and learns whether every bit is set.
3. ``CLAIM_STITCH``: if so, it claims the stitch; exactly one caller gets a row back.

A bit per chunk, not ``done = done + 1``: a redelivered chunk (its worker died after the
update, before the ack) sets its bit again and counts once. Each UPDATE takes the row lock,
so the second of two racing chunks sees the first one's bit; the claim's ``stitching =
false`` guard makes the stitch exactly-once even when both see ``complete``. A bigint holds
62 chunks (``1 << 63`` overflows it; ``MAX_TRACKED``); beyond that (an hour at 60 s), a
``chunk_done`` table with one row per (asset, attempt, index), ``INSERT ... ON CONFLICT DO
NOTHING``, then the same claim with ``(SELECT count(*) ...) = total`` in its WHERE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConfigError, ErrorCode, InvalidInput, LimitExceeded

DEFAULT_CHUNK_SECONDS = 60
MAX_CHUNKS = 10_000  # a bound on hostile durations: 10,000 minutes at the default
MAX_TRACKED = 62  # chunks one bigint of done bits holds

CHUNKS_TABLE = """
CREATE TABLE IF NOT EXISTS chunks (
    asset_id  text    NOT NULL,
    attempt   integer NOT NULL,           -- the transcode's attempt: a retry starts over
    total     integer NOT NULL CHECK (total BETWEEN 1 AND 62),
    done      bigint  NOT NULL DEFAULT 0, -- bit i set: chunk i finished (idempotent)
    stitching boolean NOT NULL DEFAULT false,
    PRIMARY KEY (asset_id, attempt)
)
"""
MARK_DONE = """
UPDATE chunks SET done = done | (1::bigint << %(index)s)
 WHERE asset_id = %(asset)s AND attempt = %(attempt)s AND %(index)s < total
RETURNING done = (1::bigint << total) - 1 AS complete
"""
CLAIM_STITCH = """
UPDATE chunks SET stitching = true
 WHERE asset_id = %(asset)s AND attempt = %(attempt)s
   AND NOT stitching AND done = (1::bigint << total) - 1
RETURNING asset_id
"""


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


def plan_chunks(
    duration: float, segment_seconds: int, chunk_seconds: int = DEFAULT_CHUNK_SECONDS
) -> tuple[Chunk, ...]:
    """The chunks of a title of ``duration`` seconds, in order, covering it exactly."""
    check_chunk_seconds(chunk_seconds, segment_seconds)
    if not math.isfinite(duration) or duration <= 0:
        raise InvalidInput("the video has no usable duration", code=ErrorCode.NO_DURATION)
    if duration <= chunk_seconds * 2:
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
