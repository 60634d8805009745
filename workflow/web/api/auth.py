"""Who is calling the JSON API: the owner of a personal API token (Authorization: Bearer).

The API takes no session cookie: a token is sent on purpose by a program, so a page of
another site cannot make a browser call the API with its owner's rights (no CSRF to guard).
No token, or one that is unknown, revoked, expired or of a deactivated person: 401.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflow.services.access import tokens
from workflow.services.access.sessions import Principal
from workflow.web.deps import get_app

BEARER = HTTPBearer(
    auto_error=False,
    description="En personlig API-nyckel (finsam people token create, eller /konto/nycklar).",
)

UNAUTHENTICATED = (
    "ingen giltig API-nyckel; skicka 'Authorization: Bearer <nyckel>' med en nyckel som inte "
    "är återkallad (skapa en med 'finsam people token create')"
)


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    principal = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        principal = tokens.authenticate(get_app(request), credentials.credentials)
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail=UNAUTHENTICATED,
            headers={"WWW-Authenticate": 'Bearer realm="finsam"'},
        )
    request.state.principal = principal
    return principal


ApiUser = Annotated[Principal, Depends(api_principal)]
