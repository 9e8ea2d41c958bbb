"""vodkit's outputs play in real players (hls.js, dash.js, Shaka Player) in headless
Chromium."""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, make_clip
from tests.e2e.conftest import Vodkit
from tests.multitrack import bilingual_mkv
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import PlanningRules, plan_transcode

pytestmark = pytest.mark.e2e
PLAYER = Path(__file__).parent / "player"
LIBRARIES = {
    "hls.min.js": PLAYER / "node_modules/hls.js/dist/hls.min.js",
    "dash.all.min.js": PLAYER / "node_modules/dashjs/dist/modern/umd/dash.all.min.js",
    "shaka-player.compiled.js": PLAYER / "node_modules/shaka-player/dist/shaka-player.compiled.js",
}


def _require_browser() -> None:
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    missing += [str(p) for p in LIBRARIES.values() if not p.is_file()]
    if missing:
        message = f"playback tests need {', '.join(missing)}: run `make test` (it installs them)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def player_site(root: Path, *pages: str) -> Iterator[str]:
    """A loopback web server of ``root``, holding the players (``lib/``) and the test pages
    named (from ``player/``); its URL."""
    _require_browser()
    (root / "lib").mkdir()
    for name, path in LIBRARIES.items():
        shutil.copy(path, root / "lib" / name)
    for page in pages:
        shutil.copy(PLAYER / page, root / page)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback web server: the test page, the players, and a media directory."""
    root = tmp_path_factory.mktemp("site")
    with player_site(root, "index.html") as url:
        yield url, root


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_browser()
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download anything
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def published(site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s 720p clip with audio, transcoded by the CLI into the web root."""
    work = tmp_path_factory.mktemp("clip")
    clip = make_clip(work / "clip.mp4", size="1280x720", seconds=8)
    kit = Vodkit(work / "data")
    code, data = kit.json("transcode", str(clip), "--out", str(site[1] / "media"))
    assert code == 0, data
    return site[1] / "media"


@pytest.fixture(scope="module")
def sheeted(site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 6 s clip with a tile a second on sheets of 2x2 (10x10 in a real plan): two sheets."""
    work = tmp_path_factory.mktemp("sheeted")
    clip = make_clip(work / "clip.mp4", size="640x360", seconds=6)
    presets = load_presets(default_presets_path())
    plan = plan_transcode(PyavProber().probe(clip), presets, PlanningRules(sprite_interval=1))
    plan = replace(plan, sprite=replace(plan.sprite, columns=2, rows=2))
    FfmpegTranscoder().transcode(plan, clip, site[1] / "sheeted", lambda p: None)
    return "/sheeted"


def _page_result(browser: Any, url: str) -> dict[str, Any]:
    browser.get(url)
    deadline = time.monotonic() + 60
    result = None
    while time.monotonic() < deadline and result is None:
        result = browser.execute_script("return window.result || null")
        time.sleep(0.2)
    assert result is not None, f"the page never finished: {url}"
    return dict(result)


@pytest.mark.parametrize("player", ["hls", "dash"])
def test_the_stream_plays_and_seeks_in_a_real_player(
    browser: Any, site: tuple[str, Path], published: Path, player: str
) -> None:
    # 6 s segments: seek into the second
    result = _page_result(browser, f"{site[0]}/index.html?player={player}&seek=6.2")
    assert result.get("ok"), result
    assert (result["width"], result["height"]) in {(1280, 720), (854, 480)}
    if player == "hls":
        assert sorted(map(tuple, result["levels"])) == [(854, 480), (1280, 720)]


def test_the_preview_plays_seeks_and_sounds_in_the_browser(
    browser: Any, site: tuple[str, Path], published: Path
) -> None:
    result = _page_result(browser, f"{site[0]}/index.html?player=mp4&seek=6.2")
    assert result.get("ok"), result
    assert (result["width"], result["height"]) == (1280, 720)
    assert result["audioBytes"] > 0  # its audio (the stream's 128k encode) was decoded


@pytest.mark.parametrize("sheets", [1, 2])
def test_scrub_thumbnails_load_as_a_player_reads_them(
    browser: Any, site: tuple[str, Path], published: Path, sheeted: str, sheets: int
) -> None:
    base = "/media" if sheets == 1 else sheeted
    result = _page_result(browser, f"{site[0]}/index.html?player=thumbnails&base={base}")
    assert result.get("ok"), result
    assert len(result["sheets"]) == sheets and all(result["sheets"].values())
    cues = result["cues"]
    assert len(cues) == (2 if sheets == 1 else 6)  # a tile every 5 s of 8 s; every 1 s of 6 s
    assert cues[0][0] == 0 and all(a[1] == b[0] for a, b in pairwise(cues))
    if sheets == 2:
        assert [cue[2].split("#")[0] for cue in cues] == ["sprite.jpg"] * 4 + ["sprite-2.jpg"] * 2


@pytest.fixture(scope="module")
def bilingual(site: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The English and French MKV (tests.multitrack), transcoded into the web root."""
    work = tmp_path_factory.mktemp("bilingual")
    source = bilingual_mkv(work)
    plan = plan_transcode(PyavProber().probe(source), load_presets(default_presets_path()))
    FfmpegTranscoder().transcode(plan, source, site[1] / "bilingual", lambda p: None)
    return "/bilingual"


@pytest.mark.parametrize(
    "player", ["hls", "dash", "shaka", pytest.param("shaka-hls", id="shaka-hls")]
)
def test_a_player_lists_both_languages_and_switches_to_french(
    browser: Any, site: tuple[str, Path], bilingual: str, player: str
) -> None:
    kind, _, manifest = player.partition("-")
    query = f"player={kind}&switch=fr&base={bilingual}"
    if manifest:
        query += "&manifest=master.m3u8"
    result = _page_result(browser, f"{site[0]}/index.html?{query}")
    assert result.get("ok"), result
    assert (result["initial"], result["active"]) == ("en", "fr")
    named = [("en", "English"), ("fr", "Fran\u00e7ais")]  # HLS's NAME, DASH's Label
    assert sorted((t["lang"], t["name"]) for t in result["tracks"]) == named
    if kind == "hls":
        assert [(t["lang"], t["name"], t["default"]) for t in result["tracks"]] == [
            ("en", "English", True), ("fr", "Fran\u00e7ais", False),
        ]  # fmt: skip
    elif not manifest:  # DASH's roles, as dash.js and Shaka Player read them
        assert {t["lang"]: t["roles"] for t in result["tracks"]} == {"en": ["main"], "fr": ["dub"]}
