"""`finsam scheduler`: the clock (APScheduler 3) and the sender in one long-running process.

The scheduler only ticks: all due work is rows in the database (reminders, outbox), so a
restart loses nothing and two schedulers on one PostgreSQL database never send twice. Each
process has its own in-memory job store; it is never shared.

SIGTERM or SIGINT stops the ticking; the message in flight is finished, the rest wait.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from workflow.app import App
from workflow.services.reminders import outbox
from workflow.services.reminders import planner as reminders

log = logging.getLogger("finsam.scheduler")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


@dataclass
class Totals:
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    waiting: bool = False
    ticks: int = 0
    errors: list[str] = field(default_factory=list)


def sweep_and_deliver(app: App, worker: str, stop: threading.Event, totals: Totals) -> None:
    """One tick: plan and claim due reminders into the outbox, then deliver the outbox."""
    swept = reminders.sweep(app, worker=worker)
    totals.claimed += swept.claimed
    totals.messages += swept.messages
    if swept.claimed or swept.planned or swept.cancelled:
        log.info(
            "svep: %d planerade, %d avplanerade, %d påminnelser till utkorgen (%d meddelanden)",
            swept.planned,
            swept.cancelled,
            swept.claimed,
            swept.messages,
        )
    deliver(app, worker, stop, totals)
    totals.ticks += 1


def deliver(app: App, worker: str, stop: threading.Event, totals: Totals) -> None:
    delivered = outbox.deliver_due(app, owner=worker, stop=stop)
    totals.sent += delivered.sent
    totals.retried += delivered.retried
    totals.failed += delivered.failed
    totals.waiting = delivered.waiting
    if delivered.sent or delivered.retried or delivered.failed:
        log.info(
            "utskick: %d skickade, %d försöks igen, %d misslyckade",
            delivered.sent,
            delivered.retried,
            delivered.failed,
        )


def run_once(app: App, worker: str | None = None) -> Totals:
    """The no-loop mode: one sweep and one delivery round, then return (tests, cron)."""
    totals = Totals()
    sweep_and_deliver(app, worker or worker_name(), threading.Event(), totals)
    return totals


def run_forever(app: App, worker: str | None = None, stop: threading.Event | None = None) -> Totals:
    """Tick until SIGTERM/SIGINT (or `stop` is set); finish the message in flight, then return."""
    name = worker or worker_name()
    stop = stop or threading.Event()
    totals = Totals()
    mail = app.settings.mail

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: avslutar efter pågående meddelande", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def guarded(job: str) -> None:
        if stop.is_set():
            return
        try:
            if job == "sweep":
                sweep_and_deliver(app, name, stop, totals)
            else:
                deliver(app, name, stop, totals)
        except Exception as exc:  # a bad tick is logged; the next one tries again
            log.exception("%s misslyckades", job)
            totals.errors.append(f"{exc.__class__.__name__}: {exc}")

    # One worker thread: a sweep and a delivery round never overlap within one process.
    scheduler = BackgroundScheduler(
        timezone=app.settings.zone,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    now: datetime = app.clock()
    scheduler.add_job(
        guarded,
        IntervalTrigger(minutes=mail.sweep_minutes, timezone=app.settings.zone),
        args=["sweep"],
        id="sweep",
        next_run_time=now,
    )
    # Retries of the outbox come due between sweeps.
    scheduler.add_job(
        guarded,
        IntervalTrigger(seconds=min(60, mail.retry_base_seconds), timezone=app.settings.zone),
        args=["deliver"],
        id="deliver",
    )
    scheduler.start()
    log.info("schemaläggaren startad (%s): svep var %d:e minut", name, mail.sweep_minutes)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("schemaläggaren stoppad")
    return totals
