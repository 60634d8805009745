"""The end of an insats, as funding keeps it: the approved slutrapport the board takes note of
(lägga till handlingarna) in a § of its protocol, and the follow-up questions at 6 and 12
months after an implemented insats ([funding]).

The board's side (putting the slutrapport on an agenda, deciding its §) is
services/board/closing.py; it calls `record_closing` inside the transaction of the §. The §
that granted the insats stays its 'Beslut §'; the closing § is kept on the slutrapport.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.models import FollowUpQuestion, ForbundRef, Insats, Paragraph, Report
from workflow.services.cases import case_ref, find_case
from workflow.services.cases.audit import ChainHead
from workflow.services.funding.report_plan import add_months
from workflow.services.funding.support import record, require_viewer
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor
from workflow.services.paging import Keyset, Page, bytewise, check_limit

# How an insats ends at the board, and the lifecycle step that ends it so.
OUTCOMES = {
    "implementerad": "implementera",
    "ej_implementerad": "ej_implementera",
    "avbruten": "avbryt",
}
QUESTION = (
    "Finns arbetssättet från insatsen kvar i ordinarie verksamhet {months} månader efter "
    "avslutet? Beskriv hur det bedrivs och finansieras i dag."
)


@dataclass
class ClosureView:
    ref: str
    state: str
    state_label: str
    # The § that granted the insats, and the § of the board's closing decision.
    decision_paragraph: str | None
    closing_paragraph: str | None
    final_report_id: int | None
    final_report_noted_on: date | None
    follow_up: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def final_report(session: Session, case: Insats) -> Report | None:
    """The insats's approved slutrapport (the latest, if an ändring gave it a second one)."""
    return session.exec(
        select(Report)
        .where(Report.insats_id == case.id, Report.kind == "slut", Report.status == "godkand")
        .order_by(col(Report.id).desc())
    ).first()


def record_closing(
    session: Session,
    *,
    forbund: ForbundRef,
    head: ChainHead,
    case: Insats,
    actor: Actor,
    outcome: str,
    paragraph: str,
    decided_on: date,
    now: datetime,
    followup_months: list[int],
) -> None:
    """What the board's closing § does beside ending the case, in the §'s transaction.

    Steps: the approved slutrapport is noted with the § and the meeting's day (for
    implementerad and ej implementerad); an implemented insats gets its follow-up questions,
    dated from the decision.
    """
    report = final_report(session, case) if outcome != "avbruten" else None
    if report is not None:
        report.noted_paragraph = paragraph
        report.noted_on = decided_on
        report.updated_at = now
        session.add(report)
        session.flush()
        record(
            session,
            head,
            kind="report",
            row_id=report.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} slutrapport",
            from_state="godkand",
            to_state="godkand",
            trigger="lagga_till_handlingarna",
            actor=actor,
            now=now,
            data={"paragraph": paragraph},
        )
    if outcome != "implementerad":
        return
    for months in followup_months:
        question = FollowUpQuestion(
            forbund_id=forbund.id,  # type: ignore[arg-type]
            insats_id=case.id,  # type: ignore[arg-type]
            months_after=months,
            due_on=add_months(decided_on, months),
            question=QUESTION.format(months=months),
        )
        session.add(question)
        session.flush()
        record(
            session,
            head,
            kind="follow_up",
            row_id=question.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} uppföljning {months} mån",
            from_state=None,
            to_state="planerad",
            trigger="planera_uppfoljning",
            actor=actor,
            now=now,
            data={"due_on": question.due_on},
        )


def _closing_paragraph(session: Session, case: Insats) -> Paragraph | None:
    """The decided closing § of the case (board/closing.py gives it an outcome)."""
    return session.exec(
        select(Paragraph)
        .where(
            Paragraph.insats_id == case.id,
            col(Paragraph.outcome).is_not(None),
            col(Paragraph.decision).is_not(None),
        )
        .order_by(col(Paragraph.id).desc())
    ).first()


