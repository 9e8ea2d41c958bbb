"""``/v1/session``: the web page signs in with a key once, then holds only a cookie.

The cookie is HttpOnly (no script reads it) and SameSite=Strict (no other site's
page sends it); the key is never put in a URL or a log.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ...domain.errors import Unauthenticated
from .auth import BAD_KEY, SESSION_COOKIE, Anyone, _api
from .problems import ERRORS
from .schemas import Out

router = APIRouter(prefix="/v1/session", tags=["session"], responses=ERRORS)


class SignIn(BaseModel):
    key: str = Field(max_length=200)


class SessionOut(Out):
    signedIn: bool = Field(description="false: no key or live session (then nothing else)")
    uploaderId: str | None = None
    admin: bool = False
    csrfToken: str = Field(default="", description="send it as X-CSRF-Token with every change")


@router.post("", response_model=SessionOut)
def sign_in(request: Request, response: Response, body: SignIn) -> SessionOut:
    api = _api(request)
    opened = api.sessions.open(body.key)
    if opened is None:
        raise Unauthenticated(BAD_KEY)
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
        signedIn=True,
        uploaderId=who.uploader_id,
        admin=who.admin,
        csrfToken=api.sessions.csrf(session),
    )


@router.get(
    "",
    response_model=SessionOut,
    response_model_exclude_none=True,
    openapi_extra={"security": [{}]},  # with the key scheme: a key, or none ({})
)
def whoami(request: Request, response: Response, who: Anyone) -> SessionOut:
    """Who the session (or key) acts as, and the session's CSRF token; ``signedIn`` false
    (not a 401) for a page whose visitor has not signed in, or whose session has ended:
    the page asks on every load, and a 401 would be a console error each time."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if who is None:
        if session:  # ended or forged: the browser may as well forget it
            _forget(response)
        return SessionOut(signedIn=False)
    token = _api(request).sessions.csrf(session) if session else ""
    return SessionOut(signedIn=True, uploaderId=who.uploader_id, admin=who.admin, csrfToken=token)


def _forget(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.delete("", status_code=204, response_class=Response)
def sign_out(request: Request) -> Response:
    """End the session: the cookie goes, and a copy of it is refused from now on."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if session:
        _api(request).sessions.end(session)
    response = Response(status_code=204)
    _forget(response)
    return response
