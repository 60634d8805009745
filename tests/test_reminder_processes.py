"""Schedulers as real OS processes: a crash between sweep and send, two schedulers at once,
and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select

from tests.conftest import _schema_url, _truncate_all
from tests.reminder_support import OCT_1, SEP_30, mailing_app, morning, policy_due, settle
from tests.smtp_support import SmtpServer, running_server
from tests.support import TravelClock, World, build_world, email
from workflow.models import OutboxMessage, Reminder
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
    [written] = [m for m in outbox.list_messages(world.app, forbund="test", status="pending")]
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


def test_the_scheduler_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "FINSAM_DATABASE_URL": sqlite_url}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "finsam"), "scheduler"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)  # started and ticked once
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "schemaläggaren stoppad" in err
    assert "Traceback" not in err


def test_sigterm_lets_the_message_in_flight_finish_and_leaves_the_rest_waiting(
    sqlite_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    """The scheduler runs on the real clock: documents whose deadline passed ten days ago have
    their 'overdue' reminder due now, whatever today is."""
    from datetime import datetime, timedelta

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
    sent = outbox.list_messages(world.app, forbund="test", status="sent")
    assert [m.message_id for m in sent] == smtp.mailbox.message_ids()
    assert outbox.list_messages(world.app, forbund="test", status="pending")  # the rest wait
    world.app.close()
