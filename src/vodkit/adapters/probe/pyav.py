"""Probing with PyAV, in a sandboxed child process.

libavformat parses hostile bytes here, so it runs in a separate Python process
under the sandbox's limits: a crash, a hang or a memory bomb kills the child,
not the worker. The child opens the file with ``protocol_whitelist=file`` and
``format_whitelist`` set to the allowed demuxers, so a playlist disguised as an
MP4 is refused before anything it references is opened. Declared limits are
checked before a single frame is decoded; then one frame is decoded to prove
the stream is readable and to learn its rotation, and the timestamps of a sample of
packets (demuxed, never decoded) tell a variable frame rate's fastest sustained part.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
import tempfile
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from ...domain.errors import ErrorCode, InvalidInput, LimitExceeded, UnsupportedMedia
from ...domain.frame_rate import sustained_peak
from ...domain.media import (
    ALLOWED_DEMUXERS,
    AUDIO_DEMUXERS,
    AudioInfo,
    Hdr10Metadata,
    MediaInfo,
    MediaLimits,
    StreamInfo,
    VideoInfo,
)
from ...domain.tracks import language_tag
from .. import sandbox

FORMAT_WHITELIST = "mov,matroska,mpegts,avi,flv,mp3,wav,flac,ogg,aac"
MAX_PACKETS_FOR_FIRST_FRAME = 600
# Frame timing: a short source is read whole, a longer one in windows spread over it, so a
# fast part anywhere is likely seen; packets only (no decoding), a bounded number of them.
TIMING_WINDOWS = 6
TIMING_WINDOW_SECONDS = 3.0
MAX_TIMING_PACKETS = 3000
# libavutil's enums (AVColorTransferCharacteristic, AVColorPrimaries, AVFieldOrder) by the
# names FFmpeg's options take; anything else is left unnamed ("": unknown, treated as SDR).
TRANSFERS = {1: "bt709", 6: "smpte170m", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
             16: "smpte2084", 18: "arib-std-b67"}  # fmt: skip
PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020"}
FIELD_ORDERS = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}
# Stream tags are the upload's words: titles are cut to this and stripped of control
# characters; at most this many streams are described (the rest cannot be kept anyway).
MAX_TITLE = 120
MAX_STREAMS = 64
DURATION_TAG = re.compile(r"(\d{1,4}):([0-5]\d):([0-5]\d(?:\.\d{1,9})?)")  # Matroska's
CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029], " ")
# Refused by their first bytes, before libavformat sees them: a clearer reason, and
# a second wall (the format whitelist is the first) against opening what they name.
STILL = "still images are not supported, upload a video or a sound file"
SIGNATURES: tuple[tuple[bytes, ErrorCode, str], ...] = (
    (b"#EXTM3U", ErrorCode.PLAYLIST, "the upload is an HLS playlist; playlists are never opened"),
    (b"ffconcat", ErrorCode.PLAYLIST, "the upload is an ffconcat list; playlists are never opened"),
    (b"<?xml", ErrorCode.PLAYLIST, "the upload is an XML document (a DASH manifest?); not a video"),
    (b"<MPD", ErrorCode.PLAYLIST, "the upload is a DASH manifest; manifests are never opened"),
    (
        b"YUV4MPEG2",
        ErrorCode.UNSUPPORTED_CONTAINER,
        "the upload is raw YUV4MPEG video, not accepted",
    ),
    *(
        (magic, ErrorCode.NOT_MEDIA, f"the upload is a {kind} image: {STILL}")
        for magic, kind in (
            (b"\x89PNG\r\n\x1a\n", "PNG"),
            (b"\xff\xd8\xff", "JPEG"),
            (b"GIF87a", "GIF"),
            (b"GIF89a", "GIF"),
        )
    ),
)


class PyavProber:
    def __init__(
        self,
        limits: MediaLimits | None = None,
        *,
        timeout: float = 30.0,
        memory_bytes: int = 1024**3,
    ) -> None:
        self.limits = limits or MediaLimits()
        self.sandbox = sandbox.Limits(
            timeout=timeout, memory_bytes=memory_bytes, cpu_seconds=int(timeout) + 1
        )

    def probe(self, path: Path) -> MediaInfo:
        self.limits.check_size(path.stat().st_size)
        with tempfile.TemporaryDirectory(prefix="vodkit-probe-") as tmp:
            source = sandbox.neutral_link(path, Path(tmp))
            finished = sandbox.run(
                [sys.executable, "-m", __name__, str(source), json.dumps(asdict(self.limits))],
                self.sandbox,
                # the child imports what we import (on Lambda, /var/task is on sys.path only)
                env={"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
        if finished.timed_out:
            raise LimitExceeded(f"probing took longer than {self.sandbox.timeout:g} s")
        try:
            answer = json.loads(finished.stdout)
        except json.JSONDecodeError:
            raise UnsupportedMedia(
                "the upload could not be read safely (the prober stopped with code "
                f"{finished.returncode})",
                code=ErrorCode.PROBE_FAILED,
            ) from None
        if "error" in answer:
            raise _rejection(answer["error"])
        return MediaInfo.from_dict(answer["media"])


def _rejection(error: dict[str, str]) -> InvalidInput:
    """The child's verdict, as the error it raised there."""
    try:
        code = ErrorCode(error["code"])
    except ValueError:
        code = ErrorCode.PROBE_FAILED
    return InvalidInput(str(error["message"]), code=code)


