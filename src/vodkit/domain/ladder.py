"""From a probe result and presets to the ladder one transcode will write.

Rules: never upscale; keep the display aspect ratio (a preset's WxH is a
bounding box, turned to portrait for portrait sources); even dimensions; a source
between two rungs gets a top rung at its own size, so the ladder's top is never
below the source up to the largest rung; no rung spends more bits than the source
carries, counted in H.264's bits (``CODEC_WEIGHTS``); every rung shares one frame rate
that keeps every source frame (``domain.frame_rate``) and a fixed keyframe interval so
players can switch; the stream ladder is the union of the hls and dash presets, each
rung paired with its audio rendition (the original design's DASH had none).
A ``QVBR`` ladder with ``perTitle`` leaves its CRFs to the per-title analysis
(``domain.per_title``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import ErrorCode, UnsupportedMedia
from .frame_rate import output_rate
from .media import MediaInfo
from .plan import (
    AUDIO,
    CBR,
    QVBR,
    X264,
    AudioFile,
    AudioRendition,
    FileRendition,
    PerTitle,
    PosterPlan,
    SpritePlan,
    TranscodePlan,
    VideoRendition,
)
from .presets import AudioSettings, PresetOutput, Presets, VideoSettings
from .tracks import Skipped, Track, TrackLimits, Tracks, TrackType, plan_tracks

# What MediaConvert's caption selectors can read from inside a source (the AWS footprint):
# CEA-608 in the video of the containers its captions tables list, and text streams of the
# codecs its caption source types name, by stream number. The rest is skipped, with why.
MEDIACONVERT_608_DEMUXERS = frozenset({"mov", "mpegts"})
MEDIACONVERT_TEXT_CODECS = frozenset({"subrip", "srt", "webvtt", "mov_text", "eia_608"})
# Text MediaConvert has no source type for, which vodkit turns into WebVTT itself before the
# job (``services.text_conversion``); the job reads that file as it reads a sidecar's.
MEDIACONVERT_CONVERTED_CODECS = frozenset({"ass", "ssa"})
NO_ASS_HERE = (
    "MediaConvert has no ASS/SSA captions source and this ingest converts none; add the "
    "track as a sidecar caption (PUT /v1/assets/{id}/captions/{lang})"
)
NO_608_HERE = (
    "MediaConvert reads CEA-608 captions only from MP4, QuickTime, MPEG-TS and MXF sources"
)
MIN_VIDEO_BITRATE = 150_000
SPRITE_TILE_BOX = (160, 90)
SPRITE_COLUMNS = 10
SPRITE_ROWS = 10  # per sheet: 100 tiles, 1600x900 pixels at most, 500 s at the default interval
POSTER_CANDIDATES = 10
WAVEFORM = (1280, 240)  # an audio-only asset's poster: its waveform, this size
NO_TEXT_WITHOUT_PICTURE = "an audio-only asset publishes no text tracks"
# Sources whose bitrate says nothing of their quality: every audio rung is worth encoding.
LOSSLESS_AUDIO = frozenset({"flac", "alac", "wavpack", "ape", "tta", "mlp", "truehd"})
# A VBR source's average sits a little under its nominal rate (a "128k" MP3 at 126 kb/s).
SOURCE_BITRATE_SLACK = 1.05

# How many H.264 bits one bit of a source's codec is worth at equal VMAF: x264 (vodkit's
# encoder, at a cap) against each codec at a camera's or an editor's settings, on real
# footage (bench/codec_factors.py, figures in bench/README.md). Conservative: the smallest
# ratio measured below VMAF 98 (where VMAF saturates), rounded down; the geometric means
# were about 1.6, 1.6 and 1.9.
CODEC_WEIGHTS = {"hevc": 1.4, "vp9": 1.5, "av1": 1.6}
CODEC_ALIASES = {"h265": "hevc", "libvpx-vp9": "vp9", "libdav1d": "av1", "libaom-av1": "av1"}


@dataclass(frozen=True)
class PlanningRules:
    """Operator choices that shape every plan (settings, not presets); these defaults are
    the settings' (``config.Settings`` reads them)."""

    max_fps: float = 60.0  # renditions keep the source's rate up to this (above: divided)
    gop_seconds: int = 2  # keyframe interval, identical on every rung
    sprite_interval: int = 5  # seconds between scrub-preview tiles
    encoder: str = X264  # what encodes QVBR in this footprint (plan.X264 or MEDIACONVERT)
    track_limits: TrackLimits = field(default_factory=TrackLimits)  # how many tracks are kept


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


