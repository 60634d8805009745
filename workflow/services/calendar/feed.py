"""The events of one person's calendar feed, as iCalendar (RFC 5545) for Outlook and others.

What concerns the person, in their förbund only:
  - meetings of the organs they sit in (styrelse, beredningsgrupp ...; within their mandate),
    from a year back: the time of the meeting, its place;
  - report deadlines of the insatser they own (projektägare; the reports still owed);
  - justering deadlines of protocols awaiting their signature (ordförande, justerare):
    the meeting's day + [meetings] justering_days;
  - renewal deadlines of the styrdokument they own (in force, with a renew-by day).

Every event has a UID fixed by what it is about (`meeting-12@akst.finsam`), so a calendar
program that fetches the feed again replaces the event when its date moves; SEQUENCE is the
row's version. Times are Europe/Stockholm with its VTIMEZONE; deadlines are all-day events.
Summaries are Swedish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDuration
from sqlmodel import Session, col, func, select

from workflow.app import App
from workflow.clock import as_utc, local, local_date
from workflow.models import Forbund, Insats, Person, PolicyDocument
from workflow.models.funding import Report
from workflow.models.meetings import Meeting, Organ, OrganMember, Protocol, ProtocolSigner
from workflow.reminder_rules import swedish_date
from workflow.services.reminders.due_dates import REPORT_KIND_LABELS, REPORT_OWED, policy_ref

# A meeting without an end time is shown this long.
DEFAULT_MEETING_HOURS = 2
# Meetings this far back stay in the feed (a calendar keeps what it was given anyway).
PAST_DAYS = 365
PRODID = "-//finsam-workflow//Kalender//SV"


@dataclass(frozen=True)
class FeedEvent:
    """One event of the feed, before it becomes iCalendar."""

    uid: str
    kind: str  # meeting | report | justering | styrdokument
    summary: str
    # A meeting has times (aware, UTC); a deadline is a whole day.
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    day: date | None = None
    location: str | None = None
    description: str = ""
    url: str | None = None
    sequence: int = 0
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        when = self.starts_at or datetime.combine(self.day or date.min, datetime.min.time())
        return (as_utc(when), self.uid)


def _uid(kind: str, row_id: int, forbund: Forbund) -> str:
    return f"{kind}-{row_id}@{forbund.slug}.finsam"


def _meetings(
    session: Session, app: App, forbund: Forbund, person: Person, today: date
) -> list[FeedEvent]:
    zone = app.settings.zone
    since = datetime.combine(today - timedelta(days=PAST_DAYS), datetime.min.time(), zone)
    rows = session.exec(
        select(Meeting, Organ, OrganMember)
        .join(Organ, col(Organ.id) == col(Meeting.organ_id))
        .join(OrganMember, col(OrganMember.organ_id) == col(Organ.id))
        .where(
            Meeting.forbund_id == forbund.id,
            OrganMember.person_id == person.id,
            col(Meeting.starts_at) >= as_utc(since),
        )
        .order_by(col(Meeting.starts_at))
    ).all()
    events = []
    for meeting, organ, member in rows:
        day = local_date(meeting.starts_at, zone)
        if member.mandate_from and day < member.mandate_from:
            continue
        if member.mandate_to and day > member.mandate_to:
            continue
        number = f", möte {meeting.number}" if meeting.number else ""
        extra = " (extra sammanträde)" if meeting.kind == "extra" else ""
        starts = as_utc(meeting.starts_at)
        ends = as_utc(meeting.ends_at) if meeting.ends_at else None
        events.append(
            FeedEvent(
                uid=_uid("meeting", meeting.id, forbund),  # type: ignore[arg-type]
                kind="meeting",
                summary=f"Sammanträde: {organ.name}{number}{extra}",
                starts_at=starts,
                ends_at=ends or starts + timedelta(hours=DEFAULT_MEETING_HOURS),
                location=meeting.place,
                description=(
                    f"{organ.name} sammanträder {swedish_date(day)} kl. "
                    f"{local(starts, zone):%H.%M} i {meeting.place}. Kallelse och handlingar "
                    "finns i finsam-workflow."
                ),
                sequence=meeting.version - 1,
                categories=("Sammanträde",),
            )
        )
    return events


def _reports(session: Session, app: App, forbund: Forbund, person: Person) -> list[FeedEvent]:
    from workflow.services.cases.records import case_ref

    owner = func.coalesce(Insats.project_owner_id, Insats.submitted_by_id)
    closed = app.lifecycles.insats.lifecycle.tagged("closed")
    rows = session.exec(
        select(Report, Insats)
        .join(Insats, col(Insats.id) == col(Report.insats_id))
        .where(
            Report.forbund_id == forbund.id,
            owner == person.id,
            col(Report.status).in_(REPORT_OWED),
            col(Insats.state).not_in(closed),
        )
        .order_by(col(Report.due_on), col(Report.id))
    ).all()
    events = []
    for report, case in rows:
        kind = REPORT_KIND_LABELS.get(report.kind, report.kind)
        ref = case_ref(case)
        again = " (komplettering)" if report.status == "komplettering" else ""
        events.append(
            FeedEvent(
                uid=_uid("report", report.id, forbund),  # type: ignore[arg-type]
                kind="report",
                summary=f"Sista dag för {kind}{again}: {case.title} ({ref})",
                day=report.due_on,
                description=(
                    f"{kind[:1].upper()}{kind[1:]} för {case.title} ({ref}), perioden "
                    f"{swedish_date(report.period_start)}–{swedish_date(report.period_end)}, "
                    f"ska lämnas senast {swedish_date(report.due_on)}."
                ),
                url=f"{app.settings.web.public_url.rstrip('/')}/arenden/{ref}",
                sequence=report.version - 1,
                categories=("Rapport",),
            )
        )
    return events


def _justering(session: Session, app: App, forbund: Forbund, person: Person) -> list[FeedEvent]:
    zone = app.settings.zone
    rows = session.exec(
        select(Protocol, Meeting, Organ, ProtocolSigner)
        .join(ProtocolSigner, col(ProtocolSigner.protocol_id) == col(Protocol.id))
        .join(Meeting, col(Meeting.id) == col(Protocol.meeting_id))
        .join(Organ, col(Organ.id) == col(Meeting.organ_id))
        .where(
            Protocol.forbund_id == forbund.id,
            Protocol.status == "for_justering",
            ProtocolSigner.person_id == person.id,
            col(ProtocolSigner.signed_at).is_(None),
        )
    ).all()
    events = []
    for protocol, meeting, organ, signer in rows:
        held = local_date(meeting.starts_at, zone)
        due = held + timedelta(days=app.settings.meetings.justering_days)
        role = "ordförande" if signer.role == "ordforande" else "justerare"
        events.append(
            FeedEvent(
                uid=_uid("justering", protocol.id, forbund),  # type: ignore[arg-type]
                kind="justering",
                summary=f"Justera protokollet: {organ.name} {swedish_date(held)}",
                day=due,
                description=(
                    f"Protokollet från {organ.name.lower()}s sammanträde {swedish_date(held)} "
                    f"väntar på din justering som {role}, senast {swedish_date(due)}."
                ),
                sequence=protocol.version - 1,
                categories=("Justering",),
            )
        )
    return events


def _policies(session: Session, app: App, forbund: Forbund, person: Person) -> list[FeedEvent]:
    in_force = app.lifecycles["styrdokument"].lifecycle.tagged("in_force")
    rows = session.exec(
        select(PolicyDocument).where(
            PolicyDocument.forbund_id == forbund.id,
            PolicyDocument.owner_id == person.id,
            col(PolicyDocument.state).in_(in_force),
            col(PolicyDocument.renew_by).is_not(None),
        )
    ).all()
    return [
        FeedEvent(
            uid=_uid("styrdokument", document.id, forbund),  # type: ignore[arg-type]
            kind="styrdokument",
            summary=f"Förnya styrdokument: {document.title}",
            day=document.renew_by,
            description=(
                f"{document.title} ({policy_ref(document)}) ska förnyas senast "
                f"{swedish_date(document.renew_by)}; du är dokumentets ägare."
            ),
            sequence=document.version - 1,
            categories=("Styrdokument",),
        )
        for document in rows
    ]


def events_for(app: App, session: Session, forbund: Forbund, person: Person) -> list[FeedEvent]:
    """Everything of the feed for this person, in time order."""
    today = local_date(app.clock(), app.settings.zone)
    events = [
        *_meetings(session, app, forbund, person, today),
        *_reports(session, app, forbund, person),
        *_justering(session, app, forbund, person),
        *_policies(session, app, forbund, person),
    ]
    return sorted(events, key=lambda e: e.sort_key)


def to_ical(app: App, forbund: Forbund, person: Person, events: list[FeedEvent]) -> bytes:
    """The feed as an iCalendar document (UTF-8, CRLF, folded lines)."""
    zone = app.settings.zone
    stamp = as_utc(app.clock())
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{forbund.name} – {person.name}")
    calendar.add("x-wr-caldesc", "Sammanträden och sista dagar från finsam-workflow")
    calendar.add("x-wr-timezone", str(zone))
    # How often a calendar program should fetch the feed again (Outlook, Apple, Google).
    calendar.add("x-published-ttl", vDuration(timedelta(hours=1)))
    calendar.add(
        "refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"}
    )
    if str(zone) == STOCKHOLM_TZID:
        calendar.add_component(stockholm_timezone())
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("sequence", item.sequence)
        if item.starts_at is not None:
            event.add("dtstart", local(item.starts_at, zone))
            event.add("dtend", local(item.ends_at or item.starts_at, zone))
            event.add("transp", "OPAQUE")
        else:
            assert item.day is not None
            event.add("dtstart", item.day)
            event.add("dtend", item.day + timedelta(days=1))
            event.add("transp", "TRANSPARENT")  # a deadline does not make one busy
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        if item.categories:
            event.add("categories", list(item.categories))
        calendar.add_component(event)
    # The VTIMEZONE of every TZID used, as RFC 5545 requires (another zone than Stockholm's:
    # the library's, from the tz database).
    calendar.add_missing_timezones()
    return calendar.to_ical()


STOCKHOLM_TZID = "Europe/Stockholm"


def stockholm_timezone() -> Timezone:
    """Europe/Stockholm as Outlook itself writes it: CET/CEST by the EU rule in force since
    1996 (summer time from the last Sunday of March 02.00 to the last Sunday of October
    03.00), as two yearly rules rather than a list of dates that ends in 2038."""
    zone = Timezone()
    zone.add("tzid", STOCKHOLM_TZID)
    zone.add("x-lic-location", STOCKHOLM_TZID)
    for kind, start, offset_from, offset_to, name, month in (
        (TimezoneDaylight, datetime(1996, 3, 31, 2, 0), 1, 2, "CEST", 3),
        (TimezoneStandard, datetime(1996, 10, 27, 3, 0), 2, 1, "CET", 10),
    ):
        part = kind()
        part.add("dtstart", start)
        part.add("tzoffsetfrom", timedelta(hours=offset_from))
        part.add("tzoffsetto", timedelta(hours=offset_to))
        part.add("tzname", name)
        part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1su"})
        zone.add_component(part)
    return zone
