"""A prober for unit tests: answers from a table keyed by file content."""

from __future__ import annotations

from pathlib import Path

from ...domain.errors import ErrorCode, UnsupportedMedia
from ...domain.media import MediaInfo


class MemoryProber:
    def __init__(self, answers: dict[bytes, MediaInfo] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls = 0

    def probe(self, path: Path) -> MediaInfo:
        self.calls += 1
        media = self.answers.get(path.read_bytes())
        if media is None:
            raise UnsupportedMedia(
                "the upload is not a video file vodkit can read", code=ErrorCode.NOT_MEDIA
            )
        return media