def _audio_for(settings: AudioSettings | None, track: Track | None) -> AudioRendition | None:
    """The default audio track's rendition at the settings' bitrate: it names the group."""
    if settings is None or track is None:
        return None
    return AudioRendition(
        name=f"audio_{settings.bitrate // 1000}k",
        bitrate=settings.bitrate,
        sample_rate=settings.sample_rate,
        track=track.index,
    )


def _audio_groups(
    groups: list[AudioRendition], tracks: list[Track], durations: dict[int | None, float | None]
) -> list[AudioRendition]:
    """Every group (one per bitrate) with one rendition per audio track: the default track
    keeps the group's name (``audio_128k``), the others add their language and, when two
    share it, their position (``audio_128k_fr``, ``audio_128k_en_3``)."""
    suffixes: dict[int | None, str] = {}
    taken: set[str] = set()
    for position, track in enumerate(tracks, 1):
        if not track.default:
            suffix = track.language
            if suffix in taken:
                suffix = f"{suffix}_{position}"
            taken.add(suffix)
            suffixes[track.index] = f"_{suffix}"
    found = []
    for group in groups:
        for track in tracks:
            found.append(
                AudioRendition(
                    name=group.name + suffixes.get(track.index, ""),
                    bitrate=group.bitrate,
                    sample_rate=group.sample_rate,
                    track=track.index,
                    group=group.name,
                    duration=durations.get(track.index),
                )
            )
    return found


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


def _box_bitrate(box: VideoSettings, size: tuple[int, int]) -> int:
    """A rung smaller than its preset's box gets a proportionally smaller bitrate."""
    ratio = (size[0] * size[1]) / (box.width * box.height)
    return max(MIN_VIDEO_BITRATE, min(box.bitrate, int(box.bitrate * ratio)))


def _scaled_bitrate(box: VideoSettings, size: tuple[int, int], ceiling: int | None) -> int:
    """The box's bitrate scaled to ``size``, and no rung gets more than the source itself
    carries (it would only spend bits on noise)."""
    scaled = _box_bitrate(box, size)
    return min(scaled, ceiling) if ceiling else scaled


def _between(
    source: tuple[int, int], ladder: list[tuple[VideoSettings, AudioSettings | None]]
) -> tuple[tuple[int, int], int, AudioSettings | None] | None:
    """A source between two rungs: its own (even) size, its cap interpolated by pixel count
    between the two neighbours' caps at this aspect, and the larger one's audio. None when
    a rung already has its size, or it is above the largest rung or below the smallest."""
    own = (even(source[0], source[0]), even(source[1], source[1]))
    larger = [(v, a) for v, a in ladder if fit(source, (v.width, v.height)) is None]
    smaller = [
        (v, a, size) for v, a in ladder if (size := fit(source, (v.width, v.height))) is not None
    ]
    if not larger or not smaller or any(size == own for *_, size in smaller):
        return None
    ups = [(v, a, fit(source, (v.width, v.height), allow_upscale=True)) for v, a in larger]
    upper, audio, up_size = min(ups, key=lambda u: (_pixels(u[2]), -u[0].bitrate))
    lower, _, low_size = max(smaller, key=lambda s: (_pixels(s[2]), s[0].bitrate))
    assert up_size is not None
    low_cap, up_cap = _box_bitrate(lower, low_size), _box_bitrate(upper, up_size)
    span = _pixels(up_size) - _pixels(low_size)
    t = min(1.0, max(0.0, (_pixels(own) - _pixels(low_size)) / span)) if span > 0 else 1.0
    return own, round(low_cap + t * (up_cap - low_cap)), audio


def _pixels(size: tuple[int, int] | None) -> int:
    return size[0] * size[1] if size else 0


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


def codec_weight(codec: str) -> float:
    """H.264 bits per bit of ``codec`` (a codec or decoder name); 1 for H.264 and for any
    codec not measured (older codecs need more bits, so they never bind sooner)."""
    name = codec.lower()
    return CODEC_WEIGHTS.get(CODEC_ALIASES.get(name, name), 1.0)


def source_h264_bitrate(media: MediaInfo) -> int | None:
    """The source's video bits as H.264 would need them for the same picture: the most
    any rung may spend."""
    bits = source_video_bitrate(media)
    if bits is None or media.video is None:
        return bits
    return round(bits * codec_weight(media.video.codec))


