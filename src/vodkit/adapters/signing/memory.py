"""A signing secret in memory, for tests: made at construction, so every reader agrees."""

from __future__ import annotations

import secrets

from .base import SECRET_BYTES


class MemorySigningSecret:
    def __init__(self) -> None:
        self._value = secrets.token_bytes(SECRET_BYTES)

    def get(self) -> bytes:
        return self._value
