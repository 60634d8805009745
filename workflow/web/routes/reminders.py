"""The reminders (/paminnelser): the rules, and the coming reminders per rule, case and person.

Only reads (services/reminders/planner.py: list_reminders never plans): the date each goes
out, and why (the rule, its step and the due date). The förbundschef and administrators of the
förbund see it (action watch_forbund).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workflow.errors import BadInput, NotFound
from workflow.services.cases.rights import require_watch
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import list_people
from workflow.services.reminders import planner
from workflow.vocabulary import Role, status_label
from workflow.web.deps import AppDep, CurrentUser
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

PATH = "/paminnelser"
PAGE_SIZE = 50
WATCHERS = frozenset({Role.FORBUNDSCHEF, Role.ADMIN})

NAV.append(NavItem("Påminnelser", PATH, WATCHERS))


def _people(app: AppDep, slug: str) -> list[tuple[str, str]]:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, slug)
        page = list_people(session, organisation, limit=500)
    return [(str(p.id), f"{p.name} ({p.email})") for p in page.items if p.active]


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def reminders_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    regel: str = "",
    arende: str = "",
    person: str = "",
    status: str = "pending",
    efter: str | None = None,
) -> HTMLResponse:
    require_watch(app, user)
    rules = planner.rules_overview(app)
    given = {"regel": regel, "arende": arende.strip(), "person": person, "status": status}
    error = None
    status_code = 200
    page = None
    try:
        person_id = int(person) if person else None
    except ValueError:
        person_id = None
        error = "Välj en person i listan."
        status_code = 400
    if error is None:
        try:
            page = planner.list_reminders(
                app,
                forbund=user.forbund_slug,
                status=status or None,
                rule=regel or None,
                case_ref=given["arende"] or None,
                person_id=person_id,
                after=efter,
                limit=PAGE_SIZE,
            )
        except (BadInput, NotFound) as refused:
            # Shown above the filters, so that the choice can be corrected in place.
            error = str(refused)[:1].upper() + str(refused)[1:] + "."
            status_code = 404 if isinstance(refused, NotFound) else 400
    next_url = None
    if page is not None and page.next_after:
        query = {k: v for k, v in given.items() if v}
        next_url = f"{PATH}?{urlencode({**query, 'efter': page.next_after})}"
    statuses = [(s, status_label("reminder", s)) for s in planner.REMINDER_STATUSES]
    return render(
        request,
        "reminders/list.html.j2",
        {
            "rules": rules,
            "rule_labels": {r["id"]: r["label"] for r in rules},
            "people": _people(app, user.forbund_slug),
            "statuses": statuses,
            "given": given,
            "page": page,
            "error": error,
            "next_url": next_url,
            "first_url": PATH if efter else None,
            "status_label": status_label,
        },
        status_code=status_code,
    )
