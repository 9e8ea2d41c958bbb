"""The web page: the static bundle built from ``web/`` into the package, served offline.

It gets a Content-Security-Policy that allows no inline script and no other origin;
a source checkout whose bundle is not built still serves the API, and ``/`` says
how to build the page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

BUNDLE = Path(__file__).parent / "static"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def playback_origin(public_url: str) -> str | None:
    """The origin of ``VODKIT_PUBLIC_URL``, where playback URLs point; None if it has none."""
    parts = urlsplit(public_url.strip())
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def csp(public_url: str = "") -> str:
    """No inline script, no other origin; but the player's, where playback is served from
    another origin than the page (``VODKIT_PUBLIC_URL``). ``media-src data:``: hls.js gives
    each subtitle track's ``<track>`` an empty ``data:,WEBVTT`` source (its cues come from
    script)."""
    origin = playback_origin(public_url)
    src = f"'self' {origin}" if origin else "'self'"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {src} data: blob:; "
        f"media-src {src} blob: data:; connect-src {src}; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def install(app: FastAPI, bundle: Path = BUNDLE, *, public_url: str = "") -> None:
    index = bundle / "index.html"
    headers = {**HEADERS, "Content-Security-Policy": csp(public_url)}

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False, response_model=None)
    def page() -> Response:
        if not index.is_file():
            return PlainTextResponse(
                "vodkit's web page is not built: run `make web` (npm), then reload.\n",
                status_code=503,
            )
        return FileResponse(index, headers=headers, media_type="text/html")

    # mounted even before the bundle is built: `make web` then a reload works
    app.mount("/assets", HashedFiles(directory=bundle / "assets", check_dir=False), name="assets")
    install_docs(app, bundle)


class HashedFiles(StaticFiles):
    """The bundle's files: Vite names each by a hash of its content, so a name never
    changes meaning and a browser may keep it for good (``/`` itself is no-cache)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


DOCS_CSP = (  # Swagger UI sets style attributes, and shows data: images
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vodkit API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/init.js"></script></body></html>
"""


def install_docs(app: FastAPI, bundle: Path) -> None:
    """``/docs``: the OpenAPI contract in Swagger UI, from the bundle (built from npm, offline);
    without it, FastAPI's page, which loads Swagger UI from a CDN."""
    docs = bundle / "docs"

    @app.get("/docs", include_in_schema=False, response_model=None)
    def rendered() -> Response:
        if not (docs / "swagger-ui-bundle.js").is_file():
            return get_swagger_ui_html(openapi_url="/openapi.json", title="vodkit API")
        headers = {**HEADERS, "Content-Security-Policy": DOCS_CSP}
        return HTMLResponse(DOCS, headers=headers)

    app.mount("/docs/static", StaticFiles(directory=docs, check_dir=False), name="docs")
