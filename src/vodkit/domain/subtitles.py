"""An asset's text tracks in its manifests: the HLS master's SUBTITLES group, each track's
subtitle media playlist, and a text AdaptationSet per track in the MPD.

``with_text_tracks`` takes the finished manifests and returns them with exactly the text
tracks given: any earlier ones are removed first, so it runs again whenever captions are
added or removed (applied twice, it gives what applying it once gave), with no re-encode.

Each track's WebVTT is one file (``captions/en.vtt``): the plain download, the one segment
of its HLS playlist and the DASH representation's only resource. HLS players place its
cues on the media timeline through its ``X-TIMESTAMP-MAP`` (hls.js: relative to the fMP4's
``initPTS``, its first ``tfdt``); vodkit's CMAF starts at media time 0 with an edit list
that cancels the B-frame delay, so the map is ``MPEGTS:0,LOCAL:00:00:00.000``
(``CMAF_MPEGTS``; measured in the transcoder, so a change of timeline cannot go unseen).
"""

from __future__ import annotations

import math
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from . import layout
from .tracks import TextKind, Track, manifest_text, quoted, shaped_tag

CMAF_MPEGTS = 0  # the 90 kHz time of vodkit's CMAF media time 0, as hls.js and Safari read it
GROUP = "subs"
SDH = (
    "public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"
)
MPD_NS = "urn:mpeg:dash:schema:mpd:2011"
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
TEXT_BANDWIDTH = 256  # bits per second: a nominal figure, WebVTT is a few bytes a second
ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')
ET.register_namespace("", MPD_NS)
ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")


@dataclass(frozen=True)
class TextRendition:
    track: Track
    key: str  # its WebVTT, relative to the asset's outputs: layout.captions(...)


@dataclass(frozen=True)
class Manifests:
    master: str
    mpd: str
    playlists: dict[str, str]  # each subtitle media playlist's key -> its text


def with_text_tracks(
    master: str, mpd: str, renditions: Sequence[TextRendition], duration: float
) -> Manifests:
    """The master and the MPD with exactly ``renditions`` as their text tracks, and the
    subtitle media playlists to write beside each WebVTT (``layout.caption_playlist``)."""
    playlists = {
        layout.caption_playlist(r.key): media_playlist(posixpath.basename(r.key), duration)
        for r in renditions
    }
    return Manifests(hls_master(master, renditions), dash_mpd(mpd, renditions), playlists)


def media_playlist(vtt: str, duration: float) -> str:
    """A VOD playlist of one segment: the whole WebVTT, as long as the asset."""
    duration = max(duration, 0.001)
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        f"#EXT-X-TARGETDURATION:{math.ceil(duration)}\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{duration:.3f},\n{vtt}\n#EXT-X-ENDLIST\n"
    )


def _names(renditions: Sequence[TextRendition]) -> list[str]:
    """Each track's name, made unique in the group as HLS requires ("English (2)")."""
    names: list[str] = []
    for r in renditions:
        name = manifest_text(r.track.name) or shaped_tag(r.track.language)
        candidate, n = name, 1
        while candidate in names:
            n += 1
            candidate = f"{name} ({n})"
        names.append(candidate)
    return names


def _type(media: str) -> str:
    found = (m for m in ATTRIBUTE.finditer(media.removeprefix("#EXT-X-MEDIA:")))
    return next((m.group(2) for m in found if m.group(1) == "TYPE"), "")


def hls_master(master: str, renditions: Sequence[TextRendition]) -> str:
    default = next((i for i, r in enumerate(renditions) if r.track.default), None)
    media = []
    for i, (r, name) in enumerate(zip(renditions, _names(renditions), strict=True)):
        uri = posixpath.relpath(layout.caption_playlist(r.key), posixpath.dirname(layout.MASTER))
        attributes = [
            "TYPE=SUBTITLES", f'GROUP-ID="{GROUP}"', f'LANGUAGE="{shaped_tag(r.track.language)}"',
            f"NAME={quoted(name)}", f"DEFAULT={'YES' if i == default else 'NO'}",
            "AUTOSELECT=YES", f"FORCED={'YES' if r.track.forced else 'NO'}",
        ]  # fmt: skip
        if r.track.kind is TextKind.CAPTIONS:
            attributes.append(f'CHARACTERISTICS="{SDH}"')
        attributes.append(f'URI="{uri}"')
        media.append("#EXT-X-MEDIA:" + ",".join(attributes))
    lines: list[str] = []
    for line in master.splitlines():
        if line.startswith("#EXT-X-MEDIA:") and _type(line) == "SUBTITLES":
            continue  # an earlier text track (by its TYPE, never by a name's text)
        if line.startswith("#EXT-X-STREAM-INF:"):
            if media:
                lines += media
                media = []
            attributes = [
                m.group(0)
                for m in ATTRIBUTE.finditer(line.removeprefix("#EXT-X-STREAM-INF:"))
                if m.group(1) != "SUBTITLES"
            ]
            if renditions:
                attributes.append(f'SUBTITLES="{GROUP}"')
            line = "#EXT-X-STREAM-INF:" + ",".join(attributes)
        lines.append(line)
    return "\n".join(lines + media) + "\n"


def _is_text(adaptation: ET.Element) -> bool:
    mime = adaptation.get("mimeType", "") + "".join(
        r.get("mimeType", "") for r in adaptation.iter(f"{{{MPD_NS}}}Representation")
    )
    return adaptation.get("contentType") == "text" or "text/" in mime or "ttml" in mime


def dash_mpd(mpd: str, renditions: Sequence[TextRendition]) -> str:
    root = ET.fromstring(mpd)  # noqa: S314 - vodkit's own MPD (FFmpeg's, or this module's)
    period = root.find(f"{{{MPD_NS}}}Period")
    if period is None:
        raise ValueError("the MPD has no Period")
    for p in root.iter(f"{{{MPD_NS}}}Period"):
        for adaptation in p.findall(f"{{{MPD_NS}}}AdaptationSet"):
            if _is_text(adaptation):
                p.remove(adaptation)
    ids = [
        int(a.get("id", ""))
        for a in period.iter(f"{{{MPD_NS}}}AdaptationSet")
        if a.get("id", "").isdigit()
    ]
    next_id = max(ids, default=-1) + 1
    for i, (r, name) in enumerate(zip(renditions, _names(renditions), strict=True)):
        adaptation = ET.SubElement(
            period, f"{{{MPD_NS}}}AdaptationSet",
            {"id": str(next_id + i), "contentType": "text", "mimeType": "text/vtt",
             "lang": shaped_tag(r.track.language)},
        )  # fmt: skip
        ET.SubElement(adaptation, f"{{{MPD_NS}}}Label").text = name  # before Role: the schema
        role = "caption" if r.track.kind is TextKind.CAPTIONS else "subtitle"
        roles = [role, "forced-subtitle"] if r.track.forced else [role]
        for value in roles:
            ET.SubElement(adaptation, f"{{{MPD_NS}}}Role", schemeIdUri=ROLE_SCHEME, value=value)
        representation = ET.SubElement(
            adaptation, f"{{{MPD_NS}}}Representation",
            {"id": f"text_{i}", "bandwidth": str(TEXT_BANDWIDTH)},
        )  # fmt: skip
        base = posixpath.relpath(r.key, posixpath.dirname(layout.MPD))
        ET.SubElement(representation, f"{{{MPD_NS}}}BaseURL").text = base
    ET.indent(root, space="\t")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
