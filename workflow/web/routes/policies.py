"""The register of styrdokument (/styrdokument): kind, decided by and when, renewal interval,
the last day to renew, the state in its lifecycle, and overdue documents marked. Register,
send to samråd, adopt, renew and repeal from the pages (services/policies/documents.py).

The document itself is referred to by its diarienummer or reference on the register (the
register keeps no file of its own).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from workflow.app import App
from workflow.case_fields import parse_date
from workflow.errors import BadInput, ConditionFailed, Conflict, Unavailable
from workflow.services.access.sessions import Principal
from workflow.services.policies import documents
from workflow.vocabulary import Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

BASE = "/styrdokument"

NAV.append(
    NavItem("Styrdokument", BASE, frozenset({Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.ADMIN}))
)

DONE = {
    "registrerat": "Styrdokumentet är registrerat.",
    "steg": "Steget är taget.",
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _may_register(app: App, user: Principal) -> bool:
    return bool(user.roles & app.lifecycles[documents.SUBJECT].lifecycle.create_roles)


def _list_page(
    request: Request,
    app: App,
    user: Principal,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    views = documents.list_policies(app, forbund=user.forbund_slug)
    return render(
        request,
        "policies/list.html.j2",
        {
            "policies": views,
            "overdue": [v for v in views if v.overdue],
            "may_register": _may_register(app, user),
            "kinds": [(k, label) for k, (label, _) in documents.KINDS.items()],
            "default_years": {k: years for k, (_, years) in documents.KINDS.items()},
            "done": DONE.get(request.query_params.get("klart", "")),
            "error": error,
            "form": form or {},
        },
        status_code=status_code,
    )


@router.get(BASE, response_class=HTMLResponse, include_in_schema=False)
def policies_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    return _list_page(request, app, user)


@router.post(
    BASE, response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def policy_register(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    try:
        years = _text(form, "renewal_years")
        if years and not years.isdigit():
            raise BadInput(f"förnyelseintervallet {years!r} ska vara ett antal år, till exempel 4")
        decided = _text(form, "decided_on")
        view = documents.register(
            app,
            actor_email=user.email,
            forbund=user.forbund_slug,
            kind=_text(form, "kind"),
            title=_text(form, "title"),
            dnr=_text(form, "dnr") or None,
            decided_by=_text(form, "decided_by") or None,
            decided_on=parse_date(decided, "beslutsdatumet") if decided else None,
            renewal_years=int(years) if years else None,
            comment=_text(form, "comment") or None,
        )
    except (BadInput, Conflict, ConditionFailed, Unavailable) as refused:
        return _list_page(
            request, app, user, error=forms.sentence(refused), form=dict(form), status_code=400
        )
    return RedirectResponse(f"{BASE}/{view.id}?klart=registrerat", status_code=303)


def _policy_page(
    request: Request,
    app: App,
    user: Principal,
    policy_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = documents.get_policy(app, ref=f"sd-{policy_id}", forbund=user.forbund_slug)
    return render(
        request,
        "policies/policy.html.j2",
        {
            "policy": view,
            "steps": documents.offered_steps(app, view, user.roles),
            "done": DONE.get(request.query_params.get("klart", "")),
            "error": error,
        },
        status_code=status_code,
    )


@router.get(
    f"{BASE}/{{policy_id}}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def policy_page(request: Request, app: AppDep, user: CurrentUser, policy_id: int) -> HTMLResponse:
    return _policy_page(request, app, user, policy_id)


@router.post(
    f"{BASE}/{{policy_id}}/steg",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def policy_step(
    request: Request, app: AppDep, user: CurrentUser, policy_id: int, form: FormDep
) -> Response:
    ref = f"sd-{policy_id}"
    current = documents.get_policy(app, ref=ref, forbund=user.forbund_slug)
    trigger = _text(form, "trigger")
    comment = _text(form, "comment") or None
    decided = _text(form, "decided_on")
    version = _text(form, "version")
    try:
        decided_on = parse_date(decided, "beslutsdatumet") if decided else None
        decided_by = _text(form, "decided_by") or None
        if trigger == documents.RENEW:
            if not comment:
                raise BadInput("skriv en kommentar om det nya beslutet, till exempel paragrafen")
            documents.renew(
                app,
                ref=ref,
                actor_email=user.email,
                forbund=user.forbund_slug,
                comment=comment,
                decided_on=decided_on,
                decided_by=decided_by,
            )
        else:
            documents.fire(
                app,
                ref=ref,
                trigger=trigger,
                actor_email=user.email,
                forbund=user.forbund_slug,
                comment=comment,
                decided_on=decided_on,
                decided_by=decided_by,
                expected_version=int(version) if version.isdigit() else current.version,
            )
    except (BadInput, Conflict, ConditionFailed, Unavailable) as refused:
        return _policy_page(
            request, app, user, policy_id, error=forms.sentence(refused), status_code=400
        )
    return RedirectResponse(f"{BASE}/{policy_id}?klart=steg", status_code=303)
