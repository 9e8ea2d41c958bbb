"""What a chunked transcode makes besides its chunks, and what its stitch writes (issue 28).

The audio is encoded once, whole (each AAC encode starts with priming samples: audio
joined from chunks would click and drift at every join), into CMAF segments as the rungs
are (FFmpeg's HLS muxer, fMP4); the poster and the sprite come from one decode of their
own. The stitch then writes what FFmpeg's DASH muxer writes in the one pass: the HLS master
and the DASH manifest over every rung's segments (their durations from the rungs' media
playlists), and remuxes the preview's video fragments with its audio into the MP4
(``+faststart``), without encoding anything again. Every file read here is vodkit's own.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

from ...domain import layout
from ...domain.errors import ConfigError, ErrorCode, TranscodeFailed
from ...domain.plan import SpritePlan, TranscodePlan, segment_rates
from ...domain.tracks import language_alpha3
from .. import sandbox
from .cmaf import (
    MPD_NS,
    RungStats,
    _label_audio_set,
    audio_set_key,
    master_playlist,
    segment_entries,
)
from .ffmpeg import (
    CANDIDATES,
    SHEETS,
    TILES,
    _every,
    colour_tags,
    conditioning,
    poster_and_sprite,
    rfc6381,
)

ENCODE = "enc{index}"  # the audio piece's directory of ``plan.audio_encodes[index]``
CHANNELS_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"


def _run(args: list[str], limits: sandbox.Limits, what: str, cwd: Path) -> None:
    finished = sandbox.run(args, limits, cwd=cwd)
    if not finished.ok:
        lines = [line.strip() for line in finished.stderr.splitlines() if line.strip()]
        detail = lines[-1][:300] if lines else f"exit code {finished.returncode}"
        raise TranscodeFailed(f"FFmpeg could not make the {what}: {detail}")


def _inits(directory: Path, index: int) -> None:
    """The HLS muxer tells several variants' init segments apart by a suffix: named as
    in every rung, in its playlist too."""
    for written in (directory / f"init_{index}.mp4", directory / layout.RUNG_INIT):
        if written.is_file():
            os.replace(written, directory / layout.RUNG_INIT)
            playlist = directory / layout.RUNG_PLAYLIST
            lines = [
                f'#EXT-X-MAP:URI="{layout.RUNG_INIT}"' if line.startswith("#EXT-X-MAP:") else line
                for line in playlist.read_text().splitlines()
            ]
            playlist.write_text("\n".join(lines) + "\n")
            return
    raise TranscodeFailed(
        f"no init segment for {directory.name}", code=ErrorCode.VERIFICATION_FAILED
    )


def audio_command(plan: TranscodePlan, source: Path, workdir: Path, ffmpeg: str) -> list[str]:
    """Every audio encode of the plan, whole, as ``enc{j}/`` (init, segments, playlist)."""
    encodes = plan.audio_encodes
    inputs: dict[str, list[int]] = {}  # each source track decoded once, split to its encodes
    for j, audio in enumerate(encodes):
        inputs.setdefault(audio.input, []).append(j)
    chains = [
        f"[{track}]asplit={len(js)}" + "".join(f"[as{j}]" for j in js)
        for track, js in inputs.items()
    ]
    chains += [
        f"[as{j}]aresample={a.sample_rate},aformat=sample_fmts=fltp:channel_layouts=stereo[a{j}]"
        for j, a in enumerate(encodes)
    ]
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-y",
        "-protocol_whitelist", "file", "-f", plan.demuxer, "-i", f"file:{source}",
        "-filter_complex", ";".join(chains),
        *(arg for j in range(len(encodes)) for arg in ("-map", f"[a{j}]")), "-c:a", "aac",
    ]  # fmt: skip
    for j, audio in enumerate(encodes):
        args += [f"-b:a:{j}", str(audio.bitrate)]
        track = plan.track(audio)
        if track is not None:
            args += [f"-metadata:s:a:{j}", f"language={language_alpha3(track.language)}"]
    # Keep the AAC encoder's priming at negative times: the init's edit list then skips it,
    # as the one pass's DASH muxer does (shifted to 0, it would play 21 ms late).
    return [
        *args, "-avoid_negative_ts", "disabled",
        "-f", "hls", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod",
        "-hls_time", str(plan.segment_seconds), "-start_number", "1",
        "-hls_fmp4_init_filename", layout.RUNG_INIT,
        "-hls_segment_filename", str(workdir / "%v" / "seg_%05d.m4s"),
        "-var_stream_map", " ".join(
            f"a:{j},name:{ENCODE.format(index=j)}" for j in range(len(encodes))
        ),
        str(workdir / "%v" / layout.RUNG_PLAYLIST),
    ]  # fmt: skip


def sprite_of(plan: TranscodePlan) -> SpritePlan:
    """The plan's sprite: a chunked plan is a video's, which always has one."""
    sprite: SpritePlan | None = plan.sprite
    if sprite is None:
        raise ConfigError("a chunked transcode needs a video: this plan has no sprite")
    return sprite


def thumbs_command(plan: TranscodePlan, source: Path, workdir: Path, ffmpeg: str) -> list[str]:
    """The poster's candidates and the sprite's tiles, from one decode, as the one pass's."""
    poster, sprite = plan.poster, sprite_of(plan)
    window = max(plan.duration / poster.candidates, 0.1)
    graph = (
        f"[0:v:0]{conditioning(plan)}format=yuv420p,split=2[p][s];"
        f"[p]{_every(window)},scale={poster.width}:{poster.height},setsar=1[poster];"
        f"[s]{_every(sprite.interval)},scale={sprite.tile_width}:{sprite.tile_height},"
        "setsar=1[sprite]"
    )
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-y",
        "-protocol_whitelist", "file", "-f", plan.demuxer, "-i", f"file:{source}",
        "-filter_complex", graph,
        "-map", "[poster]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "3",
        *colour_tags(plan), "-f", "image2", str(workdir / CANDIDATES / "%03d.jpg"),
        "-map", "[sprite]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "5",
        *colour_tags(plan), "-f", "image2", str(workdir / TILES / "%05d.jpg"),
    ]  # fmt: skip


