"""Encoding presets, in the structure of the original design's SSM parameter.

``{"presets": {"hls": ..., "dash": ..., "mp4": ...}}``: each preset has a
name, outputs (nameModifier, videoSettings, audioSettings) and an outputGroup.
Parsing is strict and names the offending field (``presets.hls.outputs[1].
videoSettings.width: ...``), because a typo in a preset should stop start-up,
not silently produce a wrong ladder.

vodkit writes HLS and DASH from one set of CMAF segments, so the stream ladder
is the union of the hls and dash outputs, and its segment length is the hls
group's ``segmentDuration``.

Rate control is preset configuration too (``presets.rateControl``, ``presets.perTitle``...):
a rung's ``bitrate`` is its cap; ``QVBR`` (the default) encodes capped CRF, ``CBR`` spends
the cap on every second as the original design did. See ``RateControl``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import PresetsError

if TYPE_CHECKING:
    from .ladder import PlanningRules

GROUP_TYPES = {"hls": "HLS_GROUP", "dash": "DASH_ISO_GROUP", "mp4": "FILE_GROUP"}
VIDEO_CODECS = ("H_264",)
AUDIO_CODECS = ("AAC",)
SAMPLE_RATES = (44100, 48000)
RATE_CONTROLS = ("QVBR", "CBR")
# Per-title targets, VMAF (vmaf_v0.6.1) at the top rung's display size, top rung first.
# 95 on the top rung: past ~93-95 viewers at a normal distance no longer tell an encode
# from its source (Netflix's own ladders aim there), and every point above it costs bits
# nobody sees. Each smaller rung aims one just-noticeable difference (~6 points) lower:
# it is a fallback for a worse network, scored upscaled to the top rung's size, where
# its resolution alone already costs points. A ladder longer than the list repeats its
# last target.
VMAF_TARGETS = (95.0, 89.0, 83.0, 77.0)


@dataclass(frozen=True)
class VideoSettings:
    width: int
    height: int
    bitrate: int
    codec: str = "H_264"


@dataclass(frozen=True)
class AudioSettings:
    bitrate: int
    sample_rate: int = 48000
    codec: str = "AAC"


@dataclass(frozen=True)
class PresetOutput:
    name_modifier: str
    video: VideoSettings
    audio: AudioSettings | None


@dataclass(frozen=True)
class OutputGroup:
    type: str
    segment_duration: int = 6  # hls: segmentDuration; dash: segmentLength


@dataclass(frozen=True)
class AutomatedAbr:
    """MediaConvert's Automated ABR (AWS footprint only): it picks the ladder itself."""

    max_abr_bitrate: int
    max_renditions: int
    min_abr_bitrate: int = 0  # 0: MediaConvert's default


@dataclass(frozen=True)
class RateControl:
    """How every rung spends its bits; a rung's preset ``bitrate`` is its cap.

    ``QVBR``: capped CRF (x264 ``-crf`` with ``-maxrate`` = the cap, ``-bufsize`` = twice
    it; MediaConvert QVBR at ``qvbr_quality_level`` with ``MaxBitrate`` = the cap). With
    ``per_title`` (the default, embedded and cluster footprints), sample encodes scored by
    VMAF pick each rung's CRF for its target and drop rungs that add nothing; without it,
    every rung gets ``crf``. ``CBR``: the cap on every second (the original design).
    """

    mode: str = "QVBR"
    per_title: bool = True
    crf: int = 23  # QVBR without per-title: x264's own default
    qvbr_quality_level: int = 7  # MediaConvert's QVBR (1-10); AWS's advice for most content
    vmaf_targets: tuple[float, ...] = VMAF_TARGETS
    samples: int = 3  # per-title: samples spread over the source...
    sample_seconds: int = 2  # ...of this many seconds each (a multiple of the keyframe interval)
    automated_abr: AutomatedAbr | None = None

    def target(self, rung: int) -> float:
        """The VMAF the ``rung``-th rung (0: the top) aims at."""
        return self.vmaf_targets[min(rung, len(self.vmaf_targets) - 1)]


@dataclass(frozen=True)
class Preset:
    name: str
    outputs: tuple[PresetOutput, ...]
    group: OutputGroup


@dataclass(frozen=True)
class Presets:
    hls: Preset
    dash: Preset
    mp4: Preset
    document: dict[str, Any]  # the parsed file, for `vodkit presets show`
    rate_control: RateControl = RateControl()

    @property
    def segment_seconds(self) -> int:
        return self.hls.group.segment_duration

    def validate(self, rules: PlanningRules) -> Presets:
        """Check what the presets must agree on with the operator's rules; return self."""
        if self.segment_seconds % rules.gop_seconds:
            raise PresetsError(
                f"presets.hls.outputGroup.segmentDuration: {self.segment_seconds} s is not a "
                f"multiple of the {rules.gop_seconds} s keyframe interval (VODKIT_GOP_SECONDS), "
                "so segments could not all start on an aligned keyframe"
            )
        if self.rate_control.sample_seconds % rules.gop_seconds:
            raise PresetsError(
                f"presets.perTitleSampleSeconds: {self.rate_control.sample_seconds} s is not a "
                f"multiple of the {rules.gop_seconds} s keyframe interval (VODKIT_GOP_SECONDS), "
                "so samples would not be encoded as the renditions are"
            )
        return self


