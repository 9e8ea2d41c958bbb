"""HDR10 (PQ) to SDR: ITU-R BT.2390's EETF, from the source's peak to SDR white.

The curve works on PQ-coded R'G'B' (BT.2020), as BT.2390 describes it: with the source's
peak ``Lw`` and SDR's ``Lmax`` (100 nits, SDR reference white) both PQ-coded, everything
below the knee ``KS = 1.5 * maxLum - 0.5`` is kept exactly, and a Hermite spline rolls the
rest off to ``Lmax``, reaching it at ``Lw`` with a slope that never turns negative, so
highlights are compressed without clipping or banding. A source whose peak is at or below
SDR white needs no curve at all: it is converted exactly (near identity). The peak comes
from the stream's metadata (MaxCLL, else the mastering display's maximum) or is measured
on decoded frames (``peak_graph``); when neither is known, HDR10's usual 1,000-nit
mastering peak is assumed.

FFmpeg's CPU ``tonemap`` filter lacks BT.2390 (libplacebo's needs a GPU), so the curve is
``lutrgb``'s table over 16-bit PQ codes, computed by FFmpeg from an expression of numbers
made here: no file, nothing from the upload in the arguments.
"""

from __future__ import annotations

import heapq
import sys
from array import array
from pathlib import Path

SDR_WHITE = 100.0  # nits: where SDR's 100 % sits (BT.2390's Lmax; zscale's npl)
ASSUMED_PEAK = 1000.0  # nits: HDR10's common mastering peak, when nothing says otherwise
PQ_MAX = 10000.0
CODE_MAX = 65535  # the curve's table is over 16-bit PQ codes (gbrp16le)
M1, M2 = 2610 / 16384, 2523 / 4096 * 128
C1, C2, C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
PEAK_FRAMES = 6  # decoded frames spread over the source, for a source without metadata
PEAK_SIZE = (640, 360)  # each measured frame, resampled to this size
PEAK_QUANTILE = 0.9999  # of the brightest channel: a few stray coding overshoots ignored
PEAK_RAW = "peak.rgb48"  # in the analysis's work directory


def pq(nits: float) -> float:
    """SMPTE ST 2084's inverse EOTF: nits to the PQ signal in [0, 1]."""
    y = max(nits, 0.0) / PQ_MAX
    return float(((C1 + C2 * y**M1) / (1 + C3 * y**M1)) ** M2)


def pq_nits(signal: float) -> float:
    """SMPTE ST 2084's EOTF: the PQ signal to nits."""
    e = max(signal, 0.0) ** (1 / M2)
    return float(PQ_MAX * (max(e - C1, 0.0) / (C2 - C3 * e)) ** (1 / M1))


class Eetf:
    """BT.2390's EETF for a source peaking at ``peak`` nits, mapped to ``target`` nits (black
    at 0 on both sides), on PQ signals."""

    def __init__(self, peak: float, target: float = SDR_WHITE) -> None:
        self.source = pq(peak)
        self.max_lum = pq(target) / self.source
        self.knee = 1.5 * self.max_lum - 0.5  # in the source's normalised PQ range
        self.span = 1.0 - self.knee
        # The spline in T (0 at the knee, 1 at the peak) as a cubic, times the source's PQ
        # peak: out = ((c3*T + c2)*T + c1)*T + c0, in PQ.
        ks, m = self.knee, self.max_lum
        self.coefficients = tuple(
            c * self.source for c in (2 * ks + self.span - 2 * m, -3 * ks - 2 * self.span + 3 * m,
                                      self.span, ks)
        )  # fmt: skip

    def __call__(self, signal: float) -> float:
        e = signal / self.source
        if e < self.knee:
            return signal
        t = min((e - self.knee) / self.span, 1.0)
        c3, c2, c1, c0 = self.coefficients
        return ((c3 * t + c2) * t + c1) * t + c0

    def expression(self) -> str:
        """The same curve for ``lutrgb`` over 16-bit codes (``val``; not over ``maxval``,
        which lutrgb sets to 65280 at 16 bits), rounded, its commas escaped for the graph."""
        c3, c2, c1, c0 = (f"{c * CODE_MAX:.6f}" for c in self.coefficients)
        knee = f"{self.knee * self.source * CODE_MAX:.6f}"
        t = f"min((val-{knee})/{self.span * self.source * CODE_MAX:.6f}\\,1)"
        return f"if(lt(val\\,{knee})\\,val\\,((({c3}*{t}+{c2})*{t}+{c1})*{t}+{c0})+0.5)"


def pq_to_sdr(peak: float) -> str:
    """The filter chain from BT.2020 PQ to BT.709 SDR, with the EETF when the source's
    ``peak`` (nits; 0: unknown) exceeds SDR white. ``npl``: SDR white is 100 nits."""
    decode = "zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv"
    to_sdr = "t=bt709:p=bt709:m=bt709:r=tv:npl=100"
    peak = peak or ASSUMED_PEAK
    if peak <= SDR_WHITE:
        return f"{decode}:{to_sdr},format=yuv420p"
    curve = Eetf(peak).expression()
    return (
        f"{decode}:t=smpte2084:p=bt2020:r=full,format=gbrp16le,"
        f"lutrgb=r='{curve}':g='{curve}':b='{curve}',"
        f"zscale=tin=smpte2084:pin=bt2020:rin=full:{to_sdr},format=yuv420p"
    )


def peak_times(duration: float) -> list[float]:
    """Where the measured frames are taken: spread evenly, none at the very ends."""
    return [duration * (k + 0.5) / PEAK_FRAMES for k in range(PEAK_FRAMES)]


def peak_graph(inputs: int) -> str:
    """The first frame of each input (each seeked to one of ``peak_times``), measured."""
    chains = [f"[{k}:v:0]trim=end_frame=1,setpts=PTS-STARTPTS[f{k}]" for k in range(inputs)]
    joined = "".join(f"[f{k}]" for k in range(inputs))
    chains.append(f"{joined}concat=n={inputs}:v=1:a=0,{peak_filter()}[peak]")
    return ";".join(chains)


def peak_filter() -> str:
    """What each measured frame goes through: PQ-coded R'G'B', 16-bit, at a small fixed size
    (nearest-neighbour: highlights are sampled, never averaged away; the aspect is of no
    matter to a peak)."""
    return (
        f"scale={PEAK_SIZE[0]}:{PEAK_SIZE[1]}:flags=neighbor,"
        "zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv:t=smpte2084:p=bt2020:r=full,"
        "format=gbrp16le"
    )


def measured_peak(raw: Path) -> float:
    """The content's peak in nits from ``peak_filter``'s frames (planar G, B, R, 16-bit
    little-endian, back to back): a high quantile of each pixel's brightest channel
    (the brightest of R, G and B), never below SDR white; 0 if no frame was written."""
    samples = array("H")
    samples.frombytes(raw.read_bytes())
    if sys.byteorder == "big":
        samples.byteswap()
    plane = PEAK_SIZE[0] * PEAK_SIZE[1]
    brightest: list[int] = []
    for start in range(0, len(samples) - 3 * plane + 1, 3 * plane):
        g, b, r = (samples[start + k * plane : start + (k + 1) * plane] for k in range(3))
        brightest.extend(map(max, g, b, r))
    if not brightest:
        return 0.0
    skip = int(len(brightest) * (1 - PEAK_QUANTILE))
    code = heapq.nlargest(skip + 1, brightest)[-1]
    return max(SDR_WHITE, round(pq_nits(code / CODE_MAX), 1))
