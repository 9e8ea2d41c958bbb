"""The port for the server's signing secret (playback tokens, browser sessions).

Every process that serves one deployment must sign with the same secret: the first
to ask for it makes it (random, 32 bytes), and every later ask, in any process,
gets that one back.
"""

from __future__ import annotations

from typing import Protocol

SECRET_BYTES = 32


class SigningSecret(Protocol):
    def get(self) -> bytes:
        """The secret, made on first use; the same bytes ever after."""
        ...
