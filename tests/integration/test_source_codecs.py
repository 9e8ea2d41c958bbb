"""A source in a codec more efficient than H.264 is not starved by the rule that no rung
spends more bits than the source carries: its bits are weighed (``ladder.CODEC_WEIGHTS``).

A low-bitrate HEVC clip (real footage, 640x360, 4 s) is transcoded twice through the real
transcoder: with its bits weighed, and as if they were H.264's (today's budget). Both top
rungs are scored by libvmaf against the original the HEVC clip was made from.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import FFMPEG, real_clip
from tests.media_checks import joined
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import CODEC_WEIGHTS, plan_transcode
from vodkit.domain.plan import TranscodePlan

pytestmark = pytest.mark.integration
PRESETS = load_presets(default_presets_path())


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True
    )


def top_rung_vmaf(plan: TranscodePlan, source: Path, original: Path, work: Path) -> float:
    out = work / "out"
    FfmpegTranscoder().transcode(plan, source, out, lambda p: None)
    top = plan.video[0]
    directory = out / "stream" / top.name
    rung = joined(directory / "init.mp4", sorted(directory.glob("seg_*.m4s")), work / "top.mp4")
    log = work / "vmaf.json"
    ffmpeg(
        "-i", str(rung), "-i", str(original), "-lavfi",
        "[0:v]setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];"
        f"[d][r]libvmaf=log_fmt=json:log_path={log}",
        "-f", "null", "-",
    )  # fmt: skip
    return float(json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"])


def test_a_low_bitrate_hevc_source_gets_the_weighed_budget_and_it_shows(
    tmp_path: Path,
) -> None:
    original = tmp_path / "original.mkv"
    ffmpeg("-i", str(real_clip("bigbuckbunny.mp4")), "-t", "4", "-vf", "scale=640:360", "-an",
           "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(original))  # fmt: skip
    source = tmp_path / "hevc.mp4"
    ffmpeg("-i", str(original), "-c:v", "libx265", "-preset", "fast", "-b:v", "160k",
           "-x265-params", "log-level=error", "-tag:v", "hvc1", str(source))  # fmt: skip
    media = PyavProber().probe(source)
    assert media.video is not None and media.video.codec == "hevc"
    bits = media.video.bitrate
    assert bits is not None and bits < 200_000

    weighed = plan_transcode(media, PRESETS)
    as_h264 = plan_transcode(replace(media, video=replace(media.video, codec="h264")), PRESETS)
    assert weighed.video[0].bitrate == round(bits * CODEC_WEIGHTS["hevc"])
    assert as_h264.video[0].bitrate == bits

    (tmp_path / "w").mkdir()
    (tmp_path / "u").mkdir()
    vmaf_weighed = top_rung_vmaf(weighed, source, original, tmp_path / "w")
    vmaf_as_h264 = top_rung_vmaf(as_h264, source, original, tmp_path / "u")
    print(f"HEVC {bits // 1000} kb/s: top rung VMAF {vmaf_weighed:.2f} weighed "
          f"({weighed.video[0].bitrate // 1000} kb/s), {vmaf_as_h264:.2f} as H.264's")  # fmt: skip
    assert vmaf_weighed >= vmaf_as_h264 + 5.0  # measured: +8.9 (62.07 against 53.19)
