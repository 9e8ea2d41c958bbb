"""API keys: made, listed, revoked, and turned back into who a request acts as."""

from __future__ import annotations

from ..adapters.keys.base import KeyStore
from ..domain.access import ApiKey, Principal, new_key, parse_token
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import NotFound


class KeyService:
    def __init__(self, store: KeyStore, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock

    def create(self, uploader_id: str, *, admin: bool = False) -> tuple[ApiKey, str]:
        """A new key for ``uploader_id``, and its token: shown once, never stored."""
        record, token = new_key(uploader_id, admin=admin, created_at=isoformat(self.clock()))
        self.store.add(record)
        return record, token

    def all(self) -> list[ApiKey]:
        return self.store.all()

    def revoke(self, key_id: str) -> None:
        if not self.store.revoke(key_id, isoformat(self.clock())):
            raise NotFound(f"no live key {key_id}")

    def live(self, key_id: str) -> Principal | None:
        """The principal of a key that is not revoked (a session names it by its id)."""
        key = self.store.get(key_id)
        if key is None or key.revoked_at:
            return None
        return Principal(key.uploader_id, key.admin, key.key_id)

    def end_session(self, session_hash: str, expires: float, now: float) -> None:
        self.store.end_session(session_hash, expires, now)

    def session_ended(self, session_hash: str) -> bool:
        return self.store.session_ended(session_hash)

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a live key's token; None for any other string."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        key = self.store.get(parsed[0])
        if key is None or not key.matches(parsed[1]):
            return None
        return Principal(key.uploader_id, key.admin, key.key_id)