def _closure_view(
    state_label: str,
    case: Insats,
    report: Report | None,
    closing: Paragraph | None,
    questions: Iterable[FollowUpQuestion],
) -> ClosureView:
    return ClosureView(
        ref=case_ref(case),
        state=case.state,
        state_label=state_label,
        decision_paragraph=case.decision_paragraph,
        closing_paragraph=f"§ {closing.number}/{closing.year}" if closing else None,
        final_report_id=report.id if report else None,
        final_report_noted_on=report.noted_on if report else None,
        follow_up=[
            {"months_after": q.months_after, "due_on": q.due_on, "question": q.question}
            for q in questions
        ],
    )


def get(app: App, *, ref: str, forbund: str | None = None) -> ClosureView:
    """How an insats ended (or stands): its decision §, its closing §, the slutrapport and the
    follow-up questions."""
    lifecycle = app.lifecycles["insats"].lifecycle
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        case = find_case(session, organisation, ref)
        questions = session.exec(
            select(FollowUpQuestion)
            .where(FollowUpQuestion.insats_id == case.id)
            .order_by(col(FollowUpQuestion.months_after))
        )
        return _closure_view(
            lifecycle.label_of(case.state),
            case,
            final_report(session, case),
            _closing_paragraph(session, case),
            questions,
        )


_QUESTION = FollowUpQuestion.__table__  # type: ignore[attr-defined]
# The follow-up questions by due date, then number; the open and the answered are two lists,
# each with cursors of its own kind (one list's cursor is refused by the other).
FOLLOW_UP_ORDER = {
    False: Keyset("follow_ups", (_QUESTION.c.due_on, _QUESTION.c.id)),
    True: Keyset("follow_ups_answered", (_QUESTION.c.due_on, _QUESTION.c.id)),
}
FOLLOW_UP_PAGE = 50


def follow_ups(
    app: App,
    *,
    due_by: date | None = None,
    forbund: str | None = None,
    answered: bool = False,
    after: str | None = None,
    limit: int | None = None,
) -> Page[dict[str, Any]]:
    """One page of the open follow-up questions, by due date (`answered`: of the answered
    ones instead, with their answers); `after` is the `next_after` of the page before."""
    limit = check_limit(FOLLOW_UP_PAGE if limit is None else limit)  # read here: tests lower it
    order = FOLLOW_UP_ORDER[answered]
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = (
            select(FollowUpQuestion, Insats)
            .join(Insats, col(Insats.id) == col(FollowUpQuestion.insats_id))
            .where(
                FollowUpQuestion.forbund_id == organisation.id,
                col(FollowUpQuestion.answered_on).is_not(None)
                if answered
                else col(FollowUpQuestion.answered_on).is_(None),
            )
        )
        if due_by is not None:
            query = query.where(col(FollowUpQuestion.due_on) <= due_by)
        rows = session.exec(order.page(query, after, limit)).all()  # type: ignore[type-var]
        page = order.cut(rows, limit, key=lambda row: (row[0].due_on, row[0].id))
        return Page(
            [
                {
                    "id": q.id,
                    "ref": case_ref(case),
                    "title": case.title,
                    "months_after": q.months_after,
                    "due_on": q.due_on,
                    "question": q.question,
                    "answered_on": q.answered_on,
                    "answer": q.answer,
                }
                for q, case in page.items
            ],
            page.next_after,
        )


# The ended insatser a page at a time, by diarienummer (bytewise, the same on both databases),
# then the insats's number.
_CASE = Insats.__table__  # type: ignore[attr-defined]
ENDED_ORDER = Keyset("ended", (bytewise(_CASE.c.dnr), _CASE.c.id))
# Insatser on a page of the Avslut page.
PAGE_LIMIT = 50


