"""Finishing FFmpeg's DASH muxer output into vodkit's CMAF stream layout.

FFmpeg's DASH muxer (``-hls_playlist 1``) writes one set of CMAF segments with
an MPD and HLS playlists beside it, but names everything by representation
number and writes an HLS master without AVERAGE-BANDWIDTH or FRAME-RATE. This
module renames each representation's directory after its rung (``720p/``,
``audio_128k/``), points the MPD's templates there, moves each media playlist
into its rung as ``index.m3u8`` (marked VOD), and writes the master playlist
from the plan and the bytes actually written. An audio-only asset's master lists its
bitrates as variants of their own (``CODECS="mp4a.40.2"``): a single track's playlists
directly, several tracks as an ``AUDIO`` group per bitrate whose variant plays the default
track (its ``EXT-X-MEDIA`` has no URI: RFC 8216 4.3.4.1) and whose others have their own.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ...domain import layout
from ...domain.plan import AudioRendition, Measured, TranscodePlan, segment_rates
from ...domain.tracks import MAX_NAME, Role, Track, manifest_text, quoted

MPD_NS = "urn:mpeg:dash:schema:mpd:2011"
ET.register_namespace("", MPD_NS)
ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

REP_DIR = "r$RepresentationID$"
INIT_NAME = f"{REP_DIR}/{layout.RUNG_INIT}"
SEGMENT_NAME = f"{REP_DIR}/" + layout.RUNG_SEGMENT.replace("{number:05d}", "$Number%05d$")
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
AUDIO_PURPOSE_SCHEME = "urn:tva:metadata:cs:AudioPurposeCS:2007"  # 1: for the visually impaired
DESCRIBES_VIDEO = "public.accessibility.describes-video"
# An AdaptationSet's children come in the schema's order: Accessibility and Role before these.
AFTER_ROLES = {f"{{{MPD_NS}}}{tag}" for tag in (
    "Rating", "Viewpoint", "ContentComponent", "BaseURL", "SegmentBase", "SegmentList",
    "SegmentTemplate", "Representation",
)}  # fmt: skip
AFTER_LABEL = AFTER_ROLES | {f"{{{MPD_NS}}}{tag}" for tag in ("Accessibility", "Role")}


@dataclass(frozen=True)
class RungStats:
    codecs: str
    peak_bps: int
    average_bps: int


def representation_names(plan: TranscodePlan) -> list[str]:
    """Representation ids in output-stream order: video rungs, then audio."""
    return [v.name for v in plan.video] + [a.name for a in plan.audio]


def audio_set_key(plan: TranscodePlan, audio: AudioRendition) -> int | None:
    """Which DASH AdaptationSet an audio rendition joins: its track's (one per language for
    a source with one track per language; a described-video or second track of a language
    is other content, never a bitrate to switch to). None: a plan from before tracks."""
    return audio.track


def _rewrite_mpd(mpd: Path, names: list[str], plan: TranscodePlan) -> dict[str, str]:
    tree = ET.parse(mpd)  # noqa: S314 - FFmpeg wrote this file, not a user
    codecs: dict[str, str] = {}
    audio = {a.name: a for a in plan.audio}
    for adaptation in tree.getroot().iter(f"{{{MPD_NS}}}AdaptationSet"):
        tracks: list[Track] = []
        for rep in adaptation.iter(f"{{{MPD_NS}}}Representation"):
            name = names[int(rep.get("id", "-1"))]
            codecs[name] = rep.get("codecs", "")
            for template in rep.iter(f"{{{MPD_NS}}}SegmentTemplate"):
                for attr in ("initialization", "media"):
                    value = template.get(attr, "")
                    template.set(attr, value.replace(f"{REP_DIR}/", f"{name}/"))
            track = plan.track(audio[name]) if name in audio else None
            if track is not None:
                tracks.append(track)
        if tracks:
            _label_audio_set(adaptation, tracks[0])
    tree.write(mpd, encoding="utf-8", xml_declaration=True)
    return codecs


def _label_audio_set(adaptation: ET.Element, track: Track) -> None:
    """``lang``, a ``Label`` (the track's name), ``Role`` (and ``Accessibility`` for a
    description) on an audio set, in the schema's order."""
    adaptation.set("lang", track.language)
    for old in [*adaptation.findall(f"{{{MPD_NS}}}Role")]:
        adaptation.remove(old)  # FFmpeg's own, from the stream's tags
    children = list(adaptation)
    at = next((i for i, c in enumerate(children) if c.tag in AFTER_LABEL), len(children))
    label = ET.Element(f"{{{MPD_NS}}}Label")
    label.text = track.name  # ElementTree escapes it
    adaptation.insert(at, label)
    labels = []
    if Role.DESCRIPTION in track.roles:
        labels.append(("Accessibility", AUDIO_PURPOSE_SCHEME, "1"))
    labels += [("Role", ROLE_SCHEME, str(role)) for role in track.roles]
    children = list(adaptation)
    at = next((i for i, c in enumerate(children) if c.tag in AFTER_ROLES), len(children))
    for offset, (tag, scheme, value) in enumerate(labels):
        element = ET.Element(f"{{{MPD_NS}}}{tag}", {"schemeIdUri": scheme, "value": value})
        adaptation.insert(at + offset, element)


