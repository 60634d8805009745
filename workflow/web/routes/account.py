"""/konto: the person's own settings in one place, reached from their name in the header:
how reminders reach them, their calendar feed, their API keys. (The main menu is for the
förbund's work; a person's own settings would crowd it.)"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workflow.web.deps import CurrentUser
from workflow.web.templating import render

router = APIRouter()

PATH = "/konto"

# (label, path, what it is for), in the order shown.
SECTIONS = (
    (
        "Påminnelser",
        "/konto/paminnelser",
        "Välj för varje slags påminnelse om den ska komma med e-post direkt, i en daglig eller "
        "veckovis sammanfattning, eller bara på startsidan.",
    ),
    (
        "Kalender",
        "/konto/kalender",
        "En privat adress till en kalender med dina möten, rapporter och justeringar, för "
        "Outlook och andra kalenderprogram.",
    ),
    (
        "API-nycklar",
        "/konto/nycklar",
        "Nycklar som låter ett program använda förbundets API med dina behörigheter.",
    ),
)


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, user: CurrentUser) -> HTMLResponse:
    return render(request, "account/index.html.j2", {"sections": SECTIONS})
