"""The web page's routes: ``/`` for GET and HEAD, the bundle's hashed files kept for good."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
from fastapi import FastAPI

from vodkit.entrypoints.http.page import csp, install


def fetch(bundle: Path, *requests: tuple[str, str], public_url: str = "") -> list[httpx.Response]:
    (bundle / "assets").mkdir()
    (bundle / "index.html").write_text("<!doctype html><title>vodkit</title>")
    (bundle / "assets" / "index-Bac1yCVZ.js").write_text("console.log(1)")
    app = FastAPI()
    install(app, bundle, public_url=public_url)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            return [await http.request(method, path) for method, path in requests]

    return anyio.run(run)


def test_the_page_answers_head_as_get_without_a_body(tmp_path: Path) -> None:
    got, head = fetch(tmp_path, ("GET", "/"), ("HEAD", "/"))
    assert got.status_code == head.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"] == "text/html; charset=utf-8"
    assert head.content == b"" and b"vodkit" in got.content
    assert got.headers["cache-control"] == head.headers["cache-control"] == "no-cache"


def test_the_bundles_files_are_immutable_and_a_missing_one_is_404(tmp_path: Path) -> None:
    found, missing = fetch(tmp_path, ("GET", "/assets/index-Bac1yCVZ.js"), ("GET", "/assets/x.js"))
    assert found.status_code == 200 and found.text == "console.log(1)"
    assert found.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert missing.status_code == 404


def test_playback_from_another_public_origin_is_allowed_by_the_pages_policy(
    tmp_path: Path,
) -> None:
    (page,) = fetch(tmp_path, ("GET", "/"), public_url="https://media.example.com:8443/vod/")
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    for directive in ("connect-src", "media-src", "img-src"):
        assert policy[directive].startswith("'self' https://media.example.com:8443"), directive
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"


def test_a_public_url_without_a_plain_origin_adds_nothing_to_the_policy() -> None:
    same = csp("")
    for bad in (
        "media.example.com",
        "javascript:alert(1)",
        "https://x.com; script-src *",
        "https://x.com\r\nSet-Cookie: a=b",
        "ftp://x.com",
        "https://u:p@x.com/",
    ):
        assert csp(bad) == same, bad
