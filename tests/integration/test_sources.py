"""Sources as cameras and editors make them: HDR (PQ, HLG), interlaced, audio and video of
different lengths. Each goes through the real pipeline (probe, analysis, FFmpeg, verify)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import FFMPEG, real_clip
from tests.media_checks import decode, joined
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.storage.local import LocalObjectStore
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.plan import TranscodePlan
from vodkit.services.transcode import FileTranscoding

pytestmark = pytest.mark.integration
BT709 = 1  # AVColorPrimaries / AVColorTransferCharacteristic / AVColorSpace


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True
    )


def transcode(source: Path, work: Path) -> tuple[TranscodePlan, Path]:
    plans: list[TranscodePlan] = []
    work.mkdir(parents=True, exist_ok=True)
    FileTranscoding(prober=PyavProber(), transcoder=FfmpegTranscoder(), presets=load_presets()).run(
        source, LocalObjectStore(work / "out"), work, on_plan=plans.append
    )
    return plans[-1], work / "out"


def saturation(path: Path) -> float:
    """Mean chroma distance from grey, over a few frames."""
    with av.open(str(path)) as container:
        values = [
            float(np.mean(np.hypot(a[1] - 128.0, a[2] - 128.0)))
            for i, frame in enumerate(container.decode(video=0))
            if i % 10 == 0
            for a in [frame.to_ndarray(format="yuv444p").astype(float)]
        ]
    return float(np.mean(values))


def similarity(path: Path, reference: Path, metric: str = "ssim") -> float:
    """SSIM (or VMAF) of ``path`` against ``reference`` scaled to ``path``'s size."""
    with av.open(str(path)) as container:
        size = f"{container.streams.video[0].width}:{container.streams.video[0].height}"
    log = path.with_suffix(f".{metric}.log")
    graph = (
        f"[1:v]scale={size}:flags=bicubic,format=yuv420p,setpts=PTS-STARTPTS[r];"
        f"[0:v]format=yuv420p,setpts=PTS-STARTPTS[d];"
    )
    if metric == "ssim":
        graph += f"[d][r]ssim=stats_file={log}"
    else:
        graph += f"[d][r]libvmaf=log_fmt=json:log_path={log}"
    ffmpeg("-i", str(path), "-i", str(reference), "-lavfi", graph, "-f", "null", "-")
    if metric != "ssim":
        return float(json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"])
    values = [float(line.split("All:")[1].split()[0]) for line in log.read_text().splitlines()]
    return float(np.mean(values))


def colour_tags(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        return int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace)


@pytest.fixture(scope="module")
def sdr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sdr") / "sdr.mp4"
    ffmpeg(
        "-ss", "1", "-t", "2", "-i", str(real_clip("bigbuckbunny.mp4")), "-an",
        "-vf", "scale=960:540", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", str(target),
    )  # fmt: skip
    return target


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"], ids=["hdr10-pq", "hlg"])
def test_hdr_comes_out_as_bt709_sdr_close_to_the_original(
    sdr: Path, tmp_path: Path, transfer: str
) -> None:
    """HDR made from real SDR footage as a grading tool does (SDR white at BT.2408's 203
    nits, BT.2020, 10-bit HEVC with the right tags), then tone-mapped back by vodkit."""
    hdr = tmp_path / "hdr.mp4"
    ffmpeg(
        "-i", str(sdr), "-vf",
        "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=linear:p=bt709:npl=203,format=gbrpf32le,"
        f"zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv,format=yuv420p10le",
        "-c:v", "libx265", "-preset", "ultrafast", "-crf", "12",
        "-x265-params", f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc",
        "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", str(hdr),
    )  # fmt: skip
    media = PyavProber().probe(hdr)
    assert media.video is not None and media.video.hdr == ("pq" if "2084" in transfer else "hlg")
    plan, out = transcode(hdr, tmp_path / "work")
    assert plan.tonemap
    preview = out / "mp4/preview.mp4"
    top = out / "stream" / plan.video[0].name
    rung = joined(top / "init.mp4", sorted(top.glob("seg_*.m4s")), tmp_path / "rung.mp4")
    for made in (preview, rung):
        assert colour_tags(made) == (BT709, BT709, BT709)
        assert similarity(made, sdr) >= 0.9
        assert saturation(made) >= 0.8 * saturation(sdr)  # not grey and washed out
    poster = out / "thumbs/poster.jpg"
    assert saturation(poster) >= 0.7 * saturation(sdr)


def woven(source: Path, target: Path, *, flagged: bool) -> Path:
    """1080i25 from a moving 50p pattern: fields of consecutive frames woven together."""
    flags = ["-flags", "+ildct+ilme", "-x264-params", "tff=1"] if flagged else []
    ffmpeg(
        "-i", str(source), "-vf", "tinterlace=mode=interleave_top,setfield=tff",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", *flags, str(target),
    )  # fmt: skip
    return target


@pytest.fixture(scope="module")
def progressive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("50p") / "50p.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=50:duration=2",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", str(target),
    )  # fmt: skip
    return target


