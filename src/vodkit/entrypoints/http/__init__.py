"""The HTTP API: one FastAPI app over the services, the same on every footprint that serves it.

Its OpenAPI document (``/openapi.json``, rendered at ``/docs``) is the contract.
Every path is under ``/v1`` but health, metrics and playback; every error is
``application/problem+json``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import __version__
from ...footprints import Api
from . import assets, captions, ops, page, playback, problems, session, uploads, webhooks

THREADS = 8  # sync routes' worker threads: anyio's 40 cost more in GIL handoffs than they gain
# asyncio's own loop, not uvloop: under 64 keep-alive clients (bench/api.py) uvloop left one
# request in a hundred waiting 0.3-0.9 s while the app spent under 5 ms on each; asyncio's
# p99 was 40-80 ms at the same rate.
LOOP = "asyncio"


@asynccontextmanager
async def _threads(app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


def create_app(api: Api) -> FastAPI:
    app = FastAPI(
        lifespan=_threads,
        docs_url=None,  # page.py serves /docs from the bundle, offline
        redoc_url=None,
        title="vodkit",
        version=__version__,
        summary="Upload videos; get HLS and DASH over one set of CMAF segments, an MP4, a poster "
        "and a scrub sprite.",
    )
    app.state.api = api
    app.state.event_streams = Counter()  # open server-sent event streams, by key
    problems.install(app)
    routers = (
        session.router, assets.router, assets.events, uploads.router, webhooks.router,
        playback.router, ops.router, ops.dlq, captions.router,
    )  # fmt: skip
    for router in routers:
        app.include_router(router)
    page.install(app, public_url=api.app.settings.public_url)
    app.add_middleware(Measured, api=api)
    return app


class Measured:
    """Requests counted and timed by route template. Plain ASGI: Starlette's
    BaseHTTPMiddleware would relay every body through a queue (measured: twice the CPU
    per GET, a third slower uploads)."""

    def __init__(self, app: ASGIApp, api: Api) -> None:
        self.app = app
        self.metrics = api.app.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")  # set by the router
            method = str(scope["method"])
            self.metrics.increment("HttpRequests", method=method, route=path, status=str(status))
            duration = time.perf_counter() - started
            self.metrics.observe("HttpRequestDuration", duration, method=method, route=path)
