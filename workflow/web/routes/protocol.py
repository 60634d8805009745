"""The protocol of a meeting on the web: the secretary opens it and records each §'s decision
(or follows the recommendations, one § or all at once), sends it for justering; the
ordförande and the justerare each sign with their own login on a page that shows the very
text they sign; the secretary posts the anslag. Papers open as pages and download as PDF.

    /protokoll/{forbund}/{protocol}                 the protocol page (protocol: the meeting's number)
    /protokoll/{forbund}/{protocol}/justera         the signing page
    /protokoll/{forbund}/{protocol}/handlingar/{paper}   a paper as a page (utdrag: ?paragraf=N)
    /protokoll/{forbund}/{protocol}/pdf/{paper}     the same paper as PDF

The förbund is in the path because meeting numbers are the förbund's own: a person of another
förbund gets 404. Every rule is the services' (services/board/); a page only asks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from workflow.app import App
from workflow.errors import BadInput, Conflict, FinsamError, NotFound, NotPermitted
from workflow.models.meetings import DECISION_LABELS, DecisionKind, Presence
from workflow.services.access.sessions import Principal
from workflow.services.board import anslag, decisions, justering, papers, views
from workflow.services.board import protocol as protocols
from workflow.services.board.decisions import DecisionInput
from workflow.services.board.views import MeetingView
from workflow.vocabulary import Role
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import render

router = APIRouter()

BASE = "/protokoll/{forbund}/{protocol}"
SAMPLES = {"x-finsam-samples": {"protocol": "protocol_meeting"}}
PAPER_SAMPLES = {"x-finsam-samples": {"protocol": "protocol_meeting", "paper": "protocol_paper"}}

# Who may read a meeting's protocol and papers before it is public: the kansli, the board
# and the beredningsgrupp of the förbund (as they see every case, states/actions.yaml).
READERS = frozenset(
    {
        Role.FORBUNDSCHEF,
        Role.SEKRETERARE,
        Role.ADMIN,
        Role.STYRELSE_ORDFORANDE,
        Role.STYRELSE_LEDAMOT,
        Role.STYRELSE_ERSATTARE,
        Role.BEREDNINGSGRUPP,
    }
)
CASE_DECISIONS = [
    DecisionKind.BIFALL,
    DecisionKind.DELVIS_BIFALL,
    DecisionKind.AVSLAG,
    DecisionKind.ATERREMISS,
    DecisionKind.BORDLAGGNING,
]
OTHER_DECISIONS = [DecisionKind.BESLUT, DecisionKind.LAGGA_TILL_HANDLINGARNA]
VOTING = {Presence.BESLUTANDE.value, Presence.TJANSTGORANDE_ERSATTARE.value}
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)


def protocol_url(forbund: str, number: int) -> str:
    return f"/protokoll/{forbund}/{number}"


def _number(forbund: str, protocol: str) -> int:
    if not protocol.isdigit() or len(protocol) > 9:
        raise NotFound(f"inget möte {protocol[:20]!r} i förbundet {forbund}")
    return int(protocol)


def meeting_for(app: App, user: Principal, forbund: str, protocol: str) -> MeetingView:
    """The meeting of the path, if it is the person's förbund's and they may read it: another
    förbund's (or none) is 404, a role that does not read protocols 403."""
    if forbund != user.forbund_slug:
        raise NotFound(f"inget möte {protocol[:20]!r} i förbundet {forbund[:40]}")
    number = _number(forbund, protocol)
    view = views.get_meeting(app, ref=number, forbund=user.forbund_slug)
    if not user.roles & READERS:
        raise NotPermitted("du får inte läsa protokollen; det får kansliet och styrelsen")
    return view


def may(app: App, user: Principal, action: str) -> bool:
    return bool(app.actions[action].roles & user.roles)


def paper_body(paper: papers.Paper) -> Markup:
    """The paper's text (the very HTML its PDF is made from) to show inside a page: its body,
    the print-only page break as a class (the pages allow no inline style)."""
    found = _BODY.search(paper.html)
    body = found.group(1) if found else paper.html
    body = body.replace('<div style="page-break-before: always"></div>', "")
    return Markup(body)


