"""Where an asset's outputs live, relative to its prefix (``{assetId}/``), for every runner.

```
stream/master.m3u8   stream/manifest.mpd   stream/<rung>/init.mp4, seg_NNNNN.m4s, index.m3u8
mp4/<name>.mp4       thumbs/poster.jpg     thumbs/sprite.jpg (sprite-2.jpg...) + sprite.vtt
captions/<lang>.vtt (a second track of one language: <lang>.2.vtt) + <lang>.m3u8 (its HLS playlist)
captions/sidecar/<lang>.vtt + <lang>.m3u8   (a caption added by the owner: one per language)
```

An audio-only asset has the same ``stream/`` (audio renditions only), ``mp4/<name>.m4a`` in
place of the MP4, ``thumbs/poster.png`` (its waveform) as the poster, and no sprite.

MediaConvert names its manifests after the CMAF destination (``stream/master.m3u8`` and
``stream/master.mpd``) and its MP4 after the source, so a job's outputs are taken from
what it reports (``format_of``), not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence

from .plan import SpritePlan, TranscodePlan
from .tracks import Track, TrackSource

FORMATS = ("hls", "dash", "mp4", "m4a", "poster", "sprite")
DIRECTORIES = (
    "stream",
    "mp4",
    "thumbs",
    "captions",
)  # everything an asset publishes is under these
STREAM = "stream/"
MASTER = "stream/master.m3u8"
MPD = "stream/manifest.mpd"
MP4 = "mp4/"
THUMBS = "thumbs/"
CAPTIONS = "captions/"  # each text track's WebVTT (a plain download) and its HLS playlist
# the captions the owner adds: apart from the source's, whose keys the transcode picks (and
# may write while a caption is added), so neither ever overwrites the other
SIDECAR_CAPTIONS = "captions/sidecar/"
POSTER = "thumbs/poster.jpg"
WAVEFORM = "thumbs/poster.png"  # an audio-only asset's poster
SPRITE_VTT = "thumbs/sprite.vtt"
# MediaConvert's frame captures, judged and sheeted before its job may complete
POSTER_CANDIDATES = "thumbs/candidates/"
SPRITE_TILES = "thumbs/tiles/"
# in each rung's directory: its init segment, its media segments, its playlist
RUNG_INIT = "init.mp4"
RUNG_SEGMENT = "seg_{number:05d}.m4s"
RUNG_PLAYLIST = "index.m3u8"
MANIFEST_SUFFIXES = (".m3u8", ".mpd", ".vtt")  # files that name other files: published last
_SUFFIX_FORMATS = {
    ".m3u8": "hls",
    ".mpd": "dash",
    ".mp4": "mp4",
    ".m4a": "m4a",
    ".jpg": "poster",
    ".png": "poster",
    ".vtt": "sprite",
}


def prefix(asset_id: str) -> str:
    return f"{asset_id}/"


def rung(name: str) -> str:
    return f"{STREAM}{name}/"


def mp4(name: str) -> str:
    return f"{MP4}{name}.mp4"


def m4a(name: str) -> str:
    return f"{MP4}{name}.m4a"


def poster(plan: TranscodePlan) -> str:
    """The poster's key: a JPEG frame, or an audio-only asset's PNG waveform."""
    return WAVEFORM if plan.audio_only else POSTER


def captions(languages: list[str]) -> list[str]:
    """Each text track's WebVTT, by its BCP 47 language, in order: ``captions/en.vtt``, a
    second English one ``captions/en.2.vtt`` (a tag has no dot: no name is taken twice)."""
    seen: dict[str, int] = {}
    keys = []
    for language in languages:
        seen[language] = seen.get(language, 0) + 1
        ordinal = f".{seen[language]}" if seen[language] > 1 else ""
        keys.append(f"{CAPTIONS}{language}{ordinal}.vtt")
    return keys


def sidecar_caption(language: str) -> str:
    """The WebVTT of the caption added in ``language`` (an asset has one per language)."""
    return f"{SIDECAR_CAPTIONS}{language}.vtt"


def text_keys(texts: Sequence[Track]) -> list[str]:
    """Each text track's WebVTT key, in order: the source's own as ``captions`` names them,
    each sidecar at its ``sidecar_caption``."""
    own = iter(captions([t.language for t in texts if t.source is not TrackSource.SIDECAR]))
    return [
        sidecar_caption(t.language.lower()) if t.source is TrackSource.SIDECAR else next(own)
        for t in texts
    ]


def caption_playlist(key: str) -> str:
    """The HLS media playlist of the WebVTT at ``key``, beside it."""
    return key.removesuffix(".vtt") + ".m3u8"


def sprite_sheet(sheet: int) -> str:
    return THUMBS + SpritePlan.sheet_name(sheet)


def outputs(plan: TranscodePlan) -> dict[str, str]:
    """Where each format a plan makes lives; the catalog's ``formats`` are its keys."""
    found = {"hls": MASTER, "dash": MPD, "poster": poster(plan)}
    if plan.sprite is not None:
        found["sprite"] = SPRITE_VTT
    if plan.files:
        found["mp4"] = mp4(plan.files[0].name)
    if plan.downloads:
        found["m4a"] = m4a(plan.downloads[0].name)
    return {kind: found[kind] for kind in FORMATS if kind in found}


def publish_order(files: list[str]) -> tuple[str, ...]:
    """Media first, rendition playlists next, top-level manifests last."""

    def rank(path: str) -> tuple[int, str]:
        if not path.endswith(MANIFEST_SUFFIXES):
            return 0, path
        return (1 if "/" in path.removeprefix(STREAM) else 2), path

    return tuple(sorted(files, key=rank))


def format_of(key: str) -> str | None:
    """The format an output file is, by its name; None for what is no output of its own
    (frame captures that are not the poster: the sprite's tiles)."""
    name = key.rsplit("/", 1)[-1]
    if key.startswith(CAPTIONS) or f"/{CAPTIONS}" in key:
        return None  # a text track's, reached from the manifests
    if key.endswith(".vtt") and not (key.startswith(THUMBS) or f"/{THUMBS}" in key):
        return None  # MediaConvert's WebVTT beside its stream: a text track's, not the sprite
    for suffix, kind in _SUFFIX_FORMATS.items():
        if key.endswith(suffix):
            return None if kind == "poster" and not name.startswith("poster") else kind
    return None
