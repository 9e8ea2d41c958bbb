"""HDR to SDR: vodkit's tone map against the one before issue 27, on the same sources.

Sources (2 s of Big Buck Bunny at 960x540, nearly lossless, the SDR original):
  - ``pq100`` / ``pq100-meta``: graded to PQ at 100 nits (SDR white at 100 nits), HEVC 10-bit
    CRF 12, without and with x265's MaxCLL (100) and mastering display (1000 nits) SEI;
  - ``pq203``: graded as BT.2408 says (SDR white at 203 nits), PQ, no metadata;
  - ``hlg``: the same at 203 nits in HLG (tests/integration/test_sources.py's recipe);
  - ``ramp``: a grey ramp from 0 to 1000 nits, lossless HEVC, MaxCLL 1000.

Each goes through the tone-map chain alone (what ``conditioning`` puts before scaling):
"before" is the Möbius chain every HDR source had, "after" is the plan's chain today, with
the peak from the metadata or measured (the measurement's CPU is reported). Figures: SSIM
against the SDR original and its 90th-percentile luma ratio; on the ramp, the output levels
between 100 and 1000 nits, the largest step between neighbouring columns, the smallest
(negative: not monotonic), and the luminance at which the output's top level is reached.

    python bench/hdr.py
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from transcode import FFMPEG
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import conditioning
from vodkit.adapters.transcoder.tonemap import pq
from vodkit.adapters.transcoder.vmaf import FfmpegSampleEncoder
from vodkit.domain.ladder import plan_transcode

BEFORE = {
    "pq": "zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv:t=linear:p=bt2020:npl=100,"
    "format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,"
    "zscale=t=bt709:m=bt709:r=tv,format=yuv420p",
}
BEFORE["hlg"] = BEFORE["pq"].replace("smpte2084", "arib-std-b67")
MASTER = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
X265 = "log-level=error:colorprim=bt2020:transfer={t}:colormatrix=bt2020nc"
SIZE = (960, 540)
NPL100, NPL203, INERT203 = ("", ":npl=100"), ("", ":npl=203"), (":npl=203", "")
RAMP = (1024, 64)


def run(*args: str) -> str:
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-y", *args], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return done.stderr


def graded(sdr: Path, target: Path, transfer: str, white: str, extra: str = "") -> Path:
    """``white``: where the SDR original's white goes, as zscale's ``npl`` on one side or the
    other (on the first zscale it is inert: the second's default, 100 nits, applies)."""
    run(
        "-loglevel", "error", "-i", str(sdr), "-vf",
        f"zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=linear:p=bt709{white[0]},"
        f"format=gbrpf32le,zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv{white[1]},"
        "format=yuv420p10le",
        "-c:v", "libx265", "-preset", "ultrafast", "-crf", "12",
        "-x265-params", X265.format(t=transfer) + extra, "-color_primaries", "bt2020",
        "-color_trc", transfer, "-colorspace", "bt2020nc", str(target),
    )  # fmt: skip
    return target


def ramp(target: Path) -> Path:
    width, height = RAMP
    codes = np.array([round(pq(n) * 65535) for n in np.linspace(0, 1000, width)], dtype="<u2")
    raw = target.with_suffix(".gbrp16")
    raw.write_bytes(np.tile(codes, (3 * height, 1)).tobytes() * 5)
    run(
        "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gbrp16le", "-s", f"{width}x{height}",
        "-r", "5", "-i", str(raw), "-vf",
        "zscale=tin=smpte2084:pin=bt2020:rin=full:t=smpte2084:p=bt2020:m=bt2020nc:r=tv,"
        "format=yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
        X265.format(t="smpte2084") + f":lossless=1:master-display={MASTER}:max-cll=1000,400",
        "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
        str(target),
    )  # fmt: skip
    return target


def luma(path: Path, chain: str, size: tuple[int, int]) -> np.ndarray:
    """The Y plane (limited range, as coded) of every frame."""
    out = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-vf",
         f"{chain},scale={size[0]}:{size[1]},format=yuv420p", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    frame = size[0] * size[1] * 3 // 2
    planes = np.frombuffer(out, np.uint8).reshape(-1, frame)[:, : size[0] * size[1]]
    return planes.reshape(-1, size[1], size[0]).astype(float)


def against_sdr(path: Path, chain: str, sdr: Path) -> tuple[float, float]:
    graph = f"[0:v]{chain},format=yuv420p[d];[1:v]format=yuv420p[r];[d][r]ssim"
    log = run("-i", str(path), "-i", str(sdr), "-lavfi", graph, "-f", "null", "-")
    ssim = float(re.findall(r"All:([\d.]+)", log)[-1])
    ratio = np.percentile(luma(path, chain, SIZE), 90) / np.percentile(luma(sdr, "null", SIZE), 90)
    return ssim, float(ratio)


def ramp_figures(path: Path, chain: str) -> str:
    y = luma(path, chain, RAMP).mean(axis=(0, 1))
    nits = np.linspace(0, 1000, RAMP[0])
    above = nits >= 100
    steps = np.diff(y)
    top = nits[np.argmax(y >= y.max() - 0.5)]
    return (
        f"levels 100-1000 nits {len(set(np.round(y[above])))}, largest step "
        f"{steps[above[1:]].max():.1f}, smallest {steps.min():.1f}, top level from {top:.0f} nits"
    )


def after(path: Path, work: Path) -> tuple[str, str]:
    """The plan's chain, with the peak measured as the analysis measures it when needed."""
    plan = plan_transcode(PyavProber().probe(path), load_presets())
    note = f"peak {plan.tonemap_peak:g} nits from metadata"
    if plan.tonemap == "pq" and not plan.tonemap_peak:
        meter = FfmpegSampleEncoder(lambda: FFMPEG)
        meter.start()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.monotonic()
        peak = meter.measure_peak(plan, path, work / path.stem)
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = used.ru_utime + used.ru_stime - before.ru_utime - before.ru_stime
        note = f"peak {peak:g} nits measured ({cpu:.2f} s CPU, {time.monotonic() - wall:.2f} s)"
        plan = plan.__class__(**{**plan.__dict__, "tonemap_peak": peak})
    return conditioning(plan).rstrip(","), note


def main() -> None:
    from tests.conftest import real_clip

    with tempfile.TemporaryDirectory(prefix="vodkit-hdr-") as tmp:
        work = Path(tmp)
        sdr = work / "sdr.mp4"
        run(
            "-loglevel", "error", "-ss", "1", "-t", "2", "-i", str(real_clip("bigbuckbunny.mp4")),
            "-an", "-vf", f"scale={SIZE[0]}:{SIZE[1]}", "-c:v", "libx264", "-preset", "ultrafast",
            "-crf", "10", str(sdr),
        )  # fmt: skip
        meta = f":master-display={MASTER}:max-cll=100,60"
        sources = {
            "pq100": (graded(sdr, work / "pq100.mp4", "smpte2084", NPL100), "pq"),
            "pq100-meta": (graded(sdr, work / "pq100m.mp4", "smpte2084", NPL100, meta), "pq"),
            "pq203": (graded(sdr, work / "pq203.mp4", "smpte2084", NPL203), "pq"),
            # test_sources.py's recipe (its npl=203 is inert: white at 100 nits)
            "pq-test": (graded(sdr, work / "pqt.mp4", "smpte2084", INERT203), "pq"),
            "hlg-test": (graded(sdr, work / "hlg.mp4", "arib-std-b67", INERT203), "hlg"),
        }
        for name, (path, kind) in sources.items():
            chain, note = after(path, work)
            old = against_sdr(path, BEFORE[kind], sdr)
            new = against_sdr(path, chain, sdr)
            print(
                f"{name:11} before: SSIM {old[0]:.4f}, p90 luma {old[1]:.3f}; "
                f"after: SSIM {new[0]:.4f}, p90 luma {new[1]:.3f} ({note})"
            )
        path = ramp(work / "ramp.mp4")
        chain, note = after(path, work)
        print(f"ramp before: {ramp_figures(path, BEFORE['pq'])}")
        print(f"ramp after:  {ramp_figures(path, chain)} ({note})")


if __name__ == "__main__":
    main()
