"""The HTTP API: one FastAPI app over the services, the same on every footprint that serves it.

Its OpenAPI document (``/openapi.json``, rendered at ``/docs``) is the contract.
Every path is under ``/v1`` but health, metrics and playback; every error is
``application/problem+json``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from ... import __version__
from ...footprints import Api
from . import assets, ops, page, playback, problems, session, uploads, webhooks


def create_app(api: Api) -> FastAPI:
    app = FastAPI(
        title="vodkit",
        version=__version__,
        summary="Upload videos; get HLS and DASH over one set of CMAF segments, an MP4, a poster "
        "and a scrub sprite.",
    )
    app.state.api = api
    problems.install(app)
    routers = (
        session.router, assets.router, uploads.router, webhooks.router, playback.router,
        ops.router, ops.dlq,
    )  # fmt: skip
    for router in routers:
        app.include_router(router)
    page.install(app)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics = api.app.metrics
        status = str(response.status_code)
        metrics.increment("HttpRequests", method=request.method, route=path, status=status)
        duration = time.perf_counter() - started
        metrics.observe("HttpRequestDuration", duration, method=request.method, route=path)
        return response

    return app
