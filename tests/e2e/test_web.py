"""The web page (``web/``, built into the package) in headless Chromium, against a real server:
sign-in, uploads over tus through the file input (resumed after a reload), live status from
server-sent events, the player (HLS, DASH; scrub previews; quality; audio and captions menus),
captions added and removed on the page, an audio asset's player, deletion, admin, and
what must never happen (markup from a file name, another uploader's asset, a page without
sign-in). axe-core checks every view; screenshots are written at 1280x800 and 390x844
(to ``VODKIT_SCREENSHOTS`` if set: ``web/screenshots`` holds the committed copies)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api_server import Served, serve
from tests.conftest import FFMPEG, IN_CI, make_clip, real_clip
from tests.multitrack import bilingual_mkv
from vodkit.domain.asset import AssetError
from vodkit.domain.clock import utcnow
from vodkit.entrypoints.http import page

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BUNDLE = page.BUNDLE / "index.html"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
LIMIT_MB = 64  # the server's file-size limit here: small, so that a file over it is cheap
SIZES = ((1280, 800), (390, 844))
XSS = "<img src=x onerror=alert(1)>.mp4"
MiB = 1024 * 1024


def _require() -> None:
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if not BUNDLE.is_file():
        missing.append(
            f"the built page ({BUNDLE.relative_to(ROOT)}: `make web`, with node and npm)"
        )
    if not AXE.is_file():
        missing.append("axe-core (web/node_modules: `make web`)")
    if missing:
        message = f"the web page's tests need {', '.join(missing)}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# the server, instrumented: every tus creation, and every append with the bytes it took ---


@dataclass
class Append:
    upload_id: str
    offset: int
    received: int = 0
    done: bool = False


@dataclass
class Recorder:
    created: list[str] = field(default_factory=list)
    appends: list[Append] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cut: bool = False  # the append under way fails at its next chunk: a connection lost

    def of(self, upload_id: str) -> list[Append]:
        with self.lock:
            return [a for a in self.appends if a.upload_id == upload_id]


def _instrument(served: Served) -> Recorder:
    uploads = served.api.uploads
    recorder = Recorder()
    create, appending = uploads.create, uploads.appending

    def recorded_create(uploader_id: str, length: int, metadata: dict[str, str]) -> Any:
        upload = create(uploader_id, length, metadata)
        recorder.created.append(upload.upload_id)
        return upload

    @contextlib.contextmanager
    def recorded_appending(upload: Any, offset: int, checksum: Any = None) -> Iterator[Any]:
        with appending(upload, offset, checksum) as sink:
            entry = Append(upload.upload_id, offset)
            with recorder.lock:
                recorder.appends.append(entry)
            write = sink.write

            def counted(chunk: bytes) -> None:
                if recorder.cut:
                    recorder.cut = False
                    raise ConnectionResetError("the connection dropped (a test cut it)")
                write(chunk)
                entry.received += len(chunk)

            sink.write = counted  # type: ignore[method-assign]
            try:
                yield sink
            finally:
                entry.done = True

    uploads.create = recorded_create  # type: ignore[method-assign]
    uploads.appending = recorded_appending  # type: ignore[method-assign]
    return recorder


@dataclass
class Site:
    served: Served
    recorder: Recorder
    clips: Path
    shots: Path
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.served.url

    def key(self, uploader: str, *, admin: bool = False) -> str:
        name = f"{uploader}{'+admin' if admin else ''}"
        if name not in self.keys:
            self.keys[name] = self.served.key(uploader, admin=admin)
        return self.keys[name]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _require()
    root = tmp_path_factory.mktemp("web")
    shots = Path(os.environ.get("VODKIT_SCREENSHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with serve(root / "data", max_file_size_mb=LIMIT_MB) as served:
        yield Site(served, _instrument(served), root / "clips", shots)


@pytest.fixture(scope="module")
def browser(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium, as the playback tests drive it; its console is kept (CSP reports)."""
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download anything
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required", "--window-size=1280,800",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    _viewport(driver, *SIZES[0])
    yield driver
    driver.quit()


@pytest.fixture
def page_(browser: Any, site: Site) -> Iterator[Any]:
    """The browser, signed out, on a blank page of the site; afterwards, no CSP violation and
    no script error was logged."""
    browser.get(f"{site.url}/healthz")
    browser.delete_all_cookies()
    browser.execute_script("localStorage.clear(); sessionStorage.clear()")
    browser.get_log("browser")  # what earlier tests left
    yield browser
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
        and ("Content Security Policy" in entry["message"] or "Uncaught" in entry["message"])
    ]
    assert not problems, problems


# helpers --------------------------------------------------------------------------------


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _wait(what: str, check: Callable[[], Any], timeout: float = 60, driver: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = ""
            if driver is not None:
                shown = driver.execute_script("return document.querySelector('main').innerText")
            raise AssertionError(f"timed out waiting for {what}; the page shows:\n{shown}")
        time.sleep(0.1)


def _css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _all(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _sign_in(driver: Any, site: Site, key: str, at: str = "#/") -> None:
    driver.get(f"{site.url}/{at}")
    _wait("the sign-in form", lambda: _all(driver, "input[type=password]"), driver=driver)
    _css(driver, "input[type=password]").send_keys(key)
    _css(driver, "form button[type=submit]").click()
    _wait("the signed-in page", lambda: _all(driver, ".topbar .nav-user"), driver=driver)


def _heading(driver: Any) -> str:
    return str(driver.execute_script("return document.querySelector('main h1')?.innerText || ''"))


def _shoot(driver: Any, site: Site, name: str, ready: Callable[[], Any] | None = None) -> None:
    for width, height in SIZES:
        _viewport(driver, width, height)
        time.sleep(0.4)  # a layout, and the video's next frames
        if ready is not None:
            _wait(f"{name} at {width}x{height}", ready, driver=driver)
        driver.save_screenshot(str(site.shots / f"{name}-{width}x{height}.png"))
    _viewport(driver, *SIZES[0])


def _axe(driver: Any, view: str) -> None:
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE.read_text() + "\nreturn true")
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))),"
        " e => done([{id: 'axe failed', impact: 'critical', help: String(e), nodes: []}]))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe on the {view} view: {json.dumps(bad, indent=1)}"


def _choose(driver: Any, *paths: Path) -> None:
    _css(driver, "input[type=file]").send_keys("\n".join(str(p) for p in paths))


def _card(driver: Any, asset_id: str) -> Any:
    found = _all(driver, f'.card[data-asset-id="{asset_id}"]')
    return found[0] if found else None


def _card_status(driver: Any, asset_id: str) -> Any:
    return driver.execute_script(
        "return document.querySelector(`.card[data-asset-id='${arguments[0]}']`)"
        "?.dataset.status || null",
        asset_id,
    )


