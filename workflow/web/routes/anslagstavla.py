"""The public anslagstavla, without login: /anslagstavla/<förbund>.

Every posted (justerat) protocol of the förbund with its ANSLAG/BEVIS, for the appeal window
of the förbund's settings; after it, the protocol moves to the public archive list. Only what
services/board/anslag.py makes public is reachable from here: a draft, a protocol not yet
posted, notes and recommendations before the decision are not found.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from workflow.errors import NotFound
from workflow.services.board import anslag
from workflow.web.deps import AppDep
from workflow.web.routes.protocol import paper_body, pdf_response
from workflow.web.templating import render

router = APIRouter()

PUBLIC = {"x-finsam-public": "anslagstavlan är offentlig (kommunallagen): vem som helst läser den"}
PUBLIC_PROTOCOL = {**PUBLIC, "x-finsam-samples": {"protocol": "posted_protocol"}}


def _number(protocol: str) -> int:
    if not protocol.isdigit() or len(protocol) > 9:
        raise NotFound(f"inget anslaget protokoll {protocol[:20]!r}")
    return int(protocol)


@router.get(
    "/anslagstavla/{forbund}",
    response_class=HTMLResponse,
    include_in_schema=False,
    openapi_extra=PUBLIC,
)
def board_page(request: Request, app: AppDep, forbund: str) -> HTMLResponse:
    board = anslag.public_board(app, forbund=forbund[:100])
    return render(request, "anslagstavla/board.html.j2", {"board": board})


@router.get(
    "/anslagstavla/{forbund}/{protocol}",
    response_class=HTMLResponse,
    include_in_schema=False,
    openapi_extra=PUBLIC_PROTOCOL,
)
def protocol_page(request: Request, app: AppDep, forbund: str, protocol: str) -> HTMLResponse:
    notice, paper = anslag.public_protocol(app, forbund=forbund[:100], number=_number(protocol))
    return render(
        request,
        "anslagstavla/protocol.html.j2",
        {
            "notice": notice,
            "title": paper.title,
            "body": paper_body(paper),
            "board_url": f"/anslagstavla/{forbund}",
            "pdf": f"/anslagstavla/{forbund}/{notice.number}/pdf",
        },
    )


@router.get(
    "/anslagstavla/{forbund}/{protocol}/pdf",
    include_in_schema=False,
    openapi_extra=PUBLIC_PROTOCOL,
)
def protocol_pdf(app: AppDep, forbund: str, protocol: str) -> Response:
    _, paper = anslag.public_protocol(app, forbund=forbund[:100], number=_number(protocol))
    return pdf_response(paper)
