"""Browser sessions: an API key exchanged once for an HttpOnly cookie.

The session is ``{keyId}.{expiry}.{HMAC}`` (the key itself is never in it), so it
needs no storage but for the sessions signed out before they expire; every request
checks the key is still live: revoking a key ends its sessions. A request that the
cookie authenticates and that changes something must also carry ``X-CSRF-Token``,
which only a page of this origin can read (it comes in the JSON of ``/v1/session``),
derived from the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..domain.access import Principal
from .access import KeyService

LIFETIME = 12 * 3600.0


def _mac(secret: bytes, purpose: str, text: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


@dataclass(frozen=True)
class Sessions:
    secret: bytes
    keys: KeyService
    lifetime: float = LIFETIME
    clock: Callable[[], float] = time.time

    def open(self, key: str) -> tuple[str, Principal] | None:
        """A session for a live key's token; None for anything else."""
        principal = self.keys.authenticate(key)
        if principal is None:
            return None
        body = f"{principal.key_id}.{int(self.clock() + self.lifetime)}"
        return f"{body}.{_mac(self.secret, 'session', body)}", principal

    def _expiry(self, session: str) -> int | None:
        """When a genuine, unexpired session expires; None for anything else."""
        if not session.isascii():
            return None
        key_id, _, rest = session.partition(".")
        expires, _, mac = rest.partition(".")
        body = f"{key_id}.{expires}"
        if not expires.isdigit() or int(expires) <= self.clock():
            return None
        if not hmac.compare_digest(mac, _mac(self.secret, "session", body)):
            return None
        return int(expires)

    def principal(self, session: str) -> Principal | None:
        if self._expiry(session) is None or self.keys.session_ended(_digest(session)):
            return None
        return self.keys.live(session.partition(".")[0])

    def end(self, session: str) -> None:
        """Sign out: the session is refused from now on, wherever a copy of it is."""
        expires = self._expiry(session)
        if expires is not None:
            self.keys.end_session(_digest(session), float(expires), self.clock())

    def csrf(self, session: str) -> str:
        return _mac(self.secret, "csrf", session)[:32]

    def csrf_valid(self, session: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(
            token.encode(), self.csrf(session).encode()
        )
