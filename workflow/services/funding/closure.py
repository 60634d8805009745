"""The end of an insats: the board takes note of the approved slutrapport (lägga till
handlingarna) and the case ends implementerad or ej implementerad; or the board stops it
(avbruten). An implemented insats gets follow-up questions at 6 and 12 months ([funding])."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlmodel import col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, NotPermitted
from workflow.models import FollowUpQuestion, Insats, Report
from workflow.services.cases import case_ref, find_case, fire_in
from workflow.services.cases.change import begin_change
from workflow.services.funding.report_plan import add_months
from workflow.services.funding.support import record
from workflow.services.organisation.forbund import resolve_forbund
from workflow.text_guard import check_free_text, check_one_line

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
    decision_paragraph: str
    final_report_id: int | None
    follow_up: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def close(
    app: App,
    *,
    ref: str,
    outcome: str,
    paragraph: str,
    actor_email: str,
    comment: str | None = None,
    forbund: str | None = None,
) -> ClosureView:
    """Record the board's closing decision; all of it (note, case move, questions) or nothing."""
    if outcome not in OUTCOMES:
        raise BadInput(f"okänt utfall {outcome!r}; välj bland: {', '.join(OUTCOMES)}")
    paragraph = check_one_line(paragraph, "paragrafen", 40)
    comment = check_free_text(comment, "kommentaren") if comment else None
    now = app.clock()
    today = local_date(now, app.settings.zone)
    lifecycle = app.lifecycles["insats"].lifecycle
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        case = find_case(session, organisation, ref)
        final: Report | None = session.exec(
            select(Report)
            .where(Report.insats_id == case.id, Report.kind == "slut", Report.status == "godkand")
            .order_by(col(Report.id).desc())
        ).first()
        values: dict[str, Any] = {"decision_paragraph": paragraph}
        if outcome != "avbruten":
            if final is None:
                raise NotPermitted(
                    f"{case_ref(case)} har ingen godkänd slutrapport; den ska lämnas in och "
                    "godkännas innan styrelsen lägger den till handlingarna"
                )
            values["final_report_on"] = (final.submitted_on or today).isoformat()
            if case.state == "pagaende":
                # The insats has reached its end (or the board gives the reason) first.
                fire_in(
                    session,
                    app,
                    forbund=organisation,
                    case=case,
                    actor=actor,
                    trigger="avsluta",
                    now=now,
                    comment=comment,
                )
        fire_in(
            session,
            app,
            forbund=organisation,
            case=case,
            actor=actor,
            trigger=OUTCOMES[outcome],
            now=now,
            comment=comment,
            values=values,
        )
        if final is not None:
            final.noted_paragraph = paragraph
            final.noted_on = today
            final.updated_at = now
            session.add(final)
            record(
                session,
                head,
                kind="report",
                row_id=final.id,  # type: ignore[arg-type]
                ref=f"{case_ref(case)} slutrapport",
                from_state="godkand",
                to_state="godkand",
                trigger="lagga_till_handlingarna",
                actor=actor,
                now=now,
                data={"paragraph": paragraph},
            )
        questions: list[dict[str, Any]] = []
        if outcome == "implementerad":
            for months in app.settings.funding.followup_months:
                question = FollowUpQuestion(
                    forbund_id=organisation.id,  # type: ignore[arg-type]
                    insats_id=case.id,  # type: ignore[arg-type]
                    months_after=months,
                    due_on=add_months(today, months),
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
                questions.append(
                    {
                        "months_after": months,
                        "due_on": question.due_on,
                        "question": question.question,
                    }
                )
        return ClosureView(
            ref=case_ref(case),
            state=case.state,
            state_label=lifecycle.label_of(case.state),
            decision_paragraph=paragraph,
            final_report_id=final.id if final else None,
            follow_up=questions,
        )


def follow_ups(
    app: App, *, due_by: date | None = None, forbund: str | None = None
) -> list[dict[str, Any]]:
    """Open follow-up questions, by due date (for the reminders)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = (
            select(FollowUpQuestion, Insats)
            .join(Insats, col(Insats.id) == col(FollowUpQuestion.insats_id))
            .where(
                FollowUpQuestion.forbund_id == organisation.id,
                col(FollowUpQuestion.answered_on).is_(None),
            )
        )
        if due_by is not None:
            query = query.where(col(FollowUpQuestion.due_on) <= due_by)
        return [
            {
                "id": q.id,
                "ref": case_ref(case),
                "title": case.title,
                "months_after": q.months_after,
                "due_on": q.due_on,
                "question": q.question,
            }
            for q, case in session.exec(query.order_by(col(FollowUpQuestion.due_on))).all()
        ]
