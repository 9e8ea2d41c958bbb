"""``/v1/assets``: list, show, follow, retry, delete, and the one-request upload; ``/v1/events``:
follow several at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ...domain.asset import Asset, AssetStatus
from ...domain.errors import AssetNotFound, InvalidInput, TooManyRequests
from ...services.follow import Change, Seen, changes
from .auth import Caller, _api, reading
from .problems import ERRORS, body, documented
from .schemas import AssetList, AssetOut
from .threads import settle

router = APIRouter(prefix="/v1/assets", tags=["assets"], responses=ERRORS)
events = APIRouter(prefix="/v1/events", tags=["assets"], responses=ERRORS)
FOLLOW_POLL = 0.5
MAX_FOLLOWED = 100  # assets in one stream: a page of the library, with room
Status = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


def play_base(request: Request) -> str:
    configured = _api(request).app.settings.public_url.rstrip("/")
    return f"{configured or str(request.base_url).rstrip('/')}/play"


def visible(request: Request, who: Caller, asset_id: str, *, deleted: bool = False) -> Asset:
    """The asset if the caller may see it; another uploader's is as absent as a missing one."""
    asset = _api(request).app.assets.get(asset_id, deleted=deleted)
    if not who.may_see(asset.uploader_id):
        raise AssetNotFound(f"no asset {asset_id}")
    return asset


def out(request: Request, asset: Asset) -> AssetOut:
    api = _api(request)
    view = api.app.assets.view(asset, internal=False)
    return AssetOut.of(view, api.playback.urls(asset, play_base(request)))


@router.get("", response_model=AssetList)
async def list_assets(
    request: Request,
    who: Caller,
    status: Status | None = None,
    uploader: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AssetList:
    """Assets, newest first; another page with ``cursor`` (stable while assets are added)."""

    def listed() -> AssetList:
        assets, after = _api(request).app.assets.page(
            status=AssetStatus(status) if status else None,
            uploader_id=uploader if who.admin else who.uploader_id,  # admins: all, or one
            limit=limit,
            cursor=cursor,
        )
        return AssetList(items=[out(request, a) for a in assets], next=after)

    return await reading(request, listed)


@router.post(
    "",
    response_model=AssetOut,
    status_code=201,
    responses=documented(413, 415),
    openapi_extra=body("application/octet-stream"),
)
async def upload_asset(
    request: Request,
    who: Caller,
    filename: Annotated[str, Query(min_length=1, max_length=1024)],
    uploader: Annotated[str | None, Query(max_length=128)] = None,
) -> AssetOut:
    """Upload a whole file in the request's body (curl --data-binary @clip.mp4); it is
    streamed to disk, never held in memory. For large files, use resumable uploads."""
    acting = who.acting_for(uploader)  # a bad uploader is refused before a byte is read
    receiving = _api(request).uploads.whole(request.headers.get("content-length", ""))
    try:
        async for chunk in request.stream():
            receiving.write(chunk)  # 413 past the limit
        await to_thread.run_sync(receiving.sync)
    except BaseException:
        await settle(receiving.abandon)
        raise
    finish = partial(receiving.finish, acting, filename)
    return out(request, await to_thread.run_sync(finish))


@router.get("/{asset_id}", response_model=AssetOut, responses=documented(403))
async def get_asset(request: Request, who: Caller, asset_id: str) -> AssetOut:
    return await reading(request, lambda: out(request, visible(request, who, asset_id)))


async def _seen(request: Request, who: Caller, asset_id: str) -> Asset:
    # as a dependency: refused before the stream starts
    return await reading(request, lambda: visible(request, who, asset_id))


def _current(request: Request, who: Caller, asset_id: str) -> Seen[AssetOut] | None:
    """The asset now and as shown (its jobs read too, while it processes); None once gone,
    or if the caller may not see it."""
    try:
        asset = visible(request, who, asset_id)
    except AssetNotFound:
        return None
    shown = out(request, asset)
    return Seen(asset, (shown.status, shown.progress), shown, shown.progress is not None)


def _event(change: Change[AssetOut]) -> ServerSentEvent:
    if change.seen is None:  # missing or deleted
        return ServerSentEvent(
            event=change.kind, data={"assetId": change.asset_id}, id=change.cursor
        )
    return ServerSentEvent(event=change.kind, data=change.seen.shown.model_dump(), id=change.cursor)


async def _stream_slot(request: Request, who: Caller) -> AsyncIterator[None]:
    """One of the caller's open event streams, held until its response ends (a dependency
    with ``yield``: released however the stream ends, a client gone before it began too).
    Each holds a connection and polls the catalog, so a key holds only so many at once."""
    held: Counter[str] = request.app.state.event_streams
    limit = _api(request).app.settings.max_event_streams
    holder = who.key_id or who.uploader_id
    if held[holder] >= limit:
        raise TooManyRequests(f"this key has {limit} event streams open already; close one")
    held[holder] += 1
    try:
        yield
    finally:
        held[holder] -= 1
        if not held[holder]:
            del held[holder]


StreamSlot = Depends(_stream_slot)

LastEventId = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        max_length=MAX_FOLLOWED * 9 + 8,
        description="a reconnecting client's last event id: the stream resumes after it",
    ),
]


