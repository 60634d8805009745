"""/api/v1/review/reports: the förbundschef's side of the reports, as the pages have it.

    GET  /review/reports?group=inkommen&kind=delar&year=2026&q=IPS   the table (see_funding),
                            a page at a time: &after=<next_after>&limit=100 (1 to 500)
    GET  /review/reports/{report_id}                                  one report (ETag = version)
    POST /review/reports/{report_id}/approve      {"comment": "..."}  If-Match, Idempotency-Key
    POST /review/reports/{report_id}/completion   {"comment": "what is missing"}

Thin over services/funding/reports.py: the same rights (a project owner is 403, another
förbund's report 404), the version the caller saw in If-Match (428 without it, 409 when the
report changed since), an optional Idempotency-Key, and errors as problem+json.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from workflow.services.funding import payments, reports
from workflow.services.paging import MAX_LIMIT
from workflow.web.api.auth import ApiUser, log_refusals
from workflow.web.api.cases import (
    ETAG_HEADER,
    IfMatch,
    ReportId,
    _check_query,
    _expected_version,
    _problems,
    etag,
    report_number,
)
from workflow.web.api.once import IdempotencyKey, once
from workflow.web.api.schemas import Text, _In
from workflow.web.deps import AppDep

router = APIRouter(
    prefix="/review/reports",
    tags=["rapportgranskning"],
    responses=_problems(400, 401, 403, 404, 422),
    dependencies=[Depends(log_refusals)],
)

SAMPLES = {"x-finsam-samples": {"report_id": "report_id"}}


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
    group: str
    group_label: str
    days_overdue: int | None
    submitted_on: date | None
    progress: str | None
    utfall_tkr: int | None
    deviations: str | None
    participants_women: int | None
    participants_men: int | None
    participants_other: int | None
    reviewed_on: date | None
    review_comment: str | None
    project_owner: str | None
    version: int

    @classmethod
    def of(cls, view: reports.ReportView) -> ReportOut:
        data = {name: getattr(view, name) for name in cls.model_fields if hasattr(view, name)}
        data["group_label"] = reports.GROUPS.get(view.group, view.status_label)
        return cls(**data)


class HeldPayment(BaseModel):
    id: int
    year: int
    amount_tkr: int
    requested_on: date


class ReportDetail(ReportOut):
    held_payments: list[HeldPayment] = Field(
        default_factory=list, description="Utbetalningar som väntar på rapporten."
    )


class ReviewOut(ReportOut):
    released_payments: list[int] = Field(
        default_factory=list, description="Utbetalningar som betalades ut vid godkännandet."
    )
    still_held_payments: list[int] = Field(
        default_factory=list, description="Utbetalningar som nu väntar på en tidigare rapport."
    )


class ReportList(BaseModel):
    """One page of the table; `next_after` goes in `after` for the next page (null: the last)."""

    items: list[ReportOut]
    next_after: str | None


class ApproveIn(_In):
    comment: Text | None = Field(default=None, max_length=4000)


class CompletionIn(_In):
    comment: Text = Field(min_length=1, max_length=4000, description="Vad som ska kompletteras.")


def _response(body: BaseModel, version: int) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag(version)})


@router.get(
    "",
    response_model=ReportList,
    summary="Alla insatsers rapporter (förbundschefen), sidor med markör",
)
def list_reports(
    app: AppDep,
    user: ApiUser,
    group: Annotated[
        str | None, Query(description="kommande, forsenad, inkommen, komplettering, godkand")
    ] = None,
    kind: Annotated[str | None, Query(description="lages, delar, helar eller slut")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Året den ska in.")] = None,
    q: Annotated[str | None, Query(description="Sök i dnr och insatsens namn.")] = None,
    after: Annotated[str | None, Query(description="next_after från sidan före.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = reports.TABLE_LIMIT,
) -> ReportList:
    page = reports.table(
        app,
        viewer_email=user.email,
        forbund=user.forbund_slug,
        groups=(_check_query(group, "group"),) if group else (),  # type: ignore[arg-type]
        kind=_check_query(kind, "kind"),
        year=year,
        text=_check_query(q, "q"),
        after=_check_query(after, "after"),
        limit=limit,
    )
    return ReportList(items=[ReportOut.of(r) for r in page.items], next_after=page.next_after)


@router.get(
    "/{report_id}",
    response_model=ReportDetail,
    summary="Visa en rapport med utbetalningarna som väntar på den",
    responses={200: {"description": "Rapporten.", "headers": ETAG_HEADER}},
    openapi_extra=SAMPLES,
)
def show_report(app: AppDep, user: ApiUser, report_id: ReportId) -> JSONResponse:
    view, held = reports.get_report(
        app, report_id=report_number(report_id), viewer_email=user.email, forbund=user.forbund_slug
    )
    body = ReportDetail(
        **ReportOut.of(view).model_dump(),
        held_payments=[HeldPayment(**_held(p)) for p in held],
    )
    return _response(body, view.version)


def _held(payment: payments.PaymentView) -> dict[str, Any]:
    return {
        "id": payment.id,
        "year": payment.year,
        "amount_tkr": payment.amount_tkr,
        "requested_on": payment.requested_on,
    }


def _review(
    request: Request,
    app: Any,
    user: Any,
    raw_id: str,
    if_match: str | None,
    idempotency_key: str | None,
    comment: str | None,
    approve: bool,
) -> Response:
    report_id = report_number(raw_id)
    expected = _expected_version(if_match)

    def work() -> JSONResponse:
        # Seeing first: another förbund's report is 404, a project owner 403.
        view, _held_payments = reports.get_report(
            app, report_id=report_id, viewer_email=user.email, forbund=user.forbund_slug
        )
        common = {
            "ref": view.ref,
            "report_id": report_id,
            "actor_email": user.email,
            "forbund": user.forbund_slug,
            "expected_version": expected,
        }
        if approve:
            done = reports.approve(app, comment=comment, **common)
        else:
            done = reports.ask_completion(app, comment=comment or "", **common)
        body = ReviewOut(
            **ReportOut.of(done).model_dump(),
            released_payments=done.released_payments or [],
            still_held_payments=done.held_payments or [],
        )
        return _response(body, done.version)

    fingerprint = {"if_match": expected, "approve": approve, "comment": comment}
    return once(request, app, user, idempotency_key, fingerprint, work)


@router.post(
    "/{report_id}/approve",
    response_model=ReviewOut,
    summary="Godkänn en inkommen rapport (If-Match: versionen du såg)",
    responses={
        200: {"description": "Rapporten är godkänd.", "headers": ETAG_HEADER},
        **_problems(409, 428),
    },
    openapi_extra=SAMPLES,
)
def approve_report(
    request: Request,
    app: AppDep,
    user: ApiUser,
    report_id: ReportId,
    body: ApproveIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return _review(
        request, app, user, report_id, if_match, idempotency_key, body.comment, approve=True
    )


@router.post(
    "/{report_id}/completion",
    response_model=ReviewOut,
    summary="Begär komplettering av en inkommen rapport, med vad som saknas",
    responses={
        200: {"description": "Kompletteringen är begärd.", "headers": ETAG_HEADER},
        **_problems(409, 428),
    },
    openapi_extra=SAMPLES,
)
def ask_completion(
    request: Request,
    app: AppDep,
    user: ApiUser,
    report_id: ReportId,
    body: CompletionIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return _review(
        request, app, user, report_id, if_match, idempotency_key, body.comment, approve=False
    )
