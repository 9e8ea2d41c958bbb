"""Independent checks of transcoder outputs: third-party parsers and decoding back.

Nothing here uses vodkit's own code to judge vodkit's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import m3u8
from mpegdash.parser import MPEGDASHParser


@dataclass(frozen=True)
class Decoded:
    duration: float
    width: int | None
    height: int | None
    codec: str | None
    audio_channels: int | None
    keyframes: tuple[float, ...]
    frames: int = 0  # video frames decoded


def decode(path: Path) -> Decoded:
    """Decode every frame; durations from presentation timestamps, not from headers."""
    with av.open(str(path)) as container:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        ends: list[float] = []
        starts: list[float] = []
        keyframes: list[float] = []
        width = height = None
        frames = 0
        for index, stream in enumerate(s for s in (video, audio) if s is not None):
            if index:
                container.seek(0)
            first = last = None
            for packet in container.demux(stream):
                if packet.pts is not None:
                    t0 = float(packet.pts * stream.time_base)
                    t1 = t0 + float((packet.duration or 0) * stream.time_base)
                    first = t0 if first is None else min(first, t0)
                    last = t1 if last is None else max(last, t1)
                    if stream is video and packet.is_keyframe:
                        keyframes.append(round(t0, 3))
                for frame in packet.decode():
                    if stream is video:
                        width, height = frame.width, frame.height
                        frames += 1
            try:
                for frame in stream.codec_context.decode(None):  # flush delayed frames
                    if stream is video:
                        width, height = frame.width, frame.height
            except av.error.EOFError:  # the demuxer's final empty packet flushed it already
                pass
            if first is not None and last is not None:
                starts.append(first)
                ends.append(last)
        return Decoded(
            duration=max(ends) - min(starts) if ends else 0.0,
            width=width,
            height=height,
            codec=video.codec_context.name if video else None,
            audio_channels=audio.codec_context.channels if audio else None,
            keyframes=tuple(sorted(keyframes)),
            frames=frames,
        )


def audio_packets(path: Path) -> list[tuple[int | None, bytes]]:
    """The first audio track's packets, (pts, payload), as the container stores them."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(p.pts, bytes(p)) for p in container.demux(stream) if p.size]


def joined(init: Path, segments: list[Path], target: Path) -> Path:
    """A CMAF track as one fragmented MP4: init segment + media segments."""
    with target.open("wb") as sink:
        for part in [init, *segments]:
            sink.write(part.read_bytes())
    return target


@dataclass(frozen=True)
class Track:
    init: Path
    segments: list[Path]


def hls_tracks(master: Path) -> tuple[m3u8.M3U8, dict[str, Track]]:
    playlist = m3u8.load(str(master))
    tracks: dict[str, Track] = {}
    uris = [p.uri for p in playlist.playlists] + [
        m.uri
        for m in playlist.media
        if m.uri and m.type != "SUBTITLES"  # WebVTT: no CMAF
    ]
    for uri in uris:
        media = m3u8.load(str(master.parent / uri))
        base = (master.parent / uri).parent
        assert media.is_endlist and media.playlist_type == "vod"
        tracks[uri.split("/")[0]] = Track(
            init=base / media.segment_map[0].uri, segments=[base / s.uri for s in media.segments]
        )
    return playlist, tracks


def dash_tracks(mpd: Path) -> tuple[object, dict[str, tuple[object, Track]]]:
    manifest = MPEGDASHParser.parse(str(mpd))
    tracks: dict[str, tuple[object, Track]] = {}
    for period in manifest.periods:
        for adaptation in period.adaptation_sets:
            for rep in adaptation.representations:
                if not rep.segment_templates:  # a text track: one WebVTT file, no CMAF
                    continue
                template = rep.segment_templates[0]
                numbers: list[int] = []
                n = template.start_number
                for s in template.segment_timelines[0].Ss:
                    for _ in range(1 + (s.r or 0)):
                        numbers.append(n)
                        n += 1
                media = template.media
                prefix, _, rest = media.partition("$Number%05d$")
                segments = [mpd.parent / f"{prefix}{num:05d}{rest}" for num in numbers]
                name = template.initialization.split("/")[0]
                tracks[name] = (
                    (adaptation, rep),
                    Track(init=mpd.parent / template.initialization, segments=segments),
                )
    return manifest, tracks


def luma(path: Path) -> tuple[float, float]:
    """Mean and standard deviation of a picture's luma (0-255)."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    grey = frame.to_ndarray(format="gray")
    return float(grey.mean()), float(grey.std())
