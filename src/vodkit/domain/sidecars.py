"""The captions an asset's owner adds (sidecar text tracks) among its tracks, as pure
functions of the tracks the catalog holds: every catalog applies them to the record it
read and writes the result atomically, so two changes at once never lose each other's.

Sidecars are added at any status but DELETED and kept across every transition: a
transcode (a first attempt, a retry, a redelivered job) replaces only the source's own
tracks, and the sidecars follow them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .errors import Conflict, NotFound
from .tracks import Track, TrackSource, TrackType


def of(tracks: Sequence[Track]) -> tuple[Track, ...]:
    """The sidecar tracks among ``tracks``, in order."""
    return tuple(t for t in tracks if t.source is TrackSource.SIDECAR)


def merged(own: Sequence[Track], held: Sequence[Track]) -> tuple[Track, ...]:
    """The source's tracks ``own`` (a transcode's plan or result) followed by the sidecars
    the asset already ``held``; a sidecar marked default stays the one default text track."""
    embedded = [t for t in own if t.source is not TrackSource.SIDECAR]
    added = of(held)
    if any(t.default for t in added if t.type is TrackType.TEXT):
        embedded = [_undefault(t) for t in embedded]
    return (*embedded, *added)


def find(tracks: Sequence[Track], language: str) -> int | None:
    """Where the sidecar track of ``language`` is (tags compare case-insensitively)."""
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


def added(
    tracks: Sequence[Track], track: Track, max_text_tracks: int
) -> tuple[tuple[Track, ...], bool]:
    """``tracks`` with ``track`` added, or replacing its language's sidecar (False); Conflict
    past the text track limit. A default ``track`` becomes the only default text track."""
    result = list(tracks)
    at = find(result, track.language)
    if at is None:
        text = sum(t.type is TrackType.TEXT for t in result)
        if text >= max_text_tracks:
            raise Conflict(f"the asset has {text} text tracks, the limit")
        result.append(track)
    else:
        result[at] = track
    if track.default:
        result = [t if t is track else _undefault(t) for t in result]
    return tuple(result), at is None


def removed(tracks: Sequence[Track], language: str) -> tuple[tuple[Track, ...], Track]:
    """``tracks`` without the sidecar of ``language``, and that track; NotFound if there
    is none (a source's own tracks are never removed)."""
    at = find(tracks, language)
    if at is None:
        raise NotFound(f"no {language} captions were added to the asset")
    return (*tracks[:at], *tracks[at + 1 :]), tracks[at]


def _undefault(track: Track) -> Track:
    if track.type is not TrackType.TEXT or not track.default:
        return track
    return replace(track, default=False)
