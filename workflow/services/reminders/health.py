"""What the förbundschef should know about the running system: the relay and the schedulers.

`relay_status`, `scheduler_status` and `incidents` are read by `finsam health`,
`finsam outbox list`, and the web's start page and health panel. Reading only: nothing here
writes, and "stale" is decided by the database's clock (workers.db_ago), not this process's.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlmodel import Session, col

from workflow.app import App
from workflow.clock import local
from workflow.models import OutboxMessage, RelayIncident, RelayState, SchedulerProcess
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.reminders.outbox import FAILURE_CAUSES
from workflow.services.reminders.relay import CAUSES
from workflow.services.reminders.workers import db_ago, pid_alive


@dataclass(frozen=True)
class RelayStatus:
    # up; down (an open incident); not_configured (no smtp_host: messages wait)
    status: Literal["up", "down", "not_configured"]
    cause: str | None = None
    cause_text: str | None = None
    detail: str | None = None
    since: datetime | None = None
    failures: int = 0
    next_probe_at: datetime | None = None
    # Messages waiting to be sent: of one förbund, or of all (relay_status).
    waiting: int = 0


@dataclass(frozen=True)
class SchedulerView:
    name: str  # host:pid
    token: str
    kind: str  # scheduler | once
    state: Literal["running", "stale", "stopped"]
    started_at: datetime
    beat_at: datetime
    swept_at: datetime | None
    delivered_at: datetime | None
    stopped_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Incident:
    """Something a person should act on or know about; `text` is one Swedish sentence."""

    kind: Literal["relay_down", "scheduler_stale", "no_scheduler", "failed_messages"]
    text: str
    since: datetime | None = None
    cause: str | None = None
    count: int = 0


def _waiting(session: Session, forbund_id: int | None = None) -> int:
    query = select(func.count()).where(col(OutboxMessage.status) == "pending")
    if forbund_id is not None:
        query = query.where(col(OutboxMessage.forbund_id) == forbund_id)
    return int(session.connection().execute(query).scalar_one())


def _relay(session: Session, app: App, forbund_id: int | None = None) -> RelayStatus:
    waiting = _waiting(session, forbund_id)
    if not app.settings.mail.smtp_host:
        return RelayStatus("not_configured", waiting=waiting)
    state = session.get(RelayState, 1)
    if state is None or state.status != "down":
        return RelayStatus("up", waiting=waiting)
    zone = app.settings.zone
    incident = session.get(RelayIncident, state.incident_id) if state.incident_id else None
    return RelayStatus(
        "down",
        cause=state.cause,
        cause_text=CAUSES.get(state.cause or "", state.cause),
        detail=state.detail,
        since=local(incident.started_at, zone) if incident else None,
        failures=state.failures,
        next_probe_at=local(state.next_probe_at, zone) if state.next_probe_at else None,
        waiting=waiting,
    )


def relay_status(app: App, forbund: str | None = None) -> RelayStatus:
    """Is the relay up; if not, since when, why, and when it is tried next. `waiting`: the
    messages of the förbund named (a förbund's own page), or of every förbund (the
    installation's command line, without --forbund)."""
    with app.db.reading() as session:
        forbund_id = resolve_forbund(session, forbund).id if forbund else None
        return _relay(session, app, forbund_id)


def _schedulers(session: Session, app: App) -> list[SchedulerView]:
    table = SchedulerProcess.__table__  # type: ignore[attr-defined]
    stale_before = db_ago(session, app.settings.mail.stale_minutes * 60)
    last = func.coalesce(table.c.swept_at, table.c.started_at)
    rows = session.connection().execute(
        select(table, (last < stale_before).label("stale")).order_by(table.c.started_at)
    )
    zone = app.settings.zone

    def shown(value: datetime | None) -> datetime | None:
        return local(value, zone) if value is not None else None

    views = []
    for row in rows.mappings():
        state: Literal["running", "stale", "stopped"] = (
            "stopped" if row["stopped_at"] is not None else "stale" if row["stale"] else "running"
        )
        views.append(
            SchedulerView(
                name=f"{row['host']}:{row['pid']}",
                token=row["token"],
                kind=row["kind"],
                state=state,
                started_at=local(row["started_at"], zone),
                beat_at=local(row["beat_at"], zone),
                swept_at=shown(row["swept_at"]),
                delivered_at=shown(row["delivered_at"]),
                stopped_at=shown(row["stopped_at"]),
                last_error=row["last_error"],
            )
        )
    return views


def scheduler_status(app: App) -> list[SchedulerView]:
    """Every scheduler process seen in the last days: running, stale or stopped."""
    with app.db.reading() as session:
        return _schedulers(session, app)


@dataclass(frozen=True)
class WholePlan:
    """When the förbund's reminders were last planned as a whole (the day's first sweep, or
    `finsam reminders plan`), in local time; nothing yet when never."""

    started_at: datetime | None = None
    # None while under way, or when the process planning stopped before the end (the next
    # sweep after an hour plans again).
    finished_at: datetime | None = None


def whole_plan(app: App, forbund: str | None = None) -> WholePlan:
    from workflow.models import ReminderPlan

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        row = session.get(ReminderPlan, organisation.id)
        if row is None:
            return WholePlan()
        zone = app.settings.zone
        return WholePlan(
            started_at=local(row.started_at, zone),
            finished_at=local(row.finished_at, zone) if row.finished_at else None,
        )


def _gone_here(view: SchedulerView) -> bool:
    host, _, pid = view.name.rpartition(":")
    return host == socket.gethostname()[:100] and not pid_alive(int(pid))


def incidents(app: App, forbund: str | None = None) -> list[Incident]:
    """What is wrong now, for the förbund named (or the only one), most urgent first."""
    now = app.clock()
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        found: list[Incident] = []
        relay = _relay(session, app, organisation.id)
        own_waiting = relay.waiting
        if relay.status == "down":
            found.append(
                Incident(
                    "relay_down",
                    f"E-posten går inte ut: {relay.cause_text} ({relay.detail}); "
                    f"{own_waiting} meddelanden väntar och skickas i tur och ordning när "
                    "servern svarar igen",
                    since=relay.since,
                    cause=relay.cause,
                    count=own_waiting,
                )
            )
        schedulers = _schedulers(session, app)
        running = [s for s in schedulers if s.state == "running"]
        for view in schedulers:
            if view.state != "stale" or (running and _gone_here(view)):
                continue
            last = view.swept_at or view.started_at
            found.append(
                Incident(
                    "scheduler_stale",
                    f"Schemaläggaren {view.name} har inte svept sedan "
                    f"{last:%Y-%m-%d %H:%M}"
                    + (f" (senaste fel: {view.last_error})" if view.last_error else ""),
                    since=last,
                    cause=view.last_error,
                )
            )
        if not running and not any(i.kind == "scheduler_stale" for i in found):
            overdue = (
                session.connection()
                .execute(
                    select(func.count()).where(
                        col(OutboxMessage.status) == "pending",
                        col(OutboxMessage.forbund_id) == organisation.id,
                        col(OutboxMessage.next_attempt_at) <= now,
                    )
                )
                .scalar_one()
            )
            if overdue:
                found.append(
                    Incident(
                        "no_scheduler",
                        f"Ingen schemaläggare kör; {overdue} meddelanden väntar "
                        "(starta 'finsam scheduler')",
                        count=int(overdue),
                    )
                )
        failed = (
            session.connection()
            .execute(
                select(col(OutboxMessage.failure_cause), func.count())
                .where(
                    col(OutboxMessage.forbund_id) == organisation.id,
                    col(OutboxMessage.status) == "failed",
                )
                .group_by(col(OutboxMessage.failure_cause))
                .order_by(col(OutboxMessage.failure_cause))
            )
            .all()
        )
        for cause, count in failed:
            label = FAILURE_CAUSES.get(cause or "", cause or "okänd orsak")
            found.append(
                Incident(
                    "failed_messages",
                    f"{count} meddelanden misslyckades: {label} ("
                    + (
                        f"finsam outbox retry --cause {cause}"
                        if cause
                        else "finsam outbox retry NR"
                    )
                    + ")",
                    cause=cause,
                    count=int(count),
                )
            )
        return found