@dataclass
class PageState:
    """What one render of the protocol page says beyond the meeting itself."""

    notice: str | None = None
    error: str | None = None
    # The § whose form was refused, and what was sent, so that nothing typed is lost.
    failed_paragraph: int | None = None
    submitted: dict[str, Any] = field(default_factory=dict)
    skipped: list[decisions.Skipped] = field(default_factory=list)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _page(
    request: Request,
    app: App,
    user: Principal,
    view: MeetingView,
    state: PageState | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    state = state or PageState()
    warnings = (
        decisions.frame_warnings(app, ref=view.number, forbund=user.forbund_slug)
        if view.protocol is not None and view.protocol.status == "utkast"
        else {}
    )
    voters = [a for a in view.attendance if a.presence in VOTING and a.email]
    chair = next((a for a in voters if a.capacity == "ordförande"), None)
    signer = None
    if view.protocol is not None:
        signer = next((s for s in view.protocol.signers if s.email == user.email), None)
    return render(
        request,
        "protocol/page.html.j2",
        {
            "m": view,
            "url": protocol_url(view.forbund, view.number),
            "state": state,
            "warnings": warnings,
            "voters": voters,
            "chair": chair,
            "signer": signer,
            "may_keep": may(app, user, "keep_protocol"),
            "may_send": may(app, user, "send_protocol"),
            "may_reopen": may(app, user, "reopen_protocol"),
            "may_post": may(app, user, "post_anslag"),
            "case_decisions": [(k.value, DECISION_LABELS[k]) for k in CASE_DECISIONS],
            "other_decisions": [(k.value, DECISION_LABELS[k]) for k in OTHER_DECISIONS],
            "undecided": [i for i in view.items if i.paragraph is not None and not i.decision],
            "justerare_needed": app.settings.meetings.justerare_count,
        },
        status_code=status_code,
    )


def _redirect(view: MeetingView, notice: str) -> RedirectResponse:
    return RedirectResponse(
        f"{protocol_url(view.forbund, view.number)}?klart={notice}", status_code=303
    )


NOTICES = {
    "oppnat": "Protokollet är öppnat och dagordningens punkter har fått sina §§.",
    "beslut": "Beslutet är registrerat.",
    "skickat": "Protokollet är skickat för justering till ordföranden och justerarna.",
    "justerat": "Din justering är registrerad.",
    "tillbaka": "Protokollet är taget tillbaka till utkast; justeringarna gäller inte längre.",
    "anslaget": "Protokollet är anslaget på anslagstavlan.",
}


@router.get(BASE, response_class=HTMLResponse, include_in_schema=False, openapi_extra=SAMPLES)
def protocol_page(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, protocol: str
) -> HTMLResponse:
    view = meeting_for(app, user, forbund, protocol)
    done = request.query_params.get("klart")
    return _page(request, app, user, view, PageState(notice=NOTICES.get(done or "")))


def _refused(
    request: Request,
    app: App,
    user: Principal,
    forbund: str,
    protocol: str,
    error: FinsamError,
    **state: Any,
) -> HTMLResponse:
    """The page again with the refusal in words, what was sent kept in its form."""
    view = meeting_for(app, user, forbund, protocol)
    return _page(
        request,
        app,
        user,
        view,
        PageState(error=_sentence(str(error)), **state),
        status_code=error.http_status,
    )


@router.post(
    BASE + "/oppna",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def open_protocol(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    form: FormDep,
) -> Response:
    view = meeting_for(app, user, forbund, protocol)
    chosen = [v for v in form.getlist("justerare") if isinstance(v, str) and v]
    chair = str(form.get("chair") or "") or None
    try:
        opened = protocols.open_protocol(
            app,
            ref=view.number,
            actor_email=user.email,
            justerare=chosen,
            chair=chair,
            forbund=user.forbund_slug,
        )
    except (BadInput, Conflict) as refused:
        return _refused(request, app, user, forbund, protocol, refused)
    return _redirect(opened, "oppnat")


def _emails(form: FormData, name: str) -> list[str]:
    return [v for v in dict.fromkeys(form.getlist(name)) if isinstance(v, str) and v]


def decision_from_form(form: FormData, view: MeetingView, paragraph: int) -> DecisionInput:
    """The decision as the § form sends it, in the service's terms."""
    item = next((i for i in view.items if i.paragraph == paragraph), None)
    if item is None:
        raise NotFound(f"protokollet har ingen § {paragraph}")
    kind = str(form.get("kind") or "").strip()
    if not kind:
        raise BadInput(f"§ {paragraph}: välj ett beslut")
    granted: dict[str, int] = {}
    if kind in {"bifall", "delvis_bifall"}:
        for year in item.requested:
            raw = str(form.get(f"granted.{year}") or "").replace(" ", "")
            if raw == "":
                continue
            if not raw.isdigit():
                raise BadInput(f"beviljat belopp för {year}: skriv hela tkr, t.ex. 600")
            granted[str(year)] = int(raw)
        if kind == "bifall" and granted == item.requested:
            granted = {}
    att = [line.strip() for line in str(form.get("att_satser") or "").splitlines()]
    reservation_text = str(form.get("reservation_text") or "").strip().replace(":", " –")
    reservations = [
        f"{email}:{reservation_text}" if reservation_text else email
        for email in _emails(form, "reservation")
    ]
    return DecisionInput(
        kind=kind,
        att_satser=[a for a in att if a] or None,
        granted=granted or None,
        conditions=str(form.get("conditions") or "").strip() or None,
        motivation=str(form.get("motivation") or "").strip() or None,
        reservations=reservations or None,
        jav=_emails(form, "jav") or None,
        over_frame=form.get("over_frame") == "ja",
    )


def _paragraph_of(form: FormData) -> int:
    raw = str(form.get("paragraph") or "")
    if not raw.lstrip("-").isdigit() or len(raw) > 9:
        raise BadInput("ange vilken § beslutet gäller")
    return int(raw)


def _version_of(form: FormData) -> int | None:
    raw = str(form.get("version") or "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.post(
    BASE + "/beslut",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def record_decision(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    form: FormDep,
) -> Response:
    view = meeting_for(app, user, forbund, protocol)
    paragraph = _paragraph_of(form)
    submitted = {k: form.getlist(k) for k in form if k != "csrf_token"}
    try:
        decided = decisions.record_decision(
            app,
            ref=view.number,
            paragraph=paragraph,
            decision=decision_from_form(form, view, paragraph),
            actor_email=user.email,
            expected_version=_version_of(form),
            forbund=user.forbund_slug,
        )
    except (BadInput, Conflict, NotPermitted) as refused:
        if isinstance(refused, NotPermitted) and not may(app, user, "keep_protocol"):
            raise
        return _refused(
            request,
            app,
            user,
            forbund,
            protocol,
            refused,
            failed_paragraph=paragraph,
            submitted=submitted,
        )
    return _redirect(decided, "beslut")


@router.post(
    BASE + "/folj",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def follow_one(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    form: FormDep,
) -> Response:
    """Follow the recommendation (or the proposal) on one §."""
    view = meeting_for(app, user, forbund, protocol)
    paragraph = _paragraph_of(form)
    try:
        decided = decisions.follow_recommendations(
            app,
            ref=view.number,
            paragraphs=[paragraph],
            actor_email=user.email,
            forbund=user.forbund_slug,
            over_frame=form.get("over_frame") == "ja",
        )
    except (BadInput, Conflict) as refused:
        return _refused(request, app, user, forbund, protocol, refused, failed_paragraph=paragraph)
    return _redirect(decided, "beslut")


@router.post(
    BASE + "/folj-alla",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def follow_all(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, protocol: str
) -> Response:
    """Every undecided § that can take its recommendation; the page says which could not."""
    view = meeting_for(app, user, forbund, protocol)
    try:
        result = decisions.follow_all(
            app, ref=view.number, actor_email=user.email, forbund=user.forbund_slug
        )
    except (BadInput, Conflict) as refused:
        return _refused(request, app, user, forbund, protocol, refused)
    if result.decided:
        done = ", ".join(str(n) for n in result.decided)
        notice = f"Rekommendationerna följdes i § {done}."
    else:
        notice = "Ingen § kunde följa sin rekommendation."
    return _page(request, app, user, result.view, PageState(notice=notice, skipped=result.skipped))


@router.post(
    BASE + "/skicka",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def send_for_justering(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, protocol: str
) -> Response:
    view = meeting_for(app, user, forbund, protocol)
    try:
        sent = justering.send_for_justering(
            app, ref=view.number, actor_email=user.email, forbund=user.forbund_slug
        )
    except BadInput as refused:
        return _refused(request, app, user, forbund, protocol, refused)
    return _redirect(sent, "skickat")


@router.post(
    BASE + "/ta-tillbaka",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def return_to_draft(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    form: FormDep,
) -> Response:
    view = meeting_for(app, user, forbund, protocol)
    try:
        back = justering.return_to_draft(
            app,
            ref=view.number,
            actor_email=user.email,
            reason=str(form.get("reason") or ""),
            forbund=user.forbund_slug,
        )
    except BadInput as refused:
        return _refused(request, app, user, forbund, protocol, refused)
    return _redirect(back, "tillbaka")


@router.post(
    BASE + "/anslag",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def post_anslag(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, protocol: str
) -> Response:
    view = meeting_for(app, user, forbund, protocol)
    try:
        posted = anslag.post_anslag(
            app, ref=view.number, actor_email=user.email, forbund=user.forbund_slug
        )
    except BadInput as refused:
        return _refused(request, app, user, forbund, protocol, refused)
    return _redirect(posted, "anslaget")


# -- signing --------------------------------------------------------------------------------


def _sign_page(
    request: Request,
    app: App,
    user: Principal,
    view: MeetingView,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    paper = papers.render_view(app, view, "protokoll") if view.protocol else None
    signer = None
    if view.protocol is not None:
        signer = next((s for s in view.protocol.signers if s.email == user.email), None)
    return render(
        request,
        "protocol/sign.html.j2",
        {
            "m": view,
            "url": protocol_url(view.forbund, view.number),
            "paper": paper_body(paper) if paper else None,
            "digest": papers.digest(app, view) if paper else "",
            "signer": signer,
            "error": error,
        },
        status_code=status_code,
    )


@router.get(
    BASE + "/justera",
    response_class=HTMLResponse,
    include_in_schema=False,
    openapi_extra=SAMPLES,
)
def sign_page(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, protocol: str
) -> HTMLResponse:
    view = meeting_for(app, user, forbund, protocol)
    return _sign_page(request, app, user, view)


@router.post(
    BASE + "/justera",
    include_in_schema=False,
    openapi_extra=SAMPLES,
    dependencies=[Depends(verify_csrf)],
)
def sign(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    form: FormDep,
) -> Response:
    """The ordförande or a chosen justerare approves the text they were shown."""
    view = meeting_for(app, user, forbund, protocol)
    try:
        signed = justering.approve(
            app,
            ref=view.number,
            actor_email=user.email,
            forbund=user.forbund_slug,
            expected_version=_version_of(form),
            expected_digest=str(form.get("digest") or "") or None,
        )
    except Conflict as refused:
        again = meeting_for(app, user, forbund, protocol)
        return _sign_page(request, app, user, again, _sentence(str(refused)), 409)
    return _redirect(signed, "justerat")


# -- papers ---------------------------------------------------------------------------------


def _paper(
    app: App, user: Principal, forbund: str, protocol: str, paper: str, paragraph: str | None
) -> tuple[MeetingView, papers.Paper]:
    view = meeting_for(app, user, forbund, protocol)
    if paper not in papers.PAPERS:
        raise NotFound(f"ingen handling {paper[:20]!r}; välj bland: {', '.join(papers.PAPERS)}")
    number = int(paragraph) if paragraph and paragraph.isdigit() and len(paragraph) < 9 else None
    if paper == "utdrag" and number is None:
        raise BadInput("ett utdrag gäller en §; ange den med ?paragraf=N")
    return view, papers.render_view(app, view, paper, number)


@router.get(
    BASE + "/handlingar/{paper}",
    response_class=HTMLResponse,
    include_in_schema=False,
    openapi_extra=PAPER_SAMPLES,
)
def paper_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    paper: str,
    paragraf: str | None = None,
) -> HTMLResponse:
    view, made = _paper(app, user, forbund, protocol, paper, paragraf)
    pdf = f"{protocol_url(view.forbund, view.number)}/pdf/{paper}"
    return render(
        request,
        "protocol/paper.html.j2",
        {
            "m": view,
            "title": made.title,
            "body": paper_body(made),
            "back": protocol_url(view.forbund, view.number),
            "back_label": "Till protokollsidan",
            "pdf": pdf + (f"?paragraf={paragraf}" if paper == "utdrag" and paragraf else ""),
        },
    )


def pdf_response(paper: papers.Paper) -> Response:
    return Response(
        paper.pdf(),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{paper.filename}.pdf"'},
    )


@router.get(
    BASE + "/pdf/{paper}",
    include_in_schema=False,
    openapi_extra=PAPER_SAMPLES,
)
def paper_pdf(
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    protocol: str,
    paper: str,
    paragraf: str | None = None,
) -> Response:
    _, made = _paper(app, user, forbund, protocol, paper, paragraf)
    return pdf_response(made)
