"""/api/v1/reports: a project owner's due reports, one report, saving a draft and sending
(or completing) it with attachments; /api/v1/attachments/{id} downloads one.

Thin over workflow/services/funding/reports.py and workflow/services/attachments, with the
rights of the pages: a report of an insats the caller may not see (another owner's, another
förbund's) is 404. Saving and sending need the report's version in `If-Match` (428 without,
409 when it changed) and take an optional `Idempotency-Key`. Attachments travel in the JSON
as base64 and pass the same checks as on the page (size, type, name) before anything is
stored. The förbundschef's review (approve, ask for completion) belongs here too, as
POST /reports/{report_id}/review (helper "chef").
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from workflow.errors import BadInput, NotFound
from workflow.services import attachments
from workflow.services.funding import reports
from workflow.settings import AttachmentSettings
from workflow.web.api.auth import ApiUser, log_refusals
from workflow.web.api.cases import (
    ETAG_HEADER,
    IfMatch,
    ReportId,
    _expected_version,
    _problems,
    etag,
    report_number,
)
from workflow.web.api.once import IdempotencyKey, once
from workflow.web.api.schemas import Text, _In
from workflow.web.deps import AppDep

router = APIRouter(
    prefix="/reports",
    tags=["rapporter"],
    responses=_problems(400, 401, 404, 422),
    dependencies=[Depends(log_refusals)],
)
files_router = APIRouter(
    prefix="/attachments",
    tags=["bilagor"],
    responses=_problems(401, 404),
    dependencies=[Depends(log_refusals)],
)

SAMPLES = {"x-finsam-samples": {"report_id": "report_id"}}


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    added_by: str
    added_at: datetime
    url: str

    @classmethod
    def of(cls, view: attachments.AttachmentView) -> AttachmentOut:
        return cls(
            id=view.id,
            filename=view.filename,
            content_type=view.content_type,
            size_bytes=view.size_bytes,
            sha256=view.sha256,
            added_by=view.added_by,
            added_at=view.added_at,
            url=f"/api/v1/attachments/{view.id}",
        )


class ReportOut(BaseModel):
    id: int
    ref: str
    title: str
    kind: str
    kind_label: str
    period_start: date
    period_end: date
    due_on: date
    status: str
    status_label: str
    days_overdue: int | None
    submitted_on: date | None
    progress: str | None
    utfall_tkr: int | None
    participants_women: int | None
    participants_men: int | None
    participants_other: int | None
    deviations: str | None
    review_comment: str | None
    owner_comment: str | None
    draft_saved_at: datetime | None
    version: int
    attachments: list[AttachmentOut] = Field(default_factory=list)

    @classmethod
    def of(cls, view: reports.ReportView) -> ReportOut:
        return cls(
            **{name: getattr(view, name) for name in cls.model_fields if name != "attachments"},
            attachments=[AttachmentOut.of(a) for a in view.attachments],
        )


class DueReports(BaseModel):
    items: list[ReportOut]


class FileIn(_In):
    filename: Text = Field(max_length=200)
    content_base64: str = Field(description="Filens innehåll, base64.")


class ReportIn(_In):
    """A report's values; blank or missing is none. Sending needs `progress`."""

    progress: Text | None = None
    utfall_tkr: int | None = None
    participants_women: int | None = None
    participants_men: int | None = None
    participants_other: int | None = None
    deviations: Text | None = None
    comment: Text | None = Field(default=None, description="Svaret på en komplettering.")
    attachments: list[FileIn] = Field(default_factory=list, max_length=10)


def _uploads(app: Any, files: list[FileIn]) -> list[attachments.Upload]:
    limit = app.settings.attachments.max_bytes
    result = []
    for item in files:
        if len(item.content_base64) > (limit + 2) // 3 * 4 + 4:
            raise BadInput(
                f"filen {item.filename!r} är större än {attachments.size_text(limit)}; "
                "dela upp eller komprimera den"
            )
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise BadInput(
                f"filen {item.filename!r}: content_base64 är inte giltig base64"
            ) from None
        result.append(attachments.check_upload(app, item.filename, content))
    return result


