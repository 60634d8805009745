"""Pages anyone may read without login: the tillgänglighetsredogörelse."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workflow.web.templating import render

router = APIRouter()

ACCESSIBILITY_PATH = "/tillganglighet"


@router.get(ACCESSIBILITY_PATH, response_class=HTMLResponse, include_in_schema=False)
def accessibility_statement(request: Request) -> HTMLResponse:
    return render(request, "info/tillganglighet.html.j2")