def _uploaded(driver: Any, name: str, timeout: float = 60) -> str:
    """The asset id of the upload row of ``name``, once its last byte is on the server."""

    def done() -> Any:
        return driver.execute_script(
            "const row = [...document.querySelectorAll('.upload-row:not(.upload-interrupted)')]"
            ".find(r => r.dataset.name === arguments[0]);"
            "return row && row.dataset.state === 'done' ? row.dataset.assetId : null",
            name,
        )

    return str(_wait(f"the upload of {name}", done, timeout, driver))


def _video(driver: Any, expression: str) -> Any:
    return driver.execute_script(
        f"const v = document.querySelector('.player video'); return {expression}"
    )


def _no_injected_markup(driver: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    assert (
        driver.execute_script(
            "return document.querySelectorAll('img[src=\"x\"], [onerror]').length"
        )
        == 0
    )
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 (no alert was raised)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _text_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("This is a text file, not a video.\n" * 20)
    return path


# the tests ------------------------------------------------------------------------------


def test_a_signed_out_visit_to_any_view_lands_on_sign_in_and_the_key_stays_out(
    page_: Any, site: Site
) -> None:
    driver = page_
    for view in ("#/", "#/upload", f"#/asset/{uuid.uuid4()}", "#/admin", "#/nowhere"):
        driver.get(f"{site.url}/{view}")
        _wait(f"sign-in for {view}", lambda: _all(driver, "input[type=password]"), driver=driver)
        assert driver.execute_script("return location.hash").startswith("#/signin"), view
        assert _heading(driver) == "Sign in"
    _axe(driver, "sign-in")

    # a wrong key is refused in words, and nothing is signed in
    _css(driver, "input[type=password]").send_keys("vk_not_a_key")
    _css(driver, "form button[type=submit]").click()
    _wait("the refusal", lambda: "not a live API key" in _css(driver, ".field-error").text)

    # a key signs in, back to the view asked for; the key is in no URL, storage or cookie
    key = site.key("alice")
    _sign_in(driver, site, key, at="#/upload")
    _wait("the upload view", lambda: _heading(driver) == "Upload videos", driver=driver)
    assert key not in driver.current_url
    stored = driver.execute_script(
        "return JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}])"
    )
    assert key not in stored and "vodkit_session" not in stored  # HttpOnly: no script reads it
    cookie = driver.get_cookie("vodkit_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert key not in cookie["value"]
    assert _css(driver, ".nav-user").text.startswith("alice")

    # sign-out ends the session: the page, and the server, see no one
    _css(driver, ".topbar-user button").click()
    _wait("sign-in after sign-out", lambda: _all(driver, "input[type=password]"), driver=driver)
    assert driver.get_cookie("vodkit_session") is None
    driver.get(f"{site.url}/v1/session")
    assert '"signedIn":false' in driver.page_source


def test_a_signed_out_page_load_logs_no_console_error(page_: Any, site: Site) -> None:
    """The page asks who is signed in on every load; a signed-out visitor is an answer, not
    an error in the console (Chromium logs every 4xx/5xx a fetch gets)."""
    driver = page_
    driver.get(f"{site.url}/#/")
    _wait("sign-in", lambda: _all(driver, "input[type=password]"), driver=driver)
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_two_clips_upload_complete_live_play_seek_scrub_switch_and_delete(
    page_: Any, site: Site
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    driver = page_
    wide = make_clip(site.clips / "wide.mp4", size="1280x720", seconds=18)  # 16:9, audio
    phone = make_clip(site.clips / "phone.mp4", size="1280x720", seconds=6, rotation=90)
    alice = site.served.client("alice")
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    _wait("the upload view", lambda: _heading(driver) == "Upload videos", driver=driver)
    driver.execute_script("window.notReloaded = true")

    _choose(driver, wide, phone)
    wide_id, phone_id = _uploaded(driver, "wide.mp4"), _uploaded(driver, "phone.mp4")
    assert wide_id != phone_id

    # the library: both badges turn COMPLETED on the page, live (server-sent events)
    _css(driver, 'nav a[href="#/"]').click()
    _wait("the library", lambda: _heading(driver) == "Library", driver=driver)
    _wait("both cards", lambda: _card(driver, wide_id) and _card(driver, phone_id), driver=driver)
    _wait(
        "both badges COMPLETED",
        lambda: _card_status(driver, wide_id) == _card_status(driver, phone_id) == "COMPLETED",
        timeout=420,  # the worker's time: generous for a loaded machine
        driver=driver,
    )
    assert driver.execute_script("return window.notReloaded") is True  # no reload
    requests = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    lists = [r for r in requests if "/v1/assets?" in r]
    assert len(lists) == 1, lists  # listed once; what changed came over the events
    streams = [r for r in requests if "/events" in r]  # one stream follows every card
    assert streams and all("/v1/events?assets=" in r for r in streams), streams
    assert any(wide_id in r and phone_id in r for r in streams), streams
    card = _card(driver, wide_id)
    assert card.find_element("css selector", ".card-title").text == "wide.mp4"
    assert card.find_element("css selector", ".badge").text == "Ready"
    _wait("the duration", lambda: card.find_element("css selector", ".duration").text == "0:18")
    assert not [r for r in requests if r.endswith(".mpd")]  # the API's duration: no manifest
    _wait("the poster", lambda: driver.execute_script(
        "return [...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)"
    ))  # fmt: skip
    _shoot(driver, site, "library")
    _axe(driver, "library")

    # the asset page: HLS in hls.js, with its poster; it plays past 3 s
    card.find_element("css selector", ".card-title a").click()
    _wait("the player", lambda: _all(driver, ".player video"), driver=driver)
    assert _heading(driver) == "wide.mp4"
    assert _video(driver, "v.poster").endswith("/thumbs/poster.jpg")
    facts = [e.text for e in _all(driver, ".facts dt, .facts dd")]
    assert facts[facts.index("Duration") + 1] == "0:18", facts
    levels = "return [...document.querySelectorAll('.player select')[0].options].map(o => o.text)"
    _wait("the levels", lambda: driver.execute_script(levels) == ["Auto", "720p", "480p"])
    rows = [r.text for r in _all(driver, ".panel table tbody tr")]
    assert any(r.startswith("720p") and "1280×720" in r for r in rows), rows
    assert all("H.264 High + AAC-LC" in r for r in rows), rows  # every row, the MP4's too
    urls = [e.get_attribute("value") for e in _all(driver, ".copy-row input")]
    assert [u.rsplit("/", 2)[-2:] for u in urls[:3]] == [
        ["stream", "master.m3u8"], ["stream", "manifest.mpd"], ["mp4", "preview.mp4"]
    ]  # fmt: skip
    embed = _css(driver, "textarea.code")
    assert urls[0] in embed.get_attribute("value")  # the embed snippet
    assert embed.get_attribute("value").splitlines()[0].startswith("<video controls")
    assert len(embed.get_attribute("value").splitlines()) == 4  # copied as written
    for width, height in SIZES:  # its long signed URLs wrap: nothing runs off to the side
        _viewport(driver, width, height)
        assert driver.execute_script(
            "const e = arguments[0]; return e.scrollWidth <= e.clientWidth"
            " && e.scrollHeight <= e.clientHeight + 2",
            embed,
        ), width
    _viewport(driver, *SIZES[0])

    # what needs it playing first (18 s of it): past 3 s, then 480p by hand (854x480)
    _css(driver, '.player button[aria-label="Play"]').click()
    _wait("3 s played", lambda: _video(driver, "v.currentTime") > 3, timeout=30, driver=driver)
    Select(_css(driver, ".player select")).select_by_visible_text("480p")
    _wait("480p playing", lambda: _video(driver, "v.videoHeight") == 480, timeout=30, driver=driver)
    assert _video(driver, "v.videoWidth") == 854
    _wait("the player says so", lambda: "480p" in _css(driver, ".player-info").text)
    _shoot(driver, site, "asset", ready=lambda: not _video(driver, "v.paused || v.ended"))

    # hovering the seek bar shows the sprite tile of that time
    seek = _css(driver, ".seek")
    width = seek.size["width"]
    ActionChains(driver).move_to_element_with_offset(
        seek, int(width * 0.3) - width // 2, 0
    ).perform()
    _wait("a scrub tile", lambda: _css(driver, ".scrub").is_displayed(), timeout=10)
    tile = _css(driver, ".scrub-tile")
    assert "sprite.jpg" in tile.value_of_css_property("background-image")
    x, y, w, h = map(int, tile.get_attribute("data-tile").split(","))
    assert (x, y, w, h) == (160, 0, 160, 90)  # 30 % of 18 s: the second tile (5-10 s)
    assert tile.size == {"width": w, "height": h}
    assert _css(driver, ".scrub-time").text == "0:05"
    assert driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.endsWith('/thumbs/sprite.jpg')).map(e => e.responseStatus)"
    ) in ([200], [200, 200])
    ActionChains(driver).move_by_offset(0, -200).perform()
    _wait("the tile gone", lambda: not _css(driver, ".scrub").is_displayed(), timeout=5)

    # a seek lands where asked: paused, a click at 3/4 of the bar
    if _video(driver, "!v.paused"):
        _css(driver, '.player button[aria-label="Pause"]').click()
    _wait("paused", lambda: _video(driver, "v.paused"), timeout=5)
    ActionChains(driver).move_to_element_with_offset(seek, width // 4, 0).click().perform()
    target = float(seek.get_attribute("value"))
    assert 12 < target < 15, target
    _wait(
        "the seek",
        lambda: _video(driver, "!v.seeking && v.readyState >= 2 && v.currentTime"),
        timeout=20,
    )
    assert abs(_video(driver, "v.currentTime") - target) < 0.25

    # the keyboard: ← on the seek bar goes back 5 s, K plays
    from selenium.webdriver.common.keys import Keys

    seek.send_keys(Keys.ARROW_LEFT)
    _wait("5 s back", lambda: abs(_video(driver, "v.currentTime") - (target - 5)) < 0.3, timeout=10)
    seek.send_keys("k")
    _wait("playing again", lambda: not _video(driver, "v.paused"), timeout=10)
    _axe(driver, "asset")

    # DASH (dash.js) plays the same asset
    Select(_css(driver, ".player select[id^='format-']")).select_by_visible_text("DASH")
    _wait("dash.js", lambda: _css(driver, ".player").get_attribute("data-format") == "dash")
    _video(driver, "(v.currentTime = 1, v.play(), true)")
    _wait("DASH playing", lambda: _video(driver, "v.currentTime") > 2, timeout=30, driver=driver)
    assert "DASH" in _css(driver, ".player-info").text

    # delete the phone clip, after a confirmation; it leaves the list and the API
    driver.get(f"{site.url}/#/asset/{phone_id}")
    _wait("the phone clip", lambda: _heading(driver) == "phone.mp4", driver=driver)
    _wait("its player", lambda: _all(driver, ".player video"), driver=driver)
    assert _css(driver, ".player-stage").get_attribute("class").endswith("player-portrait")
    _css(driver, ".button-danger").click()
    dialog = _css(driver, "dialog")
    assert "phone.mp4" in dialog.text and dialog.is_displayed()
    dialog.find_element("css selector", ".button-danger").click()
    _wait("the library again", lambda: _heading(driver) == "Library", driver=driver)
    _wait("the wide card", lambda: _card(driver, wide_id), driver=driver)
    assert _card(driver, phone_id) is None
    assert alice.get(f"/v1/assets/{phone_id}").status_code == 404
    assert alice.get(f"/v1/assets/{wide_id}").json()["status"] == "COMPLETED"


def test_an_upload_interrupted_by_a_reload_resumes_without_resending(
    page_: Any, site: Site
) -> None:
    driver = page_
    clip = make_clip(site.clips / "long.mp4", size="1280x720", seconds=10)
    size = clip.stat().st_size
    assert size > 6 * MiB
    alice = site.served.client("alice")
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    _wait("the upload view", lambda: _heading(driver) == "Upload videos", driver=driver)
    created = len(site.recorder.created)
    driver.execute_cdp_cmd("Network.enable", {})
    throttle = {"offline": False, "latency": 0, "downloadThroughput": -1}
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions", {**throttle, "uploadThroughput": MiB}
    )
    try:
        _choose(driver, clip)
        _wait("the upload to start", lambda: len(site.recorder.created) == created + 1)
        upload_id = site.recorder.created[-1]

        def received() -> int:
            return sum(a.received for a in site.recorder.of(upload_id))

        _wait("a third on the server", lambda: received() >= size // 3, timeout=30)
        # the view while it uploads: progress, speed, time left
        _wait("the speed", lambda: "/s" in _css(driver, ".upload-status").text)
        _shoot(driver, site, "upload")
        assert received() < size, "the upload went too fast to interrupt"

        driver.refresh()  # the PATCH in flight dies with the page
        _wait("the upload view again", lambda: _heading(driver) == "Upload videos", driver=driver)
        _wait("the cut PATCH recorded", lambda: all(a.done for a in site.recorder.of(upload_id)))
        url = f"{site.url}/v1/uploads/{upload_id}"
        head = alice.head(url, headers={"Tus-Resumable": "1.0.0"})
        held = int(head.headers["upload-offset"])
        assert size // 3 <= held < size, (held, size)
        assert "vodkit-asset-id" not in head.headers
        before = len(site.recorder.of(upload_id))

        # the page lists it as unfinished, with what the server holds
        row = _wait(
            "the unfinished upload",
            lambda: _all(driver, '.upload-interrupted[data-name="long.mp4"]'),
            driver=driver,
        )[0]
        assert "on the server" in row.text
        _axe(driver, "upload (unfinished)")

        # the same file again: it resumes at the server's offset and sends only the rest
        _choose(driver, clip)
        _wait("it resumes", lambda: "resumed at" in _css(driver, ".upload-status").text)
        _axe(driver, "upload")
        asset_id = _uploaded(driver, "long.mp4", timeout=60)
        after = site.recorder.of(upload_id)[before:]
        assert after and after[0].offset == held, [(a.offset, a.received) for a in after]
        assert sum(a.received for a in after) == size - held
        assert len(site.recorder.created) == created + 1  # no second upload was made
        assert alice.head(url, headers={"Tus-Resumable": "1.0.0"}).headers["vodkit-asset-id"] == (
            asset_id
        )
    finally:
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions", {**throttle, "uploadThroughput": -1}
        )
    source_key = _wait(
        "the asset", lambda: site.served.api.app.catalog.get(asset_id), timeout=300
    ).source_key
    with site.served.api.app.uploads.open(source_key) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == _sha256(clip)  # byte for byte


def test_a_text_file_named_mp4_shows_failed_with_its_reason_in_words(
    page_: Any, site: Site
) -> None:
    driver = page_
    bad = _text_file(site.clips / "notes.mp4")
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    _choose(driver, bad)
    asset_id = _uploaded(driver, "notes.mp4")
    _css(driver, 'nav a[href="#/"]').click()
    _wait("FAILED", lambda: _card_status(driver, asset_id) == "FAILED", timeout=300, driver=driver)
    card = _card(driver, asset_id)
    reason = card.find_element("css selector", ".reason").text
    assert "not a video file" in reason, reason  # words, not a code
    assert card.find_element("css selector", ".badge").text == "Failed"
    assert not card.find_elements("css selector", "button")  # a retry would fail the same way

    # the card keeps to the grid: its reason is one line, cut with an ellipsis
    line = card.find_element("css selector", ".reason")
    assert driver.execute_script(
        "const e = arguments[0], style = getComputedStyle(e);"
        "return style.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth"
        " && e.getBoundingClientRect().height < 2.5 * parseFloat(style.lineHeight)",
        line,
    ), line.text
    assert "not a video file" in line.get_attribute("title")

    # the same reason met by three attempts is said once, with the count
    site.served.wait_for(site.served.client("alice"), asset_id, "FAILED")
    catalog = site.served.api.app.catalog
    (first,) = catalog.get(asset_id).errors  # type: ignore[union-attr]
    for _ in range(2):  # as older attempts left it, before retries of a bad upload were refused
        catalog.retry(asset_id, utcnow())
        assert catalog.fail(asset_id, AssetError(first.code, first.message), utcnow())
    driver.refresh()
    _wait("its card again", lambda: _card(driver, asset_id), driver=driver)
    line = _card(driver, asset_id).find_element("css selector", ".reason")
    assert "failed 3 times" in line.get_attribute("title")
    driver.get(f"{site.url}/#/asset/{asset_id}")
    _wait("its page", lambda: _all(driver, ".panel .reason p"), driver=driver)
    said = [p.text for p in _all(driver, ".panel .reason p")]
    assert said == [f"The upload cannot be used: {first.message} (failed 3 times)"], said
    assert not _all(driver, ".panel-pending button")
    _css(driver, 'nav a[href="#/"]').click()
    _wait("the library", lambda: _card(driver, asset_id), driver=driver)

    # the filter shows it among the failed ones
    from selenium.webdriver.support.ui import Select

    Select(_css(driver, "#main select")).select_by_value("FAILED")
    _wait("the failed list", lambda: _card(driver, asset_id) and len(_all(driver, ".card")) >= 1)
    assert all(c.get_attribute("data-status") == "FAILED" for c in _all(driver, ".card"))
    assert driver.execute_script("return location.hash") == "#/?status=FAILED"


def test_the_xss_file_name_renders_as_text(page_: Any, site: Site) -> None:
    driver = page_
    hostile = _text_file(site.clips / "xss" / XSS)
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    _choose(driver, hostile)
    asset_id = _uploaded(driver, XSS)
    names = [e.text for e in _all(driver, ".upload-name")]
    assert XSS in names
    _no_injected_markup(driver)
    _css(driver, 'nav a[href="#/"]').click()
    _wait("its card", lambda: _card(driver, asset_id), driver=driver)
    assert _card(driver, asset_id).find_element("css selector", ".card-title").text == XSS
    _no_injected_markup(driver)
    driver.get(f"{site.url}/#/asset/{asset_id}")
    _wait("its page", lambda: _heading(driver) == XSS, driver=driver)
    _no_injected_markup(driver)


def test_another_uploaders_asset_shows_not_found(page_: Any, site: Site) -> None:
    driver = page_
    bob = site.served.client("bob")
    made = bob.post("/v1/assets", params={"filename": "bobs.mp4"}, content=b"not a video")
    assert made.status_code == 201, made.text
    bobs = made.json()["assetId"]
    site.served.wait_for(bob, bobs, "FAILED", timeout=300)
    _sign_in(driver, site, site.key("alice"), at=f"#/asset/{bobs}")
    _wait("not found", lambda: "not found" in _heading(driver).lower(), driver=driver)
    assert "bobs.mp4" not in driver.page_source
    driver.get(f"{site.url}/#/asset/{uuid.uuid4()}")  # the same as an asset that is not there
    _wait("not found", lambda: "not found" in _heading(driver).lower(), driver=driver)


def test_admin_sees_every_uploader_and_redrives_dead_letters(page_: Any, site: Site) -> None:
    driver = page_
    bob = site.served.client("bob")
    made = bob.post("/v1/assets", params={"filename": "bob-again.mp4"}, content=b"not a video")
    site.served.wait_for(bob, made.json()["assetId"], "FAILED", timeout=300)
    site.served.api.app.queues["ingest"].send("poison: not an S3 event")
    admin = site.served.client("root", admin=True)
    _wait("a dead letter", lambda: admin.get("/v1/dlq").json()["items"], timeout=120)

    _sign_in(driver, site, site.key("root", admin=True))
    _wait("every video", lambda: _heading(driver) == "All videos", driver=driver)
    _wait("bob's card", lambda: _card(driver, made.json()["assetId"]), driver=driver)
    uploaders = {e.text for e in _all(driver, ".card .uploader")}
    assert {"alice", "bob"} <= uploaders, uploaders

    _css(driver, "#main input[type=search]").send_keys("bob")
    _css(driver, "#main form button").click()
    _wait("bob's only", lambda: {e.text for e in _all(driver, ".card .uploader")} == {"bob"})

    _css(driver, 'nav a[href="#/admin"]').click()
    _wait("the dead letters", lambda: _all(driver, "#main tbody tr"), driver=driver)
    row = _css(driver, "#main tbody tr")
    assert "ingest" in row.text and "the message is not JSON" in row.text
    _axe(driver, "admin")
    _css(driver, "#main .button-primary").click()  # Redrive all
    _wait("redriven", lambda: "put back on their queue" in _css(driver, "#toasts").text)


def test_a_file_over_the_limit_is_refused_before_a_byte_is_sent(page_: Any, site: Site) -> None:
    driver = page_
    big = site.clips / "huge.mp4"
    with big.open("wb") as sink:
        sink.truncate((LIMIT_MB + 1) * MiB)  # sparse
    created = len(site.recorder.created)
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    _wait("the limit", lambda: f"Up to {LIMIT_MB} MiB a file" in _css(driver, ".dropzone").text)
    _choose(driver, big)
    row = _wait("the refusal", lambda: _all(driver, '.upload-row[data-state="refused"]'))[0]
    assert f"{LIMIT_MB} MiB" in row.text and "65 MiB" in row.text, row.text
    time.sleep(0.5)
    assert len(site.recorder.created) == created  # nothing was sent


def test_a_lost_connection_pauses_the_upload_and_it_resumes_when_back(
    page_: Any, site: Site
) -> None:
    driver = page_
    clip = make_clip(site.clips / "flaky.mp4", size="1280x720", seconds=8)
    size = clip.stat().st_size
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    created = len(site.recorder.created)
    driver.execute_cdp_cmd("Network.enable", {})
    conditions = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": 2 * MiB}
    try:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": False})
        _choose(driver, clip)
        _wait("the upload to start", lambda: len(site.recorder.created) == created + 1)
        upload_id = site.recorder.created[-1]
        _wait(
            "a quarter on the server",
            lambda: sum(a.received for a in site.recorder.of(upload_id)) >= size // 4,
            timeout=30,
        )
        # the network goes (the browser says offline) and the PATCH under way dies with it
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": True})
        site.recorder.cut = True
        row = '.upload-row[data-name="flaky.mp4"]'
        _wait("offline", lambda: _css(driver, row).get_attribute("data-state") == "offline")
        assert "resumes when it is back" in _css(driver, row).text
        _wait("the cut PATCH recorded", lambda: all(a.done for a in site.recorder.of(upload_id)))
        before = site.recorder.of(upload_id)
        held = sum(a.received for a in before)
        assert 0 < held < size
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": False})
        _uploaded(driver, "flaky.mp4")
    finally:
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {**conditions, "offline": False, "uploadThroughput": -1},
        )
    after = site.recorder.of(upload_id)[len(before) :]
    assert after[0].offset == held and sum(a.received for a in after) == size - held
    assert len(site.recorder.created) == created + 1


