"""From a probe result and presets to the renditions one transcode will write.

Rules: never upscale; keep the display aspect ratio (a preset's WxH is a
bounding box, turned to portrait for portrait sources); even dimensions; every
rung shares the source's frame rate and a fixed keyframe interval so players
can switch; the stream ladder is the union of the hls and dash presets, each
rung paired with its audio rendition (the original design's DASH had none).

Rate control: a rung's bitrate is its cap. Under ``QVBR`` each rung is encoded with a CRF
(``VideoRendition.crf``) capped at that bitrate; the per-title analysis (``services.
analysis``) picks the CRFs from sample encodes scored by VMAF with ``choose_crf`` and drops
rungs that add nothing with ``convex_hull``; ``fallback`` turns a plan back to constant
bitrate when the analysis cannot run. ``recorded`` adds what the encode measured.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any, NamedTuple

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
QVBR, CBR = "QVBR", "CBR"
# Per-title: CRFs the search may land on, and how it steps from its first probe.
FIRST_CRF = 23
CRF_RANGE = (14, 40)
EXTRAPOLATION = 4  # CRFs beyond the probed ones a prediction may reach
VMAF_PER_CRF = 0.8  # a first guess of the slope, before a second probe measures it
AT_CAP = 0.9  # a probe spending this share of its cap is held by it
KNEE = 0.5  # where no CRF reaches the target: VMAF points not worth the bits they cost
HULL_BITRATE = 0.85  # a rung within 15 % of a larger rung's bitrate adds nothing
HULL_VMAF = 1.0  # nor one less than a VMAF point below it: within the samples' noise


class AnalysisFailed(Exception):
    """The per-title analysis could not run; the encode falls back to constant bitrate."""


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
class Probe:
    """One sample encode of a rung at a CRF (None: at its cap, constant bitrate): its
    bitrate and VMAF over every sample."""

    crf: int | None
    bitrate: int
    vmaf: float


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
    rate_control: str = CBR  # QVBR: capped CRF on rungs that have one (see VideoRendition.crf)
    qvbr_quality_level: int = 7  # MediaConvert's QVBR level (the AWS footprint's runner)
    per_title: PerTitle | None = None  # QVBR with an analysis still to run
    analysis: str = ""  # the analysis's verdict over the whole ladder
    dropped: tuple[VideoRendition, ...] = ()  # rungs the analysis found redundant
    tonemap: str = ""  # "pq" or "hlg": tone-map the HDR source to BT.709 SDR
    interlaced: bool | None = False  # deinterlace (bwdif); None: detect (idet) first
    audio_duration: float | None = None  # of the source's audio, when it says
    automated_abr: dict[str, int] | None = None  # AWS: MediaConvert picks the ladder

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
        kept = {v.name for v in self.video}
        rungs = sorted(
            [*self.video, *self.dropped], key=lambda v: (-v.width * v.height, -v.bitrate)
        )
        rows = [
            {
                **_summary_row("stream", v, audio.get(v.audio) if v.audio else None),
                **self._rate_row(v),
                **({} if v.name in kept else {"dropped": True}),
            }
            for v in rungs
        ]
        rows += [
            {**_summary_row("mp4", f.video, f.audio, name=f.name), **self._rate_row(f.video)}
            for f in self.files
        ]
        return rows

    def _rate_row(self, video: VideoRendition) -> dict[str, Any]:
        qvbr = self.rate_control == QVBR
        row: dict[str, Any] = {
            "rateControl": QVBR if qvbr and (video.crf is not None or self.per_title) else CBR,
            "crf": video.crf,
            "predictedVmaf": video.predicted_vmaf,
            "averageBitrate": video.average_bitrate,
            "peakBitrate": video.peak_bitrate,
            "analysis": video.verdict or self.analysis,
        }
        if qvbr:
            row["qvbrQualityLevel"] = self.qvbr_quality_level
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
            sprite=SpritePlan(**data["sprite"]),
            source_channels=int(data.get("source_channels", 0)),
            rate_control=str(data.get("rate_control", CBR)),
            qvbr_quality_level=int(data.get("qvbr_quality_level", 7)),
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
            interlaced=data.get("interlaced", False),
            audio_duration=data.get("audio_duration"),
            automated_abr=data.get("automated_abr"),
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
    rc = presets.rate_control
    qvbr = rc.mode == QVBR
    fixed_crf = rc.crf if qvbr and not rc.per_title else None

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
            crf=fixed_crf,
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
                    crf=fixed_crf,
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
        rate_control=rc.mode,
        qvbr_quality_level=rc.qvbr_quality_level,
        per_title=(
            PerTitle(
                targets=tuple(rc.target(i) for i in range(len(rungs))),
                samples=rc.samples,
                sample_seconds=rc.sample_seconds,
            )
            if qvbr and rc.per_title
            else None
        ),
        analysis=(
            f"CRF {rc.crf} under each rung's cap (perTitle off)"
            if fixed_crf is not None
            else ("" if qvbr else "constant bitrate (rateControl CBR)")
        ),
        tonemap=video.hdr,
        # a stream that does not declare its fields interlaced may still be woven: detect
        interlaced=True if video.interlaced else None,
        audio_duration=media.audio.duration if media.audio else None,
        automated_abr=(
            {
                "max_abr_bitrate": rc.automated_abr.max_abr_bitrate,
                "max_renditions": rc.automated_abr.max_renditions,
                "min_abr_bitrate": rc.automated_abr.min_abr_bitrate,
            }
            if rc.automated_abr
            else None
        ),
    )


# --- per-title decisions (pure: the samples are encoded and scored elsewhere) ----------


def sample_windows(duration: float, samples: int, seconds: int) -> tuple[tuple[float, int], ...]:
    """(start, length) of up to ``samples`` windows spread evenly over the source; none if
    it is shorter than one window."""
    count = min(samples, int(duration // seconds)) if seconds > 0 else 0
    windows = []
    for k in range(count):
        centre = duration * (k + 0.5) / count
        windows.append((round(min(max(0.0, centre - seconds / 2), duration - seconds), 3), seconds))
    return tuple(windows)


@dataclass(frozen=True)
class Slopes:
    """How VMAF and log2 bitrate move per CRF step, as a rung's two probes measured them."""

    vmaf: float = -VMAF_PER_CRF
    log2_bitrate: float = -1 / 6  # x264 halves its bits about every 6 CRF

    @classmethod
    def between(cls, a: Probe, b: Probe, cap: int) -> Slopes:
        """Measured between two probes, unless the cap flattened them (then the defaults)."""
        if a.crf is None or b.crf is None or a.crf == b.crf:
            return cls()
        if max(a.bitrate, b.bitrate) >= AT_CAP * cap:
            return cls()
        steps = b.crf - a.crf
        return cls(
            vmaf=min((b.vmaf - a.vmaf) / steps, -0.05),
            log2_bitrate=min((math.log2(b.bitrate) - math.log2(a.bitrate)) / steps, -0.02),
        )


