"""Finding the board's records: a meeting by number or date, its protocol and agenda, the
next meeting, a case's latest recommendation, and the guard that keeps a justerat meeting shut.

A meeting whose protocol is justerat is closed for good: nothing about it changes any more
(`guard_open`); a correction is a new § at a later meeting.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from workflow.clock import local
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import (
    AgendaItem,
    ForbundRef,
    Meeting,
    Paragraph,
    Protocol,
    Recommendation,
)
from workflow.models.meetings import ProtocolStatus

CLOSED = {ProtocolStatus.JUSTERAT.value, ProtocolStatus.ANSLAGET.value}


def latest_recommendation(session: Session, case_id: int) -> Recommendation | None:
    """The beredning's latest outcome for a case: the record of beredning.py (the case's
    recommendation fields only mirror it)."""
    return session.exec(
        select(Recommendation)
        .where(Recommendation.insats_id == case_id)
        .order_by(col(Recommendation.id).desc())
    ).first()


def protocol_of(session: Session, meeting: Meeting) -> Protocol | None:
    return session.exec(select(Protocol).where(Protocol.meeting_id == meeting.id)).first()


def ordered_items(session: Session, meeting: Meeting) -> list[AgendaItem]:
    return list(
        session.exec(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(col(AgendaItem.section), col(AgendaItem.position))
        )
    )


def paragraph_of(session: Session, item: AgendaItem) -> Paragraph | None:
    return session.exec(select(Paragraph).where(Paragraph.agenda_item_id == item.id)).first()


def find_meeting(session: Session, forbund: ForbundRef, ref: str | int) -> Meeting:
    """A meeting by its number, or by its date (YYYY-MM-DD) when one meeting was held that day."""
    text = str(ref).strip()
    if text.isdigit():
        mine = select(Meeting).where(Meeting.forbund_id == forbund.id)
        meeting = session.exec(mine.where(Meeting.number == int(text))).first()
        # A number from before meetings were numbered per förbund (their row id) still finds
        # its meeting where no meeting has that number now (migration 0007).
        meeting = meeting or session.exec(mine.where(Meeting.id == int(text))).first()
        if meeting is not None:
            return meeting
        raise NotFound(
            f"inget möte nr {text} i förbundet {forbund.slug}; se 'finsam meetings list'"
        )
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{text!r} är varken ett mötesnummer eller ett datum (ÅÅÅÅ-MM-DD); se 'finsam meetings list'"
        ) from None
    candidates = [
        m
        for m in session.exec(select(Meeting).where(Meeting.forbund_id == forbund.id))
        if local(m.starts_at).date() == day
    ]
    if not candidates:
        raise NotFound(f"inget möte {day} i förbundet {forbund.slug}; se 'finsam meetings list'")
    if len(candidates) > 1:
        numbers = ", ".join(str(m.number) for m in candidates)
        raise BadInput(f"flera möten {day} (nr {numbers}); ange mötets nummer")
    return candidates[0]


def later_meetings(session: Session, meeting: Meeting) -> list[tuple[Meeting, Protocol | None]]:
    """The organ's meetings after this one, by date, with their protocols."""
    return [
        (candidate, protocol_of(session, candidate))
        for candidate in session.exec(
            select(Meeting)
            .where(Meeting.organ_id == meeting.organ_id, col(Meeting.starts_at) > meeting.starts_at)
            .order_by(col(Meeting.starts_at))
        )
    ]


def guard_open(session: Session, meeting: Meeting, zone: Any = None) -> Protocol | None:
    """Refuse any change to a meeting whose protocol is justerat; return its protocol."""
    protocol = protocol_of(session, meeting)
    if protocol is not None and protocol.status in CLOSED:
        raise NotPermitted(
            f"protokollet från {local(meeting.starts_at):%Y-%m-%d} är justerat och kan inte ändras; "
            "en rättelse tas upp som en ny § vid ett senare möte"
        )
    return protocol
