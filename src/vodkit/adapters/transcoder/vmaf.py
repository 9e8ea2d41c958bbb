"""Sample encodes scored with libvmaf: what the per-title analysis measures.

Samples spread over the source are decoded once, conditioned exactly as the real encode
conditions them (deinterlacing, tone-mapping, the rate) and scaled to the top rung's
display size: that is the reference, kept as raw frames in the work directory. Each
probe encodes the samples for one rung at one CRF with the real encode's x264 settings
(preset, profile, keyframes every ``gop_seconds``, the rung's cap as ``-maxrate`` with a
two-second buffer), all probes of a round in one FFmpeg process; each is then scaled back
to the top rung's size and scored against the reference (``vmaf_v0.6.1``), as Netflix
scores a ladder. Samples are whole keyframe intervals long, so every sample starts on a
keyframe as it would in the real encode.

Every FFmpeg run is sandboxed like the transcode (local file only, forced demuxer,
timeout, memory limit); the analysis as a whole has its own wall-clock deadline. Anything
that goes wrong raises ``AnalysisFailed``, and the encode falls back to constant bitrate.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ...domain.interlace import Combing
from ...domain.per_title import AnalysisFailed, Probe
from ...domain.plan import TranscodePlan
from .. import sandbox
from .ffmpeg import conditioning, h264_arguments, rate_control
from .tonemap import PEAK_RAW, measured_peak, peak_graph, peak_times

VMAF_MODEL = "version=vmaf_v0.6.1"
VMAF_SUBSAMPLE = 6  # score every sixth frame (25 over three 2 s samples at 25 fps)
COMBING_FRAMES = 40  # from the middle of the video; medians over them
# order=tff fixes what p/n/u/b mean; cthresh=20 ignores the low-contrast detail progressive
# patterns carry; 32x32 blocks do not fill up (saturate) on woven motion as 16x16 ones do.
COMBING = "fieldmatch=order=tff:combmatch=none:combdbg=pcnub:cthresh=20:blockx=32:blocky=32"
COMBS = re.compile(r"COMBS:\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)")
REFERENCE = "reference.y4m"
NO_FILTER = re.compile(r"No such filter|Filter not found|not found", re.IGNORECASE)


class FfmpegSampleEncoder:
    def __init__(
        self,
        ffmpeg: Callable[[], str],
        *,
        x264_preset: str = "veryfast",
        timeout: float = 300.0,
        memory_bytes: int = 6 * 1024**3,
    ) -> None:
        self._ffmpeg = ffmpeg
        self.x264_preset = x264_preset
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self._deadline: float | None = None
        self._check: Callable[[], object] = lambda: None

    @property
    def ffmpeg(self) -> str:
        return self._ffmpeg()

    def start(self, check: Callable[[], object] = lambda: None) -> None:
        """Start the analysis's clock: every run after this shares one deadline. ``check`` is
        called before each run and on each of FFmpeg's progress reports (every half second),
        so that a worker stopping, or an asset deleted, does not wait for the analysis."""
        self._deadline = time.monotonic() + self.timeout
        self._check = check

    def _run(self, args: list[str], cwd: Path, what: str) -> sandbox.Finished:
        left = (self._deadline or time.monotonic() + self.timeout) - time.monotonic()
        if left <= 0:
            raise AnalysisFailed(f"the time limit ({self.timeout:g} s) was hit before {what}")
        self._check()
        reporting = [args[0], "-progress", "pipe:1", "-stats_period", "0.5", *args[1:]]
        finished = sandbox.run(
            reporting,
            sandbox.Limits(timeout=left, memory_bytes=self.memory_bytes),
            cwd=cwd,
            on_line=self._reported,
        )
        if finished.timed_out:
            raise AnalysisFailed(f"the time limit ({self.timeout:g} s) was hit while {what}")
        if not finished.ok:
            lines = [line.strip() for line in finished.stderr.splitlines() if line.strip()]
            detail = lines[-1][:200] if lines else f"exit code {finished.returncode}"
            if "libvmaf" in finished.stderr and NO_FILTER.search(finished.stderr):
                raise AnalysisFailed(f"libvmaf is unavailable in this FFmpeg ({detail})")
            raise AnalysisFailed(f"FFmpeg failed while {what}: {detail}")
        return finished

    def _reported(self, _line: str) -> None:
        self._check()  # raising kills FFmpeg

    def _input(self, plan: TranscodePlan, source: Path, workdir: Path) -> list[str]:
        """The source through a neutral link in the work directory, as the transcode reads it."""
        linked = workdir / "input"
        if not linked.exists():
            sandbox.neutral_link(source, workdir, "input")
        return ["-protocol_whitelist", "file", "-f", plan.demuxer, "-i", f"file:{linked}"]

    def combing(self, plan: TranscodePlan, source: Path, workdir: Path) -> Combing:
        """``fieldmatch``'s combed-pixel counts over frames from the middle of the video (past
        any intro or slate): the frame as it is (c) and re-woven with its neighbours' fields
        (p, n, u, b), medians over the frames (``domain.interlace`` judges them)."""
        workdir = _ready(workdir)
        args = [
            self.ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            "-ss", f"{max(0.0, plan.duration / 2 - 1):.3f}", "-noaccurate_seek",
            *self._input(plan, source, workdir),
            "-map", "0:v:0", "-vf", f"format=yuv420p,{COMBING}", "-frames:v", str(COMBING_FRAMES),
            "-an", "-f", "null", "-",
        ]  # fmt: skip
        finished = self._run(args, workdir, "measuring combing")
        return combing_of(finished.stderr)

    def _samples(
        self, plan: TranscodePlan, source: Path, workdir: Path, windows: Sequence[tuple[float, int]]
    ) -> tuple[list[str], str]:
        """Inputs and a filter chain ending in ``[ref]``: the samples, conditioned and scaled
        to the top rung's size, back to back."""
        top = plan.video[0]
        frames = max(1, round(windows[0][1] * plan.fps))
        args: list[str] = []
        chains = []
        for k, (start, length) in enumerate(windows):
            # From the keyframe at or before the window: nothing decoded to be thrown away.
            args += ["-ss", f"{start:.3f}", "-noaccurate_seek", "-t", f"{length + 0.2:g}"]
            args += self._input(plan, source, workdir)
            chains.append(
                f"[{k}:v:0]{conditioning(plan)}scale={top.width}:{top.height}:flags=bicubic,"
                f"format=yuv420p,trim=end_frame={frames},setpts=PTS-STARTPTS[c{k}]"
            )
        joined = "".join(f"[c{k}]" for k in range(len(windows)))
        chains.append(f"{joined}concat=n={len(windows)}:v=1:a=0,setdar={plan.dar}[ref]")
        return args, ";".join(chains)

    def probe(
        self,
        plan: TranscodePlan,
        source: Path,
        workdir: Path,
        windows: Sequence[tuple[float, int]],
        probes: Sequence[tuple[int, int | None]],
    ) -> list[Probe]:
        """Encode the samples for each (rung index, CRF; None: constant bitrate at the cap)
        and score each: one Probe each."""
        if not probes:
            return []
        workdir = _ready(workdir)
        reference = workdir / REFERENCE
        top = plan.video[0]
        names = [f"probe_{i}_{crf or 'cap'}.mp4" for i, crf in probes]

        # Every probe of a round in one process. The first round decodes the samples and
        # keeps them (the reference, raw) while it encodes; later rounds read them back.
        first = not reference.is_file()
        if first:
            inputs, chain = self._samples(plan, source, workdir, windows)
            chains = [chain, "[ref]split=" + str(len(probes) + 1) + "[keep]"]
        else:
            inputs = ["-protocol_whitelist", "file", "-f", "yuv4mpegpipe"]
            inputs += ["-i", f"file:{reference.name}"]
            chains = [f"[0:v]split={len(probes)}"]
        chains[-1] += "".join(f"[s{k}]" for k in range(len(probes)))
        for k, (index, _) in enumerate(probes):
            rung = plan.video[index]
            same = (rung.width, rung.height) == (top.width, top.height)
            resize = "" if same else f"scale={rung.width}:{rung.height},"
            chains.append(f"[s{k}]{resize}setdar={plan.dar}[e{k}]")
        encode = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *inputs]
        encode += ["-filter_complex", ";".join(chains)]
        if first:
            encode += ["-map", "[keep]", "-f", "yuv4mpegpipe", "-strict", "-1", REFERENCE]
        for k, (index, crf) in enumerate(probes):
            rung = plan.video[index]
            encode += ["-map", f"[e{k}]", *h264_arguments(plan, self.x264_preset)]
            encode += [*rate_control(replace(rung, crf=crf)), "-an", "-f", "mp4", names[k]]
        self._run(encode, workdir, "encoding the samples")
        if not reference.is_file() or reference.stat().st_size == 0:
            raise AnalysisFailed("the samples could not be decoded")

        # Each probe back at the top rung's size, scored against the reference.
        scored: list[str] = []
        for name in names:
            scored += ["-protocol_whitelist", "file", "-f", "mov", "-i", f"file:{name}"]
        scored += ["-protocol_whitelist", "file", "-f", "yuv4mpegpipe"]
        scored += ["-i", f"file:{reference.name}"]
        ref = len(names)
        graph = [f"[{ref}:v]split={len(names)}" + "".join(f"[r{k}]" for k in range(len(names)))]
        outputs: list[str] = []
        for k in range(len(names)):
            graph.append(
                f"[{k}:v]scale={top.width}:{top.height}:flags=bicubic,format=yuv420p,"
                f"setpts=PTS-STARTPTS[d{k}];[r{k}]setpts=PTS-STARTPTS[q{k}];"
                f"[d{k}][q{k}]libvmaf=model={VMAF_MODEL}:n_subsample={VMAF_SUBSAMPLE}:"
                f"n_threads=1:log_fmt=json:log_path=vmaf_{k}.json[o{k}]"
            )
            outputs += ["-map", f"[o{k}]", "-f", "null", "-"]
        score = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *scored]
        score += ["-filter_complex", ";".join(graph), *outputs]
        self._run(score, workdir, "scoring the samples with libvmaf")

        results = []
        for k, (_, crf) in enumerate(probes):
            vmaf = _pooled_vmaf(workdir / f"vmaf_{k}.json")
            results.append(Probe(crf=crf, bitrate=_video_bitrate(workdir / names[k]), vmaf=vmaf))
        return results

    def measure_peak(self, plan: TranscodePlan, source: Path, workdir: Path) -> float:
        """A PQ source's peak in nits, on a few frames spread over it (``tonemap``)."""
        workdir = _ready(workdir)
        args = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        times = peak_times(plan.duration)
        for start in times:
            args += ["-ss", f"{start:.3f}", "-noaccurate_seek", *self._input(plan, source, workdir)]
        args += ["-filter_complex", peak_graph(len(times)), "-map", "[peak]"]
        args += ["-f", "rawvideo", PEAK_RAW]
        self._run(args, workdir, "measuring the HDR peak")
        return measured_peak(workdir / PEAK_RAW)


