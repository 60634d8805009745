"""Schedulers as real OS processes: a crash between sweep and send or between the relay's 250
and the commit, several schedulers at once, the database going away, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from tests.conftest import _schema_url, _truncate_all
from tests.reminder_support import OCT_1, SEP_30, mailing_app, morning, policy_due, settle
from tests.smtp_support import SmtpServer, running_server
from tests.support import TravelClock, World, build_world, email
from workflow.models import OutboxMessage, Reminder
from workflow.scheduler import READY
from workflow.services.reminders import outbox

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


def _worker(url: str, smtp: SmtpServer, mode: str, rounds: int = 1) -> subprocess.Popen[str]:
    when = morning(OCT_1, 8, 30).isoformat()
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reminder_worker",
            url,
            str(smtp.port),
            when,
            mode,
            str(rounds),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _world(url: str, clock: TravelClock, smtp: SmtpServer) -> World:
    return build_world(mailing_app(url, clock, smtp), clock)


def test_a_crash_after_the_sweep_committed_sends_the_message_once_after_restart(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp)
    policy_due(world)
    settle(world, SEP_30, smtp)

    crashed = _worker(db_url, smtp, "sweep-then-crash")
    crashed.communicate(timeout=60)
    assert crashed.returncode == 9
    [written] = [
        m
        for m in outbox.list_messages(world.app, forbund="test", status="pending", limit=500).items
    ]
    assert written.to == email("sekreterare") and smtp.mailbox.messages == []

    for _ in range(2):  # restart, and once more: still one message
        restarted = _worker(db_url, smtp, "run")
        _out, err = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, err
    assert smtp.mailbox.message_ids() == [written.message_id]
    world.app.close()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    url = _schema_url(request.getfixturevalue("postgres_schema"))
    _truncate_all(url)
    return url


@pytest.mark.postgres
def test_two_scheduler_processes_on_one_postgresql_database_send_every_reminder_once(
    postgres_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(postgres_url, clock, smtp)
    owners = ["sekreterare", "projektagare", "handlaggare", "admin"]
    for number in range(40):
        policy_due(world, f"Policy {number:02d}", owner=owners[number % len(owners)])
    settle(world, SEP_30, smtp)

    workers = [_worker(postgres_url, smtp, "run", rounds=3) for _ in range(2)]
    results = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in results]

    with world.app.db.reading() as session:
        reminders = session.exec(
            select(Reminder).where(Reminder.due_on == OCT_1.replace(month=12, day=31))
        ).all()
        oct_rows = [r for r in reminders if r.step == "okt"]
        oct_ids = [r.id for r in reminders if r.step == "okt"]
        messages = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.reminder_id).in_(oct_ids))
        ).all()
    assert len(oct_rows) == 40 and all(r.status == "sent" for r in oct_rows)
    received = Counter(smtp.mailbox.message_ids())
    assert len(received) == 40 and set(received.values()) == {1}
    assert set(received) == {m.message_id for m in messages}
    assert all(m.status == "sent" and m.attempts == 1 for m in messages)
    claimed = sum(int(out.split()[0]) for out, _ in results)
    assert claimed == 40  # each reminder claimed by exactly one of the two processes
    world.app.close()


class Scheduler:
    """`finsam scheduler` as a real process, its log read line by line as it comes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "finsam"), "scheduler"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stderr is not None
        stderr = self.process.stderr
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(iter(stderr.readline, "")), daemon=True
        )
        self._reader.start()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline, f"{text!r} not logged: {''.join(self.lines)}"
            time.sleep(0.05)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return "".join(self.lines)


def test_the_scheduler_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    scheduler = Scheduler({**os.environ, "FINSAM_DATABASE_URL": sqlite_url}, tmp_path)
    scheduler.wait_for(READY)  # its signal handlers are in place: however loaded the machine
    err = scheduler.stop()
    assert scheduler.process.returncode == 0, err
    assert "schemaläggaren stoppad" in err
    assert "Traceback" not in err