def mediaconvert_text(tracks: Tracks, demuxer: str) -> Tracks:
    """``tracks`` with the text tracks MediaConvert cannot select moved to ``skipped``; ASS/SSA
    stay, to be converted before the job (``converted_text``)."""
    kept, skipped = [], list(tracks.skipped)
    for track in tracks.kept:
        reason = ""
        if track.type is TrackType.TEXT and track.index is not None:
            if track.codec in MEDIACONVERT_CONVERTED_CODECS:
                pass
            elif track.codec not in MEDIACONVERT_TEXT_CODECS:
                reason = f"MediaConvert has no captions source for {track.codec} text tracks"
            elif track.codec == "eia_608" and demuxer not in MEDIACONVERT_608_DEMUXERS:
                reason = f"{NO_608_HERE}, not {demuxer}"
        if reason:
            skipped.append(Skipped("text", track.codec, track.language, reason, track.index))
        else:
            kept.append(track)
    return Tracks(tuple(kept), tuple(skipped))


def converted_text(plan: TranscodePlan) -> list[Track]:
    """The embedded text tracks a MediaConvert job reads from vodkit's WebVTT of them (none
    for FFmpeg, whose text helper reads them all)."""
    if plan.encoder == X264:
        return []
    return [
        t
        for t in plan.tracks
        if t.type is TrackType.TEXT
        and t.index is not None
        and t.codec in MEDIACONVERT_CONVERTED_CODECS
    ]