def combing_of(log: str) -> Combing:
    """The medians of fieldmatch's ``COMBS: p c n u b`` lines."""
    rows = [[int(n) for n in m] for m in COMBS.findall(log)]
    if not rows:
        raise AnalysisFailed("fieldmatch reported no combing")
    p, c, n, u, b = (statistics.median(row[i] for row in rows) for i in range(5))
    return Combing(frame=c, reweaves=(p, n, u, b))


def _ready(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir.resolve()  # FFmpeg runs inside it: every path must be absolute


def _pooled_vmaf(path: Path) -> float:
    try:
        data = json.loads(path.read_text())
        return round(float(data["pooled_metrics"]["vmaf"]["mean"]), 3)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnalysisFailed(f"libvmaf wrote no score ({type(exc).__name__})") from exc


def _video_bitrate(path: Path) -> int:
    """Bits per second of the video packets alone (no container overhead)."""
    import av  # our own sample encode, never an upload

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            total, first, last = 0, None, None
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None:
                    total += packet.size
                    first = packet.pts if first is None else min(first, packet.pts)
                    last = packet.pts if last is None else max(last, packet.pts)
            frames = stream.frames or 0
            rate = float(stream.average_rate or 0)
    except (av.error.FFmpegError, IndexError) as exc:
        raise AnalysisFailed("a sample encode is unreadable") from exc
    seconds = frames / rate if frames and rate else 0.0
    if seconds <= 0:
        raise AnalysisFailed("a sample encode has no frames")
    return round(total * 8 / seconds)
