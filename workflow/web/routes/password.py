"""Forgot the password: ask for a one-time link by e-mail, then choose a new password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.errors import BadInput, NotFound
from workflow.services.access import links
from workflow.services.access.passwords import MIN_LENGTH
from workflow.web import forms
from workflow.web.deps import AppDep, verify_csrf
from workflow.web.templating import render

router = APIRouter()

FORGOT_PATH = "/glomt-losenord"
NEW_PATH = "/nytt-losenord"


@router.get(FORGOT_PATH, response_class=HTMLResponse, include_in_schema=False)
def forgot_page(request: Request) -> HTMLResponse:
    return render(request, "auth/forgot.html.j2", {"sent": False, "email": ""})


@router.post(
    FORGOT_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def forgot_submit(
    request: Request, app: AppDep, email: Annotated[str, Form(max_length=254)] = ""
) -> HTMLResponse:
    address = request.client.host if request.client else "okänd"
    if email.strip():
        links.request_link(app, email=email, address=address)
    # The same page whether or not the address has an account.
    return render(request, "auth/forgot.html.j2", {"sent": True, "email": email})


@router.get(NEW_PATH, response_class=HTMLResponse, include_in_schema=False)
def new_password_page(request: Request, app: AppDep, nyckel: str = "") -> HTMLResponse:
    try:
        name = links.check_link(app, nyckel)
    except NotFound as invalid:
        return render(
            request,
            "auth/link_invalid.html.j2",
            {"message": forms.sentence(invalid)},
            status_code=404,
        )
    return _new_form(request, nyckel, name)


def _new_form(
    request: Request, token: str, name: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "auth/new_password.html.j2",
        {"token": token, "name": name, "error": error, "min_length": MIN_LENGTH},
        status_code=status_code,
    )


@router.post(
    NEW_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def new_password_submit(
    request: Request,
    app: AppDep,
    nyckel: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        name = links.check_link(app, nyckel)
    except NotFound as invalid:
        return render(
            request,
            "auth/link_invalid.html.j2",
            {"message": forms.sentence(invalid)},
            status_code=404,
        )
    if password != password_again:
        error = "Lösenorden är inte lika; skriv samma lösenord i båda fälten."
        return _new_form(request, nyckel, name, error, status_code=400)
    try:
        links.use_link(app, token=nyckel, password=password)
    except BadInput as bad:
        return _new_form(request, nyckel, name, forms.sentence(bad), status_code=400)
    except NotFound as invalid:
        return render(
            request,
            "auth/link_invalid.html.j2",
            {"message": forms.sentence(invalid)},
            status_code=404,
        )
    return RedirectResponse("/logga-in?nytt=1", status_code=303)