@router.get(
    "/{asset_id}/events",
    response_class=EventSourceResponse,
    dependencies=[StreamSlot],
    responses=documented(429),
)
async def follow_asset(
    request: Request,
    who: Caller,
    followed: Annotated[Asset, Depends(_seen)],
    last_event_id: LastEventId = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events of the asset's status and progress, until COMPLETED or FAILED.
    Every event has its own id; a client that reconnects with ``Last-Event-ID`` gets what
    changed after that event, and nothing it had."""
    async for event in _follow(request, who, [followed.asset_id], last_event_id, seen=True):
        yield event


def _followed(
    assets: Annotated[
        str,
        Query(
            max_length=MAX_FOLLOWED * 37,  # ids of 36 characters, and commas
            description=f"asset ids, comma-separated (at most {MAX_FOLLOWED})",
        ),
    ],
) -> list[str]:
    ids = list(dict.fromkeys(i.strip() for i in assets.split(",") if i.strip()))
    if not ids or len(ids) > MAX_FOLLOWED or any(len(i) > 64 for i in ids):
        raise InvalidInput(f"assets names 1 to {MAX_FOLLOWED} asset ids, comma-separated")
    return ids


@events.get(
    "", response_class=EventSourceResponse, dependencies=[StreamSlot], responses=documented(429)
)
async def follow_assets(
    request: Request,
    who: Caller,
    ids: Annotated[list[str], Depends(_followed)],
    last_event_id: LastEventId = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events of several assets on one connection (a page of them: a browser
    opens at most six to a server): each one's as ``/v1/assets/{id}/events`` sends them,
    ``deleted`` when one goes, ``missing`` for one the caller cannot see (yet: a fresh
    upload follows once recorded). Ends when every one is COMPLETED, FAILED or deleted.
    Event ids resume as ``/v1/assets/{id}/events``'s do (with the same ``assets``)."""
    async for event in _follow(request, who, ids, last_event_id):
        yield event


async def _follow(
    request: Request, who: Caller, ids: list[str], resume: str | None, *, seen: bool = False
) -> AsyncIterator[ServerSentEvent]:
    """Each asset's changes until every one has ended, as server-sent events whose ids
    let a client resume after the last one it got."""

    async def read(left: tuple[str, ...]) -> list[Seen[AssetOut] | None]:
        return await reading(request, lambda: [_current(request, who, i) for i in left])

    async for change in changes(ids, read, seen=seen, resume=resume, poll=FOLLOW_POLL):
        yield _event(change)


@router.post(
    "/{asset_id}/retry", response_model=AssetOut, status_code=202, responses=documented(409)
)
def retry_asset(request: Request, who: Caller, asset_id: str) -> AssetOut:
    visible(request, who, asset_id)
    return out(request, _api(request).app.assets.retry(asset_id))


@router.delete("/{asset_id}", status_code=204, response_class=Response)
def delete_asset(request: Request, who: Caller, asset_id: str) -> Response:
    """Delete the asset, its outputs and its upload; deleting it again changes nothing."""
    visible(request, who, asset_id, deleted=True)
    _api(request).app.assets.delete(asset_id)
    return Response(status_code=204)
