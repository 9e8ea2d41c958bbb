"""HDR10 to SDR: BT.2390's EETF, the peak it starts from (metadata, else measured), and the
plan carrying both. FFmpeg runs the curve in tests/integration/test_hdr10.py."""

from __future__ import annotations

import itertools
import re
import struct
from array import array
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fakes import HD
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.pyav import _hdr10
from vodkit.adapters.transcoder.ffmpeg import conditioning
from vodkit.adapters.transcoder.tonemap import (
    ASSUMED_PEAK,
    PEAK_SIZE,
    SDR_WHITE,
    Eetf,
    measured_peak,
    pq,
    pq_nits,
    pq_to_sdr,
)
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.media import Hdr10Metadata, MediaInfo, VideoInfo
from vodkit.domain.per_title import AnalysisFailed, Probe
from vodkit.domain.plan import TranscodePlan
from vodkit.services.analysis import SourceAnalysis

# x265's master-display of a usual HDR10 grade: P3 primaries, D65, 1000 nits, 0.0001 nits.
MASTERING = {
    "red_x": 34000, "red_y": 16000, "green_x": 13250, "green_y": 34500, "blue_x": 7500,
    "blue_y": 3000, "white_x": 15635, "white_y": 16450, "max_luminance": 10_000_000,
    "min_luminance": 1,
}  # fmt: skip


def pq_source(hdr10: Hdr10Metadata | None = None, transfer: str = "smpte2084") -> MediaInfo:
    video = VideoInfo(
        codec="hevc", width=1920, height=1080, fps=25.0, color_transfer=transfer, hdr10=hdr10
    )
    return replace(HD, video=video)


def test_pq_follows_st_2084() -> None:
    assert pq(10000) == pytest.approx(1.0)
    assert pq(100) == pytest.approx(0.5081, abs=1e-4)  # SDR white, as every PQ table has it
    for nits in (0.1, 1, 100, 203, 1000, 4000):
        assert pq_nits(pq(nits)) == pytest.approx(nits, rel=1e-9)


@pytest.mark.parametrize("peak", [115.0, 203.0, 1000.0, 4000.0, 10000.0])
def test_the_eetf_keeps_what_sdr_can_show_and_rolls_off_the_rest(peak: float) -> None:
    curve = Eetf(peak)
    knee = pq_nits(curve.knee * curve.source)
    assert 0 < knee < SDR_WHITE
    for nits in (0.0, 0.5, 5.0, knee * 0.99):  # exactly kept below the knee
        assert curve(pq(nits)) == pq(nits)
    assert pq_nits(curve(pq(peak))) == pytest.approx(SDR_WHITE)  # the peak lands on SDR white
    assert curve(pq(peak) + 0.05) == pytest.approx(curve(pq(peak)))  # beyond it: held there
    signals = [curve.knee * curve.source + k * (pq(peak) - curve.knee * curve.source) / 500
               for k in range(501)]  # fmt: skip
    out = [curve(s) for s in signals]
    assert all(b > a for a, b in itertools.pairwise(out))  # no flat step: no clip
    assert max(out) <= pq(SDR_WHITE) + 1e-12


def test_a_peak_near_sdr_white_keeps_nearly_everything() -> None:
    curve = Eetf(115.0)  # a 100-nit grade, measured with its coding overshoots
    assert pq_nits(curve.knee * curve.source) > 85
    assert pq_nits(curve(pq(90))) == pytest.approx(90, rel=0.01)


@pytest.mark.parametrize("peak", [203.0, 1000.0])
def test_ffmpegs_expression_is_the_same_curve(peak: float) -> None:
    """The lutrgb expression, read as Python and truncated as lutrgb does, against the curve
    at every 97th 16-bit code."""
    curve = Eetf(peak)
    expression = curve.expression().replace("\\,", ",").replace("if(", "when(")
    assert re.fullmatch(r"[a-z0-9_.+\-*/(),]+", expression)  # numbers and FFmpeg's names only
    names = {
        "when": lambda c, a, b: a if c else b,
        "lt": lambda a, b: a < b,
        "min": min,
    }
    for code in range(0, 65536, 97):
        value = eval(expression, {"__builtins__": {}}, {**names, "val": code})
        assert int(value) == pytest.approx(curve(code / 65535) * 65535, abs=0.5)


def test_the_chain_applies_the_curve_only_above_sdr_white() -> None:
    assert "lutrgb" not in pq_to_sdr(100.0) and "npl=100" in pq_to_sdr(100.0)
    assert "lutrgb" in pq_to_sdr(400.0)
    assert pq_to_sdr(0.0) == pq_to_sdr(ASSUMED_PEAK)  # unknown: HDR10's usual peak


def test_the_peak_comes_from_the_metadata_maxcll_first() -> None:
    both = Hdr10Metadata(**MASTERING, max_cll=100, max_fall=60)
    mastering = Hdr10Metadata(**MASTERING)
    assert both.peak == 100.0 and mastering.peak == 1000.0 and Hdr10Metadata().peak == 0.0
    plan = plan_transcode(pq_source(both), load_presets())
    assert plan.tonemap == "pq" and plan.tonemap_peak == 100.0 and plan.hdr10 == both
    assert TranscodePlan.from_dict(plan.to_dict()) == plan
    assert MediaInfo.from_dict(pq_source(both).to_dict()) == pq_source(both)
    assert "lutrgb" not in conditioning(plan)  # within SDR brightness: no curve
    assert plan_transcode(pq_source(mastering), load_presets()).tonemap_peak == 1000.0
    unknown = plan_transcode(pq_source(), load_presets())
    assert unknown.tonemap_peak == 0.0 and unknown.hdr10 is None
    hlg = plan_transcode(pq_source(both, transfer="arib-std-b67"), load_presets())
    assert hlg.tonemap == "hlg" and hlg.tonemap_peak == 0.0 and hlg.hdr10 is None