# --- the child ---------------------------------------------------------------


def _fraction(value: Any) -> str:
    if value is None:
        return "1/1"
    fraction = Fraction(value)
    return f"{fraction.numerator}/{fraction.denominator}" if fraction > 0 else "1/1"


def _enum(table: dict[int, str], value: Any) -> str:
    try:
        return table.get(int(value), "")
    except (TypeError, ValueError):
        return ""


def _inspect(path: str, limits: MediaLimits) -> MediaInfo:
    import av  # imported in the child only: the worker never parses media itself

    size = os.stat(path).st_size
    limits.check_size(size)
    _refuse_known_non_media(path)
    try:
        container = av.open(
            path,
            options={"protocol_whitelist": "file", "format_whitelist": FORMAT_WHITELIST},
            metadata_errors="replace",  # a tag that is not UTF-8 is read, not a reason to fail
        )
    except av.error.FFmpegError:
        raise UnsupportedMedia(
            "the upload is not a video file vodkit can read, nor a sound file (not MP4/MOV/"
            "M4A, Matroska/WebM, MPEG-TS, AVI, FLV, MP3, WAV, FLAC, Ogg or AAC, or damaged)",
            code=ErrorCode.NOT_MEDIA,
        ) from None
    with container:
        if container.format.name not in ALLOWED_DEMUXERS:
            raise UnsupportedMedia(f"the container {container.format.name} is not allowed")
        vstream = _picture(container)
        if vstream is not None and container.format.name in AUDIO_DEMUXERS:
            raise UnsupportedMedia(
                f"the {container.format.name} container is accepted for sound only, and this "
                "one holds video",
                code=ErrorCode.UNSUPPORTED_CONTAINER,
            )
        astream = next(iter(container.streams.audio), None)
        duration = (container.duration or 0) / 1_000_000
        if duration <= 0 and vstream is not None and vstream.duration and vstream.time_base:
            duration = float(vstream.duration * vstream.time_base)
        video: VideoInfo | None = None
        audio: AudioInfo | None = None
        if vstream is not None:
            cc = vstream.codec_context
            rate = vstream.average_rate or vstream.guessed_rate or 0
            video = VideoInfo(
                codec=cc.name,
                width=cc.width,
                height=cc.height,
                fps=round(float(rate), 3),
                sar=_fraction(cc.sample_aspect_ratio),
                bitrate=vstream.bit_rate or None,
                pix_fmt=cc.pix_fmt or "",
                duration=(
                    round(float(vstream.duration * vstream.time_base), 3)
                    if vstream.duration and vstream.time_base
                    else None
                ),
                color_transfer=_enum(TRANSFERS, getattr(cc, "color_trc", None)),
                color_primaries=_enum(PRIMARIES, getattr(cc, "color_primaries", None)),
                field_order=_enum(FIELD_ORDERS, getattr(cc, "field_order", None)),
            )
        if astream is not None:
            acc = astream.codec_context
            audio = AudioInfo(
                codec=acc.name,
                channels=acc.channels,
                sample_rate=acc.sample_rate,
                bitrate=astream.bit_rate or None,
                duration=(
                    round(float(astream.duration * astream.time_base), 3)
                    if astream.duration and astream.time_base
                    else None
                ),
            )
        media = MediaInfo(
            container=container.format.name,
            duration=round(duration, 3),
            size=size,
            bitrate=container.bit_rate or None,
            video=video,
            audio=audio,
            streams=_streams(container),
        )
        limits.check(media)  # declared values, before any decoding
        if vstream is None or video is None:
            if astream is not None:
                _first_frame(container, astream)  # a sound file must hold decodable sound
            return media
        if video.width <= 0 or video.height <= 0:
            raise UnsupportedMedia(
                "the video stream declares no picture size", code=ErrorCode.NO_PICTURE_SIZE
            )
        frame = _first_frame(container, vstream)
        rotation = round(getattr(frame, "rotation", 0) or 0) % 360
        peak = sustained_peak(_frame_times(container, vstream, media.duration))
        found: dict[str, Any] = {
            "rotation": rotation,
            "peak_fps": round(peak, 3) if peak is not None else None,
        }
        # A stream's header may leave colour and fields unsaid that its frames carry.
        if not video.color_transfer:
            found["color_transfer"] = _enum(TRANSFERS, getattr(frame, "color_trc", None))
        if not video.color_primaries:
            found["color_primaries"] = _enum(PRIMARIES, getattr(frame, "color_primaries", None))
        hdr10 = _hdr10(frame)
        if hdr10 is not None:
            found["hdr10"] = hdr10
        if not video.field_order and getattr(frame, "interlaced_frame", False):
            found["field_order"] = "tt" if getattr(frame, "top_field_first", True) else "bb"
        return MediaInfo(
            container=media.container,
            duration=media.duration,
            size=size,
            bitrate=media.bitrate,
            video=VideoInfo(**{**asdict(video), **found}),
            audio=audio,
            streams=media.streams + _closed_captions(frame, vstream.index),
        )


