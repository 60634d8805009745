"""Logging in and out with e-mail and password."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.services.access.login import (
    ChooseForbund,
    ForbundChoice,
    LoginRefused,
    login,
    logout,
)
from workflow.services.access.throttle import LoginThrottled
from workflow.web import forms
from workflow.web.deps import (
    AppDep,
    OptionalUser,
    secure_cookies,
    session_cookie_name,
    session_token,
    set_session_cookie,
    transport_allows_login,
    verify_csrf,
)
from workflow.web.templating import render

router = APIRouter()

LOGIN_PATH = "/logga-in"
HTTPS_REQUIRED = (
    "Inloggning kräver en krypterad anslutning; öppna sidan med https:// i stället för http://."
)


def safe_next(target: str | None) -> str:
    """Only a path of this site: never another site's address (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form(
    request: Request,
    *,
    email: str = "",
    nasta: str = "/",
    error: str | None = None,
    status_code: int = 200,
    notice: str | None = None,
    choices: list[ForbundChoice] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "auth/login.html.j2",
        {
            "email": email,
            "nasta": safe_next(nasta),
            "error": error,
            "notice": notice,
            "choices": choices or [],
            "oidc_buttons": oidc_buttons(request, safe_next(nasta)),
        },
        status_code=status_code,
    )


# The login page for other ways in (routes/oidc.py): the same page, the same refusal.
login_form = _form


def oidc_buttons(request: Request, nasta: str) -> list[dict[str, str]]:
    """One button per förbund with an OpenID provider configured ([web.oidc.<förbund>])."""
    providers = request.app.state.finsam.settings.web.oidc
    query = "" if nasta == "/" else "?" + urlencode({"nasta": nasta})
    return [
        {
            "href": f"/logga-in/{slug}/oidc{query}",
            "label": provider.label if len(providers) == 1 else f"{provider.label} ({slug})",
        }
        for slug, provider in sorted(providers.items())
    ]


@router.get(LOGIN_PATH, response_class=HTMLResponse, include_in_schema=False)
def login_page(
    request: Request,
    user: OptionalUser,
    nasta: str = "/",
    utloggad: str | None = None,
    nytt: str | None = None,
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(nasta), status_code=303)
    notice = "Du är utloggad." if utloggad else None
    if nytt:
        notice = "Ditt nya lösenord är sparat. Logga in med det."
    error = None if transport_allows_login(request) else HTTPS_REQUIRED
    return _form(request, nasta=nasta, notice=notice, error=error)


@router.post(
    LOGIN_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def login_submit(
    request: Request,
    app: AppDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    nasta: Annotated[str, Form(max_length=2000)] = "/",
    forbund: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not transport_allows_login(request):
        return _form(request, email=email, nasta=nasta, error=HTTPS_REQUIRED, status_code=403)
    address = request.client.host if request.client else "okänd"
    try:
        token = login(app, email=email, password=password, address=address, forbund=forbund or None)
    except ChooseForbund as choose:
        # The password was right for several accounts: which förbund, and the password once
        # more (it is never written back into a page).
        return _form(
            request,
            email=email,
            nasta=nasta,
            notice="Du har konton i flera förbund. Välj vilket du vill logga in i och ange "
            "lösenordet igen.",
            choices=choose.choices,
        )
    except LoginThrottled as refused:
        return _form(
            request, email=email, nasta=nasta, error=forms.sentence(refused), status_code=429
        )
    except LoginRefused as refused:
        return _form(
            request, email=email, nasta=nasta, error=forms.sentence(refused), status_code=401
        )
    response = RedirectResponse(safe_next(nasta), status_code=303)
    # The cookie lives as long as the session may; the server ends it earlier when idle.
    set_session_cookie(request, response, token)
    return response


@router.post("/logga-ut", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout_submit(request: Request, app: AppDep) -> Response:
    logout(app, session_token(request))
    response = RedirectResponse(f"{LOGIN_PATH}?utloggad=1", status_code=303)
    response.delete_cookie(
        session_cookie_name(request),
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )
    return response
