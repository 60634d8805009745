"""The start page: "Att göra" for the person logged in (the pages of issue 10 fill it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workflow.vocabulary import role_label
from workflow.web.deps import CurrentUser
from workflow.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def start_page(request: Request, user: CurrentUser) -> HTMLResponse:
    roles = sorted(role_label(role) for role in user.roles)
    return render(request, "home/start.html.j2", {"roles": roles})