def test_sigterm_lets_the_message_in_flight_finish_and_leaves_the_rest_waiting(
    sqlite_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    """The scheduler runs on the real clock: documents whose deadline passed ten days ago have
    their 'overdue' reminder due now, whatever today is."""
    from datetime import timedelta

    from workflow.app import App
    from workflow.clock import STOCKHOLM
    from workflow.services.policies import documents as policies
    from workflow.settings import load_settings

    today = datetime.now(STOCKHOLM)
    world = build_world(App.create(load_settings(database_url=sqlite_url)), TravelClock(today))
    for name in ("A", "B", "C"):
        policies.register(
            world.app,
            actor_email=email("forbundschef"),
            kind="policy",
            title=f"Policy {name}",
            decided_on=date(2020, 1, 15),
            renew_by=(today - timedelta(days=10)).date(),
            owner_email=email("sekreterare"),
            forbund="test",
        )
    smtp.mailbox.data_delay = 3.0
    env = {**os.environ, "FINSAM_DATABASE_URL": sqlite_url}
    env.update({f"FINSAM_MAIL__{k.upper()}": str(v) for k, v in smtp.settings.items()})
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "finsam"), "scheduler"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while smtp.mailbox.data_started == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)  # while the first message is being handed over
    _out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert len(smtp.mailbox.messages) == 1  # finished, not cut off; no new one started
    sent = outbox.list_messages(world.app, forbund="test", status="sent", limit=500).items
    assert [m.message_id for m in sent] == smtp.mailbox.message_ids()
    assert outbox.list_messages(
        world.app, forbund="test", status="pending", limit=500
    ).items  # the rest wait
    world.app.close()


def test_a_crash_after_the_relays_250_sends_at_most_two_copies_with_one_message_id(
    db_url: str, clock: TravelClock, smtp: SmtpServer
) -> None:
    world = _world(db_url, clock, smtp)
    policy_due(world)
    settle(world, SEP_30, smtp)

    crashed = _worker(db_url, smtp, "send-then-crash")
    crashed.communicate(timeout=60)
    assert crashed.returncode == 9
    [delivered] = smtp.mailbox.messages  # the relay has it; the row does not know
    [held] = outbox.list_messages(world.app, forbund="test", status="pending", limit=500).items
    assert held.message_id == delivered["Message-ID"]

    # The next sender sees that the holder's process is gone, fences it and sends again.
    restarted = _worker(db_url, smtp, "run")
    _out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    assert smtp.mailbox.message_ids() == [held.message_id, held.message_id]
    [sent] = outbox.list_messages(world.app, forbund="test", status="sent", limit=500).items[-1:]
    assert sent.message_id == held.message_id and sent.attempts == 2
    again = _worker(db_url, smtp, "run")
    again.communicate(timeout=60)
    assert len(smtp.mailbox.messages) == 2  # and no third
    world.app.close()


def _overdue_policy(world: World, title: str) -> None:
    """A document whose renewal day passed ten days ago: its 'overdue' reminder is due now
    on the real clock, whatever today is."""
    from datetime import timedelta

    from workflow.clock import STOCKHOLM
    from workflow.services.policies import documents as policies

    today = datetime.now(STOCKHOLM)
    world.clock.set(today)
    policies.register(
        world.app,
        actor_email=email("forbundschef"),
        kind="policy",
        title=title,
        decided_on=date(2020, 1, 15),
        renew_by=(today - timedelta(days=10)).date(),
        owner_email=email("sekreterare"),
        forbund="test",
    )


