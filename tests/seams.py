"""The seams of split-and-stitch (issue 28), made once per session for every test that judges
them (``tests/integration/test_seams.py``, ``tests/e2e/test_chunked_playback.py``).

Three minutes of real footage with audio (Big Buck Bunny looped, at 480p so that CI stays
quick), encoded twice with one plan: in one pass (``FfmpegTranscoder``), and in 30 s chunks
encoded two at a time and stitched as the cluster's stitch does (``ChunkEncoder``, the
audio piece encoded once, whole, vodkit's own master and MPD). The cluster's workers and
their exactly-once trigger are ``test_cluster_chunked.py``'s; this is about the media.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import imageio_ffmpeg
import pytest

from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.chunk import ChunkEncoder, stitch_rung
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.adapters.transcoder.pieces import ENCODE, FfmpegPieces, write_manifests
from vodkit.domain.chunks import plan_chunks
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan, VideoRendition

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SECONDS, RATE = 180, 25
CHUNK_SECONDS = 30
X264_PRESET = "ultrafast"  # the cluster tests' (VODKIT_X264_PRESET): both encodes use it


@dataclass(frozen=True)
class Seams:
    source: Path
    plan: TranscodePlan
    one_pass: Path  # the one pass's output root (stream/, ...)
    stitched: Path  # the stitched output root (stream/ with master.m3u8 and manifest.mpd)
    joins: list[int]  # every chunk's start after the first, in seconds


def looped_bunny(target: Path) -> Path:
    """Big Buck Bunny (5.28 s, with audio) looped to SECONDS at a constant RATE, at 480p."""
    from tests.conftest import real_clip  # which imports this module: not at its top

    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-stream_loop", str(SECONDS // 5), "-i", str(real_clip("bigbuckbunny.mp4")),
         "-t", str(SECONDS), "-vf", f"fps={RATE},scale=854:480,setsar=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", "-g", "125",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-ar", "48000", str(target)],
        check=True, timeout=600,
    )  # fmt: skip
    return target


def make_seams(work: Path) -> Seams:
    source = looped_bunny(work / "bunny.mp4")
    plan = plan_transcode(PyavProber().probe(source), load_presets(default_presets_path()))
    # The source's 480p rung and a 360p one (the default ladder's 720p would upscale), and
    # no preview (its video is a rung's twin in the chunks; test_chunked_encode covers it).
    (top,) = plan.video
    assert top.height == 480, plan.video
    small = VideoRendition("360p", 640, 360, 600_000, audio=top.audio, crf=top.crf)
    plan = replace(plan, video=(top, small), files=())
    FfmpegTranscoder(x264_preset=X264_PRESET).transcode(
        plan, source, work / "one", lambda progress: None
    )
    chunks = plan_chunks(plan.duration, plan.segment_seconds, CHUNK_SECONDS)
    encoder = ChunkEncoder(FFMPEG, x264_preset=X264_PRESET)
    with ThreadPoolExecutor(2) as pool:  # two workers' worth
        audio = pool.submit(FfmpegPieces(FFMPEG).audio, plan, source, work / "audio")
        chunk_dir = work / "chunks"
        written = list(
            pool.map(lambda c: encoder.encode(plan, c, source, chunk_dir / str(c.index)), chunks)
        )
        audio.result()
    out = work / "stitched"
    for rung in plan.video:
        stitch_rung([rungs[rung.name] for rungs in written], out / "stream" / rung.name)
    for j, sound in enumerate(plan.audio):
        shutil.move(work / "audio" / ENCODE.format(index=j), out / "stream" / sound.name)
    write_manifests(plan, out)
    shutil.rmtree(work / "chunks")
    return Seams(source, plan, work / "one", out, [c.start for c in chunks[1:]])


@pytest.fixture(scope="session")
def seams(tmp_path_factory: pytest.TempPathFactory) -> Seams:
    return make_seams(tmp_path_factory.mktemp("seams"))
