"""Who a request acts as: its ``Authorization: Bearer <key>``, or the browser session that a
key was exchanged for (``/v1/session``); never anything the request says about itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from anyio import to_thread
from fastapi import Cookie, Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...domain.access import Principal
from ...domain.errors import TransientError
from ...footprints import Api

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vodkit"'}
SESSION_COOKIE = "vodkit_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")
bearer = HTTPBearer(auto_error=False, description="an API key: `vodkit keys create`")


def _api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


async def reading(request: Request, read: Callable[[], T]) -> T:
    """A read of the catalog's database: on the event loop where it takes microseconds and
    never waits (SQLite), else in a worker thread. Measured on the asset GET under 64
    clients: a thread hop per read cost three times the CPU of the read, and the GIL
    handoffs put the p99 over 100 ms. A read the database makes wait (a lock held for a
    moment) is read again in a thread, so the loop never waits for it."""
    read_now = _api(request).read_now
    if read_now is not None:
        try:
            done: T = read_now(read)
            return done
        except TransientError:
            pass
    return await to_thread.run_sync(read)


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)] = None,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token", include_in_schema=False)] = None,
) -> Principal:
    return await reading(request, lambda: _principal(request, credentials, session, csrf))


def _principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    session: str | None,
    csrf: str | None,
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


async def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.admin:
        raise HTTPException(403, "this needs an admin key")
    return who


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
