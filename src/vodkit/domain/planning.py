"""From a probe result and presets to the renditions one transcode will write.

Rules: never upscale; keep the display aspect ratio (a preset's WxH is a
bounding box, turned to portrait for portrait sources); even dimensions; every
rung shares the source's frame rate and a fixed keyframe interval so players
can switch; the stream ladder is the union of the hls and dash presets, each
rung paired with its audio rendition (the original design's DASH had none).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from .errors import ErrorCode, UnsupportedMedia
from .media import MediaInfo
from .presets import AudioSettings, PresetOutput, Presets, VideoSettings

GOP_SECONDS = 2
MAX_FPS = 60.0
MIN_VIDEO_BITRATE = 150_000
SPRITE_INTERVAL = 5  # seconds between scrub-preview tiles
SPRITE_TILE_BOX = (160, 90)
SPRITE_COLUMNS = 10
SPRITE_ROWS = 10  # per sheet: 100 tiles, 1600x900 pixels at most, 500 s at the default interval
POSTER_CANDIDATES = 10


@dataclass(frozen=True)
class PlanningRules:
    """Operator choices that shape every plan (settings, not presets)."""

    max_fps: float = MAX_FPS  # renditions keep the source's rate up to this
    gop_seconds: int = GOP_SECONDS  # keyframe interval, identical on every rung
    sprite_interval: int = SPRITE_INTERVAL


@dataclass(frozen=True)
class VideoRendition:
    name: str
    width: int
    height: int
    bitrate: int
    audio: str | None = None  # name of the audio rendition this rung plays with


@dataclass(frozen=True)
class AudioRendition:
    name: str
    bitrate: int
    sample_rate: int
    channels: int = 2

    @property
    def encoding(self) -> tuple[int, int, int]:
        """What the encoder is given (the codec is always AAC): equal encodings, equal bytes."""
        return self.bitrate, self.sample_rate, self.channels


@dataclass(frozen=True)
class FileRendition:
    """A progressive MP4 (the preview)."""

    name: str
    video: VideoRendition
    audio: AudioRendition | None


@dataclass(frozen=True)
class PosterPlan:
    width: int
    height: int
    candidates: int  # frames spread over the video, of which the most telling one wins


@dataclass(frozen=True)
class SpritePlan:
    """Scrub previews: one tile every ``interval`` seconds, in grids of ``columns`` x ``rows``.

    A long video fills several sheets (``sprite.jpg``, ``sprite-2.jpg``, ...) rather than
    one ever taller image that players would have to fetch whole and JPEG cannot hold
    (65,535 pixels at most); the WebVTT cues name each tile's sheet.
    """

    interval: int
    tile_width: int
    tile_height: int
    columns: int
    rows: int  # per sheet
    count: int

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def sheets(self, tiles: int | None = None) -> int:
        """How many sheets ``tiles`` tiles (default: all the plan expects) fill."""
        return max(1, math.ceil((self.count if tiles is None else tiles) / self.per_sheet))

    @staticmethod
    def sheet_name(sheet: int) -> str:
        return "sprite.jpg" if sheet == 0 else f"sprite-{sheet + 1}.jpg"

    def place(self, tile: int) -> tuple[str, int, int]:
        """The sheet a tile is on and its top-left corner there."""
        sheet, cell = divmod(tile, self.per_sheet)
        row, column = divmod(cell, self.columns)
        return self.sheet_name(sheet), column * self.tile_width, row * self.tile_height


@dataclass(frozen=True)
class TranscodePlan:
    demuxer: str
    duration: float  # of the source's video: what every output must match
    dar: str  # display aspect ratio "num/den", set on every rung
    fps: float
    gop_seconds: int
    segment_seconds: int
    video: tuple[VideoRendition, ...]
    audio: tuple[AudioRendition, ...]
    files: tuple[FileRendition, ...]
    poster: PosterPlan
    sprite: SpritePlan
    source_channels: int = 0  # the source's audio channels (0: no audio), for remixing

    @property
    def audio_encodes(self) -> tuple[AudioRendition, ...]:
        """Every distinct audio encode: the stream's renditions first, then any file's own.

        A file whose audio is encoded exactly like a stream rendition's (the preview's 128k
        AAC and the 720p rung's, by default) reuses that encode: the same bytes, made once.
        """
        encodes = list(self.audio)
        for rendition in self.files:
            audio = rendition.audio
            if audio and all(a.encoding != audio.encoding for a in encodes):
                encodes.append(audio)
        return tuple(encodes)

    def audio_source(self, rendition: FileRendition) -> int | None:
        """The index, in ``audio_encodes``, of the encode a file's audio comes from."""
        if rendition.audio is None:
            return None
        wanted = rendition.audio.encoding
        return next(i for i, a in enumerate(self.audio_encodes) if a.encoding == wanted)

    def summary(self) -> list[dict[str, Any]]:
        """The renditions as the catalog and the CLI's JSON show them."""
        audio = {a.name: a for a in self.audio}
        rows = [
            _summary_row("stream", v, audio.get(v.audio) if v.audio else None) for v in self.video
        ]
        rows += [_summary_row("mp4", f.video, f.audio, name=f.name) for f in self.files]
        return rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscodePlan:
        def audio(d: dict[str, Any] | None) -> AudioRendition | None:
            return AudioRendition(**d) if d else None

        return cls(
            demuxer=str(data["demuxer"]),
            duration=float(data["duration"]),
            dar=str(data["dar"]),
            fps=float(data["fps"]),
            gop_seconds=int(data["gop_seconds"]),
            segment_seconds=int(data["segment_seconds"]),
            video=tuple(VideoRendition(**v) for v in data["video"]),
            audio=tuple(AudioRendition(**a) for a in data["audio"]),
            files=tuple(
                FileRendition(
                    name=f["name"], video=VideoRendition(**f["video"]), audio=audio(f["audio"])
                )
                for f in data["files"]
            ),
            poster=PosterPlan(**data["poster"]),
            sprite=SpritePlan(**data["sprite"]),
            source_channels=int(data.get("source_channels", 0)),
        )


