"""Meetings of any organ: create, attendance, find, and the view the CLI and the papers show.

A meeting whose protocol is justerat is closed for good: nothing about it changes any more
(`guard_open`); a correction is a new § at a later meeting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.models import (
    AgendaItem,
    Attendance,
    Forbund,
    ForbundRef,
    Insats,
    Meeting,
    Organ,
    Paragraph,
    Party,
    Person,
    Protocol,
    ProtocolSigner,
    Recommendation,
)
from workflow.models.meetings import (
    DECISION_LABELS,
    PROTOCOL_LABELS,
    DecisionKind,
    MemberRole,
    Presence,
    ProtocolStatus,
)
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.cases.registration import next_number
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.organs import ensure_organ, members
from workflow.services.organisation.people import find_actor
from workflow.text_guard import check_one_line
from workflow.vocabulary import parse_choice, recommendation_label

SUBJECT = "mote"
CLOSED = {ProtocolStatus.JUSTERAT.value, ProtocolStatus.ANSLAGET.value}

PRESENCE_LABELS = {
    Presence.BESLUTANDE: "Beslutande",
    Presence.TJANSTGORANDE_ERSATTARE: "Tjänstgörande ersättare",
    Presence.ERSATTARE: "Ersättare",
    Presence.OVRIG: "Övriga närvarande",
    Presence.FRANVARANDE: "Frånvarande",
}


# -- views ----------------------------------------------------------------------------------


@dataclass
class AttendeeView:
    name: str
    presence: str
    capacity: str | None
    email: str | None


@dataclass
class ItemView:
    """An agenda item and, once the protocol is opened, its § and decision."""

    item_id: int
    agenda_no: int
    kind: str
    title: str
    dnr: str | None
    case_state: str | None
    recommendation: str | None
    recommendation_label: str
    recommendation_motivation: str | None
    proposal: str | None
    requested: dict[str, int]
    paragraph: int | None = None
    paragraph_year: int | None = None
    decision: str | None = None
    decision_label: str | None = None
    att_satser: list[str] = field(default_factory=list)
    granted: dict[str, int] = field(default_factory=dict)
    conditions: str | None = None
    reservations: list[dict[str, Any]] = field(default_factory=list)
    jav: list[dict[str, Any]] = field(default_factory=list)
    motivation: str | None = None
    decided_at: datetime | None = None
    version: int | None = None
    deferred_from: str | None = None


@dataclass
class SignerView:
    name: str
    email: str
    role: str
    signed_at: datetime | None


@dataclass
class ProtocolView:
    status: str
    status_label: str
    secretary: str
    secretary_email: str
    signers: list[SignerView]
    sent_for_justering_at: datetime | None
    justerat_at: datetime | None
    justering_due: date
    posted_on: date | None
    taken_down_on: date | None
    storage_place: str | None
    version: int


@dataclass
class MeetingView:
    id: int
    # How people name the meeting: the förbund's own count of its meetings ("möte 9").
    number: int
    forbund: str
    forbund_name: str
    organ: str
    organ_kind: str
    starts_at: datetime
    ends_at: datetime | None
    place: str
    kind: str
    kallelse_due: datetime
    kallelse_sent_at: datetime | None
    version: int
    attendance: list[AttendeeView] = field(default_factory=list)
    items: list[ItemView] = field(default_factory=list)
    protocol: ProtocolView | None = None

    @property
    def title(self) -> str:
        return f"{self.organ} {self.starts_at:%Y-%m-%d}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def kallelse_due(app: App, meeting: Meeting) -> datetime:
    """When the kallelse must go out: N days before the meeting (UTC)."""
    return meeting.starts_at - timedelta(days=app.settings.meetings.kallelse_days_before)


def latest_recommendation(session: Session, case_id: int) -> Recommendation | None:
    """The beredning's latest outcome for a case.

    A recommendation recorded by firing `rekommendera` directly (older data, the CLI's
    `cases fire`) exists only as the case's mirror fields; it is read from there, unsaved.
    """
    rec = session.exec(
        select(Recommendation)
        .where(Recommendation.insats_id == case_id)
        .order_by(col(Recommendation.id).desc())
    ).first()
    case = session.get(Insats, case_id)
    if case is None or case.recommendation is None:
        return rec
    if rec is not None and (rec.outcome, rec.motivation) == (
        case.recommendation,
        case.recommendation_motivation,
    ):
        return rec
    return Recommendation(
        forbund_id=case.forbund_id,
        insats_id=case_id,
        outcome=case.recommendation,
        motivation=case.recommendation_motivation or "",
        recorded_by_id=0,
        recorded_at=case.updated_at,
    )


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


def _item_view(session: Session, app: App, number: int, item: AgendaItem) -> ItemView:
    zone = app.settings.zone
    case = session.get(Insats, item.insats_id) if item.insats_id else None
    rec = latest_recommendation(session, case.id) if case and case.id else None  # type: ignore[arg-type]
    view = ItemView(
        item_id=item.id,  # type: ignore[arg-type]
        agenda_no=number,
        kind=item.kind,
        title=item.title,
        dnr=case.dnr if case else None,
        case_state=case.state if case else None,
        recommendation=rec.outcome if rec else None,
        recommendation_label=recommendation_label(rec.outcome) if rec else "",
        recommendation_motivation=rec.motivation if rec else None,
        proposal=item.proposal,
        requested={k: int(v) for k, v in sorted(case.budget_requested.items())} if case else {},
    )
    if item.deferred_from_id:
        earlier = session.get(AgendaItem, item.deferred_from_id)
        paragraph = _paragraph_of(session, earlier) if earlier else None
        meeting = session.get(Meeting, earlier.meeting_id) if earlier else None
        if paragraph and meeting:
            view.deferred_from = (
                f"bordlagt {local(meeting.starts_at, zone):%Y-%m-%d} § {paragraph.number}"
            )
    paragraph = _paragraph_of(session, item)
    if paragraph is not None:
        view.paragraph = paragraph.number
        view.paragraph_year = paragraph.year
        view.decision = paragraph.decision
        view.decision_label = (
            DECISION_LABELS[DecisionKind(paragraph.decision)] if paragraph.decision else None
        )
        view.att_satser = list(paragraph.att_satser)
        view.granted = {k: int(v) for k, v in sorted(paragraph.granted.items())}
        view.conditions = paragraph.conditions
        view.reservations = [dict(r) for r in paragraph.reservations]
        view.jav = [dict(j) for j in paragraph.jav]
        view.motivation = paragraph.motivation
        view.decided_at = local(paragraph.decided_at, zone) if paragraph.decided_at else None
        view.version = paragraph.version
    return view


def _paragraph_of(session: Session, item: AgendaItem) -> Paragraph | None:
    return session.exec(select(Paragraph).where(Paragraph.agenda_item_id == item.id)).first()


def _protocol_view(
    session: Session, app: App, meeting: Meeting, protocol: Protocol
) -> ProtocolView:
    zone = app.settings.zone
    secretary = session.get(Person, protocol.secretary_id)
    assert secretary is not None
    signers = []
    for signer, person in session.exec(
        select(ProtocolSigner, Person)
        .join(Person, col(Person.id) == col(ProtocolSigner.person_id))
        .where(ProtocolSigner.protocol_id == protocol.id)
    ):
        signers.append(
            SignerView(
                person.name,
                person.email,
                signer.role,
                local(signer.signed_at, zone) if signer.signed_at else None,
            )
        )
    signers.sort(key=lambda s: (s.role != "ordforande", s.name))
    return ProtocolView(
        status=protocol.status,
        status_label=PROTOCOL_LABELS[ProtocolStatus(protocol.status)],
        secretary=secretary.name,
        secretary_email=secretary.email,
        signers=signers,
        sent_for_justering_at=local(protocol.sent_for_justering_at, zone)
        if protocol.sent_for_justering_at
        else None,
        justerat_at=local(protocol.justerat_at, zone) if protocol.justerat_at else None,
        justering_due=local(meeting.starts_at, zone).date()
        + timedelta(days=app.settings.meetings.justering_days),
        posted_on=protocol.posted_on,
        taken_down_on=protocol.taken_down_on,
        storage_place=protocol.storage_place,
        version=protocol.version,
    )


def meeting_view(session: Session, app: App, meeting: Meeting) -> MeetingView:
    zone = app.settings.zone
    organ = session.get(Organ, meeting.organ_id)
    forbund = session.get(Forbund, meeting.forbund_id)
    assert organ is not None and forbund is not None
    view = MeetingView(
        id=meeting.id,  # type: ignore[arg-type]
        number=meeting.number or meeting.id,  # type: ignore[arg-type]
        forbund=forbund.slug,
        forbund_name=forbund.name,
        organ=organ.name,
        organ_kind=organ.kind,
        starts_at=local(meeting.starts_at, zone),
        ends_at=local(meeting.ends_at, zone) if meeting.ends_at else None,
        place=meeting.place,
        kind=meeting.kind,
        kallelse_due=local(kallelse_due(app, meeting), zone),
        kallelse_sent_at=local(meeting.kallelse_sent_at, zone)
        if meeting.kallelse_sent_at
        else None,
        version=meeting.version,
    )
    rows = session.exec(
        select(Attendance, Person)
        .join(Person, col(Person.id) == col(Attendance.person_id), isouter=True)
        .where(Attendance.meeting_id == meeting.id)
        .order_by(col(Attendance.position), col(Attendance.id))
    )
    view.attendance = [
        AttendeeView(a.name, a.presence, a.capacity, p.email if p else None) for a, p in rows
    ]
    view.items = [
        _item_view(session, app, number, item)
        for number, item in enumerate(ordered_items(session, meeting), start=1)
    ]
    protocol = protocol_of(session, meeting)
    if protocol is not None:
        view.protocol = _protocol_view(session, app, meeting, protocol)
    return view


# -- finding --------------------------------------------------------------------------------


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


def next_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    """The organ's next meeting after this one whose protocol is still open."""
    later = session.exec(
        select(Meeting)
        .where(Meeting.organ_id == meeting.organ_id, col(Meeting.starts_at) > meeting.starts_at)
        .order_by(col(Meeting.starts_at))
    )
    for candidate in later:
        protocol = protocol_of(session, candidate)
        if protocol is None or protocol.status not in CLOSED:
            return candidate
    return None


