"""A transcode plan: the renditions one transcode writes, and how each spends its bits.

A rung's ``bitrate`` is its cap. Under ``QVBR`` a rung is encoded either with x264's capped
CRF (``VideoRendition.crf``, the FFmpeg transcoder) or with MediaConvert's QVBR at the
plan's quality level; ``CBR`` spends the cap on every second. ``summary`` is what the
catalog and every front door show of the renditions; ``recorded`` adds what the encode
measured. The ladder is planned in ``domain.ladder``, the per-title CRFs in
``domain.per_title``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any, NamedTuple

from .frame_rate import exact
from .media import Hdr10Metadata
from .tracks import Skipped, Track, TrackType

QVBR, CBR = "QVBR", "CBR"
# Who encodes a QVBR plan, so that each rendition reports its own rate control's setting:
# x264's capped CRF (the FFmpeg transcoder) a CRF, MediaConvert's QVBR its quality level.
X264, MEDIACONVERT = "x264", "mediaconvert"
# What an asset holds (``Asset.kind``): pictures (and sound), or sound only.
VIDEO, AUDIO = "video", "audio"


@dataclass(frozen=True)
class VideoRendition:
    name: str
    width: int
    height: int
    bitrate: int  # the cap: CBR's constant rate, QVBR's maximum
    audio: str | None = None  # name of the audio rendition this rung plays with
    crf: int | None = None  # QVBR: the CRF encoded under the cap; None: constant bitrate
    predicted_vmaf: float | None = None  # per-title: what the samples predict
    predicted_bitrate: int | None = None
    verdict: str = ""  # how its rate was chosen (or why it was dropped)
    average_bitrate: int | None = None  # measured in the encode's output
    peak_bitrate: int | None = None
    codecs: str = ""  # RFC 6381, as written (video, then audio): what players are told


@dataclass(frozen=True)
class PerTitle:
    """What the per-title analysis is to reach: ``targets`` in rung order (top first)."""

    targets: tuple[float, ...]
    samples: int
    sample_seconds: int


@dataclass(frozen=True)
class AudioRendition:
    """One audio track at one bitrate. The renditions of one bitrate form an HLS group
    (``group``, which the rungs name): one per kept audio track of the source."""

    name: str
    bitrate: int
    sample_rate: int
    channels: int = 2
    track: int | None = None  # the source stream's index; None: its first audio stream
    group: str = ""  # the HLS GROUP-ID; "": its own name (a plan from before tracks)
    duration: float | None = None  # of its source track, when it says (a dub may be shorter)

    @property
    def encoding(self) -> tuple[int | None, int, int, int]:
        """What the encoder is given (the codec is always AAC): equal encodings, equal bytes."""
        return self.track, self.bitrate, self.sample_rate, self.channels

    @property
    def group_id(self) -> str:
        return self.group or self.name

    @property
    def input(self) -> str:
        """The source stream, as FFmpeg's filter graph names it."""
        return "0:a:0" if self.track is None else f"0:{self.track}"


@dataclass(frozen=True)
class FileRendition:
    """A progressive MP4 (the preview)."""

    name: str
    video: VideoRendition
    audio: AudioRendition | None


