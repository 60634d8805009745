"""/konto/paminnelser: per kind of reminder, how it reaches the person: e-mail at once, a
daily or weekly digest, or only on the start page; the kinds the förbund makes compulsory are
shown, not offered (services/reminders/preferences.py decides)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.errors import FinsamError
from workflow.services.access.sessions import Principal
from workflow.services.reminders import preferences
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import render

router = APIRouter()

PATH = "/konto/paminnelser"
FIELD = "val_"  # one radio group per rule: val_<rule id>

# Reached from /konto (routes/account.py), not the main menu.


def _page(
    request: Request,
    app: AppDep,
    user: Principal,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = preferences.preferences_for(app, email=user.email, forbund=user.forbund_slug)
    return render(
        request,
        "account/reminders.html.j2",
        {
            "rules": listed,
            "choices": preferences.DELIVERY_LABELS,
            "field": FIELD,
            "error": error,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def reminder_settings(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    notice = "Dina val är sparade." if request.query_params.get("sparat") else None
    return _page(request, app, user, notice=notice)


@router.post(
    PATH, response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def save_reminder_settings(
    request: Request, app: AppDep, user: CurrentUser, form: FormDep
) -> Response:
    choices = {
        key.removeprefix(FIELD): str(value)
        for key, value in form.multi_items()
        if key.startswith(FIELD)
    }
    try:
        preferences.set_preferences(
            app, email=user.email, choices=choices, forbund=user.forbund_slug
        )
    except FinsamError as error:
        message = str(error)
        return _page(
            request, app, user, error=message[:1].upper() + message[1:] + ".", status_code=400
        )
    return RedirectResponse(f"{PATH}?sparat=1", status_code=303)
