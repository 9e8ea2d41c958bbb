"""Who a request acts as: the ``Authorization: Bearer <key>`` it carries, nothing else."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...domain.access import Principal
from ...services.access import KeyService

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vodkit"'}
bearer = HTTPBearer(auto_error=False, description="an API key: `vodkit keys create`")


def _keys(request: Request) -> KeyService:
    keys: KeyService = request.app.state.api.keys
    return keys


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    found = _keys(request).authenticate(credentials.credentials) if credentials else None
    if found is None:
        raise HTTPException(401, "an API key is needed: Authorization: Bearer <key>", CHALLENGE)
    return found


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.admin:
        raise HTTPException(403, "this needs an admin key")
    return who


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
