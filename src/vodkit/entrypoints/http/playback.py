"""``/play/{assetId}/{token}/...``: an asset's outputs for players that cannot send headers.

The token (``services.playback``) is the guard, so any origin may fetch (CORS ``*``).
Media come through the object-store port with their MIME types and ``Range``
(206); segments are immutable, manifests short-lived.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import StreamingResponse

from ...domain import layout
from ...domain.errors import RangeNotSatisfiable
from ...services.playback import output_key
from .auth import _api
from .problems import ERRORS, documented

router = APIRouter(prefix="/play", tags=["playback"], responses={**ERRORS, **documented(403, 416)})
CHUNK = 1024 * 1024
TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges",
}


def _span(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a single ``Range`` asks for; None for the whole object."""
    if header is None:
        return None
    found = RANGE.fullmatch(header.strip())
    if found is None or not (found[1] or found[2]):
        return None  # not a single byte range: the whole object, as RFC 9110 allows
    if found[1]:
        first, last = int(found[1]), int(found[2]) if found[2] else size - 1
    else:
        first, last = max(0, size - int(found[2])), size - 1
    if first >= size or first > last:
        raise RangeNotSatisfiable("the range is outside the object", size=size)
    return first, min(last, size - 1)


@router.options("/{asset_id}/{token}/{path:path}", include_in_schema=False)
def preflight(asset_id: str, token: str, path: str) -> Response:
    headers = {**CORS, "Access-Control-Allow-Headers": "Range", "Access-Control-Max-Age": "86400"}
    return Response(status_code=204, headers=headers)


PARTIAL: dict[int | str, dict[str, Any]] = {
    206: {"description": "Partial Content: the byte range asked for"}
}


@router.get("/{asset_id}/{token}/{path:path}", response_class=Response, responses=PARTIAL)
@router.head(
    "/{asset_id}/{token}/{path:path}",
    response_class=Response,
    responses=PARTIAL,
    operation_id="play_head",
)
def play(
    request: Request,
    asset_id: str,
    token: str,
    path: Annotated[str, Path(examples=["stream/master.m3u8"])],
    range_: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    """An output of a COMPLETED asset, by its path under the asset (``stream/master.m3u8``)."""
    api = _api(request)
    key = output_key(api.playback, api.app.catalog, asset_id, token, path)
    store = api.app.outputs
    size = store.size(key)  # ObjectNotFound: 404
    span = _span(range_, size)
    first, last = span or (0, size - 1)
    suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
    headers = {
        **CORS,
        "Accept-Ranges": "bytes",
        "Content-Length": str(max(0, last - first + 1)),
        "Cache-Control": SHORT if suffix in layout.MANIFEST_SUFFIXES else IMMUTABLE,
    }
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    status = 206 if span is not None else 200
    media_type = TYPES.get(suffix, "application/octet-stream")
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=media_type)

    def body() -> Iterator[bytes]:
        at = first
        while at <= last:
            piece = store.read_range(key, at, min(CHUNK, last - at + 1))
            if not piece:
                return
            yield piece
            at += len(piece)

    return StreamingResponse(body(), status_code=status, headers=headers, media_type=media_type)