def ended(
    app: App,
    *,
    viewer_email: str,
    forbund: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Page[ClosureView]:
    """A page of the insatser that are ending or have ended (ENDED_ORDER), each with its
    slutrapport, closing § and follow-up questions (as `get`), for the förbund-wide readers
    (see_funding); `after` is the `next_after` of the page before. Four queries whatever the
    number of insatser: the page, then its slutrapporter, closing §§ and questions."""
    limit = check_limit(PAGE_LIMIT if limit is None else limit)
    lifecycle = app.lifecycles["insats"].lifecycle
    wanted = sorted(set(lifecycle.tagged("closed")) | {"avslutas"})
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        query = select(Insats).where(
            Insats.forbund_id == organisation.id,
            col(Insats.state).in_(wanted),
            col(Insats.dnr).is_not(None),
        )
        rows = session.exec(ENDED_ORDER.page(query, after, limit)).all()
        page = ENDED_ORDER.cut(rows, limit, key=lambda case: (case.dnr, case.id))
        ids = [case.id for case in page.items]
        reports: dict[int, Report] = {}
        closings: dict[int, Paragraph] = {}
        questions: dict[int, list[FollowUpQuestion]] = {}
        if ids:
            # The latest of each, as final_report and _closing_paragraph take it. The status
            # is checked here, not in SQL: given it, SQLite reads every approved report of
            # the database by the index on status instead of the page's insatser's few.
            for report in session.exec(
                select(Report)
                .where(col(Report.insats_id).in_(ids), Report.kind == "slut")
                .order_by(col(Report.id).desc())
            ):
                if report.status == "godkand":
                    reports.setdefault(report.insats_id, report)
            for paragraph in session.exec(
                select(Paragraph)
                .where(
                    col(Paragraph.insats_id).in_(ids),
                    col(Paragraph.outcome).is_not(None),
                    col(Paragraph.decision).is_not(None),
                )
                .order_by(col(Paragraph.id).desc())
            ):
                closings.setdefault(paragraph.insats_id, paragraph)  # type: ignore[arg-type]
            for question in session.exec(
                select(FollowUpQuestion)
                .where(col(FollowUpQuestion.insats_id).in_(ids))
                .order_by(col(FollowUpQuestion.months_after))
            ):
                questions.setdefault(question.insats_id, []).append(question)
        return Page(
            [
                _closure_view(
                    lifecycle.label_of(case.state),
                    case,
                    reports.get(case.id),  # type: ignore[arg-type]
                    closings.get(case.id),  # type: ignore[arg-type]
                    questions.get(case.id, []),  # type: ignore[arg-type]
                )
                for case in page.items
            ],
            page.next_after,
        )


def answer(
    app: App,
    *,
    question_id: int,
    answer_text: str,
    actor_email: str,
    forbund: str | None = None,
) -> dict[str, Any]:
    """The förbundschef records the answer to a follow-up question, once; no personal data."""
    from workflow.clock import local_date
    from workflow.errors import BadInput, NotFound, NotPermitted
    from workflow.services.cases.change import begin_change
    from workflow.text_guard import check_free_text

    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        question = session.get(FollowUpQuestion, question_id) if 0 < question_id < 2**31 else None
        if question is None or question.forbund_id != organisation.id:
            raise NotFound(
                f"ingen uppföljningsfråga nr {question_id} i förbundet {organisation.slug}"
            )
        app.actions.require(actor, "answer_follow_up")
        # The question first (another förbund's is not found), then what was written.
        if not answer_text or not answer_text.strip():
            raise BadInput(
                "svaret är tomt; beskriv hur arbetssättet finns kvar, eller att det inte gör det"
            )
        text = check_free_text(answer_text.strip(), "svaret")
        case = session.get(Insats, question.insats_id)
        assert case is not None
        if question.answered_on is not None:
            raise NotPermitted(
                f"uppföljningen {question.months_after} månader för {case_ref(case)} besvarades "
                f"redan {question.answered_on.isoformat()}"
            )
        question.answered_on = local_date(now, app.settings.zone)
        question.answer = text
        session.add(question)
        record(
            session,
            head,
            kind="follow_up",
            row_id=question.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} uppföljning {question.months_after} mån",
            from_state="planerad",
            to_state="besvarad",
            trigger="besvara_uppfoljning",
            actor=actor,
            now=now,
        )
        return {"id": question.id, "ref": case_ref(case), "answered_on": question.answered_on}
