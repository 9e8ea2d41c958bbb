"""The web page: the static bundle built from ``web/`` into the package, served offline.

It gets a Content-Security-Policy that allows no inline script and no other origin;
a source checkout whose bundle is not built still serves the API, and ``/`` says
how to build the page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

BUNDLE = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def install(app: FastAPI, bundle: Path = BUNDLE) -> None:
    index = bundle / "index.html"

    @app.get("/", include_in_schema=False, response_model=None)
    def page() -> Response:
        if not index.is_file():
            return PlainTextResponse(
                "vodkit's web page is not built: run `make web` (npm), then reload.\n",
                status_code=503,
            )
        return FileResponse(index, headers=HEADERS, media_type="text/html")

    if (bundle / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=bundle / "assets"), name="assets")
