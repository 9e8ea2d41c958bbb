"""A phone's variable frame rate, through real FFmpeg: every source frame kept, on time.

The source is 2 s of ``testsrc2`` at 24 fps then 2 s at 60 fps (every frame distinct), with a
phone's 1/600 s time base. Distinct frames in the top rung are counted with FFmpeg's
``mpdecimate``, and each source frame is found again by its picture: the first output frame
showing it must be presented within half a source frame of the source's time.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import FFMPEG
from tests.media_checks import dash_tracks, decode, hls_tracks, joined
from vodkit.adapters.presets.file import default_presets_path
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan
from vodkit.domain.presets import parse_presets

pytestmark = pytest.mark.integration
PARTS = ((24, 2.0), (60, 2.0))  # (fps, seconds)
SIZE = (640, 360)
THUMB = (64, 36)  # pictures are matched at this size


def small_presets() -> object:
    """The default presets with two small rungs (640x360, 320x180) and a small preview."""
    document = json.loads(default_presets_path().read_text())
    presets = document["presets"]
    for group in ("hls", "dash"):
        sizes = iter([(640, 360), (320, 180)])
        for output in presets[group]["outputs"]:
            output["videoSettings"]["width"], output["videoSettings"]["height"] = next(sizes)
    for output in presets["mp4"]["outputs"]:
        output["videoSettings"]["width"], output["videoSettings"]["height"] = 320, 180
    return parse_presets(document)


def make_vfr_clip(path: Path) -> Path:
    inputs = [
        arg
        for rate, seconds in PARTS
        for arg in (
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={SIZE[0]}x{SIZE[1]}:rate={rate}:duration={seconds}",
        )
    ]
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *inputs,
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]",
         "-fps_mode", "passthrough", "-video_track_timescale", "600",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def pictures(path: Path) -> list[tuple[float, np.ndarray]]:
    """(presentation time, small grey picture) of every frame, in presentation order."""
    found = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            grey = frame.reformat(width=THUMB[0], height=THUMB[1], format="gray")
            found.append((float(frame.time), grey.to_ndarray().astype(np.float32)))
    return sorted(found, key=lambda item: item[0])


def distinct_times(path: Path) -> list[float]:
    """Presentation times of the frames FFmpeg's mpdecimate keeps (duplicates removed)."""
    listing = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-i", str(path), "-vf", "mpdecimate",
         "-fps_mode", "passthrough", "-f", "framemd5", "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    base = re.search(r"#tb 0: (\d+)/(\d+)", listing)
    assert base
    tick = int(base[1]) / int(base[2])
    return [
        int(line.split(",")[1]) * tick
        for line in listing.splitlines()
        if line and not line.startswith("#")
    ]


@pytest.fixture(scope="module")
def transcoded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TranscodePlan, Path]:
    work = tmp_path_factory.mktemp("vfr")
    source = make_vfr_clip(work / "phone.mp4")
    media = PyavProber().probe(source)
    plan = plan_transcode(media, small_presets())  # type: ignore[arg-type]
    FfmpegTranscoder().transcode(plan, source, work / "out", lambda p: None)
    return source, plan, work / "out"


def test_the_plan_takes_the_fastest_part_not_the_average(
    transcoded: tuple[Path, TranscodePlan, Path],
) -> None:
    _, plan, _ = transcoded
    assert plan.fps == 60.0, plan.fps_reason
    assert [(v.width, v.height) for v in plan.video] == [(640, 360), (320, 180)]


def test_every_source_frame_is_kept_at_its_own_time(
    transcoded: tuple[Path, TranscodePlan, Path], tmp_path: Path
) -> None:
    source, plan, out = transcoded
    _, hls = hls_tracks(out / "stream" / "master.m3u8")
    top = hls[plan.video[0].name]
    rung = joined(top.init, top.segments, tmp_path / "top.mp4")
    boundary = PARTS[0][1]

    kept = distinct_times(rung)
    for (rate, seconds), in_part in zip(
        PARTS,
        ([t for t in kept if t < boundary - 0.001], [t for t in kept if t >= boundary - 0.001]),
        strict=True,
    ):
        assert len(in_part) >= 0.98 * rate * seconds, (rate, len(in_part))

    originals = pictures(source)
    assert len(originals) == sum(round(r * s) for r, s in PARTS)
    output = pictures(rung)
    shown: dict[int, float] = {}  # source frame -> when the output first presents it
    for when, picture in output:
        near = [i for i, (t, _) in enumerate(originals) if abs(t - when) <= 0.1]
        best = min(near, key=lambda i: float(np.mean((originals[i][1] - picture) ** 2)))
        shown.setdefault(best, when)
    for rate, seconds in PARTS:
        part = [i for i, (t, _) in enumerate(originals) if (t >= boundary) == (rate == PARTS[1][0])]
        assert len([i for i in part if i in shown]) >= 0.98 * rate * seconds, rate
        for i in part:
            if i in shown:
                assert abs(shown[i] - originals[i][0]) <= 0.5 / rate, (i, shown[i], originals[i][0])


def test_the_manifests_say_what_was_encoded_and_rungs_switch_together(
    transcoded: tuple[Path, TranscodePlan, Path], tmp_path: Path
) -> None:
    _, plan, out = transcoded
    master, hls = hls_tracks(out / "stream" / "master.m3u8")
    assert [p.stream_info.frame_rate for p in master.playlists] == [60.0, 60.0]
    _, dash = dash_tracks(out / "stream" / "manifest.mpd")
    for (adaptation, _), _ in (v for v in dash.values() if v[0][0].content_type == "video"):  # type: ignore[attr-defined]
        assert adaptation.frame_rate == "60/1"  # type: ignore[attr-defined]
    keyframes = []
    for rung in plan.video:
        track = hls[rung.name]
        decoded = decode(joined(track.init, track.segments, tmp_path / f"{rung.name}.mp4"))
        assert decoded.frames == round(60 * sum(s for _, s in PARTS))  # 60 fps throughout
        keyframes.append(decoded.keyframes)
    assert keyframes[0] == keyframes[1]
    assert keyframes[0][:2] == (keyframes[0][0], keyframes[0][0] + plan.gop_seconds)


@pytest.mark.parametrize(
    ("parts", "peak", "rate"),
    [
        (((24, 20.0), (60, 10.0)), 60.0, 60.0),  # the fast part is in the last third only
        (((30000 / 1001, 30.0),), 29.97, 29.97),
    ],
)
def test_a_long_sources_timing_is_sampled_in_windows(
    tmp_path: Path, parts: tuple[tuple[float, float], ...], peak: float, rate: float
) -> None:
    inputs = [
        arg
        for fps, seconds in parts
        for arg in ("-f", "lavfi", "-i", f"testsrc2=size=64x36:rate={fps}:duration={seconds}")
    ]
    source = tmp_path / "long.mp4"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *inputs,
         "-filter_complex", f"concat=n={len(parts)}:v=1:a=0[v]", "-map", "[v]",
         "-fps_mode", "passthrough", "-video_track_timescale", "600",
         "-c:v", "libx264", "-preset", "ultrafast", str(source)],
        check=True,
    )  # fmt: skip
    media = PyavProber().probe(source)
    assert media.video is not None and media.video.peak_fps == pytest.approx(peak, abs=0.05)
    assert plan_transcode(media, small_presets()).fps == rate  # type: ignore[arg-type]
