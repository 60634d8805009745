"""What the CLI, the pages and the papers show of a meeting: attendance, agenda items with their
§§ and decisions, and the protocol's signers and dates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import as_utc, local
from workflow.errors import NotFound
from workflow.models import (
    AgendaItem,
    Attendance,
    Forbund,
    Insats,
    Meeting,
    Organ,
    Person,
    Protocol,
    ProtocolSigner,
)
from workflow.models.meetings import (
    DECISION_LABELS,
    PROTOCOL_LABELS,
    DecisionKind,
    Presence,
    ProtocolStatus,
)
from workflow.services.board.records import (
    find_meeting,
    latest_recommendation,
    ordered_items,
    paragraph_of,
    protocol_of,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, Page, check_limit
from workflow.vocabulary import parse_choice, recommendation_label

# How a closing § ends its insats, as the protocol says it.
OUTCOME_LABELS = {
    "implementerad": "Implementerad i ordinarie verksamhet",
    "ej_implementerad": "Inte implementerad i ordinarie verksamhet",
    "avbruten": "Insatsen avbryts",
}

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
    # A closing item: the insats's outcome, proposed until its § decides it.
    outcome: str | None = None
    outcome_label: str | None = None


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


def _item_view(session: Session, app: App, number: int, item: AgendaItem) -> ItemView:
    zone = app.settings.zone
    case = session.get(Insats, item.insats_id) if item.insats_id else None
    # A closing item (it carries an outcome) is about the slutrapport, not the beredning.
    rec = (
        latest_recommendation(session, case.id)  # type: ignore[arg-type]
        if case and case.id and item.outcome is None
        else None
    )
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
        outcome=item.outcome,
    )
    if item.deferred_from_id:
        earlier = session.get(AgendaItem, item.deferred_from_id)
        paragraph = paragraph_of(session, earlier) if earlier else None
        meeting = session.get(Meeting, earlier.meeting_id) if earlier else None
        if paragraph and meeting:
            view.deferred_from = (
                f"bordlagt {local(meeting.starts_at, zone):%Y-%m-%d} § {paragraph.number}"
            )
    paragraph = paragraph_of(session, item)
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
        if paragraph.decision is not None:
            view.outcome = paragraph.outcome
    if view.outcome is not None:
        view.outcome_label = OUTCOME_LABELS.get(view.outcome, view.outcome)
    return view


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


def get_meeting(app: App, *, ref: str | int, forbund: str | None = None) -> MeetingView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return meeting_view(session, app, find_meeting(session, organisation, ref))


_MEETING = Meeting.__table__  # type: ignore[attr-defined]
MEETING_ORDER = Keyset("meetings", (_MEETING.c.starts_at, _MEETING.c.id))


def list_meetings(
    app: App,
    *,
    forbund: str | None = None,
    year: int | None = None,
    organ: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[MeetingView]:
    """One page of the förbund's meetings by time (of one organ, in one local year)."""
    check_limit(limit)
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
        if year is not None:
            zone = app.settings.zone
            first = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
            following = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
            query = query.where(col(Meeting.starts_at) >= first, col(Meeting.starts_at) < following)
        rows = session.exec(MEETING_ORDER.page(query, after, limit)).all()
        page = MEETING_ORDER.cut(rows, limit, lambda m: (as_utc(m.starts_at), m.id))
        return Page([meeting_view(session, app, m) for m in page.items], page.next_after)


def presence_label(value: str) -> str:
    return PRESENCE_LABELS[parse_choice(Presence, value, "närvaro")]


# Who reads the meetings' pages: the kansli, the board and the beredningsgrupp (the roles of
# these actions in states/actions.yaml); others of the förbund are refused.
READER_ACTIONS = ("call_meeting", "justera_board_protocol", "beredning_note", "keep_protocol")


def meeting_reader(app: App, *, viewer_email: str, forbund: str | None = None) -> Any:
    """The person as an Actor, if they may read the förbund's meetings; else NotPermitted."""
    from workflow.errors import NotPermitted
    from workflow.services.organisation.people import find_actor

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
    if not any(app.actions.allows(actor, name) for name in READER_ACTIONS):
        raise NotPermitted(
            f"{actor.email} läser inte förbundets möten; de är för kansliet, styrelsen "
            "och beredningsgruppen"
        )
    return actor


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    meetings: list[MeetingView] = field(default_factory=list)


def year_meetings(app: App, *, year: int, forbund: str | None = None) -> list[MeetingView]:
    """Every meeting of every organ in the förbund in one local year, by time."""
    found: list[MeetingView] = []
    after: str | None = None
    while True:
        page = list_meetings(app, forbund=forbund, year=year, after=after, limit=200)
        found.extend(page.items)
        if not page.next_after:
            return found
        after = page.next_after


def calendar_month(
    app: App, *, year: int, month: int, forbund: str | None = None
) -> list[list[CalendarDay]]:
    """The month as weeks (Monday first) of days with the meetings held on each."""
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    following = date(year + (month == 12), month % 12 + 1, 1)
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    by_day: dict[date, list[MeetingView]] = {}
    for y in sorted({start.year, (end - timedelta(days=1)).year}):
        for view in year_meetings(app, year=y, forbund=forbund):
            by_day.setdefault(view.starts_at.date(), []).append(view)
    weeks: list[list[CalendarDay]] = []
    day = start
    while day < end:
        week = []
        for _ in range(7):
            week.append(CalendarDay(day, day.month == month, by_day.get(day, [])))
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


def get_meeting_by_id(app: App, *, meeting_id: int, forbund: str | None = None) -> MeetingView:
    """A meeting by its row id (the pages' addresses: unique across förbund, unlike the
    förbund's own numbers); one of another förbund is not found."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.forbund_id != organisation.id:
            raise NotFound(
                f"inget sådant möte i förbundet {organisation.slug}; se listan över möten"
            )
        return meeting_view(session, app, meeting)