def _summary_row(
    kind: str, video: VideoRendition, audio: AudioRendition | None, name: str | None = None
) -> dict[str, Any]:
    return {
        "name": name or video.name,
        "kind": kind,
        "width": video.width,
        "height": video.height,
        "videoBitrate": video.bitrate,
        "audioBitrate": audio.bitrate if audio else None,
    }


def even(value: float, limit: int | None = None) -> int:
    """The nearest even number, but never above ``limit`` (rounding must not upscale)."""
    result = 2 * round(value / 2)
    if limit is not None and result > limit:
        result -= 2
    return max(2, result)


def fit(
    source: tuple[int, int], box: tuple[int, int], *, allow_upscale: bool = False
) -> tuple[int, int] | None:
    """Scale ``source`` into ``box`` keeping its aspect; None if that would upscale."""
    src_w, src_h = source
    box_w, box_h = box
    if src_h > src_w:  # portrait sources get a portrait box
        box_w, box_h = min(box), max(box)
    else:
        box_w, box_h = max(box), min(box)
    scale = min(box_w / src_w, box_h / src_h)
    if scale > 1 and not allow_upscale:
        return None
    if scale > 1:
        return even(src_w * scale), even(src_h * scale)
    return even(src_w * scale, src_w), even(src_h * scale, src_h)


def _audio_for(settings: AudioSettings | None) -> AudioRendition | None:
    if settings is None:
        return None
    return AudioRendition(
        name=f"audio_{settings.bitrate // 1000}k",
        bitrate=settings.bitrate,
        sample_rate=settings.sample_rate,
    )


def _ladder_outputs(presets: Presets) -> list[tuple[VideoSettings, AudioSettings | None]]:
    """Union of hls and dash outputs; a rung without audio borrows one of the same size."""
    outputs: list[PresetOutput] = [*presets.hls.outputs, *presets.dash.outputs]
    audio_by_size = {(o.video.width, o.video.height): o.audio for o in reversed(outputs) if o.audio}
    any_audio = next((o.audio for o in outputs if o.audio), None)
    seen: dict[tuple[int, int, int], tuple[VideoSettings, AudioSettings | None]] = {}
    for o in outputs:
        key = (o.video.width, o.video.height, o.video.bitrate)
        audio = o.audio or audio_by_size.get((o.video.width, o.video.height)) or any_audio
        seen.setdefault(key, (o.video, audio))
    return sorted(seen.values(), key=lambda va: (-va[0].width * va[0].height, -va[0].bitrate))


def _rung_name(width: int, height: int, bitrate: int, taken: set[str]) -> str:
    name = f"{min(width, height)}p"
    if name in taken:
        name = f"{name}_{bitrate // 1000}k"
    taken.add(name)
    return name


