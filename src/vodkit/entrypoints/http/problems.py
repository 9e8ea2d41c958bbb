"""Every error as RFC 9457 ``application/problem+json``; never a traceback or a path.

vodkit's own errors map by kind (the one table below); FastAPI's validation errors
and Starlette's 404/405 are rewritten into the same shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from ...domain import errors
from ...domain.captions import InvalidCaptions
from ...services.uploads import (
    ChecksumMismatch,
    OffsetMismatch,
    UnsupportedVersion,
    UploadGone,
    UploadLocked,
    WrongContentType,
)

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
CHECKSUM_MISMATCH = 460  # tus's "Checksum Mismatch"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vodkit"'}
# Most specific first: the first class an error is an instance of decides.
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (UploadGone, 410),
    (errors.NotFound, 404),
    (errors.RangeNotSatisfiable, 416),
    (UnsupportedVersion, 412),
    (WrongContentType, 415),
    (ChecksumMismatch, CHECKSUM_MISMATCH),
    (errors.LimitExceeded, 413),
    (InvalidCaptions, 422),  # a caption file that is not SubRip or WebVTT
    (errors.TooManyRequests, 429),
    (errors.InvalidInput, 400),
    (UploadLocked, 423),
    (OffsetMismatch, 409),
    (errors.Conflict, 409),
    (errors.TransientError, 503),
)


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""


def problem(status: int, detail: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = detail.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate a client sent
    body = Problem(title=title, status=status, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: Exception) -> int:
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.VodkitError)
    async def vodkit_error(request: Request, exc: errors.VodkitError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:  # the server's own trouble: say so, but not how
            log.warning("%s %s: %s", request.method, request.url.path, exc)
            detail = "a service vodkit needs is unavailable; try again" if status == 503 else ""
            return problem(status, detail, {"Retry-After": "5"} if status == 503 else None)
        return problem(status, str(exc), _headers(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail or ""), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "; ".join(_describe(e) for e in exc.errors()))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem(500, "vodkit failed to answer this request")


def _headers(exc: errors.VodkitError) -> dict[str, str] | None:
    """What a client needs beside the problem to act on it."""
    if isinstance(exc, errors.Unauthenticated):
        return CHALLENGE
    if isinstance(exc, errors.TooManyRequests):
        return {"Retry-After": "5"}
    if isinstance(exc, UnsupportedVersion):
        return {"Tus-Version": exc.supported}
    if isinstance(exc, errors.RangeNotSatisfiable):
        return {"Content-Range": f"bytes */{exc.size}"}
    return None


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))


PROBLEM = {"$ref": "#/components/schemas/Problem"}  # validated as it is sent
ERRORS: dict[int | str, dict[str, Any]] = {  # documented on every route, for the contract
    status: {
        "model": Problem,
        "content": {MEDIA_TYPE: {"schema": PROBLEM}},
        "description": HTTPStatus(status).phrase,
    }
    for status in (400, 401, 404, 422, 500, 503)
}


def body(media_type: str) -> dict[str, Any]:
    """An operation's raw request body, for the OpenAPI document (read by the route itself)."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"requestBody": {"content": content, "required": False}}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses a route may give beyond ``ERRORS``."""
    described = {
        403: "Forbidden", 409: "Conflict", 410: "Gone", 412: "Precondition Failed",
        413: "Content Too Large", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
        423: "Locked", 429: "Too Many Requests", 460: "Checksum Mismatch",
    }  # fmt: skip
    return {
        s: {
            "model": Problem,
            "content": {MEDIA_TYPE: {"schema": PROBLEM}},
            "description": described[s],
        }
        for s in statuses
    }
