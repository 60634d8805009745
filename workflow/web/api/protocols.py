"""/api/v1/protocols: a meeting's protocol and its justering, for programs (e-signing tools).

    GET  /protocols/{number}            the protocol: status, version (ETag), signers, digest
    POST /protocols/{number}/approval   the caller approves it (If-Match: the version seen)

Thin over services/board: the token's owner approves as themselves, so a person who is not
the ordförande or a chosen justerare is refused here exactly as on the page (403); a meeting
of another förbund is 404 (numbers are each förbund's own, and the caller's förbund is the
token's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from workflow.errors import NotFound
from workflow.services.board import justering, papers, views
from workflow.services.board.views import MeetingView
from workflow.web.api.auth import ApiUser, log_refusals
from workflow.web.api.cases import ETAG_HEADER, IfMatch, _expected_version, _problems, etag
from workflow.web.api.once import IdempotencyKey, once
from workflow.web.deps import AppDep
from workflow.web.routes.protocol import READERS

router = APIRouter(
    prefix="/protocols",
    tags=["protokoll"],
    responses=_problems(400, 401, 404),
    dependencies=[Depends(log_refusals)],
)
# A meeting's number is its förbund's own (each förbund counts from 1) and the token says which
# förbund: /protocols/2 is always the caller's own meeting 2, so another förbund's protocol
# cannot be named here at all. The cross-förbund matrix is told so (workflow/web/samples.py).
SAMPLES = {
    "x-finsam-samples": {"number": "protocol_meeting"},
    "x-finsam-own-forbund": "the meeting number is counted per förbund, the token's",
}


class SignerOut(BaseModel):
    name: str
    role: str
    signed_at: datetime | None


class ProtocolOut(BaseModel):
    """A meeting's protocol. `version` is its ETag; `digest` the fingerprint of its text."""

    meeting: int
    organ: str
    starts_at: datetime
    status: str
    status_label: str
    version: int
    digest: str
    signers: list[SignerOut]


class ApprovalIn(BaseModel):
    """Optional: the digest of the text the signer read; another text is refused (409)."""

    digest: str | None = None


def _view(app: AppDep, user: ApiUser, number: int) -> MeetingView:
    view = views.get_meeting(app, ref=number, forbund=user.forbund_slug)
    if view.protocol is None:
        raise NotFound(f"möte {number} har inget protokoll än")
    if not user.roles & READERS:
        from workflow.errors import NotPermitted

        raise NotPermitted("du får inte läsa protokollen; det får kansliet och styrelsen")
    return view


def _out(app: AppDep, view: MeetingView) -> JSONResponse:
    assert view.protocol is not None
    body = ProtocolOut(
        meeting=view.number,
        organ=view.organ,
        starts_at=view.starts_at,
        status=view.protocol.status,
        status_label=view.protocol.status_label,
        version=view.protocol.version,
        digest=papers.digest(app, view),
        signers=[
            SignerOut(name=s.name, role=s.role, signed_at=s.signed_at)
            for s in view.protocol.signers
        ],
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag(view.protocol.version)})


Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="Mötets nummer i förbundet.")]


@router.get(
    "/{number}",
    response_model=ProtocolOut,
    summary="Visa ett mötes protokoll och dess justering",
    responses={200: {"description": "Protokollet.", "headers": ETAG_HEADER}, **_problems(403)},
    openapi_extra=SAMPLES,
)
def show_protocol(app: AppDep, user: ApiUser, number: Number) -> JSONResponse:
    return _out(app, _view(app, user, number))


@router.post(
    "/{number}/approval",
    response_model=ProtocolOut,
    summary="Justera protokollet (If-Match: versionen du såg)",
    responses={
        200: {"description": "Justeringen är registrerad.", "headers": ETAG_HEADER},
        **_problems(403, 409, 428),
    },
    openapi_extra=SAMPLES,
)
def approve_protocol(
    request: Request,
    app: AppDep,
    user: ApiUser,
    number: Number,
    approval: ApprovalIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    expected = _expected_version(if_match)

    def work() -> JSONResponse:
        _view(app, user, number)
        view = justering.approve(
            app,
            ref=number,
            actor_email=user.email,
            forbund=user.forbund_slug,
            expected_version=expected,
            expected_digest=approval.digest,
        )
        return _out(app, view)

    fingerprint = {"if_match": expected, **approval.model_dump(mode="json")}
    return once(request, app, user, idempotency_key, fingerprint, work)
