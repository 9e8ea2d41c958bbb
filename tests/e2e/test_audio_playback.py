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
from tests.multitrack import bilingual_mkv

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


@pytest.fixture(scope="module")
def bilingual_song(site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bilingual MKV's two audio tracks (en default, fr) without its picture, as a
    Matroska audio file: an audio-only asset with a group per bitrate."""
    work = tmp_path_factory.mktemp("bilingual-song")
    mka = work / "bilingual.mka"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(bilingual_mkv(work)),
         "-map", "0:a", "-c", "copy", str(mka)],
        check=True,
    )  # fmt: skip
    out = site[1] / "bilingual-song"
    code, data = Vodkit(work / "data").json("transcode", str(mka), "--out", str(out))
    assert code == 0, data
    assert "EXT-X-MEDIA:TYPE=AUDIO" in (out / "stream/master.m3u8").read_text()
    return "/bilingual-song"


@pytest.mark.parametrize("player", ["hls", "dash"])
def test_an_audio_only_assets_languages_are_listed_and_switched(
    browser: Any, site: tuple[str, Path], bilingual_song: str, player: str
) -> None:
    query = f"player={player}&switch=fr&base={bilingual_song}"
    result = _page_result(browser, f"{site[0]}/index.html?{query}")
    assert result.get("ok"), result
    assert (result["initial"], result["active"]) == ("en", "fr")
    assert sorted(t["lang"] for t in result["tracks"]) == ["en", "fr"]
