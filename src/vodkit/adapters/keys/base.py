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
