"""Text tracks in real players (hls.js, dash.js, Shaka Player) in headless Chromium: each
lists them with their languages (and both audio languages) and shows a cue at its source
time (within 0.25 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.captioned import EXPECTED, captioned_sources
from tests.e2e.test_playback import _page_result, _require_browser, browser, player_site
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import PlanningRules, plan_transcode

__all__ = ["browser"]  # the real-player harness's Chromium, shared
pytestmark = pytest.mark.e2e
TOLERANCE = 0.25


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback web server: the captions page, the players, and the MKV's outputs."""
    _require_browser()  # before the transcode
    root = tmp_path_factory.mktemp("site")
    source = captioned_sources(tmp_path_factory.mktemp("captioned"))["mkv"]
    plan = plan_transcode(
        PyavProber().probe(source), load_presets(default_presets_path()), PlanningRules()
    )
    FfmpegTranscoder().transcode(plan, source, root / "media", lambda p: None)
    with player_site(root, "captions.html") as url:
        yield url


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    ("player", "manifest"),
    [("hls", ""), ("dash", ""), ("shaka", "manifest.mpd"), ("shaka", "master.m3u8")],
)
def test_a_real_player_lists_the_text_tracks_and_shows_a_cue_at_its_source_time(
    browser: Any, site: str, player: str, manifest: str, language: str
) -> None:
    start, text = EXPECTED[language]
    first_line = text.split("\n")[0].split(" <")[0]
    query = urlencode(
        {
            "player": player,
            "manifest": manifest,
            "lang": language,
            "start": start,
            "text": first_line,
        }
    )
    result = _page_result(browser, f"{site}/captions.html?{query}")
    assert result.get("ok"), result
    assert sorted(lang for lang, _ in result["listed"]) == ["en", "fr"], result
    assert sorted(result["audio"]) == ["en", "fr"], result  # the MKV's two audio languages
    assert abs(result["cueStart"] - start) <= TOLERANCE, result
    assert any(first_line in cue for cue in result["after"]), result  # shown 0.2 s after
    assert not any(first_line in cue for cue in result["before"]), result  # not 0.3 s before
    assert result["buffered"] is not None and result["buffered"] < 0.1, (
        result
    )  # the timeline starts at 0
