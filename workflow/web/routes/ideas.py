"""A new idea (/ideer/ny): the application's fields, the parties, the budget per year.

The form is read as the case services read an idea (`cases.field_errors`, then
`cases.submit_idea`, which holds the two-party rule as the CLI and API do): a refused field
is shown beside it, with what the
person wrote kept. Komplettering of an application is a step on the case page
(routes/cases.py), with the same fields.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.case_fields import field_label, fields_text
from workflow.clock import local
from workflow.errors import BadInput, NotPermitted
from workflow.services import cases
from workflow.services.organisation.parties import parties as party_views
from workflow.vocabulary import Role, roles_text
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

NEW_IDEA_PATH = "/ideer/ny"
# The application's fields, in the order of the form (x-application-fields in states/).
IDEA_FIELDS = (
    "title",
    "inriktning",
    "malgrupp",
    "syfte",
    "mal",
    "start",
    "end",
    "parties",
    "owner_party",
    "project_owner",
    "budget",
    "followup_plan",
)
REQUIRED = ("title", "parties")

NAV.append(
    NavItem(
        "Ny idé",
        NEW_IDEA_PATH,
        frozenset(
            {
                Role.HANDLAGGARE,
                Role.BEREDNINGSGRUPP,
                Role.PROJEKTAGARE,
                Role.FORBUNDSCHEF,
                Role.ADMIN,
            }
        ),
    )
)


def _may_submit(app: Any, user: Any) -> None:
    lifecycle = app.lifecycles[cases.SUBJECT].lifecycle
    if not user.roles & lifecycle.create_roles:
        raise NotPermitted(
            f"du får inte lämna in idéer; det får: {roles_text(lifecycle.create_roles)}"
        )


def _form(
    request: Request,
    app: Any,
    user: Any,
    *,
    submitted: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    comment: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    widgets = forms.widgets(
        IDEA_FIELDS,
        case=None,
        parties=[p.name for p in party_views(app, user.forbund_slug)],
        this_year=local(app.clock(), app.settings.zone).year,
        submitted=submitted,
        errors=errors,
        required=REQUIRED,
    )
    return render(
        request,
        "ideas/new.html.j2",
        {"widgets": widgets, "errors": errors or {}, "error": error, "comment": comment},
        status_code=status_code,
    )


@router.get(NEW_IDEA_PATH, response_class=HTMLResponse, include_in_schema=False)
def new_idea_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    _may_submit(app, user)
    return _form(request, app, user)


@router.post(
    NEW_IDEA_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def submit_idea(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    _may_submit(app, user)
    comment = str(form.get("comment") or "").strip()
    posted = forms.read_form(form, IDEA_FIELDS)
    unknown = sorted(set(posted) - set(IDEA_FIELDS))
    values = forms.changed_values({k: v for k, v in posted.items() if k in IDEA_FIELDS}, None)
    if unknown:  # never dropped: refused, naming what may be given
        raise BadInput(
            f"fältet {unknown[0]!r} ({field_label(unknown[0])}) kan inte anges i en ny idé; "
            f"tillåtna här: {fields_text(IDEA_FIELDS)}"
        )
    errors = cases.field_errors(app, values=values, forbund=user.forbund_slug)
    if "title" not in values:
        errors["title"] = "titel saknas; ge idén en titel"
    if errors:
        return _form(
            request, app, user, submitted=posted, errors=errors, comment=comment, status_code=400
        )
    try:
        view = cases.submit_idea(
            app,
            actor_email=user.email,
            values=values,
            forbund=user.forbund_slug,
            comment=comment or None,
        )
    except BadInput as refused:
        return _form(
            request,
            app,
            user,
            submitted=posted,
            error=str(refused)[:1].upper() + str(refused)[1:] + ".",
            comment=comment,
            status_code=400,
        )
    return RedirectResponse(f"{forms.case_url(view.ref)}?klart=ide", status_code=303)
