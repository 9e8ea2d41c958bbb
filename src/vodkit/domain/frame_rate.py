"""The rate every rendition is encoded at: each source frame kept, at its own time.

A constant-rate source keeps its rate. A variable-rate one (phones record so) is encoded at
the standard rate nearest its fastest sustained part, never below it: the slower parts' frames
are repeated, none is dropped, and each lands within half an output frame of its own time.
Never the average: a 24-then-60 fps clip at its average (41.8 fps) repeats the 24 fps part's
frames unevenly and drops a third of the 60 fps part's. Carrying the variable timing through
was measured and rejected (bench/README.md, "Frame rate"): x264's rate cap then assumes one
frame duration for all and starved the fast part, and MediaConvert writes constant rates only.

A rate above the operator's maximum is divided by the smallest whole number that brings it
under (120 -> 60, 240 -> 60, 100 -> 50): every n-th frame, evenly, never a rate like 41.8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

# What players and MediaConvert expect; NTSC rates exactly (30000/1001, not 29.97).
STANDARD_RATES = tuple(
    Fraction(r)
    for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60")
)
# How long a part must hold its rate to count: a single short interval is jitter.
SUSTAINED_SECONDS = 0.5
# Timestamps' ticks (1/600 s on phones, 1/1000 s in Matroska) make a rate measured over
# SUSTAINED_SECONDS read up to ~0.4 % high or low; within that a source is constant.
MEASUREMENT_TOLERANCE = 0.005


def sustained_peak(windows: Sequence[Sequence[float]]) -> float | None:
    """The fastest rate held for ``SUSTAINED_SECONDS`` within any window of frame times
    (seconds, in any order); None when no window spans that long."""
    peak: float | None = None
    for window in windows:
        times = sorted(set(window))
        j = 0
        for i, start in enumerate(times):
            j = max(j, i + 1)
            while j < len(times) and times[j] - start < SUSTAINED_SECONDS:
                j += 1
            if j == len(times):
                break
            rate = (j - i) / (times[j] - start)
            peak = rate if peak is None else max(peak, rate)
    return peak


def exact(rate: float) -> Fraction:
    """A rate as a fraction: a standard one (NTSC's x/1001 included) when it is one."""
    for standard in STANDARD_RATES:
        if abs(rate - standard) <= 0.0005:
            return standard
    ntsc = Fraction(round(rate * 1.001) * 1000, 1001)
    if ntsc and abs(rate - ntsc) <= 0.0005:  # 119.88, 14.985: NTSC's others
        return ntsc
    return Fraction(rate).limit_denominator(1001)


def output_rate(average: float, peak: float | None, max_fps: float) -> tuple[Fraction, str]:
    """The rate to encode at, and why, from the source's average and sustained peak rates."""
    if average <= 0 and not peak:
        return Fraction(30), "the source declares no frame rate: 30 fps"
    fastest = max(peak or 0.0, average)
    if fastest <= average * (1 + MEASUREMENT_TOLERANCE):
        rate, why = exact(average), "the source's constant rate"
    else:
        floor = fastest * (1 - MEASUREMENT_TOLERANCE)
        candidates = [r for r in STANDARD_RATES if r >= floor]
        rate = min(candidates, key=lambda r: abs(r - fastest)) if candidates else exact(fastest)
        why = (
            f"variable rate (average {average:.3f}, fastest sustained part {fastest:.3f} fps): "
            "the standard rate that keeps every frame"
        )
    if rate > max_fps:
        divisor = math.ceil(rate / Fraction(max_fps).limit_denominator(1001))
        rate, why = rate / divisor, f"{why}, divided by {divisor} to stay under {max_fps:g} fps"
    return rate, why