def test_a_dropped_file_uploads(page_: Any, site: Site) -> None:
    driver = page_
    _sign_in(driver, site, site.key("alice"), at="#/upload")
    _wait("the drop zone", lambda: _all(driver, ".dropzone"), driver=driver)
    driver.execute_script(
        "const files = new DataTransfer();"
        "files.items.add(new File(['not a video\\n'], 'dropped.mp4', {type: 'video/mp4'}));"
        "const zone = document.querySelector('.dropzone');"
        "for (const type of ['dragenter', 'dragover', 'drop'])"
        "  zone.dispatchEvent(new DragEvent(type, {dataTransfer: files, bubbles: true, cancelable: true}));"
    )
    assert _uploaded(driver, "dropped.mp4")


def test_the_library_pages_over_the_api_cursor(page_: Any, site: Site) -> None:
    driver = page_
    carol = site.served.client("carol")
    made = []
    for n in range(3):  # one after the other: their order in the library is known
        reply = carol.post("/v1/assets", params={"filename": f"c{n}.mp4"}, content=b"no video")
        made.append(reply.json()["assetId"])
        site.served.wait_for(carol, made[-1], "FAILED", timeout=300)
    _sign_in(driver, site, site.key("carol"), at="#/?limit=2")

    def shown() -> list[str]:
        return [c.get_attribute("data-asset-id") for c in _all(driver, ".card")]

    _wait("the first page", lambda: shown() == made[:0:-1], driver=driver)  # newest first
    newer, older = _all(driver, ".pager button")
    assert not newer.is_enabled() and older.is_enabled()
    older.click()
    _wait("the second page", lambda: shown() == made[:1], driver=driver)
    assert "Page 2" in _css(driver, ".pager").text and not older.is_enabled()
    newer.click()
    _wait("the first page again", lambda: shown() == made[:0:-1], driver=driver)


