"""Captions an asset's owner adds (sidecar tracks): added or replaced, listed, read, removed.

The body is told by its content (``domain.captions``), sanitised and stored as WebVTT at
``captions/sidecar/{lang}.vtt`` (``layout.sidecar_caption``: apart from the source's own
tracks, which the transcode writes, so neither overwrites the other). The catalog records
the change atomically on the tracks it holds (``domain.sidecars``; ``asset.updated``).

At any status but DELETED: an asset still PENDING or PROCESSING (or FAILED, to be retried)
keeps the caption and publishes it when it completes (``settle``, which the status
processor runs on every COMPLETE event). On a COMPLETED asset only the manifests are
published again, no re-encode: the subtitle playlists first, the master and the MPD last
(as ``layout.publish_order``); a removed track's files are deleted once the manifests no
longer name them.

Whoever writes the manifests (a caption change, the completion) reads the tracks, writes,
then reads them again, and writes again if they changed meanwhile: whatever the
interleaving, the last write names the tracks the catalog holds.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ..adapters.catalog.base import Catalog
from ..adapters.storage.base import ObjectStore
from ..domain import layout, sidecars
from ..domain.asset import Asset, AssetStatus
from ..domain.captions import parse_captions, to_webvtt
from ..domain.clock import Clock, utcnow
from ..domain.errors import (
    AssetNotFound,
    Conflict,
    InvalidInput,
    NotFound,
    ObjectNotFound,
    TransientError,
)
from ..domain.subtitles import CMAF_MPEGTS, TextRendition, with_text_tracks
from ..domain.tracks import (
    Role,
    TextKind,
    Track,
    TrackLimits,
    TrackSource,
    TrackType,
    is_language_tag,
    language_name,
)

ROUNDS = 5  # manifests rewritten while the tracks keep changing, before a retry is asked

MAX_LABEL = 100


def renditions(asset: Asset) -> list[TextRendition]:
    """The asset's text tracks with their WebVTT keys (relative to its prefix), in order: the
    source's own where the transcode wrote them, then the sidecars."""
    text = [t for t in asset.tracks if t.type is TrackType.TEXT]
    return [TextRendition(t, key) for t, key in zip(text, layout.text_keys(text), strict=True)]


def by_language(asset: Asset) -> dict[str, str]:
    """Each language's WebVTT key: its sidecar track if it has one, else its first."""
    found: dict[str, str] = {}
    for r in renditions(asset):
        if r.track.language not in found or r.track.source is TrackSource.SIDECAR:
            found[r.track.language] = r.key
    return found


def sidecar(
    language: str, *, label: str = "", kind: TextKind = TextKind.SUBTITLES, default: bool = False
) -> Track:
    """The track a caption file of ``language`` becomes."""
    name = "".join(c for c in label if c.isprintable()).strip()[:MAX_LABEL]
    return Track(
        type=TrackType.TEXT,
        language=language,
        name=name or language_name(language),
        default=default,
        kind=kind,
        roles=(Role.CAPTION if kind is TextKind.CAPTIONS else Role.SUBTITLE,),
        source=TrackSource.SIDECAR,
    )


@dataclass(frozen=True)
class Added:
    track: Track
    created: bool  # False: it replaced the language's sidecar track


