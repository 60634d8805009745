"""Error pages in Swedish without internals (403, 404, 500 ...), and their JSON twin for the API.

FinsamError messages are written for people (one line: the problem and the way out), so a
page shows them; anything else shows only a general sentence and is logged.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import Scope

from workflow.errors import FinsamError
from workflow.web.api import problems as api_problems
from workflow.web.deps import LoginRequired

TITLES = {
    400: "Uppgifterna gick inte att använda",
    401: "Du behöver logga in",
    403: "Det här får du inte göra",
    404: "Sidan finns inte",
    405: "Det går inte att göra så här",
    409: "Någon annan har ändrat",
    429: "För många försök",
    500: "Något gick fel hos oss",
    503: "Tjänsten är inte tillgänglig just nu",
}

MESSAGES = {
    400: "Kontrollera uppgifterna och försök igen.",
    401: "Logga in och försök igen.",
    403: "Du saknar behörighet för det här. Fråga förbundets kansli om du behöver den.",
    404: "Kontrollera adressen, eller gå till startsidan och leta därifrån.",
    405: "Gå tillbaka och använd sidans knappar och formulär.",
    409: "Ladda om sidan och gör ändringen igen.",
    429: "Vänta en stund och försök igen.",
    500: "Försök igen om en stund. Om felet finns kvar, kontakta förbundets kansli.",
    503: "Försök igen om en stund.",
}

CSRF_MESSAGE = (
    "Formuläret kunde inte skickas eftersom sidan var för gammal eller kom från en annan "
    "webbplats. Ladda om sidan och försök igen."
)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def problem(status: int, detail: str | None = None, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document (workflow/web/api/problems.py)."""
    return api_problems.problem(status, detail, **extra)


def error_page(request: Request, status: int, message: str | None = None) -> Response:
    if is_api(request.url.path):
        return problem(status, message)
    from workflow.web.templating import render

    return render(
        request,
        "errors/error.html.j2",
        {
            "status": status,
            "heading": TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400]),
            "message": message or MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400]),
        },
        status_code=status,
    )


def server_error_response(scope: Scope) -> Response:
    """The 500 page, drawn without the database or templates' context (they may be what
    failed)."""
    if is_api(scope.get("path", "")):
        return problem(500)
    from workflow.web.templating import ENVIRONMENT

    try:
        body = ENVIRONMENT.get_template("errors/500.html.j2").render()
    except Exception:  # the last resort must not fail
        body = "<!doctype html><html lang=sv><title>Fel</title><h1>Något gick fel hos oss</h1>"
    return HTMLResponse(body, status_code=500)


def record_refusal(request: Request, status: int, reason: str) -> None:
    """A logged-in person refused by a route (403, or 404 for what is not theirs, e.g. another
    förbund's case) is an `atkomst_nekad` event in their förbund's chain. A path no route
    has is only a 404, not an attempt at anything: what tells them apart is that a route
    asked who the person is (CurrentUser), which a path without a route never does."""
    from workflow.services.access import events
    from workflow.web.deps import get_app

    if status not in (403, 404) or not hasattr(request.state, "principal"):
        return
    principal = request.state.principal
    if principal is None:
        return
    app = get_app(request)
    with app.db.transaction() as session:
        events.record(
            session,
            forbund_id=principal.forbund_id,
            person_id=principal.person_id,
            email=principal.email,
            name=principal.name,
            trigger=events.ATKOMST_NEKAD,
            now=app.clock(),
            comment=f"åtkomst nekad ({status}): {request.method} {request.url.path}",
            data={
                "status": status,
                "method": request.method,
                "path": request.url.path,
                "reason": reason[:200],
            },
        )


def install(web: FastAPI) -> None:
    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        await run_in_threadpool(record_refusal, request, exc.status_code, str(exc.detail))
        if exc.status_code == 403 and exc.detail == "csrf":
            return error_page(request, 403, CSRF_MESSAGE)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail[:1].islower() else None
        response = error_page(request, exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_finsam_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FinsamError)
        if is_api(request.url.path):
            return api_problems.from_error(exc)
        message = str(exc)
        await run_in_threadpool(record_refusal, request, exc.http_status, message)
        from workflow.web.forms import sentence

        return error_page(request, exc.http_status, sentence(message))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        if is_api(request.url.path) and isinstance(exc, RequestValidationError):
            return api_problems.from_validation(exc)
        return error_page(request, 400)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        if is_api(request.url.path):
            return problem(401, "logga in eller ange en API-nyckel")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/logga-in?nasta={quote(target, safe='/')}", status_code=303)

    web.add_exception_handler(StarletteHTTPException, on_http_error)
    web.add_exception_handler(FinsamError, on_finsam_error)
    web.add_exception_handler(RequestValidationError, on_validation_error)
    web.add_exception_handler(LoginRequired, on_login_required)