def plan_transcode(
    media: MediaInfo, presets: Presets, rules: PlanningRules | None = None
) -> TranscodePlan:
    rules = rules or PlanningRules()
    video = media.video
    if video is None and media.audio is None:
        raise UnsupportedMedia("no video or audio stream", code=ErrorCode.NO_VIDEO)
    if media.duration <= 0:
        raise UnsupportedMedia("the upload has no duration", code=ErrorCode.NO_DURATION)
    if video is None:
        return plan_audio_only(media, presets, rules)
    source = video.display_size
    if min(source) < 2:
        raise UnsupportedMedia("the video has no picture size", code=ErrorCode.NO_PICTURE_SIZE)

    taken: set[str] = set()
    audio: dict[str, AudioRendition] = {}
    tracks = plan_tracks(media.other_streams, rules.track_limits)
    if rules.encoder != X264:
        tracks = mediaconvert_text(tracks, media.demuxer)
    audio_tracks = tracks.of(TrackType.AUDIO)
    default_audio = next((t for t in audio_tracks if t.default), None)
    ceiling = source_h264_bitrate(media)
    rc = presets.rate_control
    qvbr = rc.mode == QVBR
    fixed_crf = rc.crf if qvbr and not rc.per_title else None

    def rung(
        size: tuple[int, int], settings: VideoSettings, audio_settings: AudioSettings | None
    ) -> VideoRendition:
        a = _audio_for(audio_settings, default_audio)
        if a:
            audio.setdefault(a.name, a)
        return VideoRendition(
            name=_rung_name(*size, settings.bitrate, taken),
            width=size[0],
            height=size[1],
            bitrate=_scaled_bitrate(settings, size, ceiling),
            audio=a.name if a else None,
            crf=fixed_crf,
        )

    ladder = _ladder_outputs(presets)
    rungs = []
    if between := _between(source, ladder):  # its own size on top, its cap interpolated
        own, cap, top_audio = between
        rungs.append(rung(own, VideoSettings(width=own[0], height=own[1], bitrate=cap), top_audio))
    rungs += [
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
        a = _audio_for(output.audio, default_audio)
        name = re.sub(r"[^a-z0-9_-]", "", output.name_modifier.lower()).strip("_-") or "preview"
        files.append(
            FileRendition(
                name=name,
                video=VideoRendition(
                    name=name,
                    width=size[0],
                    height=size[1],
                    bitrate=_scaled_bitrate(output.video, size, ceiling),
                    crf=fixed_crf,
                ),
                audio=a,
            )
        )

    top = rungs[0]
    rate, rate_reason = output_rate(video.fps, video.peak_fps, rules.max_fps)
    dar = Fraction(source[0], source[1])
    duration = video.duration if video.duration and video.duration > 0 else media.duration
    return TranscodePlan(
        demuxer=media.demuxer,
        duration=duration,
        dar=f"{dar.numerator}/{dar.denominator}",
        fps=round(float(rate), 3),
        fps_reason=rate_reason,
        gop_seconds=rules.gop_seconds,
        segment_seconds=presets.segment_seconds,
        video=tuple(rungs),
        audio=tuple(
            _audio_groups(
                sorted(audio.values(), key=lambda a: -a.bitrate),
                audio_tracks,
                {s.index: s.duration for s in media.other_streams},
            )
        ),
        files=tuple(files),
        poster=PosterPlan(width=top.width, height=top.height, candidates=POSTER_CANDIDATES),
        sprite=plan_sprite(source, duration, rules.sprite_interval),
        source_channels=(default_audio.channels or 2) if default_audio else 0,
        rate_control=rc.mode,
        qvbr_quality_level=rc.qvbr_quality_level,
        encoder=rules.encoder,
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
        tonemap_peak=video.hdr10.peak if video.hdr == "pq" and video.hdr10 else 0.0,
        hdr10=video.hdr10 if video.hdr == "pq" else None,
        # a stream that does not declare its fields interlaced may still be woven: detect
        interlaced=True if video.interlaced else None,
        field_order=video.field_order,
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
        tracks=tracks.kept,
        skipped=tracks.skipped,
    )


def _audio_ladder(presets: Presets) -> list[AudioSettings]:
    """The presets' distinct audio bitrates (hls and dash), highest first."""
    found: dict[int, AudioSettings] = {}
    for output in [*presets.hls.outputs, *presets.dash.outputs]:
        if output.audio is not None:
            found.setdefault(output.audio.bitrate, output.audio)
    return sorted(found.values(), key=lambda a: -a.bitrate)


def source_audio_bitrate(media: MediaInfo) -> int | None:
    """What the source's sound carries, in bits per second: None when unknown or lossless
    (PCM, FLAC...: no rung is above it). A file without pictures that does not say its
    stream's rate is all sound: its container's rate (an MP3's cover art only adds)."""
    audio = media.audio
    if audio is None:
        return None
    if audio.codec.startswith("pcm_") or audio.codec in LOSSLESS_AUDIO:
        return None
    return audio.bitrate or media.bitrate or None


def cap_audio_ladder(ladder: list[AudioSettings], source: int | None) -> list[AudioSettings]:
    """The rungs (highest first) at or under the source's bitrate: re-encoding a 64 kb/s MP3
    at 128 kb/s spends bits on nothing. The lowest rung stays when all are above it."""
    if source is None or not ladder:
        return ladder
    kept = [a for a in ladder if a.bitrate <= source * SOURCE_BITRATE_SLACK]
    return kept or ladder[-1:]


def plan_audio_only(media: MediaInfo, presets: Presets, rules: PlanningRules) -> TranscodePlan:
    """A source without pictures (MP3, M4A, WAV, FLAC, Ogg): an audio-only ladder at the
    presets' audio bitrates up to the source's (every kept track, as for video), an M4A
    download per MP4 preset (its audio settings, capped likewise) and a waveform for the
    poster; no sprite."""
    tracks = plan_tracks(media.other_streams, rules.track_limits)
    tracks = tracks.without_text(NO_TEXT_WITHOUT_PICTURE)
    audio_tracks = tracks.of(TrackType.AUDIO)
    default_audio = next((t for t in audio_tracks if t.default), None)
    source_bitrate = source_audio_bitrate(media)
    ladder = cap_audio_ladder(_audio_ladder(presets), source_bitrate)
    if default_audio is None or not ladder:
        reason = "no audio track can be decoded" if ladder else "the presets have no audio"
        raise UnsupportedMedia(f"nothing to play: {reason}", code=ErrorCode.NO_VIDEO)
    groups = [a for a in (_audio_for(s, default_audio) for s in ladder) if a is not None]
    downloads: list[AudioFile] = []
    for output in presets.mp4.outputs:
        settings = output.audio or ladder[0]
        if source_bitrate and settings.bitrate > source_bitrate * SOURCE_BITRATE_SLACK:
            settings = ladder[0]  # above the source: the ladder's top (the same encode)
        a = _audio_for(settings, default_audio)
        name = re.sub(r"[^a-z0-9_-]", "", output.name_modifier.lower()).strip("_-") or "preview"
        if a is not None and all(d.name != name for d in downloads):
            downloads.append(AudioFile(name=name, audio=a))
    audio = media.audio
    own = audio.duration if audio and audio.duration and audio.duration > 0 else None
    duration = own or media.duration
    return TranscodePlan(
        demuxer=media.demuxer,
        duration=duration,
        dar="",
        fps=0.0,
        gop_seconds=rules.gop_seconds,
        segment_seconds=presets.segment_seconds,
        video=(),
        audio=tuple(
            _audio_groups(groups, audio_tracks, {s.index: s.duration for s in media.other_streams})
        ),
        files=(),
        poster=PosterPlan(width=WAVEFORM[0], height=WAVEFORM[1], candidates=1),
        sprite=None,
        source_channels=default_audio.channels or 2,
        rate_control=CBR,  # AAC at the presets' bitrates; nothing for a per-title analysis
        encoder=rules.encoder,
        analysis="audio only: no per-title analysis",
        interlaced=False,
        audio_duration=own,
        tracks=tracks.kept,
        skipped=tracks.skipped,
        kind=AUDIO,
        downloads=tuple(downloads),
    )
