"""One chunk of a title, encoded on its own: every video rung, for one time range (issue 28).

The chunk's segments are the one pass's: the same numbers, the same decode times (``tfdt``),
the same frames at the same presentation times, a keyframe where the one pass has one. So
a rung stitched from its chunks' segments is the rung one process would have made; only the
bits differ (each chunk's rate control starts afresh). How, measured on FFmpeg 9:

- The timeline is the one pass's: ``-copyts -start_at_zero`` keeps the source's timestamps
  less its start time (what the one pass sees without ``-copyts``), so the constant-rate
  ``fps`` filter lays the same frame grid and numbers each frame as the one pass does.
- The seek is accurate with a pre-roll: ``-ss`` lands ``PREROLL_SECONDS`` early (FFmpeg
  decodes from the keyframe before it), then ``trim=start_pts:end_pts`` keeps exactly the
  chunk's frames by their index on that grid, after deinterlacing and the rate conversion
  have seen the frames before the cut (so its first frame is the one pass's).
- Keyframes: ``-force_key_frames``'s ``t`` counts from the first frame the encoder gets,
  so the one pass's ``gte(t,n_forced*G)`` is rewritten with the chunk's first frame index
  and keyframe number, in the same double arithmetic (``n`` x the frame duration), so the
  same frames are forced even where the rate is not a whole number per second.
- The segments: FFmpeg's HLS muxer writes fMP4 (``-hls_segment_type fmp4``) numbered from
  ``-start_number``, one directory per rung (``-var_stream_map``); with ``movflags
  +frag_discont`` each fragment's ``tfdt`` is its decode time on the whole timeline, and the
  init segment's edit list (the B-frame delay) is the one pass's; ``-avoid_negative_ts
  disabled`` keeps the first chunk's from being shifted by that delay. The DASH muxer that
  the one pass uses has no start number.

``stitch_rung`` joins the chunks' segments into one rung directory with its media playlist.

At rates where 6 s is not whole frames (30000/1001) the one pass cuts its video a frame
early too (``ffmpeg.video_cut``), so its segments are the chunks' there as well. Known
limit (issue 28's report): a source whose video starts after its audio is not yet
handled (the first chunk keeps the offset, the one pass does not).
"""

from __future__ import annotations

import math
import os
import re
import shutil
from fractions import Fraction
from pathlib import Path

from ...domain import layout
from ...domain.chunks import Chunk
from ...domain.errors import ConfigError, ErrorCode, TranscodeFailed, TransientError
from ...domain.plan import TranscodePlan, VideoRendition
from .. import sandbox
from .base import Progress, ProgressCallback
from .ffmpeg import (
    TRANSIENT_MARKERS,
    _ProgressReader,
    conditioning,
    h264_arguments,
    rate_control,
)

PREROLL_SECONDS = 2.0  # decoded before the chunk: the deinterlacer's and the rate's context
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a rung's name in -var_stream_map's syntax
SEGMENT_PATTERN = layout.RUNG_SEGMENT.replace("{number:05d}", "%05d")


def frame_step(plan: TranscodePlan) -> float:
    """A frame's duration as FFmpeg evaluates keyframe expressions (``av_q2d`` of 1/rate)."""
    rate = plan.frame_rate
    return rate.denominator / rate.numerator


def first_frame(plan: TranscodePlan, seconds: float) -> int:
    """The index of the first frame at or after ``seconds``: the one pass forces its
    keyframe there (``t`` = index x frame duration, in doubles), and a segment starts on it."""
    step = frame_step(plan)
    index = math.ceil(Fraction(seconds) * plan.frame_rate)
    while index > 0 and (index - 1) * step >= seconds:
        index -= 1
    while index * step < seconds:
        index += 1
    return index


def keyframes(plan: TranscodePlan, chunk: Chunk) -> str:
    """The one pass's ``gte(t,n_forced*G)``, counted from the chunk's first frame."""
    gop = plan.gop_seconds
    return (
        f"expr:gte((n+{first_frame(plan, chunk.start)})*{frame_step(plan)!r},"
        f"(n_forced+{chunk.start // gop})*{gop})"
    )


