"""Each person's calendar feed: valid iCalendar (parsed by the icalendar library) with exactly
what concerns that person, reached by a secret address that stops working when renewed or
closed; the account pages to make it and to choose how reminders arrive. On the demo data
(SQLite: nothing here depends on the database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.models import AuditEvent, Insats, Meeting, Person, PolicyDocument, Protocol
from workflow.models.funding import Report
from workflow.models.meetings import Organ, OrganMember
from workflow.models.personal import CalendarFeed, NotificationPreference
from workflow.services.board import agenda, decisions, justering, meetings
from workflow.services.board import protocol as protocols
from workflow.services.calendar import access
from workflow.services.organisation import people
from workflow.vocabulary import Role

# The demo on SQLite only (the fixtures below web_support's `db_url`).
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

AKST = "akst"
CHAIR = "ordforande@akst.example"
JUSTERARE = "ledamot.fk@akst.example"
OWNER = "projektagare@akst.example"
OTHER_OWNER = "projektagare.ale@akst.example"
SECRETARY = "sekreterare@akst.example"


def feed(anonymous: WebClient, secret: str) -> icalendar.Calendar:
    answer = anonymous.get(access.feed_path(secret))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(answer.content)


def uids(calendar: icalendar.Calendar) -> set[str]:
    return {str(event["UID"]) for event in calendar.walk("VEVENT")}


def person_id(app: App, email: str) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(Person.id).where(Person.email == email)).scalar_one())


def expected(app: App, email: str) -> set[str]:
    """What the person's feed must hold, read straight from the tables: the meetings of their
    organs from a year back, the owed reports of the insatser they own, the styrdokument in
    force they own. (Justering is added by the test that makes a protocol wait for it.)"""
    pid = person_id(app, email)
    since = datetime(2025, 12, 1, tzinfo=app.settings.zone)
    with app.db.reading() as session:
        found = {
            f"meeting-{i}@akst.finsam"
            for i in session.execute(
                select(Meeting.id)
                .join(OrganMember, OrganMember.organ_id == Meeting.organ_id)
                .where(OrganMember.person_id == pid, Meeting.starts_at >= since)
            ).scalars()
        }
        owner = func.coalesce(Insats.project_owner_id, Insats.submitted_by_id)
        found |= {
            f"report-{i}@akst.finsam"
            for i in session.execute(
                select(Report.id)
                .join(Insats, Insats.id == Report.insats_id)
                .where(
                    owner == pid,
                    Report.status.in_(("vantar", "komplettering")),
                    Insats.state.not_like("avslutad%"),
                    Insats.state.not_in(("atertagen", "arkiverad")),
                )
            ).scalars()
        }
        found |= {
            f"styrdokument-{i}@akst.finsam"
            for i in session.execute(
                select(PolicyDocument.id).where(
                    PolicyDocument.owner_id == pid,
                    PolicyDocument.renew_by.is_not(None),
                    PolicyDocument.state.in_(("faststalld", "revision_due")),
                )
            ).scalars()
        }
    return found


def awaiting_justering(app: App) -> int:
    """A board meeting of 26 November 2026 whose protocol waits for the ordförande and the
    justerare (ledamot.fk); returns the protocol's meeting number."""
    made = meetings.create_meeting(
        app, actor_email=SECRETARY, starts="2026-11-26 14:00", place="Kungälv", forbund=AKST
    )
    with app.db.reading() as session:
        number = session.get(Meeting, made.id).number  # type: ignore[union-attr]
    agenda.build_agenda(app, ref=number, actor_email="chef@akst.example", forbund=AKST)
    protocols.open_protocol(
        app, ref=number, actor_email=SECRETARY, justerare=[JUSTERARE], forbund=AKST
    )
    decisions.follow_recommendations(app, ref=number, actor_email=SECRETARY, forbund=AKST)
    justering.send_for_justering(app, ref=number, actor_email=SECRETARY, forbund=AKST)
    return number  # type: ignore[return-value]


