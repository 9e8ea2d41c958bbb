"""The key store port."""

from __future__ import annotations

from typing import Protocol

from ...domain.access import ApiKey


class KeyStore(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def all(self) -> list[ApiKey]:
        """Every key, newest first."""
        ...

    def revoke(self, key_id: str, at: str) -> bool:
        """True iff the key existed and was live."""
        ...

    def end_session(self, session_hash: str, expires: float, now: float) -> None:
        """Remember a signed-out session until it would have expired anyway."""
        ...

    def session_ended(self, session_hash: str) -> bool: ...
