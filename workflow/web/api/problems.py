"""Errors of the JSON API as RFC 9457 problem documents (application/problem+json).

    {"type": "tag:finsam.invalid,2026:problem/not-found", "title": "Finns inte",
     "status": 404, "detail": "inget ärende 'ide-9' i förbundet akst", "exit_code": 3}

`detail` is the one Swedish line the CLI prints for the same error (after its "fel: "), and
`exit_code` the CLI's exit code, so a script reads an API error as it reads the CLI's. The
status follows the error's kind (workflow/errors.py): bad input 400, not found 404, not
permitted 403, conflict and failed conditions 409, a change without If-Match 428, a reused
Idempotency-Key 422, unavailable 503. Nothing else (a 500) shows internals.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse

from workflow.errors import ConditionFailed, ExitCode, FinsamError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "tag:finsam.invalid,2026:problem/"

KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-input", "Uppgifterna gick inte att använda"),
    401: ("unauthenticated", "Inloggning krävs"),
    403: ("not-permitted", "Inte tillåtet"),
    404: ("not-found", "Finns inte"),
    405: ("method-not-allowed", "Metoden finns inte här"),
    406: ("not-acceptable", "Svarsformatet finns inte"),
    409: ("conflict", "Konflikt med ärendets läge"),
    415: ("unsupported-media-type", "Formatet stöds inte"),
    422: ("idempotency-key-reused", "Nyckeln användes för en annan begäran"),
    428: ("precondition-required", "Versionen saknas"),
    429: ("too-many-requests", "För många försök"),
    500: ("internal", "Något gick fel hos oss"),
    503: ("unavailable", "Tjänsten är inte tillgänglig just nu"),
}
# A condition that does not hold is a 409 of its own kind: something must be supplied.
CONDITION_KIND = ("condition-failed", "Villkoren för steget är inte uppfyllda")

EXIT_CODES = {
    400: ExitCode.BAD_INPUT,
    401: ExitCode.NOT_PERMITTED,
    403: ExitCode.NOT_PERMITTED,
    404: ExitCode.NOT_FOUND,
    409: ExitCode.CONFLICT,
    422: ExitCode.BAD_INPUT,
    428: ExitCode.CONFLICT,
    503: ExitCode.UNAVAILABLE,
}

GENERIC = {
    400: "kontrollera uppgifterna och försök igen",
    401: "logga in eller ange en API-nyckel (Authorization: Bearer …)",
    403: "du saknar behörighet för det här; fråga förbundets kansli om du behöver den",
    404: "det finns inget sådant här; kontrollera adressen",
    405: "metoden finns inte för den här adressen; se /api/v1/openapi.json",
    500: "något gick fel hos oss; försök igen om en stund, och kontakta kansliet om felet finns kvar",
    503: "tjänsten är inte tillgänglig just nu; försök igen om en stund",
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: tuple[str, str] | None = None,
    exit_code: int | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem document with the status's type and title (or `kind`'s)."""
    slug, title = kind or KINDS.get(status, ("error" if status < 500 else "internal", "Fel"))
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail or GENERIC.get(status, GENERIC[500 if status >= 500 else 400]),
    }
    code = exit_code if exit_code is not None else EXIT_CODES.get(status)
    if code is not None:
        body["exit_code"] = int(code)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(error: FinsamError) -> JSONResponse:
    """The problem of a service error: its status, the CLI's line and exit code."""
    status = error.http_status
    if status >= 500:
        return problem(500)
    extra: dict[str, Any] = {}
    kind = None
    if isinstance(error, ConditionFailed):
        kind = CONDITION_KIND
        extra["failures"] = [{"condition": c, "message": m} for c, m in error.failures]
    return problem(status, str(error), kind=kind, exit_code=error.exit_code, **extra)


def _where(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        source, parts = parts[0], parts[1:]
    else:
        source = ""
    named = ".".join(parts)
    if source == "query":
        return f"frågeparametern {named!r}"
    if source == "header":
        return f"huvudet {named!r}"
    if source == "path":
        return f"adressdelen {named!r}"
    return f"fältet {named!r}" if named else "innehållet"


def from_validation(error: RequestValidationError) -> JSONResponse:
    """A request FastAPI could not read into its model: one line naming the first problem."""
    errors = list(error.errors())
    if not errors:
        return problem(400)
    first = errors[0]
    where = _where(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "json_invalid":
        detail = "innehållet är inte giltig JSON; skicka ett JSON-objekt"
    elif kind == "missing":
        detail = f"{where} saknas; ange det och försök igen"
    elif kind == "extra_forbidden":
        detail = f"{where} finns inte här; ta bort det (se /api/v1/openapi.json)"
    else:
        message = first.get("ctx", {}).get("error") if kind == "value_error" else None
        detail = (
            str(message) if message else f"{where} har ett ogiltigt värde; se /api/v1/openapi.json"
        )
    more = len(errors) - 1
    if more:
        detail += f" (och {more} fel till)"
    return problem(400, detail)