class FfmpegPieces:
    """The audio and thumbnail pieces of a chunked transcode, and the stitch's remux."""

    def __init__(self, ffmpeg: str, *, timeout: float = 3600.0, memory_bytes: int = 6 * 1024**3):
        self.ffmpeg = ffmpeg  # an executable (``ffmpeg.ffmpeg_executable``)
        self.limits = sandbox.Limits(timeout=timeout, memory_bytes=memory_bytes)

    def audio(self, plan: TranscodePlan, source: Path, workdir: Path) -> None:
        """``workdir/enc{j}/`` for every ``plan.audio_encodes[j]`` (nothing if none)."""
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        if not plan.audio_encodes:
            return
        linked = sandbox.neutral_link(source, workdir, "input")
        _run(audio_command(plan, linked, workdir, self.ffmpeg), self.limits, "audio", workdir)
        linked.unlink(missing_ok=True)
        for j in range(len(plan.audio_encodes)):
            _inits(workdir / ENCODE.format(index=j), j)

    def thumbs(self, plan: TranscodePlan, source: Path, workdir: Path) -> None:
        """``workdir/thumbs/``: the poster, the sprite's sheets and its WebVTT."""
        workdir = workdir.resolve()
        for directory in (layout.THUMBS, CANDIDATES, TILES, SHEETS):
            (workdir / directory).mkdir(parents=True, exist_ok=True)
        linked = sandbox.neutral_link(source, workdir, "input")
        command = thumbs_command(plan, linked, workdir, self.ffmpeg)
        _run(command, self.limits, "poster and sprite", workdir)
        linked.unlink(missing_ok=True)
        poster_and_sprite(plan, sprite_of(plan), workdir, self.ffmpeg)
        for directory in (CANDIDATES, TILES, SHEETS):
            shutil.rmtree(workdir / directory)

    def preview(self, video: Path, audio: Path | None, target: Path) -> None:
        """The MP4 from a stitched video rung's directory and an audio encode's: their
        fragments joined, then remuxed (``-c copy``) with the index up front."""
        work = target.parent
        work.mkdir(parents=True, exist_ok=True)
        inputs: list[str] = []
        for n, directory in enumerate(d for d in (video, audio) if d is not None):
            joined = work / f"joined{n}.mp4"
            join_fragments(directory, joined)
            inputs += ["-f", "mp4", "-i", f"file:{joined}"]
        maps = ["-map", "0:v:0", *(["-map", "1:a:0"] if audio is not None else [])]
        _run(
            [
                self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                "-protocol_whitelist", "file", *inputs, *maps, "-c", "copy",
                "-movflags", "+faststart", str(target),
            ],
            self.limits, "MP4 preview", work,
        )  # fmt: skip
        for n in range(2):
            (work / f"joined{n}.mp4").unlink(missing_ok=True)


def join_fragments(directory: Path, target: Path) -> None:
    """A rung's init segment and its media segments, in playlist order, as one fragmented
    MP4 (what a player appends to its buffer, in a file)."""
    with target.open("wb") as out:
        for name in [
            layout.RUNG_INIT,
            *(n for _, n in segment_entries(directory / layout.RUNG_PLAYLIST)),
        ]:
            with (directory / name).open("rb") as part:
                shutil.copyfileobj(part, out)


