"""A rung stitched from chunks plays across each join in hls.js (issue 28)."""

from __future__ import annotations

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
