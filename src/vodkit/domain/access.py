"""API keys and who a request acts as.

A key is ``vk_<keyId>_<secret>``: the id names the record, the secret is 32
random bytes of which only a SHA-256 is stored (a high-entropy secret needs no
slow hash), compared in constant time. The uploader a request acts for is the
key's, never anything the request says; only an admin key may act for others.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from .keys import check_uploader_id

TOKEN = re.compile(r"vk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    uploader_id: str
    admin: bool
    secret_hash: str
    created_at: str
    revoked_at: str = ""

    def matches(self, secret: str) -> bool:
        return not self.revoked_at and hmac.compare_digest(self.secret_hash, digest(secret))


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    uploader_id: str
    admin: bool = False
    key_id: str = ""

    def may_see(self, uploader_id: str) -> bool:
        return self.admin or uploader_id == self.uploader_id

    def acting_for(self, uploader_id: str | None) -> str:
        """The uploader a request may act for: its own, or any valid one for an admin."""
        if uploader_id is None or not self.admin:
            return self.uploader_id
        return check_uploader_id(uploader_id)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(uploader_id: str, *, admin: bool, created_at: str) -> tuple[ApiKey, str]:
    """A new key record and the token to hand out once (it is not stored)."""
    check_uploader_id(uploader_id)
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    record = ApiKey(key_id, uploader_id, admin, digest(secret), created_at)
    return record, f"vk_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token; None for anything else."""
    found = TOKEN.fullmatch(token)
    return (found[1], found[2]) if found else None
