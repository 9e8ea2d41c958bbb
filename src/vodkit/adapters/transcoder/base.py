"""The transcoder ports.

``Transcoder`` runs a plan here and now and leaves the outputs in a work
directory (FFmpeg). ``JobSubmitter`` hands a job to whatever runs jobs: the
embedded and cluster footprints put it on a queue that a worker drains with a
``Transcoder``; the AWS footprint submits it to MediaConvert. Submitting the
same job id twice must not run the job twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...domain.jobs import TranscodeJob
from ...domain.planning import TranscodePlan

MANIFEST_SUFFIXES = (".m3u8", ".mpd", ".vtt")  # files that name other files: published last


@dataclass(frozen=True)
class Progress:
    percent: float
    eta_seconds: float | None = None


@dataclass(frozen=True)
class TranscodeOutput:
    """Relative paths in the work directory, in publish order: manifests last."""

    files: tuple[str, ...]
    outputs: dict[str, str]  # format (hls, dash, mp4, poster) -> relative path


ProgressCallback = Callable[[Progress], None]


class Transcoder(Protocol):
    def transcode(
        self, plan: TranscodePlan, source: Path, workdir: Path, on_progress: ProgressCallback
    ) -> TranscodeOutput: ...


class JobSubmitter(Protocol):
    def submit(self, job: TranscodeJob) -> None: ...


def output_layout(plan: TranscodePlan) -> dict[str, str]:
    """Where each format lives, relative to the asset's prefix (DESIGN.md's layout)."""
    outputs = {
        "hls": "stream/master.m3u8",
        "dash": "stream/manifest.mpd",
        "poster": "thumbs/poster.jpg",
        "sprite": "thumbs/sprite.vtt",
    }
    if plan.files:
        outputs["mp4"] = f"mp4/{plan.files[0].name}.mp4"
    return outputs


def publish_order(files: list[str]) -> tuple[str, ...]:
    """Media first, rendition playlists next, top-level manifests last."""

    def rank(path: str) -> tuple[int, str]:
        if not path.endswith(MANIFEST_SUFFIXES):
            return 0, path
        return (1 if "/" in path.removeprefix("stream/") else 2), path

    return tuple(sorted(files, key=rank))
