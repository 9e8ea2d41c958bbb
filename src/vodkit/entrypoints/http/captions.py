"""``/v1/assets/{id}/captions``: the captions an asset's owner adds (SubRip or WebVTT, told by
their content), listed, read as WebVTT, replaced and removed. Another uploader's asset is
as absent as a missing one on every route."""

from __future__ import annotations

from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Path, Query, Request, Response

from ...domain.errors import InvalidInput, LimitExceeded
from ...domain.tracks import TextKind, is_language_tag
from ...services.captions import sidecar
from .assets import visible
from .auth import Caller, _api
from .problems import ERRORS, body, documented
from .schemas import TrackOut

router = APIRouter(prefix="/v1/assets/{asset_id}/captions", tags=["captions"], responses=ERRORS)
Lang = Annotated[
    str, Path(min_length=1, max_length=35, description="a BCP 47 tag: en, pt-BR, zh-Hans")
]


def _language(lang: str) -> str:
    if not is_language_tag(lang):
        raise InvalidInput(f"{lang!r} is not a well-formed BCP 47 language tag (en, pt-BR...)")
    return lang


@router.get("", response_model=list[TrackOut])
def list_captions(request: Request, who: Caller, asset_id: str) -> list[TrackOut]:
    """The asset's text tracks: its source's own (``embedded``) and those added (``sidecar``)."""
    asset = visible(request, who, asset_id)
    tracks = _api(request).app.captions.list(asset)
    return [TrackOut.model_validate(t.public()) for t in tracks]


@router.put(
    "/{lang}",
    response_model=TrackOut,
    responses={200: {"model": TrackOut, "description": "replaced"}, **documented(409, 413)},
    status_code=201,
    openapi_extra=body("text/vtt"),
)
async def put_caption(
    request: Request,
    response: Response,
    who: Caller,
    asset_id: str,
    lang: Lang,
    label: Annotated[str, Query(max_length=100)] = "",
    kind: Literal["subtitles", "captions"] = "subtitles",
    default: bool = False,
) -> TrackOut:
    """Add the language's captions (a SubRip or WebVTT body; ``kind=captions``: for the deaf
    and hard of hearing), or replace them (200). On a COMPLETED asset the manifests are
    published again at once, with no re-encode; one still processing (or FAILED, to be
    retried) keeps them and publishes them when it completes. An ``asset.updated`` webhook
    follows; 409 past the limit of text tracks."""
    _language(lang)
    api = _api(request)
    asset = await to_thread.run_sync(lambda: visible(request, who, asset_id))
    limit = api.app.settings.rules.track_limits.max_caption_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # before a byte is read
        raise LimitExceeded(f"a caption file may hold at most {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise LimitExceeded(f"a caption file may hold at most {limit} bytes")
    track = sidecar(lang, label=label, kind=TextKind(kind), default=default)
    added = await to_thread.run_sync(lambda: api.app.captions.put(asset, track, bytes(data)))
    response.status_code = 201 if added.created else 200
    return TrackOut.model_validate(added.track.public())


@router.get(
    "/{lang}",
    response_class=Response,
    responses={200: {"content": {"text/vtt": {"schema": {"type": "string"}}}}},
)
def get_caption(request: Request, who: Caller, asset_id: str, lang: Lang) -> Response:
    """The language's captions as WebVTT (its added ones, if any: at any status; the
    source's own once the asset is COMPLETED)."""
    _language(lang)
    asset = visible(request, who, asset_id)
    text = _api(request).app.captions.text(asset, lang)
    return Response(text, media_type="text/vtt; charset=utf-8")


@router.delete("/{lang}", status_code=204, response_class=Response, responses=documented(409))
def delete_caption(request: Request, who: Caller, asset_id: str, lang: Lang) -> Response:
    """Remove the language's added captions (a source's own stay), at any status; a
    COMPLETED asset's manifests are published again."""
    _language(lang)
    asset = visible(request, who, asset_id)
    _api(request).app.captions.remove(asset, lang)
    return Response(status_code=204)