def _model(probes: list[Probe], crf: int, value: str, slopes: Slopes | None = None) -> float:
    """VMAF (linear in CRF) or log2 bitrate (linear in CRF) at ``crf``, interpolated between
    probes, extrapolated from the nearest two; from one probe, along ``slopes``."""
    points = sorted(
        {
            (p.crf, p.vmaf if value == "vmaf" else math.log2(max(p.bitrate, 1)))
            for p in probes
            if p.crf is not None
        }
    )
    if len(points) == 1:
        slopes = slopes or Slopes()
        (c0, v0) = points[0]
        return v0 + (slopes.vmaf if value == "vmaf" else slopes.log2_bitrate) * (crf - c0)
    index = next((i for i in range(1, len(points)) if crf <= points[i][0]), len(points) - 1)
    (c0, v0), (c1, v1) = points[index - 1], points[index]
    return v0 + (v1 - v0) * (crf - c0) / (c1 - c0)


def next_crf(first: Probe, target: float, cap: int) -> int:
    """Where the second probe goes: towards the target, from what the first one scored."""
    low, high = CRF_RANGE
    assert first.crf is not None
    if first.vmaf >= target:
        step = min(max(round((first.vmaf - target) / VMAF_PER_CRF), 2), 12)
        return min(first.crf + step, high)
    if first.bitrate >= AT_CAP * cap:  # the cap holds it: lower CRFs buy little
        return max(first.crf - 4, low)
    step = min(max(round((target - first.vmaf) / VMAF_PER_CRF), 2), 8)
    return max(first.crf - step, low)


