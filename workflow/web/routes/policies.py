"""The register of styrdokument (/styrdokument): kind, decided by and when, renewal interval,
the last day to renew, the state in its lifecycle, and overdue documents marked. Register,
send to samråd, adopt, renew and repeal from the pages (services/policies/documents.py).

The document itself (PDF or Office file) may be attached when registering, adopting or
renewing, or on its own (/styrdokument/{id}/dokument); its versions are listed on the
document's page with who added each and when, and downloaded from
/styrdokument/{id}/dokument/{attachment_id}, always as an attachment (routes/reports.py
`download`). The uploads pass the attachment store's checks (services/attachments).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from workflow.app import App
from workflow.case_fields import parse_date
from workflow.errors import BadInput, ConditionFailed, Conflict, NotFound, NotPermitted, Unavailable
from workflow.services import attachments
from workflow.services.access.sessions import Principal
from workflow.services.policies import documents
from workflow.vocabulary import Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.routes.reports import download, read_uploads
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

BASE = "/styrdokument"

NAV.append(
    NavItem("Styrdokument", BASE, frozenset({Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.ADMIN}))
)

DONE = {
    "registrerat": "Styrdokumentet är registrerat.",
    "steg": "Steget är taget.",
    "bifogat": "Dokumentet är bifogat.",
}
REFUSALS = (BadInput, Conflict, ConditionFailed, Unavailable, NotPermitted)


def _status(refused: Exception) -> int:
    return 403 if isinstance(refused, NotPermitted) else 400


def _document(app: App, form: FormData) -> attachments.Upload | None:
    """The form's document file, checked (BadInput if refused: nothing is stored), or None."""
    uploads = read_uploads(app, form.getlist("document"))
    if len(uploads) > 1:
        raise BadInput("bifoga ett dokument åt gången")
    return uploads[0] if uploads else None


def _upload_hints(app: App) -> dict[str, str]:
    return {
        "allowed": attachments.allowed_text(app),
        "max_size": attachments.size_text(app.settings.attachments.max_bytes),
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
            **_upload_hints(app),
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
            upload=_document(app, form),
        )
    except REFUSALS as refused:
        posted = {k: v for k, v in form.items() if isinstance(v, str)}
        return _list_page(
            request,
            app,
            user,
            error=forms.sentence(refused),
            form=posted,
            status_code=_status(refused),
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
    ref = f"sd-{policy_id}"
    view = documents.get_policy(app, ref=ref, forbund=user.forbund_slug)
    files = documents.list_files(app, ref=ref, viewer_email=user.email, forbund=user.forbund_slug)
    return render(
        request,
        "policies/policy.html.j2",
        {
            "policy": view,
            "steps": documents.offered_steps(app, view, user.roles),
            "files": files,
            "may_attach": documents.may_attach(app, user.roles),
            "size_text": attachments.size_text,
            "done": DONE.get(request.query_params.get("klart", "")),
            "error": error,
            **_upload_hints(app),
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
        upload = _document(app, form)
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
                upload=upload,
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
                upload=upload,
            )
    except REFUSALS as refused:
        return _policy_page(
            request,
            app,
            user,
            policy_id,
            error=forms.sentence(refused),
            status_code=_status(refused),
        )
    return RedirectResponse(f"{BASE}/{policy_id}?klart=steg", status_code=303)


@router.post(
    f"{BASE}/{{policy_id}}/dokument",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def policy_attach(
    request: Request, app: AppDep, user: CurrentUser, policy_id: int, form: FormDep
) -> Response:
    ref = f"sd-{policy_id}"
    documents.get_policy(app, ref=ref, forbund=user.forbund_slug)  # another förbund's: 404
    try:
        upload = _document(app, form)
        if upload is None:
            raise BadInput("välj dokumentet att bifoga")
        documents.attach(
            app, ref=ref, actor_email=user.email, upload=upload, forbund=user.forbund_slug
        )
    except REFUSALS as refused:
        return _policy_page(
            request,
            app,
            user,
            policy_id,
            error=forms.sentence(refused),
            status_code=_status(refused),
        )
    return RedirectResponse(f"{BASE}/{policy_id}?klart=bifogat", status_code=303)


@router.get(
    f"{BASE}/{{policy_id}}/dokument/{{attachment_id}}",
    include_in_schema=False,
    openapi_extra={"x-finsam-samples": {"attachment_id": "policy_attachment_id"}},
)
def policy_file(app: AppDep, user: CurrentUser, policy_id: int, attachment_id: str) -> Response:
    if not attachment_id.isdigit() or len(attachment_id) > 9:
        raise NotFound(f"inget dokument {attachment_id[:20]!r} som du kan se")
    view, content = documents.open_file(
        app,
        ref=f"sd-{policy_id}",
        attachment_id=int(attachment_id),
        viewer_email=user.email,
        forbund=user.forbund_slug,
    )
    return download(view, content)
