"""The diarium (/diarium): every registered case and its documents, searchable; and the
public diarium of a förbund (/diarium/<förbund>, no login) with only what is public.

services/cases/diarium.py decides what each shows: the kansli's page has dnr, date,
direction, counterpart and a short subject per case and document (förbundschef and
administrators, action watch_forbund); the public page dnr, date and subject alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.errors import BadInput, Conflict
from workflow.services.cases import diarium, secrecy
from workflow.vocabulary import Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

PATH = "/diarium"
PAGE_SIZE = 25

SECRECY_PATH = f"{PATH}/sekretess"

# Those who watch the förbund and its registrator (keep_diarium), as shipped.
NAV.append(NavItem("Diarium", PATH, frozenset({Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.ADMIN})))
DONE = {"markerad": "Handlingen är sekretessmarkerad.", "havd": "Sekretessen är hävd."}


def _year(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not (text.isdigit() and len(text) == 4):
        raise BadInput(f"år: {text!r} är inget årtal; skriv fyra siffror, t.ex. 2013")
    return int(text)


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def diarium_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    q: str = "",
    ar: str = "",
    efter: str | None = None,
) -> HTMLResponse:
    return _page(request, app, user, q=q, ar=ar, efter=efter)


def _page(
    request: Request,
    app: Any,
    user: Any,
    *,
    q: str = "",
    ar: str = "",
    efter: str | None = None,
    refused: str | None = None,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    given = {"q": q.strip()[:200], "ar": ar.strip()}
    error = None
    page = None
    try:
        page = diarium.list_diarium(
            app,
            user,
            forbund=user.forbund_slug,
            search=given["q"] or None,
            year=_year(given["ar"]),
            after=efter,
            limit=PAGE_SIZE,
        )
    except BadInput as failed:
        error = forms.sentence(failed)
    query = {k: v for k, v in given.items() if v}
    next_url = (
        f"{PATH}?{urlencode({**query, 'efter': page.next_after})}"
        if page is not None and page.next_after
        else None
    )
    return render(
        request,
        "diarium/list.html.j2",
        {
            "given": given,
            "page": page,
            "error": error,
            "refused": refused,
            "form": form or {},
            "done": DONE.get(request.query_params.get("klart", "")),
            "may_keep": diarium.may_keep(app, user),
            "next_url": next_url,
            "first_url": PATH if efter else None,
            "public_url": f"{PATH}/{user.forbund_slug}",
        },
        status_code=400 if error or refused else 200,
    )


@router.post(
    SECRECY_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def secrecy_submit(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    """Mark an entry secret under a paragraph of OSL, or lift the marking (atgard=hav)."""
    diarium.require_register(app, user)
    ref = str(form.get("dnr") or "").strip()
    lifting = form.get("atgard") == "hav"
    try:
        if lifting:
            secrecy.lift_secrecy(app, ref=ref, actor_email=user.email, forbund=user.forbund_slug)
        else:
            secrecy.mark_secret(
                app,
                ref=ref,
                paragraph=str(form.get("paragraf") or ""),
                actor_email=user.email,
                forbund=user.forbund_slug,
            )
    except (BadInput, Conflict) as failed:
        return _page(request, app, user, refused=forms.sentence(failed), form=dict(form))
    return RedirectResponse(f"{PATH}?klart={'havd' if lifting else 'markerad'}", status_code=303)


@router.get(
    PATH + "/{forbund}",
    response_class=HTMLResponse,
    include_in_schema=False,
    openapi_extra={
        "x-finsam-public": "the diarium is public (OSL 5 kap. 1 §): dnr, date and subject"
    },
)
def public_diarium_page(
    request: Request, app: AppDep, forbund: str, q: str = "", efter: str | None = None
) -> HTMLResponse:
    organisation = diarium.public_forbund(app, forbund)
    search = q.strip()[:200]
    page = diarium.public_diarium(
        app, forbund=organisation.slug, search=search or None, after=efter, limit=PAGE_SIZE
    )
    here = f"{PATH}/{organisation.slug}"
    next_url = (
        f"{here}?{urlencode({**({'q': search} if search else {}), 'efter': page.next_after})}"
        if page.next_after
        else None
    )
    return render(
        request,
        "diarium/public.html.j2",
        {
            "forbund": organisation,
            "here": here,
            "q": search,
            "page": page,
            "next_url": next_url,
            "first_url": here if efter else None,
        },
    )
