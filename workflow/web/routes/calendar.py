"""The calendar feed: /kalender/<secret>.ics for calendar programs (the secret is the key:
no login), and /konto/kalender where the person makes, renews or closes their address.
The same service as everything else (workflow/services/calendar/)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from workflow.services.access.sessions import Principal
from workflow.services.calendar import access
from workflow.web.deps import AppDep, CurrentUser, verify_csrf
from workflow.web.templating import render

router = APIRouter()

PATH = "/konto/kalender"
MEDIA_TYPE = "text/calendar; charset=utf-8"


@router.get(
    access.PATH,
    include_in_schema=False,
    openapi_extra={
        "x-finsam-public": "a calendar program cannot log in: the secret in the address is "
        "the key, and only its owner's events are in it",
        "x-finsam-samples": {"token": "calendar_token"},
    },
)
def calendar_feed(app: AppDep, token: str) -> Response:
    body = access.feed_for_secret(app, token)
    if body is None:
        # Unknown, renewed away, closed, or its owner has left: nothing to say which.
        raise HTTPException(404)
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": 'inline; filename="finsam.ics"',
            # Calendar programs poll; a proxy must not keep one person's feed for another.
            "Cache-Control": "private, max-age=300",
        },
    )


def _page(
    request: Request,
    app: AppDep,
    user: Principal,
    *,
    made: access.NewFeed | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    current = access.current_feed(app, email=user.email, forbund=user.forbund_slug)
    return render(
        request,
        "account/calendar.html.j2",
        {"current": current, "made": made, "notice": notice},
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def calendar_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    notice = (
        "Kalenderadressen är stängd. Den gamla adressen visar inget längre."
        if request.query_params.get("stangd")
        else None
    )
    return _page(request, app, user, notice=notice)


@router.post(
    PATH, response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def renew_address(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    made = access.renew_feed(app, email=user.email, forbund=user.forbund_slug)
    # The address is on this answer only (no-store): it is never stored or shown again.
    return _page(request, app, user, made=made, status_code=201)


@router.post(
    PATH + "/stang",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def close_address(request: Request, app: AppDep, user: CurrentUser) -> RedirectResponse:
    access.revoke_feed(app, email=user.email, forbund=user.forbund_slug)
    return RedirectResponse(f"{PATH}?stangd=1", status_code=303)
