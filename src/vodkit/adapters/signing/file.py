"""The signing secret in a file of its own (embedded: ``vodkit-data/secret.key``)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from .base import SECRET_BYTES


class FileSigningSecret:
    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> bytes:
        """Written whole beside the path, then linked into place: two processes starting at
        once agree on the first link, and none reads a half-written file. Owner-only."""
        if not self.path.exists():
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".secret-")
            try:
                with os.fdopen(fd, "wb") as sink:  # mkstemp makes it 0600
                    sink.write(secrets.token_bytes(SECRET_BYTES))
                with contextlib.suppress(FileExistsError):  # another process was first
                    os.link(temporary, self.path)
            finally:
                os.unlink(temporary)
        return self.path.read_bytes()
