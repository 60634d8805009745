"""The outbox (/utkorg) and the health panel (/drift).

The outbox: waiting, sent and failed messages, each with its recipients, subject and text as
sent (services/reminders/outbox.py, outbox_admin.py); a failed message, or every message
failed by one cause, is sent again from here (outbox_admin.retry: audited, the same
Message-ID). The health panel shows the relay and, per scheduler process, when it last swept
and delivered; a process stale after the configured minutes is an incident
(services/reminders/health.py). The förbundschef and administrators see both.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.services.cases.rights import require_watch
from workflow.services.reminders import health, outbox, outbox_admin
from workflow.vocabulary import Role, status_label
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

PATH = "/utkorg"
HEALTH_PATH = "/drift"
PAGE_SIZE = 50
STATUS_TABS = (("failed", "Misslyckade"), ("pending", "Väntar"), ("sent", "Skickade"))
DONE = {
    "ett": "Meddelandet ligger i kö igen och skickas vid nästa utskick.",
    "orsak": "Meddelandena ligger i kö igen och skickas vid nästa utskick.",
}

NAV.append(NavItem("Utkorg", PATH, frozenset({Role.FORBUNDSCHEF, Role.ADMIN})))


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def outbox_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    status: str = "failed",
    efter: str | None = None,
    klart: str = "",
) -> HTMLResponse:
    require_watch(app, user)
    if status not in outbox.OUTBOX_STATUSES:
        status = "failed"
    page = outbox.list_messages(
        app, forbund=user.forbund_slug, status=status, after=efter, limit=PAGE_SIZE
    )
    notice = outbox_admin.failed_notice(app, forbund=user.forbund_slug, roles=user.roles)
    next_url = (
        f"{PATH}?{urlencode({'status': status, 'efter': page.next_after})}"
        if page.next_after
        else None
    )
    return render(
        request,
        "outbox/list.html.j2",
        {
            "tabs": STATUS_TABS,
            "status": status,
            "page": page,
            "failed": notice,
            "next_url": next_url,
            "first_url": f"{PATH}?status={status}" if efter else None,
            "done": DONE.get(klart),
            "status_label": status_label,
        },
    )


@router.get(PATH + "/{message_id}", response_class=HTMLResponse, include_in_schema=False)
def message_page(request: Request, app: AppDep, user: CurrentUser, message_id: int) -> HTMLResponse:
    # The message first: another förbund's is not found, whoever asks (then the roles).
    detail = outbox_admin.show_message(app, message_id=message_id, forbund=user.forbund_slug)
    require_watch(app, user)
    return render(
        request,
        "outbox/message.html.j2",
        {"m": detail, "status_label": status_label},
    )


@router.post(
    PATH + "/{message_id}/skicka-igen",
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def retry_one(app: AppDep, user: CurrentUser, message_id: int) -> Response:
    outbox_admin.show_message(app, message_id=message_id, forbund=user.forbund_slug)
    require_watch(app, user)
    outbox_admin.retry(
        app, actor_email=user.email, message_id=message_id, forbund=user.forbund_slug
    )
    return RedirectResponse(f"{PATH}?status=pending&klart=ett", status_code=303)


@router.post(PATH + "/skicka-igen", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def retry_cause(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    require_watch(app, user)
    cause = str(form.get("orsak") or "").strip()
    outbox_admin.retry(app, actor_email=user.email, cause=cause, forbund=user.forbund_slug)
    return RedirectResponse(f"{PATH}?status=pending&klart=orsak", status_code=303)


@router.get(HEALTH_PATH, response_class=HTMLResponse, include_in_schema=False)
def health_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    require_watch(app, user)
    return render(
        request,
        "outbox/health.html.j2",
        {
            "relay": health.relay_status(app, user.forbund_slug),
            "schedulers": health.scheduler_status(app),
            "incidents": health.incidents(app, user.forbund_slug),
            "whole_plan": health.whole_plan(app, user.forbund_slug),
            # "15 minuter", "7,5 minuter": the setting is a float, written as a Swede would.
            "stale_minutes": f"{app.settings.mail.stale_minutes:g}".replace(".", ","),
            "state_labels": {"running": "kör", "stale": "inaktuell", "stopped": "stoppad"},
        },
    )
