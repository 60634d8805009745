"""The start page: "Att göra" for the person logged in (services/cases/todo.py decides what)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workflow.services.cases import todo
from workflow.services.funding import reports
from workflow.vocabulary import Role, role_label
from workflow.web.deps import AppDep, CurrentUser
from workflow.web.templating import render

router = APIRouter()

# Cases shown per state (and of one's own); the rest are a link to the filtered case list.
PER_GROUP = 10


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def start_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    roles = sorted(role_label(role) for role in user.roles)
    who = {"forbund": user.forbund_slug, "viewer_email": user.email}
    return render(
        request,
        "home/start.html.j2",
        {
            "roles": roles,
            "todo": todo.todo_for(app, **who, limit=PER_GROUP),
            "mine": todo.mine_for(app, **who, limit=PER_GROUP),
            "kansli": todo.kansli_overview(app, **who),
            "owner": reports.owner_overview(app, **who)
            if Role.PROJEKTAGARE in user.roles
            else None,
        },
    )