def raw_frames(path: Path, frames: list[Callable[[int], int]]) -> Path:
    """``peak_filter``'s output: per frame, the G, B and R planes of 16-bit PQ codes."""
    plane = PEAK_SIZE[0] * PEAK_SIZE[1]
    data = array("H")
    for code_at in frames:
        for _ in range(3):
            data.extend(code_at(i) for i in range(plane))
    path.write_bytes(data.tobytes())
    return path


def test_the_measured_peak_ignores_a_few_stray_pixels(tmp_path: Path) -> None:
    white = round(pq(400) * 65535)
    speck = round(pq(4000) * 65535)  # five coding overshoots in two frames
    peak = measured_peak(
        raw_frames(tmp_path / "a.raw", [lambda i: speck if i < 5 else white, lambda i: i % 1000])
    )
    assert peak == pytest.approx(400, rel=0.01)
    dim = measured_peak(raw_frames(tmp_path / "b.raw", [lambda i: round(pq(50) * 65535)]))
    assert dim == SDR_WHITE  # never below SDR white: a dim grade is not brightened
    (tmp_path / "c.raw").write_bytes(b"")
    assert measured_peak(tmp_path / "c.raw") == 0.0


class Meter:
    """A sample encoder that measures peaks (and runs no per-title analysis)."""

    def __init__(self, peak: float | None) -> None:
        self.peak = peak
        self.calls = 0

    def start(self, check: Callable[[], object] = lambda: None) -> None:
        pass

    def combing(self, plan: TranscodePlan, source: Path, workdir: Path) -> object:
        raise AnalysisFailed("not in this test")  # taken as progressive

    def probe(self, *args: object) -> list[Probe]:
        raise AnalysisFailed("not in this test")

    def measure_peak(self, plan: TranscodePlan, source: Path, workdir: Path) -> float:
        self.calls += 1
        if self.peak is None:
            raise AnalysisFailed("FFmpeg failed")
        return self.peak


@pytest.mark.parametrize(
    ("hdr10", "measured", "expected", "calls"),
    [(None, 115.7, 115.7, 1), (Hdr10Metadata(max_cll=400), 115.7, 400.0, 0), (None, None, 0.0, 1)],
    ids=["measured", "metadata-first", "measure-failed"],
)
def test_the_analysis_measures_the_peak_only_when_the_metadata_has_none(
    tmp_path: Path, hdr10: Hdr10Metadata | None, measured: float | None, expected: float, calls: int
) -> None:
    plan = replace(plan_transcode(pq_source(hdr10), load_presets()), per_title=None)
    meter = Meter(measured)
    prepared = SourceAnalysis(meter).prepare(plan, tmp_path, tmp_path)
    assert prepared.tonemap_peak == expected and meter.calls == calls
    sdr = replace(plan_transcode(HD, load_presets()), per_title=None, interlaced=False)
    assert SourceAnalysis(meter).prepare(sdr, tmp_path, tmp_path).tonemap_peak == 0.0
    assert meter.calls == calls  # an SDR source is never measured


class Side:
    """A frame's side data as PyAV gives it: a type, and bytes."""

    def __init__(self, kind: str, data: bytes) -> None:
        self.type = kind
        self.data = data

    def __bytes__(self) -> bytes:
        return self.data


class Unreadable:
    type = "Type.MOTION_VECTORS"

    def __bytes__(self) -> bytes:
        raise TypeError("not a plain buffer")


def test_the_probe_reads_hdr10_metadata_and_keeps_it_to_its_ranges() -> None:
    def mastering(values: list[int], has_primaries: int, has_luminance: int) -> Side:
        packed = struct.pack("<20i2i", *values, has_primaries, has_luminance)
        return Side("Type.MASTERING_DISPLAY_METADATA", packed)

    p3 = [34000, 50000, 16000, 50000, 13250, 50000, 34500, 50000, 7500, 50000, 3000, 50000,
          15635, 50000, 16450, 50000, 1, 10000, 10_000_000, 10000]  # fmt: skip
    frame = SimpleNamespace(
        side_data=[
            Unreadable(),
            mastering(p3, 1, 1),
            Side("Type.CONTENT_LIGHT_LEVEL", struct.pack("<2I", 1000, 400)),
        ]
    )
    assert _hdr10(frame) == Hdr10Metadata(**MASTERING, max_cll=1000, max_fall=400)
    hostile = [-5, 1, 3, 1, *p3[4:16], 0, 0, 2**31 - 1, 1]  # negative, > 1, 0/0, huge
    read = _hdr10(
        SimpleNamespace(
            side_data=[
                mastering(hostile, 1, 1),
                Side("Type.CONTENT_LIGHT_LEVEL", struct.pack("<2I", 2**32 - 1, 7)),
            ]
        )
    )
    assert read is not None
    assert (read.red_x, read.red_y, read.min_luminance) == (0, 50000, 0)
    assert read.max_luminance == 2**31 - 1 and read.max_cll == 65535 and read.max_fall == 7
    primaries_unsaid = _hdr10(SimpleNamespace(side_data=[mastering(p3, 0, 1)]))
    assert primaries_unsaid == Hdr10Metadata(max_luminance=10_000_000, min_luminance=1)
    assert _hdr10(SimpleNamespace(side_data=[Unreadable()])) is None
    assert _hdr10(SimpleNamespace()) is None