def segment_cut(plan: TranscodePlan, chunk: Chunk) -> str:
    """``-hls_time``: the HLS muxer cuts at the first keyframe ``k`` x this after the
    chunk's first frame, which starts up to a frame late where segments do not fall on a
    frame; one frame less then still finds the keyframe near each boundary, and not the
    one a keyframe interval before it, for as many segments as a chunk may hold."""
    segment = plan.segment_seconds
    if (segment * plan.frame_rate).denominator == 1:
        return str(segment)
    if math.ceil(chunk.seconds / segment) >= plan.gop_seconds * plan.frame_rate - 1:
        raise ConfigError(
            f"chunks of {chunk.seconds:g} s are too long for {float(plan.frame_rate):g} fps: "
            "shorten them"
        )
    return f"{math.floor((segment - 1 / plan.frame_rate) * 1_000_000) / 1_000_000:.6f}"


def encodes(plan: TranscodePlan) -> list[VideoRendition]:
    """What a chunk encodes: every rung, then each file's video (the preview: the stitch
    remuxes its fragments into the MP4 with the audio, without encoding it again)."""
    return [*plan.video, *(f.video for f in plan.files)]


def filter_graph(plan: TranscodePlan, chunk: Chunk) -> str:
    """Every rung from one decode, as ``ffmpeg.filter_graph`` scales them (the largest
    output first, so the smaller rungs' pixels are the one pass's), with the chunk cut
    from the conditioned frames by their index."""
    scaled = [(v.width, v.height) for v in encodes(plan)]
    poster = (plan.poster.width, plan.poster.height)
    base_w, base_h = max([*scaled, poster], key=lambda s: s[0] * s[1])
    last = chunk.end >= plan.duration  # to the source's last frame, whatever its time
    end = "" if last else f":end_pts={first_frame(plan, chunk.end)}"
    rungs = len(encodes(plan))
    chains = [
        f"[0:v:0]{conditioning(plan)}trim=start_pts={first_frame(plan, chunk.start)}{end},"
        f"scale={base_w}:{base_h}:flags=bicubic,format=yuv420p,setdar={plan.dar},"
        f"split={rungs}" + "".join(f"[s{i}]" for i in range(rungs))
    ]
    for i, video in enumerate(encodes(plan)):
        resize = (
            ""
            if (video.width, video.height) == (base_w, base_h)
            else f"scale={video.width}:{video.height},"
        )
        chains.append(f"[s{i}]{resize}setdar={plan.dar}[v{i}]")
    return ";".join(chains)


def build_command(
    plan: TranscodePlan,
    chunk: Chunk,
    source: Path,
    workdir: Path,
    *,
    ffmpeg: str,
    x264_preset: str,
) -> list[str]:
    if not plan.fps:
        raise ConfigError("a chunked encode needs the plan's constant frame rate")
    names = [video.name for video in encodes(plan)]
    if not plan.video or not all(SAFE_NAME.fullmatch(name) for name in names):
        raise ConfigError("a chunked encode needs rungs named with letters, digits, - or _")
    if len(set(names)) != len(names):
        raise ConfigError("a chunked encode needs each rung and file named apart")
    encoder = h264_arguments(plan, x264_preset)
    encoder[encoder.index("-force_key_frames") + 1] = keyframes(plan, chunk)
    for i, video in enumerate(encodes(plan)):
        encoder += rate_control(video, i, mode=plan.rate_control)
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        "-progress", "pipe:1", "-y", "-copyts", "-start_at_zero",
        "-protocol_whitelist", "file", "-ss", f"{max(0.0, chunk.start - PREROLL_SECONDS):.6f}",
        "-f", plan.demuxer, "-i", f"file:{source}",
        "-filter_complex", filter_graph(plan, chunk),
        *(arg for i in range(len(names)) for arg in ("-map", f"[v{i}]")),
        *encoder,
        "-f", "hls", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod",
        "-hls_time", segment_cut(plan, chunk), "-start_number", str(chunk.first_segment),
        "-hls_segment_options", "movflags=+frag_discont", "-avoid_negative_ts", "disabled",
        "-hls_fmp4_init_filename", layout.RUNG_INIT,
        "-hls_segment_filename", str(workdir / "%v" / SEGMENT_PATTERN),
        "-var_stream_map", " ".join(f"v:{i},name:{name}" for i, name in enumerate(names)),
        str(workdir / "%v" / layout.RUNG_PLAYLIST),
    ]  # fmt: skip