class CaptionService:
    def __init__(
        self,
        outputs: ObjectStore,
        catalog: Catalog,
        *,
        limits: TrackLimits | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.outputs = outputs
        self.catalog = catalog
        self.limits = limits or TrackLimits()
        self.clock = clock

    def list(self, asset: Asset) -> list[Track]:
        return [r.track for r in renditions(asset)]

    def text(self, asset: Asset, language: str) -> bytes:
        """The WebVTT of the language's track (its sidecar one, if any): a sidecar's at any
        status, a source's own once the asset is COMPLETED."""
        tag = _tag(language)
        key = by_language(asset).get(tag)
        found = next((r for r in renditions(asset) if r.key == key), None)
        embedded = found is not None and found.track.source is not TrackSource.SIDECAR
        if found is None or (embedded and asset.status is not AssetStatus.COMPLETED):
            raise NotFound(f"asset {asset.asset_id} has no {language} captions")
        try:
            with self.outputs.open(layout.prefix(asset.asset_id) + found.key) as stream:
                return stream.read()
        except ObjectNotFound:  # removed a moment ago
            raise NotFound(f"asset {asset.asset_id} has no {language} captions") from None

    def put(self, asset: Asset, track: Track, data: bytes) -> Added:
        """Add ``track`` with the captions in ``data``, or replace its language's sidecar;
        InvalidCaptions (the first bad line) or LimitExceeded before anything is written.
        Published now if the asset is COMPLETED, else when it completes."""
        _tag(track.language)
        webvtt = to_webvtt(parse_captions(data, self.limits), mpegts=CMAF_MPEGTS)
        _present(asset)
        limit = self.limits.max_text_tracks
        sidecars.added(asset.tracks, track, limit)  # the limit, before the file is written
        key = layout.prefix(asset.asset_id) + layout.sidecar_caption(track.language.lower())
        self.outputs.put_stream(key, io.BytesIO(webvtt.encode()))
        created = False

        def add(stored: Asset) -> tuple[Track, ...]:
            nonlocal created
            tracks, created = sidecars.added(stored.tracks, track, limit)
            return tracks

        try:
            self.catalog.update_tracks(asset.asset_id, add, self.clock())
        except Conflict:  # deleted meanwhile (its outputs removed: this one too), or full
            self.outputs.delete(key)
            stored = self.catalog.get(asset.asset_id)
            if stored is None or stored.status is AssetStatus.DELETED:
                raise AssetNotFound(f"no asset {asset.asset_id}") from None
            raise
        self.settle(asset.asset_id)
        return Added(track, created)

    def remove(self, asset: Asset, language: str) -> None:
        """Remove the language's sidecar track; NotFound if it has none (a source's own
        tracks stay). Its files go once the manifests no longer name them."""
        _tag(language)
        _present(asset)

        def remove(stored: Asset) -> tuple[Track, ...]:  # NotFound: nothing written
            return sidecars.removed(stored.tracks, language)[0]

        try:
            self.catalog.update_tracks(asset.asset_id, remove, self.clock())
        except Conflict:  # deleted meanwhile
            raise AssetNotFound(f"no asset {asset.asset_id}") from None
        self.settle(asset.asset_id)
        gone = layout.prefix(asset.asset_id) + layout.sidecar_caption(language.lower())
        for key in (gone, layout.caption_playlist(gone)):
            self.outputs.delete(key)

    def settle(self, asset_id: str, manifests: dict[str, str] | None = None) -> None:
        """Make the asset's manifests name exactly the text tracks the catalog holds, if it
        has added captions now or had some: those of a COMPLETED asset, or those a finishing
        job just published (``manifests``: its outputs, before the asset completes). Reads
        the tracks again after writing, and writes again if they changed meanwhile."""
        for _ in range(ROUNDS):
            asset = self.catalog.get(asset_id)
            if asset is None:
                return
            keys = manifests if asset.status is AssetStatus.PROCESSING else asset.outputs
            if asset.status not in (AssetStatus.PROCESSING, AssetStatus.COMPLETED) or not keys:
                return
            if not self._republish(asset, keys):
                return
            again = self.catalog.get(asset_id)
            if again is None or again.tracks == asset.tracks:
                return
        raise TransientError(f"asset {asset_id}: its captions keep changing, try again")

    def _republish(self, asset: Asset, keys: dict[str, str]) -> bool:
        """The subtitle playlists, then the master and the MPD, naming exactly the asset's
        text tracks; False (nothing written) if there are no manifests, or no sidecar in
        the catalog or in them (a transcode's manifests are then already right)."""
        if "hls" not in keys or "dash" not in keys:
            return False
        added = sidecars.of(asset.tracks)
        try:
            master = self._read(keys["hls"])
        except ObjectNotFound:
            if added:
                raise
            return False  # the job wrote no manifest: none can name a sidecar
        if not added and layout.SIDECAR_CAPTIONS not in master:
            return False
        mpd = self._read(keys["dash"])
        manifests = with_text_tracks(master, mpd, renditions(asset), asset.duration or 0.0)
        prefix = layout.prefix(asset.asset_id)
        for key, text in manifests.playlists.items():
            self.outputs.put_stream(prefix + key, io.BytesIO(text.encode()))
        self.outputs.put_stream(keys["hls"], io.BytesIO(manifests.master.encode()))
        self.outputs.put_stream(keys["dash"], io.BytesIO(manifests.mpd.encode()))
        return True

    def _read(self, key: str) -> str:
        with self.outputs.open(key) as stream:
            return stream.read().decode("utf-8")


def _tag(language: str) -> str:
    if not is_language_tag(language):
        raise InvalidInput(f"{language[:40]!r} is not a BCP 47 language tag (en, pt-BR...)")
    return language


def _present(asset: Asset) -> None:
    if asset.status is AssetStatus.DELETED:
        raise AssetNotFound(f"no asset {asset.asset_id}")
