"""`finsam scheduler`: the clock (APScheduler 3) and the sender in one long-running process.

The scheduler only ticks: all due work is rows in the database (reminders, outbox), so a
restart loses nothing and two schedulers on one PostgreSQL database never send twice. Each
process has its own in-memory job store; it is never shared.

Each process has a row of its own (workers.py): its heartbeat, and when it last swept and
delivered by the database's clock, which the health page reads. A tick that fails (the
database went away, say) is logged in one line and the next tick tries again; meanwhile the
row grows stale and `finsam health` shows it.

SIGTERM or SIGINT stops the ticking; the message in flight is finished, the rest wait. The
process says "schemaläggaren startad" once its signal handlers are in place.
"""

from __future__ import annotations

import contextlib
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
from sqlalchemy.exc import SQLAlchemyError

from workflow.app import App
from workflow.channel import acting_through
from workflow.services.reminders import outbox
from workflow.services.reminders import planner as reminders
from workflow.services.reminders.workers import Worker, forget_old

log = logging.getLogger("finsam.scheduler")

READY = "schemaläggaren startad"


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


def sweep_and_deliver(app: App, worker: Worker, stop: threading.Event, totals: Totals) -> None:
    """One tick: plan and claim due reminders into the outbox, then deliver the outbox."""
    worker.ensure()
    swept = reminders.sweep(app, worker=worker.token)
    worker.mark("swept_at")
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


def deliver(app: App, worker: Worker, stop: threading.Event, totals: Totals) -> None:
    worker.ensure()
    try:
        delivered = outbox.deliver_due(app, worker=worker, stop=stop)
    except BaseException:
        # Whatever cut the round short, the message we held must not wait for a takeover.
        with contextlib.suppress(SQLAlchemyError):  # if the database is away, takeover frees it
            worker.release_own()
        raise
    worker.mark("delivered_at")
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


def run_once(app: App, worker: Worker | None = None) -> Totals:
    """The no-loop mode: one sweep and one delivery round, then return (tests, cron)."""
    totals = Totals()
    own = worker is None
    worker = worker or Worker(app, kind="once")
    with acting_through("scheduler"):
        sweep_and_deliver(app, worker, threading.Event(), totals)
    if own:
        worker.stop()
    return totals


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"[:300]


def run_forever(
    app: App, worker: Worker | None = None, stop: threading.Event | None = None
) -> Totals:
    """Tick until SIGTERM/SIGINT (or `stop` is set); finish the message in flight, then return."""
    me = worker or Worker(app, kind="scheduler")
    stop = stop or threading.Event()
    totals = Totals()
    mail = app.settings.mail
    failing = threading.Event()  # log the first failing tick of a run of failures in full

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
            # The job runs in the scheduler's thread: the channel is said there.
            with acting_through("scheduler"):
                if job == "sweep":
                    sweep_and_deliver(app, me, stop, totals)
                else:
                    deliver(app, me, stop, totals)
        except SQLAlchemyError as exc:  # the database is away: the next tick tries again
            if not failing.is_set():
                log.warning("%s misslyckades, databasen svarar inte: %s", job, _one_line(exc))
            failing.set()
            totals.errors.append(_one_line(exc))
            return
        except Exception as exc:  # a bad tick is logged; the next one tries again
            log.exception("%s misslyckades", job)
            totals.errors.append(_one_line(exc))
            me.note_error(_one_line(exc))
            return
        if failing.is_set():
            failing.clear()
            log.info("databasen svarar igen; %s körd", job)

    try:
        me.register()
        forget_old(app)
    except SQLAlchemyError as exc:  # the first tick registers once the database answers
        log.warning("databasen svarar inte än: %s", _one_line(exc))

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
        IntervalTrigger(
            seconds=min(60, mail.retry_base_seconds, mail.sweep_minutes * 60),
            timezone=app.settings.zone,
        ),
        args=["deliver"],
        id="deliver",
    )
    scheduler.start()
    log.info("%s (%s): svep var %g:e minut", READY, me.name, mail.sweep_minutes)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        try:
            me.stop()
        except SQLAlchemyError as exc:
            log.warning("kunde inte anteckna stoppet: %s", _one_line(exc))
        log.info("schemaläggaren stoppad")
    return totals
