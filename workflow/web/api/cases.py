"""/api/v1/cases: list, show, submit an idea, the caller's steps, take a step.

Thin over workflow/services/cases: the caller (the token's owner) is passed to the service
as viewer or actor, so the API sees and may do exactly what the pages and the CLI let the
same person see and do; a case of another förbund, or one the caller may not see, is 404.

A step needs the version the caller saw in `If-Match` (428 without it, 409 when the case has
changed since). POST /cases and a step take an optional `Idempotency-Key`: a repeat with
the same key returns the first answer and changes nothing (workflow/web/api/once.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from workflow.errors import BadInput, FinsamError, NotFound
from workflow.services import cases as case_service
from workflow.web.api.auth import ApiUser, log_refusals
from workflow.web.api.once import IdempotencyKey, once
from workflow.web.api.schemas import (
    CaseDetail,
    CaseOut,
    CasePage,
    IdeaIn,
    Problem,
    StepIn,
    StepList,
    StepOut,
)
from workflow.web.deps import AppDep


class PreconditionRequired(FinsamError):
    """A change without the version the caller saw (If-Match)."""

    exit_code = 5
    http_status = 428


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Felaktig begäran: okänt fält, ogiltigt värde, fält som steget inte tar.",
        401: "Ingen giltig API-nyckel.",
        403: "Personen får inte: roller eller relation till ärendet.",
        404: "Inget sådant ärende som personen får se (också ett annat förbunds).",
        409: "Ärendet har ändrats sedan versionen i If-Match, är i ett annat tillstånd, "
        "eller stegets villkor håller inte; eller samma Idempotency-Key pågår.",
        422: "Idempotency-Key användes redan för en annan begäran.",
        428: "If-Match saknas: ange versionen du såg.",
    }
    return {
        status: {
            "model": Problem,
            "description": described[status],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in statuses
    }


router = APIRouter(
    prefix="/cases",
    tags=["ärenden"],
    responses=_problems(400, 401, 404, 422),
    dependencies=[Depends(log_refusals)],
)

ETAG_HEADER = {
    "ETag": {
        "description": "Ärendets version, att skicka i If-Match.",
        "schema": {"type": "string"},
    }
}
_VERSION = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
_IDEA_NUMBER = re.compile(r"^ide-(\d+)$")


def etag(version: int) -> str:
    return f'"{version}"'


def _check_ref(ref: str, forbund: str) -> str:
    """A reference a case could have; anything else is not found (never a 500)."""
    number = _IDEA_NUMBER.match(ref.strip())
    if (
        len(ref) > 60
        or not ref.isprintable()
        or "\x00" in ref
        or (number is not None and int(number.group(1)) > 2**31 - 1)
    ):
        raise NotFound(f"inget ärende {ref[:60]!r} i förbundet {forbund}; se 'finsam cases list'")
    return ref


def _check_query(value: str | None, name: str) -> str | None:
    if value is not None and ("\x00" in value or not value.isprintable() or len(value) > 200):
        raise BadInput(f"frågeparametern {name!r} får vara högst 200 tecken utan styrtecken")
    return value


# The version a caller saw, as every changing API route reads it.
IfMatch = Annotated[str | None, Header(alias="If-Match", description="Versionen du såg (ETag).")]
# A report's number in a path: text, so that a malformed one is "not found" like any other
# report the caller cannot see, rather than a validation error that tells it is malformed.
ReportId = Annotated[str, Path(description="Rapportens nummer.")]


def report_number(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"ingen rapport {raw[:20]!r} som du kan se")
    return int(raw)


def _expected_version(if_match: str | None) -> int:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "ange versionen du såg i If-Match (ärendets ETag från GET /cases/{ref}), så "
            "skriver ingen över någon annans ändring"
        )
    found = _VERSION.match(if_match)
    if found is None:
        raise BadInput(
            f'ogiltigt If-Match {if_match[:40]!r}; ange ärendets version som ETag, t.ex. "3"'
        )
    return int(found.group(1))


@router.get("", response_model=CasePage, summary="Lista ärenden (filter, sidor med markör)")
def list_cases(
    app: AppDep,
    user: ApiUser,
    state: Annotated[list[str], Query(description="Tillstånd; flera ger något av dem.")] = [],  # noqa: B006
    inriktning: Annotated[str | None, Query(description="individ eller struktur")] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Perioden berör året.")] = None,
    party: Annotated[
        str | None, Query(description="En part (namn eller id) som deltar eller äger.")
    ] = None,
    q: Annotated[str | None, Query(description="Sök i dnr och titel.")] = None,
    project_owner: Annotated[str | None, Query(description="Projektägarens e-post.")] = None,
    after: Annotated[str | None, Query(description="next_after från sidan före.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CasePage:
    for value in state:
        _check_query(value, "state")
    filters = case_service.CaseFilter(
        states=tuple(state),
        inriktning=_check_query(inriktning, "inriktning"),
        year=year,
        party=_check_query(party, "party"),
        text=_check_query(q, "q"),
        project_owner_email=_check_query(project_owner, "project_owner"),
        viewer_email=user.email,
    )
    page = case_service.list_cases(
        app,
        forbund=user.forbund_slug,
        filters=filters,
        after=_check_query(after, "after"),
        limit=limit,
    )
    return CasePage(items=[CaseOut.of(view) for view in page.items], next_after=page.next_after)


def _case_response(body: CaseOut, status: int = 200, location: str | None = None) -> JSONResponse:
    headers = {"ETag": etag(body.version)}
    if location:
        headers["Location"] = location
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=CaseDetail,
    summary="Lämna in en idé",
    responses={
        201: {"description": "Idén är inlämnad.", "headers": ETAG_HEADER},
        **_problems(403, 409),
    },
)
def submit_idea(
    request: Request,
    app: AppDep,
    user: ApiUser,
    idea: IdeaIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def work() -> JSONResponse:
        view = case_service.submit_idea(
            app,
            actor_email=user.email,
            values=idea.values(),
            forbund=user.forbund_slug,
            comment=idea.comment,
        )
        return _case_response(CaseDetail.of(view), 201, location=f"{request.url.path}/{view.ref}")

    return once(request, app, user, idempotency_key, idea.model_dump(mode="json"), work)


@router.get(
    "/{ref:path}/steps",
    response_model=StepList,
    summary="Stegen härifrån, bedömda för den som frågar",
)
def list_steps(
    app: AppDep,
    user: ApiUser,
    ref: Annotated[str, Path(description="Dnr, eller ide-N före registreringen.")],
) -> StepList:
    _check_ref(ref, user.forbund_slug)
    view = case_service.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
    steps = case_service.steps_for(app, ref=ref, actor_email=user.email, forbund=user.forbund_slug)
    return StepList(
        ref=view.ref,
        state=view.state,
        state_label=view.state_label,
        version=view.version,
        steps=[StepOut.of(step) for step in steps],
    )


@router.post(
    "/{ref:path}/steps/{trigger}",
    response_model=CaseOut,
    summary="Ta ett steg (If-Match: versionen du såg)",
    responses={
        200: {"description": "Steget är taget.", "headers": ETAG_HEADER},
        **_problems(403, 409, 428),
    },
)
def take_step(
    request: Request,
    app: AppDep,
    user: ApiUser,
    ref: Annotated[str, Path(description="Dnr, eller ide-N före registreringen.")],
    trigger: Annotated[str, Path(description="Stegets namn, som i GET …/steps.")],
    step: StepIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    _check_ref(ref, user.forbund_slug)
    expected = _expected_version(if_match)
    if not trigger.isidentifier() or len(trigger) > 60:
        raise BadInput(f"okänt steg {trigger[:60]!r}; se GET /api/v1/cases/{ref}/steps")

    def work() -> JSONResponse:
        # Seeing comes first: a case the caller may not see is not found, whatever the step.
        case_service.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
        view = case_service.fire(
            app,
            ref=ref,
            trigger=trigger,
            actor_email=user.email,
            forbund=user.forbund_slug,
            comment=step.comment,
            values=step.values(),
            expected_version=expected,
        )
        return _case_response(CaseOut.of(view))

    fingerprint = {"if_match": expected, **step.model_dump(mode="json")}
    return once(request, app, user, idempotency_key, fingerprint, work)


@router.get(
    "/{ref:path}",
    response_model=CaseDetail,
    summary="Visa ett ärende med dess händelser",
    responses={200: {"description": "Ärendet.", "headers": ETAG_HEADER}},
)
def show_case(
    app: AppDep,
    user: ApiUser,
    ref: Annotated[str, Path(description="Dnr, eller ide-N före registreringen.")],
) -> JSONResponse:
    _check_ref(ref, user.forbund_slug)
    view = case_service.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
    return _case_response(CaseDetail.of(view))