def _picture(container: Any) -> Any:
    """The first video stream that is a picture sequence: an MP3's, M4A's or FLAC's cover
    art (an attached picture) is no video."""
    import av

    attached = av.stream.Disposition.attached_pic
    return next((s for s in container.streams.video if not s.disposition & attached), None)


def _closed_captions(frame: Any, index: int) -> tuple[StreamInfo, ...]:
    """CEA-608/708 captions the video carries in its frames (H.264's A/53 side data), as a
    text track of the video stream, when the first frame shows them."""
    for side in _side_data(frame):
        if str(getattr(side, "type", "")).endswith("A53_CC"):
            return (StreamInfo(index, "subtitle", "eia_608", hearing_impaired=True),)
    return ()


def _streams(container: Any) -> tuple[StreamInfo, ...]:
    """Every stream but the pictures, as planning chooses among them (``domain.tracks``)."""
    import av

    found = []
    for stream in list(container.streams)[: MAX_STREAMS + 1]:
        if stream.type == "video":
            continue
        context = stream.codec_context
        codec = getattr(getattr(context, "codec", None), "canonical_name", "") or "unknown"
        disposition = stream.disposition
        flag = av.stream.Disposition

        def has(*flags: Any, disposition: Any = disposition) -> bool:
            return any(bool(disposition & f) for f in flags)

        found.append(
            StreamInfo(
                index=stream.index,
                type=str(stream.type),
                codec=_clean(codec, 32),
                language=language_tag(_clean(stream.metadata.get("language", ""), 64)),
                title=_clean(stream.metadata.get("title", ""), MAX_TITLE),
                default=has(flag.default),
                forced=has(flag.forced),
                hearing_impaired=has(flag.hearing_impaired, flag.captions),
                visual_impaired=has(flag.visual_impaired, flag.descriptions),
                channels=(getattr(context, "channels", None) or None)
                if stream.type == "audio"
                else None,
                duration=_duration(stream),
            )
        )
    return tuple(found[:MAX_STREAMS])


def _duration(stream: Any) -> float | None:
    """A stream's own duration: its header's, else Matroska's DURATION tag (per track)."""
    if stream.duration and stream.time_base:
        return round(float(stream.duration * stream.time_base), 3)
    tag = DURATION_TAG.fullmatch(str(stream.metadata.get("DURATION", ""))[:40])
    if tag is None:
        return None
    hours, minutes, seconds = tag.groups()
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)


def _clean(value: Any, limit: int) -> str:
    """An upload's tag as text one may show: no control characters, at most ``limit``."""
    return " ".join(str(value)[: limit * 4].translate(CONTROL).split())[:limit]


def _refuse_known_non_media(path: str) -> None:
    with open(path, "rb") as stream:
        head = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    for signature, code, message in SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedMedia(message, code=code)


