"""The chunk ledger port (issue 28): which pieces of a chunked transcode ran, and which is last.

A chunked job is cut into pieces: its chunks (``0..n-1``, every video rung over one time
range), its audio (``AUDIO``, encoded once, whole) and its poster and sprite (``THUMBS``).
Each piece's task begins a run (``begin``: the run's number names its scratch keys), and
finishes it (``finish``): the one call that finishes the last unfinished piece learns it
is the last, exactly once, however many finish together or are delivered twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

AUDIO = -1
THUMBS = -2


@dataclass(frozen=True)
class Piece:
    piece: int
    seconds: float  # the media seconds a chunk covers (0 for audio and thumbs)
    state: str  # pending, running or done
    runs: int  # runs begun; more than one: it was retried (or its worker lost)
    attempt: int  # the run whose outputs count, once done
    started_at: float | None  # unix time its latest run began
    finished_at: float | None


@dataclass(frozen=True)
class ChunkProgress:
    """A chunked job's pieces, as progress shows them: chunks only, and their seconds."""

    count: int
    done: int
    running: int
    retried: int
    seconds: float
    seconds_done: float
    eta_seconds: float | None  # from the finished chunks' measured speed

    def to_dict(self) -> dict[str, int]:
        return {
            "count": self.count,
            "done": self.done,
            "running": self.running,
            "retried": self.retried,
        }


def progress_of(pieces: list[Piece], now: float) -> ChunkProgress:
    """Share of chunk-seconds done, and the time left at the speed the chunks showed (media
    seconds done per wall second since the first began, over every worker at once)."""
    chunks = [p for p in pieces if p.piece >= 0]
    total = sum(p.seconds for p in chunks)
    done = sum(p.seconds for p in chunks if p.state == "done")
    begun = [p.started_at for p in chunks if p.started_at is not None]
    elapsed = now - min(begun) if begun else 0.0
    eta = (total - done) * elapsed / done if done > 0 and elapsed > 0 else None
    return ChunkProgress(
        count=len(chunks),
        done=sum(p.state == "done" for p in chunks),
        running=sum(p.state == "running" for p in chunks),
        retried=sum(p.runs > 1 for p in chunks),
        seconds=total,
        seconds_done=done,
        eta_seconds=eta,
    )


class ChunkLedger(Protocol):
    def start(self, asset_id: str, job_id: str, pieces: Mapping[int, float]) -> bool:
        """Record a job's pieces (piece -> media seconds), all pending; False if it was."""
        ...

    def begin(self, job_id: str, piece: int, at: float) -> int | None:
        """Begin a run of ``piece``: its number (1, 2...); None if done or unknown."""
        ...

    def finish(self, job_id: str, piece: int, attempt: int, at: float) -> bool:
        """Mark ``piece`` done by run ``attempt``; True for exactly one call per job: the
        one that finished its last piece. A piece finished again changes nothing."""
        ...

    def pieces(self, job_id: str) -> list[Piece]:
        """A job's pieces, chunks in order, then audio and thumbs ([] if unknown)."""
        ...

    def latest(self, asset_id: str) -> str | None:
        """The asset's latest chunked job, if it has one."""
        ...

    def stitched(self, job_id: str) -> int:
        """Count a stitch of the job; how many there were (1, unless one was redelivered)."""
        ...

    def forget(self, job_id: str) -> None:
        """Drop the job's rows (its asset ended)."""
        ...