@dataclass(frozen=True)
class AudioFile:
    """A progressive M4A (an audio-only asset's download, in place of the MP4 preview)."""

    name: str
    audio: AudioRendition


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
    fps: float  # every rung's constant rate (``frame_rate`` gives it exactly)
    gop_seconds: int
    segment_seconds: int
    video: tuple[VideoRendition, ...]
    audio: tuple[AudioRendition, ...]
    files: tuple[FileRendition, ...]
    poster: PosterPlan  # audio-only: the waveform's size (a PNG)
    sprite: SpritePlan | None  # None: audio-only, no pictures to scrub
    source_channels: int = 0  # the source's audio channels (0: no audio), for remixing
    rate_control: str = CBR  # QVBR: capped CRF on rungs that have one (see VideoRendition.crf)
    qvbr_quality_level: int = 7  # MediaConvert's QVBR level (the AWS footprint's runner)
    encoder: str = X264  # X264 or MEDIACONVERT: how QVBR is realised (see summary)
    per_title: PerTitle | None = None  # QVBR with an analysis still to run
    analysis: str = ""  # the analysis's verdict over the whole ladder
    dropped: tuple[VideoRendition, ...] = ()  # rungs the analysis found redundant
    tonemap: str = ""  # "pq" or "hlg": tone-map the HDR source to BT.709 SDR
    # PQ: the source's peak in nits the tone map starts from (its metadata's, or measured by
    # the analysis); 0: not known yet
    tonemap_peak: float = 0.0
    hdr10: Hdr10Metadata | None = None  # PQ: the source's mastering metadata, as carried
    interlaced: bool | None = False  # deinterlace (bwdif); None: judge the pictures first
    field_order: str = ""  # as the stream declares it (VideoInfo.field_order)
    interlace: str = ""  # the interlace verdict's reason (domain.interlace), on the asset
    audio_duration: float | None = None  # of the source's audio, when it says
    automated_abr: dict[str, int] | None = None  # AWS: MediaConvert picks the ladder
    fps_reason: str = ""  # why that rate (the source's own, a variable one's fastest part...)
    tracks: tuple[Track, ...] = ()  # the source's kept audio and text tracks
    skipped: tuple[Skipped, ...] = ()  # and those it could not keep, with the reasons
    kind: str = VIDEO  # AUDIO: no video rungs, files nor sprite; ``downloads`` and a waveform
    downloads: tuple[AudioFile, ...] = ()  # audio-only: the M4A download(s)

    @property
    def audio_only(self) -> bool:
        return self.kind == AUDIO

    def dropping(self, dropped: Sequence[Skipped]) -> TranscodePlan:
        """The plan with the text tracks that could not be published moved to ``skipped``."""
        gone = {(s.index, s.codec) for s in dropped}
        kept = tuple(
            t for t in self.tracks if t.type is not TrackType.TEXT or (t.index, t.codec) not in gone
        )
        return replace(self, tracks=kept, skipped=(*self.skipped, *dropped))

    def track(self, audio: AudioRendition) -> Track | None:
        """The kept track an audio rendition encodes (None for a plan from before tracks)."""
        return next(
            (t for t in self.tracks if t.type is TrackType.AUDIO and t.index == audio.track),
            None,
        )

    @property
    def frame_rate(self) -> Fraction:
        """``fps`` exactly, as encoders and manifests take it (30000/1001, not 29.97)."""
        return exact(self.fps)

    @property
    def audio_encodes(self) -> tuple[AudioRendition, ...]:
        """Every distinct audio encode: the stream's renditions first, then any file's own.

        A file whose audio is encoded exactly like a stream rendition's (the preview's 128k
        AAC and the 720p rung's, by default) reuses that encode: the same bytes, made once.
        """
        encodes = list(self.audio)
        files: list[FileRendition | AudioFile] = [*self.files, *self.downloads]
        for rendition in files:
            audio = rendition.audio
            if audio and all(a.encoding != audio.encoding for a in encodes):
                encodes.append(audio)
        return tuple(encodes)

    def audio_source(self, rendition: FileRendition | AudioFile) -> int | None:
        """The index, in ``audio_encodes``, of the encode a file's audio comes from."""
        if rendition.audio is None:
            return None
        wanted = rendition.audio.encoding
        return next(i for i, a in enumerate(self.audio_encodes) if a.encoding == wanted)

    def summary(self) -> list[dict[str, Any]]:
        """The renditions as the catalog and every front door show them. Each reports its own
        rate control's setting (x264's ``crf``, MediaConvert's ``qvbrQualityLevel``); the
        ladder's ``analysis`` is shown on its rungs, never on a file (the preview)."""
        if self.audio_only:
            return self._audio_summary()
        audio = {a.name: a for a in self.audio}
        kept = {v.name for v in self.video}
        rungs = sorted(
            [*self.video, *self.dropped], key=lambda v: (-v.width * v.height, -v.bitrate)
        )
        rows = [
            {
                **_summary_row("stream", v, audio.get(v.audio) if v.audio else None),
                **self._rate_row(v),
                "analysis": v.verdict or self.analysis or None,
                "interlace": self.interlace or None,
                **({} if v.name in kept else {"dropped": True}),
            }
            for v in rungs
        ]
        rows += [
            {
                **_summary_row("mp4", f.video, f.audio, name=f.name),
                **self._rate_row(f.video),
                "analysis": f.video.verdict or None,
                "interlace": self.interlace or None,
            }
            for f in self.files
        ]
        return rows

    def _audio_summary(self) -> list[dict[str, Any]]:
        """An audio-only ladder: one row per bitrate (a group), then each M4A download."""
        groups: dict[str, int] = {}
        for rendition in self.audio:
            groups.setdefault(rendition.group_id, rendition.bitrate)
        audio = list(groups.items())
        audio += [(f.name, f.audio.bitrate) for f in self.downloads]
        kinds = ["stream"] * len(groups) + ["m4a"] * len(self.downloads)
        return [
            {"name": name, "kind": kind, "width": None, "height": None, "videoBitrate": None,
             "audioBitrate": bitrate, "codecs": "mp4a.40.2"}
            for (name, bitrate), kind in zip(audio, kinds, strict=True)
        ]  # fmt: skip

    def _rate_row(self, video: VideoRendition) -> dict[str, Any]:
        qvbr = self.rate_control == QVBR and (
            self.encoder == MEDIACONVERT or video.crf is not None or self.per_title is not None
        )
        row: dict[str, Any] = {
            "rateControl": QVBR if qvbr else CBR,
            "predictedVmaf": video.predicted_vmaf,
            "averageBitrate": video.average_bitrate,
            "peakBitrate": video.peak_bitrate,
        }
        if qvbr and self.encoder == MEDIACONVERT:
            row["qvbrQualityLevel"] = self.qvbr_quality_level
        elif qvbr:
            row["crf"] = video.crf  # None until the per-title analysis chooses it
        return row

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscodePlan:
        def audio(d: dict[str, Any] | None) -> AudioRendition | None:
            return AudioRendition(**d) if d else None

        per_title = data.get("per_title")
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
            sprite=SpritePlan(**data["sprite"]) if data.get("sprite") else None,
            source_channels=int(data.get("source_channels", 0)),
            rate_control=str(data.get("rate_control", CBR)),
            qvbr_quality_level=int(data.get("qvbr_quality_level", 7)),
            encoder=str(data.get("encoder", X264)),
            per_title=(
                PerTitle(
                    targets=tuple(float(t) for t in per_title["targets"]),
                    samples=int(per_title["samples"]),
                    sample_seconds=int(per_title["sample_seconds"]),
                )
                if per_title
                else None
            ),
            analysis=str(data.get("analysis", "")),
            dropped=tuple(VideoRendition(**v) for v in data.get("dropped", ())),
            tonemap=str(data.get("tonemap", "")),
            tonemap_peak=float(data.get("tonemap_peak", 0.0)),
            hdr10=Hdr10Metadata(**data["hdr10"]) if data.get("hdr10") else None,
            interlaced=data.get("interlaced", False),
            field_order=str(data.get("field_order", "")),
            interlace=str(data.get("interlace", "")),
            audio_duration=data.get("audio_duration"),
            automated_abr=data.get("automated_abr"),
            fps_reason=str(data.get("fps_reason", "")),
            tracks=tuple(Track.from_dict(t) for t in data.get("tracks", ())),
            skipped=tuple(Skipped.from_dict(t) for t in data.get("skipped", ())),
            kind=str(data.get("kind", VIDEO)),
            downloads=tuple(
                AudioFile(name=str(f["name"]), audio=AudioRendition(**f["audio"]))
                for f in data.get("downloads", ())
            ),
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
        "codecs": video.codecs or None,
    }


