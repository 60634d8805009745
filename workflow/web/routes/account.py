"""/konto: the person's own settings in one place, reached from their name in the header:
how reminders reach them, their calendar feed, their API keys, and the identities at an
OpenID provider linked to them (`finsam people identity`), each of which they may remove
unless it is their last way to log in. (The main menu is for the förbund's work; a
person's own settings would crowd it.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.errors import FinsamError
from workflow.services.access import identities
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, verify_csrf
from workflow.web.templating import render

router = APIRouter()

PATH = "/konto"
UNLINK_PATH = "/konto/identiteter/ta-bort"

# (label, path, what it is for), in the order shown.
SECTIONS = (
    (
        "Påminnelser",
        "/konto/paminnelser",
        "Välj för varje slags påminnelse om den ska komma med e-post direkt, i en daglig eller "
        "veckovis sammanfattning, eller bara på startsidan.",
    ),
    (
        "Kalender",
        "/konto/kalender",
        "En privat adress till en kalender med dina möten, rapporter och justeringar, för "
        "Outlook och andra kalenderprogram.",
    ),
    (
        "API-nycklar",
        "/konto/nycklar",
        "Nycklar som låter ett program använda förbundets API med dina behörigheter.",
    ),
)


def _page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    linked = identities.own_identities(app, person_id=user.person_id, forbund_id=user.forbund_id)
    return render(
        request,
        "account/index.html.j2",
        {"sections": SECTIONS, "identities": linked, "notice": notice, "error": error},
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def account_page(
    request: Request, app: AppDep, user: CurrentUser, borttagen: str | None = None
) -> HTMLResponse:
    notice = "Inloggningsidentiteten är borttagen." if borttagen else None
    return _page(request, app, user, notice=notice)


@router.post(
    UNLINK_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def unlink_identity(
    request: Request, app: AppDep, user: CurrentUser, identity: Annotated[int, Form()]
) -> Response:
    try:
        identities.unlink_own_identity(
            app,
            person_id=user.person_id,
            forbund_id=user.forbund_id,
            identity_id=identity,
            by=user.email,
        )
    except FinsamError as refused:
        status = getattr(refused, "http_status", 400)
        return _page(request, app, user, error=forms.sentence(refused), status_code=status)
    return RedirectResponse(f"{PATH}?borttagen=1", status_code=303)
