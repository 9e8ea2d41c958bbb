"""An upload's text tracks as WebVTT: extracted by FFmpeg, read and sanitised by
``domain.captions``, published beside the stream by ``domain.subtitles``.

FFmpeg runs as the transcode does: in the sandbox, on a neutral link to the upload, with
its probed demuxer forced and only the ``file`` protocol. SubRip, ASS/SSA and WebVTT are
copied out as they are (vodkit's parsers read them, nothing of FFmpeg's conversion is
trusted); other text codecs (``mov_text``...) are converted to SubRip. All tracks come out
of one read of the upload; when that fails, each track is tried alone, so one bad track
is skipped with its reason and the rest kept.

CEA-608 captions carried in the video (a track whose ``index`` is the video stream's) are
read by FFmpeg's ``subcc`` output of the lavfi ``movie`` source, which opens the upload
itself: it gets the same cage, the probed demuxer (``f=``) and only the ``file`` protocol
(``format_opts=protocol_whitelist=file``; FFmpeg refuses any other). That decodes the video
once more. Bitmap subtitles (PGS, DVB, VobSub) need OCR: skipped, with that reason.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...domain import layout
from ...domain.captions import Cue, parse_captions, to_webvtt
from ...domain.errors import InvalidInput
from ...domain.plan import TranscodePlan
from ...domain.subtitles import CMAF_MPEGTS, TextRendition, with_text_tracks
from ...domain.tracks import Skipped, Track, TrackLimits, TrackType
from .. import sandbox

LIMITS = sandbox.Limits(timeout=600, memory_bytes=2 * 1024**3)
WORK = "text"  # extracted tracks, in the work directory: never published
COPIED = {"subrip": "srt", "srt": "srt", "ass": "ass", "ssa": "ass", "webvtt": "webvtt"}
BITMAP = {"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub", "dvb_teletext"}
CEA608 = {"eia_608", "cea_608", "cc_dec"}
DEMUXER = re.compile(r"[A-Za-z0-9_,]+")  # a probed demuxer's name, safe in a filter graph
SKIP_BITMAP = "bitmap subtitles cannot become WebVTT without OCR"
NO_CUES = "the track holds no captions"


@dataclass(frozen=True)
class TextOutcome:
    renditions: tuple[TextRendition, ...]  # what the manifests now carry
    skipped: tuple[Skipped, ...]  # each track that could not be kept, with its reason


def write_text_tracks(
    ffmpeg: str,
    plan: TranscodePlan,
    source: Path,
    workdir: Path,
    tracks: Sequence[Track],
    limits: TrackLimits | None = None,
) -> TextOutcome:
    """Every embedded text track of ``tracks`` (those with a source ``index``) as
    ``captions/{lang}.vtt`` with its HLS playlist, and the master and the MPD rewritten to
    list exactly them. Run once the stream is finalised and verified, before the outputs are
    listed for publishing (manifests last)."""
    skipped: list[Skipped] = []
    wanted: list[Track] = []
    for track in tracks:
        if track.type is not TrackType.TEXT or track.index is None:
            continue
        if track.codec in BITMAP:
            skipped.append(Skipped("text", track.codec, track.language, SKIP_BITMAP, track.index))
        else:
            wanted.append(track)
    limits = limits or TrackLimits()
    extracted = _extract(ffmpeg, plan, source, workdir, wanted, limits.max_caption_bytes)
    kept: list[tuple[Track, list[Cue]]] = []
    for track in wanted:
        path = extracted.get(track.index) if track.index is not None else None
        if path is None:
            reason = "FFmpeg could not extract this text track"
            skipped.append(Skipped("text", track.codec, track.language, reason, track.index))
            continue
        if path.stat().st_size > limits.max_caption_bytes:  # FFmpeg stopped it at the cap
            reason = f"its text is larger than {limits.max_caption_bytes} bytes"
            skipped.append(Skipped("text", track.codec, track.language, reason, track.index))
            continue
        try:
            cues = parse_captions(path.read_bytes(), limits)
        except InvalidInput as exc:
            reason = f"its text could not be read: {exc.message}"
            skipped.append(Skipped("text", track.codec, track.language, reason, track.index))
            continue
        if cues:
            kept.append((track, cues))
        else:
            skipped.append(Skipped("text", track.codec, track.language, NO_CUES, track.index))
    keys = layout.captions([track.language for track, _ in kept])
    mpegts = cmaf_mpegts(workdir)
    for (_, cues), key in zip(kept, keys, strict=True):
        (workdir / key).parent.mkdir(parents=True, exist_ok=True)
        (workdir / key).write_text(to_webvtt(cues, mpegts=mpegts), encoding="utf-8")
    renditions = tuple(TextRendition(t, k) for (t, _), k in zip(kept, keys, strict=True))
    if renditions:
        write_manifests(workdir, renditions, plan.duration)
    return TextOutcome(renditions, tuple(skipped))


def write_manifests(workdir: Path, renditions: Sequence[TextRendition], duration: float) -> None:
    """The master and the MPD in ``workdir`` with exactly ``renditions`` as text tracks, and
    each one's subtitle playlist (the WebVTT files are already there)."""
    master, mpd = workdir / layout.MASTER, workdir / layout.MPD
    manifests = with_text_tracks(
        master.read_text(encoding="utf-8"), mpd.read_text(encoding="utf-8"), renditions, duration
    )
    for key, text in manifests.playlists.items():
        (workdir / key).write_text(text, encoding="utf-8")
    master.write_text(manifests.master, encoding="utf-8")
    mpd.write_text(manifests.mpd, encoding="utf-8")