# libavutil's AVMasteringDisplayMetadata: 10 AVRationals (R, G, B and white x/y, then the
# minimum and maximum luminance), has_primaries, has_luminance; AVContentLightMetadata:
# MaxCLL, MaxFALL. Read from the first frame's side data (HEVC's SEI messages, or the
# container's mdcv/clli boxes, which libavcodec hands to the frames).
MASTERING = struct.Struct("<20i2i")
LIGHT_LEVEL = struct.Struct("<2I")
CHROMATICITY, LUMINANCE = 50000, 10000  # ST 2086's units per 1 and per nit
CHROMATICITIES = ("red_x", "red_y", "green_x", "green_y", "blue_x", "blue_y", "white_x", "white_y")


def _side_data(frame: Any) -> list[Any]:
    """A frame's side data entries: PyAV up to 18.1.0 iterates the entries, 18.1.1 their
    types (a mapping), as dicts do."""
    container = getattr(frame, "side_data", None) or ()
    return [item if hasattr(item, "type") else container[item] for item in container]


def _hdr10(frame: Any) -> Hdr10Metadata | None:
    found: dict[str, int] = {}
    for side in _side_data(frame):
        kind = str(getattr(side, "type", ""))
        if not kind.endswith(("MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL")):
            continue  # other side data need not be plain bytes
        data = bytes(side)
        if kind.endswith("MASTERING_DISPLAY_METADATA") and len(data) >= MASTERING.size:
            values = MASTERING.unpack_from(data)
            ratio = [values[i] / values[i + 1] if values[i + 1] else 0.0 for i in range(0, 20, 2)]
            has_primaries, has_luminance = values[20:22]
            if has_primaries:
                found.update(
                    (name, _within(v * CHROMATICITY, CHROMATICITY))
                    for name, v in zip(CHROMATICITIES, ratio[:8], strict=True)
                )
            if has_luminance:
                found["min_luminance"] = _within(ratio[8] * LUMINANCE, 2**31 - 1)
                found["max_luminance"] = _within(ratio[9] * LUMINANCE, 2**31 - 1)
        elif kind.endswith("CONTENT_LIGHT_LEVEL") and len(data) >= LIGHT_LEVEL.size:
            cll, fall = LIGHT_LEVEL.unpack_from(data)
            found["max_cll"], found["max_fall"] = _within(cll, 65535), _within(fall, 65535)
    return Hdr10Metadata(**found) if found else None


def _within(value: float, top: int) -> int:
    """A value the upload wrote, kept to what its field can mean (CTA-861.3, ST 2086)."""
    return min(max(round(value), 0), top)


def _first_frame(container: Any, stream: Any) -> Any:
    import av

    try:
        for count, packet in enumerate(container.demux(stream)):
            if count > MAX_PACKETS_FOR_FIRST_FRAME:
                break
            for frame in packet.decode():
                return frame
    except av.error.FFmpegError:
        pass
    raise UnsupportedMedia(
        f"the {stream.type} stream cannot be decoded (damaged or truncated)",
        code=ErrorCode.UNDECODABLE,
    )


def _frame_times(container: Any, stream: Any, duration: float) -> list[list[float]]:
    """Presentation times (seconds) of the video's packets: the whole source when it is
    short, else ``TIMING_WINDOWS`` windows spread over it; [] when it cannot be read so."""
    import av

    if not stream.time_base:
        return []
    base = float(stream.time_base)
    whole = duration <= TIMING_WINDOWS * TIMING_WINDOW_SECONDS
    starts = [0.0] if whole else [duration * k / TIMING_WINDOWS for k in range(TIMING_WINDOWS)]
    span = duration + 1.0 if whole else TIMING_WINDOW_SECONDS
    budget = MAX_TIMING_PACKETS // len(starts)
    windows: list[list[float]] = []
    try:
        for start in starts:
            container.seek(round(start / base) + (stream.start_time or 0), stream=stream)
            times: list[float] = []
            for packet in container.demux(stream):
                if packet.pts is None or not packet.size:
                    continue
                times.append(packet.pts * base)
                if len(times) >= budget or times[-1] - times[0] > span:
                    break
            windows.append(times)
    except av.error.FFmpegError:
        pass  # what was read still counts
    return windows


def main(argv: list[str]) -> int:
    path, limits_json = argv
    try:
        media = _inspect(path, MediaLimits(**json.loads(limits_json)))
    except (LimitExceeded, InvalidInput) as exc:
        print(json.dumps({"error": {"code": exc.code, "message": str(exc)}}))
        return 0
    print(json.dumps({"media": media.to_dict()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
