"""What a probe learns about an upload, and the limits it must respect."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from .errors import ErrorCode, LimitExceeded

# Demuxers an upload may be read with, by the name libavformat reports after
# probing -> the name FFmpeg's ``-f`` takes. Anything else (HLS, concat, image
# sequences, raw streams) is refused, whatever the file is called.
ALLOWED_DEMUXERS: dict[str, str] = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mov",
    "matroska,webm": "matroska",
    "mpegts": "mpegts",
    "avi": "avi",
    "flv": "flv",
    # audio-only containers: MP3, WAV, FLAC, Ogg (Opus, Vorbis, FLAC), raw ADTS AAC
    "mp3": "mp3",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",
    "aac": "aac",
}
# Of those, the ones that hold sound only: a picture in one (Ogg's Theora) is refused, so
# the demuxers that may feed the video ladder stay the five above.
AUDIO_DEMUXERS = frozenset({"mp3", "wav", "flac", "ogg", "aac"})


@dataclass(frozen=True)
class Hdr10Metadata:
    """HDR10's static metadata, in the units its SEI messages (and MediaConvert) use: the
    mastering display (SMPTE ST 2086; chromaticities in 0.00002, luminance in 0.0001 nits)
    and the content light levels (CTA-861.3; nits). 0: not given."""

    red_x: int = 0
    red_y: int = 0
    green_x: int = 0
    green_y: int = 0
    blue_x: int = 0
    blue_y: int = 0
    white_x: int = 0
    white_y: int = 0
    max_luminance: int = 0
    min_luminance: int = 0
    max_cll: int = 0  # the brightest pixel of the whole content
    max_fall: int = 0  # the brightest frame's average

    @property
    def peak(self) -> float:
        """The content's peak in nits as the metadata tells it (0: it does not): MaxCLL, or
        the mastering display's maximum, which the content cannot exceed."""
        known = [n for n in (float(self.max_cll), self.max_luminance / 10000) if n > 0]
        return min(known, default=0.0)


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    fps: float
    sar: str = "1/1"  # sample aspect ratio, "num/den"
    rotation: int = 0  # degrees the player must rotate by: 0, 90, 180 or 270
    bitrate: int | None = None
    pix_fmt: str = ""
    duration: float | None = None  # the video stream's own, when the header declares it
    color_transfer: str = ""  # libavutil's name: "bt709", "smpte2084" (PQ), "arib-std-b67" (HLG)
    color_primaries: str = ""  # "bt709", "bt2020"...
    field_order: str = ""  # "progressive", "tt", "bb", "tb", "bt"; "" if the stream does not say
    peak_fps: float | None = None  # the fastest sustained rate in the frames' timestamps
    hdr10: Hdr10Metadata | None = None  # mastering display and light levels, when carried

    @property
    def hdr(self) -> str:
        """``pq`` or ``hlg`` for an HDR transfer, else ``""``."""
        return {"smpte2084": "pq", "arib-std-b67": "hlg"}.get(self.color_transfer, "")

    @property
    def interlaced(self) -> bool | None:
        """True or False as the stream declares it; None when it does not say."""
        if self.field_order in ("tt", "bb", "tb", "bt"):
            return True
        return False if self.field_order == "progressive" else None

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as a viewer sees them: SAR applied, then rotation."""
        width = round(self.width * Fraction(self.sar)) if Fraction(self.sar) > 0 else self.width
        if self.rotation % 180 == 90:
            return self.height, width
        return width, self.height


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    channels: int
    sample_rate: int
    bitrate: int | None = None
    duration: float | None = None  # the audio stream's own, when the header declares it


@dataclass(frozen=True)
class StreamInfo:
    """A stream beside the picture (audio, subtitle, data, attachment), as the probe read
    it. ``language`` is BCP 47 already; ``title`` is bounded and stripped of control
    characters (both come from the upload's tags: untrusted)."""

    index: int | None  # its index in the container (``0:N``); None: the first audio stream
    type: str  # "audio", "subtitle", "data", "attachment"
    codec: str
    language: str = "und"
    title: str = ""
    default: bool = False
    forced: bool = False
    hearing_impaired: bool = False
    visual_impaired: bool = False  # an audio description of the picture
    channels: int | None = None  # audio only
    duration: float | None = None  # the stream's own, when the header declares it


@dataclass(frozen=True)
class MediaInfo:
    container: str  # libavformat's demuxer name, a key of ALLOWED_DEMUXERS
    duration: float
    size: int
    bitrate: int | None
    video: VideoInfo | None
    audio: AudioInfo | None  # the first audio stream: what the limits and the ladder read
    streams: tuple[StreamInfo, ...] = ()  # every audio, subtitle, data and attachment stream

    @property
    def other_streams(self) -> tuple[StreamInfo, ...]:
        """``streams``; for a probe from before they were listed, its audio stream."""
        if self.streams or self.audio is None:
            return self.streams
        audio = self.audio
        return (
            StreamInfo(
                None, "audio", audio.codec, default=True, channels=audio.channels,
                duration=audio.duration,
            ),
        )  # fmt: skip

    @property
    def demuxer(self) -> str:
        return ALLOWED_DEMUXERS[self.container]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        video = data.get("video")
        audio = data.get("audio")
        return cls(
            container=str(data["container"]),
            duration=float(data["duration"]),
            size=int(data["size"]),
            bitrate=data.get("bitrate"),
            video=_video_info(video) if video else None,
            audio=AudioInfo(**audio) if audio else None,
            streams=tuple(StreamInfo(**s) for s in data.get("streams", ())),
        )


def _video_info(data: dict[str, Any]) -> VideoInfo:
    hdr10 = data.get("hdr10")
    return VideoInfo(**{**data, "hdr10": Hdr10Metadata(**hdr10) if hdr10 else None})


@dataclass(frozen=True)
class MediaLimits:
    """Checked on the declared header values, before a single frame is decoded; these
    defaults are the settings' (``config.Settings`` reads them)."""

    max_file_size: int = 20 * 1024**3
    max_width: int = 8192
    max_height: int = 8192
    max_pixels: int = 7680 * 4320  # 8K UHD
    max_fps: float = 240.0
    max_duration: float = 6 * 3600.0

    def check_size(self, size: int) -> None:
        if size <= 0:
            raise LimitExceeded("the upload is empty", code=ErrorCode.EMPTY_FILE)
        if size > self.max_file_size:
            raise LimitExceeded(f"the upload is larger than {self.max_file_size} bytes")

    def check(self, media: MediaInfo) -> None:
        self.check_size(media.size)
        if media.duration > self.max_duration:
            raise LimitExceeded(f"the upload is longer than {self.max_duration:.0f} s")
        video = media.video
        if video is None:
            return
        if video.width > self.max_width or video.height > self.max_height:
            raise LimitExceeded(
                f"the video is {video.width}x{video.height}, larger than the "
                f"{self.max_width}x{self.max_height} limit"
            )
        if video.width * video.height > self.max_pixels:
            raise LimitExceeded(
                f"the video has {video.width * video.height} pixels a frame, more than "
                f"the limit of {self.max_pixels}"
            )
        if video.fps > self.max_fps:
            raise LimitExceeded(f"the video runs at {video.fps:g} fps, above {self.max_fps:g}")
