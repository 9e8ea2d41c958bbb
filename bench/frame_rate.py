"""A variable-frame-rate source, two ways: a constant rate at its fastest part, or passthrough.

The source is ``testsrc2`` at 24 fps then at 60 fps (every frame distinct, a phone's 1/600 s
time base). Each way is one x264 encode with vodkit's rung settings (``veryfast``, a keyframe
forced every 2 s, no scene-cut keyframes, capped CRF 23 under a cap with a 2 s buffer), on
one thread so CPU times compare:

  - ``cfr``: ``fps=60`` (vodkit's choice: the standard rate at the fastest part);
  - ``vfr``: ``-fps_mode passthrough`` (each frame at its own timestamp, none repeated).

It reports CPU time, frames encoded, bytes, and the distinct frames FFmpeg's ``mpdecimate``
finds in each part of the output (the source's count is the most there can be).

    python bench/frame_rate.py             # 640x360 2+2 s, 1280x720 5+5 s, with and without a cap
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
WAYS = {"cfr": ["-vf", "fps=60"], "vfr": ["-fps_mode", "passthrough"]}
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-g", "120",
        "-keyint_min", "120", "-force_key_frames", "expr:gte(t,n_forced*2)",
        "-sc_threshold", "0", "-crf", "23"]  # fmt: skip


def source(path: Path, size: str, seconds: float) -> Path:
    inputs = [
        arg
        for rate in (24, 60)
        for arg in ("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}")
    ]
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *inputs,
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]",
         "-fps_mode", "passthrough", "-video_track_timescale", "600",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(path)],
        check=True,
    )  # fmt: skip
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def distinct(path: Path, boundary: float) -> tuple[int, int]:
    shown = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path), "-vf", "mpdecimate,showinfo", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    times = [float(line.split("pts_time:")[1].split()[0]) for line in shown.splitlines()
             if "pts_time:" in line]  # fmt: skip
    return sum(t < boundary - 0.001 for t in times), sum(t >= boundary - 0.001 for t in times)


def frames(path: Path) -> int:
    counted = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return int(counted.rsplit("frame=", 1)[1].split()[0])


def main() -> None:
    print("| source | cap | way | cpu | frames | bytes | distinct at 24 fps | distinct at 60 fps |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size, seconds, cap in (("640x360", 2.0, 3_000_000), ("1280x720", 5.0, 3_000_000),
                                   ("1280x720", 5.0, None)):  # fmt: skip
            clip = source(Path(tmp) / f"{size}-{seconds:g}.mp4", size, seconds)
            capped = ["-maxrate", str(cap), "-bufsize", str(2 * cap)] if cap else []
            for way, arguments in WAYS.items():
                out = Path(tmp) / f"{way}.mp4"
                before = children_cpu()
                subprocess.run(
                    [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-threads", "1",
                     "-i", str(clip), *arguments, *X264, *capped, str(out)],
                    check=True,
                )  # fmt: skip
                cpu = children_cpu() - before
                slow, fast = distinct(out, seconds)
                limit = f"{cap / 1e6:g} Mb/s" if cap else "none"
                print(
                    f"| {size} {seconds:g}+{seconds:g} s | {limit}"
                    f" | {way} | {cpu:.2f} s | {frames(out)} | {out.stat().st_size:,} "
                    f"| {slow} of {round(24 * seconds)} | {fast} of {round(60 * seconds)} |"
                )


if __name__ == "__main__":
    main()
