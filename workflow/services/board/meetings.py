"""Meetings of any organ: calling one, its attendance, and the kallelse sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput, Conflict
from workflow.models import Attendance, Meeting, Organ, Party
from workflow.models.meetings import MemberRole, Presence
from workflow.services.board.paragraphs import refuse_new_paragraphs
from workflow.services.board.records import find_meeting, guard_open
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.cases.registration import next_number
from workflow.services.organisation.organs import ensure_organ, members
from workflow.services.organisation.people import find_actor
from workflow.services.reminders import planner as reminders
from workflow.text_guard import check_one_line

SUBJECT = "mote"


def parse_local(text: str | datetime, app: App, what: str) -> datetime:
    """'2013-02-22 13:00' (local time) or an aware datetime, as aware UTC."""
    if isinstance(text, datetime):
        value = text
    else:
        try:
            value = datetime.fromisoformat(text.strip().replace("T", " "))
        except ValueError:
            raise BadInput(f"{what}: {text!r} är ingen tid; skriv ÅÅÅÅ-MM-DD TT:MM") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=app.settings.zone)
    return value


def _default_attendance(session: Session, meeting: Meeting, organ: Organ) -> None:
    """Everyone of the organ, as the protocol lists them until the secretary says otherwise."""
    presence = {
        MemberRole.ORDFORANDE: (Presence.BESLUTANDE, "ordförande"),
        MemberRole.VICE_ORDFORANDE: (Presence.BESLUTANDE, "vice ordförande"),
        MemberRole.LEDAMOT: (Presence.BESLUTANDE, None),
        MemberRole.ERSATTARE: (Presence.ERSATTARE, None),
        MemberRole.SEKRETERARE: (Presence.OVRIG, "sekreterare"),
        MemberRole.ADJUNGERAD: (Presence.OVRIG, "förbundschef"),
    }
    for position, (person, role) in enumerate(members(session, organ)):
        kind, capacity = presence[MemberRole(role)]
        if capacity is None and person.party_id is not None:
            party = session.get(Party, person.party_id)
            capacity = party.name if party else None
        session.add(
            Attendance(
                meeting_id=meeting.id,  # type: ignore[arg-type]
                person_id=person.id,
                name=person.name,
                presence=kind.value,
                capacity=capacity,
                position=position,
            )
        )


def create_meeting(
    app: App,
    *,
    actor_email: str,
    starts: str | datetime,
    place: str,
    organ: str = "styrelse",
    organ_name: str | None = None,
    ends: str | datetime | None = None,
    kind: str = "ordinarie",
    forbund: str | None = None,
) -> MeetingView:
    now = app.clock()
    starts_at = parse_local(starts, app, "mötets start")
    ends_at = parse_local(ends, app, "mötets slut") if ends else None
    if ends_at is not None and ends_at <= starts_at:
        raise BadInput("mötets slut måste ligga efter dess start")
    if kind not in {"ordinarie", "extra"}:
        raise BadInput(f"okänd mötestyp {kind!r}; välj ordinarie eller extra")
    place = check_one_line(place, "mötesplatsen")
    try:
        with app.db.transaction() as session:
            organisation, head, actor = begin_change(session, forbund, actor_email)
            app.actions.require(actor, "call_meeting")
            body = ensure_organ(session, organisation, organ, organ_name)
            meeting = Meeting(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                organ_id=body.id,  # type: ignore[arg-type]
                starts_at=starts_at,
                ends_at=ends_at,
                place=place,
                kind=kind,
                number=next_number(session, Meeting.__table__, organisation.id),  # type: ignore[attr-defined]
                created_at=now,
            )
            session.add(meeting)
            session.flush()
            # §§ follow the meetings' dates: none may come before numbers already fixed.
            refuse_new_paragraphs(session, meeting, "ett möte")
            _default_attendance(session, meeting, body)
            audit.append(
                session,
                head,
                subject_kind=SUBJECT,
                subject_id=meeting.id,  # type: ignore[arg-type]
                subject_ref=f"{body.name} {local(starts_at, app.settings.zone):%Y-%m-%d}",
                from_state=None,
                to_state="planerat",
                trigger="skapa",
                actor=actor,
                at=now,
                data={"place": place, "starts_at": starts_at.isoformat()},
            )
            session.flush()
            reminders.replan_meeting(session, app, organisation, meeting.id)  # type: ignore[arg-type]
            return meeting_view(session, app, meeting)
    except IntegrityError:
        raise Conflict(
            f"{organ} har redan ett möte {local(starts_at, app.settings.zone):%Y-%m-%d %H:%M}"
        ) from None


def set_attendance(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    absent: list[str] | None = None,
    serving: list[str] | None = None,
    present: list[str] | None = None,
    others: list[str] | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Record who is absent, which ersättare serve, and others present ("Namn, funktion")."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "keep_attendance")
        guard_open(session, meeting)
        rows = list(session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)))

        def row_of(email: str) -> Attendance:
            person = find_actor(session, organisation, email)
            found = next((r for r in rows if r.person_id == person.id), None)
            if found is None:
                raise BadInput(
                    f"{person.email} hör inte till organet; lägg till som övrig med --other 'Namn, funktion'"
                )
            return found

        changes: dict[str, list[str]] = {}
        for email in absent or []:
            row_of(email).presence = Presence.FRANVARANDE.value
            changes.setdefault("absent", []).append(email)
        for email in present or []:
            row = row_of(email)
            row.presence = (
                Presence.BESLUTANDE.value
                if row.presence == Presence.FRANVARANDE.value
                else row.presence
            )
            changes.setdefault("present", []).append(email)
        for email in serving or []:
            row = row_of(email)
            if row.presence not in {
                Presence.ERSATTARE.value,
                Presence.TJANSTGORANDE_ERSATTARE.value,
            }:
                raise BadInput(f"{email} är inte ersättare i organet")
            row.presence = Presence.TJANSTGORANDE_ERSATTARE.value
            changes.setdefault("serving", []).append(email)
        position = max((r.position for r in rows), default=0)
        for text in others or []:
            name, _, capacity = check_one_line(text, "övrig närvarande").partition(",")
            position += 1
            session.add(
                Attendance(
                    meeting_id=meeting.id,  # type: ignore[arg-type]
                    name=name.strip(),
                    presence=Presence.OVRIG.value,
                    capacity=capacity.strip() or None,
                    position=position,
                )
            )
            changes.setdefault("others", []).append(text)
        serving_count = sum(1 for r in rows if r.presence == Presence.TJANSTGORANDE_ERSATTARE.value)
        absent_count = sum(
            1 for r in rows if r.presence == Presence.FRANVARANDE.value and r.person_id is not None
        )
        if serving_count > absent_count:
            raise BadInput(
                f"{serving_count} ersättare tjänstgör men bara {absent_count} ledamöter är frånvarande"
            )
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="planerat",
            trigger="narvaro",
            actor=actor,
            at=now,
            data=changes,
        )
        try:
            session.flush()
        except IntegrityError:
            raise BadInput("samma namn finns redan i närvarolistan") from None
        return meeting_view(session, app, meeting)


def mark_kallelse_sent(session: Session, meeting: Meeting, when: datetime) -> None:
    """Record that the kallelse went out (for whoever sends it, inside their transaction)."""
    if meeting.kallelse_sent_at is None:
        meeting.kallelse_sent_at = when
        session.add(meeting)
        session.flush()


def record_kallelse_sent(
    app: App, *, ref: str | int, actor_email: str, forbund: str | None = None
) -> MeetingView:
    """The kallelse was sent by hand (or before the system was used); reminders stop."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "record_kallelse")
        if meeting.kallelse_sent_at is not None:
            raise Conflict(f"kallelsen till möte {meeting.number} är redan skickad")
        mark_kallelse_sent(session, meeting, now)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="kallat",
            trigger="kallelse_skickad",
            actor=actor,
            at=now,
        )
        session.flush()
        reminders.replan_meeting(session, app, organisation, meeting.id)  # type: ignore[arg-type]
        return meeting_view(session, app, meeting)
