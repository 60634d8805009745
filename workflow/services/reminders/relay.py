"""The SMTP relay as one thing that is up or down, apart from the messages it carries.

A failure of the relay itself (connection refused, a greeting or a login refused, TLS, a
timeout before the first message, 421 at any point) says nothing about the message that
happened to be first in line. So it marks the relay down, opens an incident with the cause,
and leaves every message as it was: no attempt counted, its place in line kept. While the
relay is down, senders try it again after retry_base_seconds, doubled per failure, at most
every relay_probe_max_seconds; the first message in line is the probe (its connection stage is
the probe; its content leaves only if the relay is back). The first connection that gets past
login closes the incident, and the backlog drains in order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from workflow.app import App
from workflow.clock import as_utc
from workflow.models import RelayIncident, RelayState

# What a down relay's cause is called for people (the incident names it).
CAUSES = {
    "refused": "SMTP-servern tar inte emot anslutningar",
    "greeting": "SMTP-servern vägrar ta emot e-post (hälsningen nekades)",
    "auth": "SMTP-servern nekade inloggningen (kontrollera användarnamn och lösenord)",
    "tls": "krypteringen (TLS) mot SMTP-servern misslyckades",
    "timeout": "SMTP-servern svarar inte",
    "service": "SMTP-servern är inte tillgänglig just nu (421)",
}

_STATE = RelayState.__table__  # type: ignore[attr-defined]


def _state(session: Session) -> RelayState:
    """The relay's row, created on first use, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None
    if make is not None:
        statement = make(_STATE).values(id=1, status="up", failures=0).on_conflict_do_nothing()
        session.connection().execute(statement)
    elif session.get(RelayState, 1) is None:  # pragma: no cover - other databases
        session.connection().execute(insert(_STATE).values(id=1, status="up", failures=0))
    state = session.get(RelayState, 1, with_for_update=True, populate_existing=True)
    assert state is not None
    return state


def probe_due(app: App, now: datetime) -> bool:
    """May a sender try the relay now? Always while it is up."""
    with app.db.reading() as session:
        state = session.get(RelayState, 1)
    if state is None or state.status == "up" or state.next_probe_at is None:
        return True
    due = as_utc(state.next_probe_at)
    # A clock that went back must not hold the backlog longer than one probe interval.
    return now >= due or due - now > timedelta(seconds=app.settings.mail.relay_probe_max_seconds)


def mark_down(session: Session, app: App, cause: str, detail: str, now: datetime) -> None:
    """The relay failed (inside the caller's transaction): open or extend the incident."""
    state = _state(session)
    mail = app.settings.mail
    state.failures = (state.failures if state.status == "down" else 0) + 1
    delay = min(mail.retry_base_seconds * 2 ** (state.failures - 1), mail.relay_probe_max_seconds)
    incident = session.get(RelayIncident, state.incident_id) if state.incident_id else None
    if state.status != "down" or incident is None or incident.ended_at is not None:
        incident = RelayIncident(
            cause=cause, detail=detail[:500], started_at=now, last_failure_at=now, failures=1
        )
        session.add(incident)
        session.flush()
    else:
        incident.cause, incident.detail = cause, detail[:500]
        incident.failures += 1
        incident.last_failure_at = now
        session.add(incident)
    state.status = "down"
    state.cause, state.detail = cause, detail[:500]
    state.incident_id = incident.id
    state.next_probe_at = now + timedelta(seconds=delay)
    state.checked_at = now
    session.add(state)


def mark_up(session: Session, now: datetime) -> None:
    """The relay took a connection (inside the caller's transaction): close the incident."""
    existing = session.get(RelayState, 1)
    if existing is None or existing.status == "up":
        return
    state = _state(session)
    if state.status == "up":
        return
    if state.incident_id is not None:
        incident = session.get(RelayIncident, state.incident_id)
        if incident is not None and incident.ended_at is None:
            incident.ended_at = now
            session.add(incident)
    state.status = "up"
    state.failures = 0
    state.next_probe_at = None
    state.checked_at = now
    session.add(state)