class ChunkEncoder:
    """Encodes one chunk of a plan into ``workdir/<rung>/`` (and ``workdir/<file>/``, the
    preview's video): ``init.mp4``, its segments (numbered on the whole title) and
    ``index.m3u8`` (their durations, for the stitch)."""

    def __init__(
        self,
        ffmpeg: str,
        *,
        x264_preset: str = "veryfast",
        timeout: float = 3600.0,
        memory_bytes: int = 6 * 1024**3,
    ) -> None:
        self.ffmpeg = ffmpeg  # an executable (``ffmpeg.ffmpeg_executable``)
        self.x264_preset = x264_preset
        self.limits = sandbox.Limits(timeout=timeout, memory_bytes=memory_bytes)

    def encode(
        self,
        plan: TranscodePlan,
        chunk: Chunk,
        source: Path,
        workdir: Path,
        on_progress: ProgressCallback = lambda progress: None,
    ) -> dict[str, Path]:
        """The rung directories written, by rung name."""
        workdir = workdir.resolve()
        shutil.rmtree(workdir, ignore_errors=True)  # a rerun starts clean
        workdir.mkdir(parents=True)
        linked = sandbox.neutral_link(source, workdir, "input")
        args = build_command(
            plan, chunk, linked, workdir, ffmpeg=self.ffmpeg, x264_preset=self.x264_preset
        )
        finished = sandbox.run(
            args, self.limits, on_line=_ProgressReader(chunk.seconds, on_progress), cwd=workdir
        )
        linked.unlink(missing_ok=True)
        if not finished.ok:
            raise self._failure(chunk, finished)
        rungs = {video.name: workdir / video.name for video in encodes(plan)}
        for index, directory in enumerate(rungs.values()):
            # The HLS muxer tells several variants' init segments apart by a suffix.
            for written in (directory / f"init_{index}.mp4", directory / layout.RUNG_INIT):
                if written.is_file():
                    os.replace(written, directory / layout.RUNG_INIT)
                    break
            else:
                raise TranscodeFailed(
                    f"chunk {chunk.index} wrote no init segment for {directory.name}",
                    code=ErrorCode.VERIFICATION_FAILED,
                )
        on_progress(Progress(percent=100.0, eta_seconds=0.0))
        return rungs

    def _failure(self, chunk: Chunk, finished: sandbox.Finished) -> Exception:
        """As ``FfmpegTranscoder._failure`` maps them: a full disk is worth a retry."""
        if finished.timed_out:
            return TranscodeFailed(
                f"chunk {chunk.index} took longer than {self.limits.timeout:g} s",
                code=ErrorCode.TIMEOUT,
            )
        lines = [line.strip() for line in finished.stderr.splitlines() if line.strip()]
        detail = lines[-1][:300] if lines else f"exit code {finished.returncode}"
        if any(marker in finished.stderr for marker in TRANSIENT_MARKERS):
            return TransientError(f"FFmpeg failed on chunk {chunk.index}: {detail}")
        return TranscodeFailed(f"FFmpeg could not encode chunk {chunk.index}: {detail}")


def _entries(playlist: Path) -> list[tuple[str, str]]:
    """A chunk's media playlist as (EXTINF line, segment name) pairs."""
    entries: list[tuple[str, str]] = []
    duration = ""
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            duration = line
        elif line and not line.startswith("#"):
            entries.append((duration, line))
    return entries


def stitch_rung(chunks: list[Path], target: Path) -> list[str]:
    """One rung from its chunks' directories, in order: the init segment (every chunk's is
    the same, or the rung would not play across a join), every segment, and a media
    playlist over them. Returns the segments' names."""
    init = (chunks[0] / layout.RUNG_INIT).read_bytes()
    target.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    durations: list[float] = []
    names: list[str] = []
    for directory in chunks:
        if (directory / layout.RUNG_INIT).read_bytes() != init:
            raise TranscodeFailed(
                f"the chunks of {target.name} do not share one init segment",
                code=ErrorCode.VERIFICATION_FAILED,
            )
        for extinf, name in _entries(directory / layout.RUNG_PLAYLIST):
            if name in names or not re.fullmatch(r"seg_\d{5,}\.m4s", name):
                raise TranscodeFailed(
                    f"chunk segment {name[:40]!r} is out of place",
                    code=ErrorCode.VERIFICATION_FAILED,
                )
            shutil.copyfile(directory / name, target / name)
            durations.append(float(extinf[8:].split(",")[0]))
            lines += [extinf, name]
            names.append(name)
    if not durations:
        raise TranscodeFailed("the chunks hold no segment", code=ErrorCode.VERIFICATION_FAILED)
    (target / layout.RUNG_INIT).write_bytes(init)
    head = [
        "#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{max(map(round, durations))}",
        "#EXT-X-MEDIA-SEQUENCE:1", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{layout.RUNG_INIT}"',
    ]  # fmt: skip
    (target / layout.RUNG_PLAYLIST).write_text("\n".join([*head, *lines, "#EXT-X-ENDLIST"]) + "\n")
    return names