def test_docs_render_the_contract_offline(page_: Any, site: Site) -> None:
    """/docs is Swagger UI from the package's bundle: nothing from a CDN (there is none)."""
    import httpx

    html = httpx.get(f"{site.url}/docs").text
    assert "/docs/static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    driver = page_
    driver.get(f"{site.url}/docs")
    title = _wait("the rendered contract", lambda: _all(driver, ".swagger-ui .info .title"))
    assert "vodkit" in title[0].text
    _wait("the operations", lambda: len(_all(driver, ".opblock")) > 10)
    assert any("/v1/assets" in op.text for op in _all(driver, ".opblock-summary"))


# the player's audio-language and captions menus (issue 26): two multi-track sources, each
# transcoded once for the module ---------------------------------------------------------

HOSTILE = "<img src=x onerror=window.__pwned=1>"


def _hostile_mkv(directory: Path) -> Path:
    """Real footage, 3 s: English audio (default) and a second audio track named ``HOSTILE``;
    two SubRip tracks: English (its cue: "Hello"), and a forced French one named ``HOSTILE``
    with the ``HOSTILE`` cue, each from 0.5 s to 2.8 s."""
    directory.mkdir(parents=True, exist_ok=True)
    cue = directory / "cue.srt"
    cue.write_text("1\n00:00:00,500 --> 00:00:02,800\nHello\n")
    plain = directory / "plain.srt"
    plain.write_text(f"1\n00:00:00,500 --> 00:00:02,800\n{HOSTILE}\n")
    target = directory / "hostile.mkv"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-t", "3", "-i", str(real_clip("bigbuckbunny.mp4")),
         "-f", "lavfi", "-t", "3", "-i", "sine=frequency=660:sample_rate=48000",
         "-i", str(cue), "-i", str(plain),
         "-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "2", "-map", "3",
         "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-ac", "2", "-b:a", "64k", "-c:s", "copy",
         "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=English",
         "-metadata:s:a:1", "language=fre", "-metadata:s:a:1", f"title={HOSTILE}",
         "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fre",
         "-metadata:s:s:1", f"title={HOSTILE}",
         "-disposition:a:0", "default", "-disposition:a:1", "0",
         "-disposition:s:0", "0", "-disposition:s:1", "forced", "-default_mode", "passthrough",
         str(target)],
        check=True,
    )  # fmt: skip
    return target