def _extract(
    ffmpeg: str,
    plan: TranscodePlan,
    source: Path,
    workdir: Path,
    tracks: Sequence[Track],
    max_bytes: int,
) -> dict[int, Path]:
    """Stream index -> the extracted file, for each track FFmpeg could write (each cut
    at ``max_bytes`` + 1: a hostile stream of gigabytes never reaches the disk whole)."""
    if not tracks:
        return {}
    out = workdir / WORK
    out.mkdir(parents=True, exist_ok=True)
    linked = sandbox.neutral_link(source, out, "input")
    text = [t for t in tracks if t.codec not in CEA608]
    try:
        found, timed_out = _run(ffmpeg, plan.demuxer, linked, out, text, max_bytes)
        if len(found) < len(text) and len(text) > 1 and not timed_out:  # which one fails
            for track in text:
                if track.index not in found:
                    found.update(_run(ffmpeg, plan.demuxer, linked, out, [track], max_bytes)[0])
        # a second decode of the video: given as long as the video lasts, at least LIMITS'
        decode = sandbox.Limits(max(LIMITS.timeout, plan.duration), LIMITS.memory_bytes)
        for track in tracks:
            if track.codec in CEA608:
                found.update(_run_608(ffmpeg, plan.demuxer, linked, out, track, decode, max_bytes))
        return found
    finally:
        linked.unlink(missing_ok=True)


def _run(
    ffmpeg: str, demuxer: str, linked: Path, out: Path, tracks: Sequence[Track], max_bytes: int
) -> tuple[dict[int, Path], bool]:
    """The files written, and whether the run timed out (then no track is tried alone)."""
    if not tracks:
        return {}, False
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file", "-f", demuxer, "-i", f"file:{linked}",
    ]  # fmt: skip
    targets: dict[int, Path] = {}
    for track in tracks:
        if track.index is None or track.index in targets:
            continue  # one file per source stream
        muxer = COPIED.get(track.codec, "srt")
        target = out / f"{track.index}.{muxer}"
        target.unlink(missing_ok=True)
        codec = "copy" if track.codec in COPIED else "srt"
        args += ["-map", f"0:{track.index}", "-c:s", codec, "-fs", str(max_bytes + 1)]
        args += ["-f", muxer, f"file:{target}"]
        targets[track.index] = target
    finished = sandbox.run(args, LIMITS, cwd=out)
    if not finished.ok:
        return {}, finished.timed_out
    return {index: path for index, path in targets.items() if path.is_file()}, False


def _run_608(
    ffmpeg: str,
    demuxer: str,
    linked: Path,
    out: Path,
    track: Track,
    limits: sandbox.Limits,
    max_bytes: int,
) -> dict[int, Path]:
    """The CEA-608 captions of the video stream ``track.index`` as SubRip, by ``subcc``."""
    if track.index is None or not DEMUXER.fullmatch(demuxer):
        return {}
    target = out / f"{track.index}.608.ass"  # the decoder's own form: vodkit strips its styling
    target.unlink(missing_ok=True)
    source = (
        f"movie=filename={linked.name}:f='{demuxer}':si={track.index}:"
        "format_opts=protocol_whitelist=file[out0+subcc]"
    )
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", source, "-map", "0:s", "-c:s", "ass", "-fs", str(max_bytes + 1),
        "-f", "ass", f"file:{target}",
    ]  # fmt: skip
    if not sandbox.run(args, limits, cwd=out).ok or not target.is_file():
        return {}
    return {track.index: target}


def cmaf_mpegts(workdir: Path) -> int:
    """The 90 kHz time that cue time 0 is on the stream: the earliest first ``tfdt`` of the
    rungs written in ``workdir`` (what hls.js takes as ``initPTS``). vodkit's CMAF starts
    at 0; measured rather than assumed, so a change of timeline moves the captions too."""
    starts = []
    for init in sorted((workdir / layout.STREAM).glob(f"*/{layout.RUNG_INIT}")):
        first = init.with_name(layout.RUNG_SEGMENT.format(number=1))
        timescale = _mdhd_timescale(init.read_bytes())
        decode_time = _tfdt(first.read_bytes()) if first.is_file() else None
        if timescale and decode_time is not None:
            starts.append(decode_time * 90_000 // timescale)
    return min(starts, default=CMAF_MPEGTS)


def _box(data: bytes, path: Sequence[bytes]) -> bytes | None:
    """The body of the first box at ``path`` (``moov/trak/mdia/mdhd``) in ISO BMFF ``data``."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[offset + 8 : offset + 16])[0], 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            return None
        if kind == path[0]:
            body = data[offset + header : offset + size]
            return body if len(path) == 1 else _box(body, path[1:])
        offset += size
    return None


def _mdhd_timescale(init: bytes) -> int | None:
    body = _box(init, (b"moov", b"trak", b"mdia", b"mdhd"))
    if not body or len(body) < 24:
        return None
    return int(struct.unpack(">I", body[20:24] if body[0] == 1 else body[12:16])[0])


def _tfdt(segment: bytes) -> int | None:
    body = _box(segment, (b"moof", b"traf", b"tfdt"))
    if not body or len(body) < 8:
        return None
    return int(
        struct.unpack(">Q", body[4:12])[0] if body[0] == 1 else struct.unpack(">I", body[4:8])[0]
    )
