"""The transcoder ports.

``Transcoder`` runs a plan here and now and leaves the outputs in a work
directory (FFmpeg). ``JobSubmitter`` hands a job to whatever runs jobs: the
embedded and cluster footprints put it on a queue that a worker drains with a
``Transcoder``; the AWS footprint submits it to MediaConvert. Submitting the
same job id twice must not run the job twice. ``JobFinisher`` makes what a
runner could not, when its job completes (MediaConvert: judging the poster,
sheeting the sprite). ``TextConverter`` reads text tracks a runner cannot
(MediaConvert and ASS/SSA) as cues, for vodkit to write their WebVTT first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...domain.asset import Job
from ...domain.captions import Cue
from ...domain.jobs import TranscodeJob
from ...domain.plan import TranscodePlan
from ...domain.tracks import Skipped, Track


@dataclass(frozen=True)
class Progress:
    percent: float
    eta_seconds: float | None = None


@dataclass(frozen=True)
class TranscodeOutput:
    """Relative paths in the work directory, in publish order: manifests last."""

    files: tuple[str, ...]
    outputs: dict[str, str]  # format (hls, dash, mp4, poster, sprite) -> relative path
    # planned text tracks that could not be published (no cues, unreadable), with why
    dropped: tuple[Skipped, ...] = ()


ProgressCallback = Callable[[Progress], None]


class Transcoder(Protocol):
    def check(self) -> None:
        """Fail fast, with a ConfigError that says what to do, if it cannot run jobs."""
        ...

    def transcode(
        self, plan: TranscodePlan, source: Path, workdir: Path, on_progress: ProgressCallback
    ) -> TranscodeOutput: ...


class JobSubmitter(Protocol):
    def submit(self, job: TranscodeJob) -> str:
        """Hand the job over; return the id its runner knows it by."""
        ...

    def find(self, job: TranscodeJob) -> str | None:
        """The runner's id of ``job`` if an earlier submission reached it (its id may not
        have been recorded: a crash, a failed write); None if it is not known there."""
        ...


class JobFinisher(Protocol):
    makes: tuple[str, ...]  # the formats it makes; none: nothing to do, nothing to read

    def finish(self, asset_id: str, job: Job) -> dict[str, str]:
        """Make what the completed job's runner could not; return the outputs it made."""
        ...


class Finishers:
    """Several finishers, one after the other (manifests last); their outputs merged."""

    def __init__(self, *finishers: JobFinisher) -> None:
        self.finishers = finishers
        self.makes = tuple(made for f in finishers for made in f.makes)

    def finish(self, asset_id: str, job: Job) -> dict[str, str]:
        made: dict[str, str] = {}
        for finisher in self.finishers:
            made |= finisher.finish(asset_id, job)
        return made


class NothingToFinish:
    """A runner that makes every output itself (FFmpeg)."""

    makes: tuple[str, ...] = ()

    def finish(self, asset_id: str, job: Job) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class TextCues:
    cues: dict[int, list[Cue]]  # by the source stream's index: the tracks that were read
    skipped: tuple[Skipped, ...]  # the tracks that could not be, each with its reason


class TextConverter(Protocol):
    def convert(self, source: Path, demuxer: str, tracks: Sequence[Track]) -> TextCues:
        """The cues of ``tracks`` (embedded text streams) of the local file ``source``, read
        with its probed ``demuxer``; a track that cannot be read is skipped, never raised."""
        ...
