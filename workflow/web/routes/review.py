"""The förbundschef's reports: one table across all insatser, and the review of a report.

    /granskning/rapporter?grupp=forsenad&typ=delar&ar=2026&text=IPS    the table, filtered
    /granskning/rapporter?...&efter=<cursor>                           its next page
    /granskning/rapporter.csv?...  /granskning/rapporter.xlsx?...       the same rows
    /granskning/rapporter/{report_id}                                  one report, to review
    POST /granskning/rapporter/{report_id}/godkann | /komplettering    the review

The rules are services/funding/reports.py: who may read the table (see_funding), that only an
inkommen report can be reviewed, and the version the förbundschef saw (a report changed since
is a 409 page). Approving releases the payments that waited for the report (payments.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput
from workflow.services.access.sessions import Principal
from workflow.services.funding import reports
from workflow.services.funding.report_plan import KIND_LABELS
from workflow.vocabulary import Role
from workflow.web import exports, forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.forms import case_url
from workflow.web.templating import NAV, NavItem, kort_datum, render

router = APIRouter()

TABLE_PATH = "/granskning/rapporter"
REPORT_PATH = "/granskning/rapporter/{report_id}"
SAMPLES = {"x-finsam-samples": {"report_id": "report_id"}}
FUNDING_ROLES = frozenset({Role.FORBUNDSCHEF, Role.ADMIN})

NAV.append(NavItem("Rapporter", TABLE_PATH, FUNDING_ROLES))

FILTERS = ("grupp", "typ", "ar", "text")
# Rows on a page of the table; "Nästa sida" carries the filters and the cursor (`efter`).
PAGE_SIZE = reports.TABLE_LIMIT

HEADERS = reports.TABLE_COLUMNS


def _given(request: Request) -> dict[str, str]:
    return {
        name: request.query_params.get(name, "").strip()
        for name in FILTERS
        if request.query_params.get(name, "").strip()
    }


def _filters(given: dict[str, str]) -> dict[str, Any]:
    return {
        "groups": (given["grupp"],) if "grupp" in given else (),
        "kind": given.get("typ"),
        "year": given.get("ar"),
        "text": given.get("text"),
    }


def _rows(app: App, user: Principal, given: dict[str, str]) -> Iterator[list[Any]]:
    """Every row with the filters, for the files (the page shows a page at a time); the
    filters and the reader are checked before the first row."""
    return reports.table_export(
        app, viewer_email=user.email, forbund=user.forbund_slug, **_filters(given)
    )


def _query(given: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return f"?{urlencode(given)}" if given else ""


@router.get(TABLE_PATH, response_class=HTMLResponse, include_in_schema=False)
def report_table(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    given = _given(request)
    after = request.query_params.get("efter", "").strip() or None
    context: dict[str, Any] = {
        "given": given,
        "groups": list(reports.GROUPS.items()),
        "group_labels": reports.GROUPS,
        "kinds": list(KIND_LABELS.items()),
        "rows": None,
        "error": None,
        "query": _query(given),
        "later": after is not None,
        "next_url": None,
        "first_url": f"{TABLE_PATH}{_query(given)}" if after else None,
    }
    try:
        page = reports.table(
            app,
            viewer_email=user.email,
            forbund=user.forbund_slug,
            after=after,
            limit=PAGE_SIZE,
            **_filters(given),
        )
    except BadInput as refused:
        reports.table(app, viewer_email=user.email, forbund=user.forbund_slug, limit=1)  # rights
        context["error"] = forms.sentence(refused)
        return render(request, "review/table.html.j2", context, status_code=400)
    context["rows"] = page.items
    if page.next_after:
        context["next_url"] = f"{TABLE_PATH}{_query({**given, 'efter': page.next_after})}"
    return render(request, "review/table.html.j2", context)


def _export_name(app: App, suffix: str) -> str:
    return f"rapporter-{kort_datum(local_date(app.clock(), app.settings.zone))}.{suffix}"


@router.get(f"{TABLE_PATH}.csv", include_in_schema=False)
def report_table_csv(request: Request, app: AppDep, user: CurrentUser) -> StreamingResponse:
    rows = _rows(app, user, _given(request))
    return StreamingResponse(
        exports.csv_chunks(rows, HEADERS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(app, "csv")}"'},
    )


@router.get(f"{TABLE_PATH}.xlsx", include_in_schema=False)
def report_table_xlsx(request: Request, app: AppDep, user: CurrentUser) -> StreamingResponse:
    rows = _rows(app, user, _given(request))
    # Written into a temporary file as it is read, then sent from there (as the case list's).
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by file_chunks, once sent)
    try:
        exports.write_xlsx(rows, handle, sheet="Rapporter", headers=HEADERS, widths=())
    except BaseException:
        handle.close()
        raise
    return StreamingResponse(
        exports.file_chunks(handle),
        media_type=exports_type(),
        headers={"Content-Disposition": f'attachment; filename="{_export_name(app, "xlsx")}"'},
    )


def exports_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_page(
    request: Request,
    app: App,
    user: Principal,
    report_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    comment: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    report, held = reports.get_report(
        app, report_id=report_id, viewer_email=user.email, forbund=user.forbund_slug
    )
    return render(
        request,
        "review/report.html.j2",
        {
            "report": report,
            "held": held,
            "case_url": case_url(report.ref),
            "notice": notice,
            "error": error,
            "comment": comment,
            "may_review": report.status == "inkommen" and Role.FORBUNDSCHEF in user.roles,
        },
        status_code=status_code,
    )


NOTICES = {
    "godkand": "Rapporten är godkänd.",
    "komplettering": "Projektägaren har fått veta vad som ska kompletteras.",
}


@router.get(
    REPORT_PATH, response_class=HTMLResponse, include_in_schema=False, openapi_extra=SAMPLES
)
def report_page(request: Request, app: AppDep, user: CurrentUser, report_id: int) -> HTMLResponse:
    done = request.query_params.get("klart", "")
    notice = NOTICES.get(done)
    released = request.query_params.get("utbetalt", "")
    if notice and released.isdigit() and int(released):
        count = int(released)
        notice += (
            f" {count} vilande {'utbetalning' if count == 1 else 'utbetalningar'} betalades ut."
        )
    return _report_page(request, app, user, report_id, notice=notice)


def _review(
    request: Request,
    app: App,
    user: Principal,
    report_id: int,
    approve: bool,
    form: FormData,
) -> Response:
    # Rights and another förbund's report first (404), then the form.
    reports.get_report(app, report_id=report_id, viewer_email=user.email, forbund=user.forbund_slug)
    comment = str(form.get("comment") or "").strip()
    raw_version = str(form.get("version") or "")
    version = int(raw_version) if raw_version.isdigit() else None
    report, _held = reports.get_report(
        app, report_id=report_id, viewer_email=user.email, forbund=user.forbund_slug
    )
    try:
        if approve:
            done = reports.approve(
                app,
                ref=report.ref,
                report_id=report_id,
                actor_email=user.email,
                comment=comment or None,
                forbund=user.forbund_slug,
                expected_version=version,
            )
        else:
            done = reports.ask_completion(
                app,
                ref=report.ref,
                report_id=report_id,
                actor_email=user.email,
                comment=comment,
                forbund=user.forbund_slug,
                expected_version=version,
            )
    except BadInput as refused:
        return _report_page(
            request,
            app,
            user,
            report_id,
            error=forms.sentence(refused),
            comment=comment,
            status_code=400,
        )
    target = f"{TABLE_PATH}/{report_id}?klart={done.status}"
    if done.released_payments:
        target += f"&utbetalt={len(done.released_payments)}"
    return RedirectResponse(target, status_code=303)


@router.post(
    f"{REPORT_PATH}/godkann",
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def approve_report(
    request: Request, app: AppDep, user: CurrentUser, report_id: int, form: FormDep
) -> Response:
    return _review(request, app, user, report_id, approve=True, form=form)


@router.post(
    f"{REPORT_PATH}/komplettering",
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def ask_completion(
    request: Request, app: AppDep, user: CurrentUser, report_id: int, form: FormDep
) -> Response:
    return _review(request, app, user, report_id, approve=False, form=form)
