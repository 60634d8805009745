"""When the relay, not the message, is the problem: nothing fails, everything goes out once,
in order, when the relay is back; the förbundschef sees why meanwhile (real aiosmtpd)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlmodel import col, select

from tests.reminder_support import OCT_1, SEP_30, mailing_app, morning, policy_due, settle
from tests.smtp_support import SmtpServer, running_server
from tests.support import TravelClock, World, build_world, email
from workflow.models import OutboxMessage
from workflow.scheduler import run_once
from workflow.services.cases import audit
from workflow.services.reminders import health, outbox, outbox_admin
from workflow.services.reminders import planner as reminders
from workflow.services.reminders.workers import Worker

TITLES = [f"Policy {letter}" for letter in "ABCDE"]
OWNERS = ["sekreterare", "projektagare", "handlaggare", "admin", "sekreterare"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


def _world(db_url: str, clock: TravelClock, smtp: SmtpServer, **mail: object) -> World:
    return build_world(mailing_app(db_url, clock, smtp, retry_base_seconds=60, **mail), clock)


def _backlog(world: World, smtp: SmtpServer) -> list[str]:
    """Five renewal reminders due 1 October 08:00, queued by the first sweep: their Message-IDs
    in the order they were written."""
    for title, owner in zip(TITLES, OWNERS, strict=True):
        policy_due(world, title, owner=owner)
    settle(world, SEP_30, smtp)
    smtp.mailbox.offered.clear()
    world.clock.set(morning(OCT_1, 8, 0))
    reminders.sweep(world.app, worker="test")
    with world.app.db.reading() as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.status) == "pending")
            .order_by(col(OutboxMessage.id))
        ).all()
    assert len(rows) == 5
    return [r.message_id for r in rows]


def _ride_out(world: World, hours: float, step_minutes: float) -> None:
    """Tick every `step_minutes` for `hours` while the relay is down: nothing may leave or fail."""
    ticks = int(hours * 60 / step_minutes)
    for _ in range(ticks):
        world.clock.advance(minutes=step_minutes)
        totals = run_once(world.app)
        assert (totals.sent, totals.failed) == (0, 0)
    waiting = outbox.list_messages(world.app, forbund="test", status="pending", limit=500).items
    assert len(waiting) == 5 and all(m.attempts == 0 for m in waiting)


def _recovers_in_order(world: World, smtp: SmtpServer, written: list[str]) -> None:
    world.clock.advance(minutes=15)  # the relay is tried again at least every 15 minutes
    assert run_once(world.app).sent == 5
    assert smtp.mailbox.message_ids() == written  # once each, in the order they were written
    assert outbox.list_messages(world.app, forbund="test", status="failed", limit=500).items == []
    assert health.relay_status(world.app).status == "up"
    assert [i for i in health.incidents(world.app, "test") if i.kind == "relay_down"] == []
    assert run_once(world.app).sent == 0
    assert all(r.ok for r in audit.verify_all(world.app))


def test_a_relay_that_greets_554_for_an_hour_delays_every_message_and_fails_none(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp)
    written = _backlog(world, smtp)
    smtp.mailbox.greeting = "554 5.3.2 Tjänsten stängd för underhåll"

    _ride_out(world, hours=1, step_minutes=5)

    [incident] = [i for i in health.incidents(world.app, "test") if i.kind == "relay_down"]
    assert incident.cause == "greeting" and incident.count == 5
    assert "554 5.3.2" in incident.text and "5 meddelanden väntar" in incident.text
    status = health.relay_status(world.app)
    assert status.status == "down" and status.since == morning(OCT_1, 8, 5)
    smtp.mailbox.greeting = None
    _recovers_in_order(world, smtp, written)
    world.app.close()


def test_a_relay_answering_421_for_three_days_loses_and_fails_nothing(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp)
    written = _backlog(world, smtp)
    smtp.mailbox.greeting = "421 4.3.2 Service not available, closing transmission channel"

    _ride_out(world, hours=72, step_minutes=180)

    assert health.relay_status(world.app).cause == "service"
    # Probes back off, but never beyond the cap: each of the 24 ticks tried the relay.
    assert smtp.mailbox.connections >= 24
    smtp.mailbox.greeting = None
    _recovers_in_order(world, smtp, written)
    world.app.close()


def test_a_login_refused_with_535_is_an_incident_naming_the_login_and_fails_nothing(
    db_url: str, clock: TravelClock
) -> None:
    with running_server(auth=True) as smtp:
        world = _world(db_url, clock, smtp)
        written = _backlog(world, smtp)
        smtp.mailbox.refuse_login = True

        _ride_out(world, hours=2, step_minutes=10)

        [incident] = [i for i in health.incidents(world.app, "test") if i.kind == "relay_down"]
        assert incident.cause == "auth" and "535" in incident.text
        assert "inloggningen" in incident.text
        smtp.mailbox.refuse_login = False
        _recovers_in_order(world, smtp, written)
        assert set(smtp.mailbox.logins) == {"finsam"}
        world.app.close()


def test_a_421_after_mail_from_is_the_relay_closing_not_the_message_failing(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp)
    written = _backlog(world, smtp)
    smtp.mailbox.data_answers = ["421 4.7.0 Too busy, closing"]

    first = run_once(world.app)

    assert (first.sent, first.failed, first.waiting) == (0, 0, True)
    assert health.relay_status(world.app).cause == "service"
    _recovers_in_order(world, smtp, written)
    world.app.close()


def test_a_550_fails_only_that_message_and_retry_by_cause_sends_it_with_its_message_id(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp)
    _backlog(world, smtp)
    smtp.mailbox.refuse_recipients[email("projektagare")] = "550 5.1.1 Mailbox unavailable"

    run_once(world.app)

    [failed] = outbox.list_messages(world.app, forbund="test", status="failed", limit=500).items
    detail = outbox_admin.show_message(world.app, message_id=failed.id, forbund="test")
    assert detail.failure_cause == "recipient" and detail.last_error.startswith("550")
    assert ("To", f"Test projektagare <{email('projektagare')}>") in detail.headers
    assert ("Message-ID", failed.message_id) in detail.headers
    assert "Policy B" in detail.text and detail.attempts == 1
    [incident] = [i for i in health.incidents(world.app, "test") if i.kind == "failed_messages"]
    assert incident.count == 1 and "--cause recipient" in incident.text

    del smtp.mailbox.refuse_recipients[email("projektagare")]
    result = outbox_admin.retry(
        world.app, actor_email=email("forbundschef"), cause="recipient", forbund="test"
    )
    assert result.ids == [failed.id]
    assert run_once(world.app).sent == 1
    assert smtp.mailbox.message_ids().count(failed.message_id) == 1
    with world.app.db.reading() as session:
        events = audit.verify(session)
    assert all(r.ok for r in events)
    world.app.close()


def test_a_relay_that_never_answers_after_data_gets_the_message_again_with_its_message_id(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp, timeout_seconds=1)
    written = _backlog(world, smtp)
    smtp.mailbox.data_delay = 2.5  # longer than the sender waits for the answer

    first = run_once(world.app)

    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    smtp.mailbox.data_delay = 0
    world.clock.advance(minutes=2)
    assert run_once(world.app).sent == 5
    # The round stopped at the unanswered message; it was offered again, after its retry
    # delay and so after the rest, under its own Message-ID.
    assert smtp.mailbox.offered == [written[0], *written[1:], written[0]]
    received = Counter(smtp.mailbox.message_ids())
    assert 1 <= received[written[0]] <= 2 and all(received[m] == 1 for m in written[1:])
    [first_row] = [
        m
        for m in outbox.list_messages(world.app, forbund="test", limit=500).items
        if m.message_id == written[0]
    ]
    assert first_row.status == "sent" and first_row.attempts == 2
    world.app.close()


def test_clock_jumps_of_two_hours_while_sending_and_sweeping_neither_duplicate_nor_lose(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    """Sender A is in the middle of handing over a message when the clock jumps 2 h forward;
    sender B runs then, and again after the clock jumps 2 h back. With leases that end at a
    wall-clock time, B would take A's message (lease_until passed) and send it a second time."""
    world = _world(db_url, clock, smtp)
    written = _backlog(world, smtp)
    smtp.mailbox.data_delay = 1.5
    first = Worker(world.app)
    busy = threading.Thread(
        target=lambda: outbox.deliver_due(world.app, worker=first, limit=1), daemon=True
    )
    busy.start()
    while smtp.mailbox.data_started == 0:
        threading.Event().wait(0.02)
    smtp.mailbox.data_delay = 0  # only A's message is slow

    clock.advance(hours=2)
    second = Worker(world.app)
    forward = outbox.deliver_due(world.app, worker=second)
    reminders.sweep(world.app, worker="jumped")  # the sweep too, 2 h ahead
    busy.join(timeout=30)
    clock.advance(hours=-4)  # and back, to 2 h before where it started
    reminders.sweep(world.app, worker="jumped-back")
    back = outbox.deliver_due(world.app, worker=second)
    clock.advance(hours=2)
    last = run_once(world.app)

    assert forward.sent == 4 and back.sent == 0 and last.sent == 0
    assert sorted(smtp.mailbox.message_ids()) == sorted(written)  # each exactly once
    assert outbox.list_messages(world.app, forbund="test", status="pending", limit=500).items == []
    world.app.close()


