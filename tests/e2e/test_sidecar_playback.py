"""Captions in real players (hls.js, dash.js, Shaka Player on DASH and HLS) in headless
Chromium, through the signed ``/play/...`` URLs: one PUT through the API after the asset
completed, one PUT while it was processing, and the source's own English. Each player lists
the text tracks and both audio languages, and shows the cue at its time (within 0.25 s); each
switches to the French audio there and keeps playing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api_server import serve
from tests.captioned import EXPECTED, captioned_sources
from tests.e2e.test_caption_playback import TOLERANCE
from tests.e2e.test_playback import _page_result, _require_browser, browser, player_site
from tests.integration.test_http_api import upload

__all__ = ["browser"]  # the real-player harness's Chromium, shared
pytestmark = pytest.mark.e2e
START = 2.0  # the added cue's time, in seconds (the source lasts 4)
TEXT = {"completed": "Added after completion", "processing": "Added while processing"}


def _srt(text: str) -> bytes:
    return f"1\n00:00:02,000 --> 00:00:03,200\n{text}\n".encode()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback web server for the captions page and the players (the media come from
    vodkit's API, another origin: its playback routes allow any)."""
    with player_site(tmp_path_factory.mktemp("pages"), "captions.html", "index.html") as url:
        yield url


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The signed stream root (``.../play/{asset}/{token}``) of the captioned MKV twice: a
    German caption PUT once it was COMPLETED, and PUT while it was PROCESSING."""
    _require_browser()
    source = captioned_sources(tmp_path_factory.mktemp("captioned"))["mkv"]
    with serve(tmp_path_factory.mktemp("sidecar") / "data", worker=False) as served:
        alice = served.client("alice")
        worker = served.api.app.processing.worker(watch=False)
        done = upload(alice, source, "done.mkv")["assetId"]
        worker.drain()
        put = alice.put(f"/v1/assets/{done}/captions/de", content=_srt(TEXT["completed"]))
        assert put.status_code == 201, put.text
        early = upload(alice, source, "early.mkv")["assetId"]
        worker.consumers[0].poll()  # the ingest only
        assert alice.get(f"/v1/assets/{early}").json()["status"] == "PROCESSING"
        put = alice.put(f"/v1/assets/{early}/captions/de", content=_srt(TEXT["processing"]))
        assert put.status_code == 201, put.text
        worker.drain()
        roots = {}
        for name, asset_id in (("completed", done), ("processing", early)):
            asset = alice.get(f"/v1/assets/{asset_id}").json()
            assert asset["status"] == "COMPLETED", asset
            assert TEXT[name] in served.client().get(asset["playback"]["captions"]["de"]).text
            roots[name] = asset["playback"]["hls"].removesuffix("/stream/master.m3u8")
        yield roots


# (stream, language, the cue's time, its text): each added caption, and the source's own
CASES = [
    ("completed", "de", START, TEXT["completed"]),
    ("processing", "de", START, TEXT["processing"]),
    ("completed", "en", EXPECTED["en"][0], "Hello"),  # embedded, through /play as well
]


@pytest.mark.parametrize(("stream", "language", "start", "text"), CASES)
@pytest.mark.parametrize(
    ("player", "manifest"),
    [("hls", ""), ("dash", ""), ("shaka", "manifest.mpd"), ("shaka", "master.m3u8")],
)
def test_a_real_player_shows_a_caption_at_its_time_through_the_signed_urls(
    browser: Any,
    pages: str,
    streams: dict[str, str],
    player: str,
    manifest: str,
    stream: str,
    language: str,
    start: float,
    text: str,
) -> None:
    query = {"player": player, "manifest": manifest, "lang": language, "start": start,
             "text": text, "base": streams[stream]}  # fmt: skip
    result = _page_result(browser, f"{pages}/captions.html?{urlencode(query)}")
    assert result.get("ok"), result
    assert sorted(lang for lang, _ in result["listed"]) == ["de", "en", "fr"], result
    assert sorted(result["audio"]) == ["en", "fr"], result  # the MKV's two audio languages
    assert abs(result["cueStart"] - start) <= TOLERANCE, result
    assert any(text in cue for cue in result["after"]), result  # shown 0.2 s after
    assert not any(text in cue for cue in result["before"]), result  # not 0.3 s before


@pytest.mark.parametrize(
    ("player", "manifest"),
    [("hls", ""), ("dash", ""), ("shaka", "manifest.mpd"), ("shaka", "master.m3u8")],
)
def test_a_real_player_switches_to_french_through_the_signed_urls(
    browser: Any, pages: str, streams: dict[str, str], player: str, manifest: str
) -> None:
    query = {"player": player, "switch": "fr", "base": streams["completed"]}
    if manifest:
        query["manifest"] = manifest
    result = _page_result(browser, f"{pages}/index.html?{urlencode(query)}")
    assert result.get("ok"), result  # still playing after the switch
    assert (result["initial"], result["active"]) == ("en", "fr"), result
    assert sorted(t["lang"] for t in result["tracks"]) == ["en", "fr"], result
