"""Each person's choice per reminder rule is honoured on the way out: e-mail at once, a daily
or weekly digest (one message per person and day or week), or only on the start page; a rule
the förbund marks compulsory is mailed at once whatever the person chose. The real SMTP server
on loopback (aiosmtpd) and the travelling clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from tests.conftest import _schema_url, _truncate_all
from tests.reminder_support import OCT_1, SEP_30, mailing_app, morning, policy_due, settle
from tests.smtp_support import SmtpServer, running_server
from tests.support import TravelClock, World, build_world, email
from workflow.errors import BadInput
from workflow.models import AuditEvent, Person
from workflow.models.personal import NotificationPreference
from workflow.scheduler import run_once
from workflow.services.reminders import digests, preferences
from workflow.settings import shipped_dir

RULE = "policy_renewal"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


def _world(db_url: str, clock: TravelClock, smtp: SmtpServer, **kw: object) -> World:
    return build_world(mailing_app(db_url, clock, smtp, **kw), clock)


@pytest.fixture
def mail_world(sqlite_url: str, clock: TravelClock, smtp: SmtpServer) -> Iterator[World]:
    world = _world(sqlite_url, clock, smtp)
    yield world
    world.app.close()


def choose(world: World, role: str, delivery: str, rule: str = RULE) -> None:
    preferences.set_preferences(
        world.app, email=email(role), choices={rule: delivery}, forbund=world.slug
    )


def person_id(world: World, role: str) -> int:
    with world.app.db.reading() as session:
        return session.exec(select(Person.id).where(Person.email == email(role))).one()  # type: ignore[return-value]


def subjects_to(smtp: SmtpServer, role: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.mailbox.to(email(role))]


def test_at_once_digest_and_start_page_each_as_the_person_chose(
    mail_world: World, smtp: SmtpServer
) -> None:
    policy_due(mail_world, "Policy A", owner="sekreterare")  # no choice: at once
    policy_due(mail_world, "Policy B", owner="handlaggare")
    policy_due(mail_world, "Policy C", owner="handlaggare")
    policy_due(mail_world, "Policy D", owner="projektagare")
    choose(mail_world, "handlaggare", preferences.DAILY)
    choose(mail_world, "projektagare", preferences.START_PAGE)
    settle(mail_world, SEP_30, smtp)

    mail_world.clock.set(morning(OCT_1, 8, 0))
    totals = run_once(mail_world.app)

    assert subjects_to(smtp, "sekreterare") == [
        "Dags att förnya: Policy A (senast 31 december 2026)"
    ]
    # Two reminders, one message: the day's digest, sent at the same hour.
    [digest] = smtp.mailbox.to(email("handlaggare"))
    assert str(digest["Subject"]).startswith("Dagens påminnelser: 2 påminnelser")
    text = digest.get_body(("plain",)).get_content()
    assert "Dags att förnya: Policy B" in text and "Dags att förnya: Policy C" in text
    assert text.count("Hej ") == 1  # the reminders' bodies, not their greetings
    html = digest.get_body(("html",)).get_content()
    assert "<h2" in html and "Policy C" in html
    # Start page only: never mailed, shown on the start page.
    assert subjects_to(smtp, "projektagare") == []
    # (The reminder of 1 September was still pending when the clock came to September.)
    shown = digests.start_page_items(
        mail_world.app, person_id=person_id(mail_world, "projektagare")
    )
    assert [s.subject for s in shown] == 2 * ["Dags att förnya: Policy D (senast 31 december 2026)"]
    assert shown[0].delivery == preferences.START_PAGE and "Policy D" in shown[0].text
    assert totals.sent == 2 and len(smtp.mailbox.messages) == 2

    # Nothing more the same day, and the reminders' audit says who got what how.
    mail_world.clock.advance(hours=3)
    assert run_once(mail_world.app).sent == 0
    with mail_world.app.db.reading() as session:
        events = session.exec(
            select(AuditEvent).where(
                AuditEvent.subject_kind == "reminder", AuditEvent.trigger == "skicka"
            )
        ).all()
        held = {k: v for e in events for k, v in e.data.get("held", {}).items()}
        sent_digests = session.exec(
            select(AuditEvent).where(AuditEvent.subject_kind == "reminder_digest")
        ).all()
    assert held == {
        email("handlaggare"): preferences.DAILY,
        email("projektagare"): preferences.START_PAGE,
    }
    # The digest of 30 September (the reminders of 1 September, late) and today's.
    assert [e.data["to"] for e in sent_digests] == 2 * [email("handlaggare")]
    assert all(e.channel == "scheduler" for e in sent_digests)


def test_a_weekly_digest_waits_for_the_week_day(mail_world: World, smtp: SmtpServer) -> None:
    policy_due(mail_world, "Policy Vecka", owner="handlaggare")
    choose(mail_world, "handlaggare", preferences.WEEKLY)
    settle(mail_world, SEP_30, smtp)

    mail_world.clock.set(morning(OCT_1, 8, 0))  # a Thursday
    run_once(mail_world.app)
    assert subjects_to(smtp, "handlaggare") == []
    monday = date(2026, 10, 5)
    mail_world.clock.set(morning(monday, 7, 55))
    assert run_once(mail_world.app).sent == 0
    mail_world.clock.set(morning(monday, 8, 0))
    run_once(mail_world.app)
    [digest] = smtp.mailbox.to(email("handlaggare"))
    assert str(digest["Subject"]).startswith("Veckans påminnelser: 1 påminnelse")
    assert "Policy Vecka" in digest.get_body(("plain",)).get_content()


def test_a_reminder_held_after_the_days_digest_went_out_waits_for_the_next_days(
    mail_world: World, smtp: SmtpServer
) -> None:
    choose(mail_world, "sekreterare", preferences.DAILY)
    policy_due(mail_world, "Policy Tidig", owner="sekreterare")
    settle(mail_world, SEP_30, smtp)
    mail_world.clock.set(morning(OCT_1, 8, 0))
    run_once(mail_world.app)
    assert len(smtp.mailbox.to(email("sekreterare"))) == 1
    mail_world.clock.set(morning(OCT_1, 10, 0))
    policy_due(mail_world, "Policy Sen", owner="sekreterare")  # its 1 October step: today
    run_once(mail_world.app)
    assert len(smtp.mailbox.to(email("sekreterare"))) == 1
    mail_world.clock.set(morning(date(2026, 10, 2), 8, 0))
    run_once(mail_world.app)
    [_, late] = smtp.mailbox.to(email("sekreterare"))
    assert str(late["Subject"]).startswith("Dagens påminnelser: 1 påminnelse")
    assert "Policy Sen" in late.get_body(("plain",)).get_content()


def test_a_compulsory_rule_is_mailed_at_once_whatever_was_chosen(
    sqlite_url: str, clock: TravelClock, smtp: SmtpServer, tmp_path: Path
) -> None:
    # The shipped rules: the kallelse and the justering are compulsory; no one opts out.
    world = _world(sqlite_url, clock, smtp)
    shown = {p.rule: p for p in preferences.preferences_for(world.app, email=email("sekreterare"))}
    assert shown["meeting_kallelse"].compulsory and shown["protocol_justering"].compulsory
    assert not shown[RULE].compulsory
    with pytest.raises(BadInput, match="kräver"):
        choose(world, "styrelse_ledamot", preferences.WEEKLY, rule="meeting_kallelse")
    with pytest.raises(BadInput, match="okänt val"):
        choose(world, "sekreterare", "ibland")
    choose(world, "sekreterare", preferences.START_PAGE)
    policy_due(world, "Policy Måste")
    world.app.close()

    # The förbund then marks the renewals compulsory: the earlier choice no longer applies.
    deployment = tmp_path / "deployment"
    shutil.copytree(shipped_dir("notifications"), deployment / "notifications")
    rules = deployment / "notifications" / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "    source: policy_renewal\n", "    source: policy_renewal\n    compulsory: true\n"
        ),
        encoding="utf-8",
    )
    app = mailing_app(sqlite_url, clock, smtp, config_dir=deployment)
    try:
        with app.db.reading() as session:
            [kept] = session.exec(select(NotificationPreference)).all()
        assert kept.delivery == preferences.START_PAGE  # still stored, overruled
        world = World(app, clock)
        settle(world, SEP_30, smtp)
        clock.set(morning(OCT_1, 8, 0))
        run_once(app)
        assert subjects_to(smtp, "sekreterare") == [
            "Dags att förnya: Policy Måste (senast 31 december 2026)"
        ]
        [pref] = [
            p
            for p in preferences.preferences_for(app, email=email("sekreterare"))
            if p.rule == RULE
        ]
        assert pref.compulsory and pref.delivery == preferences.IMMEDIATE
    finally:
        app.close()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    url = _schema_url(request.getfixturevalue("postgres_schema"))
    _truncate_all(url)
    return url


@pytest.mark.postgres
def test_a_daily_digest_on_postgresql(
    postgres_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(postgres_url, clock, smtp)
    try:
        policy_due(world, "Policy P1", owner="handlaggare")
        policy_due(world, "Policy P2", owner="handlaggare")
        choose(world, "handlaggare", preferences.DAILY)
        settle(world, SEP_30, smtp)
        clock.set(morning(OCT_1, 8, 0))
        run_once(world.app)
        [digest] = smtp.mailbox.to(email("handlaggare"))
        assert str(digest["Subject"]).startswith("Dagens påminnelser: 2 påminnelser")
        clock.advance(days=1)
        run_once(world.app)
        assert len(smtp.mailbox.to(email("handlaggare"))) == 1
    finally:
        world.app.close()