@pytest.fixture(scope="module")
def tracked(site: Site) -> dict[str, dict[str, Any]]:
    """``bilingual``: English (default) and French audio, an English SubRip track (neither
    default nor forced); ``hostile``: see ``_hostile_mkv``. Both COMPLETED, as the API shows them."""
    alice = site.served.client("alice")
    (site.clips / "bilingual").mkdir(parents=True, exist_ok=True)
    sources = {
        "bilingual": bilingual_mkv(site.clips / "bilingual"),
        "hostile": _hostile_mkv(site.clips / "hostile"),
    }
    ids = {}
    for name, path in sources.items():
        made = alice.post("/v1/assets", params={"filename": path.name}, content=path.read_bytes())
        assert made.status_code == 201, made.text
        ids[name] = made.json()["assetId"]
    return {
        name: site.served.wait_for(alice, asset_id, "COMPLETED", timeout=300)
        for name, asset_id in ids.items()
    }


def _menu(driver: Any, which: str) -> list[tuple[str, str]]:
    """(value, text) of each option of the player's ``which`` menu (audio, captions, format)."""
    return [
        (str(o["value"]), str(o["text"]))
        for o in driver.execute_script(
            "const menu = document.querySelector(`.player select[id^='${arguments[0]}-']`);"
            "return menu && !menu.hidden ? [...menu.options].map(o => ({value: o.value,"
            " text: o.textContent})) : []",
            which,
        )
    ]


