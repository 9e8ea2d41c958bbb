"""The prober port."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ...domain.media import MediaInfo


class Prober(Protocol):
    def probe(self, path: Path) -> MediaInfo:
        """Describe the media at ``path``; InvalidInput subclasses for unsafe or non-media."""
        ...
