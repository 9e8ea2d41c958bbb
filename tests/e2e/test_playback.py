"""vodkit's outputs play in real players (hls.js, dash.js) in headless Chromium."""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, make_clip
from tests.e2e.conftest import Vodkit

pytestmark = pytest.mark.e2e
PLAYER = Path(__file__).parent / "player"
LIBRARIES = {
    "hls.min.js": PLAYER / "node_modules/hls.js/dist/hls.min.js",
    "dash.all.min.js": PLAYER / "node_modules/dashjs/dist/modern/umd/dash.all.min.js",
}


def _require_browser() -> None:
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    missing += [str(p) for p in LIBRARIES.values() if not p.is_file()]
    if missing:
        message = f"playback tests need {', '.join(missing)}: run `make test` (it installs them)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback web server: the test page, the players, and a media directory."""
    _require_browser()
    root = tmp_path_factory.mktemp("site")
    (root / "lib").mkdir()
    for name, path in LIBRARIES.items():
        shutil.copy(path, root / "lib" / name)
    shutil.copy(PLAYER / "index.html", root / "index.html")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


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


@pytest.mark.parametrize("player", ["hls", "dash"])
def test_the_stream_plays_and_seeks_in_a_real_player(
    browser: Any, site: tuple[str, Path], published: Path, player: str
) -> None:
    browser.get(f"{site[0]}/index.html?player={player}&seek=6.2")  # 6 s segments: seek into #2
    deadline = time.monotonic() + 60
    result = None
    while time.monotonic() < deadline and result is None:
        result = browser.execute_script("return window.result || null")
        time.sleep(0.2)
    assert result is not None, "the player never reached the second segment"
    assert result.get("ok"), result
    assert (result["width"], result["height"]) in {(1280, 720), (854, 480)}
    if player == "hls":
        assert sorted(map(tuple, result["levels"])) == [(854, 480), (1280, 720)]
