"""The protocol of a meeting: opening it (chair and justerare chosen, every agenda item given
its §), and what every change of a protocol shares: one transaction on one meeting, its audit
event, the draft it must still be.

utkast -> för_justering -> justerat -> anslaget: decisions.py records the §§' decisions,
justering.py sends the protocol for justering and collects the signatures, anslag.py posts it.
A justerat protocol never changes again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.models import (
    Attendance,
    ForbundRef,
    Meeting,
    Organ,
    Paragraph,
    Person,
    Protocol,
    ProtocolSigner,
)
from workflow.models.meetings import OrganKind, Presence, ProtocolStatus, SignerRole
from workflow.services.board.paragraphs import add_paragraph, refuse_new_paragraphs, renumber
from workflow.services.board.records import find_meeting, guard_open, ordered_items, protocol_of
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.cases import audit
from workflow.services.cases.audit import ChainHead
from workflow.services.cases.change import begin_change
from workflow.services.organisation.people import Actor, find_actor
from workflow.services.reminders import planner as reminders

SUBJECT = "protokoll"
PARAGRAPH_SUBJECT = "paragraf"
VOTING = {Presence.BESLUTANDE.value, Presence.TJANSTGORANDE_ERSATTARE.value}


@dataclass
class Scope:
    """What one change of a meeting's protocol works with, inside its transaction."""

    session: Session
    forbund: ForbundRef
    head: ChainHead
    meeting: Meeting
    actor: Actor
    now: datetime


@contextmanager
def scope(app: App, ref: str | int, actor_email: str, forbund: str | None) -> Iterator[Scope]:
    """One transaction on one meeting: chain lock first, so what we read next stays true."""
    try:
        with app.db.transaction() as session:
            change = begin_change(session, forbund, actor_email)
            meeting = find_meeting(session, change.forbund, ref)
            yield Scope(session, change.forbund, change.head, meeting, change.actor, app.clock())
            # Whatever happened to the protocol, its meeting's reminders follow it.
            reminders.replan_meeting(session, app, change.forbund, meeting.id)  # type: ignore[arg-type]
    except StaleDataError:
        raise Conflict(
            "protokollet ändrades samtidigt av någon annan; läs om det med 'finsam meetings show' "
            "och försök igen"
        ) from None
    except IntegrityError as exc:
        raise Conflict(
            f"protokollet kunde inte sparas ({exc.orig.__class__.__name__}); försök igen"
        ) from None


def record(
    s: Scope,
    *,
    kind: str,
    subject_id: int,
    ref: str,
    from_state: str | None,
    to_state: str,
    trigger: str,
    data: dict[str, Any] | None = None,
    comment: str | None = None,
) -> None:
    audit.append(
        s.session,
        s.head,
        subject_kind=kind,
        subject_id=subject_id,
        subject_ref=ref,
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor=s.actor,
        at=s.now,
        comment=comment,
        data=data,
    )


def meeting_ref(meeting: Meeting) -> str:
    return f"möte {meeting.number} {local(meeting.starts_at):%Y-%m-%d}"


def attendance_of(session: Session, meeting: Meeting) -> list[Attendance]:
    return list(session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)))


def voter(
    session: Session, forbund: ForbundRef, meeting: Meeting, email: str, what: str
) -> tuple[Actor, Attendance]:
    person = find_actor(session, forbund, email)
    row = next((a for a in attendance_of(session, meeting) if a.person_id == person.id), None)
    if row is None or row.presence not in VOTING:
        raise BadInput(f"{person.email} är inte beslutande vid mötet och kan inte vara {what}")
    return person, row


def set_status(
    s: Scope,
    protocol: Protocol,
    status: ProtocolStatus,
    trigger: str,
    data: dict[str, Any] | None = None,
) -> None:
    before = protocol.status
    protocol.status = status.value
    s.session.add(protocol)
    s.session.flush()
    record(
        s,
        kind=SUBJECT,
        subject_id=protocol.id,  # type: ignore[arg-type]
        ref=meeting_ref(s.meeting),
        from_state=before,
        to_state=status.value,
        trigger=trigger,
        data=data,
    )


def require_held(s: Scope, what: str) -> None:
    """Refuse `what` before the meeting has begun (by the injected clock): a board decides,
    and its protocol is sent, signed and posted, only once it has met."""
    if s.now < s.meeting.starts_at:
        raise NotPermitted(
            f"mötet {local(s.meeting.starts_at):%Y-%m-%d %H:%M} har inte ägt rum än; "
            f"{what} först när mötet har börjat"
        )


