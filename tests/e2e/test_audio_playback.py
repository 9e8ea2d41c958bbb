"""An audio-only asset's ladder plays in real players (hls.js, dash.js) in headless Chromium:
the audio-only HLS master (variants with CODECS="mp4a.40.2") and the audio-only MPD."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FFMPEG
from tests.e2e.conftest import Vodkit
from tests.e2e.test_playback import _page_result, browser, site

pytestmark = pytest.mark.e2e
__all__ = ["browser", "site"]  # the players' page and Chromium, shared with test_playback


@pytest.fixture(scope="module")
def song(site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    """An 8 s MP3 (a tone), transcoded by the CLI into the web root: two 6 s segments."""
    work = tmp_path_factory.mktemp("song")
    mp3 = work / "song.mp3"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=44100:duration=8", "-c:a", "libmp3lame",
         "-b:a", "128k", str(mp3)],
        check=True,
    )  # fmt: skip
    code, data = Vodkit(work / "data").json("transcode", str(mp3), "--out", str(site[1] / "song"))
    assert code == 0, data
    assert (site[1] / "song/mp4/preview.m4a").is_file()
    assert not (site[1] / "song/thumbs/sprite.vtt").exists()
    return "/song"


@pytest.mark.parametrize("player", ["hls", "dash"])
def test_the_audio_only_ladder_plays_and_seeks_in_a_real_player(
    browser: Any, site: tuple[str, Path], song: str, player: str
) -> None:
    result = _page_result(browser, f"{site[0]}/index.html?player={player}&seek=6.2&base={song}")
    assert result.get("ok"), result
    assert result["time"] >= 6.7
    assert result["audioBytes"] > 0  # sound was decoded
    assert (result["width"], result["height"]) == (0, 0)  # and no picture
    if player == "hls":
        assert len(result["levels"]) == 2  # the 128k and 96k variants