def _pick(driver: Any, which: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(_css(driver, f".player select[id^='{which}-']")).select_by_value(value)


def _open_player(driver: Any, site: Site, asset: dict[str, Any], format_: str) -> None:
    driver.get(f"{site.url}/#/asset/{asset['assetId']}")
    _wait("the player", lambda: _all(driver, ".player video"), driver=driver)
    if format_ != "hls":
        _pick(driver, "format", format_)
    _wait(
        f"the {format_} audio menu",
        lambda: len(_menu(driver, "audio")) == 2 and _menu(driver, "captions"),
        driver=driver,
    )


def _showing_cue(driver: Any) -> Any:
    """The text of the cue shown now (as the browser renders it: markup as text), or None."""
    return _video(
        driver,
        "[...v.textTracks].filter(t => t.mode === 'showing' && t.activeCues?.length)"
        ".map(t => t.activeCues[0].getCueAsHTML().textContent)[0] ?? null",
    )


def _cue_at(driver: Any, at: float) -> Any:
    """The cue shown from ``at`` s on, playing (muted) from there, again each second: a track
    just chosen may get its cues a moment later (dash.js loads them as it plays)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _video(driver, f"v.muted = true, v.currentTime = {at}, v.play()")
        for _ in range(10):
            time.sleep(0.1)
            shown = _showing_cue(driver)
            if shown:
                _video(driver, "v.pause()")
                return shown
    state = driver.execute_script(
        "const v = document.querySelector('.player video'); return [document.querySelector("
        "'.player').dataset.captions, [...v.textTracks].map(t => [t.label, t.mode, t.cues?.length])]"
    )
    raise AssertionError(f"no cue shown at {at} s (captions, tracks: {state})")


def _playing(driver: Any) -> None:
    driver.execute_script(
        "const v = document.querySelector('.player video'); v.muted = true; v.play()"
    )


@pytest.mark.parametrize("format_", ["hls", "dash"])
def test_the_audio_menu_lists_both_languages_and_french_keeps_playing(
    page_: Any, site: Site, tracked: dict[str, dict[str, Any]], format_: str
) -> None:
    driver = page_
    _sign_in(driver, site, site.key("alice"))
    _open_player(driver, site, tracked["bilingual"], format_)
    audio = _menu(driver, "audio")
    assert [text for _, text in audio] == ["English", "Français"]
    assert driver.execute_script(
        "return [...document.querySelectorAll('.player select[id^=\"audio-\"] option')]"
        ".map(o => o.lang)"
    ) == ["en", "fr"]
    # its SubRip track is neither default nor forced: captions are off
    assert _menu(driver, "captions") == [("-1", "Captions off"), ("0", "English")]
    time.sleep(0.5)  # nothing turns them on by itself
    assert _css(driver, ".player").get_attribute("data-captions") == "-1"
    # choosing it shows its cue
    _pick(driver, "captions", "0")
    assert _cue_at(driver, 1.1) == "Hello"
    _playing(driver)
    _wait("playing", lambda: _video(driver, "v.currentTime > 0.3"))
    _pick(driver, "audio", audio[1][0])
    _wait("French", lambda: _css(driver, ".player").get_attribute("data-audio") == audio[1][0])
    at = _video(driver, "v.currentTime")
    _wait("still playing, in French", lambda: _video(driver, f"v.currentTime > {at} + 0.5"))
    assert "does not play" not in _css(driver, ".player-info").text
    _axe(driver, f"asset ({format_}, audio and captions menus)")


@pytest.mark.parametrize("format_", ["hls", "dash"])
def test_a_forced_track_shows_by_default_and_hostile_names_and_cues_stay_text(
    page_: Any, site: Site, tracked: dict[str, dict[str, Any]], format_: str
) -> None:
    driver = page_
    asset = tracked["hostile"]
    names = {t["name"] for t in asset["tracks"]}
    assert HOSTILE in names  # the API keeps the name as it is: the page must show it as text
    _sign_in(driver, site, site.key("alice"))
    _open_player(driver, site, asset, format_)
    captions = _menu(driver, "captions")
    assert len(captions) == 3 and captions[0] == ("-1", "Captions off")
    assert HOSTILE in [text for _, text in captions]  # literally, as text
    assert HOSTILE in [text for _, text in _menu(driver, "audio")]
    forced = next(value for value, text in captions[1:] if text == HOSTILE)
    _wait(
        "the forced track on",
        lambda: _css(driver, ".player").get_attribute("data-captions") == forced,
    )
    assert _cue_at(driver, 0.6) == HOSTILE  # the cue's markup, shown as its characters
    assert driver.execute_script("return window.__pwned") is None
    _no_injected_markup(driver)
    _pick(driver, "captions", "-1")
    _wait("captions off", lambda: _showing_cue(driver) is None)
    assert driver.execute_script("return window.__pwned") is None
    _axe(driver, f"asset ({format_}, hostile tracks)")


# captions the owner adds on the asset's page (issue 26) ---------------------------------


@pytest.fixture(scope="module")
def plain_clip(site: Site) -> dict[str, Any]:
    """A short clip with sound and no text track, COMPLETED: captions are added to it."""
    alice = site.served.client("alice")
    clip = make_clip(site.clips / "talk.mp4", size="640x360", seconds=4)
    made = alice.post("/v1/assets", params={"filename": clip.name}, content=clip.read_bytes())
    assert made.status_code == 201, made.text
    return site.served.wait_for(alice, made.json()["assetId"], "COMPLETED", timeout=300)  # type: ignore[no-any-return]


def _caption_rows(driver: Any) -> list[dict[str, str]]:
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('.captions-panel .caption-row')].map(r =>"
            " ({lang: r.dataset.lang, source: r.dataset.source, text: r.innerText}))"
        )
    )


def test_the_owner_adds_a_caption_file_on_the_page_it_plays_and_is_removed(
    page_: Any, site: Site, plain_clip: dict[str, Any]
) -> None:
    from selenium.webdriver.support.ui import Select

    driver = page_
    alice = site.served.client("alice")
    asset_id = plain_clip["assetId"]
    folder = site.clips / "captions"
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "talk.de.srt"  # its name carries its language
    good.write_text("1\n00:00:00,500 --> 00:00:02,800\n<i>Guten Tag</i>\n")
    bad = folder / "broken.srt"
    bad.write_text(
        "1\n00:00:00,500 --> 00:00:02,800\nHallo\n\n2\n00:00:03,000 --> whenever\nTschüss\n"
    )
    _sign_in(driver, site, site.key("alice"), at=f"#/asset/{asset_id}")
    _wait("the player", lambda: _all(driver, ".player video"), driver=driver)
    _wait(
        "no captions yet",
        lambda: "No captions yet." in _css(driver, ".captions-panel .caption-list").text,
        driver=driver,
    )
    assert _menu(driver, "captions") == []  # nothing to offer: the menu is hidden
    form = _css(driver, ".caption-form")

    # a language tag of the wrong shape is refused on the page, before anything is sent
    Select(form.find_element("css selector", "select")).select_by_value("other")
    tag = form.find_element("css selector", 'input[name="tag"]')
    _wait("the tag field", tag.is_displayed)
    tag.send_keys("not a tag!")
    form.find_element("css selector", "button[type=submit]").click()
    _wait("the shape refused", lambda: "BCP 47" in _css(driver, ".caption-form .field").text)
    assert tag.get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element == tag

    # chosen: the file's name picks German; a label, SDH, shown by default
    form.find_element("css selector", "input[type=file]").send_keys(str(good))
    language = Select(form.find_element("css selector", "select"))
    assert language.first_selected_option.get_attribute("value") == "de"
    assert not tag.is_displayed()
    form.find_element("css selector", 'input[name="label"]').send_keys("Deutsch (SDH)")
    form.find_element("css selector", 'input[value="captions"]').click()
    form.find_element("css selector", 'input[name="default"]').click()
    form.find_element("css selector", "button[type=submit]").click()
    _wait(
        "it is listed", lambda: [r["lang"] for r in _caption_rows(driver)] == ["de"], driver=driver
    )
    (row,) = _caption_rows(driver)
    assert row["source"] == "sidecar"
    assert all(word in row["text"] for word in ("Deutsch (SDH)", "SDH", "default", "added")), row
    assert "added" in _css(driver, ".captions-panel .caption-status").text
    (track,) = alice.get(f"/v1/assets/{asset_id}/captions").json()
    assert (track["language"], track["kind"], track["default"], track["source"]) == (
        "de", "captions", True, "sidecar"
    )  # fmt: skip

    # the player is made again with it: offered in the CC menu, on (it is the default)
    _wait(
        "the CC menu offers it",
        lambda: "Deutsch (SDH)" in [text for _, text in _menu(driver, "captions")],
        driver=driver,
    )
    _wait("it is on", lambda: _css(driver, ".player").get_attribute("data-captions") != "-1")
    assert _cue_at(driver, 1.1) == "Guten Tag"
    _axe(driver, "asset (captions)")
    driver.execute_script("window.scrollTo(0, 0)")  # the player, and the list under it
    _shoot(driver, site, "captions", ready=lambda: _showing_cue(driver) == "Guten Tag")

    # a file the server cannot read: its 422 detail, word for word, said at once
    form.find_element("css selector", "input[type=file]").send_keys(str(bad))
    form.find_element("css selector", "button[type=submit]").click()
    refused = alice.put(f"/v1/assets/{asset_id}/captions/en", content=bad.read_bytes())
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert "line" in detail, detail
    problem = _css(driver, ".caption-problem")
    _wait("the server's words", lambda: problem.text == detail, driver=driver)
    assert problem.get_attribute("role") == "alert"
    assert [r["lang"] for r in _caption_rows(driver)] == ["de"]  # nothing changed

    # a file over the server's limit: its 413, in its words
    big = folder / "big.srt"
    big.write_bytes(b"1\n00:00:00,500 --> 00:00:02,800\n" + b"x" * (10 * MiB))
    refused = alice.put(f"/v1/assets/{asset_id}/captions/en", content=big.read_bytes())
    assert refused.status_code == 413, refused.text
    form.find_element("css selector", "input[type=file]").send_keys(str(big))
    form.find_element("css selector", "button[type=submit]").click()
    _wait("the limit", lambda: problem.text == refused.json()["detail"], driver=driver)

    # DASH offers it too
    _pick(driver, "format", "dash")
    _wait(
        "the DASH CC menu",
        lambda: "Deutsch (SDH)" in [text for _, text in _menu(driver, "captions")],
        driver=driver,
    )

    # removed: gone from the list, the API and the player's menu
    _css(driver, '.caption-row[data-lang="de"] button').click()
    _wait(
        "it is gone",
        lambda: "No captions yet." in _css(driver, ".captions-panel .caption-list").text,
        driver=driver,
    )
    assert "removed" in _css(driver, ".captions-panel .caption-status").text
    assert alice.get(f"/v1/assets/{asset_id}/captions").json() == []
    _wait("the CC menu without it", lambda: _menu(driver, "captions") == [], driver=driver)
    assert _css(driver, ".player").get_attribute("data-format") == "dash"  # the format kept


def test_a_caption_added_to_a_waiting_asset_is_taken_and_listed(page_: Any, site: Site) -> None:
    """The panel shows while an asset waits, and a caption added then is kept (published
    with the video when it completes) and listed as the API lists it."""
    from vodkit.domain.asset import Asset

    app = site.served.api.app
    asset_id = str(uuid.uuid4())
    app.catalog.create(
        Asset.new(
            asset_id=asset_id,
            uploader_id="dora",
            source_key="uploads/dora/waiting.mp4",
            source_bucket="uploads",
            source_version="1",
            filename="waiting.mp4",
            file_size=1,
            now=utcnow(),
        )
    )  # fmt: skip  (no message queued: it stays PENDING)
    srt = site.clips / "captions" / "waiting.fr.srt"
    srt.parent.mkdir(parents=True, exist_ok=True)
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nBonjour\n")
    driver = page_
    _sign_in(driver, site, site.key("dora"), at=f"#/asset/{asset_id}")
    _wait("the panel", lambda: _all(driver, ".panel-pending + .captions-panel"), driver=driver)
    assert "published with the video" in _css(driver, ".captions-panel").text
    form = _css(driver, ".caption-form")
    form.find_element("css selector", "input[type=file]").send_keys(str(srt))
    form.find_element("css selector", "button[type=submit]").click()
    _wait(
        "the server's answer",
        lambda: _css(driver, ".caption-problem").text or _caption_rows(driver),
        driver=driver,
    )
    dora = site.served.client("dora")
    assert not _css(driver, ".caption-problem").text
    _wait("the caption listed", lambda: _caption_rows(driver), driver=driver)
    assert [t["language"] for t in dora.get(f"/v1/assets/{asset_id}/captions").json()] == ["fr"]
    assert [r["lang"] for r in _caption_rows(driver)] == ["fr"]
    _axe(driver, "asset (pending, captions)")


# audio-only assets (issue 26): an MP3 made into an asset of kind "audio" ---------------------

TONE_SECONDS = 6


def _tone(path: Path) -> Path:
    """An MP3 of a tone that swells and fades (a waveform with a shape)."""
    tone = f"aevalsrc=0.8*sin(2*PI*330*t)*abs(sin(PI*t/2)):s=48000:d={TONE_SECONDS}"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
         "-i", tone, "-c:a", "libmp3lame", "-b:a", "128k", "-ac", "2", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def audio_asset(site: Site) -> dict[str, Any]:
    """An MP3 uploaded through the API and made into a COMPLETED asset of kind "audio" (its
    audio-only ladder, M4A and PNG waveform); then English captions added through the API."""
    alice = site.served.client("alice")
    site.clips.mkdir(parents=True, exist_ok=True)
    tone = _tone(site.clips / "tone.mp3")
    made = alice.post("/v1/assets", params={"filename": tone.name}, content=tone.read_bytes())
    assert made.status_code == 201, made.text
    asset_id = made.json()["assetId"]
    site.served.wait_for(alice, asset_id, "COMPLETED", timeout=300)
    cue = "1\n00:00:00,500 --> 00:00:02,800\nA rising tone\n"
    added = alice.put(
        f"/v1/assets/{asset_id}/captions/en", params={"default": "true"}, content=cue.encode()
    )
    assert added.status_code in (200, 201), added.text
    return site.served.wait_for(alice, asset_id, "COMPLETED")  # type: ignore[no-any-return]


def test_an_audio_asset_plays_over_its_waveform_with_captions_and_an_m4a(
    page_: Any, site: Site, audio_asset: dict[str, Any]
) -> None:
    import httpx

    driver = page_
    asset_id = audio_asset["assetId"]
    assert audio_asset["kind"] == "audio"
    assert {"hls", "dash", "m4a", "poster"} <= set(audio_asset["playback"])
    _sign_in(driver, site, site.key("alice"))

    # the library: its waveform for thumbnail, and it says "Audio"
    _wait("its card", lambda: _card(driver, asset_id), driver=driver)
    card = _card(driver, asset_id)
    assert (
        card.find_element("css selector", ".thumb img")
        .get_attribute("src")
        .endswith("/thumbs/poster.png")
    )
    assert card.find_element("css selector", ".kind-tag").text == "Audio"
    _wait("the waveform loaded", lambda: driver.execute_script(
        "const i = arguments[0].querySelector('.thumb img'); return i.complete && i.naturalWidth === 1280",
        card,
    ))  # fmt: skip

    # its page: the audio player, the waveform as poster; HLS, DASH and the M4A
    card.find_element("css selector", ".card-title a").click()
    _wait(
        "the audio player", lambda: _all(driver, '.player[data-kind="audio"] video'), driver=driver
    )
    assert _video(driver, "v.poster").endswith("/thumbs/poster.png")
    assert [text for _, text in _menu(driver, "format")] == ["HLS", "DASH", "M4A"]
    link = _css(driver, ".download a")
    href = link.get_attribute("href")  # a signed URL (its token is the page's own)
    assert href.startswith(f"{site.url}/play/{asset_id}/") and href.endswith("/mp4/preview.m4a")
    assert link.get_attribute("download") == "tone.m4a"
    got = httpx.get(href)
    assert got.status_code == 200 and got.content[4:8] == b"ftyp"
    assert not _all(driver, ".scrub-tile[data-tile]")
    sizes = [r.text for r in _all(driver, ".panel table tbody tr")]
    assert len(sizes) == 3 and all("—" in r for r in sizes), sizes  # no picture size
    assert ["128 kb/s" in sizes[0], "96 kb/s" in sizes[1], "M4A" in sizes[2]] == [True] * 3

    # it plays; its English captions are on (default), shown over the waveform
    _wait("the captions menu", lambda: _menu(driver, "captions"), driver=driver)
    assert _cue_at(driver, 1.0) == "A rising tone"
    _axe(driver, "asset (audio)")
    _shoot(driver, site, "asset-audio", ready=lambda: _showing_cue(driver))
    _playing(driver)
    _wait("2 s played", lambda: _video(driver, "v.currentTime") > 2, timeout=30, driver=driver)
    assert "does not play" not in _css(driver, ".player-info").text
    played = _css(driver, ".waveform-played")
    assert played.is_displayed() and played.size["width"] > 0

    # a click on the waveform seeks to the time under it: three quarters in
    from selenium.webdriver.common.action_chains import ActionChains

    _video(driver, "v.pause()")
    stage = _css(driver, ".player-stage")
    ActionChains(driver).move_to_element_with_offset(
        stage, stage.size["width"] // 4, 0
    ).click().perform()
    _wait(
        "the seek",
        lambda: abs(_video(driver, "v.currentTime") - 0.75 * TONE_SECONDS) < 0.5,
        timeout=10,
        driver=driver,
    )

    # DASH and the M4A play too
    for format_ in ("dash", "m4a"):
        _pick(driver, "format", format_)
        _wait(format_, lambda f=format_: _css(driver, ".player").get_attribute("data-format") == f)
        _video(driver, "(v.muted = true, v.currentTime = 0.5, v.play(), true)")
        _wait(
            f"{format_} playing",
            lambda: _video(driver, "v.currentTime") > 1.5,
            timeout=30,
            driver=driver,
        )
    assert "M4A" in _css(driver, ".player-info").text