@dataclass(frozen=True)
class Choice:
    crf: int
    vmaf: float
    bitrate: int
    reached: bool  # the target is reached under the cap
    stretched: bool = False  # short of its target, as far as one probe lets it predict


def held(probe: Probe, target: float, cap: int) -> bool:
    """A first probe below its target while spending (nearly) all of its cap: lower CRFs
    could only spend the last tenth of the cap, so the rung is encoded at the cap."""
    return probe.vmaf < target and probe.bitrate >= AT_CAP * cap


def at_cap(capped: Probe, first: Probe, cap: int) -> Choice:
    """A held rung: constant bitrate at the cap, predicted by its own constant-bitrate
    probe. (The capped-CRF probe says less: on a few seconds of samples the two-second
    buffer lets it spend well above the cap, and score above what the cap gives.)"""
    assert first.crf is not None
    return Choice(first.crf, round(capped.vmaf, 2), cap, False)


def choose_crf(
    probes: list[Probe], target: float, cap: int, slopes: Slopes | None = None
) -> Choice:
    """The highest CRF (fewest bits) predicted to reach ``target``, never above ``cap``
    (from one probe: along ``slopes``, the top rung's, for up to EXTRAPOLATION CRFs).
    Where no CRF can: from two probes, the highest one within half a point of the best the
    cap allows (the knee, measured); from one, which cannot tell where more bits stop
    paying, the cap, as QVBR spends it (or the lowest CRF it predicts for, short of it)."""
    crfs = [p.crf for p in probes if p.crf is not None]
    measured_curve = len(set(crfs)) > 1  # else one probe, along the top rung's slopes
    low = max(CRF_RANGE[0], min(crfs) - EXTRAPOLATION)
    high = min(CRF_RANGE[1], max(crfs) + EXTRAPOLATION)
    best_measured = max(p.vmaf for p in probes)
    predictions = []
    for crf in range(low, high + 1):
        vmaf = _model(probes, crf, "vmaf", slopes)
        if measured_curve and crf < min(crfs):  # below both, the cap and VMAF's ceiling
            vmaf = min(vmaf, best_measured + 1.0)  # flatten what the two measured
        bitrate = min(cap, round(2 ** _model(probes, crf, "bitrate", slopes)))
        predictions.append(Choice(crf, round(min(max(vmaf, 0.0), 100.0), 2), bitrate, True))
    reached = [c for c in predictions if c.vmaf >= target]
    if reached:
        return reached[-1]
    if not measured_curve:
        spent = [c for c in predictions if c.bitrate >= AT_CAP * cap]
        return (
            replace(spent[-1], reached=False)
            if spent
            else replace(predictions[0], reached=False, stretched=True)
        )
    best = min(max(c.vmaf for c in predictions), best_measured)
    knee = [c for c in predictions if c.vmaf >= best - KNEE]
    return replace(knee[-1] if knee else predictions[0], reached=False)


def convex_hull(
    rungs: list[VideoRendition], reached: dict[str, bool] | None = None
) -> tuple[list[VideoRendition], list[VideoRendition]]:
    """(kept, dropped). A rung adds nothing if its predicted bitrate is within 15 % of the
    next larger kept rung's (or above it): switching down would barely save bandwidth. Or
    if its predicted VMAF is not below that rung's while that rung reaches its target: the
    larger rung is then cheap enough for the content, and the smaller one only loses
    detail; "not below" allows for less than a point (HULL_VMAF), below what the samples can
    tell apart. (A larger rung held by its cap is starved, not cheap: the smaller one stays as
    the fallback for slower networks.) ``rungs`` come largest first; the first is kept."""
    kept: list[VideoRendition] = []
    dropped: list[VideoRendition] = []
    for rung in rungs:
        larger = kept[-1] if kept else None
        if larger is None or rung.predicted_bitrate is None or larger.predicted_bitrate is None:
            kept.append(rung)
        elif rung.predicted_bitrate >= HULL_BITRATE * larger.predicted_bitrate:
            dropped.append(
                replace(
                    rung,
                    verdict=f"dropped: its {rung.predicted_bitrate // 1000} kb/s is within 15 % "
                    f"of {larger.name}'s {larger.predicted_bitrate // 1000} kb/s",
                )
            )
        elif (rung.predicted_vmaf or 0) > (larger.predicted_vmaf or 0) - HULL_VMAF and (
            reached is None or reached.get(larger.name, True)
        ):
            dropped.append(
                replace(
                    rung,
                    verdict=f"dropped: VMAF {rung.predicted_vmaf:g} is not below "
                    f"{larger.name}'s {larger.predicted_vmaf:g}",
                )
            )
        else:
            kept.append(rung)
    return kept, dropped