def open_draft(s: Scope) -> Protocol:
    protocol = guard_open(s.session, s.meeting)
    if protocol is None:
        raise BadInput(
            f"{meeting_ref(s.meeting)} har inget protokoll än; öppna det med 'finsam meetings protocol'"
        )
    if protocol.status != ProtocolStatus.UTKAST:
        raise NotPermitted(
            "protokollet är skickat för justering och kan inte ändras; "
            "ordföranden och justeraren justerar det som det står"
        )
    return protocol


def find_paragraph(s: Scope, protocol: Protocol, number: int) -> Paragraph:
    paragraph = s.session.exec(
        select(Paragraph).where(Paragraph.protocol_id == protocol.id, Paragraph.number == number)
    ).first()
    if paragraph is None:
        known = ", ".join(
            str(n)
            for n in s.session.exec(
                select(Paragraph.number)
                .where(Paragraph.protocol_id == protocol.id)
                .order_by(col(Paragraph.number))
            )
        )
        raise NotFound(f"protokollet har ingen § {number}; dess §§: {known}")
    return paragraph


# -- opening the protocol -------------------------------------------------------------------


def open_protocol(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    justerare: list[str],
    chair: str | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Start the protocol: signers chosen, every agenda item gets its § (numbered in the order
    of the organ's meetings that year, paragraphs.py)."""
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        guard_open(s.session, s.meeting)
        if protocol_of(s.session, s.meeting) is not None:
            raise Conflict(f"{meeting_ref(s.meeting)} har redan ett protokoll")
        items = ordered_items(s.session, s.meeting)
        if not items:
            raise BadInput("mötet har ingen dagordning; bygg den med 'finsam meetings agenda'")
        refuse_new_paragraphs(s.session, s.meeting, "ett protokoll för mötet")
        need = app.settings.meetings.justerare_count
        if not need <= len(set(justerare)) <= 2:
            raise BadInput(f"ange {need} justerare med --justerare (högst två)")
        attendance = attendance_of(s.session, s.meeting)
        chair_person: Actor | Person | None
        if chair:
            chair_person, _ = voter(s.session, s.forbund, s.meeting, chair, "ordförande")
        else:
            row = next(
                (a for a in attendance if a.capacity == "ordförande" and a.presence in VOTING), None
            )
            if row is None or row.person_id is None:
                raise BadInput("ordföranden är inte närvarande; ange mötets ordförande med --chair")
            chair_person = s.session.get(Person, row.person_id)
        assert chair_person is not None
        organ = s.session.get(Organ, s.meeting.organ_id)
        # A styrelse justerare completes bifall decisions: only board members may (states/).
        board = organ is not None and organ.kind == OrganKind.STYRELSE
        checkers = []
        for email in dict.fromkeys(justerare):
            person, _ = voter(s.session, s.forbund, s.meeting, email, "justerare")
            if person.id == chair_person.id:
                raise BadInput("ordföranden justerar redan; välj en annan ledamot som justerare")
            if board and not app.actions.allows(
                find_actor(s.session, s.forbund, person.email), "justera_board_protocol"
            ):
                raise BadInput(f"{person.email} sitter inte i styrelsen och kan inte justera")
            checkers.append(person)
        protocol = Protocol(
            forbund_id=s.forbund.id,  # type: ignore[arg-type]
            meeting_id=s.meeting.id,  # type: ignore[arg-type]
            status=ProtocolStatus.UTKAST.value,
            secretary_id=s.actor.id,  # type: ignore[arg-type]
            created_at=s.now,
        )
        s.session.add(protocol)
        s.session.flush()
        s.session.add(
            ProtocolSigner(
                protocol_id=protocol.id,  # type: ignore[arg-type]
                person_id=chair_person.id,  # type: ignore[arg-type]
                role=SignerRole.ORDFORANDE.value,
            )
        )
        for person in checkers:
            s.session.add(
                ProtocolSigner(
                    protocol_id=protocol.id,  # type: ignore[arg-type]
                    person_id=person.id,  # type: ignore[arg-type]
                    role=SignerRole.JUSTERARE.value,
                )
            )
        names = " och ".join(p.name for p in checkers)
        for item in items:
            if item.kind == "justerare" and item.proposal:
                item.proposal = item.proposal.replace("{justerare}", names)
                s.session.add(item)
            add_paragraph(s.session, protocol, s.meeting, item)
        renumber(s.session, s.meeting, head=s.head, actor=s.actor, now=s.now)
        record(
            s,
            kind=SUBJECT,
            subject_id=protocol.id,  # type: ignore[arg-type]
            ref=meeting_ref(s.meeting),
            from_state=None,
            to_state=protocol.status,
            trigger="skapa",
            data={"ordforande": chair_person.email, "justerare": [p.email for p in checkers]},
        )
        s.session.flush()
        return meeting_view(s.session, app, s.meeting)
