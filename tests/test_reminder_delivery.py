"""Reminders leave through the outbox to a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.reminder_support import OCT_1, SEP_30, mailing_app, morning, policy_due, settle
from tests.smtp_support import SmtpServer, running_server
from tests.support import TravelClock, World, build_world, drive_happy_path, email
from workflow.models import Forbund, Insats, OutboxMessage, Person, PolicyDocument
from workflow.scheduler import run_once
from workflow.services.reminders import outbox
from workflow.services.reminders import planner as reminders
from workflow.settings import shipped_dir


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def mail_world(db_url: str, clock: TravelClock, smtp: SmtpServer) -> Iterator[World]:
    app = mailing_app(db_url, clock, smtp, retry_base_seconds=60, max_attempts=4)
    yield build_world(app, clock)
    app.close()


def test_a_due_reminder_arrives_with_recipient_subject_text_html_and_message_id(
    mail_world: World, smtp: SmtpServer
) -> None:
    ref = policy_due(mail_world, "Policy för samverkan 2023–2026")
    settle(mail_world, SEP_30, smtp)
    mail_world.clock.set(morning(OCT_1, 7, 59))
    assert run_once(mail_world.app).sent == 0  # planned for 08:00, not yet due

    mail_world.clock.set(morning(OCT_1, 8, 0))
    totals = run_once(mail_world.app)

    assert totals.sent == 1
    [message] = smtp.mailbox.messages
    assert message["To"].addresses[0].addr_spec == email("sekreterare")
    assert (
        message["Subject"]
        == "Dags att förnya: Policy för samverkan 2023–2026 (senast 31 december 2026)"
    )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "ska förnyas senast 31 december 2026" in text and ref in text
    assert "<strong>Policy för samverkan 2023–2026</strong>" in html
    [row] = [
        m
        for m in outbox.list_messages(
            mail_world.app, forbund="test", status="sent", limit=500
        ).items
        if m.to == email("sekreterare") and m.created_at.date() == OCT_1
    ]
    assert message["Message-ID"] == row.message_id
    # Sent once: later sweeps the same day send nothing more.
    assert run_once(mail_world.app).sent == 0
    assert len(smtp.mailbox.messages) == 1


def test_a_451_answer_is_retried_later_and_the_message_delivered_once(
    mail_world: World, smtp: SmtpServer
) -> None:
    policy_due(mail_world)
    settle(mail_world, SEP_30, smtp)
    smtp.mailbox.data_answers = ["451 4.3.0 Temporary local problem, try later"]
    mail_world.clock.set(morning(OCT_1))

    first = run_once(mail_world.app)
    assert (first.sent, first.retried) == (0, 1)
    [waiting] = outbox.list_messages(
        mail_world.app, forbund="test", status="pending", limit=500
    ).items
    assert waiting.attempts == 1 and waiting.last_error.startswith("451")

    mail_world.clock.advance(seconds=30)  # before the retry delay: nothing happens
    assert run_once(mail_world.app).sent == 0
    mail_world.clock.advance(seconds=31)
    assert run_once(mail_world.app).sent == 1

    assert len(smtp.mailbox.messages) == 1
    sent = outbox.list_messages(mail_world.app, forbund="test", status="sent", limit=500).items[-1]
    assert sent.attempts == 2 and smtp.mailbox.messages[0]["Message-ID"] == sent.message_id


def test_a_550_answer_fails_that_message_for_good_and_the_others_still_go_out(
    mail_world: World, smtp: SmtpServer
) -> None:
    policy_due(mail_world, "Policy A", owner="sekreterare")
    policy_due(mail_world, "Policy B", owner="projektagare")
    settle(mail_world, SEP_30, smtp)
    smtp.mailbox.refuse_recipients[email("sekreterare")] = "550 5.1.1 Mailbox unavailable"
    mail_world.clock.set(morning(OCT_1))

    totals = run_once(mail_world.app)

    assert (totals.sent, totals.failed) == (2, 1)  # B, and the notice about A to the chef
    [failed] = outbox.list_messages(
        mail_world.app, forbund="test", status="failed", limit=500
    ).items
    assert failed.to == email("sekreterare") and failed.attempts == 1
    assert failed.last_error.startswith("550")
    [notice] = smtp.mailbox.to(email("forbundschef"))
    assert notice["Subject"] == f"E-post kunde inte levereras till {email('sekreterare')}"
    assert [m["Subject"] for m in smtp.mailbox.to(email("projektagare"))] == [
        "Dags att förnya: Policy B (senast 31 december 2026)"
    ]
    # Not retried, however long we wait.
    mail_world.clock.advance(days=2)
    assert run_once(mail_world.app).failed == 0
    assert len(smtp.mailbox.messages) == 2


def test_while_the_server_refuses_connections_nothing_is_lost_and_the_backlog_drains(
    mail_world: World, smtp: SmtpServer
) -> None:
    for name in ("A", "B", "C"):
        policy_due(mail_world, f"Policy {name}")
    settle(mail_world, SEP_30, smtp)
    smtp.stop()
    mail_world.clock.set(morning(OCT_1))

    down = run_once(mail_world.app)
    assert down.claimed == 3 and down.sent == 0 and down.waiting
    for _ in range(6):  # an outage of an hour: many rounds, none counts as an attempt
        mail_world.clock.advance(minutes=10)
        assert run_once(mail_world.app).sent == 0
    pending = outbox.list_messages(
        mail_world.app, forbund="test", status="pending", limit=500
    ).items
    assert len(pending) == 3 and all(m.attempts == 0 for m in pending)

    smtp.start()
    mail_world.clock.advance(minutes=15)  # the relay is tried at most every 15 minutes
    assert run_once(mail_world.app).sent == 3
    assert sorted(m["Subject"] for m in smtp.mailbox.messages) == [
        f"Dags att förnya: Policy {n} (senast 31 december 2026)" for n in "ABC"
    ]
    assert run_once(mail_world.app).sent == 0


def test_a_title_with_a_crlf_header_and_html_reaches_no_header_and_is_escaped(
    mail_world: World, smtp: SmtpServer
) -> None:
    ref = mail_world.idea()
    case = drive_happy_path(mail_world, ref, until="starta")  # running 2027-01-01 – 2028-12-31
    hostile = 'Stöd <b onclick="x()">unga</b>\r\nBcc: victim@evil.example\r\n\r\nbody'
    with mail_world.app.db.transaction() as session:
        # Services refuse such a title (check_one_line); an imported row might still carry one.
        session.execute(update(Insats).where(Insats.id == case.id).values(title=hostile))

    settle(mail_world, date(2028, 8, 31), smtp)
    mail_world.clock.set(morning(date(2028, 9, 1)))  # end -120 d = Sat 2 Sep -> Fri 1 Sep
    run_once(mail_world.app)

    about_case = [m for m in smtp.mailbox.messages if "Insatsen slutar" in str(m["Subject"])]
    assert len(about_case) == 2  # förbundschef and the applicant
    assert all(m["Bcc"] is None for m in smtp.mailbox.messages)
    assert all("victim" not in str(m["X-Envelope-To"]) for m in smtp.mailbox.messages)
    for message in about_case:
        subject = str(message["Subject"])
        assert "\r" not in subject and "\n" not in subject
        assert subject.startswith("Insatsen slutar 31 december 2028")
        assert "Bcc:" in subject  # kept as harmless text on the one line, not as a header
        html = message.get_body(("html",)).get_content()
        assert "&lt;b onclick=&#34;x()&#34;&gt;unga&lt;/b&gt;" in html
        assert "<b onclick" not in html


def test_reminders_without_smtp_settings_wait_in_the_outbox(world: World) -> None:
    policy_due(world)
    world.clock.set(morning(OCT_1))
    totals = run_once(world.app)
    assert totals.sent == 0 and totals.waiting
    waiting = outbox.list_messages(world.app, forbund="test", limit=500).items
    assert waiting and all(m.status == "pending" and m.attempts == 0 for m in waiting)
    assert [m.subject for m in waiting if m.to == email("sekreterare")] == [
        "Dags att förnya: Policy för samverkan (senast 31 december 2026)"
    ] * 2  # 1 September and 1 October: both wait
    with world.app.db.reading() as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert all(row.reminder_id is not None for row in rows)


def test_a_reminder_whose_template_cannot_be_filled_is_skipped_and_the_rest_go_out(
    db_url: str, clock: TravelClock, smtp: SmtpServer, tmp_path: Path
) -> None:
    # A förbund's own wording that needs the document's decision date: fine for the sample,
    # impossible for a document registered without one.
    deployment = tmp_path / "deployment"
    shutil.copytree(shipped_dir("notifications"), deployment / "notifications")
    template = deployment / "notifications" / "templates" / "styrdokument.txt.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "{% block body %}", "{% block body %}Beslutsår {{ subject.decided_on.year }}. ", 1
        ),
        encoding="utf-8",
    )
    app = mailing_app(db_url, clock, smtp, config_dir=deployment)
    world = build_world(app, clock)
    policy_due(world, "Policy med beslutsdag")
    with app.db.transaction() as session:
        # An imported document without a decision date but with a deadline.
        session.add(
            PolicyDocument(
                forbund_id=session.exec(select(Forbund.id).where(Forbund.slug == "test")).one(),
                kind="policy",
                title="Importerad policy",
                state="faststalld",
                renew_by=date(2026, 12, 31),
                owner_id=session.exec(
                    select(Person.id).where(Person.email == email("projektagare"))
                ).one(),
                created_at=clock(),
                updated_at=clock(),
            )
        )
    settle(world, SEP_30, smtp)
    world.clock.set(morning(OCT_1))
    run_once(app)

    assert [m["Subject"] for m in smtp.mailbox.to(email("sekreterare"))] == [
        "Dags att förnya: Policy med beslutsdag (senast 31 december 2026)"
    ]
    assert smtp.mailbox.to(email("projektagare")) == []
    skipped = reminders.list_reminders(app, forbund="test", status="skipped", limit=500).items
    assert {r.step for r in skipped if r.rule == "policy_renewal"} >= {"okt"}
    app.close()
