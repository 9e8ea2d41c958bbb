"""``/v1/uploads``: resumable uploads, tus 1.0 (core, creation, creation-with-upload,
termination, expiration, checksum).

tuspyserver was tried and is not used: in 4.4.3 it writes a PATCH's bytes before it
checks the key, the content type or ``Tus-Resumable``; a PATCH that fails half-way
leaves bytes past the recorded offset, so a resumed upload comes out corrupt; it
waits for locks with ``time.sleep`` on the event loop; it has no checksum
extension. The protocol is small; the state lives in ``services.uploads``.
"""

from __future__ import annotations

import base64
import re
from email.utils import formatdate
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.requests import ClientDisconnect

from ...domain.errors import InvalidInput
from ...services.uploads import CHECKSUMS, PartialUpload, UnsupportedVersion, WrongContentType
from .auth import Caller, _api
from .problems import ERRORS, body, documented
from .threads import settle

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_METADATA = 4096


def resumable(tus_resumable: Annotated[str | None, Header()] = None) -> None:
    if tus_resumable != VERSION:
        raise UnsupportedVersion(VERSION)


router = APIRouter(
    prefix="/v1/uploads",
    tags=["uploads"],
    responses={**ERRORS, **documented(409, 410, 412, 413, 415, 423, 460)},
)
Resumable = Depends(resumable)


def _headers(upload: PartialUpload) -> dict[str, str]:
    headers = {
        "Tus-Resumable": VERSION,
        "Upload-Offset": str(upload.offset),
        "Upload-Expires": formatdate(upload.expires_at, usegmt=True),
        "Cache-Control": "no-store",
    }
    if upload.asset_id:
        headers["Vodkit-Asset-Id"] = upload.asset_id
    return headers


def parse_metadata(header: str | None) -> dict[str, str]:
    """``key base64,key base64``; keys without a value are flags (empty strings)."""
    if not header:
        return {}
    if len(header) > MAX_METADATA:
        raise InvalidInput(f"Upload-Metadata is longer than {MAX_METADATA} characters")
    found: dict[str, str] = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not METADATA_KEY.fullmatch(key):
            raise InvalidInput("Upload-Metadata keys are 1-64 letters, digits or . _ -")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error, or not ASCII
            raise InvalidInput(f"the Upload-Metadata value of {key} is not base64 UTF-8") from exc
    return found


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise InvalidInput(f"Upload-Checksum: {algorithm!r} is not one of {', '.join(CHECKSUMS)}")
    try:
        return algorithm, base64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or not ASCII
        raise InvalidInput("Upload-Checksum: the digest is not base64") from exc


def _number(value: str | None, name: str) -> int:
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise InvalidInput(f"{name} must be a non-negative integer")
    return int(value)


async def _append(
    request: Request, upload: PartialUpload, offset: int, checksum: tuple[str, bytes] | None
) -> PartialUpload:
    uploads = _api(request).uploads
    with uploads.appending(upload, offset, checksum) as sink:
        try:
            async for chunk in request.stream():
                sink.write(chunk)
        except ClientDisconnect:
            pass  # what arrived is recorded; the client resumes from there
        finally:  # however it ended, what arrived goes to disk off the loop (a disk error wins)
            await settle(sink.sync)
    return await to_thread.run_sync(uploads.finish, upload.upload_id)


@router.options("", status_code=204, response_class=Response)
def discover(request: Request) -> Response:
    """What this server speaks (no key needed: it says nothing but the limits)."""
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": VERSION,
            "Tus-Version": VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(_api(request).uploads.max_size),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
        },
    )


@router.post(
    "",
    status_code=201,
    response_class=Response,
    dependencies=[Resumable],
    openapi_extra=body(OFFSET_TYPE),
)
async def create(
    request: Request,
    who: Caller,
    upload_length: Annotated[str | None, Header()] = None,
    upload_metadata: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
    uploader: str | None = None,
) -> Response:
    """Create an upload of ``Upload-Length`` bytes (and send its first bytes, if any)."""
    uploads = _api(request).uploads
    length = _number(upload_length, "Upload-Length")
    metadata = parse_metadata(upload_metadata)
    has_body = request.headers.get("content-length", "0") not in ("", "0")
    if has_body and content_type != OFFSET_TYPE:
        raise WrongContentType(f"a body sent on creation must be {OFFSET_TYPE}")
    upload = uploads.create(who.acting_for(uploader), length, metadata)
    if has_body or length == 0:
        upload = await _append(request, upload, 0, None)
    location = f"{str(request.base_url).rstrip('/')}/v1/uploads/{upload.upload_id}"
    return Response(status_code=201, headers={**_headers(upload), "Location": location})


@router.head("/{upload_id}", response_class=Response, dependencies=[Resumable])
def offset(request: Request, who: Caller, upload_id: str) -> Response:
    upload = _api(request).uploads.find(upload_id, who)
    headers = {**_headers(upload), "Upload-Length": str(upload.length)}
    return Response(status_code=200, headers=headers)


@router.patch(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    dependencies=[Resumable],
    openapi_extra=body(OFFSET_TYPE),
)
async def append(
    request: Request,
    who: Caller,
    upload_id: str,
    upload_offset: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
) -> Response:
    """Append the body at ``Upload-Offset``; the last byte turns the upload into an asset
    (its id in ``Vodkit-Asset-Id``)."""
    if content_type != OFFSET_TYPE:
        raise WrongContentType(f"Content-Type must be {OFFSET_TYPE}")
    at = _number(upload_offset, "Upload-Offset")
    checksum = parse_checksum(upload_checksum)
    upload = _api(request).uploads.find(upload_id, who)
    upload = await _append(request, upload, at, checksum)
    return Response(status_code=204, headers=_headers(upload))


@router.delete("/{upload_id}", status_code=204, response_class=Response, dependencies=[Resumable])
def terminate(request: Request, who: Caller, upload_id: str) -> Response:
    uploads = _api(request).uploads
    uploads.terminate(uploads.find(upload_id, who))
    return Response(status_code=204, headers={"Tus-Resumable": VERSION})
