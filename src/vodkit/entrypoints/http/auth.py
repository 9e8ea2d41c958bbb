"""Who a request acts as: its ``Authorization: Bearer <key>``, or the browser session that a
key was exchanged for (``/v1/session``); never anything the request says about itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...domain.access import Principal
from ...footprints import Api

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vodkit"'}
SESSION_COOKIE = "vodkit_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="an API key: `vodkit keys create`")


def _api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)] = None,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token", include_in_schema=False)] = None,
) -> Principal:
    api = _api(request)
    if credentials is not None:
        found = api.keys.authenticate(credentials.credentials)
    elif session:
        found = api.sessions.principal(session)
        # a cookie alone changes nothing: the token comes in JSON only this origin can read
        changes = request.method not in SAFE_METHODS
        if found is not None and changes and not api.sessions.csrf_valid(session, csrf):
            raise HTTPException(403, "X-CSRF-Token is missing or wrong for this session")
    else:
        found = None
    if found is None:
        raise HTTPException(401, "an API key is needed: Authorization: Bearer <key>", CHALLENGE)
    return found


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.admin:
        raise HTTPException(403, "this needs an admin key")
    return who


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
