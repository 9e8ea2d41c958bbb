"""Checking a transcode's outputs before anyone may call them done.

FFmpeg exits 0 on many damaged inputs (a truncated file just ends early), so
exit codes prove little. Every rendition is checked against the plan: the
stream's media playlists add up to the duration of their own source stream (video
rungs to the video's, audio renditions to the audio's: a voice-over that ends early or
a silent tail are legal sources, not truncated ones), each rung has the
planned resolution and codec in both manifests, every segment a manifest
names exists, and the MP4 and poster are there (an audio-only asset: its M4A holds
sound only, as long as the source's, and its waveform is the planned PNG). These files
were written by FFmpeg in our work directory, so reading them here is safe.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ...domain import layout
from ...domain.errors import ErrorCode, TranscodeFailed
from ...domain.plan import SpritePlan, TranscodePlan
from .cmaf import MPD_NS

TOLERANCE_SECONDS = 0.5
VERIFICATION = ErrorCode.VERIFICATION_FAILED  # what these checks find is vodkit's fault


def _check_duration(what: str, actual: float, expected: float, *, kind: str = "video") -> None:
    if actual < expected - TOLERANCE_SECONDS:
        raise TranscodeFailed(
            f"{what} lasts {actual:.2f} s but the source declares {expected:.2f} s of {kind}: "
            "the upload is probably truncated or damaged",
            code=ErrorCode.TRUNCATED,
        )
    if actual > expected + TOLERANCE_SECONDS:
        raise TranscodeFailed(
            f"{what} lasts {actual:.2f} s, longer than the source's {expected:.2f} s",
            code=VERIFICATION,
        )


def _media_playlist(path: Path) -> float:
    """Sum the playlist's durations, checking that its init and every segment exist."""
    if not path.is_file():
        raise TranscodeFailed(
            f"{path.parent.name}: the media playlist is missing", code=VERIFICATION
        )
    total = 0.0
    for line in path.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            total += float(line[8:].split(",")[0])
        uri = line.split('URI="')[1].rstrip('"') if line.startswith("#EXT-X-MAP:") else line
        if uri and not uri.startswith("#") and not (path.parent / uri).is_file():
            raise TranscodeFailed(
                f"{path.parent.name}: the playlist names {uri}, which was not written",
                code=VERIFICATION,
            )
    return total


def _mpd_representations(mpd: Path) -> dict[str, dict[str, str]]:
    root = ET.parse(mpd).getroot()  # noqa: S314 - FFmpeg wrote it in our work directory
    found: dict[str, dict[str, str]] = {}
    for rep in root.iter(f"{{{MPD_NS}}}Representation"):
        template = rep.find(f"{{{MPD_NS}}}SegmentTemplate")
        init = template.get("initialization", "") if template is not None else ""
        found[init.split("/")[0]] = dict(rep.attrib)
    return found


def verify_outputs(plan: TranscodePlan, workdir: Path) -> None:
    stream = workdir / layout.STREAM
    reps = _mpd_representations(workdir / layout.MPD)
    master = (workdir / layout.MASTER).read_text()
    expected_names = {v.name for v in plan.video} | {a.name for a in plan.audio}
    if set(reps) != expected_names:
        raise TranscodeFailed(
            f"the MPD lists {sorted(reps)}, the plan {sorted(expected_names)}",
            code=VERIFICATION,
        )
    for rung in plan.video:
        rep = reps[rung.name]
        if (rep.get("width"), rep.get("height")) != (str(rung.width), str(rung.height)):
            raise TranscodeFailed(
                f"{rung.name}: encoded {rep.get('width')}x{rep.get('height')}, planned "
                f"{rung.width}x{rung.height}",
                code=VERIFICATION,
            )
        if not rep.get("codecs", "").startswith("avc1."):
            raise TranscodeFailed(f"{rung.name}: not H.264", code=VERIFICATION)
        if f"RESOLUTION={rung.width}x{rung.height}" not in master:
            raise TranscodeFailed(f"{rung.name}: missing from the HLS master", code=VERIFICATION)
    for audio in plan.audio:
        if not reps[audio.name].get("codecs", "").startswith("mp4a.40"):
            raise TranscodeFailed(f"{audio.name}: not AAC", code=VERIFICATION)
    audio_duration = plan.audio_duration or plan.duration
    for rung in plan.video:
        playlist = stream / rung.name / layout.RUNG_PLAYLIST
        _check_duration(rung.name, _media_playlist(playlist), plan.duration)
    for audio in plan.audio:
        playlist = stream / audio.name / layout.RUNG_PLAYLIST
        expected = audio.duration or audio_duration  # each track as long as its own source
        _check_duration(audio.name, _media_playlist(playlist), expected, kind="audio")
    for rendition in plan.files:
        video, sound = _mp4_durations(workdir / layout.mp4(rendition.name))
        _check_duration(f"the {rendition.name} MP4's video", video, plan.duration)
        if rendition.audio is not None:
            _check_duration(
                f"the {rendition.name} MP4's audio", sound or 0.0, audio_duration, kind="audio"
            )
    for download in plan.downloads:
        video, sound = _mp4_durations(workdir / layout.m4a(download.name))
        if video or sound is None:
            raise TranscodeFailed(f"the {download.name} M4A is not sound only", code=VERIFICATION)
        _check_duration(f"the {download.name} M4A", sound, audio_duration, kind="audio")
    poster = _picture_size(workdir / layout.poster(plan))
    if poster != (plan.poster.width, plan.poster.height):
        raise TranscodeFailed(f"the poster is {poster}, not as planned", code=VERIFICATION)
    if plan.sprite is not None:
        _check_sprite(plan.sprite, workdir / layout.THUMBS)


def _check_sprite(sprite: SpritePlan, thumbs: Path) -> None:
    """Every sheet a cue names exists, as the planned grid."""
    expected = (sprite.columns * sprite.tile_width, sprite.rows * sprite.tile_height)
    vtt = thumbs.parent / layout.SPRITE_VTT
    cues = [line for line in vtt.read_text().splitlines() if "#xywh=" in line]
    if not cues:
        raise TranscodeFailed("the sprite has no WebVTT cues", code=VERIFICATION)
    planned = {sprite.sheet_name(i) for i in range(sprite.sheets())}
    for sheet in sorted({cue.split("#xywh=")[0] for cue in cues}):
        if sheet not in planned:
            raise TranscodeFailed(f"a sprite cue names {sheet}", code=VERIFICATION)
        if _picture_size(thumbs / sheet) != expected:
            raise TranscodeFailed(
                f"the sprite sheet {sheet} is not the planned grid", code=VERIFICATION
            )


def _open(path: Path):  # type: ignore[no-untyped-def]
    import av  # reads our own output, never an upload

    try:
        return av.open(str(path))
    except (av.error.FFmpegError, FileNotFoundError) as exc:
        raise TranscodeFailed(f"{path.name} is missing or unreadable", code=VERIFICATION) from exc


def _mp4_durations(path: Path) -> tuple[float, float | None]:
    """The MP4's video and audio durations (None: no audio), each its own stream's."""
    with _open(path) as container:
        found: list[float | None] = []
        for streams in (container.streams.video, container.streams.audio):
            stream = streams[0] if streams else None
            if stream is None:
                found.append(None)
            elif stream.duration and stream.time_base:
                found.append(float(stream.duration * stream.time_base))
            else:
                found.append((container.duration or 0) / 1_000_000)
    return found[0] or 0.0, found[1]


def _picture_size(path: Path) -> tuple[int, int]:
    with _open(path) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height
