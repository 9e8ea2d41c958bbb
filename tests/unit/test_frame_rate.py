"""The rate every rung is encoded at: each source frame kept, at its own time (issue 27)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.domain.frame_rate import exact, output_rate, sustained_peak
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.media import VideoInfo
from vodkit.domain.plan import TranscodePlan

PRESETS = load_presets(default_presets_path())


def times(*parts: tuple[float, float]) -> list[float]:
    """Frame times of consecutive parts, each (rate, seconds)."""
    found: list[float] = []
    start = 0.0
    for rate, seconds in parts:
        found += [start + k / rate for k in range(round(rate * seconds))]
        start += seconds
    return found


def ticks(values: list[float], per_second: int) -> list[float]:
    """As a container stores them: whole ticks of its time base (1/600 s on phones)."""
    return [round(t * per_second) / per_second for t in values]


@pytest.mark.parametrize(
    ("average", "peak", "expected"),
    [
        (25.0, 25.0, Fraction(25)),  # 25 stays 25
        (29.97, 29.97, Fraction(30000, 1001)),  # 29.97 stays 29.97, exactly
        (29.97, 30.0, Fraction(30000, 1001)),  # ... read through a 1/600 s time base
        (23.976, None, Fraction(24000, 1001)),  # no timing sample: the declared rate
        (15.0, 15.0, Fraction(15)),  # a slow constant source is not raised
        (120.0, 120.0, Fraction(60)),  # slow motion: every other frame
        (240.0, 240.0, Fraction(60)),  # every fourth
        (119.88, 119.88, Fraction(60000, 1001)),
        (100.0, 100.0, Fraction(50)),
        (90.0, 90.0, Fraction(45)),  # an exact divisor, even if not a standard rate
        (41.791, 60.0, Fraction(60)),  # 24 then 60: the fastest part, never the average
        (27.0, 30.02, Fraction(30)),  # a phone's 30 dipping in low light: 30, not 29.97
        (22.0, 23.976, Fraction(24000, 1001)),
        (40.0, 59.96, Fraction(60000, 1001)),
        (30.0, 45.0, Fraction(48)),  # at or above the fastest part
        (50.0, 120.0, Fraction(60)),  # slow-motion bursts: over the cap, divided
    ],
)
def test_the_rate_keeps_every_frame(average: float, peak: float | None, expected: Fraction) -> None:
    rate, why = output_rate(average, peak, 60.0)
    assert rate == expected, why


def test_the_cap_is_an_operator_choice() -> None:
    assert output_rate(30.0, 30.0, 24.0)[0] == 15  # halved, not 24 (every fifth dropped)
    assert output_rate(41.791, 60.0, 30.0)[0] == 30


def test_the_sustained_peak_is_read_from_timestamps() -> None:
    mixed = times((24, 2), (60, 2))
    assert sustained_peak([mixed]) == pytest.approx(60.0)
    assert sustained_peak([ticks(mixed, 600)]) == pytest.approx(60.0)
    assert sustained_peak([ticks(times((30000 / 1001, 3)), 600)]) == pytest.approx(30.0, 0.004)
    assert sustained_peak([ticks(times((30, 3)), 1000)]) == pytest.approx(30.0, 0.004)
    # a lone short interval is jitter, not a part
    jittered = times((30, 3))
    jittered[45] -= 0.02
    assert sustained_peak([jittered]) == pytest.approx(30.0, 0.04)
    assert sustained_peak([times((30, 0.3))]) is None  # too short to tell
    assert sustained_peak([]) is None
    # windows are apart: the gap between two windows is no frame interval
    assert sustained_peak([times((24, 1)), [10 + t for t in times((60, 1))]]) == pytest.approx(60)


def test_exact_rates() -> None:
    assert exact(29.97) == Fraction(30000, 1001)
    assert exact(59.94) == Fraction(60000, 1001)
    assert exact(14.985) == Fraction(15000, 1001)
    assert exact(12.5) == Fraction(25, 2)


def plan(video: VideoInfo, rules: PlanningRules | None = None) -> TranscodePlan:
    return plan_transcode(replace(HD, video=video), PRESETS, rules)


def test_the_plan_keeps_a_variable_rate_sources_frames() -> None:
    vfr = plan(VideoInfo(codec="h264", width=1280, height=720, fps=41.791, peak_fps=60.0))
    assert vfr.fps == 60.0 and vfr.frame_rate == 60
    assert "variable" in vfr.fps_reason
    ntsc = plan(VideoInfo(codec="h264", width=1280, height=720, fps=29.97, peak_fps=30.0))
    assert ntsc.fps == 29.97 and ntsc.frame_rate == Fraction(30000, 1001)
    slow_motion = plan(VideoInfo(codec="h264", width=1280, height=720, fps=240.0, peak_fps=240.0))
    assert slow_motion.frame_rate == 60
    assert TranscodePlan.from_dict(vfr.to_dict()) == vfr
