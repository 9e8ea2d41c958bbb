"""The per-title analysis's CPU alone, each FFmpeg run timed (issue 27 item 5).

    python bench/analysis_cost.py SECONDS [--transcode] [--slides]

On ``transcode.real_footage(SECONDS)`` (Big Buck Bunny looped, scaled to 1080p; with
``--slides``, ``quality.slide_show(SECONDS)``: a top rung that reaches its target), with
``quality.presets()``: the analysis's CPU (``getrusage`` of the children), what each of its
FFmpeg runs cost, the verdicts, and with ``--transcode`` the transcode's CPU and the share.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from quality import presets, slide_show
from transcode import X264_PRESET, real_footage
from vodkit.adapters import sandbox
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import plan_transcode
from vodkit.services.analysis import SourceAnalysis, encoder_of


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(run: Any) -> Any:
    def wrapped(args: list[str], *rest: Any, **options: Any) -> Any:
        before = cpu()
        finished = run(args, *rest, **options)
        named = [a for a in args if a.endswith(".mp4") or "libvmaf" in a or "fieldmatch" in a]
        print(f"  run {cpu() - before:6.2f} s  {' '.join(named)[:100]}", flush=True)
        return finished

    return wrapped


def main() -> None:
    seconds = int(sys.argv[1])
    source = slide_show(seconds) if "--slides" in sys.argv else real_footage(seconds)
    sandbox.run = timed(sandbox.run)  # type: ignore[assignment]
    transcoder = FfmpegTranscoder(x264_preset=X264_PRESET)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        plan = plan_transcode(PyavProber().probe(source), presets())
        start, wall = cpu(), time.monotonic()
        plan = SourceAnalysis(encoder_of(transcoder)).prepare(plan, source, work)
        analysed = cpu()
        print(f"analysis CPU {analysed - start:.2f} s (wall {time.monotonic() - wall:.1f} s)")
        for rung in plan.video:
            print(f"  {rung.name}: {rung.verdict}")
        if "--transcode" in sys.argv:
            transcoder.transcode(plan, source, work, lambda progress: None)
            spent = cpu() - analysed
            print(f"transcode CPU {spent:.2f} s; share {100 * (analysed - start) / spent:.1f} %")


if __name__ == "__main__":
    main()
