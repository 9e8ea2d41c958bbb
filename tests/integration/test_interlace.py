"""The interlace corpus through the real decision (probe, plan, fieldmatch, verdict): no
progressive source is deinterlaced, every woven one is, with and without field flags.
bench/README.md ("Interlace") records the margins the detector keeps on it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import FFMPEG, real_clip
from tests.integration.test_sources import similarity, transcode
from tests.media_checks import joined
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan
from vodkit.services.analysis import SourceAnalysis, encoder_of

pytestmark = pytest.mark.integration
ENCODE = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "14", "-pix_fmt", "yuv420p", "-an"]
WEAVE = "tinterlace=mode=interleave_top,setfield=tff"
FLAGS = ["-flags", "+ildct+ilme", "-x264-params", "tff=1"]
TEXT = (
    "drawtext=text='vodkit 0123456789 fine moving text':fontsize=28:fontcolor=white:"
    "x=w-mod(t*400\\,w+tw):y=h/2"
)
PROGRESSIVE = {  # name: FFmpeg input arguments (2 s or less)
    "testsrc2-720p30": ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=2"],
    "testsrc2-720p60": ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=60:duration=1"],
    "testsrc2-1080p25": ["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=2"],
    "mandelbrot-1080p25": ["-f", "lavfi", "-i", "mandelbrot=size=1920x1080:rate=25", "-t", "2"],
    "life-720p60": [
        "-f", "lavfi", "-i", "life=size=1280x720:rate=60:mold=10:ratio=0.1:life_color=#00ff00",
        "-t", "1",
    ],
    "bars-scrolling-text-720p60": [
        "-f", "lavfi", "-i", "smptehdbars=size=1280x720:rate=60", "-t", "1", "-vf", TEXT,
    ],
    "bigbuckbunny": ["-ss", "1", "-t", "2", "-i", "{bbb}"],
    "bikes": ["-ss", "4", "-t", "2", "-i", "{bikes}"],
}  # fmt: skip
WOVEN = {  # name: (a 50/60p or real source, a filter before the weave, field flags)
    "testsrc2-1080i25-flagged": (["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=50:duration=1"], "", True),
    "testsrc2-1080i25": (["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=50:duration=1"], "", False),
    "testsrc2-720i30": (["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=60:duration=2"], "", False),
    "bikes-woven": (["-ss", "3", "-t", "4", "-i", "{bikes}"], "", False),
    "bars-scrolling-text-woven": (["-f", "lavfi", "-i", "smptehdbars=size=1280x720:rate=60", "-t", "2"], TEXT + ",", False),
}  # fmt: skip


def make(target: Path, inputs: list[str], *extra: str) -> Path:
    clips = {"bbb": real_clip("bigbuckbunny.mp4"), "bikes": real_clip("bikes.mp4")}
    args = [a.format(**clips) for a in inputs]
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args, *ENCODE]
    subprocess.run([*cmd, *extra, str(target)], check=True)
    return target


def decided(source: Path, work: Path) -> TranscodePlan:
    media = PyavProber().probe(source)
    plan = plan_transcode(media, load_presets())
    analysis = SourceAnalysis(encoder_of(FfmpegTranscoder()))
    return analysis.prepare(plan, source, work)


@pytest.mark.parametrize("name", PROGRESSIVE)
def test_no_progressive_source_is_deinterlaced(name: str, tmp_path: Path) -> None:
    plan = decided(make(tmp_path / f"{name}.mp4", PROGRESSIVE[name]), tmp_path / "work")
    assert plan.interlaced is False, plan.interlace
    assert plan.interlace.startswith("progressive: declared progressive and the pictures show")


@pytest.mark.parametrize("name", WOVEN)
def test_every_woven_source_is_deinterlaced(name: str, tmp_path: Path) -> None:
    inputs, before, flagged = WOVEN[name]
    flags = FLAGS if flagged else []
    source = make(tmp_path / f"{name}.mp4", inputs, "-vf", before + WEAVE, *flags)
    plan = decided(source, tmp_path / "work")
    assert plan.interlaced is True, plan.interlace
    expected = "the stream declares its fields (tt)" if flagged else "the pictures are woven"
    assert expected in plan.interlace


def test_progressive_testsrc2_keeps_its_quality_through_the_pipeline(tmp_path: Path) -> None:
    """make demo's sample: idet called it woven, and bwdif took VMAF from 97.2 to 85.6."""
    source = make(tmp_path / "720p30.mp4", PROGRESSIVE["testsrc2-720p30"])
    plan, out = transcode(source, tmp_path / "work")
    assert plan.interlaced is False, plan.interlace
    assert all(row["interlace"] == plan.interlace for row in plan.summary())
    top = out / "stream" / plan.video[0].name
    rung = joined(top / "init.mp4", sorted(top.glob("seg_*.m4s")), tmp_path / "rung.mp4")
    assert (plan.video[0].width, plan.video[0].height) == (1280, 720)
    assert similarity(rung, source, "vmaf") >= 93