def _poll(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.postgres
def test_the_database_away_during_ticks_the_scheduler_logs_shows_stale_and_catches_up(
    postgres_url: str, smtp: SmtpServer, tmp_path: Path
) -> None:
    """PostgreSQL becomes unreachable for this scheduler only (a proxy we cut), the shared
    server keeps running for every other test."""
    from sqlalchemy.engine import make_url

    from tests.db_proxy import proxy_to
    from workflow.app import App
    from workflow.services.reminders import health
    from workflow.settings import load_settings

    # Whoever reads the health decides "stale" by its settings: 3 s here, as for the process.
    mail = {**smtp.settings, "stale_minutes": 0.05}
    world = build_world(
        App.create(load_settings(database_url=postgres_url, mail=mail)),
        TravelClock(datetime.now(UTC)),
    )
    _overdue_policy(world, "Policy före avbrottet")
    url = make_url(postgres_url)
    with proxy_to(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through_proxy = url.set(host="127.0.0.1", port=proxy.port)
        env = {
            **os.environ,
            "FINSAM_DATABASE_URL": through_proxy.render_as_string(hide_password=False),
            "FINSAM_MAIL__SWEEP_MINUTES": "0.01",  # a tick every 0.6 s
            "FINSAM_MAIL__RETRY_BASE_SECONDS": "1",
            "FINSAM_MAIL__STALE_MINUTES": "0.05",  # stale after 3 s without a sweep
            **{f"FINSAM_MAIL__{k.upper()}": str(v) for k, v in smtp.settings.items()},
        }
        scheduler = Scheduler(env, tmp_path)
        scheduler.wait_for(READY)

        def all_sent() -> bool:
            return not outbox.list_messages(
                world.app, forbund="test", status="pending", limit=500
            ).items

        _poll(lambda: smtp.mailbox.messages and all_sent())
        before = len(smtp.mailbox.messages)  # the reminder to its owner and the förbundschef
        _poll(lambda: [s.state for s in health.scheduler_status(world.app)] == ["running"])

        proxy.cut()
        started = time.monotonic()
        _overdue_policy(world, "Policy under avbrottet")  # due while the scheduler is cut off
        _poll(lambda: [s.state for s in health.scheduler_status(world.app)] == ["stale"])
        [incident] = [i for i in health.incidents(world.app, "test") if i.kind != "relay_down"]
        assert incident.kind == "scheduler_stale"
        scheduler.wait_for("databasen svarar inte")
        while time.monotonic() - started < 5:  # many ticks fail meanwhile
            time.sleep(0.2)
        assert scheduler.process.poll() is None and len(smtp.mailbox.messages) == before

        proxy.restore()
        _poll(lambda: len(smtp.mailbox.messages) == 2 * before and all_sent())
        scheduler.wait_for("databasen svarar igen")
        _poll(lambda: [s.state for s in health.scheduler_status(world.app)] == ["running"])
        err = scheduler.stop()

    assert scheduler.process.returncode == 0, err
    assert "Traceback" not in err
    sent = outbox.list_messages(world.app, forbund="test", status="sent", limit=500).items
    assert len(sent) == 2 * before and sorted(smtp.mailbox.message_ids()) == sorted(
        m.message_id for m in sent
    )
    assert [s.state for s in health.scheduler_status(world.app)] == ["stopped"]
    world.app.close()


def _bulk_policies(world: World, count: int) -> None:
    """`count` documents straight into the table (registering each through the service would
    replan the whole förbund each time): renewal reminders 1 Sep, 1 Oct and 1 Nov 2026."""
    from sqlalchemy import insert

    from workflow.models import Forbund, Person, PolicyDocument

    now = world.clock()
    with world.app.db.transaction() as session:
        forbund_id = session.exec(select(Forbund.id).where(Forbund.slug == "test")).one()
        owners = list(session.exec(select(Person.id).where(Person.forbund_id == forbund_id)))
        session.connection().execute(
            insert(PolicyDocument),
            [
                {
                    "forbund_id": forbund_id,
                    "kind": "policy",
                    "title": f"Policy {number:04d}",
                    "state": "faststalld",
                    "decided_on": date(2022, 12, 15),
                    "renewal_years": 4,
                    "renew_by": date(2026, 12, 31),
                    "owner_id": owners[number % len(owners)],
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for number in range(count)
            ],
        )


# 200 reminders by default; the thousand with `pytest -m full`.
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("count", [200, pytest.param(1000, marks=pytest.mark.full)])
def test_three_scheduler_processes_send_a_thousand_reminders_each_exactly_once(
    postgres_url: str, clock: TravelClock, smtp: SmtpServer, count: int
) -> None:
    world = _world(postgres_url, clock, smtp)
    _bulk_policies(world, count)
    clock.set(morning(SEP_30, 12, 0))
    from sqlalchemy import update

    from workflow.services.reminders import planner as reminders

    reminders.sweep(world.app, worker="setup")  # September's reminders: out of the way
    with world.app.db.transaction() as session:
        session.execute(update(OutboxMessage).values(status="sent"))

    workers = [_worker(postgres_url, smtp, "run", rounds=2) for _ in range(3)]
    results = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], [err for _, err in results]

    with world.app.db.reading() as session:
        october = session.exec(
            select(OutboxMessage)
            .join(Reminder, col(Reminder.id) == col(OutboxMessage.reminder_id))
            .where(Reminder.step == "okt")
        ).all()
    received = Counter(smtp.mailbox.message_ids())
    assert len(october) == count and all(m.status == "sent" for m in october)
    assert set(received) == {m.message_id for m in october}
    assert set(received.values()) == {1}  # each Message-ID exactly once
    assert sum(int(out.split()[0]) for out, _ in results) == count  # each claimed once
    world.app.close()