def test_the_feed_is_valid_icalendar_with_exactly_the_persons_events(
    demo_app: App, anonymous: WebClient
) -> None:
    number = awaiting_justering(demo_app)
    secrets = {
        who: access.renew_feed(demo_app, email=who, forbund=AKST).secret
        for who in (CHAIR, JUSTERARE, OWNER, OTHER_OWNER, SECRETARY, "chef@akst.example")
    }
    calendars = {who: feed(anonymous, secret) for who, secret in secrets.items()}
    with demo_app.db.reading() as session:
        protocol_id = session.execute(
            select(Protocol.id)
            .join(Meeting, Meeting.id == Protocol.meeting_id)
            .join(Organ, Organ.id == Meeting.organ_id)
            .where(
                Meeting.number == number,
                Organ.name == "Styrelsen",
                Protocol.status == "for_justering",
            )
        ).scalar_one()
    justering_uid = f"justering-{protocol_id}@akst.finsam"

    for who, calendar in calendars.items():
        wanted = expected(demo_app, who) | ({justering_uid} if who in (CHAIR, JUSTERARE) else set())
        assert uids(calendar) == wanted, who
        assert len(calendar.walk("VEVENT")) == len(wanted), f"{who}: an event twice"
    # Another owner's reports are not in this owner's feed, and each has some.
    assert uids(calendars[OWNER]) and uids(calendars[OTHER_OWNER])
    assert not uids(calendars[OWNER]) & uids(calendars[OTHER_OWNER])
    assert not any(u.startswith("meeting-") for u in uids(calendars[OWNER]))
    assert any(u.startswith("styrdokument-") for u in uids(calendars[SECRETARY]))

    # iCalendar as Outlook needs it: the zone's VTIMEZONE, Swedish summaries, local times.
    chair = calendars[CHAIR]
    assert str(chair["VERSION"]) == "2.0" and "finsam" in str(chair["PRODID"])
    [zone] = chair.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Stockholm"
    events = {str(e["UID"]): e for e in chair.walk("VEVENT")}
    meeting = next(
        e
        for u, e in events.items()
        if u.startswith("meeting-") and e.decoded("DTSTART").date() == date(2026, 11, 26)
    )
    start = meeting.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Stockholm"
    assert (start.hour, start.minute) == (14, 0)
    assert meeting["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert str(meeting["SUMMARY"]).startswith("Sammanträde: Styrelsen")
    assert str(meeting["LOCATION"]) == "Kungälv"
    assert all("DTSTAMP" in e for e in events.values())
    due = events[justering_uid]
    assert str(due["SUMMARY"]) == "Justera protokollet: Styrelsen 26 november 2026"
    assert due.decoded("DTSTART") == date(2026, 12, 10)  # the meeting + 14 days, all day
    report = next(iter(calendars[OWNER].walk("VEVENT")))
    assert str(report["SUMMARY"]).startswith("Sista dag för ")

    # The ordförande signs: the justering leaves their feed, stays in the justerare's, and
    # every UID stays as it was (a calendar replaces its events by UID).
    justering.approve(demo_app, ref=number, actor_email=CHAIR, forbund=AKST)
    assert uids(feed(anonymous, secrets[CHAIR])) == uids(chair) - {justering_uid}
    assert uids(feed(anonymous, secrets[JUSTERARE])) == uids(calendars[JUSTERARE])

    # Another förbund's person sees only their own förbund.
    theirs = access.renew_feed(demo_app, email="projektagare@nv.example", forbund="nv").secret
    nv = uids(feed(anonymous, theirs))
    assert nv and all(u.endswith("@nv.finsam") for u in nv)


def test_a_renewed_or_closed_address_gives_404_and_only_its_hash_is_stored(
    demo_app: App, anonymous: WebClient
) -> None:
    first = access.renew_feed(demo_app, email=OWNER, forbund=AKST)
    assert first.secret.startswith("fsk_") and first.url.endswith(first.path)
    assert anonymous.get(first.path).status_code == 200
    second = access.renew_feed(demo_app, email=OWNER, forbund=AKST)
    assert anonymous.get(first.path).status_code == 404
    assert anonymous.get(second.path).status_code == 200
    with demo_app.db.reading() as session:
        stored = session.execute(select(CalendarFeed)).scalars().all()
    assert all(first.secret not in (r.token_hash, r.prefix) for r in stored)
    assert {r.token_hash for r in stored} >= {access.feed_hash(first.secret)}

    assert access.revoke_feed(demo_app, email=OWNER, forbund=AKST)
    assert anonymous.get(second.path).status_code == 404
    assert access.current_feed(demo_app, email=OWNER, forbund=AKST) is None
    for nonsense in ("fsk_finnsinte", "nyckel", "fsk_" + "x" * 300):
        assert anonymous.get(access.feed_path(nonsense)).status_code == 404

    # The owner leaves the förbund: their address shows nothing any more.
    third = access.renew_feed(demo_app, email=OWNER, forbund=AKST)
    people.deactivate_person(demo_app, email=OWNER, actor_email="admin@akst.example", forbund=AKST)
    assert anonymous.get(third.path).status_code == 404

    with demo_app.db.reading() as session:
        triggers = (
            session.execute(
                select(AuditEvent.trigger).where(
                    AuditEvent.subject_kind == "access",
                    AuditEvent.trigger.in_((access.SKAPA, access.ATERKALLA)),
                )
            )
            .scalars()
            .all()
        )
    assert triggers == [access.SKAPA, access.SKAPA, access.ATERKALLA, access.SKAPA]


def test_the_calendar_page_makes_renews_and_closes_the_address(
    client_as: ClientFactory, anonymous: WebClient, demo_app: App
) -> None:
    client = client_as(Role.PROJEKTAGARE)
    page = client.get("/konto/kalender")
    assert page.status_code == 200 and "Du har ingen kalenderadress." in page.text
    made = client.post_form("/konto/kalender", token_from="/konto/kalender")
    assert made.status_code == 201
    [url] = [
        line.split('value="')[1].split('"')[0]
        for line in made.text.splitlines()
        if 'id="kalenderadress"' in line
    ]
    path = url.removeprefix(demo_app.settings.web.public_url.rstrip("/"))
    assert path.startswith("/kalender/fsk_") and path.endswith(".ics")
    assert anonymous.get(path).status_code == 200
    again = client.get("/konto/kalender")
    assert path.split("/")[-1].removesuffix(".ics") not in again.text  # shown once only
    assert "Gör en ny adress" in again.text
    renewed = client.post_form("/konto/kalender", token_from="/konto/kalender")
    assert renewed.status_code == 201 and anonymous.get(path).status_code == 404
    closed = client.post_form(
        "/konto/kalender/stang", token_from="/konto/kalender", follow_redirects=False
    )
    assert closed.status_code == 303
    assert "Kalenderadressen är stängd" in client.get(closed.headers["location"]).text
    with demo_app.db.reading() as session:
        channels = (
            session.execute(
                select(AuditEvent.channel).where(
                    AuditEvent.trigger.in_((access.SKAPA, access.ATERKALLA))
                )
            )
            .scalars()
            .all()
        )
    assert channels == ["web", "web", "web"]


def test_the_reminder_page_saves_choices_and_refuses_opting_out_of_a_compulsory_rule(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.STYRELSE_LEDAMOT)
    page = client.get("/konto/paminnelser")
    assert page.status_code == 200
    assert "Kallelse och handlingar till styrelsen" in page.text
    assert 'name="val_meeting_kallelse"' not in page.text  # compulsory: shown, not offered
    assert 'name="val_policy_renewal"' in page.text
    saved = client.post_form(
        "/konto/paminnelser",
        {"val_policy_renewal": "weekly", "val_report_due": "start_page"},
        token_from="/konto/paminnelser",
        follow_redirects=False,
    )
    assert saved.status_code == 303
    shown = client.get(saved.headers["location"]).text
    assert "Dina val är sparade." in shown
    assert 'value="weekly" checked' in shown and 'value="start_page" checked' in shown
    refused = client.post_form(
        "/konto/paminnelser",
        {"val_meeting_kallelse": "start_page"},
        token_from="/konto/paminnelser",
    )
    assert refused.status_code == 400
    assert "går inte att välja bort" in refused.text
    with demo_app.db.reading() as session:
        stored = dict(
            session.execute(
                select(NotificationPreference.rule, NotificationPreference.delivery).where(
                    NotificationPreference.person_id
                    == person_id(demo_app, "ledamot.fk@akst.example")
                )
            ).all()
        )
    assert stored == {"policy_renewal": "weekly", "report_due": "start_page"}


def keep_for_start_page(app: App, email: str, subject: str) -> None:
    """A reminder the person chose to see on the start page only, as the sweep keeps it."""
    from workflow.models import Reminder
    from workflow.models.personal import DigestItem

    pid = person_id(app, email)
    now = app.clock()
    with app.db.transaction() as session:
        forbund_id = session.get(Person, pid).forbund_id  # type: ignore[union-attr]
        reminder = Reminder(
            forbund_id=forbund_id,
            rule="report_due",
            step="fore_7",
            source="report_due",
            subject_kind="report",
            subject_id=pid,
            subject_ref="2012/011-01",
            due_on=date(2026, 12, 8),
            send_on=date(2026, 12, 1),
            send_at=now,
            status="sent",
            created_at=now,
            updated_at=now,
        )
        session.add(reminder)
        session.flush()
        session.add(
            DigestItem(
                forbund_id=forbund_id,
                person_id=pid,
                reminder_id=reminder.id,  # type: ignore[arg-type]
                rule="report_due",
                delivery="start_page",
                subject_ref="2012/011-01",
                due_on=date(2026, 12, 8),
                subject=subject,
                text_body="…",
                created_at=now - timedelta(hours=1),
                status="shown",
            )
        )


def test_the_start_page_shows_the_reminders_kept_for_it(
    client_as: ClientFactory, demo_app: App
) -> None:
    keep_for_start_page(demo_app, OWNER, "Delårsrapport ska lämnas in senast 8 december 2026")
    page = client_as(Role.PROJEKTAGARE).get("/")
    assert "Dina påminnelser" in page.text
    assert "Delårsrapport ska lämnas in senast 8 december 2026" in page.text
    assert "Dina påminnelser" not in client_as(Role.HANDLAGGARE).get("/").text