def _scaled_bitrate(
    bitrate: int, box: VideoSettings, size: tuple[int, int], ceiling: int | None
) -> int:
    """A rung smaller than its preset's box gets a proportionally smaller bitrate, and no
    rung gets more than the source itself carries (it would only spend bits on noise)."""
    ratio = (size[0] * size[1]) / (box.width * box.height)
    scaled = max(MIN_VIDEO_BITRATE, min(bitrate, int(bitrate * ratio)))
    return min(scaled, ceiling) if ceiling else scaled


def plan_sprite(source: tuple[int, int], duration: float, interval: int) -> SpritePlan:
    tile = fit(source, SPRITE_TILE_BOX) or (even(source[0], source[0]), even(source[1], source[1]))
    count = max(1, math.ceil(duration / interval))
    columns = min(SPRITE_COLUMNS, count)
    return SpritePlan(
        interval=interval,
        tile_width=tile[0],
        tile_height=tile[1],
        columns=columns,
        rows=min(SPRITE_ROWS, math.ceil(count / columns)),
        count=count,
    )


def source_video_bitrate(media: MediaInfo) -> int | None:
    """What the source's video carries: its own figure, else the container's minus audio."""
    if media.video and media.video.bitrate:
        return media.video.bitrate
    if media.bitrate:
        audio = media.audio.bitrate if media.audio and media.audio.bitrate else 0
        return media.bitrate - audio if media.bitrate > audio else None
    return None


def plan_transcode(
    media: MediaInfo, presets: Presets, rules: PlanningRules | None = None
) -> TranscodePlan:
    rules = rules or PlanningRules()
    video = media.video
    if video is None:
        raise UnsupportedMedia("no video stream", code=ErrorCode.NO_VIDEO)
    if media.duration <= 0:
        raise UnsupportedMedia("the upload has no duration", code=ErrorCode.NO_DURATION)
    source = video.display_size
    if min(source) < 2:
        raise UnsupportedMedia("the video has no picture size", code=ErrorCode.NO_PICTURE_SIZE)

    taken: set[str] = set()
    audio: dict[str, AudioRendition] = {}
    ceiling = source_video_bitrate(media)

    def rung(
        size: tuple[int, int], settings: VideoSettings, audio_settings: AudioSettings | None
    ) -> VideoRendition:
        a = _audio_for(audio_settings) if media.audio else None
        if a:
            audio.setdefault(a.name, a)
        return VideoRendition(
            name=_rung_name(*size, settings.bitrate, taken),
            width=size[0],
            height=size[1],
            bitrate=_scaled_bitrate(settings.bitrate, settings, size, ceiling),
            audio=a.name if a else None,
        )

    ladder = _ladder_outputs(presets)
    rungs = [
        rung(size, settings, audio_settings)
        for settings, audio_settings in ladder
        if (size := fit(source, (settings.width, settings.height))) is not None
    ]
    if not rungs:  # the source is smaller than every rung: one rung at its own size
        rungs.append(rung((even(source[0], source[0]), even(source[1], source[1])), *ladder[-1]))

    files = []
    for output in presets.mp4.outputs:
        size = fit(source, (output.video.width, output.video.height))
        if size is None:
            size = (even(source[0], source[0]), even(source[1], source[1]))
        a = _audio_for(output.audio) if media.audio else None
        name = re.sub(r"[^a-z0-9_-]", "", output.name_modifier.lower()).strip("_-") or "preview"
        files.append(
            FileRendition(
                name=name,
                video=VideoRendition(
                    name=name,
                    width=size[0],
                    height=size[1],
                    bitrate=_scaled_bitrate(output.video.bitrate, output.video, size, ceiling),
                ),
                audio=a,
            )
        )

    top = rungs[0]
    dar = Fraction(source[0], source[1])
    duration = video.duration if video.duration and video.duration > 0 else media.duration
    return TranscodePlan(
        demuxer=media.demuxer,
        duration=duration,
        dar=f"{dar.numerator}/{dar.denominator}",
        fps=round(min(video.fps, rules.max_fps), 3) if video.fps > 0 else 30.0,
        gop_seconds=rules.gop_seconds,
        segment_seconds=presets.segment_seconds,
        video=tuple(rungs),
        audio=tuple(sorted(audio.values(), key=lambda a: -a.bitrate)),
        files=tuple(files),
        poster=PosterPlan(width=top.width, height=top.height, candidates=POSTER_CANDIDATES),
        sprite=plan_sprite(source, duration, rules.sprite_interval),
        source_channels=media.audio.channels if media.audio else 0,
    )