@pytest.mark.parametrize("flagged", [True, False], ids=["field-order-flag", "idet"])
def test_an_interlaced_source_is_deinterlaced(
    progressive: Path, tmp_path: Path, flagged: bool
) -> None:
    source = woven(progressive, tmp_path / "1080i.mp4", flagged=flagged)
    media = PyavProber().probe(source)
    assert media.video is not None and media.video.fps == 25
    if flagged:
        assert media.video.interlaced is True
    plan, out = transcode(source, tmp_path / "work")
    assert plan.interlaced is True
    # Judged by picture, not by flag: each output frame against the progressive frame its
    # top field came from, with and without deinterlacing.
    top = out / "stream" / plan.video[0].name
    rung = joined(top / "init.mp4", sorted(top.glob("seg_*.m4s")), tmp_path / "rung.mp4")
    reference = tmp_path / "25p.mp4"
    ffmpeg("-i", str(progressive), "-vf", "select=not(mod(n\\,2)),setpts=N/25/TB", "-r", "25",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "8", str(reference))  # fmt: skip
    combed = tmp_path / "combed.mp4"
    ffmpeg("-i", str(source), "-vf", f"scale={plan.video[0].width}:{plan.video[0].height}",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", str(combed))  # fmt: skip
    deinterlaced, weave = similarity(rung, reference, "vmaf"), similarity(combed, reference, "vmaf")
    assert deinterlaced >= 80 and deinterlaced >= weave + 10, (deinterlaced, weave)


@pytest.mark.parametrize(
    ("video_seconds", "audio_seconds", "audio_start"),
    [(4, 2, 0.0), (2, 4, 0.0), (4, 3, 1.0)],
    ids=["voice-over-ends-early", "audio-runs-on", "audio-starts-late"],
)
def test_audio_and_video_of_different_lengths_complete(
    tmp_path: Path, video_seconds: float, audio_seconds: float, audio_start: float
) -> None:
    source = tmp_path / "source.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={video_seconds}",
        "-itsoffset", str(audio_start),
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={audio_seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(source),
    )  # fmt: skip
    plan, out = transcode(source, tmp_path / "work")
    stream = out / "stream"
    video = decode(
        joined(stream / plan.video[0].name / "init.mp4",
               sorted((stream / plan.video[0].name).glob("seg_*.m4s")), tmp_path / "v.mp4")
    )  # fmt: skip
    audio_dir = stream / plan.audio[0].name
    sound = decode(
        joined(audio_dir / "init.mp4", sorted(audio_dir.glob("seg_*.m4s")), tmp_path / "a.mp4")
    )
    assert video.duration == pytest.approx(video_seconds, abs=0.2)
    assert sound.duration == pytest.approx(audio_seconds, abs=0.2)
    with av.open(str(out / "mp4/preview.mp4")) as preview:
        streams = {s.type: float(s.duration * s.time_base) for s in preview.streams}
    assert streams["video"] == pytest.approx(video_seconds, abs=0.2)
    assert streams["audio"] == pytest.approx(audio_seconds, abs=0.25)
