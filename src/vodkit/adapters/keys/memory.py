"""Keys in a dictionary, for unit tests."""

from __future__ import annotations

import threading
from dataclasses import replace

from ...domain.access import ApiKey


class MemoryKeyStore:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.ended: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: ApiKey) -> None:
        with self._lock:
            self.keys[key.key_id] = key

    def get(self, key_id: str) -> ApiKey | None:
        return self.keys.get(key_id)

    def all(self) -> list[ApiKey]:
        return sorted(self.keys.values(), key=lambda k: (k.created_at, k.key_id), reverse=True)

    def revoke(self, key_id: str, at: str) -> bool:
        with self._lock:
            key = self.keys.get(key_id)
            if key is None or key.revoked_at:
                return False
            self.keys[key_id] = replace(key, revoked_at=at)
            return True

    def end_session(self, session_hash: str, expires: float, now: float) -> None:
        with self._lock:
            self.ended = {h: e for h, e in self.ended.items() if e > now}
            self.ended[session_hash] = expires

    def session_ended(self, session_hash: str) -> bool:
        return session_hash in self.ended
