"""Rungs stitched from chunks play across each join (issue 28): hls.js on a video rung,
and dash.js, Shaka and hls.js on a stitched stream with audio and vodkit's own manifests."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import pytest

from tests.conftest import FFMPEG, make_clip
from tests.e2e.test_playback import _page_result, browser, site  # noqa: F401 - fixtures
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.chunk import ChunkEncoder, stitch_rung
from vodkit.adapters.transcoder.cmaf import RungStats, master_playlist
from vodkit.adapters.transcoder.ffmpeg import rfc6381
from vodkit.adapters.transcoder.pieces import ENCODE, FfmpegPieces, write_manifests
from vodkit.domain.chunks import plan_chunks
from vodkit.domain.ladder import plan_transcode

pytestmark = pytest.mark.e2e
CHUNK_SECONDS = 12


@pytest.fixture(scope="module")
def stitched(site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[int]:  # noqa: F811
    """A 38 s clip in three chunks (12, 12 and 14 s), its video rungs stitched into
    ``/chunked/stream/`` with a master playlist; the joins' times."""
    work = tmp_path_factory.mktemp("chunked-clip")
    clip = make_clip(work / "clip.mp4", size="640x360", seconds=38, audio=None)
    plan = plan_transcode(PyavProber().probe(clip), load_presets(default_presets_path()))
    plan = replace(plan, files=(), video=tuple(replace(v, audio=None) for v in plan.video))
    chunks = plan_chunks(plan.duration, plan.segment_seconds, CHUNK_SECONDS)
    encoder = ChunkEncoder(FFMPEG)
    written = [encoder.encode(plan, c, clip, work / str(c.index)) for c in chunks]
    stream = site[1] / "chunked" / "stream"
    stats: dict[str, RungStats] = {}
    for rung in plan.video:
        stitch_rung([rungs[rung.name] for rungs in written], stream / rung.name)
        with av.open(str(stream / rung.name / "init.mp4")) as init:
            codecs = rfc6381(init.streams.video[0])
        stats[rung.name] = RungStats(codecs, rung.bitrate, rung.bitrate)
    (stream / "master.m3u8").write_text(master_playlist(plan, stats))
    return [c.start for c in chunks[1:]]


def test_the_stitched_stream_plays_across_every_join(
    browser: Any,  # noqa: F811
    site: tuple[str, Path],  # noqa: F811
    stitched: list[int],
) -> None:
    assert stitched == [12, 24]
    for join in stitched:
        # play from 1 s, jump to just before the join, play 0.5 s through it
        url = f"{site[0]}/index.html?player=hls&base=/chunked&seek={join - 0.3}"
        result = _page_result(browser, url)
        assert result.get("ok"), result
        assert result["time"] >= join + 0.2


@pytest.fixture(scope="module")
def stitched_with_audio(
    site: tuple[str, Path],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> list[int]:
    """A 38 s clip with audio in three chunks, made as the cluster's stitch makes it: the
    rungs joined, the audio encoded once, whole, and vodkit's own master and MPD."""
    work = tmp_path_factory.mktemp("stitched-av")
    clip = make_clip(work / "clip.mp4", size="640x360", seconds=38)
    plan = replace(
        plan_transcode(PyavProber().probe(clip), load_presets(default_presets_path())), files=()
    )
    chunks = plan_chunks(plan.duration, plan.segment_seconds, CHUNK_SECONDS)
    written = [ChunkEncoder(FFMPEG).encode(plan, c, clip, work / str(c.index)) for c in chunks]
    out = site[1] / "stitched"
    for rung in plan.video:
        stitch_rung([rungs[rung.name] for rungs in written], out / "stream" / rung.name)
    FfmpegPieces(FFMPEG).audio(plan, clip, work / "audio")
    for j, audio in enumerate(plan.audio):
        shutil.move(work / "audio" / ENCODE.format(index=j), out / "stream" / audio.name)
    write_manifests(plan, out)
    return [c.start for c in chunks[1:]]


@pytest.mark.parametrize("player", ["dash", "shaka", "hls"])
def test_the_stitched_stream_with_its_manifests_plays_across_every_join(
    browser: Any,  # noqa: F811
    site: tuple[str, Path],  # noqa: F811
    stitched_with_audio: list[int],
    player: str,
) -> None:
    assert stitched_with_audio == [12, 24]
    for join in stitched_with_audio:
        url = f"{site[0]}/index.html?player={player}&base=/stitched&seek={join - 0.3}"
        result = _page_result(browser, url)
        assert result.get("ok"), (player, join, result)
        assert result["time"] >= join + 0.2
