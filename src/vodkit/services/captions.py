"""Captions an asset's owner adds (sidecar tracks): added or replaced, listed, read, removed.

The body is told by its content (``domain.captions``), sanitised and stored as WebVTT at
``captions/{lang}.vtt`` (``layout.captions``: after the source's own text tracks, so a
sidecar's key never moves another track's). On a COMPLETED asset only the manifests are
published again, no re-encode: the WebVTT and its playlist first, the master and the MPD
last (as ``layout.publish_order``), and a removed track's files are deleted only once the
manifests no longer name them. The catalog then records the tracks (``asset.updated``).

An asset still PENDING or PROCESSING is refused (Conflict) for now: its manifests are
written by the transcode, which does not yet merge sidecar captions in.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..adapters.catalog.base import Catalog
from ..adapters.storage.base import ObjectStore
from ..domain import layout
from ..domain.asset import Asset, AssetStatus
from ..domain.captions import parse_captions, to_webvtt
from ..domain.clock import Clock, utcnow
from ..domain.errors import AssetNotFound, Conflict, InvalidInput, NotFound
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

MAX_LABEL = 100


def renditions(asset: Asset) -> list[TextRendition]:
    """The asset's text tracks with their WebVTT keys (relative to its prefix), in order."""
    text = [t for t in asset.tracks if t.type is TrackType.TEXT]
    keys = layout.captions([t.language for t in text])
    return [TextRendition(t, k) for t, k in zip(text, keys, strict=True)]


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
        """The WebVTT of the language's track (its sidecar one, if any)."""
        key = by_language(asset).get(_tag(language))
        if key is None or asset.status is not AssetStatus.COMPLETED:
            raise NotFound(f"asset {asset.asset_id} has no {language} captions")
        with self.outputs.open(layout.prefix(asset.asset_id) + key) as stream:
            return stream.read()

    def put(self, asset: Asset, track: Track, data: bytes) -> Added:
        """Add ``track`` with the captions in ``data``, or replace its language's sidecar;
        InvalidCaptions (the first bad line) or LimitExceeded before anything is written."""
        _tag(track.language)
        webvtt = to_webvtt(parse_captions(data, self.limits), mpegts=CMAF_MPEGTS)
        _publishable(asset)
        tracks = list(asset.tracks)
        at = _sidecar_at(tracks, track.language)
        if at is None:
            text = sum(t.type is TrackType.TEXT for t in tracks)
            if text >= self.limits.max_text_tracks:
                raise Conflict(f"asset {asset.asset_id} has {text} text tracks, the limit")
            tracks.append(track)
        else:
            tracks[at] = track
        if track.default:  # one default text track
            tracks = [_undefault(t) if t is not track else t for t in tracks]
        changed = _with(asset, tracks)
        key = next(r.key for r in renditions(changed) if r.track is track)
        prefix = layout.prefix(asset.asset_id)
        self.outputs.put_stream(prefix + key, io.BytesIO(webvtt.encode()))
        self._republish(changed)
        self.catalog.set_tracks(asset.asset_id, tracks, self.clock())
        return Added(track, at is None)

    def remove(self, asset: Asset, language: str) -> None:
        """Remove the language's sidecar track; NotFound if it has none (a source's own
        tracks stay)."""
        tracks = list(asset.tracks)
        at = _sidecar_at(tracks, _tag(language))
        if at is None:
            raise NotFound(f"asset {asset.asset_id} has no {language} captions added to it")
        _publishable(asset)
        gone = next(r.key for r in renditions(asset) if r.track is tracks[at])
        del tracks[at]
        self._republish(_with(asset, tracks))
        self.catalog.set_tracks(asset.asset_id, tracks, self.clock())
        prefix = layout.prefix(asset.asset_id)
        for key in (gone, layout.caption_playlist(gone)):  # no manifest names them now
            self.outputs.delete(prefix + key)

    def _republish(self, asset: Asset) -> None:
        """The subtitle playlists, then the master and the MPD, naming exactly the asset's
        text tracks."""
        master, mpd = asset.outputs["hls"], asset.outputs["dash"]
        manifests = with_text_tracks(
            self._read(master), self._read(mpd), renditions(asset), asset.duration or 0.0
        )
        prefix = layout.prefix(asset.asset_id)
        for key, text in manifests.playlists.items():
            self.outputs.put_stream(prefix + key, io.BytesIO(text.encode()))
        self.outputs.put_stream(master, io.BytesIO(manifests.master.encode()))
        self.outputs.put_stream(mpd, io.BytesIO(manifests.mpd.encode()))

    def _read(self, key: str) -> str:
        with self.outputs.open(key) as stream:
            return stream.read().decode("utf-8")


def _tag(language: str) -> str:
    if not is_language_tag(language):
        raise InvalidInput(f"{language[:40]!r} is not a BCP 47 language tag (en, pt-BR...)")
    return language


def _publishable(asset: Asset) -> None:
    if asset.status is AssetStatus.DELETED:
        raise AssetNotFound(f"no asset {asset.asset_id}")
    if asset.status is not AssetStatus.COMPLETED:
        raise Conflict(
            f"asset {asset.asset_id} is {asset.status}: captions can be added once it is COMPLETED"
        )
    if "hls" not in asset.outputs or "dash" not in asset.outputs:
        raise Conflict(f"asset {asset.asset_id} has no HLS and DASH manifests to list captions")


def _sidecar_at(tracks: Sequence[Track], language: str) -> int | None:
    return next(
        (
            i
            for i, t in enumerate(tracks)
            if t.type is TrackType.TEXT
            and t.source is TrackSource.SIDECAR
            and t.language.lower() == language.lower()
        ),
        None,
    )


def _undefault(track: Track) -> Track:
    if track.type is not TrackType.TEXT or not track.default:
        return track
    return replace(track, default=False)


def _with(asset: Asset, tracks: Sequence[Track]) -> Asset:
    return replace(asset, tracks=tuple(tracks))
