"""Contracts of the prober and transcoder ports: fakes and FFmpeg/PyAV on real clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.base import Prober
from vodkit.adapters.probe.memory import MemoryProber
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.base import Progress, Transcoder
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.adapters.transcoder.memory import MemoryTranscoder
from vodkit.domain.errors import InvalidInput
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.layout import MANIFEST_SUFFIXES

PRESETS = load_presets(default_presets_path())


@pytest.fixture(params=["memory", "pyav"])
def prober(request: pytest.FixtureRequest, clips: dict[str, Path]) -> Prober:
    if request.param == "pyav":
        return PyavProber()
    return MemoryProber({clips["small"].read_bytes(): PyavProber().probe(clips["small"])})


@pytest.fixture(params=["memory", "ffmpeg"])
def transcoder(request: pytest.FixtureRequest) -> Transcoder:
    return MemoryTranscoder() if request.param == "memory" else FfmpegTranscoder()


def test_a_video_is_described(prober: Prober, clips: dict[str, Path]) -> None:
    media = prober.probe(clips["small"])
    assert media.video is not None and (media.video.width, media.video.height) == (320, 240)
    assert media.audio is not None and media.audio.channels == 2
    assert media.demuxer == "mov"
    assert abs(media.duration - 2.0) < 0.1


def test_anything_else_is_refused_as_bad_input(prober: Prober, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 10)
    with pytest.raises(InvalidInput):
        prober.probe(text)


def test_a_plan_becomes_outputs_in_publish_order(
    transcoder: Transcoder, clips: dict[str, Path], tmp_path: Path
) -> None:
    plan = plan_transcode(PyavProber().probe(clips["small"]), PRESETS)
    seen: list[Progress] = []
    output = transcoder.transcode(plan, clips["small"], tmp_path, seen.append)
    assert set(output.outputs) == {"hls", "dash", "mp4", "poster", "sprite"}
    assert set(output.outputs.values()) <= set(output.files)
    for relative in output.files:
        assert (tmp_path / relative).is_file(), relative
    manifests = [i for i, f in enumerate(output.files) if f.endswith(MANIFEST_SUFFIXES)]
    assert manifests == list(range(len(output.files) - len(manifests), len(output.files)))
    assert output.files[-2:] == ("stream/manifest.mpd", "stream/master.m3u8")
    assert seen and seen[-1].percent == 100.0
