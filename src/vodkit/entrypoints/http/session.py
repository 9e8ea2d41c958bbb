"""``/v1/session``: the web page signs in with a key once, then holds only a cookie.

The cookie is HttpOnly (no script reads it) and SameSite=Strict (no other site's
page sends it); the key is never put in a URL or a log.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from .auth import SESSION_COOKIE, Caller, _api
from .problems import ERRORS
from .schemas import Out

router = APIRouter(prefix="/v1/session", tags=["session"], responses=ERRORS)


class SignIn(BaseModel):
    key: str = Field(max_length=200)


class SessionOut(Out):
    uploaderId: str
    admin: bool
    csrfToken: str = Field(description="send it as X-CSRF-Token with every change")


@router.post("", response_model=SessionOut)
def sign_in(request: Request, response: Response, body: SignIn) -> SessionOut:
    api = _api(request)
    opened = api.sessions.open(body.key)
    if opened is None:
        raise HTTPException(401, "that key is not a live API key")
    session, who = opened
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(api.sessions.lifetime),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return SessionOut(
        uploaderId=who.uploader_id, admin=who.admin, csrfToken=api.sessions.csrf(session)
    )


@router.get("", response_model=SessionOut)
def whoami(request: Request, who: Caller) -> SessionOut:
    """Who the session (or key) acts as, and the session's CSRF token."""
    session = request.cookies.get(SESSION_COOKIE, "")
    token = _api(request).sessions.csrf(session) if session else ""
    return SessionOut(uploaderId=who.uploader_id, admin=who.admin, csrfToken=token)


@router.delete("", status_code=204, response_class=Response)
def sign_out(request: Request) -> Response:
    """End the session: the cookie goes, and a copy of it is refused from now on."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if session:
        _api(request).sessions.end(session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