def _rewrite_media_playlist(source: Path, target: Path, old_dir: str) -> list[tuple[float, str]]:
    """Move a media playlist into its rung; return its (duration, segment) entries."""
    lines: list[str] = []
    segments: list[tuple[float, str]] = []
    duration = 0.0
    for line in source.read_text().splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME"):
            continue  # wall-clock stamps of the encode, meaningless for VOD
        line = line.replace(f"{old_dir}/", "")
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            segments.append((duration, line))
        lines.append(line)
        if line.startswith("#EXT-X-VERSION"):
            lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    target.write_text("\n".join(lines) + "\n")
    source.unlink()
    return segments


def segment_entries(playlist: Path) -> list[tuple[float, str]]:
    """A media playlist's (duration, segment) entries, in order."""
    entries: list[tuple[float, str]] = []
    duration = 0.0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            entries.append((duration, line))
    return entries


def _rates(directory: Path, segments: list[tuple[float, str]]) -> tuple[int, int]:
    return segment_rates([(d, (directory / name).stat().st_size) for d, name in segments])


def measured_rungs(plan: TranscodePlan, workdir: Path) -> dict[str, Measured]:
    """Every video rung as written: (peak, average) from its media playlist, its codecs
    from the master playlist (what players are told)."""
    codecs = _master_codecs(workdir / layout.MASTER)
    found: dict[str, Measured] = {}
    for rung in plan.video:
        directory = workdir / layout.rung(rung.name)
        playlist = directory / layout.RUNG_PLAYLIST
        if not playlist.is_file():
            continue
        segments = [(d, n) for d, n in segment_entries(playlist) if (directory / n).is_file()]
        if segments:
            found[rung.name] = Measured(*_rates(directory, segments), codecs.get(rung.name, ""))
    return found


def _master_codecs(master: Path) -> dict[str, str]:
    """Rung name -> the CODECS of its variant in a master playlist written above."""
    found: dict[str, str] = {}
    codecs = ""
    for line in master.read_text().splitlines() if master.is_file() else []:
        if line.startswith("#EXT-X-STREAM-INF:"):
            codecs = line.partition('CODECS="')[2].partition('"')[0]
        elif line and not line.startswith("#"):
            found[line.partition("/")[0]] = codecs
    return found


def finalize_stream(plan: TranscodePlan, workdir: Path) -> None:
    stream_dir = workdir / layout.STREAM
    names = representation_names(plan)
    codecs = _rewrite_mpd(workdir / layout.MPD, names, plan)
    stats: dict[str, RungStats] = {}
    for index, name in enumerate(names):
        old_dir = f"r{index}"
        os.replace(stream_dir / old_dir, stream_dir / name)
        segments = _rewrite_media_playlist(
            stream_dir / f"media_{index}.m3u8", stream_dir / name / layout.RUNG_PLAYLIST, old_dir
        )
        peak, average = _rates(stream_dir / name, segments)
        stats[name] = RungStats(codecs=codecs.get(name, ""), peak_bps=peak, average_bps=average)
    (workdir / layout.MASTER).unlink(missing_ok=True)  # FFmpeg's, replaced below
    (workdir / layout.MASTER).write_text(master_playlist(plan, stats))