def segment_rates(segments: list[tuple[float, int]]) -> tuple[int, int]:
    """(peak, average) bits per second of (duration, bytes) segments. A short last segment
    says little about the peak: full ones are measured when there are any."""
    if not segments:
        return 0, 0
    total_time = sum(d for d, _ in segments) or 1.0
    average = sum(s for _, s in segments) * 8 / total_time
    full = [(d, s) for d, s in segments if d >= 0.5 * max(d for d, _ in segments)] or segments
    peak = max(s * 8 / max(d, 0.001) for d, s in full)
    return round(peak), round(average)


class Measured(NamedTuple):
    """What an encode wrote for one rendition: video bits per second, and its codecs."""

    peak: int
    average: int
    codecs: str = ""  # RFC 6381: video, then audio


def recorded(plan: TranscodePlan, measured: dict[str, Measured]) -> TranscodePlan:
    """The plan with each rendition's measured video bitrates and codecs."""

    def measure(video: VideoRendition) -> VideoRendition:
        found = measured.get(video.name)
        if found is None:
            return video
        return replace(
            video,
            peak_bitrate=found.peak,
            average_bitrate=found.average,
            codecs=found.codecs or video.codecs,
        )

    return replace(
        plan,
        video=tuple(measure(v) for v in plan.video),
        files=tuple(replace(f, video=measure(f.video)) for f in plan.files),
    )