def _crf_for_file(video: VideoRendition, rungs: tuple[VideoRendition, ...]) -> int | None:
    """A progressive file gets the CRF of the rung of its size (else the top rung's)."""
    same = next((r for r in rungs if (r.width, r.height) == (video.width, video.height)), None)
    return (same or rungs[0]).crf


def apply_analysis(
    plan: TranscodePlan, choices: dict[str, Choice], samples: int, seconds: int
) -> TranscodePlan:
    """The plan with each rung's chosen CRF and prediction, redundant rungs dropped."""
    assert plan.per_title is not None
    chosen = []
    for index, rung in enumerate(plan.video):
        choice = choices[rung.name]
        target = plan.per_title.targets[min(index, len(plan.per_title.targets) - 1)]
        # A rung whose cap holds it gains nothing from CRF: it spends the cap as a constant
        # bitrate, which keeps its average at the cap (capped CRF overshoots it by up to
        # the buffer early on) and its quality what the cap allows.
        capped = not choice.reached and choice.bitrate >= AT_CAP * rung.bitrate
        predicted = f"predicted VMAF {choice.vmaf:g} (target {target:g})"
        cap = f"{rung.bitrate // 1000} kb/s cap"
        if choice.reached:
            verdict = f"CRF {choice.crf}: {predicted} at ~{choice.bitrate // 1000} kb/s"
        elif capped:
            verdict = f"held by the {cap}: constant bitrate at the cap, {predicted}"
        elif choice.stretched:
            verdict = (
                f"target out of reach under the {cap}: CRF {choice.crf} at "
                f"~{choice.bitrate // 1000} kb/s, {predicted}; the lowest CRF its probe "
                "predicts for"
            )
        else:  # the knee: the cap leaves room, but more bits would buy too little
            verdict = (
                f"target out of reach under the {cap}: CRF {choice.crf} at "
                f"~{choice.bitrate // 1000} kb/s, {predicted}; more bits would add under "
                f"{KNEE:g} point"
            )
        chosen.append(
            replace(
                rung,
                crf=None if capped else choice.crf,
                predicted_vmaf=choice.vmaf,
                predicted_bitrate=choice.bitrate,
                verdict=verdict,
            )
        )
    kept, dropped = convex_hull(chosen, {name: c.reached for name, c in choices.items()})
    used = {r.audio for r in kept}
    files = tuple(
        replace(f, video=replace(f.video, crf=_crf_for_file(f.video, tuple(kept))))
        for f in plan.files
    )
    return replace(
        plan,
        video=tuple(kept),
        dropped=tuple(dropped),
        audio=tuple(a for a in plan.audio if a.name in used),
        files=files,
        per_title=None,
        analysis=f"per-title: {len(kept)} of {len(chosen)} rungs kept, from {samples} "
        f"samples of {seconds} s",
    )


def fallback(plan: TranscodePlan, reason: str) -> TranscodePlan:
    """The plan at constant bitrate (every cap spent), saying why."""
    verdict = f"constant bitrate: {reason}"
    return replace(
        plan,
        video=tuple(replace(v, crf=None, verdict=verdict) for v in plan.video),
        files=tuple(replace(f, video=replace(f.video, crf=None)) for f in plan.files),
        rate_control=CBR,
        per_title=None,
        analysis=verdict,
    )


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
