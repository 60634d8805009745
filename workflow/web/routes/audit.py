"""The audit trail (/logg): the whole förbund's and one case's, filtered by person, kind and
date, newest first (keyset paged), and the chain checked on demand (/logg/kontroll).

A check of a large trail runs in the background (services/cases/audit_trail.py); its page
shows how far it has come. Without JavaScript the page has a link to look again; with htmx it
asks again every two seconds until the check is done. The förbundschef and administrators of
the förbund see it (action watch_forbund).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.errors import BadInput
from workflow.services.cases import audit_trail
from workflow.services.cases.rights import require_watch
from workflow.vocabulary import Role
from workflow.web.deps import AppDep, CurrentUser, verify_csrf
from workflow.web.templating import MONTHS, NAV, NavItem, render

router = APIRouter()

PATH = "/logg"
CHECK_PATH = "/logg/kontroll"
PAGE_SIZE = 50

NAV.append(NavItem("Logg", PATH, frozenset({Role.FORBUNDSCHEF, Role.ADMIN})))

_SPOKEN = re.compile(r"^(\d{1,2})\s+([a-zåäö]+)\s+(\d{4})$")


def parse_day(raw: str, label: str) -> date | None:
    """A date as people write it: 2026-12-01, 20261201 or 1 december 2026 (empty: none)."""
    text = " ".join(raw.strip().lower().split())
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        spoken = _SPOKEN.match(text)
        if spoken and spoken.group(2) in MONTHS:
            day, month, year = spoken.groups()
            return date(int(year), MONTHS.index(month) + 1, int(day))
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{label}: {raw.strip()!r} är inget datum; skriv till exempel 2026-12-01"
        ) from None


def _trail(
    request: Request,
    app: Any,
    user: Any,
    *,
    ref: str | None,
    person: str,
    typ: str,
    fran: str,
    till: str,
    efter: str | None,
) -> HTMLResponse:
    # The case first: another förbund's is not found, whoever asks (then the roles).
    case = audit_trail.case_title(app, user, forbund=user.forbund_slug, ref=ref) if ref else None
    require_watch(app, user)
    given = {"person": person.strip(), "typ": typ, "fran": fran.strip(), "till": till.strip()}
    error = None
    page = None
    try:
        filters = audit_trail.TrailFilter(
            case=ref,
            actor_email=given["person"] or None,
            kind=typ or None,
            since=parse_day(given["fran"], "Från"),
            until=parse_day(given["till"], "Till"),
        )
        page = audit_trail.list_events(
            app, user, forbund=user.forbund_slug, filters=filters, after=efter, limit=PAGE_SIZE
        )
    except BadInput as refused:
        error = str(refused)[:1].upper() + str(refused)[1:] + "."
    here = f"{PATH}/arende/{quote(ref, safe='/')}" if ref else PATH
    query = {k: v for k, v in given.items() if v}
    next_url = (
        f"{here}?{urlencode({**query, 'efter': page.next_after})}"
        if page is not None and page.next_after
        else None
    )
    kinds = audit_trail.event_kinds(app, user, forbund=user.forbund_slug)
    return render(
        request,
        "audit/trail.html.j2",
        {
            "case": case,
            "here": here,
            "given": given,
            "kinds": [(k, audit_trail.kind_label(k)) for k in kinds],
            "kind_label": audit_trail.kind_label,
            "page": page,
            "error": error,
            "next_url": next_url,
            "first_url": here if efter else None,
            "latest": audit_trail.latest_check(app, user, forbund=user.forbund_slug),
        },
        status_code=400 if error else 200,
    )


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def trail_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    person: str = "",
    typ: str = "",
    fran: str = "",
    till: str = "",
    efter: str | None = None,
) -> HTMLResponse:
    return _trail(
        request, app, user, ref=None, person=person, typ=typ, fran=fran, till=till, efter=efter
    )


@router.get(PATH + "/arende/{ref:path}", response_class=HTMLResponse, include_in_schema=False)
def case_trail_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    ref: str,
    person: str = "",
    typ: str = "",
    fran: str = "",
    till: str = "",
    efter: str | None = None,
) -> HTMLResponse:
    return _trail(
        request, app, user, ref=ref, person=person, typ=typ, fran=fran, till=till, efter=efter
    )


@router.post(CHECK_PATH, include_in_schema=False, dependencies=[Depends(verify_csrf)])
def start_check(app: AppDep, user: CurrentUser) -> Response:
    check_id = audit_trail.start_check(app, user, forbund=user.forbund_slug)
    return RedirectResponse(f"{CHECK_PATH}/{check_id}", status_code=303)


@router.get(CHECK_PATH + "/{check_id}", response_class=HTMLResponse, include_in_schema=False)
def check_page(request: Request, app: AppDep, user: CurrentUser, check_id: int) -> HTMLResponse:
    check = audit_trail.get_check(app, user, forbund=user.forbund_slug, check_id=check_id)
    return render(request, "audit/check.html.j2", {"check": check})