def _audio_media(plan: TranscodePlan, *, in_variant: frozenset[str] = frozenset()) -> list[str]:
    """The EXT-X-MEDIA lines: in each group (a bitrate), one per kept audio track, the
    source's default track DEFAULT=YES; names unique within a group, as HLS requires.
    A rendition ``in_variant`` is the variant's own media: its line names no URI."""
    lines = []
    names: dict[str, set[str]] = {}
    for i, audio in enumerate(plan.audio):
        track = plan.track(audio)
        group = audio.group_id
        taken = names.setdefault(group, set())
        base = manifest_text(track.name if track else audio.name, MAX_NAME - 6)
        name, n = base, 2
        while name in taken:  # as written: two names that differ by a quote collide
            name, n = f"{base} ({n})", n + 1
        taken.add(name)
        default = track.default if track else i == 0
        attributes = [
            f"TYPE=AUDIO,GROUP-ID={quoted(group)}",
            *([f"LANGUAGE={quoted(track.language)}"] if track else []),
            f"NAME={quoted(name)}",
            f"DEFAULT={'YES' if default else 'NO'},AUTOSELECT=YES",
            f'CHANNELS="{audio.channels}"',
        ]
        if track and Role.DESCRIPTION in track.roles:
            attributes.append(f'CHARACTERISTICS="{DESCRIBES_VIDEO}"')
        if audio.name not in in_variant:
            attributes.append(f'URI="{audio.name}/{layout.RUNG_PLAYLIST}"')
        lines.append(f"#EXT-X-MEDIA:{','.join(attributes)}")
    return lines


def _audio_only_master(plan: TranscodePlan, stats: dict[str, RungStats]) -> str:
    """One variant per bitrate (group), playing the group's default track's playlist."""
    variants: dict[str, AudioRendition] = {}
    for audio in plan.audio:
        variants.setdefault(audio.group_id, audio)  # the group's first, unless...
        track = plan.track(audio)
        if track is not None and track.default:  # ...another is the default track
            variants[audio.group_id] = audio
    several = len(plan.audio) > len(variants)  # more than one track: groups
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if several:
        lines += _audio_media(plan, in_variant=frozenset(a.name for a in variants.values()))
    for group, audio in variants.items():
        sound = stats[audio.name]
        attributes = [
            f"BANDWIDTH={sound.peak_bps}",
            f"AVERAGE-BANDWIDTH={sound.average_bps}",
            f'CODECS="{sound.codecs or "mp4a.40.2"}"',
            *([f"AUDIO={quoted(group)}"] if several else []),
        ]
        playlist = f"{audio.name}/{layout.RUNG_PLAYLIST}"
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", playlist]
    return "\n".join(lines) + "\n"


def master_playlist(plan: TranscodePlan, stats: dict[str, RungStats]) -> str:
    if plan.audio_only:
        return _audio_only_master(plan, stats)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS", *_audio_media(plan)]
    for rung in plan.video:
        video = stats[rung.name]
        sound = stats.get(rung.audio) if rung.audio else None
        codecs = ",".join(c for c in (video.codecs, sound.codecs if sound else "") if c)
        attributes = [
            f"BANDWIDTH={video.peak_bps + (sound.peak_bps if sound else 0)}",
            f"AVERAGE-BANDWIDTH={video.average_bps + (sound.average_bps if sound else 0)}",
            f"RESOLUTION={rung.width}x{rung.height}",
            f"FRAME-RATE={float(plan.frame_rate):.3f}",  # what was encoded: every rung's rate
            f'CODECS="{codecs}"',
        ]
        if rung.audio:
            attributes.append(f'AUDIO="{rung.audio}"')
        playlist = f"{rung.name}/{layout.RUNG_PLAYLIST}"
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", playlist]
    return "\n".join(lines) + "\n"
