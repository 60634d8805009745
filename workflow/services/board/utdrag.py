"""The applicant's protocol extract: when a protocol is justerat, each case decided in it
sends its projektägare the § (an e-mail through the outbox, written in the justering's own
transaction, so it leaves only if the justering holds). The utdrag as a paper (HTML, PDF) is
papers.py's."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local
from workflow.models import Insats, Meeting, Organ, Paragraph, Person, Protocol
from workflow.models.meetings import DECISION_LABELS, DecisionKind
from workflow.services.board.paragraphs import paragraph_ref
from workflow.services.cases import audit
from workflow.services.cases.audit import ChainHead
from workflow.services.organisation.people import Actor
from workflow.services.reminders import outbox

TEMPLATE = "protokollsutdrag"
SUBJECT = "paragraf"


def _motivation_label(decision: str) -> str:
    return {"aterremiss": "Att göra", "utgar": "Skäl"}.get(decision, "Motivering")


def queue_utdrag(
    session: Session,
    app: App,
    *,
    forbund_id: int,
    forbund_name: str,
    head: ChainHead,
    actor: Actor,
    meeting: Meeting,
    protocol: Protocol,
    now: datetime,
) -> list[str]:
    """Queue one utdrag per decided case § to the case's projektägare; audit each; the
    addresses written to. A case without a projektägare gets none (nobody to send it to)."""
    organ = session.get(Organ, meeting.organ_id)
    sent: list[str] = []
    rows = session.exec(
        select(Paragraph, Insats)
        .join(Insats, col(Insats.id) == col(Paragraph.insats_id))
        .where(Paragraph.protocol_id == protocol.id, col(Paragraph.decision).is_not(None))
        .order_by(col(Paragraph.number))
    ).all()
    for paragraph, case in rows:
        if paragraph.decision == DecisionKind.UTGAR or case.project_owner_id is None:
            continue
        owner = session.get(Person, case.project_owner_id)
        if owner is None or owner.deactivated_at is not None:
            continue
        rendered = app.notifications.templates.render(
            TEMPLATE,
            {
                "forbund": {"name": forbund_name},
                "recipient": {"name": owner.name},
                "utdrag": {
                    "organ": organ.name if organ else "Styrelsen",
                    "title": paragraph.title,
                    "dnr": case.dnr,
                    "meeting_day": _day(meeting.starts_at, app),
                    "paragraph": paragraph.number,
                    "year": paragraph.year,
                    "decision": DECISION_LABELS[DecisionKind(paragraph.decision)],
                    "att_satser": list(paragraph.att_satser),
                    "conditions": paragraph.conditions,
                    "motivation": paragraph.motivation,
                    "motivation_label": _motivation_label(paragraph.decision or ""),
                },
            },
        )
        message = outbox.queue(
            session,
            app,
            forbund_id=forbund_id,
            kind=TEMPLATE,
            to_address=owner.email,
            to_name=owner.name,
            rendered=rendered,
            now=now,
        )
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=paragraph.id,  # type: ignore[arg-type]
            subject_ref=paragraph_ref(paragraph),
            from_state=paragraph.decision,
            to_state=paragraph.decision or "",
            trigger="skicka_utdrag",
            actor=actor,
            at=now,
            data={"to": owner.email, "message_id": message.message_id, "dnr": case.dnr},
        )
        sent.append(owner.email)
    return sent


def _day(value: datetime, app: App) -> str:
    from workflow.services.board.papers import MONTHS

    day = local(value, app.settings.zone)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
