"""The per-title ladder on real FFmpeg: sample encodes scored by libvmaf, then the encode.

Small clips (a few seconds, 720p at most), so each run costs seconds. Quality is judged
independently: each rung decoded back and scored against the source with libvmaf here.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FFMPEG, make_clip, real_clip
from tests.media_checks import joined
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.storage.local import LocalObjectStore
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan
from vodkit.services.analysis import WORKDIR, SourceAnalysis, encoder_of
from vodkit.services.transcode import FileTranscoding

pytestmark = pytest.mark.integration


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True
    )


@dataclass(frozen=True)
class Run:
    plans: list[TranscodePlan]  # as planned, then as made (chosen and measured)
    out: Path

    @property
    def made(self) -> TranscodePlan:
        return self.plans[-1]

    def rows(self) -> dict[str, dict[str, object]]:
        return {r["name"]: r for r in self.made.summary()}


def per_title(source: Path, work: Path, transcoder: FfmpegTranscoder | None = None) -> Run:
    plans: list[TranscodePlan] = []
    out = work / "out"
    work.mkdir(parents=True, exist_ok=True)
    FileTranscoding(
        prober=PyavProber(), transcoder=transcoder or FfmpegTranscoder(), presets=load_presets()
    ).run(source, LocalObjectStore(out), work, on_plan=plans.append)
    return Run(plans, out)


def rung_vmaf(run: Run, name: str, source: Path, work: Path) -> float:
    """The rung's VMAF against the source, both at the top rung's size (vodkit not involved)."""
    top = run.made.video[0]
    directory = run.out / "stream" / name
    rung = joined(directory / "init.mp4", sorted(directory.glob("seg_*.m4s")), work / f"{name}.mp4")
    log = work / f"{name}.json"
    fps = run.made.fps
    ffmpeg(
        "-i", str(rung), "-i", str(source), "-lavfi",
        f"[0:v]scale={top.width}:{top.height}:flags=bicubic,format=yuv420p,setpts=PTS-STARTPTS[d];"
        f"[1:v]fps={fps:g},scale={top.width}:{top.height}:flags=bicubic,format=yuv420p,"
        f"setpts=PTS-STARTPTS[r];[d][r]libvmaf=log_fmt=json:log_path={log}",
        "-f", "null", "-",
    )  # fmt: skip
    return float(json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"])


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("per-title")


def test_a_static_clip_gets_far_fewer_bits_than_the_cap(work: Path) -> None:
    still = work / "still.png"
    ffmpeg(
        "-i",
        str(real_clip("bigbuckbunny.mp4")),
        "-vf",
        "select=eq(n\\,60)",
        "-frames:v",
        "1",
        str(still),
    )
    source = work / "static.mp4"
    ffmpeg(
        "-loop", "1", "-framerate", "25", "-i", str(still), "-t", "4", "-vf", "format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-g", "1", str(source),
    )  # fmt: skip
    run = per_title(source, work / "static")
    top = run.rows()["720p"]
    assert top["rateControl"] == "QVBR" and isinstance(top["crf"], int)
    assert "predicted VMAF" in str(top["analysis"])
    assert isinstance(top["averageBitrate"], int) and top["averageBitrate"] < 0.4 * 2_000_000
    assert isinstance(top["peakBitrate"], int) and top["peakBitrate"] >= top["averageBitrate"]
    master = (run.out / "stream/master.m3u8").read_text()
    assert "BANDWIDTH=" in master and "AVERAGE-BANDWIDTH=" in master


def test_a_high_motion_noise_clip_stays_at_the_cap(work: Path) -> None:
    source = work / "noise.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4", "-vf", "noise=alls=60:allf=t+u",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "8", "-g", "25", str(source),
    )  # fmt: skip
    run = per_title(source, work / "noise")
    (rung,) = run.made.video
    assert rung.average_bitrate is not None and rung.crf is None  # held: the cap, constant
    assert rung.average_bitrate >= 0.85 * rung.bitrate  # the cap is spent
    assert "cap" in rung.verdict


def test_the_measured_vmaf_is_within_two_points_of_the_prediction_on_real_footage(
    work: Path,
) -> None:
    source = real_clip("bigbuckbunny.mp4")
    run = per_title(source, work / "bbb")
    assert run.made.rate_control == "QVBR" and "per-title" in run.made.analysis
    for rung in run.made.video:
        assert rung.predicted_vmaf is not None
        measured = rung_vmaf(run, rung.name, source, work)
        assert abs(measured - rung.predicted_vmaf) <= 2.0, (rung.name, measured, rung.verdict)


def test_a_rung_that_adds_nothing_is_dropped(work: Path) -> None:
    """A flat picture: the 480p rung costs what the 720p one does, and looks no better."""
    source = work / "flat.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=0x3366aa:size=1280x720:rate=25:duration=4",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-g", "1", str(source),
    )  # fmt: skip
    run = per_title(source, work / "flat")
    assert [v.name for v in run.made.video] == ["720p"]
    assert [v.name for v in run.made.dropped] == ["480p"]
    assert run.rows()["480p"]["dropped"] is True
    assert not (run.out / "stream/480p").exists()
    assert "480p" not in (run.out / "stream/master.m3u8").read_text()
    assert "480p" not in (run.out / "stream/manifest.mpd").read_text()


def test_without_libvmaf_the_encode_falls_back_to_constant_bitrate(
    work: Path, tmp_path: Path
) -> None:
    """An FFmpeg build without libvmaf, simulated: it refuses the filter as such a build does."""
    wrapper = tmp_path / "ffmpeg-without-vmaf"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$*" in *libvmaf*) echo "[AVFilterGraph] No such filter: \'libvmaf\'" >&2; exit 8;; esac\n'
        f'exec "{FFMPEG}" "$@"\n'
    )
    os.chmod(wrapper, 0o755)
    source = work / "fallback.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=3",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", str(source),
    )  # fmt: skip
    run = per_title(source, work / "fallback", FfmpegTranscoder(str(wrapper)))
    assert run.made.rate_control == "CBR"
    (rung,) = run.made.video
    assert rung.crf is None and "libvmaf is unavailable" in rung.verdict
    assert rung.average_bitrate is not None and rung.average_bitrate > 0.8 * rung.bitrate
    assert (run.out / "stream/master.m3u8").is_file()


class Stop(Exception):
    pass


def test_the_analysis_stops_while_ffmpeg_encodes_the_samples(work: Path) -> None:
    """A worker stopping (or an asset deleted) does not wait for the analysis: its check
    runs on FFmpeg's progress reports, and raising kills the FFmpeg in hand."""
    source = make_clip(work / "stop.mp4", size="1280x720", seconds=8.0, audio=None)
    plan = plan_transcode(PyavProber().probe(source), load_presets())
    assert plan.per_title is not None
    workdir = work / "stop-job"
    workdir.mkdir()
    analysis = workdir / WORKDIR
    seen: list[int] = []

    def check() -> None:
        seen.append(len(running_in(analysis)))
        if seen[-1]:  # called while an FFmpeg of the analysis runs: stop it
            raise Stop

    with pytest.raises(Stop):
        SourceAnalysis(encoder_of(FfmpegTranscoder())).prepare(plan, source, workdir, check)
    assert seen[0] == 0  # the first call is before any run
    assert running_in(analysis) == [] and not analysis.exists()


def running_in(directory: Path) -> list[Path]:
    """The processes whose working directory is under ``directory``."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(process / "cwd").startswith(str(directory)):
                found.append(process)
        except OSError:  # gone, or not ours to read
            pass
    return found
