"""Who is calling the JSON API: the owner of a personal API token (Authorization: Bearer).

The API takes no session cookie: a token is sent on purpose by a program, so a page of
another site cannot make a browser call the API with its owner's rights (no CSRF to guard).
No token, or one that is unknown, revoked, expired or of a deactivated person: 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflow.errors import NotFound, NotPermitted
from workflow.services.access import events, tokens
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


def log_refusals(request: Request, user: ApiUser) -> Iterator[None]:
    """A router dependency: a request refused as not found or not permitted (another
    förbund's case, a case the caller may not see, a step their roles do not allow) is an
    access event `atkomst_nekad` in the caller's förbund, through the channel api."""
    try:
        yield
    except (NotFound, NotPermitted) as error:
        app = get_app(request)
        with app.db.transaction() as session:
            events.record(
                session,
                forbund_id=user.forbund_id,
                person_id=user.person_id,
                email=user.email,
                name=user.name,
                trigger=events.ATKOMST_NEKAD,
                now=app.clock(),
                comment=f"nekad: {request.method} {request.url.path[:200]}: {error}"[:500],
                data={
                    "method": request.method,
                    "path": request.url.path[:200],
                    "status": error.http_status,
                },
            )
        raise