def test_outbox_show_retry_and_health_on_the_command_line(
    db_url: str, clock: TravelClock, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support import finsam, one_line_error

    world = _world(db_url, clock, smtp)
    _backlog(world, smtp)
    smtp.mailbox.greeting = "554 5.3.2 Inte nu"
    run_once(world.app)
    env = {f"FINSAM_MAIL__{k.upper()}": str(v) for k, v in smtp.settings.items()}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        code, out, _err = finsam(capsys, db_url, "health")
        assert code == 0 and "SMTP-servern är nere" in out and "554 5.3.2 Inte nu" in out
        code, out, _err = finsam(capsys, db_url, "outbox", "list")
        assert code == 0 and out.startswith("SMTP-servern är nere")
        code, out, _err = finsam(capsys, db_url, "outbox", "show", "1")
        assert code == 0 and "Message-ID: <" in out and "Försök" in out
        code, _out, err = finsam(capsys, db_url, "outbox", "show", "999")
        assert code == 3 and "inget meddelande nr 999" in one_line_error(err)
        code, _out, err = finsam(capsys, db_url, "outbox", "retry", "--as", email("forbundschef"))
        assert code == 2 and "--cause" in one_line_error(err)
        code, _out, err = finsam(
            capsys, db_url, "outbox", "retry", "1", "--as", email("forbundschef")
        )
        assert code == 2 and "bara misslyckade" in one_line_error(err)
        code, _out, err = finsam(
            capsys, db_url, "outbox", "retry", "--cause", "recipient", "--as", email("handlaggare")
        )
        assert code == 4 and "får inte skicka misslyckad e-post igen" in one_line_error(err)
    world.app.close()