def _codecs(directory: Path) -> str:
    import av  # our own init segment

    with av.open(str(directory / layout.RUNG_INIT)) as init:
        return ",".join(filter(None, map(rfc6381, init.streams)))


def _stats(directory: Path) -> RungStats:
    entries = segment_entries(directory / layout.RUNG_PLAYLIST)
    peak, average = segment_rates([(d, (directory / n).stat().st_size) for d, n in entries])
    return RungStats(_codecs(directory), peak, average)


def _timeline(template: ET.Element, entries: list[tuple[float, str]]) -> None:
    """A SegmentTimeline in milliseconds from the segments' durations, rounded on their
    running sum so that no error accumulates; equal durations in one ``S`` with ``r``."""
    timeline = ET.SubElement(template, f"{{{MPD_NS}}}SegmentTimeline")
    total, starts = 0.0, [0]
    for duration, _ in entries:
        total += duration
        starts.append(round(total * 1000))
    runs: list[list[int]] = []  # [t, d, repeats]
    for start, end in pairwise(starts):
        if runs and runs[-1][1] == end - start:
            runs[-1][2] += 1
        else:
            runs.append([start, end - start, 0])
    for t, d, r in runs:
        attributes = {"t": str(t), "d": str(d), **({"r": str(r)} if r else {})}
        ET.SubElement(timeline, f"{{{MPD_NS}}}S", attributes)


def _representation(
    parent: ET.Element, name: str, stream: Path, attributes: dict[str, str]
) -> RungStats:
    stats = _stats(stream / name)
    rep = ET.SubElement(
        parent,
        f"{{{MPD_NS}}}Representation",
        {"id": name, "codecs": stats.codecs, "bandwidth": str(stats.peak_bps), **attributes},
    )
    template = ET.SubElement(
        rep,
        f"{{{MPD_NS}}}SegmentTemplate",
        {
            "timescale": "1000",
            "initialization": f"{name}/{layout.RUNG_INIT}",
            "media": f"{name}/" + layout.RUNG_SEGMENT.replace("{number:05d}", "$Number%05d$"),
            "startNumber": "1",
        },
    )
    _timeline(template, segment_entries(stream / name / layout.RUNG_PLAYLIST))
    return stats


def write_manifests(plan: TranscodePlan, workdir: Path) -> None:
    """The DASH manifest and the HLS master over ``workdir/stream/<rung>/`` (each with its
    init segment, segments and media playlist), as the one pass's are."""
    stream = workdir / layout.STREAM
    rate = plan.frame_rate
    mpd = ET.Element(
        f"{{{MPD_NS}}}MPD",
        {
            "profiles": "urn:mpeg:dash:profile:isoff-live:2011",
            "type": "static",
            "mediaPresentationDuration": f"PT{plan.duration:.3f}S",
            "minBufferTime": f"PT{plan.segment_seconds}S",
        },
    )
    period = ET.SubElement(mpd, f"{{{MPD_NS}}}Period", {"id": "0", "start": "PT0S"})
    video = ET.SubElement(
        period,
        f"{{{MPD_NS}}}AdaptationSet",
        {
            "id": "0", "contentType": "video", "mimeType": "video/mp4",
            "segmentAlignment": "true", "startWithSAP": "1",
            "frameRate": f"{rate.numerator}/{rate.denominator}",
        },
    )  # fmt: skip
    stats: dict[str, RungStats] = {}
    for rung in plan.video:
        size = {"width": str(rung.width), "height": str(rung.height), "sar": "1:1"}
        stats[rung.name] = _representation(video, rung.name, stream, size)
    sets: dict[int | None, ET.Element] = {}
    for audio in plan.audio:
        key = audio_set_key(plan, audio)
        if key not in sets:
            sets[key] = ET.SubElement(
                period,
                f"{{{MPD_NS}}}AdaptationSet",
                {"id": str(len(sets) + 1), "contentType": "audio", "mimeType": "audio/mp4",
                 "segmentAlignment": "true", "startWithSAP": "1"},
            )  # fmt: skip
        stats[audio.name] = _representation(
            sets[key], audio.name, stream, {"audioSamplingRate": str(audio.sample_rate)}
        )
        rep = sets[key].findall(f"{{{MPD_NS}}}Representation")[-1]
        channels = {"schemeIdUri": CHANNELS_SCHEME, "value": str(audio.channels)}
        rep.insert(0, ET.Element(f"{{{MPD_NS}}}AudioChannelConfiguration", channels))
    for key, adaptation in sets.items():
        first = next(a for a in plan.audio if audio_set_key(plan, a) == key)
        track = plan.track(first)
        if track is not None:
            _label_audio_set(adaptation, track)
    ET.ElementTree(mpd).write(workdir / layout.MPD, encoding="utf-8", xml_declaration=True)
    (workdir / layout.MASTER).write_text(master_playlist(plan, stats))