def _answer(app: Any, user: Any, report_id: int, status: int = 200) -> JSONResponse:
    page = reports.report_page(
        app, report_id=report_id, viewer_email=user.email, forbund=user.forbund_slug
    )
    body = ReportOut.of(page.report)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers={"ETag": etag(body.version)}
    )


@router.get("/due", response_model=DueReports, summary="Dina rapporter att lämna")
def due_reports(app: AppDep, user: ApiUser) -> DueReports:
    """Reports of the caller's own insatser that are due soon, late or to be completed."""
    overview = reports.owner_overview(app, viewer_email=user.email, forbund=user.forbund_slug)
    return DueReports(items=[ReportOut.of(view) for view in overview.reports])


@router.get(
    "/{report_id}",
    response_model=ReportOut,
    summary="Visa en rapport",
    responses={200: {"description": "Rapporten.", "headers": ETAG_HEADER}},
    openapi_extra=SAMPLES,
)
def show_report(app: AppDep, user: ApiUser, report_id: ReportId) -> JSONResponse:
    return _answer(app, user, report_number(report_id))


def _change(
    request: Request,
    app: Any,
    user: Any,
    raw_id: str,
    body: ReportIn,
    if_match: str | None,
    idempotency_key: str | None,
    send: bool,
) -> Response:
    number = report_number(raw_id)
    expected = _expected_version(if_match)

    def work() -> JSONResponse:
        # Seeing comes first: a report the caller may not see is not found.
        reports.report_page(
            app, report_id=number, viewer_email=user.email, forbund=user.forbund_slug
        )
        values: dict[str, Any] = {
            "actor_email": user.email,
            "report_id": number,
            "forbund": user.forbund_slug,
            "progress": body.progress,
            "utfall": body.utfall_tkr,
            "deviations": body.deviations,
            "women": body.participants_women,
            "men": body.participants_men,
            "other": body.participants_other,
            "comment": body.comment,
            "uploads": _uploads(app, body.attachments),
            "expected_version": expected,
        }
        if send:
            reports.submit(app, **{**values, "progress": body.progress or ""})
        else:
            reports.save_draft(app, **values)
        return _answer(app, user, number)

    fingerprint = {"if_match": expected, "send": send, **body.model_dump(mode="json")}
    return once(request, app, user, idempotency_key, fingerprint, work)


@router.post(
    "/{report_id}/draft",
    response_model=ReportOut,
    summary="Spara ett utkast (If-Match: versionen du såg)",
    responses={
        200: {"description": "Utkastet är sparat.", "headers": ETAG_HEADER},
        **_problems(403, 409, 428),
    },
    openapi_extra=SAMPLES,
)
def save_draft(
    request: Request,
    app: AppDep,
    user: ApiUser,
    report_id: ReportId,
    body: ReportIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return _change(request, app, user, report_id, body, if_match, idempotency_key, send=False)


@router.post(
    "/{report_id}/submit",
    response_model=ReportOut,
    summary="Skicka (eller komplettera) rapporten (If-Match: versionen du såg)",
    responses={
        200: {"description": "Rapporten är inlämnad.", "headers": ETAG_HEADER},
        **_problems(403, 409, 428),
    },
    openapi_extra=SAMPLES,
)
def submit_report(
    request: Request,
    app: AppDep,
    user: ApiUser,
    report_id: ReportId,
    body: ReportIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return _change(request, app, user, report_id, body, if_match, idempotency_key, send=True)


@files_router.get(
    "/{attachment_id}",
    summary="Ladda ned en bilaga",
    response_class=Response,
    responses={
        200: {
            "description": "Filen, alltid som nedladdning.",
            "content": {kind: {} for kind in sorted(set(AttachmentSettings().types.values()))},
        }
    },
    openapi_extra={"x-finsam-samples": {"attachment_id": "attachment_id"}},
)
def get_attachment(
    app: AppDep,
    user: ApiUser,
    attachment_id: Annotated[str, Path(description="Bilagans nummer.")],
) -> Response:
    from workflow.web.routes.reports import download

    if not attachment_id.isdigit() or len(attachment_id) > 9:
        raise NotFound(f"ingen bilaga {attachment_id[:20]!r} som du kan se")
    view, content = attachments.open_attachment(
        app, attachment_id=int(attachment_id), viewer_email=user.email, forbund=user.forbund_slug
    )
    return download(view, content)
