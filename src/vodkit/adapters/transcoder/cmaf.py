"""Finishing FFmpeg's DASH muxer output into vodkit's CMAF stream layout.

FFmpeg's DASH muxer (``-hls_playlist 1``) writes one set of CMAF segments with
an MPD and HLS playlists beside it, but names everything by representation
number and writes an HLS master without AVERAGE-BANDWIDTH or FRAME-RATE. This
module renames each representation's directory after its rung (``720p/``,
``audio_128k/``), points the MPD's templates there, moves each media playlist
into its rung as ``index.m3u8`` (marked VOD), and writes the master playlist
from the plan and the bytes actually written.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ...domain import layout
from ...domain.plan import Measured, TranscodePlan, segment_rates

MPD_NS = "urn:mpeg:dash:schema:mpd:2011"
ET.register_namespace("", MPD_NS)
ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

REP_DIR = "r$RepresentationID$"
INIT_NAME = f"{REP_DIR}/{layout.RUNG_INIT}"
SEGMENT_NAME = f"{REP_DIR}/" + layout.RUNG_SEGMENT.replace("{number:05d}", "$Number%05d$")


@dataclass(frozen=True)
class RungStats:
    codecs: str
    peak_bps: int
    average_bps: int


def representation_names(plan: TranscodePlan) -> list[str]:
    """Representation ids in output-stream order: video rungs, then audio."""
    return [v.name for v in plan.video] + [a.name for a in plan.audio]


def _rewrite_mpd(mpd: Path, names: list[str]) -> dict[str, str]:
    tree = ET.parse(mpd)  # noqa: S314 - FFmpeg wrote this file, not a user
    codecs: dict[str, str] = {}
    for rep in tree.getroot().iter(f"{{{MPD_NS}}}Representation"):
        name = names[int(rep.get("id", "-1"))]
        codecs[name] = rep.get("codecs", "")
        for template in rep.iter(f"{{{MPD_NS}}}SegmentTemplate"):
            for attr in ("initialization", "media"):
                value = template.get(attr, "")
                template.set(attr, value.replace(f"{REP_DIR}/", f"{name}/"))
    tree.write(mpd, encoding="utf-8", xml_declaration=True)
    return codecs


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
        segments, duration = [], 0.0
        for line in playlist.read_text().splitlines():
            if line.startswith("#EXTINF:"):
                duration = float(line[8:].split(",")[0])
            elif line and not line.startswith("#") and (directory / line).is_file():
                segments.append((duration, line))
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
    codecs = _rewrite_mpd(workdir / layout.MPD, names)
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


def master_playlist(plan: TranscodePlan, stats: dict[str, RungStats]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for i, audio in enumerate(plan.audio):
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{audio.name}",NAME="{audio.name}",'
            f'DEFAULT={"YES" if i == 0 else "NO"},AUTOSELECT=YES,CHANNELS="{audio.channels}",'
            f'URI="{audio.name}/{layout.RUNG_PLAYLIST}"'
        )
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