def guard_open(session: Session, meeting: Meeting, zone: Any = None) -> Protocol | None:
    """Refuse any change to a meeting whose protocol is justerat; return its protocol."""
    protocol = protocol_of(session, meeting)
    if protocol is not None and protocol.status in CLOSED:
        raise NotPermitted(
            f"protokollet från {local(meeting.starts_at):%Y-%m-%d} är justerat och kan inte ändras; "
            "en rättelse tas upp som en ny § vid ett senare möte"
        )
    return protocol


# -- commands -------------------------------------------------------------------------------


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
                number=next_number(session, Meeting.__table__, organisation.id),  # type: ignore[attr-defined]
                organ_id=body.id,  # type: ignore[arg-type]
                starts_at=starts_at,
                ends_at=ends_at,
                place=place,
                kind=kind,
                created_at=now,
            )
            session.add(meeting)
            session.flush()
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
        return meeting_view(session, app, meeting)


def get_meeting(app: App, *, ref: str | int, forbund: str | None = None) -> MeetingView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return meeting_view(session, app, find_meeting(session, organisation, ref))


def list_meetings(
    app: App, *, forbund: str | None = None, year: int | None = None, organ: str | None = None
) -> list[MeetingView]:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(Meeting).where(Meeting.forbund_id == organisation.id)
        if organ is not None:
            body = session.exec(
                select(Organ).where(
                    Organ.forbund_id == organisation.id,
                    (col(Organ.kind) == organ) | (col(Organ.name) == organ),
                )
            ).first()
            if body is None:
                raise NotFound(f"inget organ {organ!r}; t.ex. styrelse eller beredningsgrupp")
            query = query.where(Meeting.organ_id == body.id)
        views = [
            meeting_view(session, app, m)
            for m in session.exec(query.order_by(col(Meeting.starts_at), col(Meeting.id)))
        ]
        if year is not None:
            views = [v for v in views if v.starts_at.year == year]
        return views


def presence_label(value: str) -> str:
    return PRESENCE_LABELS[parse_choice(Presence, value, "närvaro")]