class _Reader:
    """Reads typed fields out of untrusted JSON, naming the path of any bad one."""

    def __init__(self, data: Any, path: str) -> None:
        self.data = data
        self.path = path

    def fail(self, message: str, field: str | None = None) -> PresetsError:
        where = f"{self.path}.{field}" if field else self.path
        return PresetsError(f"{where}: {message}")

    def obj(self, field: str, *, required: bool = True) -> _Reader | None:
        if not isinstance(self.data, dict):
            raise self.fail("must be an object")
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.fail("is required", field)
            return None
        if not isinstance(value, dict):
            raise self.fail("must be an object", field)
        return _Reader(value, f"{self.path}.{field}")

    def items(self, field: str) -> list[_Reader]:
        value = self.data.get(field) if isinstance(self.data, dict) else None
        if not isinstance(value, list) or not value:
            raise self.fail("must be a non-empty list", field)
        return [_Reader(v, f"{self.path}.{field}[{i}]") for i, v in enumerate(value)]

    def integer(self, field: str, low: int, high: int, default: int | None = None) -> int:
        value = self.data.get(field, default)
        if value is None:
            raise self.fail("is required", field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"must be an integer from {low} to {high}", field)
        return value

    def choice(self, field: str, allowed: tuple[Any, ...], default: Any = None) -> Any:
        value = self.data.get(field, default)
        if value not in allowed:
            raise self.fail(f"must be one of {', '.join(map(str, allowed))}", field)
        return value

    def boolean(self, field: str, default: bool) -> bool:
        value = self.data.get(field, default)
        if not isinstance(value, bool):
            raise self.fail("must be true or false", field)
        return value

    def numbers(
        self, field: str, low: float, high: float, default: tuple[float, ...]
    ) -> tuple[float, ...]:
        value = self.data.get(field, list(default))
        if (
            not isinstance(value, list)
            or not value
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
            or not all(low <= v <= high for v in value)
        ):
            raise self.fail(f"must be a non-empty list of numbers from {low:g} to {high:g}", field)
        return tuple(float(v) for v in value)

    def text(self, field: str, default: str | None = None, max_len: int = 64) -> str:
        value = self.data.get(field, default)
        if not isinstance(value, str) or len(value) > max_len:
            raise self.fail(f"must be a string of at most {max_len} characters", field)
        return value


def _video(r: _Reader) -> VideoSettings:
    width = r.integer("width", 16, 7680)
    height = r.integer("height", 16, 4320)
    for field, value in (("width", width), ("height", height)):
        if value % 2:
            raise r.fail("must be even (H.264 4:2:0 needs even dimensions)", field)
    return VideoSettings(
        width=width,
        height=height,
        bitrate=r.integer("bitrate", 50_000, 100_000_000),
        codec=r.choice("codec", VIDEO_CODECS, "H_264"),
    )


def _audio(r: _Reader) -> AudioSettings:
    return AudioSettings(
        bitrate=r.integer("bitrate", 32_000, 512_000),
        sample_rate=r.choice("sampleRate", SAMPLE_RATES, 48000),
        codec=r.choice("codec", AUDIO_CODECS, "AAC"),
    )


def _preset(r: _Reader, key: str) -> Preset:
    outputs: list[PresetOutput] = []
    for o in r.items("outputs"):
        video = o.obj("videoSettings")
        audio = o.obj("audioSettings", required=False)
        assert video is not None
        outputs.append(
            PresetOutput(
                name_modifier=o.text("nameModifier", f"_{len(outputs)}"),
                video=_video(video),
                audio=_audio(audio) if audio else None,
            )
        )
    group = r.obj("outputGroup")
    assert group is not None
    group_type = group.choice("type", (GROUP_TYPES[key],))
    segment_field = "segmentLength" if key == "dash" else "segmentDuration"
    return Preset(
        name=r.text("name", key),
        outputs=tuple(outputs),
        group=OutputGroup(type=group_type, segment_duration=group.integer(segment_field, 1, 60, 6)),
    )


def _rate_control(r: _Reader) -> RateControl:
    abr = r.obj("automatedAbr", required=False)
    automated = None
    if abr is not None:
        automated = AutomatedAbr(
            max_abr_bitrate=abr.integer("maxAbrBitrate", 100_000, 100_000_000),
            max_renditions=abr.integer("maxRenditions", 3, 15),
            min_abr_bitrate=(
                abr.integer("minAbrBitrate", 100_000, 100_000_000)
                if "minAbrBitrate" in abr.data
                else 0
            ),
        )
    return RateControl(
        mode=r.choice("rateControl", RATE_CONTROLS, "QVBR"),
        per_title=r.boolean("perTitle", True),
        crf=r.integer("crf", 0, 51, 23),
        qvbr_quality_level=r.integer("qvbrQualityLevel", 1, 10, 7),
        vmaf_targets=r.numbers("vmafTargets", 0, 100, VMAF_TARGETS),
        samples=r.integer("perTitleSamples", 1, 10, 3),
        sample_seconds=r.integer("perTitleSampleSeconds", 1, 10, 2),
        automated_abr=automated,
    )


def parse_presets(document: Any) -> Presets:
    if not isinstance(document, dict) or not isinstance(document.get("presets"), dict):
        raise PresetsError("presets: the file must hold an object with a 'presets' object")
    inner = _Reader(document["presets"], "presets")
    parsed = {}
    for key in GROUP_TYPES:
        section = inner.obj(key)
        assert section is not None
        parsed[key] = _preset(section, key)
    return Presets(
        hls=parsed["hls"],
        dash=parsed["dash"],
        mp4=parsed["mp4"],
        document=document,
        rate_control=_rate_control(inner),
    )
