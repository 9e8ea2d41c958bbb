"""Playback URLs that need no header: a signed, expiring token in the path.

Players, ``<video>`` and ``<img>`` cannot send ``Authorization``, so the URL of an
asset's outputs carries ``{expiry}.{HMAC(secret, assetId.expiry)}``; every
relative URL inside the manifests then resolves under the same token. A token
is bound to one asset and its expiry, and checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..adapters.catalog.base import Catalog
from ..domain import layout
from ..domain.asset import Asset, AssetStatus
from ..domain.errors import Forbidden, InvalidKey, ObjectNotFound
from ..domain.keys import validate_key
from . import captions

LIFETIME = 6 * 3600.0


@dataclass(frozen=True)
class PlaybackTokens:
    secret: bytes
    lifetime: float = LIFETIME
    clock: Callable[[], float] = time.time

    def _mac(self, asset_id: str, expires: int) -> str:
        mac = hmac.new(self.secret, f"{asset_id}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, asset_id: str) -> str:
        expires = int(self.clock() + self.lifetime)
        return f"{expires}.{self._mac(asset_id, expires)}"

    def valid(self, asset_id: str, token: str) -> bool:
        expires, _, mac = token.partition(".")
        if not token.isascii() or not expires.isdigit() or len(expires) > 12:
            return False
        return int(expires) > self.clock() and hmac.compare_digest(
            mac, self._mac(asset_id, int(expires))
        )

    def urls(self, asset: Asset, base: str) -> dict[str, Any] | None:
        """Absolute playback URLs of a COMPLETED asset under ``base`` (``.../play``), and
        ``captions``: each language's WebVTT."""
        if asset.status is not AssetStatus.COMPLETED:
            return None
        root = f"{base}/{asset.asset_id}/{self.issue(asset.asset_id)}/"
        prefix = layout.prefix(asset.asset_id)
        urls: dict[str, Any] = {k: root + v.removeprefix(prefix) for k, v in asset.outputs.items()}
        urls["captions"] = {lang: root + key for lang, key in captions.by_language(asset).items()}
        return urls


def output_key(
    tokens: PlaybackTokens, catalog: Catalog, asset_id: str, token: str, path: str
) -> str:
    """The object key of the output at ``path`` under a COMPLETED asset, if ``token`` opens
    it: Forbidden for a token that is not the asset's (or expired), ObjectNotFound for a
    path that is no output (outside the asset's directories, or the asset not complete)."""
    if not tokens.valid(asset_id, token):
        raise Forbidden("the playback token is not valid for this asset, or expired")
    try:
        key = validate_key(layout.prefix(asset_id) + path)
    except InvalidKey:
        raise ObjectNotFound("no such output") from None
    if path.split("/", 1)[0] not in layout.DIRECTORIES:
        raise ObjectNotFound("no such output")
    asset = catalog.get(asset_id)
    if asset is None or asset.status is not AssetStatus.COMPLETED:
        raise ObjectNotFound("no such output")
    return key
