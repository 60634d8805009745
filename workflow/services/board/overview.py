"""What a board member's start page shows of the board: the coming meetings they are called
to, with their papers, and the protocols waiting for their signature (as ordförande or
justerare)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from workflow.app import App
from workflow.clock import local
from workflow.models import AgendaItem, Attendance, Meeting, Organ, Person, Protocol, ProtocolSigner
from workflow.models.meetings import SIGNER_LABELS, ProtocolStatus, SignerRole
from workflow.services.organisation.forbund import resolve_forbund


@dataclass
class ComingMeeting:
    number: int
    organ: str
    starts_at: datetime
    place: str
    # The papers one can open now: the dagordning and kallelse once the agenda has items.
    papers: list[str] = field(default_factory=list)


@dataclass
class WaitingSignature:
    number: int
    organ: str
    starts_at: datetime
    role: str
    sent_at: datetime | None


@dataclass
class BoardOverview:
    coming: list[ComingMeeting]
    to_sign: list[WaitingSignature]


def for_member(
    app: App, *, forbund: str, viewer_email: str, limit: int = 5
) -> BoardOverview | None:
    """The person's next `limit` meetings and the protocols waiting for their signature; None
    when they are called to no meeting and have nothing to sign (the start page then leaves
    the section out). Four queries (the förbund, the person, the meetings, the signatures)
    whatever the förbund's size: the signatures are bounded by nature (one person's,
    while a protocol is out for justering), the meetings by `limit`."""
    zone = app.settings.zone
    now = app.clock()
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        person = session.exec(
            select(Person).where(
                Person.forbund_id == organisation.id, Person.email == viewer_email.lower()
            )
        ).first()
        if person is None:
            return None
        # Whether the agenda has items, in the same query: a start page reads the same
        # number of statements however many meetings it lists.
        has_agenda = (
            select(AgendaItem.id).where(col(AgendaItem.meeting_id) == col(Meeting.id)).exists()
        )
        coming = []
        for meeting, organ, with_items in session.exec(
            select(Meeting, Organ, has_agenda.label("has_agenda"))
            .join(Organ, col(Organ.id) == col(Meeting.organ_id))
            .join(Attendance, col(Attendance.meeting_id) == col(Meeting.id))
            .where(
                Meeting.forbund_id == organisation.id,
                Attendance.person_id == person.id,
                col(Meeting.starts_at) >= now,
            )
            .order_by(col(Meeting.starts_at))
            .limit(limit)
        ):
            coming.append(
                ComingMeeting(
                    number=meeting.number or meeting.id,  # type: ignore[arg-type]
                    organ=organ.name,
                    starts_at=local(meeting.starts_at, zone),
                    place=meeting.place,
                    papers=["dagordning", "kallelse"] if with_items else [],
                )
            )
        to_sign = [
            WaitingSignature(
                number=meeting.number or meeting.id,  # type: ignore[arg-type]
                organ=organ.name,
                starts_at=local(meeting.starts_at, zone),
                role=SIGNER_LABELS[SignerRole(signer.role)],
                sent_at=local(protocol.sent_for_justering_at, zone)
                if protocol.sent_for_justering_at
                else None,
            )
            for signer, protocol, meeting, organ in session.exec(
                select(ProtocolSigner, Protocol, Meeting, Organ)
                .join(Protocol, col(Protocol.id) == col(ProtocolSigner.protocol_id))
                .join(Meeting, col(Meeting.id) == col(Protocol.meeting_id))
                .join(Organ, col(Organ.id) == col(Meeting.organ_id))
                .where(
                    ProtocolSigner.person_id == person.id,
                    col(ProtocolSigner.signed_at).is_(None),
                    Protocol.status == ProtocolStatus.FOR_JUSTERING.value,
                    Protocol.forbund_id == organisation.id,
                )
                .order_by(col(Meeting.starts_at))
            )
        ]
        if not coming and not to_sign:
            return None
        return BoardOverview(coming, to_sign)
