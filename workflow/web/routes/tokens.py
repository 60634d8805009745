"""/konto/nycklar: the person's own personal API tokens: make one (its secret shown once)
and revoke one. The same service as `finsam people token` (workflow/services/access/tokens.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from workflow.errors import BadInput, FinsamError
from workflow.services.access import tokens
from workflow.services.access.sessions import Principal
from workflow.web.deps import AppDep, CurrentUser, verify_csrf
from workflow.web.templating import render

router = APIRouter()

PATH = "/konto/nycklar"


def _page(
    request: Request,
    app: AppDep,
    user: Principal,
    *,
    secret: str | None = None,
    made: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = tokens.list_tokens(app, email=user.email, forbund=user.forbund_slug)
    return render(
        request,
        "account/tokens.html.j2",
        {
            "tokens": listed,
            "secret": secret,
            "made": made,
            "error": error,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def tokens_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    notice = "API-nyckeln är återkallad." if request.query_params.get("aterkallad") else None
    return _page(request, app, user, notice=notice)


@router.post(
    PATH, response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def create_token(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
    expires: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        expires_at = None
        if expires.strip():
            try:
                last = datetime.strptime(expires.strip(), "%Y-%m-%d").date()
            except ValueError:
                raise BadInput(f"{expires.strip()!r} är inget datum; skriv ÅÅÅÅ-MM-DD") from None
            expires_at = datetime.combine(
                last + timedelta(days=1), time(0), tzinfo=app.settings.zone
            )
        made = tokens.create_token(
            app, email=user.email, name=name, forbund=user.forbund_slug, expires_at=expires_at
        )
    except FinsamError as error:
        message = str(error)
        return _page(
            request, app, user, error=message[:1].upper() + message[1:] + ".", status_code=400
        )
    # The secret is on this answer only (no-store): it is never stored or shown again.
    return _page(request, app, user, secret=made.secret, made=made.token.name, status_code=201)


@router.post(
    PATH + "/{token_id}/aterkalla",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def revoke_token(
    request: Request, app: AppDep, user: CurrentUser, token_id: int
) -> RedirectResponse:
    tokens.revoke_token(app, email=user.email, token=token_id, forbund=user.forbund_slug)
    return RedirectResponse(f"{PATH}?aterkallad=1", status_code=303)
