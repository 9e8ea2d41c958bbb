"""Who a request acts as: its ``Authorization: Bearer <key>``, or the browser session that a
key was exchanged for (``/v1/session``); never anything the request says about itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from anyio import to_thread
from fastapi import Cookie, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...domain.access import Principal
from ...domain.errors import Forbidden, TransientError, Unauthenticated
from ...footprints import Api

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
    try:
        done: T = _api(request).read_now(read)
        return done
    except TransientError:  # it would wait (a lock, a network): where waiting is harmless
        return await to_thread.run_sync(read)


NO_KEY = "an API key is needed: Authorization: Bearer <key>"
BAD_KEY = "that key is not a live API key: it is unknown, revoked or expired"
SESSION_ENDED = "the session has ended: sign in again"


async def identified(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)] = None,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token", include_in_schema=False)] = None,
) -> Principal | None:
    """Who the request acts as; None if it sends nothing, or a session that has ended.
    A key that is not valid is refused here (a client that sends one must be told)."""
    return await reading(request, lambda: _identify(request, credentials, session, csrf))


def _identify(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    session: str | None,
    csrf: str | None,
) -> Principal | None:
    api = _api(request)
    if credentials is not None:
        found = api.keys.authenticate(credentials.credentials)
        if found is None:  # the same words for every invalid key: which exist is not told
            raise Unauthenticated(BAD_KEY)
        return found
    if not session:
        return None
    found = api.sessions.principal(session)
    # a cookie alone changes nothing: the token comes in JSON only this origin can read
    changes = request.method not in SAFE_METHODS
    if found is not None and changes and not api.sessions.csrf_valid(session, csrf):
        raise Forbidden("X-CSRF-Token is missing or wrong for this session")
    return found


async def principal(
    who: Annotated[Principal | None, Depends(identified)],
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)] = None,
) -> Principal:
    if who is None:
        raise Unauthenticated(SESSION_ENDED if session else NO_KEY)
    return who


async def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.admin:
        raise Forbidden("this needs an admin key")
    return who


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
Anyone = Annotated[Principal | None, Depends(identified)]
